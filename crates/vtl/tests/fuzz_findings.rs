//! Inputs the fuzzers (crates/vtl/fuzz) found, kept as regression tests.

use tollgate_vtl::json::{parse, Node};

/// `json` target, 2026-12-02: serde_json (without `float_roundtrip`) reads these
/// integers one and two units in the last place off; ours must give the correctly rounded
/// double, which is what Java's parser gives and what `$input.path` should render.
#[test]
fn large_integers_round_to_the_nearest_double() {
    for (src, nearest) in [
        ("144674840730737095570", 1.446_748_407_307_371e20),
        (
            "189999999999844444444444444000000000000000000000000000000000000",
            1.899_999_999_998_444_3e62,
        ),
    ] {
        assert_eq!(parse(src), Ok(Node::Float(nearest)), "{src}");
    }
}
