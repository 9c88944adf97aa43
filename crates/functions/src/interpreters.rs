//! The interpreters that run the Python and Node.js runtimes, found on this machine's PATH.
//!
//! A runtime names a language version (`python3.12`, `nodejs20.x`). It runs on the
//! interpreter whose version matches: `python3.12`, else `python3` if it is 3.12; `node` if
//! its major version is 20. Failing that, on the first interpreter found, with a warning in
//! the function's log. Probing runs the candidate, which through version-manager shims
//! (pyenv) costs hundreds of process starts, so a program is probed only when a function
//! first needs it, and once per process.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::OnceCell;
use tollgate_model::lambda::RuntimeFamily;
use tollgate_model::Runtime;

/// How long a candidate may take to report its version (a shim's first run can be slow).
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);
/// More than a path and a version line need.
const PROBE_OUTPUT_LIMIT: u64 = 8 * 1024;

/// An interpreter that answered the probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Probed {
    /// The real executable (not a shim): starting it directly keeps cold starts short.
    pub path: PathBuf,
    /// `3.12.1`, `20.11.0`.
    pub version: String,
}

/// The interpreter chosen for a runtime.
#[derive(Debug, Clone, PartialEq)]
pub struct Interpreter {
    pub probed: Probed,
    /// Set when its version is not the runtime's.
    pub warning: Option<String>,
}

impl Interpreter {
    /// The line a worker start writes to the function's log.
    pub fn log_line(&self, runtime: Runtime) -> String {
        format!(
            "INIT_START Runtime: {runtime} Interpreter: {} (version {})",
            self.probed.path.display(),
            self.probed.version
        )
    }
}

/// What a runtime asks of an interpreter.
struct Wanted {
    /// Programs to look for on PATH, best first.
    candidates: Vec<String>,
    /// The version prefix that matches (`3.12`, `20`).
    version: String,
    language: &'static str,
}

fn wanted(runtime: Runtime) -> Option<Wanted> {
    let name = runtime.as_str();
    match runtime.family() {
        RuntimeFamily::Python => {
            let version = name.strip_prefix("python")?;
            Some(Wanted {
                candidates: vec![name.to_string(), "python3".to_string()],
                version: version.to_string(),
                language: "Python",
            })
        }
        RuntimeFamily::Node => {
            let major = name.strip_prefix("nodejs")?.strip_suffix(".x")?;
            Some(Wanted {
                candidates: vec!["node".to_string()],
                version: major.to_string(),
                language: "Node.js",
            })
        }
        RuntimeFamily::Provided => None,
    }
}

/// `3.12.1` matches `3.12`, `3.12` matches `3.12`; `3.120.0` does not.
fn version_matches(version: &str, wanted: &str) -> bool {
    version
        .strip_prefix(wanted)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Probed programs, each probed at most once.
pub struct Interpreters {
    probes: HashMap<String, OnceCell<Option<Probed>>>,
}

/// Why a runtime has no interpreter on this machine (the message CreateFunction and the
/// function's callers see).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpreterError {
    /// Not a Python or Node.js runtime.
    #[error("Runtime {runtime} has no interpreter")]
    NotInterpreted { runtime: Runtime },
    /// `candidates` reads `python3.12 or python3`.
    #[error(
        "The runtime {runtime} needs {candidates} on this machine's PATH, and none was found."
    )]
    NotFound {
        runtime: Runtime,
        candidates: String,
    },
}

impl Default for Interpreters {
    fn default() -> Self {
        Self::new()
    }
}

impl Interpreters {
    /// Knows the candidates of every runtime; probes nothing yet.
    pub fn new() -> Interpreters {
        let probes = Runtime::ALL
            .iter()
            .filter_map(|r| wanted(*r))
            .flat_map(|w| w.candidates)
            .map(|program| (program, OnceCell::new()))
            .collect();
        Interpreters { probes }
    }

