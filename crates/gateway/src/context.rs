//! `$context`: what API Gateway knows about one request, filled in as the pipeline runs,
//! and the one table of its keys ([`REST`]): their names, how each is read, and their order
//! in each view (a mapping template's `$context`, the Lambda proxy event's
//! `requestContext`). Parameter mappings, gateway responses and access logs read keys by
//! name through [`RequestContext::var`]; the views through [`RequestContext::object`].

mod substitution;
pub use substitution::{compile_substitution, Piece};

use std::borrow::Cow;
use std::sync::Arc;

use tollgate_model::GatewayResponseType;

/// The error being answered, for `$context.error.*`.
#[derive(Debug, Clone)]
pub struct ErrorContext {
    pub response_type: GatewayResponseType,
    pub message: Cow<'static, str>,
    pub validation_error: Option<String>,
    /// [`crate::error::GatewayError::log_detail`].
    pub log_detail: Option<&'static str>,
}

/// What an authorizer let through, for `$context.authorizer.*`: a Lambda authorizer's
/// output (its principal, the context values it returned as text, the way REST APIs hand
/// them on, and its `usageIdentifierKey`), shared with the result cache rather than copied
/// per request; or a Cognito authorizer's verified claims (`$context.authorizer.claims.*`;
/// the authorizer object is then `{"claims": {...}}`).
#[derive(Debug, Clone, Default)]
pub struct AuthorizerContext {
    pub lambda: Option<Arc<tollgate_authorizers::AuthorizerOutput>>,
    pub claims: Option<tollgate_authorizers::Claims>,
}

impl AuthorizerContext {
    pub fn principal_id(&self) -> &str {
        self.lambda
            .as_deref()
            .map_or("", |o| o.principal_id.as_str())
    }

    pub fn values(&self) -> &[(String, String)] {
        self.lambda.as_deref().map_or(&[], |o| o.context.as_slice())
    }

    /// The API key the authorizer names, for `apiKeySource: AUTHORIZER`; not part of
    /// `$context`.
    pub fn usage_identifier_key(&self) -> Option<&str> {
        self.lambda
            .as_deref()
            .and_then(|o| o.usage_identifier_key.as_deref())
    }
}

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub extended_request_id: String,
    pub api_id: Arc<str>,
    pub stage: Arc<str>,
    pub deployment_id: Arc<str>,
    pub resource_id: Option<Arc<str>>,
    pub resource_path: Option<Arc<str>>,
    pub http_method: http::Method,
    /// `/{stage}/...` as the client sent it (AWS's `$context.path`).
    pub path: String,
    pub protocol: &'static str,
    pub request_time_epoch: i64,
    pub source_ip: String,
    pub user_agent: Option<String>,
    pub domain_name: String,
    pub domain_prefix: String,
    pub is_canary: Option<bool>,
    /// Whether the response cache answered (`None`: the method does not cache), for
    /// metrics (`CacheHitCount`, `CacheMissCount`).
    pub response_cache: Option<CacheOutcome>,
    /// The request's trace; sampled: the caller's decision, else `tracingEnabled`'s.
    pub trace: tollgate_traces::TraceContext,
    pub sampled: bool,
    /// `X-Amzn-Trace-Id` as integrations get it (`$context.xrayTraceId`).
    pub trace_id: String,
    /// A sampled request's spans when `--otlp-endpoint` is set (else nothing is recorded).
    pub spans: Option<Box<tollgate_traces::Recorder>>,
    pub status: u16,
    pub response_length: u64,
    pub response_latency_ms: u64,
    pub integration_latency_ms: Option<u64>,
    pub integration_status: Option<u16>,
    pub error: Option<ErrorContext>,
    /// (key id, key value) once the API key phase accepted a key.
    pub api_key: Option<(Arc<str>, Box<str>)>,
    /// What the authorization phase's authorizer let through; `None` without one.
    pub authorizer: Option<Box<AuthorizerContext>>,
    /// The IAM caller of an `AWS_IAM` method (`$context.identity.accessKey`, `userArn`,
    /// ...); `None` for every other request.
    pub iam: Option<Arc<crate::iam::CallerIdentity>>,
    /// TestInvokeMethod's record of what went to and came from the endpoint; `None` for
    /// live requests, which never pay for copying bodies.
    pub execution_log: Option<Box<ExecutionLog>>,
    /// The custom domain mapping key that took the request
    /// (`$context.customDomain.basePathMatched`); `None` off custom domains.
    pub base_path_matched: Option<Box<str>>,
    /// A mutual TLS client's certificate (`$context.identity.clientCert.*`).
    pub client_cert: Option<Arc<crate::domains::ClientCert>>,
}

