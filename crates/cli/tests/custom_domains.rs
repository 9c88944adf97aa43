//! Custom domain names end to end: certificates made with `openssl`, imported with
//! `aws acm import-certificate`, domains and mappings made with the aws CLI (v1 and v2),
//! and HTTPS requests with `curl --resolve` to the `--tls-listen` listener: the certificate
//! chosen by SNI, REST and HTTP APIs on one domain by base path, `/ping`, changes taking
//! effect without restart, and mutual TLS (accepted, refused at the handshake, the client
//! certificate in `$context`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::certs::*;
use common::*;
use serde_json::{json, Value};

/// A client certificate for `cn` signed by the CA `{ca}.pem`/`{ca}.key`.
fn signed_client(dir: &Path, stem: &str, cn: &str, ca: &str) -> (PathBuf, PathBuf) {
    let (cert, key, csr) = (
        format!("{stem}.pem"),
        format!("{stem}.key"),
        format!("{stem}.csr"),
    );
    new_key_req(
        dir,
        &[
            "-new",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/C=US/O=Clients/CN={cn}"),
        ],
    );
    let ext = dir.join(format!("{stem}.ext"));
    std::fs::write(&ext, "extendedKeyUsage=clientAuth\n").expect("ext file");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &cert,
            "-days",
            "2",
            "-extfile",
            &ext.to_string_lossy(),
        ],
    );
    (dir.join(cert), dir.join(key))
}

