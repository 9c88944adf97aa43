//! GetRestApis lists APIs in creation order, as AWS does (issue 20; recorded in
//! `test_apigateway_api.snapshot.json`, `test_list_and_delete_apis`: the first API created
//! is listed first), page after page and across restarts.

mod common;

use common::*;
use serde_json::{json, Value};

/// Creates a REST API whose id is `id` (LocalStack's `_custom_id_` tag), so ids can sort
/// against creation order.
fn create_with_id(cp: &Cp, id: &str) {
    let body = json!({ "name": id, "tags": { "_custom_id_": id } });
    let made = cp.ok("POST", "/restapis", Some(&body));
    assert_eq!(made["id"], id, "{made:#}");
}

/// Every API id GetRestApis lists, following positions `limit` at a time.
fn listed(cp: &Cp, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let limit = limit.to_string();
        let mut query = vec![("limit", limit.as_str())];
        if let Some(p) = &position {
            query.push(("position", p.as_str()));
        }
        let r = cp.request("GET", "/restapis", &query, None);
        assert_eq!(r.status, 200, "{r}");
        let page = r.json();
        let items = page["item"].as_array().cloned().unwrap_or_default();
        ids.extend(items.iter().map(|a| str_of(a, "id")));
        match page.get("position").and_then(Value::as_str) {
            Some(p) => position = Some(p.to_string()),
            None => return ids,
        }
        assert!(ids.len() < 100, "pagination does not end: {ids:?}");
    }
}

#[test]
fn get_rest_apis_lists_by_creation_across_pages_and_restarts() {
    let mut s = Server::start();
    let created = ["zz-first", "mm-second", "aa-third", "qq-fourth", "bb-fifth"];
    {
        let cp = Cp::new(&s);
        for id in created {
            create_with_id(&cp, id);
        }
        assert_eq!(listed(&cp, 25), created, "one page");
        assert_eq!(listed(&cp, 2), created, "pages of two");
        // The aws CLI (following positions itself) sees the same order.
        let cli = apigw(&s, &["get-rest-apis", "--page-size", "2"]);
        let ids: Vec<String> = cli["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|a| str_of(a, "id"))
            .collect();
        assert_eq!(ids, created, "{cli:#}");
        // A deleted API leaves the others' order as it was.
        let deleted = cp.call("DELETE", "/restapis/mm-second", None);
        assert_eq!(deleted.status, 202, "{deleted}");
    }
    s.kill9();
    let s = Server::start_in(s.dir());
    let cp = Cp::new(&s);
    let kept = ["zz-first", "aa-third", "qq-fourth", "bb-fifth"];
    assert_eq!(listed(&cp, 3), kept, "after a restart");
    create_with_id(&cp, "cc-sixth");
    let mut all = kept.to_vec();
    all.push("cc-sixth");
    assert_eq!(listed(&cp, 25), all, "a new API comes last");
}
