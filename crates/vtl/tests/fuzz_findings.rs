//! Inputs the fuzzers (crates/vtl/fuzz) found, kept as regression tests.

use tollgate_vtl::json::{parse, Node};

/// `json` target, 2026-12-02: serde_json (without `float_roundtrip`) reads this integer
/// one unit in the last place off; ours must give the correctly rounded double, which is
/// what Java's parser gives and what `$input.path` should render.
#[test]
fn large_integers_round_to_the_nearest_double() {
    let src = "144674840730737095570";
    assert_eq!(parse(src), Ok(Node::Float(1.446_748_407_307_371e20)));
    assert_eq!(parse(src), Ok(Node::Float(src.parse::<f64>().unwrap())));
}
