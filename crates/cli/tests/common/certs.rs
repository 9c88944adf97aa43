//! Certificates for tests of custom domains: made with `openssl`, imported into the
//! server with `aws acm import-certificate`, and the REGIONAL domains that name them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{apigw, cli_ok, str_of, Server};

/// `openssl req`'s arguments for a new P-256 key without a passphrase.
pub const NEW_KEY: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
];

/// `openssl req` with a new key (`NEW_KEY`) and `args`, in `dir`.
pub fn new_key_req(dir: &Path, args: &[&str]) {
    let mut all = vec!["req"];
    all.extend_from_slice(&NEW_KEY);
    all.extend_from_slice(args);
    openssl(dir, &all);
}

/// Runs `openssl` with `args` in `dir`; must succeed.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed certificate for `name` (P-256): (`{stem}.pem`, `{stem}.key`) in `dir`.
pub fn self_signed(dir: &Path, stem: &str, name: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (format!("{stem}.pem"), format!("{stem}.key"));
    new_key_req(
        dir,
        &[
            "-x509",
            "-keyout",
            &key,
            "-out",
            &cert,
            "-days",
            "2",
            "-subj",
            &format!("/C=US/O=Tollgate Tests/CN={name}"),
            "-addext",
            &format!("subjectAltName=DNS:{name}"),
        ],
    );
    (dir.join(cert), dir.join(key))
}

/// Imports `cert` and `key` with `aws acm import-certificate`: the certificate's ARN.
pub fn import(s: &Server, cert: &Path, key: &Path) -> String {
    let c = format!("fileb://{}", cert.display());
    let k = format!("fileb://{}", key.display());
    let out = cli_ok(
        s,
        "acm",
        &[
            "import-certificate",
            "--certificate",
            &c,
            "--private-key",
            &k,
        ],
    );
    str_of(&out, "CertificateArn")
}

/// `aws apigateway create-domain-name` for a REGIONAL domain `name` served with the ACM
/// certificate `cert_arn`, with `extra` arguments.
pub fn regional_domain(s: &Server, name: &str, cert_arn: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "create-domain-name",
        "--domain-name",
        name,
        "--regional-certificate-arn",
        cert_arn,
        "--endpoint-configuration",
        "types=REGIONAL",
    ];
    args.extend_from_slice(extra);
    apigw(s, &args)
}

/// A self-signed certificate for `name` (`{stem}.pem` in `dir`) imported into ACM: its
/// path (what a client trusts) and its ARN.
pub fn imported(s: &Server, dir: &Path, stem: &str, name: &str) -> (PathBuf, String) {
    let (cert, key) = self_signed(dir, stem, name);
    let arn = import(s, &cert, &key);
    (cert, arn)
}

/// `aws apigateway create-base-path-mapping`: `api`'s `stage` under `base_path` on `domain`
/// (`""`: the root mapping).
pub fn base_path_mapping(s: &Server, domain: &str, base_path: &str, api: &str, stage: &str) {
    let mut args = vec!["create-base-path-mapping", "--domain-name", domain];
    if !base_path.is_empty() {
        args.extend_from_slice(&["--base-path", base_path]);
    }
    args.extend_from_slice(&["--rest-api-id", api, "--stage", stage]);
    apigw(s, &args);
}
