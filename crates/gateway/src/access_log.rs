//! Access logs: one line per request in the stage's `accessLogSettings.format`, with its
//! `$context` variables filled. A line is rendered straight into the worker thread's own
//! buffer, and one writer thread appends the buffered lines to their files
//! (`access_log/writer.rs`), so the request path never waits on the disk nor wakes another
//! thread per line.

mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::context::{compile_substitution, Piece, RequestContext};
pub use writer::{AccessLogWriter, FLUSH_EVERY};

/// Reads `$context` variables by name: REST's table ([`RequestContext`]) and HTTP APIs'
/// (`crate::http_context`) alike.
pub trait ContextVars {
    fn var(&self, name: &str) -> Option<std::borrow::Cow<'_, str>>;
}

impl ContextVars for RequestContext {
    fn var(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        RequestContext::var(self, name)
    }
}

#[derive(Debug)]
pub struct AccessLog {
    pieces: Vec<Piece>,
    file: Arc<Path>,
}

impl AccessLog {
    pub fn new(format: &str, file: Arc<Path>) -> Self {
        AccessLog {
            pieces: compile_substitution(format),
            file,
        }
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
                Piece::Literal(s) => out.extend_from_slice(s.as_bytes()),
                Piece::Context(name) => match ctx.var(name) {
                    Some(v) if !v.is_empty() => out.extend_from_slice(v.as_bytes()),
                    _ => out.push(b'-'),
                },
                Piece::StageVariable(name) => {
                    out.extend_from_slice(stage_vars.get(name).map_or(&b"-"[..], |s| s.as_bytes()))
                }
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
