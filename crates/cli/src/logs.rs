//! `tollgate logs`: a function's log (`tollgate logs FUNCTION`), or an API's access or
//! execution log (`tollgate logs --api ID [--stage S] [--access|--execution]`), printed
//! and optionally followed.

use std::collections::HashMap;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::CliError;

#[derive(clap::Args)]
pub struct LogsArgs {
    /// The function's name (or `--api` for an API's logs).
    #[arg(required_unless_present = "api", conflicts_with = "api")]
    function: Option<String>,
    /// Print an API's log instead: the API's id.
    #[arg(long)]
    api: Option<String>,
    /// Only this stage's log (default: every stage of the API).
    #[arg(long, requires = "api")]
    stage: Option<String>,
    /// The access log (the default with `--api`).
    #[arg(long, requires = "api", conflicts_with = "execution")]
    access: bool,
    /// The execution log (REST methods with `logging/loglevel`).
    #[arg(long, requires = "api")]
    execution: bool,
    /// Keep printing new lines as they are written.
    #[arg(short, long)]
    follow: bool,
    /// Where state and logs are kept (as given to `serve`).
    #[arg(long, env = "TOLLGATE_DATA_DIR", default_value = "./.tollgate")]
    data_dir: PathBuf,
}

/// Ids and stage names as the control plane makes them: nothing that reaches out of the
/// log directory.
fn plain(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$' | b'.'))
        && !name.starts_with('.')
}

pub fn run(mut args: LogsArgs) -> Result<(), CliError> {
    // Named in full in messages, as `serve` resolved it.
    args.data_dir = std::fs::canonicalize(&args.data_dir)
        .or_else(|_| std::path::absolute(&args.data_dir))
        .map_err(|source| CliError::Resolve {
            path: args.data_dir.clone(),
            source,
        })?;
    let Some(api) = args.api.clone() else {
        return function_log(args);
    };
    if !api.bytes().all(|b| b.is_ascii_alphanumeric()) || api.is_empty() {
        return Err(CliError::NotAnApi(api));
    }
    if let Some(stage) = args.stage.as_deref().filter(|s| !plain(s)) {
        return Err(CliError::NotAStage(stage.to_string()));
    }
    // `--access` is the default; clap refuses it with `--execution`.
    let execution = args.execution && !args.access;
    let dir = args.data_dir.join(if execution {
        "execution-logs"
    } else {
        "access-logs"
    });
    let files = || -> Vec<PathBuf> {
        match &args.stage {
            Some(stage) => vec![dir.join(format!("{api}-{stage}.log"))],
            None => {
                let prefix = format!("{api}-");
                let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".log"))
                    })
                    .collect();
                found.sort();
                found
            }
        }
    };
    let printed = print(files, args.follow)?;
    if !printed && !args.follow {
        return Err(CliError::NoApiLog {
            api,
            kind: if execution { "execution" } else { "access" },
            dir,
        });
    }
    Ok(())
}

fn function_log(args: LogsArgs) -> Result<(), CliError> {
    let function = args.function.unwrap_or_default();
    if tollgate_model::lambda::parse_function_ref(&function).is_none() {
        return Err(CliError::NotAFunction(function));
    }
    let path = tollgate_functions::logs::log_path(
        &args.data_dir.join("functions").join("logs"),
        &function,
    );
    if !print(|| vec![path.clone()], args.follow)? && !args.follow {
        return Err(CliError::NoLog {
            function,
            data_dir: args.data_dir,
        });
    }
    Ok(())
}

/// Prints the files `files()` names (asked again on every round when following, so a
/// stage that starts logging is picked up); whether any existed. Following prints whole
/// lines only, so lines of two files never mix.
fn print(files: impl Fn() -> Vec<PathBuf>, follow: bool) -> Result<bool, CliError> {
    let mut out = std::io::stdout().lock();
    let mut positions: HashMap<PathBuf, u64> = HashMap::new();
    loop {
        let mut any = false;
        for path in files() {
            let pos = positions.entry(path.clone()).or_insert(0);
            if let Some(n) = print_new(&path, *pos, follow, &mut out)? {
                any = true;
                *pos = n;
            }
        }
        if !follow {
            return Ok(any);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Prints what `path` holds past `pos`; the new position, or `None` if there is no file.
fn print_new(
    path: &Path,
    mut pos: u64,
    whole_lines: bool,
    out: &mut impl Write,
) -> Result<Option<u64>, CliError> {
    let Ok(mut f) = std::fs::File::open(path) else {
        return Ok(None);
    };
    let len = f.metadata().map_or(0, |m| m.len());
    if len < pos {
        pos = 0; // the log was recreated
    }
    f.seek(std::io::SeekFrom::Start(pos))?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    if whole_lines {
        let end = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        buf.truncate(end);
    }
    pos += buf.len() as u64;
    out.write_all(&buf)?;
    out.flush()?;
    Ok(Some(pos))
}
