//! Any text: the template parser returns a template or an error, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|src: &str| {
    let _ = tollgate_vtl::Template::parse(src);
});
