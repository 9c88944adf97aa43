//! One client message (websocket.md §2, §3, §6): throttling, route selection, the route's
//! integration, and what the client is sent back: the integration's answer on a two-way
//! route, an error frame when no route matches or the integration fails, else nothing.

use std::sync::Arc;

use bytes::Bytes;
use tollgate_model::selection::{body_value, Expression, Variable};
use tollgate_model::v2::DEFAULT;
use tollgate_store::limit::Verdict;

use super::event::{Event, EventKind, Shared};
use super::integrate::{self, Call};
use crate::compile::websocket::WsBodyValidation;
use crate::connections::Outbound;
use crate::metrics;

/// The error frame of websocket.md §6, with AWS's spacing (a space after the first colon
/// only).
pub fn error_frame(message: &str, connection_id: &str, request_id: &str) -> Bytes {
    Bytes::from(format!(
        "{{\"message\": \"{message}\", \"connectionId\":\"{connection_id}\", \"requestId\":\"{request_id}\"}}"
    ))
}

/// The route key a message selects: the route selection expression over the message's
/// JSON body; a body that is binary or not JSON selects `$default`.
fn route_key(shared: &Shared, json: Option<&serde_json::Value>) -> String {
    match json {
        Some(json) => select(shared, &shared.stage.deployment.route_selection, Some(json)),
        None => DEFAULT.to_string(),
    }
}

/// A message-time selection expression's value: the body's JSON, the connection's
/// `$context` and the stage variables.
fn select(shared: &Shared, e: &Expression, json: Option<&serde_json::Value>) -> String {
    let info = &shared.info;
    e.evaluate(|v| match v {
        Variable::Body(steps) => json.and_then(|j| body_value(j, steps)),
        Variable::Context(name) => match name.as_str() {
            "connectionId" => Some(info.connection_id.to_string()),
            "stage" => Some(info.stage.to_string()),
            "apiId" => Some(info.api_id.to_string()),
            _ => None,
        },
        Variable::StageVariable(n) => shared.stage.variables.get(n).cloned(),
        _ => None,
    })
}

/// The route's request validation (websocket.md §3): the model the model selection
/// expression names (else `$default`) must accept the body. `Err` is the error frame's
/// message: `Invalid request body`, or an internal error for a model that cannot be used.
fn validate(
    shared: &Shared,
    v: &WsBodyValidation,
    body: &[u8],
    json: Option<&serde_json::Value>,
) -> Result<(), (u16, &'static str)> {
    let key = v
        .selection
        .as_ref()
        .map(|e| select(shared, e, json))
        .unwrap_or_else(|| DEFAULT.to_string());
    const INVALID: (u16, &str) = (400, "Invalid request body");
    let model = v.model(&key).ok_or(INVALID)?;
    crate::pipeline::request_validation::check_body(model, body).map_err(|e| {
        if e.kind == tollgate_model::GatewayResponseType::BadRequestBody {
            INVALID
        } else {
            (500, "Internal server error")
        }
    })
}

/// Handles one message; its answer, if any, goes out on the connection's queue.
pub async fn handle(shared: Arc<Shared>, body: Bytes, binary: bool) {
    let request_id = crate::request_ids::extended_request_id();
    let message_id = crate::request_ids::extended_request_id();
    let conn_id = &*shared.info.connection_id;
    let reply = |data: Bytes, text: bool| {
        let conn = shared.conn.clone();
        async move {
            // Waits for room in the queue: the session drains it while this runs.
            if conn
                .send_wait(Outbound::Message { data, text })
                .await
                .is_ok()
            {
                conn.touch();
            }
        }
    };
    // A message counts in its route's series; one refused before it has a route, in the
    // stage's (as a client error).
    let refused = || {
        let stage = shared.stage.metrics.series(None);
        stage.add(metrics::WS_MESSAGES, 1);
        stage.add(metrics::WS_CLIENT_ERRORS, 1);
    };
    let now = tollgate_store::throttle::now_ns();
    if shared.stage.account.take(now).verdict().await != Verdict::Admit {
        refused();
        reply(error_frame("Too Many Requests", conn_id, &request_id), true).await;
        return;
    }
    if let Some(key) = &shared.key {
        if let Err(e) = crate::pipeline::throttle::spend_plan(key).await {
            refused();
            reply(error_frame(&e.message, conn_id, &request_id), true).await;
            return;
        }
    }
    // Parsed once, for route selection and the integration's selection expressions.
    let json = (!binary)
        .then(|| serde_json::from_slice::<serde_json::Value>(&body).ok())
        .flatten();
    let key = route_key(&shared, json.as_ref());
    let Some(route) = shared.stage.deployment.route(&key).cloned() else {
        refused();
        reply(error_frame("Forbidden", conn_id, &request_id), true).await;
        return;
    };
    let series = shared.stage.metrics.series(Some(&*route.key));
    series.add(metrics::WS_MESSAGES, 1);
    if let Some(bucket) = shared.stage.route_buckets.get(&*route.key) {
        if bucket.take(now).verdict().await != Verdict::Admit {
            reply(error_frame("Too Many Requests", conn_id, &request_id), true).await;
            return;
        }
    }
    let event = Event {
        conn: &shared.info,
        route_key: &route.key,
        request_id: &request_id,
        time_ms: tollgate_model::time::now_epoch_millis(),
        kind: EventKind::Message {
            message_id: &message_id,
            body: &body,
            binary,
        },
    };
    if let Some(v) = &route.body_validation {
        if let Err((status, message)) = validate(&shared, v, &body, json.as_ref()) {
            let kind = if status < 500 {
                metrics::WS_CLIENT_ERRORS
            } else {
                metrics::WS_EXECUTION_ERRORS
            };
            series.add(kind, 1);
            shared.log(&event, status, Some(message));
            reply(error_frame(message, conn_id, &request_id), true).await;
            return;
        }
    }
    let Some(integration) = route.integration.as_ref() else {
        reply(
            error_frame("Internal server error", conn_id, &request_id),
            true,
        )
        .await;
        return;
    };
    let call = Call {
        event: &event,
        body: &body,
        json: json.as_ref(),
        stage_variables: &shared.stage.variables,
        functions: shared.functions.as_ref(),
        aws: &shared.aws,
    };
    match integrate::run_counted(&call, integration, series).await {
        Ok(answer) => {
            shared.log(&event, answer.status, None);
            if route.two_way {
                series.add(metrics::WS_MESSAGES, 1);
                let text = std::str::from_utf8(&answer.body).is_ok();
                reply(answer.body, text).await;
            }
        }
        Err(f) => {
            shared.log(&event, f.status(), Some(f.message()));
            reply(error_frame(f.message(), conn_id, &request_id), true).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::error_frame;

    #[test]
    fn error_frames_have_aws_spacing() {
        assert_eq!(
            &error_frame("Forbidden", "L0SM9cOFvHcCIhw=", "abc=")[..],
            br#"{"message": "Forbidden", "connectionId":"L0SM9cOFvHcCIhw=", "requestId":"abc="}"#
        );
    }
}
