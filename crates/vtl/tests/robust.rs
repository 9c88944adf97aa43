//! Property-style tests (seeded, so failures reproduce): arbitrary input never makes the
//! parser panic, and whatever parses renders within the configured limits.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::time::{Duration, Instant};
use tollgate_vtl::{Input, Limits, Template};

const FRAGMENTS: &[&str] = &[
    "$",
    "$!",
    "${",
    "}",
    "$x",
    "$m",
    "$l",
    ".",
    ".size()",
    ".get(",
    ".put(",
    "[",
    "]",
    "(",
    ")",
    "#",
    "##",
    "#*",
    "*#",
    "#[[",
    "]]#",
    "#set(",
    "#if(",
    "#elseif(",
    "#else",
    "#end",
    "#foreach(",
    " in ",
    "#break",
    "#stop",
    "#define(",
    "#macro(",
    "#mac(",
    "\\",
    "\"",
    "'",
    ",",
    ":",
    "{",
    "..",
    "=",
    "==",
    "!=",
    "<",
    "&&",
    "||",
    "!",
    "+",
    "-",
    "*",
    "/",
    "%",
    "0",
    "1",
    "-7",
    "2.5",
    "true",
    "null",
    "\n",
    " ",
    "text",
    "$input.json('$')",
    "$input.path('$.a')",
    "$input.params()",
    "$util.parseJson('[1]')",
    "$util.escapeJavaScript($x)",
    "$foreach.hasNext",
    "$velocityCount",
    "[1..9]",
    "$x.split(',')",
    "$x.replaceAll('a', 'b')",
    "$context.requestOverride",
];

fn random_template(rng: &mut StdRng) -> String {
    let n = rng.random_range(0..40);
    let mut s = String::new();
    for _ in 0..n {
        if rng.random_bool(0.1) {
            s.push(char::from_u32(rng.random_range(0..0x3000)).unwrap_or('?'));
        } else {
            s.push_str(FRAGMENTS[rng.random_range(0..FRAGMENTS.len())]);
        }
    }
    s
}

fn limits() -> Limits {
    Limits {
        max_steps: 20_000,
        max_output_bytes: 64 * 1024,
        max_collection_len: 10_000,
        ..Limits::default()
    }
}

#[test]
fn parser_never_panics_and_render_terminates() {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let body = r#"{"a": [1, {"b": "c"}], "x": "a,b"}"#;
    let mut parsed = 0;
    for _ in 0..20_000 {
        let src = random_template(&mut rng);
        let Ok(t) = Template::parse(&src) else {
            continue;
        };
        parsed += 1;
        let start = Instant::now();
        let _ = t.render(
            &Input {
                body,
                ..Input::default()
            },
            &mut serde_json::Map::new(),
            &limits(),
        );
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "slow render: {src:?}"
        );
    }
    assert!(parsed > 1000, "generator too hostile: only {parsed} parsed");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..5_000 {
        let len = rng.random_range(0..64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let src = String::from_utf8_lossy(&bytes);
        if let Ok(t) = Template::parse(&src) {
            let _ = t.render(&Input::default(), &mut serde_json::Map::new(), &limits());
        }
    }
}

#[test]
fn hostile_bodies_never_panic() {
    let t = Template::parse("$input.json('$') $input.path('$..a') $input.body $input.path('$[0]')")
        .unwrap();
    for body in [
        "",
        "{",
        "[",
        "\"",
        "'",
        "[[[[[[[[",
        "{\"a\":",
        "null",
        "1e999",
        "\u{0}",
        "{\"a\":[1,2,3]}",
    ] {
        let _ = t.render(
            &Input {
                body,
                ..Input::default()
            },
            &mut serde_json::Map::new(),
            &limits(),
        );
    }
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let _ = t.render(
        &Input {
            body: &deep,
            ..Input::default()
        },
        &mut serde_json::Map::new(),
        &limits(),
    );
}