/// What the response cache did for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Miss,
}

/// What an execution log shows of a request: the method request (recorded when it is
/// routed) and the bodies around the integration call.
#[derive(Debug, Clone, Default)]
pub struct ExecutionLog {
    /// The method request's lines (`crate::execution_log::method_request_lines`).
    pub method_request: Vec<String>,
    /// "Endpoint request body after transformations".
    pub endpoint_request_body: Option<bytes::Bytes>,
    /// "Endpoint response body before transformations".
    pub endpoint_response_body: Option<bytes::Bytes>,
    /// The call to the endpoint, when one answered.
    pub exchange: Option<EndpointExchange>,
}

/// What an execution log shows of one answered endpoint call.
#[derive(Debug, Clone, Default)]
pub struct EndpointExchange {
    /// "Endpoint request URI" and "Sending request to".
    pub uri: String,
    /// "Endpoint request headers", as a Java map (HTTP backends: what was sent).
    pub request_headers: Option<String>,
    pub status: u16,
    pub latency_ms: u64,
    /// "Endpoint response headers", as a Java map.
    pub response_headers: String,
}

impl RequestContext {
    /// Records the endpoint request body when an execution log is kept.
    pub fn log_endpoint_request(&mut self, body: &bytes::Bytes) {
        if let Some(log) = &mut self.execution_log {
            log.endpoint_request_body = Some(body.clone());
        }
    }

    /// Records the answered endpoint call when an execution log is kept.
    pub fn log_exchange(&mut self, exchange: EndpointExchange) {
        if let Some(log) = &mut self.execution_log {
            log.exchange = Some(exchange);
        }
    }

    /// Records the endpoint response body when an execution log is kept.
    pub fn log_endpoint_response(&mut self, body: &bytes::Bytes) {
        if let Some(log) = &mut self.execution_log {
            log.endpoint_response_body = Some(body.clone());
        }
    }
}

impl RequestContext {
    /// `$context.{name}` as text, or `None` when it has no value.
    pub fn var(&self, name: &str) -> Option<Cow<'_, str>> {
        let (group, member) = Group::of(name);
        if group == Group::Authorizer {
            let a = self.authorizer.as_deref()?;
            if let (Some(claims), Some(name)) = (&a.claims, member.strip_prefix("claims.")) {
                return claims
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| Cow::Borrowed(v.as_str()));
            }
            return match member {
                "principalId" if a.claims.is_none() => Some(Cow::Borrowed(a.principal_id())),
                _ => a
                    .values()
                    .iter()
                    .find(|(k, _)| k == member)
                    .map(|(_, v)| Cow::Borrowed(v.as_str())),
            };
        }
        match REST[rest_key(name)?].read {
            Read::Value(f) => f(self).map(CtxValue::into_text),
            _ => None,
        }
    }

    /// The `$context` object a view shows, in the view's key order.
    pub fn object(&self, view: View) -> serde_json::Map<String, serde_json::Value> {
        self.members(view, Group::Top)
    }

    fn members(&self, view: View, group: Group) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::Value;
        let order = view.order(group);
        let mut m = serde_json::Map::with_capacity(order.len);
        for &i in &order.keys[..order.len] {
            let key = &REST[i as usize];
            let value = match key.read {
                Read::Value(f) => match f(self) {
                    Some(v) => v.into_json(),
                    None if key.optional => continue,
                    None => Value::Null,
                },
                Read::Members(present) => {
                    if !present(self) {
                        continue;
                    }
                    Value::Object(self.members(view, key.members))
                }
                Read::EmptyMaps(names) => Value::Object(
                    names
                        .iter()
                        .map(|n| (n.to_string(), Value::Object(serde_json::Map::new())))
                        .collect(),
                ),
                Read::Object(f) => match f(self) {
                    Some(v) => v,
                    None => continue,
                },
                Read::Authorizer => match self.authorizer.as_deref() {
                    Some(AuthorizerContext {
                        claims: Some(claims),
                        ..
                    }) => {
                        let c: serde_json::Map<String, Value> = claims
                            .iter()
                            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                            .collect();
                        let mut o = serde_json::Map::with_capacity(1);
                        o.insert("claims".into(), Value::Object(c));
                        Value::Object(o)
                    }
                    Some(a) => {
                        let mut o = serde_json::Map::with_capacity(a.values().len() + 1);
                        o.insert("principalId".into(), a.principal_id().into());
                        for (k, v) in a.values() {
                            o.insert(k.clone(), v.clone().into());
                        }
                        Value::Object(o)
                    }
                    None => continue,
                },
            };
            m.insert(key.name.to_string(), value);
        }
        m
    }
}

