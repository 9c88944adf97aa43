//! The engine's JSON parser accepts exactly what serde_json accepts, with the same values,
//! except that its floats are correctly rounded where serde_json's (without its
//! `float_roundtrip` feature) may be a few units in the last place off (found: 1 and 2).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x == y || (x.to_bits() as i64 - y.to_bits() as i64).abs() <= 4
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        _ => a == b,
    }
}

fuzz_target!(|src: &str| {
    let ours = tollgate_vtl::json::parse(src).map(|n| n.to_serde());
    let theirs = serde_json::from_str::<Value>(src);
    match (ours, theirs) {
        (Ok(a), Ok(b)) => assert!(same(&a, &b), "{src:?}: ours {a:?}, serde_json {b:?}"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("{src:?}: ours {a:?}, serde_json {b:?}"),
    }
});
