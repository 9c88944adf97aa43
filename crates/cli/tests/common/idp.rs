//! A local identity provider for token authorizers: a directory served over HTTP
//! (`python3 -m http.server`) holding JWKS and OIDC discovery documents, and tokens signed
//! in the test with the `jsonwebtoken` crate by `data/cognito-test-key.pem`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::PATIENCE;

/// The public half of `data/cognito-test-key.pem` (RSA modulus, base64url).
pub const N: &str = "7HxS1V4asvopooe3zzIP7OwXLs1Z1xAZVHftxHA1QU9ilRnpbGgLFPIMJSz2ej9nLfy-57tCEw8OUD3nuy3elayk8vS3VyF4xFGde4TFhW3hM1iOoPewMavtqka9lJbl8bMvoUESC2lUguaOT-3EbHbSuRfBvlDc7mnEG2SKvYYSid7zsojKydnk9J8Cos2BTmG5l9G7IUhIPPAJVInVDz4aO5RKasFLKZ2hoNJ_3YHPOyuMYtoteNbgbT-Sgky_Qwe0KUF3KBVH5a9-hIzPmCpSrE9lhCe8ptICNWmyhy1s-vgWxEgg1eERgJzLbeSpTCxLS1sUZz-5pV7FxqbU8w";
const KEY: &str = include_str!("../data/cognito-test-key.pem");

/// A child process killed when dropped.
pub struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The JWKS document with the test key as `k1`.
pub fn jwks() -> Value {
    json!({"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": N, "e": "AQAB"}]})
}

/// Serves `dir` over HTTP on a free loopback port; returns the base URL.
pub fn serve_dir(dir: &Path) -> (String, Killed) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m http.server");
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "identity provider never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (format!("http://127.0.0.1:{port}"), Killed(child))
}

/// An OIDC issuer at `{base}/{realm}`: its discovery document names its JWKS at another
/// path, as real providers do. Returns the issuer.
pub fn oidc_issuer(dir: &Path, base: &str, realm: &str) -> String {
    let issuer = format!("{base}/{realm}");
    let wk = dir.join(realm).join(".well-known");
    std::fs::create_dir_all(&wk).unwrap();
    std::fs::create_dir_all(dir.join(realm).join("keys")).unwrap();
    let discovery = json!({"issuer": issuer, "jwks_uri": format!("{issuer}/keys/set.json")});
    std::fs::write(wk.join("openid-configuration"), discovery.to_string()).unwrap();
    std::fs::write(dir.join(realm).join("keys/set.json"), jwks().to_string()).unwrap();
    issuer
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A JWT of `claims` signed with the test key, `kid` in its header.
pub fn sign_with(alg: Algorithm, kid: &str, claims: &Value) -> String {
    let mut h = Header::new(alg);
    h.kid = Some(kid.into());
    jsonwebtoken::encode(
        &h,
        claims,
        &EncodingKey::from_rsa_pem(KEY.as_bytes()).unwrap(),
    )
    .unwrap()
}