/// Where `$context` is shown as a whole, each with its own key set and order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// A mapping template's `$context` (AWS's recorded `keySet()` order, vtl.md §5).
    Template,
    /// The Lambda proxy event's `requestContext` (payload 1.0).
    ProxyEvent,
}

/// The object a key belongs to: `$context.{name}` or `$context.{group}.{name}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Top,
    Identity,
    Error,
    Authorizer,
}

/// Where [`REST`] has the key `name` (or an alias), outside the authorizer's group: found
/// once when a format naming it is compiled, so a request never searches the table.
pub fn rest_key(name: &str) -> Option<usize> {
    let (group, member) = Group::of(name);
    let named = |k: &&ContextKey| k.name == member || k.alias == Some(member);
    REST.iter()
        .position(|k| group != Group::Authorizer && k.group == group && named(&k))
}

impl Group {
    /// `identity.sourceIp` → (Identity, `sourceIp`); names of no group are top-level
    /// (`integration.latency` included).
    fn of(name: &str) -> (Group, &str) {
        for (prefix, g) in [
            ("identity.", Group::Identity),
            ("error.", Group::Error),
            ("authorizer.", Group::Authorizer),
        ] {
            if let Some(member) = name.strip_prefix(prefix) {
                return (g, member);
            }
        }
        (Group::Top, name)
    }
}

/// A `$context` value before a view renders it.
pub enum CtxValue<'c> {
    Text(Cow<'c, str>),
    Number(i64),
    Bool(bool),
}

impl<'c> CtxValue<'c> {
    /// As `$context.x` reads in mappings and access logs.
    fn into_text(self) -> Cow<'c, str> {
        match self {
            CtxValue::Text(t) => t,
            CtxValue::Number(n) => Cow::Owned(n.to_string()),
            CtxValue::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
        }
    }

    fn into_json(self) -> serde_json::Value {
        match self {
            CtxValue::Text(t) => serde_json::Value::String(t.into_owned()),
            CtxValue::Number(n) => serde_json::Value::from(n),
            CtxValue::Bool(b) => serde_json::Value::Bool(b),
        }
    }
}

/// How a key's value is read from the request.
#[derive(Clone, Copy)]
pub enum Read {
    /// A value of the request; `None` when unset.
    Value(for<'c> fn(&'c RequestContext) -> Option<CtxValue<'c>>),
    /// An object of the keys of a group (`identity`, `error`), shown when the test holds.
    Members(fn(&RequestContext) -> bool),
    /// An object of empty objects a template may `#set` into (`requestOverride`).
    EmptyMaps(&'static [&'static str]),
    /// The authorizer's principal and values, when an authorizer ran.
    Authorizer,
    /// An object made from the request (`identity.clientCert`, `customDomain`); left out
    /// when `None`.
    Object(fn(&RequestContext) -> Option<serde_json::Value>),
}

/// One `$context` key: its name, where each view shows it, and how it is read.
#[derive(Clone, Copy)]
pub struct ContextKey {
    pub group: Group,
    pub name: &'static str,
    /// Another name `var` answers to (`awsEndpointRequestId`, `integration.latency`).
    pub alias: Option<&'static str>,
    pub read: Read,
    /// For `Read::Members`: the group whose keys make the object.
    pub members: Group,
    /// Left out of a view's object when unset (else shown as null).
    pub optional: bool,
    /// Position in a mapping template's `$context` object (within its group).
    pub template: Option<u8>,
    /// Position in the proxy event's `requestContext` (within its group).
    pub proxy_event: Option<u8>,
}

impl ContextKey {
    const fn position(&self, view: View) -> Option<u8> {
        match view {
            View::Template => self.template,
            View::ProxyEvent => self.proxy_event,
        }
    }
}

