//! Running `tollgate sam` against a test server, and reading what it printed.

use std::path::Path;
use std::process::{Command, Output};

use super::*;

pub fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

pub fn sam(s: &Server, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("sam")
        .args(args)
        .args(["--endpoint-url", &s.endpoint()])
        .current_dir(dir)
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("run tollgate sam")
}

/// The URLs `tollgate sam` printed, by logical id.
pub fn urls(out: &Output) -> std::collections::BTreeMap<String, String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tollgate sam failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `GET url` (an absolute URL on the server) as a path for [`Http`].
pub fn get(s: &Server, url: &str, method: &str) -> Response {
    let path = url
        .strip_prefix(&s.endpoint())
        .expect("a URL on the server");
    Http::new(s.port, method, path).send()
}
