//! Prometheus text exposition format 0.0.4, or OpenMetrics 1.0: per metric its `# HELP` and
//! `# TYPE`, then one line per series (histograms: cumulative `_bucket{le=...}`, `_sum` in
//! seconds, `_count`). OpenMetrics differs in its naming rules: a counter's family drops the
//! `_total` its samples keep, a family whose name ends in a unit says so in `# UNIT`, `le`
//! values are canonical floats (`1.0`, not `1`), and the exposition ends with `# EOF`.

use std::fmt::Write;

use crate::schema::{Format, Kind, Metric};
use crate::state::{Interned, Threads};

pub(crate) fn text(interned: &Interned, threads: &Threads, format: Format) -> String {
    let sum = |cell: u32| -> u64 {
        let retired = threads.retired.get(cell as usize).copied().unwrap_or(0);
        threads
            .live
            .iter()
            .fold(retired, |acc, s| acc.wrapping_add(s.read(cell)))
    };
    // A name two schemas share (integration latency: APIs and WebSocket APIs) is one
    // family: one `# TYPE`, every schema's series under it.
    let mut names: Vec<&Metric> = Vec::new();
    for (schema, _) in &interned.schemas {
        for m in schema.metrics {
            if !names.iter().any(|n| n.name == m.name) {
                names.push(m);
            }
        }
    }
    let mut out = String::with_capacity(4096);
    for family in names {
        let kind = match family.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram(_) => "histogram",
        };
        let name = family.name;
        let shown = match (format, family.kind) {
            (Format::OpenMetrics, Kind::Counter) => name.strip_suffix("_total").unwrap_or(name),
            _ => name,
        };
        let _ = writeln!(out, "# HELP {shown} {}\n# TYPE {shown} {kind}", family.help);
        if format == Format::OpenMetrics {
            if let Some(unit) = ["seconds", "bytes"]
                .into_iter()
                .find(|u| shown.strip_suffix(u).is_some_and(|n| n.ends_with('_')))
            {
                let _ = writeln!(out, "# UNIT {shown} {unit}");
            }
        }
        for (schema, blocks) in &interned.schemas {
            let (offsets, _) = schema.offsets();
            let Some((m, at)) = schema
                .metrics
                .iter()
                .zip(offsets)
                .find(|(m, _)| m.name == name)
            else {
                continue;
            };
            for b in blocks {
                series(&mut out, m, &b.labels, b.base + at, &sum, format);
            }
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// One series' lines.
fn series(
    out: &mut String,
    m: &Metric,
    labels: &str,
    cell: u32,
    sum: &impl Fn(u32) -> u64,
    format: Format,
) {
    let braces = |extra: &str| -> String {
        match (labels.is_empty(), extra.is_empty()) {
            (true, true) => String::new(),
            (true, false) => format!("{{{extra}}}"),
            (false, true) => format!("{{{labels}}}"),
            (false, false) => format!("{{{labels},{extra}}}"),
        }
    };
    let name = m.name;
    match m.kind {
        Kind::Counter => {
            let _ = writeln!(out, "{name}{} {}", braces(""), sum(cell));
        }
        Kind::Gauge => {
            let _ = writeln!(out, "{name}{} {}", braces(""), sum(cell) as i64);
        }
        Kind::Histogram(bounds) => {
            let mut cumulative = 0u64;
            for (i, bound) in bounds.iter().enumerate() {
                cumulative += sum(cell + i as u32);
                let le = match format {
                    // `{:?}` writes an integral float as `1.0`: OpenMetrics' canonical form.
                    Format::OpenMetrics => format!("le=\"{bound:?}\""),
                    Format::Prometheus => format!("le=\"{bound}\""),
                };
                let _ = writeln!(out, "{name}_bucket{} {cumulative}", braces(&le));
            }
            let n = bounds.len() as u32;
            cumulative += sum(cell + n);
            let _ = writeln!(out, "{name}_bucket{} {cumulative}", braces("le=\"+Inf\""));
            let seconds = sum(cell + n + 1) as f64 / 1e6;
            let _ = writeln!(out, "{name}_sum{} {seconds}", braces(""));
            let _ = writeln!(out, "{name}_count{} {}", braces(""), sum(cell + n + 2));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Kind, Metric, Registry, Schema};

    static SCHEMA: Schema = Schema {
        metrics: &[
            Metric {
                name: "t_requests_total",
                help: "Requests.",
                kind: Kind::Counter,
            },
            Metric {
                name: "t_latency_seconds",
                help: "Latency.",
                kind: Kind::Histogram(&[0.01, 0.1, 1.0]),
            },
            Metric {
                name: "t_open",
                help: "Open.",
                kind: Kind::Gauge,
            },
        ],
    };

    #[test]
    fn constant_labels_come_first_on_every_series() {
        let r = Registry::with_constant_labels(&[("node", "n1")]);
        r.series(&SCHEMA, &[("api", "a")]).add(0, 1);
        r.series(&SCHEMA, &[]).add(0, 2);
        let text = r.render();
        assert!(
            text.contains("t_requests_total{node=\"n1\",api=\"a\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("t_requests_total{node=\"n1\"} 2\n"), "{text}");
        assert!(
            text.contains("t_latency_seconds_bucket{node=\"n1\",le=\"+Inf\"} 0\n"),
            "{text}"
        );
    }

    #[test]
    fn threads_add_up_and_labels_intern_once() {
        let r = Registry::new();
        let a = r.series(&SCHEMA, &[("api", "a\"b")]);
        let again = r.series(&SCHEMA, &[("api", "a\"b")]);
        a.add(0, 2);
        std::thread::scope(|s| {
            s.spawn(|| {
                again.add(0, 3);
                again.observe_micros(1, 50_000);
                again.add(2, 1);
            });
        });
        a.observe_micros(1, 5_000);
        a.observe_micros(1, 2_000_000);
        a.sub(2, 1);
        a.sub(2, 1);
        let text = r.render();
        assert!(text.contains("# TYPE t_requests_total counter\n"), "{text}");
        assert!(
            text.contains("t_requests_total{api=\"a\\\"b\"} 5\n"),
            "{text}"
        );
        assert!(
            text.contains("t_latency_seconds_bucket{api=\"a\\\"b\",le=\"0.01\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("t_latency_seconds_bucket{api=\"a\\\"b\",le=\"0.1\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("t_latency_seconds_bucket{api=\"a\\\"b\",le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("t_latency_seconds_sum{api=\"a\\\"b\"} 2.055\n"),
            "{text}"
        );
        assert!(
            text.contains("t_latency_seconds_count{api=\"a\\\"b\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("t_open{api=\"a\\\"b\"} -1\n"), "{text}");
        assert_eq!(text.matches("t_requests_total{").count(), 1, "{text}");
    }

    #[test]
    fn openmetrics_names_counter_families_without_total_and_ends_with_eof() {
        let r = Registry::new();
        let a = r.series(&SCHEMA, &[("api", "x")]);
        a.add(0, 4);
        a.observe_micros(1, 5_000);
        let text = r.render_as(crate::Format::OpenMetrics);
        for line in [
            "# TYPE t_requests counter\n",
            "# HELP t_requests Requests.\n",
            "t_requests_total{api=\"x\"} 4\n",
            "# TYPE t_latency_seconds histogram\n# UNIT t_latency_seconds seconds\n",
            "t_latency_seconds_bucket{api=\"x\",le=\"0.01\"} 1\n",
            "t_latency_seconds_bucket{api=\"x\",le=\"1.0\"} 1\n",
            "t_latency_seconds_bucket{api=\"x\",le=\"+Inf\"} 1\n",
        ] {
            assert!(text.contains(line), "{line} missing: {text}");
        }
        assert!(text.contains("# TYPE t_open gauge\n"), "{text}");
        assert!(!text.contains("# UNIT t_open"), "{text}");
        assert!(text.ends_with("\n# EOF\n"), "{text}");
        assert_eq!(text.matches("# EOF").count(), 1, "{text}");
        // The 0.0.4 text keeps `_total` on the family and has no `# EOF`.
        let plain = r.render();
        assert!(
            plain.contains("# TYPE t_requests_total counter\n"),
            "{plain}"
        );
        assert!(!plain.contains("# EOF"), "{plain}");
    }

    #[test]
    fn accept_header_chooses_the_format() {
        use crate::Format;
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::from_accept(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(Format::from_accept(Some("text/plain")), Format::Prometheus);
        assert_eq!(Format::from_accept(None), Format::Prometheus);
        assert_eq!(
            Format::from_accept(Some("application/openmetrics-text; q=0, text/plain")),
            Format::Prometheus
        );
    }
}
