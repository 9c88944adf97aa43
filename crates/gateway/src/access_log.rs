//! Access logs: one line per request in the stage's `accessLogSettings.format`, with its
//! `$context` variables filled. A line is rendered straight into the worker thread's own
//! buffer, and one writer thread appends the buffered lines to their files
//! (`access_log/writer.rs`), so the request path never waits on the disk nor wakes another
//! thread per line.

mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::context::{compile_substitution, rest_key, CtxValue, Piece, Read, RequestContext, REST};
pub use writer::{AccessLogWriter, FLUSH_EVERY};

/// Reads `$context` variables by name: REST's table ([`RequestContext`]) and HTTP APIs'
/// (`crate::http_context`) alike.
pub trait ContextVars {
    fn var(&self, name: &str) -> Option<std::borrow::Cow<'_, str>>;

    /// Appends `$context.{name}` to `out`; `false` (nothing appended) when it has no value.
    /// `rest` is where REST's table has the key, found when the format was compiled.
    fn write_var(&self, name: &str, rest: Option<usize>, out: &mut Vec<u8>) -> bool {
        let _ = rest;
        push_text(self.var(name).as_deref(), out)
    }
}

impl ContextVars for RequestContext {
    fn var(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        RequestContext::var(self, name)
    }

    /// A key found at compile time is read straight from the table, numbers written
    /// without an intermediate string.
    fn write_var(&self, name: &str, rest: Option<usize>, out: &mut Vec<u8>) -> bool {
        let Some(i) = rest else {
            return push_text(self.var(name).as_deref(), out);
        };
        let value = match REST[i].read {
            Read::Value(f) => f(self),
            _ => None,
        };
        match value {
            Some(CtxValue::Text(t)) => push_text(Some(&t), out),
            Some(CtxValue::Number(n)) => {
                push_int(n, out);
                true
            }
            Some(CtxValue::Bool(b)) => push_text(Some(if b { "true" } else { "false" }), out),
            None => false,
        }
    }
}

fn push_text(v: Option<&str>, out: &mut Vec<u8>) -> bool {
    match v {
        Some(v) if !v.is_empty() => {
            out.extend_from_slice(v.as_bytes());
            true
        }
        _ => false,
    }
}

/// Decimal digits of `n`, as `to_string` writes them.
fn push_int(n: i64, out: &mut Vec<u8>) {
    if n < 0 {
        out.push(b'-');
    }
    let mut digits = [0u8; 20];
    let mut v = n.unsigned_abs();
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// A format's pieces as a line is rendered from them.
#[derive(Debug)]
enum LogPiece {
    Literal(Box<str>),
    /// A `$context` variable, with where REST's table has it (`None`: not there, or an
    /// authorizer's value).
    Context(Box<str>, Option<usize>),
    StageVariable(Box<str>),
}

#[derive(Debug)]
pub struct AccessLog {
    pieces: Vec<LogPiece>,
    file: Arc<Path>,
}

impl AccessLog {
    pub fn new(format: &str, file: Arc<Path>) -> Self {
        let pieces = compile_substitution(format)
            .into_iter()
            .map(|p| match p {
                Piece::Literal(s) => LogPiece::Literal(s.into()),
                Piece::Context(name) => {
                    let rest = rest_key(&name);
                    LogPiece::Context(name.into(), rest)
                }
                Piece::StageVariable(name) => LogPiece::StageVariable(name.into()),
            })
            .collect();
        AccessLog { pieces, file }
    }

    /// Appends the line for one request to `out`. Variables without a value print `-`.
    pub fn render_into(
        &self,
        ctx: &impl ContextVars,
        stage_vars: &std::collections::BTreeMap<String, String>,
        out: &mut Vec<u8>,
    ) {
        for p in &self.pieces {
            match p {
                LogPiece::Literal(s) => out.extend_from_slice(s.as_bytes()),
                LogPiece::Context(name, rest) => {
                    if !ctx.write_var(name, *rest, out) {
                        out.push(b'-');
                    }
                }
                LogPiece::StageVariable(name) => out
                    .extend_from_slice(stage_vars.get(&**name).map_or(&b"-"[..], |s| s.as_bytes())),
            }
        }
    }
}

impl AccessLogWriter {
    /// Writes the line of one request to `log`'s file.
    pub fn write(
        &self,
        log: &AccessLog,
        ctx: &impl ContextVars,
        stage_vars: &std::collections::BTreeMap<String, String>,
    ) {
        self.append(&log.file, |out| log.render_into(ctx, stage_vars, out));
    }
}

/// Where a stage's access log (or execution log, in its own dir) goes:
/// `{dir}/{apiId}-{stage}.log`.
pub fn access_log_path(dir: &std::path::Path, api: &str, stage: &str) -> PathBuf {
    dir.join(format!("{api}-{stage}.log"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Group;

    /// Every REST key a format can name renders as `$context` reads it by name.
    #[test]
    fn keys_found_at_compile_time_read_as_by_name() {
        let parts = http::Request::get("/dev/x?a=1")
            .header("user-agent", "probe")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let dep = crate::compile::compile(
            &tollgate_model::RestApiDefinition::new(serde_json::from_value(serde_json::json!({
                "id": "a", "name": "n", "createdDate": 0, "apiKeySource": "HEADER",
                "endpointConfiguration": {"types": ["EDGE"]}, "disableExecuteApiEndpoint": false,
                "rootResourceId": "r"
            })).unwrap()),
            "d",
        );
        let mut ctx = crate::pipeline::respond::new_context(
            &parts,
            "/dev/x",
            "h",
            &"dev".into(),
            &dep,
            Some(false),
            ([127, 0, 0, 1], 1).into(),
        );
        (ctx.status, ctx.response_length, ctx.integration_latency_ms) = (201, 12345, Some(7));
        let file: Arc<Path> = Path::new("/dev/null").into();
        let mut checked = 0;
        for key in REST {
            let name = match key.group {
                Group::Top => key.name.to_string(),
                Group::Identity => format!("identity.{}", key.name),
                Group::Error => format!("error.{}", key.name),
                _ => continue,
            };
            let log = AccessLog::new(&format!("<$context.{name}>"), file.clone());
            assert!(
                matches!(log.pieces[1], LogPiece::Context(_, Some(_))),
                "{name}"
            );
            let mut out = Vec::new();
            log.render_into(&ctx, &Default::default(), &mut out);
            let by_name = ctx.var(&name).filter(|v| !v.is_empty());
            let expected = format!("<{}>", by_name.as_deref().unwrap_or("-"));
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{name}");
            checked += 1;
        }
        assert!(checked > 40, "{checked}");
    }

    #[test]
    fn integers_are_written_as_to_string_writes_them() {
        for n in [
            0,
            7,
            10,
            99,
            100,
            1_700_000_000_000,
            -1,
            -42,
            i64::MAX,
            i64::MIN,
        ] {
            let mut out = Vec::new();
            push_int(n, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }
}
