//! HTTP APIs' first-class AWS service integrations (`integrationSubtype`): which call each
//! subtype makes and how its `requestParameters` (the action's parameters, e.g. `QueueUrl`
//! and `MessageBody`) become the request. Resolved when the deployment is compiled; the
//! values are rendered per request and shaped here.

use base64::Engine as _;
use bytes::Bytes;
use http::header::{HeaderName, CONTENT_TYPE};
use http::{HeaderMap, Method};
use serde_json::{Map, Value};

use super::wire::{push_pair, set_header, ServiceCall, UNRESERVED};

/// How a parameter's rendered text goes into a JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Text,
    /// A number when it reads as one.
    Integer,
    /// JSON when it parses (attribute maps, lists), else text.
    Json,
    /// Base64-encoded (a Kinesis record's `Data`).
    Blob,
}

/// What the call looks like on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    /// A JSON-protocol action; `entries` wraps the parameters as `{"Entries": [{...}]}`.
    Json {
        target: &'static str,
        version: &'static str,
        entries: bool,
    },
    /// AppConfig's `GET /applications/{}/environments/{}/configurations/{}`.
    AppConfig,
}

/// One subtype.
#[derive(Debug)]
pub struct Subtype {
    pub name: &'static str,
    pub service: &'static str,
    /// The endpoint's first label when it is not the service's (`sync-states`).
    host_prefix: Option<&'static str>,
    wire: Wire,
    pub parameters: &'static [(&'static str, Shape)],
}

use Shape::{Blob, Integer, Json, Text};

const SQS: Wire = Wire::Json {
    target: "AmazonSQS.",
    version: "1.0",
    entries: false,
};
const STATES: Wire = Wire::Json {
    target: "AWSStepFunctions.",
    version: "1.0",
    entries: false,
};

/// StartExecution's and StartSyncExecution's parameters.
const START_EXECUTION: &[(&str, Shape)] = &[
    ("StateMachineArn", Text),
    ("Name", Text),
    ("Input", Text),
    ("TraceHeader", Text),
];

const SUBTYPES: [Subtype; 10] = [
    Subtype {
        name: "SQS-SendMessage",
        service: "sqs",
        host_prefix: None,
        wire: SQS,
        parameters: &[
            ("QueueUrl", Text),
            ("MessageBody", Text),
            ("DelaySeconds", Integer),
            ("MessageAttributes", Json),
            ("MessageDeduplicationId", Text),
            ("MessageGroupId", Text),
            ("MessageSystemAttributes", Json),
        ],
    },
    Subtype {
        name: "SQS-ReceiveMessage",
        service: "sqs",
        host_prefix: None,
        wire: SQS,
        parameters: &[
            ("QueueUrl", Text),
            ("AttributeNames", Json),
            ("MaxNumberOfMessages", Integer),
            ("MessageAttributeNames", Json),
            ("ReceiveRequestAttemptId", Text),
            ("VisibilityTimeout", Integer),
            ("WaitTimeSeconds", Integer),
        ],
    },
    Subtype {
        name: "SQS-DeleteMessage",
        service: "sqs",
        host_prefix: None,
        wire: SQS,
        parameters: &[("QueueUrl", Text), ("ReceiptHandle", Text)],
    },
    Subtype {
        name: "SQS-PurgeQueue",
        service: "sqs",
        host_prefix: None,
        wire: SQS,
        parameters: &[("QueueUrl", Text)],
    },
    Subtype {
        name: "EventBridge-PutEvents",
        service: "events",
        host_prefix: None,
        wire: Wire::Json {
            target: "AWSEvents.PutEvents",
            version: "1.1",
            entries: true,
        },
        parameters: &[
            ("Detail", Text),
            ("DetailType", Text),
            ("Source", Text),
            ("Time", Text),
            ("EventBusName", Text),
            ("Resources", Json),
            ("TraceHeader", Text),
        ],
    },
    Subtype {
        name: "Kinesis-PutRecord",
        service: "kinesis",
        host_prefix: None,
        wire: Wire::Json {
            target: "Kinesis_20131202.PutRecord",
            version: "1.1",
            entries: false,
        },
        parameters: &[
            ("StreamName", Text),
            ("StreamARN", Text),
            ("Data", Blob),
            ("PartitionKey", Text),
            ("SequenceNumberForOrdering", Text),
            ("ExplicitHashKey", Text),
        ],
    },
    Subtype {
        name: "StepFunctions-StartExecution",
        service: "states",
        host_prefix: None,
        wire: STATES,
        parameters: START_EXECUTION,
    },
    Subtype {
        name: "StepFunctions-StartSyncExecution",
        service: "states",
        host_prefix: Some("sync-states"),
        wire: STATES,
        parameters: START_EXECUTION,
    },
    Subtype {
        name: "StepFunctions-StopExecution",
        service: "states",
        host_prefix: None,
        wire: STATES,
        parameters: &[("ExecutionArn", Text), ("Cause", Text), ("Error", Text)],
    },
    Subtype {
        name: "AppConfig-GetConfiguration",
        service: "appconfig",
        host_prefix: None,
        wire: Wire::AppConfig,
        parameters: &[
            ("Application", Text),
            ("Environment", Text),
            ("Configuration", Text),
            ("ClientId", Text),
            ("ClientConfigurationVersion", Text),
        ],
    },
];

