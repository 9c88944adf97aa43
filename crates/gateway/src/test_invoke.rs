//! TestInvokeMethod: runs one method of the current (undeployed) definition through the
//! pipeline, without authorization, and reports what happened in AWS's log format. The
//! method is the resource's (exact, else `ANY`), whatever path it is given.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::BodyExt;
use tollgate_model::test_invoke::{TestInvokeRequest, TestInvokeResponse};

use crate::compile::compile;
use crate::execution_log::{endpoint_lines, java_map, method_request_lines, outcome_lines};
use crate::invocation::{Invocation, RequestBody};
use crate::pipeline::method_request::{parse_query, Routed};
use crate::pipeline::respond;
use crate::router::template_params;
use crate::Gateway;

const TEST_STAGE: &str = "test-invoke-stage";

impl Gateway {
    pub async fn test_invoke(&self, req: TestInvokeRequest) -> TestInvokeResponse {
        let started = Instant::now();
        let deployment = compile(&req.definition, "test-invoke-deployment-id");
        let Some(route) = deployment.router.route_of(&req.resource_id).cloned() else {
            return failed("Invalid Resource identifier specified", started);
        };
        let Some(method) = route.method(&req.http_method).cloned() else {
            return failed("Invalid Method identifier specified", started);
        };
        // Without a path, the resource's own template is the path (its parameters then
        // take their literal `{name}`); a path that does not fit the resource still runs
        // the resource's method, with no path parameters (recorded).
        let path_and_query = req
            .path_with_query_string
            .clone()
            .filter(|p| p.starts_with('/'))
            .unwrap_or_else(|| route.resource_path.to_string());
        let mut builder = http::Request::builder()
            .method(req.http_method.as_str())
            .uri(&path_and_query);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        for (k, vs) in &req.multi_value_headers {
            for v in vs {
                builder = builder.header(k, v);
            }
        }
        let (parts, _) = match builder.body(()) {
            Ok(r) => r.into_parts(),
            Err(e) => return failed(&format!("Invalid request: {e}"), started),
        };
        let routing_path = parts.uri.path().to_string();
        let path_params = template_params(&route.resource_path, &routing_path);
        let query = parse_query(parts.uri.query());
        let stage_name: std::sync::Arc<str> = TEST_STAGE.into();
        let remote: SocketAddr = ([127, 0, 0, 1], 0).into();
        let mut ctx = respond::new_context(
            &parts,
            "",
            "testPrefix.testDomainName",
            &stage_name,
            &deployment,
            None,
            remote,
        );
        ctx.execution_log = Some(Box::default());
        let request_id = ctx.request_id.clone();
        let mut log = Log::new(ctx.request_time_epoch, &request_id);
        for text in method_request_lines(
            &req.http_method,
            &routing_path,
            path_params.iter().map(|(k, v)| (&**k, v.as_str())),
            query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            req.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ) {
            log.line(text);
        }
        log.line(format!(
            "Method request body before transformations: {}",
            req.body.clone().unwrap_or_default()
        ));
        let body = RequestBody::Buffered(Bytes::from(req.body.clone().unwrap_or_default()));
        let inv = Invocation {
            parts,
            deployment: &deployment,
            stage_variables: &req.stage_variables,
            routing_path: &routing_path,
            ctx,
            remote,
            limits: None,
            logging: None,
            cache: None,
            tls: false,
            backend_tls: None,
            raw_head: None,
        };
        let routed = Routed {
            route,
            method,
            path_params,
        };
        let (resp, ctx) = self.run_routed(inv, body, routed).await;
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        let mut headers = BTreeMap::new();
        let mut multi: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in &parts.headers {
            let name = canonical_header(k.as_str());
            let v = v.to_str().unwrap_or_default().to_string();
            headers.insert(name.clone(), v.clone());
            multi.entry(name).or_default().push(v);
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        let endpoint = ctx.execution_log.as_deref().cloned().unwrap_or_default();
        // AWS lists the trace id first, then the headers in the order the answer has them.
        let shown: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    canonical_header(k.as_str()),
                    v.to_str().unwrap_or_default().into(),
                )
            })
            .collect();
        let traced = shown.iter().filter(|(k, _)| k == "X-Amzn-Trace-Id");
        let others = shown.iter().filter(|(k, _)| k != "X-Amzn-Trace-Id");
        let headers_text = java_map(traced.chain(others).map(|(k, v)| (k.as_str(), v.as_str())));
        let outcome = outcome_lines(
            ctx.error.as_ref(),
            parts.status.as_u16(),
            Some((&body, &headers_text)),
        );
        for text in endpoint_lines(&endpoint).into_iter().chain(outcome) {
            log.line(text);
        }
        TestInvokeResponse {
            status: parts.status.as_u16(),
            body,
            headers,
            multi_value_headers: multi,
            log: log.finish(),
            latency: started.elapsed().as_millis() as i64,
        }
    }
}

/// TestInvokeMethod's log: a first line naming the request, then lines stamped as Java's
/// `Date.toString()` prints (`Mon Sep 29 19:28:50 UTC 2025 : ...`), ending in a newline.
struct Log {
    stamp: String,
    lines: Vec<String>,
}

impl Log {
    fn new(epoch_millis: i64, request_id: &str) -> Log {
        let stamp = tollgate_model::time::java_date(epoch_millis);
        let mut log = Log {
            stamp,
            lines: vec![format!("Execution log for request {request_id}")],
        };
        log.line(format!("Starting execution for request: {request_id}"));
        log
    }

    fn line(&mut self, text: String) {
        self.lines.push(format!("{} : {text}", self.stamp));
    }

    fn finish(self) -> String {
        self.lines.join("\n") + "\n"
    }
}

/// A response header's name as AWS reports it: `Content-Type`, `x-amzn-ErrorType`.
fn canonical_header(name: &str) -> String {
    match name {
        "x-amzn-errortype" => "x-amzn-ErrorType".into(),
        "x-amzn-requestid" => "x-amzn-RequestId".into(),
        "x-amz-apigw-id" => name.into(),
        _ => name
            .split('-')
            .map(|part| {
                let mut c = part.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

fn failed(message: &str, started: Instant) -> TestInvokeResponse {
    TestInvokeResponse {
        status: 400,
        body: serde_json::json!({ "message": message }).to_string(),
        headers: BTreeMap::new(),
        multi_value_headers: BTreeMap::new(),
        log: format!("{message}\n"),
        latency: started.elapsed().as_millis() as i64,
    }
}
