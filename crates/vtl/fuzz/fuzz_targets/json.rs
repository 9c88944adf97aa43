//! The engine's JSON parser accepts exactly what serde_json accepts, with the same values.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|src: &str| {
    let ours = tollgate_vtl::json::parse(src).map(|n| n.to_serde());
    let theirs = serde_json::from_str::<serde_json::Value>(src);
    match (ours, theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{src:?}"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("{src:?}: ours {a:?}, serde_json {b:?}"),
    }
});
