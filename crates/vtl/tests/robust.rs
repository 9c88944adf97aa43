//! Property tests (proptest; failures shrink to a small case and are saved in
//! `proptest-regressions/`): arbitrary input never makes the parser panic, whatever parses
//! renders within the configured limits, and each way a template can make work for itself
//! (loops over ranges, recursion through `#macro` and `#define`, strings and lists grown
//! in loops) ends in `LimitExceeded` instead of running away.

use proptest::prelude::*;
use tollgate_vtl::{Input, Limits, RenderError, Template};

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

/// Templates made of VTL fragments (most of them valid syntax) and some arbitrary text.
fn template() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        9 => prop::sample::select(FRAGMENTS).prop_map(str::to_string),
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn limits() -> Limits {
    Limits {
        max_steps: 20_000,
        max_output_bytes: 64 * 1024,
        max_collection_len: 10_000,
        ..Limits::default()
    }
}

const BODY: &str = r#"{"a": [1, {"b": "c"}], "x": "a,b"}"#;

fn render(t: &Template, limits: &Limits) -> Result<String, RenderError> {
    t.render(
        &Input {
            body: BODY,
            ..Input::default()
        },
        &mut serde_json::Map::new(),
        limits,
    )
}

fn render_src(src: &str, limits: &Limits) -> Result<String, RenderError> {
    let t = Template::parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    render(&t, limits)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn parser_never_panics_on_any_text(src in any::<String>()) {
        let _ = Template::parse(&src);
    }

    #[test]
    fn parser_never_panics_and_render_stays_within_limits(src in template()) {
        if let Ok(t) = Template::parse(&src) {
            let limits = limits();
            if let Ok(out) = render(&t, &limits) {
                prop_assert!(out.len() <= limits.max_output_bytes);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Nested loops over ranges: at most `max_foreach_iterations` per loop, and the
    /// product is bounded by the steps.
    #[test]
    fn foreach_over_ranges_is_bounded(outer in 0i64..5000, inner in 0i64..5000, body in prop::sample::select(&["x", "$i$j", "#set($k = $i * $j)"][..])) {
        let src = format!("#foreach($i in [1..{outer}])#foreach($j in [{inner}..1]){body}#end#end");
        let limits = limits();
        match render_src(&src, &limits) {
            Ok(out) => {
                // `[a..b]` holds |a - b| + 1 items (it counts down when a > b).
                let per = |a: i64, b: i64| (a.abs_diff(b) as usize + 1).min(limits.max_foreach_iterations);
                prop_assert!(out.len() <= limits.max_output_bytes);
                if body == "x" {
                    prop_assert_eq!(out.len(), per(1, outer) * per(inner, 1));
                }
            }
            Err(e) => prop_assert!(matches!(e, RenderError::LimitExceeded(_)), "{e}"),
        }
    }

    /// A macro that calls itself `n` times deep: fine below `max_depth`, refused above.
    #[test]
    fn macro_recursion_is_bounded(n in 0usize..200) {
        let src = format!("#macro(down $n)#if($n > 0)#down($n - 1)#end$n#end#down({n})");
        let limits = limits();
        match render_src(&src, &limits) {
            Ok(out) => {
                prop_assert!(n < limits.max_depth, "depth {n} rendered");
                prop_assert!(out.starts_with('0'));
            }
            Err(e) => {
                prop_assert!(n >= limits.max_depth - 1, "depth {n}: {e}");
                prop_assert_eq!(e, RenderError::LimitExceeded("recursion depth"));
            }
        }
    }

    /// `#define` blocks that reference themselves, directly or through another block, or
    /// through an interpolated string.
    #[test]
    fn define_recursion_is_bounded(form in prop::sample::select(&[
        "#define($a)x$a#end$a",
        "#define($a)$b#end#define($b)$a#end$a",
        "#define($a)#set($s = \"$a\")#end$a",
        "#define($a)$a.toString()#end$a",
    ][..])) {
        prop_assert_eq!(
            render_src(form, &limits()),
            Err(RenderError::LimitExceeded("recursion depth"))
        );
    }

    /// A string that doubles, or a large string (128 KB and up) copied a thousand times,
    /// or a list of `max_collection_len` items copied into new lists in a loop: each ends
    /// in `LimitExceeded` long before the memory or time it asks for.
    #[test]
    fn growth_in_loops_is_bounded(
        doublings in 17u32..40,
        copies in prop::sample::select(&[
            "#set($t = \"$s\")",
            "#set($t = $s.concat(''))",
            "#set($t = $s + '')",
            "$l.add(\"$s\")",
            "#set($m = [])$m.addAll($big)",
            "#set($t = $s.replace('x', 'y'))",
        ][..]),
    ) {
        let limits = Limits::default();
        let src = format!(
            "#set($s = 'x')#set($l = [])#set($big = [1..{}])#foreach($i in [1..{doublings}])#set($s = \"$s$s\")#end#foreach($i in [1..1000]){copies}#end",
            limits.max_collection_len
        );
        let r = render_src(&src, &limits);
        prop_assert!(matches!(r, Err(RenderError::LimitExceeded(_))), "{r:?}");
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
