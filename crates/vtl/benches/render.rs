//! Render cost of a typical request template (about 1 KB) over a 2 KB JSON body: the
//! figure issue 4 sets a target for (under 10 µs per render). Parsing happens once, as at
//! deployment time; only `render` is measured.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
mod case;

fn render(c: &mut Criterion) {
    let case = case::Case::new();
    assert!(
        case::TEMPLATE.len() > 900 && case::TEMPLATE.len() < 1300,
        "template is {} bytes",
        case::TEMPLATE.len()
    );
    assert!(
        case.body.len() > 1800 && case.body.len() < 2400,
        "body is {} bytes",
        case.body.len()
    );
    // The output must be valid JSON, or the benchmark measures a broken template.
    let out = case.render();
    serde_json::from_str::<serde_json::Value>(&out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    c.bench_function("render 1 KB template over 2 KB body", |b| {
        b.iter(|| black_box(case.render()))
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
