//! TestInvokeMethod: runs one method of the current (undeployed) definition through the
//! pipeline, without authorization, and reports what happened.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::BodyExt;
use tollgate_model::test_invoke::{TestInvokeRequest, TestInvokeResponse};

use crate::compile::compile;
use crate::invocation::{Invocation, RequestBody};
use crate::pipeline::respond;
use crate::Gateway;

const TEST_STAGE: &str = "test-invoke-stage";

impl Gateway {
    pub async fn test_invoke(&self, req: TestInvokeRequest) -> TestInvokeResponse {
        let started = Instant::now();
        let deployment = compile(&req.definition, "test-invoke-deployment-id");
        let resource_path = req
            .definition
            .resources
            .get(&req.resource_id)
            .map(|r| r.path.clone())
            .unwrap_or_default();
        let path_and_query = req
            .path_with_query_string
            .clone()
            .filter(|p| p.starts_with('/'))
            .unwrap_or(resource_path.clone());
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
        let mut log = vec![
            format!("Execution log for request {request_id}"),
            format!(
                "{} : Starting execution for request: {request_id}",
                tollgate_model::time::clf_time(ctx.request_time_epoch)
            ),
            format!(
                "HTTP Method: {}, Resource Path: {}",
                req.http_method, resource_path
            ),
            format!("Method request path: {}", parts.uri.path()),
            format!(
                "Method request query string: {}",
                parts.uri.query().unwrap_or_default()
            ),
            format!("Method request headers: {:?}", req.headers),
            format!(
                "Method request body before transformations: {}",
                req.body.clone().unwrap_or_default()
            ),
        ];
        let body = RequestBody::Buffered(Bytes::from(req.body.clone().unwrap_or_default()));
        let inv = Invocation {
            parts,
            deployment: &deployment,
            stage_variables: &req.stage_variables,
            routing_path: &routing_path,
            ctx,
            remote,
            limits: None,
            tls: false,
        };
        let (resp, ctx) = self.run(inv, body).await;
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        let mut headers = BTreeMap::new();
        let mut multi: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in &parts.headers {
            let v = v.to_str().unwrap_or_default().to_string();
            headers.insert(k.as_str().to_string(), v.clone());
            multi.entry(k.as_str().to_string()).or_default().push(v);
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        // AWS's lines around the integration call, for integrations that have an endpoint.
        let endpoint = ctx.execution_log.as_deref().cloned().unwrap_or_default();
        if let Some(sent) = &endpoint.endpoint_request_body {
            log.push(format!(
                "Endpoint request body after transformations: {}",
                String::from_utf8_lossy(sent)
            ));
        }
        if let Some(received) = &endpoint.endpoint_response_body {
            log.push(format!(
                "Endpoint response body before transformations: {}",
                String::from_utf8_lossy(received)
            ));
        }
        if let Some(e) = &ctx.error {
            log.push(format!(
                "Gateway response type: {} with status code: {}",
                e.response_type.as_str(),
                parts.status.as_u16()
            ));
            log.push(format!("Gateway response body: {body}"));
        } else {
            log.push(format!(
                "Method response body after transformations: {body}"
            ));
            log.push(format!("Method response headers: {headers:?}"));
            log.push("Successfully completed execution".into());
        }
        log.push(format!(
            "Method completed with status: {}",
            parts.status.as_u16()
        ));
        TestInvokeResponse {
            status: parts.status.as_u16(),
            body,
            headers,
            multi_value_headers: multi,
            log: log.join("\n") + "\n",
            latency: started.elapsed().as_millis() as i64,
        }
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