/// A CA certificate (basicConstraints CA:TRUE) `{stem}.pem`/`{stem}.key`.
fn ca(dir: &Path, stem: &str) {
    new_key_req(
        dir,
        &[
            "-x509",
            "-keyout",
            &format!("{stem}.key"),
            "-out",
            &format!("{stem}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/C=US/O=Tollgate Tests/CN={stem} CA"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// The port of the `--tls-listen` listener, from the server's log.
fn tls_port(s: &Server) -> u16 {
    eventually("the TLS listener's log line", || {
        let log = s.stderr();
        let (_, rest) = log.split_once("TLS listening on https://127.0.0.1:")?;
        rest.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    })
}

fn start() -> (Server, u16) {
    let s = Server::start_with(
        std::sync::Arc::new(tempfile::tempdir().expect("temp dir")),
        &["--tls-listen", "127.0.0.1:0"],
    );
    let port = tls_port(&s);
    (s, port)
}

/// `curl` over HTTPS to `host` resolved to the TLS listener, trusting `ca` only:
/// `Ok((status, body))`, or `Err(curl's stderr)` when the connection failed.
fn curl(
    port: u16,
    host: &str,
    path: &str,
    ca: &Path,
    client: Option<(&Path, &Path)>,
) -> Result<(u16, String), String> {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "20", "--cacert"])
        .arg(ca)
        .arg("--resolve")
        .arg(format!("{host}:{port}:127.0.0.1"))
        .args(["-w", "\n%{http_code}"]);
    if let Some((cert, key)) = client {
        cmd.arg("--cert").arg(cert).arg("--key").arg(key);
    }
    let out = cmd
        .arg(format!("https://{host}:{port}{path}"))
        .output()
        .expect("run curl");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').expect("curl's -w line");
    Ok((status.parse().expect("status"), body.to_string()))
}

/// A REST API whose `GET /pets` (MOCK) shows the `$context` of custom domains; deployed to
/// `prod`. Its id.
fn rest_api(s: &Server) -> String {
    let api = apigw(s, &["create-rest-api", "--name", "shop"]);
    let id = str_of(&api, "id");
    let root = str_of(&api, "rootResourceId");
    let pets = create_resource(s, &id, &root, "pets");
    mock_method(
        s,
        (&id, &pets, "GET"),
        &["--authorization-type", "NONE"],
        r#"{"domain": "$context.domainName", "matched": "$context.customDomain.basePathMatched", "path": "$context.path", "resourcePath": "$context.resourcePath", "subject": "$context.identity.clientCert.subjectDN", "issuer": "$context.identity.clientCert.issuerDN"}"#,
    );
    deploy(s, &id, "prod");
    id
}

#[test]
fn sni_picks_each_domains_certificate_and_mappings_route_rest_and_http_apis() {
    let (s, port) = start();
    let dir = tempfile::tempdir().expect("temp dir");
    let (a_cert, a_key) = self_signed(dir.path(), "a", "a.example.com");
    let (b_cert, b_key) = self_signed(dir.path(), "b", "b.example.com");
    let a_arn = import(&s, &a_cert, &a_key);
    let b_arn = import(&s, &b_cert, &b_key);

    // ACM shows the certificate, never its key.
    let d = cli_ok(
        &s,
        "acm",
        &["describe-certificate", "--certificate-arn", &a_arn],
    );
    assert_eq!(d["Certificate"]["DomainName"], "a.example.com");
    assert_eq!(d["Certificate"]["Type"], "IMPORTED");
    assert_eq!(d["Certificate"]["Status"], "ISSUED");
    assert!(!d.to_string().contains("PRIVATE KEY"), "{d}");
    let listed = cli_ok(&s, "acm", &["list-certificates"]);
    assert_eq!(
        listed["CertificateSummaryList"].as_array().map(Vec::len),
        Some(2)
    );
    // A key that is not the certificate's is refused.
    let mismatched = cli_err(
        &s,
        "acm",
        &[
            "import-certificate",
            "--certificate",
            &format!("fileb://{}", a_cert.display()),
            "--private-key",
            &format!("fileb://{}", b_key.display()),
        ],
    );
    assert_cli_error(&mismatched, "ValidationException", "does not match");

    let rest = rest_api(&s);
    let backend = Backend::start();
    let http = v2_http_api(&s, "orders");
    let integration = v2_http_proxy(
        &s,
        &http,
        "ANY",
        &format!("{}/{{proxy}}", backend.url()),
        &[],
    );
    v2_route(&s, &http, "ANY /{proxy+}", &integration, &[]);
    v2_default_stage(&s, &http);

    // a.example.com (v1, REGIONAL): REST under `shop`, the HTTP API under `orders/v1`.
    regional_domain(&s, "a.example.com", &a_arn, &[]);
    base_path_mapping(&s, "a.example.com", "shop", &rest, "prod");
    let mapping = v2(
        &s,
        &[
            "create-api-mapping",
            "--domain-name",
            "a.example.com",
            "--api-id",
            &http,
            "--stage",
            "$default",
            "--api-mapping-key",
            "orders/v1",
        ],
    );
    assert_eq!(mapping["ApiMappingKey"], "orders/v1");
    // b.example.com (v2): the REST API at the root.
    v2(
        &s,
        &[
            "create-domain-name",
            "--domain-name",
            "b.example.com",
            "--domain-name-configurations",
            &format!("CertificateArn={b_arn},EndpointType=REGIONAL"),
        ],
    );
    base_path_mapping(&s, "b.example.com", "", &rest, "prod");
    // One namespace: v2 sees v1's domain and its mappings, v1 sees v2's.
    let maps = v2(&s, &["get-api-mappings", "--domain-name", "a.example.com"]);
    assert_eq!(maps["Items"].as_array().map(Vec::len), Some(2), "{maps}");
    let b = apigw(&s, &["get-domain-name", "--domain-name", "b.example.com"]);
    assert_eq!(b["regionalCertificateArn"], Value::from(b_arn.clone()));
    let bases = apigw(
        &s,
        &["get-base-path-mappings", "--domain-name", "b.example.com"],
    );
    assert_eq!(bases["items"][0]["basePath"], "(none)");

    // SNI: each name gets its own certificate (a client trusting only the other one fails).
    let (status, body) = curl(port, "a.example.com", "/shop/pets", &a_cert, None).unwrap();
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(v["matched"], "shop");
    assert_eq!(v["path"], "/shop/pets");
    assert_eq!(v["resourcePath"], "/pets");
    // The Host as sent (over HTTP/2, the `:authority`'s host).
    assert!(
        v["domain"]
            .as_str()
            .is_some_and(|d| d.starts_with("a.example.com")),
        "{v}"
    );
    assert!(curl(port, "a.example.com", "/shop/pets", &b_cert, None).is_err());
    let (status, body) = curl(port, "b.example.com", "/pets", &b_cert, None).unwrap();
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["matched"].as_str(), v["path"].as_str()),
        (Some("(none)"), Some("/pets"))
    );

    // The HTTP API gets the path without its mapping key.
    let (status, _) = curl(port, "a.example.com", "/orders/v1/items/7", &a_cert, None).unwrap();
    assert_eq!(status, 200);
    assert_eq!(backend.last().path, "/items/7");
    // No mapping takes the path: 403; health checks are the edge's own.
    let (status, body) = curl(port, "a.example.com", "/orders/v2/items", &a_cert, None).unwrap();
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    for health in ["/ping", "/sping"] {
        let (status, body) = curl(port, "a.example.com", health, &a_cert, None).unwrap();
        assert_eq!((status, body.as_str()), (200, ""));
    }
    // Custom domains answer on the plain listener too, by Host.
    let r = Http::get(s.port, "/pets")
        .header("Host", "b.example.com")
        .send();
    assert_eq!(r.status, 200, "{r}");

    // Changes apply without restart: the mapping removed, then a new certificate for b.
    apigw(
        &s,
        &[
            "delete-base-path-mapping",
            "--domain-name",
            "a.example.com",
            "--base-path",
            "shop",
        ],
    );
    let (status, _) = curl(port, "a.example.com", "/shop/pets", &a_cert, None).unwrap();
    assert_eq!(status, 403);
    let (b2_cert, b2_key) = self_signed(dir.path(), "b2", "b.example.com");
    let b2_arn = import(&s, &b2_cert, &b2_key);
    let ops = json!([{"op": "replace", "path": "/regionalCertificateArn", "value": b2_arn}]);
    apigw(
        &s,
        &[
            "update-domain-name",
            "--domain-name",
            "b.example.com",
            "--patch-operations",
            &ops.to_string(),
        ],
    );
    assert!(curl(port, "b.example.com", "/pets", &b_cert, None).is_err());
    let (status, _) = curl(port, "b.example.com", "/pets", &b2_cert, None).unwrap();
    assert_eq!(status, 200);
    // A certificate in use cannot be deleted.
    let e = cli_err(
        &s,
        "acm",
        &["delete-certificate", "--certificate-arn", &b2_arn],
    );
    assert_cli_error(&e, "ResourceInUseException", "in use");
    cli_ok(
        &s,
        "acm",
        &["delete-certificate", "--certificate-arn", &b_arn],
    );
}