const fn key(group: Group, name: &'static str, read: Read) -> ContextKey {
    ContextKey {
        group,
        name,
        alias: None,
        read,
        members: Group::Top,
        optional: false,
        template: None,
        proxy_event: None,
    }
}

const fn text(s: &str) -> Option<CtxValue<'_>> {
    Some(CtxValue::Text(Cow::Borrowed(s)))
}

/// A key every view shows at the given positions.
const fn shown(
    group: Group,
    name: &'static str,
    read: Read,
    template: u8,
    event: u8,
) -> ContextKey {
    ContextKey {
        template: Some(template),
        proxy_event: Some(event),
        ..key(group, name, read)
    }
}

/// A field of `$context.identity.clientCert` (readable by name; the views show the object).
const fn cert(
    name: &'static str,
    read: for<'c> fn(&'c RequestContext) -> Option<CtxValue<'c>>,
) -> ContextKey {
    key(Group::Identity, name, Read::Value(read))
}

/// An identity key no request of this gateway has a value for (Cognito identity pools).
const fn unset_identity(name: &'static str, template: u8, event: u8) -> ContextKey {
    shown(
        Group::Identity,
        name,
        Read::Value(|_| None),
        template,
        event,
    )
}

/// The REST API `$context`: every key once, with its order in each view. A key added here
/// is readable by `$context.x` (mappings, access logs, gateway responses) and appears in
/// the views that give it a position. HTTP and WebSocket APIs get tables of their own.
pub const REST: &[ContextKey] = &[
    shown(
        Group::Top,
        "resourceId",
        Read::Value(|c| text(c.resource_id.as_deref()?)),
        0,
        14,
    ),
    shown(
        Group::Top,
        "resourcePath",
        Read::Value(|c| text(c.resource_path.as_deref()?)),
        1,
        15,
    ),
    shown(
        Group::Top,
        "httpMethod",
        Read::Value(|c| text(c.http_method.as_str())),
        2,
        7,
    ),
    shown(
        Group::Top,
        "extendedRequestId",
        Read::Value(|c| text(&c.extended_request_id)),
        3,
        6,
    ),
    shown(
        Group::Top,
        "requestTime",
        Read::Value(|c| {
            Some(CtxValue::Text(Cow::Owned(tollgate_model::time::clf_time(
                c.request_time_epoch,
            ))))
        }),
        4,
        12,
    ),
    shown(Group::Top, "path", Read::Value(|c| text(&c.path)), 5, 9),
    shown(
        Group::Top,
        "accountId",
        Read::Value(|_| text(tollgate_model::ACCOUNT_ID)),
        6,
        0,
    ),
    shown(
        Group::Top,
        "protocol",
        Read::Value(|c| text(c.protocol)),
        7,
        10,
    ),
    ContextKey {
        template: Some(8),
        ..key(
            Group::Top,
            "requestOverride",
            Read::EmptyMaps(&["path", "header", "querystring"]),
        )
    },
    shown(Group::Top, "stage", Read::Value(|c| text(&c.stage)), 9, 16),
    shown(
        Group::Top,
        "domainPrefix",
        Read::Value(|c| text(&c.domain_prefix)),
        10,
        5,
    ),
    shown(
        Group::Top,
        "requestTimeEpoch",
        Read::Value(|c| Some(CtxValue::Number(c.request_time_epoch))),
        11,
        13,
    ),
    ContextKey {
        alias: Some("awsEndpointRequestId"),
        ..shown(
            Group::Top,
            "requestId",
            Read::Value(|c| text(&c.request_id)),
            12,
            11,
        )
    },
    ContextKey {
        members: Group::Identity,
        ..shown(Group::Top, "identity", Read::Members(|_| true), 13, 8)
    },
    shown(
        Group::Top,
        "domainName",
        Read::Value(|c| text(&c.domain_name)),
        14,
        4,
    ),
    shown(
        Group::Top,
        "deploymentId",
        Read::Value(|c| text(&c.deployment_id)),
        15,
        3,
    ),
    ContextKey {
        template: Some(16),
        ..key(Group::Top, "responseOverride", Read::EmptyMaps(&["header"]))
    },
    shown(Group::Top, "apiId", Read::Value(|c| text(&c.api_id)), 17, 1),
    ContextKey {
        template: Some(18),
        optional: true,
        ..key(
            Group::Top,
            "isCanaryRequest",
            Read::Value(|c| Some(CtxValue::Bool(c.is_canary?))),
        )
    },
    // Gateway response templates read `$context.error.*`.
    ContextKey {
        template: Some(19),
        members: Group::Error,
        ..key(Group::Top, "error", Read::Members(|c| c.error.is_some()))
    },
    ContextKey {
        template: Some(20),
        proxy_event: Some(2),
        ..key(Group::Top, "authorizer", Read::Authorizer)
    },
    key(
        Group::Top,
        "xrayTraceId",
        Read::Value(|c| text(&c.trace_id)),
    ),
    key(
        Group::Top,
        "status",
        Read::Value(|c| Some(CtxValue::Number(c.status.into()))),
    ),
    key(
        Group::Top,
        "responseLength",
        Read::Value(|c| Some(CtxValue::Number(c.response_length as i64))),
    ),
    key(
        Group::Top,
        "responseLatency",
        Read::Value(|c| Some(CtxValue::Number(c.response_latency_ms as i64))),
    ),
    ContextKey {
        alias: Some("integration.latency"),
        ..key(
            Group::Top,
            "integrationLatency",
            Read::Value(|c| Some(CtxValue::Number(c.integration_latency_ms? as i64))),
        )
    },
    ContextKey {
        alias: Some("integration.status"),
        ..key(
            Group::Top,
            "integrationStatus",
            Read::Value(|c| Some(CtxValue::Number(c.integration_status?.into()))),
        )
    },
    unset_identity("cognitoIdentityPoolId", 0, 6),
    shown(
        Group::Identity,
        "accountId",
        Read::Value(|c| text(&c.iam.as_deref()?.account)),
        1,
        1,
    ),
    unset_identity("cognitoIdentityId", 2, 5),
    shown(
        Group::Identity,
        "caller",
        Read::Value(|c| text(&c.iam.as_deref()?.user_id)),
        3,
        2,
    ),
    shown(
        Group::Identity,
        "sourceIp",
        Read::Value(|c| text(&c.source_ip)),
        4,
        8,
    ),
    unset_identity("principalOrgId", 5, 7),
    shown(
        Group::Identity,
        "accessKey",
        Read::Value(|c| text(&c.iam.as_deref()?.access_key)),
        6,
        0,
    ),
    unset_identity("cognitoAuthenticationType", 7, 4),
    unset_identity("cognitoAuthenticationProvider", 8, 3),
    shown(
        Group::Identity,
        "userArn",
        Read::Value(|c| text(&c.iam.as_deref()?.arn)),
        9,
        11,
    ),
    shown(
        Group::Identity,
        "userAgent",
        Read::Value(|c| text(c.user_agent.as_deref()?)),
        10,
        10,
    ),
    shown(
        Group::Identity,
        "user",
        Read::Value(|c| text(&c.iam.as_deref()?.user_id)),
        11,
        9,
    ),
    ContextKey {
        optional: true,
        ..shown(
            Group::Identity,
            "apiKey",
            Read::Value(|c| text(&c.api_key.as_ref()?.1)),
            12,
            12,
        )
    },
    ContextKey {
        optional: true,
        ..shown(
            Group::Identity,
            "apiKeyId",
            Read::Value(|c| text(&c.api_key.as_ref()?.0)),
            13,
            13,
        )
    },
    // Mutual TLS (custom domains with a truststore): the object in the views, each field
    // for `$context.identity.clientCert.*`.
    ContextKey {
        template: Some(14),
        proxy_event: Some(14),
        ..key(
            Group::Identity,
            "clientCert",
            Read::Object(|c| Some(c.client_cert.as_deref()?.to_json())),
        )
    },
    cert("clientCert.clientCertPem", |c| {
        text(&c.client_cert.as_deref()?.pem)
    }),
    cert("clientCert.subjectDN", |c| {
        text(&c.client_cert.as_deref()?.subject_dn)
    }),
    cert("clientCert.issuerDN", |c| {
        text(&c.client_cert.as_deref()?.issuer_dn)
    }),
    cert("clientCert.serialNumber", |c| {
        text(&c.client_cert.as_deref()?.serial_number)
    }),
    cert("clientCert.validity.notBefore", |c| {
        text(&c.client_cert.as_deref()?.not_before)
    }),
    cert("clientCert.validity.notAfter", |c| {
        text(&c.client_cert.as_deref()?.not_after)
    }),
    key(
        Group::Top,
        "customDomain.basePathMatched",
        Read::Value(|c| text(c.base_path_matched.as_deref()?)),
    ),
    ContextKey {
        template: Some(21),
        ..key(
            Group::Top,
            "customDomain",
            Read::Object(|c| {
                let matched = c.base_path_matched.as_deref()?;
                Some(serde_json::json!({ "basePathMatched": matched }))
            }),
        )
    },
    ContextKey {
        template: Some(0),
        ..key(
            Group::Error,
            "message",
            Read::Value(|c| text(&c.error.as_ref()?.message)),
        )
    },
    ContextKey {
        template: Some(1),
        ..key(
            Group::Error,
            "messageString",
            Read::Value(|c| {
                let json = serde_json::to_string(&*c.error.as_ref()?.message).ok()?;
                Some(CtxValue::Text(Cow::Owned(json)))
            }),
        )
    },
    ContextKey {
        template: Some(2),
        ..key(
            Group::Error,
            "responseType",
            Read::Value(|c| text(c.error.as_ref()?.response_type.as_str())),
        )
    },
    ContextKey {
        template: Some(3),
        ..key(
            Group::Error,
            "validationErrorString",
            Read::Value(|c| text(c.error.as_ref()?.validation_error.as_deref()?)),
        )
    },
];

