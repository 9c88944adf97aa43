//! Mapping templates through the real server (vtl.md, request-pipeline.md §2, §4): request
//! templates render with `$input`, `$util`, `$context` and `$stageVariables` before the
//! integration; response templates render the backend's body; `responseOverride` changes
//! status and headers; a template that fails at run time answers 500.

mod common;

use common::*;
use serde_json::json;

#[test]
fn request_and_response_templates_render_with_vtl() {
    let backend = Backend::start();
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("templates");

    // HTTP (non-proxy): the request template builds the backend's body from the request.
    let orders = cp.resource(&api, &root, "orders");
    let order = cp.resource(&api, &orders, "{id}");
    cp.put_method(&api, &order, "POST", json!({ "authorizationType": "NONE" }));
    cp.put_integration(
        &api,
        &order,
        "POST",
        json!({
            "type": "HTTP",
            "httpMethod": "POST",
            "uri": format!("{}/echo", backend.url()),
            "requestParameters": { "integration.request.header.x-order-qty": "method.request.body.qty" },
            "requestTemplates": {
                "application/json": "#set($context.requestOverride.header.X-Order = $input.params('id'))#set($context.requestOverride.querystring.source = 'template')#set($b = $input.path('$'))\n{\"id\": \"$input.params('id')\", \"qty\": $b.qty, \"note\": \"$util.escapeJavaScript($input.params('note'))\", \"stage\": \"$context.stage\", \"env\": \"$stageVariables.env\", \"tags\": [#foreach($t in $b.tags)\"$t.toUpperCase()\"#if($foreach.hasNext),#end#end]}"
            }
        }),
    );
    cp.put_method_response(&api, &order, "POST", "200");
    cp.put_integration_response(
        &api,
        &order,
        "POST",
        "200",
        json!({
            "responseParameters": { "method.response.header.X-Method": "integration.response.body.method" },
            "responseTemplates": { "application/json": "#set($r = $input.path('$'))\n{\"received\": $input.json('$.method'), \"status\": \"ok\"}" }
        }),
    );

    // MOCK: the status comes from the rendered request template; a 4xx integration
    // response overrides status and headers from its template.
    let check = cp.resource(&api, &root, "check");
    cp.put_method(&api, &check, "GET", json!({ "authorizationType": "NONE" }));
    cp.put_integration(
        &api,
        &check,
        "GET",
        json!({ "type": "MOCK", "requestTemplates": { "application/json": "#if($input.params('fail') == 'yes'){\"statusCode\": 404}#else{\"statusCode\": 200}#end" } }),
    );
    cp.put_method_response(&api, &check, "GET", "200");
    cp.put_integration_response(
        &api,
        &check,
        "GET",
        "200",
        json!({ "responseTemplates": { "application/json": "{\"ok\": true}" } }),
    );
    cp.put_integration_response(
        &api,
        &check,
        "GET",
        "404",
        json!({
            "selectionPattern": "4\\d{2}",
            "responseTemplates": { "application/json": "#set($context.responseOverride.status = 418)#set($context.responseOverride.header.X-Why = 'teapot'){\"error\": \"nope\"}" }
        }),
    );

    // A template that throws at run time (index out of range) is a 500, never a crash.
    let broken = cp.resource(&api, &root, "broken");
    cp.put_method(&api, &broken, "GET", json!({ "authorizationType": "NONE" }));
    cp.put_integration(
        &api,
        &broken,
        "GET",
        json!({ "type": "MOCK", "requestTemplates": { "application/json": "{\"statusCode\": 200}" } }),
    );
    cp.put_integration_response(
        &api,
        &broken,
        "GET",
        "200",
        json!({ "responseTemplates": { "application/json": "$input.params('x').substring(5)" } }),
    );
    cp.deploy(&api, "dev");
    cp.patch_stage(
        &api,
        "dev",
        json!([{ "op": "replace", "path": "/variables/env", "value": "test" }]),
    );

    let r = Http::post(
        s.port,
        &Server::exec_path(&api, "/dev/orders/42?note=say%20%22hi%22"),
    )
    .header("Content-Type", "application/json")
    .body(r#"{"qty": 3, "tags": ["a", "b"]}"#)
    .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        r.json(),
        json!({ "received": "POST", "status": "ok" }),
        "{r}"
    );
    assert_eq!(
        r.header("x-method"),
        Some("POST"),
        "integration.response.body mapping: {r}"
    );
    let seen = backend.last();
    assert_eq!(
        seen.header("x-order-qty"),
        Some("3"),
        "method.request.body mapping"
    );
    assert_eq!(seen.header("x-order"), Some("42"), "requestOverride.header");
    assert!(
        seen.query.contains("source=template"),
        "requestOverride.querystring: {}",
        seen.query
    );
    let sent: serde_json::Value = serde_json::from_slice(seen.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({ "id": "42", "qty": 3, "note": "say \"hi\"", "stage": "dev", "env": "test", "tags": ["A", "B"] })
    );

    let ok = s.invoke(&api, "/dev/check");
    assert_eq!((ok.status, ok.json()), (200, json!({ "ok": true })), "{ok}");
    let teapot = s.invoke(&api, "/dev/check?fail=yes");
    assert_eq!(teapot.status, 418, "{teapot}");
    assert_eq!(teapot.header("x-why"), Some("teapot"), "{teapot}");
    assert_eq!(teapot.json(), json!({ "error": "nope" }));

    let r = s.invoke(&api, "/dev/broken");
    assert_eq!(r.status, 500, "{r}");
    assert_eq!(r.json(), json!({ "message": "Internal server error" }));
}