impl Subtype {
    /// The subtype named `name`, if Tollgate calls it.
    pub fn named(name: &str) -> Option<&'static Subtype> {
        SUBTYPES.iter().find(|s| s.name == name)
    }

    /// The action (`SendMessage`) after the subtype's service prefix.
    fn action(&self) -> &'static str {
        self.name.split_once('-').map_or(self.name, |(_, a)| a)
    }

    /// The call for one request: `values` are the rendered parameters (those the
    /// subtype does not take are left out), in `region`.
    pub fn call<'a>(&'static self, region: &'a str, values: &[(&str, String)]) -> ServiceCall<'a> {
        let mut headers = HeaderMap::with_capacity(6);
        let value = |name: &str| {
            values
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.as_str())
        };
        let (method, path, query, body) = match self.wire {
            Wire::Json {
                target,
                version,
                entries,
            } => {
                let mut object = Map::new();
                for (name, shape) in self.parameters {
                    if let Some(v) = value(name) {
                        object.insert((*name).to_string(), shaped(v, *shape));
                    }
                }
                let body = if entries {
                    serde_json::json!({ "Entries": [Value::Object(object)] })
                } else {
                    Value::Object(object)
                };
                let target = if target.ends_with('.') {
                    format!("{target}{}", self.action())
                } else {
                    target.to_string()
                };
                set_header(
                    &mut headers,
                    HeaderName::from_static("x-amz-target"),
                    &target,
                );
                set_header(
                    &mut headers,
                    CONTENT_TYPE,
                    &format!("application/x-amz-json-{version}"),
                );
                let body = Bytes::from(body.to_string());
                (Method::POST, "/".to_string(), String::new(), body)
            }
            Wire::AppConfig => {
                let seg = |n| {
                    percent_encoding::utf8_percent_encode(value(n).unwrap_or_default(), UNRESERVED)
                        .to_string()
                };
                let path = format!(
                    "/applications/{}/environments/{}/configurations/{}",
                    seg("Application"),
                    seg("Environment"),
                    seg("Configuration")
                );
                let mut query = String::new();
                push_pair(
                    &mut query,
                    "client_id",
                    value("ClientId").unwrap_or_default(),
                );
                if let Some(v) = value("ClientConfigurationVersion") {
                    push_pair(&mut query, "client_configuration_version", v);
                }
                (Method::GET, path, query, Bytes::new())
            }
        };
        ServiceCall {
            method,
            region,
            service: self.service,
            subdomain: self.host_prefix,
            path,
            query,
            headers,
            body,
        }
    }
}

fn shaped(v: &str, shape: Shape) -> Value {
    match shape {
        Text => Value::String(v.to_string()),
        Integer => v
            .trim()
            .parse::<i64>()
            .map_or_else(|_| Value::String(v.to_string()), Value::from),
        Json => serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string())),
        Blob => Value::String(base64::engine::general_purpose::STANDARD.encode(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The call `subtype` makes with `values`, and its body as JSON (`Null` if none).
    fn call(subtype: &str, values: &[(&str, &str)]) -> (ServiceCall<'static>, Value) {
        let values: Vec<(&str, String)> = values.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let call = Subtype::named(subtype).unwrap().call("eu-west-1", &values);
        let body = serde_json::from_slice(&call.body).unwrap_or(Value::Null);
        (call, body)
    }

    #[test]
    fn send_message_is_a_json_protocol_call() {
        let (call, body) = call(
            "SQS-SendMessage",
            &[
                ("QueueUrl", "http://q/1/orders"),
                ("MessageBody", "hello"),
                ("DelaySeconds", "3"),
                ("Unknown", "x"),
            ],
        );
        assert_eq!(call.headers["x-amz-target"], "AmazonSQS.SendMessage");
        assert_eq!(call.headers["content-type"], "application/x-amz-json-1.0");
        assert_eq!(
            body,
            serde_json::json!({ "QueueUrl": "http://q/1/orders", "MessageBody": "hello", "DelaySeconds": 3 })
        );
    }

    #[test]
    fn put_events_wraps_one_entry() {
        let (call, body) = call(
            "EventBridge-PutEvents",
            &[("Detail", "{\"a\":1}"), ("Resources", "[\"r\"]")],
        );
        assert_eq!(call.headers["x-amz-target"], "AWSEvents.PutEvents");
        assert_eq!(
            body,
            serde_json::json!({ "Entries": [{ "Detail": "{\"a\":1}", "Resources": ["r"] }] })
        );
    }

    #[test]
    fn app_config_is_a_path_call() {
        let (call, _) = call(
            "AppConfig-GetConfiguration",
            &[
                ("Application", "app"),
                ("Environment", "prod env"),
                ("Configuration", "c"),
                ("ClientId", "me"),
            ],
        );
        assert_eq!(call.method, Method::GET);
        assert_eq!(
            call.path,
            "/applications/app/environments/prod%20env/configurations/c"
        );
        assert_eq!(call.query, "client_id=me");
        assert!(Subtype::named("SQS-Nothing").is_none());
    }
}