/// The keys of one group in one view's order, as indexes into [`REST`].
pub struct Order {
    keys: [u8; REST.len()],
    len: usize,
}

/// Sorts at compile time, so a request walks a ready list.
const fn order(view: View, group: Group) -> Order {
    let mut keys = [0u8; REST.len()];
    let mut len = 0;
    let mut pos = 0u8;
    while pos < u8::MAX {
        let mut i = 0;
        while i < REST.len() {
            let k = &REST[i];
            if k.group as u8 == group as u8 {
                if let Some(p) = k.position(view) {
                    if p == pos {
                        keys[len] = i as u8;
                        len += 1;
                    }
                }
            }
            i += 1;
        }
        pos += 1;
    }
    Order { keys, len }
}

static TEMPLATE_TOP: Order = order(View::Template, Group::Top);
static TEMPLATE_IDENTITY: Order = order(View::Template, Group::Identity);
static TEMPLATE_ERROR: Order = order(View::Template, Group::Error);
static EVENT_TOP: Order = order(View::ProxyEvent, Group::Top);
static EVENT_IDENTITY: Order = order(View::ProxyEvent, Group::Identity);
static EVENT_ERROR: Order = order(View::ProxyEvent, Group::Error);
static NONE: Order = Order {
    keys: [0; REST.len()],
    len: 0,
};

