//! VPC links (issue 19): v1 and v2 CRUD through the aws CLI (PENDING, then AVAILABLE), and
//! private integrations whose link's targets come from its `tollgate:target` tag or from
//! `--vpc-link-target`: requests take the targets in turn, one that refuses connections is
//! skipped, a link without targets answers 500 naming the tag in the log.

mod common;

use std::sync::Arc;
use std::time::Instant;

use common::*;
use serde_json::{json, Value};

const NLB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/private/1";

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls GetVpcLink until AVAILABLE; returns the statuses seen.
fn until_available(s: &Server, id: &str) -> Vec<String> {
    let started = Instant::now();
    let mut seen = Vec::new();
    loop {
        let l = apigw(s, &["get-vpc-link", "--vpc-link-id", id]);
        let status = l["status"].as_str().unwrap_or_default().to_string();
        seen.push(status.clone());
        if status == "AVAILABLE" {
            return seen;
        }
        assert!(started.elapsed() < PATIENCE, "never AVAILABLE: {seen:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A REST API whose `ANY /{proxy+}` goes through the link `${stageVariables.link}`, with
/// a stage per `(stage, link id)`; its id.
fn private_api(s: &Server, stages: &[(&str, &str)]) -> String {
    let cp = Cp::new(s);
    let (api, root) = cp.create_api("private");
    private_route(&cp, &api, &root);
    for (stage, link) in stages {
        cp.deploy(&api, stage);
        cp.patch_stage(
            &api,
            stage,
            json!([{ "op": "replace", "path": "/variables/link", "value": link }]),
        );
    }
    api
}

/// `ANY /{proxy+}` on `api`: an HTTP_PROXY through the link `${stageVariables.link}`.
fn private_route(cp: &Cp, api: &str, root: &str) {
    let res = cp.resource(api, root, "{proxy+}");
    cp.put_method(
        api,
        &res,
        "ANY",
        json!({ "authorizationType": "NONE", "requestParameters": { "method.request.path.proxy": true } }),
    );
    cp.put_integration(
        api,
        &res,
        "ANY",
        json!({
            "type": "HTTP_PROXY",
            "httpMethod": "ANY",
            "uri": "http://private-nlb.internal/{proxy}",
            "connectionType": "VPC_LINK",
            "connectionId": "${stageVariables.link}",
            "requestParameters": { "integration.request.path.proxy": "method.request.path.proxy" }
        }),
    );
}

#[test]
fn v1_links_route_to_their_tagged_targets_in_turn_skipping_one_down() {
    let (a, b) = (Backend::start(), Backend::start());
    let down = closed_port();
    let s = Server::start();
    let targets = format!(
        "{},127.0.0.1:{down},{}",
        a.url().trim_start_matches("http://"),
        b.url().trim_start_matches("http://")
    );
    let tags = json!({ "tollgate:target": targets }).to_string();
    let link = apigw(
        &s,
        &[
            "create-vpc-link",
            "--name",
            "private",
            "--target-arns",
            NLB,
            "--tags",
            &tags,
        ],
    );
    assert_eq!(link["status"], json!("PENDING"), "{link}");
    let id = link["id"].as_str().unwrap().to_string();
    assert_eq!(until_available(&s, &id).last().unwrap(), "AVAILABLE");
    let bare = apigw(
        &s,
        &["create-vpc-link", "--name", "bare", "--target-arns", NLB],
    );
    let bare = bare["id"].as_str().unwrap().to_string();
    let listed = apigw(&s, &["get-vpc-links"]);
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    let renamed = apigw(
        &s,
        &[
            "update-vpc-link",
            "--vpc-link-id",
            &id,
            "--patch-operations",
            "op=replace,path=/name,value=renamed",
        ],
    );
    assert_eq!(renamed["name"], json!("renamed"));

    let api = private_api(&s, &[("dev", &id), ("bare", &bare)]);

    for n in 0..8 {
        let r = s.invoke(&api, &format!("/dev/items/{n}"));
        assert_eq!(r.status, 200, "{r}\n{}", s.stderr());
    }
    // Both live targets took requests; the one down was tried once and then skipped.
    assert!(
        a.count() >= 2 && b.count() >= 2,
        "{} / {}",
        a.count(),
        b.count()
    );
    assert_eq!(a.count() + b.count(), 8);
    assert!(a.last().path.starts_with("/items/"), "{}", a.last().path);
    let logged = s.stderr_with("VPC link target unreachable");
    assert_eq!(
        logged.matches("VPC link target unreachable").count(),
        1,
        "{logged}"
    );

    // A link without targets: 500, and the log says which tag to set.
    let r = s.invoke(&api, "/bare/items/1");
    assert_eq!(r.status, 500, "{r}");
    let logged = s.stderr_with("tollgate:target");
    assert!(logged.contains("tollgate:target"), "{logged}");

    apigw(&s, &["delete-vpc-link", "--vpc-link-id", &bare]);
    let gone = apigw_err(&s, &["get-vpc-link", "--vpc-link-id", &bare]);
    assert!(gone.stderr.contains("NotFoundException"), "{}", gone.stderr);
}

#[test]
fn targets_from_the_flag_and_v2_links() {
    let backend = Backend::start();
    let flag = format!("{NLB}={}", backend.url().trim_start_matches("http://"));
    let s = Server::start_with(
        Arc::new(tempfile::tempdir().unwrap()),
        &["--vpc-link-target", &flag],
    );
    let link = apigw(
        &s,
        &["create-vpc-link", "--name", "flagged", "--target-arns", NLB],
    );
    let id = link["id"].as_str().unwrap().to_string();
    let api = private_api(&s, &[("dev", &id)]);
    let r = s.invoke(&api, "/dev/hello");
    assert_eq!(r.status, 200, "{r}\n{}", s.stderr());
    assert_eq!(backend.last().path, "/hello");

    // v2 links: CRUD with the CLI, and an HTTP API's private integration through one.
    let tags =
        json!({ "tollgate:target": backend.url().trim_start_matches("http://") }).to_string();
    let v2link = v2(
        &s,
        &[
            "create-vpc-link",
            "--name",
            "v2",
            "--subnet-ids",
            "subnet-1",
            "subnet-2",
            "--tags",
            &tags,
        ],
    );
    assert_eq!(v2link["VpcLinkStatus"], json!("PENDING"), "{v2link}");
    assert_eq!(v2link["VpcLinkVersion"], json!("V2"));
    let v2id = v2link["VpcLinkId"].as_str().unwrap().to_string();
    let started = Instant::now();
    loop {
        let got: Value = v2(&s, &["get-vpc-link", "--vpc-link-id", &v2id]);
        if got["VpcLinkStatus"] == json!("AVAILABLE") {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "{got}");
    }
    let http_api = v2_http_api(&s, "private-v2");
    let listener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/2";
    let integration = v2(
        &s,
        &[
            "create-integration",
            "--api-id",
            &http_api,
            "--integration-type",
            "HTTP_PROXY",
            "--integration-method",
            "ANY",
            "--integration-uri",
            listener,
            "--connection-type",
            "VPC_LINK",
            "--connection-id",
            &v2id,
            "--payload-format-version",
            "1.0",
        ],
    )["IntegrationId"]
        .as_str()
        .unwrap()
        .to_string();
    v2_route(&s, &http_api, "GET /orders/{id}", &integration, &[]);
    v2_default_stage(&s, &http_api);
    let r = Http::get(s.port, &Server::exec_path(&http_api, "/orders/9?x=1")).send();
    assert_eq!(r.status, 200, "{r}\n{}", s.stderr());
    assert_eq!(
        (backend.last().path.as_str(), backend.last().query.as_str()),
        ("/orders/9", "x=1")
    );
    let updated = v2(
        &s,
        &["update-vpc-link", "--vpc-link-id", &v2id, "--name", "v2b"],
    );
    assert_eq!(updated["Name"], json!("v2b"));
    assert_eq!(
        v2(&s, &["get-vpc-links"])["Items"].as_array().map(Vec::len),
        Some(1)
    );
    v2(&s, &["delete-vpc-link", "--vpc-link-id", &v2id]);
    let gone = v2_err(&s, &["get-vpc-link", "--vpc-link-id", &v2id]);
    assert!(gone.stderr.contains("NotFoundException"), "{}", gone.stderr);
}

#[test]
fn tag_resource_retargets_a_link_and_refuses_a_bad_target_list() {
    let backend = Backend::start();
    let s = Server::start();
    let id = apigw(
        &s,
        &["create-vpc-link", "--name", "later", "--target-arns", NLB],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    until_available(&s, &id);
    let api = private_api(&s, &[("dev", &id)]);
    let r = s.invoke(&api, "/dev/one");
    assert_eq!(r.status, 500, "no targets yet: {r}");

    // v1: tag the link with its targets; the next request reaches them.
    let arn = format!("arn:aws:apigateway:us-east-1::/vpclinks/{id}");
    let target = backend.url().trim_start_matches("http://").to_string();
    apigw(
        &s,
        &[
            "tag-resource",
            "--resource-arn",
            &arn,
            "--tags",
            &format!("tollgate:target={target},team=edge"),
        ],
    );
    let tags = apigw(&s, &["get-tags", "--resource-arn", &arn]);
    assert_eq!(
        tags["tags"],
        json!({ "tollgate:target": target, "team": "edge" }),
        "{tags}"
    );
    let r = s.invoke(&api, "/dev/two");
    assert_eq!(r.status, 200, "{r}\n{}", s.stderr());
    assert_eq!(backend.last().path, "/two");

    // Not a target list: refused, and the link keeps its tags.
    let bad = apigw_err(
        &s,
        &[
            "tag-resource",
            "--resource-arn",
            &arn,
            "--tags",
            "tollgate:target=nowhere",
        ],
    );
    assert!(bad.stderr.contains("BadRequestException"), "{}", bad.stderr);
    assert_eq!(
        apigw(&s, &["get-tags", "--resource-arn", &arn])["tags"],
        tags["tags"]
    );
    apigw(
        &s,
        &[
            "untag-resource",
            "--resource-arn",
            &arn,
            "--tag-keys",
            "team",
        ],
    );
    let tags = apigw(&s, &["get-tags", "--resource-arn", &arn]);
    assert_eq!(tags["tags"], json!({ "tollgate:target": target }), "{tags}");
    let missing = apigw_err(
        &s,
        &[
            "get-tags",
            "--resource-arn",
            "arn:aws:apigateway:us-east-1::/vpclinks/nope00",
        ],
    );
    assert!(
        missing.stderr.contains("NotFoundException"),
        "{}",
        missing.stderr
    );

    // v2: the same through apigatewayv2.
    let v2id = v2(
        &s,
        &[
            "create-vpc-link",
            "--name",
            "v2",
            "--subnet-ids",
            "subnet-1",
        ],
    )["VpcLinkId"]
        .as_str()
        .unwrap()
        .to_string();
    let v2arn = format!("arn:aws:apigateway:us-east-1::/vpclinks/{v2id}");
    v2(
        &s,
        &[
            "tag-resource",
            "--resource-arn",
            &v2arn,
            "--tags",
            &format!("tollgate:target={target}"),
        ],
    );
    let got = v2(&s, &["get-tags", "--resource-arn", &v2arn]);
    assert_eq!(got["Tags"], json!({ "tollgate:target": target }), "{got}");
    let link = v2(&s, &["get-vpc-link", "--vpc-link-id", &v2id]);
    assert_eq!(link["Tags"], json!({ "tollgate:target": target }), "{link}");
}