#[test]
fn mutual_tls_accepts_the_truststores_clients_and_refuses_others_at_the_handshake() {
    let (s, port) = start();
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = self_signed(dir.path(), "m", "m.example.com");
    ca(dir.path(), "trusted");
    ca(dir.path(), "rogue");
    let (good, good_key) = signed_client(dir.path(), "good", "alice", "trusted");
    let (bad, bad_key) = signed_client(dir.path(), "bad", "mallory", "rogue");
    let arn = import(&s, &cert, &key);
    let rest = rest_api(&s);

    // Truststores are local files; an s3:// one is refused with the form to use.
    let e = apigw_err(
        &s,
        &[
            "create-domain-name",
            "--domain-name",
            "m.example.com",
            "--regional-certificate-arn",
            &arn,
            "--endpoint-configuration",
            "types=REGIONAL",
            "--mutual-tls-authentication",
            "truststoreUri=s3://bucket/truststore.pem",
        ],
    );
    assert_cli_error(&e, "BadRequestException", "file:///absolute/path.pem");
    let truststore = format!(
        "truststoreUri=file://{}",
        dir.path().join("trusted.pem").display()
    );
    // Mutual TLS is REGIONAL only, added later by UpdateDomainName too.
    apigw(
        &s,
        &[
            "create-domain-name",
            "--domain-name",
            "e.example.com",
            "--certificate-arn",
            &arn,
        ],
    );
    let patch = format!(
        "op=replace,path=/mutualTlsAuthentication/truststoreUri,value=file://{}",
        dir.path().join("trusted.pem").display()
    );
    let e = apigw_err(
        &s,
        &[
            "update-domain-name",
            "--domain-name",
            "e.example.com",
            "--patch-operations",
            &patch,
        ],
    );
    assert_cli_error(&e, "BadRequestException", "only supported on REGIONAL");
    let d = apigw(
        &s,
        &[
            "create-domain-name",
            "--domain-name",
            "m.example.com",
            "--regional-certificate-arn",
            &arn,
            "--endpoint-configuration",
            "types=REGIONAL",
            "--security-policy",
            "TLS_1_2",
            "--mutual-tls-authentication",
            &truststore,
        ],
    );
    assert!(d["mutualTlsAuthentication"]["truststoreUri"]
        .as_str()
        .is_some_and(|u| u.ends_with("trusted.pem")));
    base_path_mapping(&s, "m.example.com", "v1", &rest, "prod");

    let (status, body) = curl(
        port,
        "m.example.com",
        "/v1/pets",
        &cert,
        Some((&good, &good_key)),
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(v["subject"], "C=US,O=Clients,CN=alice");
    assert_eq!(v["issuer"], "C=US,O=Tollgate Tests,CN=trusted CA");
    // No client certificate, or one the truststore does not vouch for: no handshake.
    assert!(curl(port, "m.example.com", "/v1/pets", &cert, None).is_err());
    assert!(curl(
        port,
        "m.example.com",
        "/v1/pets",
        &cert,
        Some((&bad, &bad_key))
    )
    .is_err());
}

/// `openssl s_server` answering HTTPS on `port` only to clients whose certificate `ca`
/// vouches for; killed on drop.
struct MutualTlsBackend(std::process::Child);

impl MutualTlsBackend {
    fn start(dir: &Path, port: u16, ca: &Path) -> MutualTlsBackend {
        let (cert, key) = self_signed(dir, "backend", "localhost");
        let child = Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                &port.to_string(),
                "-www",
                "-Verify",
                "1",
            ])
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key)
            .arg("-CAfile")
            .arg(ca)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("run openssl s_server");
        eventually("openssl s_server listening", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        MutualTlsBackend(child)
    }
}