impl View {
    fn order(self, group: Group) -> &'static Order {
        match (self, group) {
            (View::Template, Group::Top) => &TEMPLATE_TOP,
            (View::Template, Group::Identity) => &TEMPLATE_IDENTITY,
            (View::Template, Group::Error) => &TEMPLATE_ERROR,
            (View::ProxyEvent, Group::Top) => &EVENT_TOP,
            (View::ProxyEvent, Group::Identity) => &EVENT_IDENTITY,
            (View::ProxyEvent, Group::Error) => &EVENT_ERROR,
            (_, Group::Authorizer) => &NONE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext {
            request_id: "r".into(),
            extended_request_id: "e".into(),
            api_id: "a".into(),
            stage: "dev".into(),
            deployment_id: "d".into(),
            resource_id: None,
            resource_path: None,
            http_method: http::Method::GET,
            path: "/dev/x".into(),
            protocol: "HTTP/1.1",
            request_time_epoch: 1_700_000_000_000,
            source_ip: "127.0.0.1".into(),
            user_agent: None,
            domain_name: "h".into(),
            domain_prefix: "h".into(),
            is_canary: None,
            response_cache: None,
            trace: tollgate_traces::TraceContext::incoming(None, None, 0),
            sampled: false,
            trace_id: "t".into(),
            spans: None,
            status: 200,
            response_length: 0,
            response_latency_ms: 0,
            integration_latency_ms: Some(7),
            integration_status: None,
            error: None,
            api_key: None,
            authorizer: None,
            iam: None,
            execution_log: None,
            base_path_matched: None,
            client_cert: None,
        }
    }

    fn keys(m: &serde_json::Map<String, serde_json::Value>) -> String {
        m.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
    }

