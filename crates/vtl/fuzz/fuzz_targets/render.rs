//! A template and a body: whatever parses renders (Ok or an error) within the limits.
//! The input is split at the first NUL byte: template before, request body after.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate_vtl::{Input, Limits, Template};

fuzz_target!(|data: &str| {
    let (src, body) = data
        .split_once('\0')
        .unwrap_or((data, r#"{"a": [1, {"b": "c"}], "s": "x,y"}"#));
    let Ok(t) = Template::parse(src) else {
        return;
    };
    // Small limits keep each run short; the fuzzer looks for panics and hangs.
    let limits = Limits {
        max_steps: 50_000,
        max_output_bytes: 256 * 1024,
        max_collection_len: 10_000,
        ..Limits::default()
    };
    let header = vec![("Accept".to_string(), "application/json".to_string())];
    let input = Input {
        body,
        header: &header,
        ..Input::default()
    };
    let mut context = serde_json::Map::new();
    context.insert("stage".into(), "dev".into());
    context.insert("requestOverride".into(), serde_json::json!({"header": {}}));
    if let Ok(out) = t.render(&input, &mut context, &limits) {
        assert!(out.len() <= limits.max_output_bytes);
    }
});