impl Drop for MutualTlsBackend {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_stage_presents_its_client_certificate_to_an_https_backend() {
    let s = Server::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let cc = apigw(
        &s,
        &[
            "generate-client-certificate",
            "--description",
            "to the backend",
        ],
    );
    assert!(!cc.to_string().contains("PRIVATE KEY"), "{cc}");
    let id = str_of(&cc, "clientCertificateId");
    let pem = str_of(&cc, "pemEncodedCertificate");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let trusted = dir.path().join("apigw.pem");
    std::fs::write(&trusted, &pem).expect("write the certificate");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let _backend = MutualTlsBackend::start(dir.path(), port, &trusted);

    let api = apigw(&s, &["create-rest-api", "--name", "mtls-backend"]);
    let (api, root) = (str_of(&api, "id"), str_of(&api, "rootResourceId"));
    let on = |op: &str, rest: &[&str]| {
        let mut v = vec![
            op,
            "--rest-api-id",
            &api,
            "--resource-id",
            &root,
            "--http-method",
            "GET",
        ];
        v.extend_from_slice(rest);
        apigw(&s, &v)
    };
    on("put-method", &["--authorization-type", "NONE"]);
    // The backend's own certificate is self-signed: verification is skipped.
    on(
        "put-integration",
        &[
            "--type",
            "HTTP_PROXY",
            "--integration-http-method",
            "GET",
            "--uri",
            &format!("https://localhost:{port}/"),
            "--tls-config",
            "insecureSkipVerification=true",
        ],
    );
    deploy(&s, &api, "prod");
    // Without the stage's certificate the backend refuses the handshake.
    let r = s.invoke(&api, "/prod/");
    assert!(r.status >= 500, "{r}");
    let ops = json!([{"op": "replace", "path": "/clientCertificateId", "value": id}]);
    apigw(
        &s,
        &[
            "update-stage",
            "--rest-api-id",
            &api,
            "--stage-name",
            "prod",
            "--patch-operations",
            &ops.to_string(),
        ],
    );
    let r = s.invoke(&api, "/prod/");
    assert_eq!(r.status, 200, "{r}");
    // In use by a stage: not deleted.
    let e = apigw_err(
        &s,
        &["delete-client-certificate", "--client-certificate-id", &id],
    );
    assert_cli_error(&e, "BadRequestException", "used by a stage");
}

/// `curl -i` over HTTPS to `host` (SNI and Host) on the TLS listener, trusting `ca` only,
/// keeping cookies in `jar`, with `extra` arguments: the response's head and body.
fn curl_with_cookies(
    port: u16,
    host: &str,
    path: &str,
    ca: &Path,
    jar: &Path,
    extra: &[&str],
) -> String {
    let out = Command::new("curl")
        .args(["-sS", "-i", "--max-time", "20", "--cacert"])
        .arg(ca)
        .arg("--resolve")
        .arg(format!("{host}:{port}:127.0.0.1"))
        .arg("-b")
        .arg(jar)
        .arg("-c")
        .arg(jar)
        .args(extra)
        .arg(format!("https://{host}:{port}{path}"))
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_domain_tagged_for_the_portal_serves_it_over_tls_beside_an_api_domain() {
    let (s, port) = start();
    let dir = tempfile::tempdir().expect("temp dir");
    let (dev_cert, dev_arn) = imported(&s, dir.path(), "dev", "developer.example.com");
    let (a_cert, a_arn) = imported(&s, dir.path(), "a", "a.example.com");
    let rest = rest_api(&s);
    regional_domain(&s, "a.example.com", &a_arn, &[]);
    base_path_mapping(&s, "a.example.com", "", &rest, "prod");
    // v2's CreateDomainName with the tag: the portal, by SNI, on the same listener.
    v2(
        &s,
        &[
            "create-domain-name",
            "--domain-name",
            "developer.example.com",
            "--domain-name-configurations",
            &format!("CertificateArn={dev_arn},EndpointType=REGIONAL"),
            "--tags",
            "tollgate:portal=true",
        ],
    );
    let (status, body) = curl(port, "a.example.com", "/pets", &a_cert, None).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"domain\": \"a.example.com\""), "{body}");
    let (status, landing) = curl(port, "developer.example.com", "/", &dev_cert, None).unwrap();
    assert_eq!(status, 200, "{landing}");
    assert!(
        landing.contains("No API is published yet") && landing.contains("Sign up"),
        "{landing}"
    );