    /// `$context.authorizer` after a Lambda authorizer let `me` through with `team=x`.
    fn lambda_authorized() -> Box<AuthorizerContext> {
        Box::new(AuthorizerContext {
            lambda: Some(Arc::new(tollgate_authorizers::AuthorizerOutput {
                principal_id: "me".into(),
                policy: Default::default(),
                policy_document: serde_json::Value::Null,
                context: vec![("team".into(), "x".into())],
                usage_identifier_key: None,
            })),
            claims: None,
        })
    }

    #[test]
    fn proxy_event_view_in_its_order() {
        let mut c = ctx();
        let m = c.object(View::ProxyEvent);
        assert_eq!(keys(&m), "accountId, apiId, deploymentId, domainName, domainPrefix, extendedRequestId, httpMethod, identity, path, protocol, requestId, requestTime, requestTimeEpoch, resourceId, resourcePath, stage");
        assert_eq!(keys(m["identity"].as_object().unwrap()), "accessKey, accountId, caller, cognitoAuthenticationProvider, cognitoAuthenticationType, cognitoIdentityId, cognitoIdentityPoolId, principalOrgId, sourceIp, user, userAgent, userArn");
        assert_eq!(m["resourceId"], serde_json::Value::Null);
        assert_eq!(m["requestTimeEpoch"], 1_700_000_000_000i64);
        c.api_key = Some(("k".into(), "v".into()));
        c.authorizer = Some(lambda_authorized());
        let m = c.object(View::ProxyEvent);
        assert!(keys(&m).starts_with("accountId, apiId, authorizer, deploymentId"));
        assert_eq!(
            m["authorizer"],
            serde_json::json!({"principalId": "me", "team": "x"})
        );
        assert!(keys(m["identity"].as_object().unwrap()).ends_with("userArn, apiKey, apiKeyId"));
    }

    #[test]
    fn names_and_aliases_read_one_table() {
        let mut c = ctx();
        assert_eq!(c.var("awsEndpointRequestId").as_deref(), Some("r"));
        assert_eq!(c.var("integration.latency").as_deref(), Some("7"));
        assert_eq!(c.var("integrationLatency").as_deref(), Some("7"));
        assert_eq!(c.var("status").as_deref(), Some("200"));
        assert_eq!(c.var("identity.sourceIp").as_deref(), Some("127.0.0.1"));
        assert_eq!(c.var("identity.caller"), None);
        assert_eq!(c.var("identity"), None);
        assert_eq!(c.var("authorizer.principalId"), None);
        assert_eq!(c.var("nope"), None);
        c.is_canary = Some(false);
        assert_eq!(c.var("isCanaryRequest").as_deref(), Some("false"));
        c.authorizer = Some(lambda_authorized());
        assert_eq!(c.var("authorizer.principalId").as_deref(), Some("me"));
        assert_eq!(c.var("authorizer.team").as_deref(), Some("x"));
        // Every key of a view is readable by name, unless it is an object.
        for k in REST.iter().filter(|k| matches!(k.read, Read::Value(_))) {
            let name = match k.group {
                Group::Top => k.name.to_string(),
                Group::Identity => format!("identity.{}", k.name),
                Group::Error => format!("error.{}", k.name),
                Group::Authorizer => format!("authorizer.{}", k.name),
            };
            let direct = match k.read {
                Read::Value(f) => f(&c).map(CtxValue::into_text),
                _ => None,
            };
            assert_eq!(c.var(&name), direct, "{name}");
        }
    }

    #[test]
    fn substitution_pieces() {
        let p = compile_substitution(
            "{\"message\":$context.error.messageString, \"s\":\"${stageVariables.v}\"}.",
        );
        assert_eq!(
            p,
            vec![
                Piece::Literal("{\"message\":".into()),
                Piece::Context("error.messageString".into()),
                Piece::Literal(", \"s\":\"".into()),
                Piece::StageVariable("v".into()),
                Piece::Literal("\"}.".into()),
            ]
        );
        assert_eq!(
            compile_substitution("$context.requestId."),
            vec![
                Piece::Context("requestId".into()),
                Piece::Literal(".".into())
            ]
        );
        assert_eq!(
            compile_substitution("$x ${nope} $"),
            vec![Piece::Literal("$x ${nope} $".into())]
        );
        assert_eq!(
            compile_substitution("héllo $context.stage"),
            vec![
                Piece::Literal("héllo ".into()),
                Piece::Context("stage".into())
            ]
        );
    }
}