    /// The interpreter for a Python or Node.js `runtime`, or why there is none.
    pub async fn for_runtime(&self, runtime: Runtime) -> Result<Interpreter, InterpreterError> {
        let w = wanted(runtime).ok_or(InterpreterError::NotInterpreted { runtime })?;
        let mut first = None;
        for program in &w.candidates {
            let Some(probed) = self.probe(program).await else {
                continue;
            };
            if version_matches(&probed.version, &w.version) {
                return Ok(Interpreter {
                    probed: probed.clone(),
                    warning: None,
                });
            }
            first.get_or_insert(probed);
        }
        let Some(probed) = first else {
            return Err(InterpreterError::NotFound {
                runtime,
                candidates: w.candidates.join(" or "),
            });
        };
        let warning = format!(
            "WARNING: the runtime {runtime} wants {} {}, and none was found on PATH ({}); running on {} {} instead ({}).",
            w.language,
            w.version,
            w.candidates.join(", "),
            w.language,
            probed.version,
            probed.path.display()
        );
        Ok(Interpreter {
            probed: probed.clone(),
            warning: Some(warning),
        })
    }

    async fn probe(&self, program: &str) -> Option<&Probed> {
        let cell = self.probes.get(program)?;
        cell.get_or_init(|| async {
            let found = probe(program).await;
            match &found {
                Some(p) => tracing::info!(program, path = %p.path.display(), version = %p.version, "interpreter found"),
                None => tracing::debug!(program, "interpreter not found on PATH"),
            }
            found
        })
        .await
        .as_ref()
    }
}

/// The first executable called `name` on `PATH`.
fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Asks `program` for its real executable and its version (both interpreters answer the
/// same two lines). A program that is missing, fails or does not answer is not an option.
async fn probe(program: &str) -> Option<Probed> {
    let wrapper = find_program(program)?;
    let script = if program.starts_with("node") {
        [
            "-e",
            "console.log(process.execPath); console.log(process.versions.node)",
        ]
    } else {
        [
            "-c",
            "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3])",
        ]
    };
    let mut child = tokio::process::Command::new(&wrapper)
        .args(script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let mut out = Vec::new();
    let stdout = child.stdout.take()?;
    let answered = tokio::time::timeout(PROBE_TIMEOUT, async {
        stdout
            .take(PROBE_OUTPUT_LIMIT)
            .read_to_end(&mut out)
            .await
            .ok()?;
        child.wait().await.ok()
    })
    .await;
    let status = match answered {
        Ok(Some(s)) => s,
        _ => {
            tracing::warn!(program, path = %wrapper.display(), "interpreter did not answer its version probe");
            return None;
        }
    };
    if !status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out);
    let mut lines = text.lines().map(str::trim);
    let exe = PathBuf::from(lines.next()?);
    let version = lines.next()?.to_string();
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    // A shim reports the real interpreter; starting that skips the shim on every cold start.
    let path = if exe.is_absolute() && exe.is_file() {
        exe
    } else {
        wrapper
    };
    Some(Probed { path, version })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_match_on_component_boundaries() {
        assert!(version_matches("3.12.1", "3.12"));
        assert!(version_matches("3.12", "3.12"));
        assert!(!version_matches("3.120.0", "3.12"));
        assert!(!version_matches("3.11.7", "3.12"));
        assert!(version_matches("20.11.0", "20"));
        assert!(!version_matches("2.0.0", "20"));
    }

    #[test]
    fn runtimes_name_their_candidates() {
        let w = wanted(Runtime::Python312).unwrap();
        assert_eq!(w.candidates, ["python3.12", "python3"]);
        assert_eq!(w.version, "3.12");
        let w = wanted(Runtime::Nodejs22).unwrap();
        assert_eq!(w.candidates, ["node"]);
        assert_eq!(w.version, "22");
        assert!(wanted(Runtime::ProvidedAl2023).is_none());
    }
}