    // Sign up over TLS (HTTP/2 by ALPN where curl has it): the cookies are Secure.
    let jar = dir.path().join("cookies.txt");
    let form = curl_with_cookies(
        port,
        "developer.example.com",
        "/signup",
        &dev_cert,
        &jar,
        &[],
    );
    let lower = form.to_ascii_lowercase();
    assert!(
        lower.contains("set-cookie: tollgate_portal_form=") && lower.contains("; secure"),
        "{form}"
    );
    let (_, rest) = form
        .split_once("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no form in {form}"));
    let csrf = rest.split('"').next().unwrap();
    let origin = format!("Origin: https://developer.example.com:{port}");
    let fields = format!("csrf={csrf}&email=dev%40example.com&password=correct+horse+battery");
    let no_token = curl_with_cookies(
        port,
        "developer.example.com",
        "/signup",
        &dev_cert,
        &jar,
        &[
            "-H",
            &origin,
            "--data",
            "email=dev%40example.com&password=x",
        ],
    );
    assert!(
        no_token.starts_with("HTTP/2 403") || no_token.starts_with("HTTP/1.1 403"),
        "{no_token}"
    );
    let signed_up = curl_with_cookies(
        port,
        "developer.example.com",
        "/signup",
        &dev_cert,
        &jar,
        &["-H", &origin, "--data", &fields],
    );
    let session = signed_up
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: tollgate_portal=")
        })
        .unwrap_or_else(|| panic!("no session cookie in {signed_up}"));
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Strict")
            && session.contains("Secure")
            && !session.contains("Domain"),
        "{session}"
    );
    let home = curl_with_cookies(port, "developer.example.com", "/", &dev_cert, &jar, &[]);
    assert!(home.contains("dev@example.com"), "{home}");
    // Nothing of the control plane over the portal's name.
    let (status, body) = curl(port, "developer.example.com", "/restapis", &dev_cert, None).unwrap();
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("No such page."), "{body}");
}
