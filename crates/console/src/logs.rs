//! `GET /_tollgate/logs`: the tail of an access, execution or function log, for callers
//! whose credentials may read the stage (GetStage) or the function (GetFunction): the log
//! files have no AWS API of their own, so the right to read what they describe stands in.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use axum::body::Body;
use http::{HeaderMap, Method, Request, Response};
use serde::Deserialize;
use serde_json::json;

use crate::context::Console;
use crate::guard::{self, Caller};
use crate::proxy::{self, Keys, Outgoing};
use crate::reply;

/// What one answer returns at most, and where a first read starts from the end.
const CHUNK: u64 = 64 * 1024;

#[derive(Deserialize)]
struct Query {
    kind: String,
    #[serde(default)]
    api: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    function: String,
    /// The byte offset the previous answer ended at.
    #[serde(default)]
    from: Option<u64>,
}

/// Ids, stage and function names as the control plane makes them: nothing that leaves
/// the log directory.
fn plain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$' | b'.'))
}

pub async fn tail(console: &Console, caller: &Caller, req: Request<Body>) -> Response<Body> {
    let Ok(axum::extract::Query(q)) = axum::extract::Query::<Query>::try_from_uri(req.uri()) else {
        return reply::error(400, "BadRequestException", "Invalid query.");
    };
    let host = guard::host(&req).unwrap_or("localhost").to_string();
    let (checks, path): (Vec<(&str, String)>, PathBuf) = match q.kind.as_str() {
        "access" | "execution"
            if q.api.bytes().all(|b| b.is_ascii_alphanumeric())
                && !q.api.is_empty()
                && plain(&q.stage) =>
        {
            let dir = if q.kind == "access" {
                &console.config.access_log_dir
            } else {
                &console.config.execution_log_dir
            };
            (
                vec![
                    (
                        "apigateway",
                        format!("/restapis/{}/stages/{}", q.api, q.stage),
                    ),
                    (
                        "apigateway",
                        format!("/v2/apis/{}/stages/{}", q.api, q.stage),
                    ),
                ],
                dir.join(format!("{}-{}.log", q.api, q.stage)),
            )
        }
        "function" if plain(&q.function) && !q.function.contains('.') => (
            vec![("lambda", format!("/2015-03-31/functions/{}", q.function))],
            console
                .config
                .function_log_dir
                .join(format!("{}.log", q.function)),
        ),
        _ => {
            return reply::error(
                400,
                "BadRequestException",
                "Name an API and stage, or a function.",
            )
        }
    };
    // Allowed when any check passes (a stage is a REST or an HTTP/WebSocket API's); else
    // the last refusal is the answer.
    let mut refusal = None;
    for (service, path) in &checks {
        let r = proxy::send(
            console,
            Keys::from(caller),
            &host,
            Outgoing {
                service,
                method: Method::GET,
                path,
                query: None,
                headers: HeaderMap::new(),
                body: Vec::new(),
            },
        )
        .await;
        if r.status().is_success() {
            refusal = None;
            break;
        }
        refusal = Some(r);
    }
    if let Some(r) = refusal {
        return r;
    }
    match tokio::task::spawn_blocking(move || read_from(&path, q.from)).await {
        Ok(Ok((next, text))) => reply::json(200, &json!({ "next": next, "text": text })),
        Ok(Err(_)) | Err(_) => reply::error(500, "InternalFailure", "The log could not be read."),
    }
}

/// Whole lines from `from` (or from near the end on a first read), at most [`CHUNK`]
/// bytes; the offset to continue from. A missing file is an empty log so far.
fn read_from(path: &std::path::Path, from: Option<u64>) -> std::io::Result<(u64, String)> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, String::new())),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    // A log that shrank (rotated, recreated) is read again from its start.
    let start = match from {
        Some(f) if f <= len => f,
        Some(_) => 0,
        None => len.saturating_sub(CHUNK),
    };
    file.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    file.take(CHUNK).read_to_end(&mut buf)?;
    let mut skip = 0;
    if from.is_none() && start > 0 {
        // Started mid-file: drop the partial first line.
        skip = buf
            .iter()
            .position(|b| *b == b'\n')
            .map_or(buf.len(), |i| i + 1);
    }
    let end = buf
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(skip, |i| i + 1)
        .max(skip);
    let text = String::from_utf8_lossy(&buf[skip..end]).into_owned();
    Ok((start + end as u64, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_lines_are_read_and_the_offset_continues() {
        let dir = std::env::temp_dir().join(format!("tollgate-console-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a-b.log");
        std::fs::write(&p, "one\ntwo\nthr").unwrap();
        let (next, text) = read_from(&p, None).unwrap();
        assert_eq!((next, text.as_str()), (8, "one\ntwo\n"));
        std::fs::write(&p, "one\ntwo\nthree\n").unwrap();
        let (next, text) = read_from(&p, Some(next)).unwrap();
        assert_eq!((next, text.as_str()), (14, "three\n"));
        assert_eq!(
            read_from(&dir.join("none.log"), None).unwrap(),
            (0, String::new())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_cannot_leave_the_directory() {
        assert!(!plain("../x"));
        assert!(!plain(".."));
        assert!(!plain("a/b"));
        assert!(plain("prod"));
        assert!(plain("$default"));
    }
}
