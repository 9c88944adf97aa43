//! The browser tests' Rust side: runs a selenium script (`tests/*_browser.py`, on
//! `browser_harness.py`) in headless Chromium and returns what it saw. Missing tools fail
//! the test, naming what to install: nothing is skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::Server;

/// The first of `names` on PATH.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn required(names: &[&str]) -> PathBuf {
    on_path(names).unwrap_or_else(|| {
        panic!(
            "{} is not installed: the browser tests need Debian's chromium and \
             chromium-driver (`apt-get install -y chromium chromium-driver`, as .ci/run does)",
            names[0]
        )
    })
}

/// Runs one scenario of `script` (under `tests/`) against `s` with `params`; what it saw.
pub fn browse(script: &str, s: &Server, scenario: &str, mut params: Value) -> Value {
    let chromium = required(&["chromium", "chromium-browser"]);
    let driver = required(&["chromedriver"]);
    let selenium = Command::new("python3")
        .args(["-c", "import selenium"])
        .stderr(Stdio::null())
        .status()
        .expect("run python3");
    assert!(
        selenium.success(),
        "selenium is not installed for python3: .ci/run installs it into .venv (first on PATH)"
    );
    params["endpoint"] = s.endpoint().into();
    params["chromium"] = chromium.display().to_string().into();
    params["chromedriver"] = driver.display().to_string().into();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(script);
    let out = Command::new("python3")
        .arg(&script)
        .arg(scenario)
        .arg(params.to_string())
        // Selenium must use the given browser and driver, never fetch its own.
        .env("SE_OFFLINE", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run the browser script");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the browser script failed:\n{stderr}");
    let seen: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("the script printed no JSON ({e}); stderr:\n{stderr}"));
    assert!(
        seen.get("failed_waiting_for").is_none(),
        "{seen:#}\n{}",
        s.stderr()
    );
    assert_eq!(seen["console_errors"], json!([]), "{seen:#}");
    seen
}
