//! Renders the `render` bench's template N times (first argument, default 1), for
//! counting instructions per render: run under `valgrind --tool=callgrind` with N=1 and
//! N=1001; the difference over 1000 is one render (BENCHMARKS.md). N=0 prints one
//! render's output instead.

#[path = "../benches/case/mod.rs"]
mod case;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let case = case::Case::new();
    if n == 0 {
        print!("{}", case.render());
        return;
    }
    let mut total = 0;
    for _ in 0..n {
        total += std::hint::black_box(case.render()).len();
    }
    println!("{n} renders, {total} bytes");
}
