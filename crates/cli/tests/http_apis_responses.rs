//! RouteResponses and IntegrationResponses on HTTP APIs (control-plane-v2.md §3.2 and
//! §3.3: WebSocket only): creating one is AWS's BadRequestException, lists are empty and
//! any one id is unknown, once the API and its route or integration are found; through
//! the `aws apigatewayv2` CLI.

mod common;

use common::*;

#[test]
fn http_apis_take_no_route_or_integration_responses() {
    let s = Server::start();
    let api = v2_http_api(&s, "r");
    let integration = v2_http_proxy(&s, &api, "GET", "http://127.0.0.1:9/", &[]);
    let route = v2_route(&s, &api, "GET /a", &integration, &[]);

    let e = v2_err(
        &s,
        &[
            "create-route-response",
            "--api-id",
            &api,
            "--route-id",
            &route,
            "--route-response-key",
            "$default",
        ],
    );
    assert_cli_error(
        &e,
        "BadRequestException",
        "RouteResponses are supported only for WebSocket APIs",
    );
    let e = v2_err(
        &s,
        &[
            "create-integration-response",
            "--api-id",
            &api,
            "--integration-id",
            &integration,
            "--integration-response-key",
            "$default",
        ],
    );
    assert_cli_error(
        &e,
        "BadRequestException",
        "IntegrationResponses are supported only for WebSocket APIs",
    );

    let items = v2(
        &s,
        &[
            "get-route-responses",
            "--api-id",
            &api,
            "--route-id",
            &route,
        ],
    );
    assert_eq!(items["Items"], serde_json::json!([]), "{items}");
    let items = v2(
        &s,
        &[
            "get-integration-responses",
            "--api-id",
            &api,
            "--integration-id",
            &integration,
        ],
    );
    assert_eq!(items["Items"], serde_json::json!([]), "{items}");

    let e = v2_err(
        &s,
        &[
            "get-route-response",
            "--api-id",
            &api,
            "--route-id",
            &route,
            "--route-response-id",
            "abc123",
        ],
    );
    assert_cli_error(
        &e,
        "NotFoundException",
        "Invalid RouteResponse identifier specified 000000000000:abc123",
    );
    let e = v2_err(
        &s,
        &[
            "delete-integration-response",
            "--api-id",
            &api,
            "--integration-id",
            &integration,
            "--integration-response-id",
            "abc123",
        ],
    );
    assert_cli_error(
        &e,
        "NotFoundException",
        "Invalid IntegrationResponse identifier specified 000000000000:abc123",
    );
    // The parent is looked up first.
    let e = v2_err(
        &s,
        &[
            "get-route-responses",
            "--api-id",
            &api,
            "--route-id",
            "nope99",
        ],
    );
    assert_cli_error(
        &e,
        "NotFoundException",
        "Invalid Route identifier specified 000000000000:nope99",
    );
}
