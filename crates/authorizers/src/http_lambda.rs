//! HTTP APIs' Lambda REQUEST authorizers (lambda-events.md §5): identity sources that must
//! all be present (else 401 without a call), the event in `authorizerPayloadFormatVersion`
//! 1.0 (REST's REQUEST shape plus `version`, `identitySource` and `authorizationToken`) or
//! 2.0 (`type`, `routeArn`, `identitySource` as a list, then the v2 request), the answer as
//! a simple response (`enableSimpleResponses`: `{"isAuthorized", "context"}`) or an IAM
//! policy evaluated against the route ARN, cached by the identity values for
//! `authorizerResultTtlInSeconds` (the cached policy is evaluated again per request).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value};
use tollgate_model::authorizer::effective_ttl;
use tollgate_model::v2::Authorizer;
use tollgate_model::{PayloadFormatVersion, V2AuthorizerType};

use crate::cache::ResultCache;
use crate::http_identity::{HttpIdentitySource, IdentityValues};
use crate::lambda::{CallFailure, Function, Invoker};
use crate::output::MAX_OUTPUT;
use tollgate_policy::{Caller, ConditionKeys, Decision, Policy, Request};

/// Why an HTTP Lambda authorizer cannot be compiled (its routes then answer 500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpLambdaCompileError {
    #[error("authorizer {0} is not a REQUEST authorizer")]
    NotRequest(String),
    #[error("authorizer {0} has an invalid identity source {1}")]
    IdentitySource(String, String),
    #[error("authorizer {0} has an invalid authorizerUri")]
    Uri(String),
}

/// What the authorizer reads from the request besides its identity sources.
pub trait HttpAuthRequest: IdentityValues + ConditionKeys {
    fn stage_variables(&self) -> &BTreeMap<String, String>;
    /// The request's members of the event for `version` (1.0: REST's REQUEST members;
    /// 2.0: `routeKey`, `rawPath`, `headers`, `requestContext`, ...), built only when the
    /// function is called.
    fn event_members(&self, version: PayloadFormatVersion) -> Map<String, Value>;
}

#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    Simple(bool),
    Policy(Policy),
}

/// A usable answer, kept in the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpAuthorizerOutput {
    verdict: Verdict,
    pub principal_id: Option<String>,
    /// `context` as returned (2.0: any JSON; 1.0: strings, numbers and booleans).
    pub context: Map<String, Value>,
}

/// How a request fared.
#[derive(Debug, Clone)]
pub enum HttpOutcome {
    Allow(Arc<HttpAuthorizerOutput>),
    /// 401: an identity source missing, or the function's `Unauthorized` error.
    Unauthorized,
    /// 403: `isAuthorized: false`, or a policy that does not allow the route.
    Forbidden,
    /// 500: the function failed, could not be called or answered something unusable.
    ConfigurationError,
}

#[derive(Debug)]
pub struct HttpLambdaAuthorizer {
    pub id: Arc<str>,
    version: PayloadFormatVersion,
    simple: bool,
    sources: Vec<HttpIdentitySource>,
    /// Zero: no cache.
    pub ttl: Duration,
    function: Function,
}

/// Separates identity values in a cache key (a control character no header carries).
const KEY_SEPARATOR: char = '\u{1f}';

impl HttpLambdaAuthorizer {
    pub fn compile(a: &Authorizer) -> Result<HttpLambdaAuthorizer, HttpLambdaCompileError> {
        let id = || a.authorizer_id.clone();
        if a.authorizer_type != V2AuthorizerType::Request {
            return Err(HttpLambdaCompileError::NotRequest(id()));
        }
        let sources = a
            .identity_source
            .iter()
            .map(|s| {
                HttpIdentitySource::parse(s)
                    .ok_or_else(|| HttpLambdaCompileError::IdentitySource(id(), s.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let function = Function::compile(a.authorizer_uri.as_deref())
            .ok_or_else(|| HttpLambdaCompileError::Uri(id()))?;
        let version = a
            .authorizer_payload_format_version
            .unwrap_or(PayloadFormatVersion::V2);
        // Caching needs something to key by.
        let ttl = if sources.is_empty() {
            0
        } else {
            effective_ttl(a.authorizer_result_ttl_in_seconds).max(0)
        };
        Ok(HttpLambdaAuthorizer {
            id: a.authorizer_id.as_str().into(),
            version,
            simple: version == PayloadFormatVersion::V2 && a.enable_simple_responses == Some(true),
            sources,
            ttl: Duration::from_secs(ttl as u64),
            function,
        })
    }

    /// Authorizes one request for `route_arn`; `cache` is this stage's cache for this
    /// authorizer.
    pub async fn authorize(
        &self,
        req: &impl HttpAuthRequest,
        route_arn: &str,
        cache: Option<&ResultCache<HttpAuthorizerOutput>>,
        invoker: &impl Invoker,
    ) -> HttpOutcome {
        let mut values: Vec<Cow<'_, str>> = Vec::with_capacity(self.sources.len());
        for s in &self.sources {
            match req.identity(s) {
                Some(v) => values.push(v),
                None => return HttpOutcome::Unauthorized,
            }
        }
        let caching = cache.filter(|_| !self.ttl.is_zero());
        let key = caching.map(|_| values.join(&KEY_SEPARATOR.to_string()));
        let mut hit = caching.zip(key.as_deref()).and_then(|(c, k)| c.get(k));
        if let (Some(c), Some(k), None) = (caching, key.as_deref(), &hit) {
            if c.is_shared() {
                hit = c
                    .get_shared(k, |answer| self.parse(answer))
                    .await
                    .map(|(o, _)| o);
            }
        }
        let output = match hit {
            Some(hit) => hit,
            None => {
                let payload = self.event(req, route_arn, &values);
                let (output, answer) = match self.call(req, payload, invoker).await {
                    Ok((o, answer)) => (Arc::new(o), answer),
                    Err(outcome) => return outcome,
                };
                if let (Some(c), Some(k)) = (caching, key.as_deref()) {
                    c.share(k, answer);
                    c.insert(k, output.clone());
                }
                output
            }
        };
        let allowed = match &output.verdict {
            Verdict::Simple(allowed) => *allowed,
            Verdict::Policy(p) => {
                p.evaluate(&Request {
                    action: "execute-api:Invoke",
                    resource: route_arn,
                    // The policy is about the caller the authorizer identified.
                    caller: Caller::Anonymous,
                    keys: req,
                }) == Decision::Allow
            }
        };
        if allowed {
            HttpOutcome::Allow(output)
        } else {
            HttpOutcome::Forbidden
        }
    }

    fn event(
        &self,
        req: &impl HttpAuthRequest,
        route_arn: &str,
        values: &[Cow<'_, str>],
    ) -> Vec<u8> {
        let members = req.event_members(self.version);
        let mut m = Map::with_capacity(members.len() + 5);
        match self.version {
            PayloadFormatVersion::V2 => {
                m.insert("version".into(), "2.0".into());
                m.insert("type".into(), "REQUEST".into());
                m.insert("routeArn".into(), route_arn.into());
                let list = values
                    .iter()
                    .map(|v| Value::String(v.to_string()))
                    .collect();
                m.insert("identitySource".into(), Value::Array(list));
            }
            PayloadFormatVersion::V1 => {
                let joined = values.join(",");
                m.insert("version".into(), "1.0".into());
                m.insert("type".into(), "REQUEST".into());
                m.insert("methodArn".into(), route_arn.into());
                m.insert("identitySource".into(), joined.clone().into());
                m.insert("authorizationToken".into(), joined.into());
            }
        }
        m.extend(members);
        serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
    }

    async fn call(
        &self,
        req: &impl HttpAuthRequest,
        payload: Vec<u8>,
        invoker: &impl Invoker,
    ) -> Result<(HttpAuthorizerOutput, Bytes), HttpOutcome> {
        let answer = self
            .function
            .call(&self.id, req.stage_variables(), payload, invoker)
            .await
            .map_err(|f| match f {
                CallFailure::Unauthorized => HttpOutcome::Unauthorized,
                CallFailure::Failed => HttpOutcome::ConfigurationError,
            })?;
        let output = self.parse(&answer).ok_or_else(|| {
            tracing::info!(authorizer = %self.id, "authorizer answered an unusable result");
            HttpOutcome::ConfigurationError
        })?;
        Ok((output, answer))
    }

    /// The function's answer, in the form the authorizer is configured for.
    fn parse(&self, payload: &[u8]) -> Option<HttpAuthorizerOutput> {
        if payload.len() > MAX_OUTPUT {
            return None;
        }
        let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(payload) else {
            return None;
        };
        let context = match o.get("context") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(c)) => c.clone(),
            Some(_) => return None,
        };
        // Payload 1.0 hands context on as REST does: scalars only.
        if self.version == PayloadFormatVersion::V1
            && context.values().any(|v| v.is_object() || v.is_array())
        {
            return None;
        }
        let principal_id = match o.get("principalId") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let verdict = if self.simple {
            Verdict::Simple(o.get("isAuthorized")?.as_bool()?)
        } else {
            principal_id.as_ref()?;
            Verdict::Policy(Policy::compile(o.get("policyDocument")?).ok()?)
        };
        Some(HttpAuthorizerOutput {
            verdict,
            principal_id,
            context,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lambda::Invoked;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tollgate_model::lambda::FunctionRef;

    const ARN: &str = "arn:aws:execute-api:us-east-1:000000000000:abc123/$default/GET/pets";

    struct Req(Option<&'static str>, BTreeMap<String, String>);
    impl ConditionKeys for Req {
        fn values(&self, _key: &str) -> Vec<String> {
            Vec::new()
        }
    }
    impl IdentityValues for Req {
        fn identity(&self, _s: &HttpIdentitySource) -> Option<Cow<'_, str>> {
            self.0.map(Cow::Borrowed)
        }
    }
    impl HttpAuthRequest for Req {
        fn stage_variables(&self) -> &BTreeMap<String, String> {
            &self.1
        }
        fn event_members(&self, _v: PayloadFormatVersion) -> Map<String, Value> {
            let mut m = Map::new();
            m.insert("routeKey".into(), "GET /pets".into());
            m
        }
    }

    /// Answers what the test set, counting calls and keeping the last event.
    struct Fake(AtomicUsize, &'static str, std::sync::Mutex<Value>);
    impl Invoker for Fake {
        async fn invoke(&self, _f: &FunctionRef, payload: Vec<u8>) -> Result<Invoked, ()> {
            self.0.fetch_add(1, Ordering::SeqCst);
            *self.2.lock().unwrap() = serde_json::from_slice(&payload).unwrap();
            Ok(Invoked {
                payload: self.1.as_bytes().to_vec().into(),
                function_error: false,
            })
        }
    }

    fn authorizer(version: &str, simple: bool, ttl: i64) -> HttpLambdaAuthorizer {
        let a: Authorizer = serde_json::from_value(serde_json::json!({
            "authorizerId": "au1", "name": "a", "authorizerType": "REQUEST",
            "identitySource": ["$request.header.Authorization"],
            "authorizerPayloadFormatVersion": version, "enableSimpleResponses": simple,
            "authorizerResultTtlInSeconds": ttl,
            "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations"
        }))
        .unwrap();
        HttpLambdaAuthorizer::compile(&a).unwrap()
    }

    fn fake(answer: &'static str) -> Fake {
        Fake(
            AtomicUsize::new(0),
            answer,
            std::sync::Mutex::new(Value::Null),
        )
    }

    #[tokio::test]
    async fn simple_responses_events_and_cache() {
        let a = authorizer("2.0", true, 300);
        let cache = ResultCache::new(a.ttl);
        let f = fake(r#"{"isAuthorized":true,"context":{"tenant":{"id":7}}}"#);
        let req = Req(None, BTreeMap::new());
        assert!(matches!(
            a.authorize(&req, ARN, Some(&cache), &f).await,
            HttpOutcome::Unauthorized
        ));
        assert_eq!(
            f.0.load(Ordering::SeqCst),
            0,
            "a missing source calls nothing"
        );
        let req = Req(Some("tok"), BTreeMap::new());
        let out = a.authorize(&req, ARN, Some(&cache), &f).await;
        assert!(matches!(out, HttpOutcome::Allow(o) if o.context["tenant"]["id"] == 7));
        let event = f.2.lock().unwrap().clone();
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["type"], "REQUEST");
        assert_eq!(event["routeArn"], ARN);
        assert_eq!(event["identitySource"], serde_json::json!(["tok"]));
        assert_eq!(event["routeKey"], "GET /pets");
        assert!(matches!(
            a.authorize(&req, ARN, Some(&cache), &f).await,
            HttpOutcome::Allow(_)
        ));
        assert_eq!(f.0.load(Ordering::SeqCst), 1, "the second is a cache hit");

        let no = fake(r#"{"isAuthorized":false}"#);
        assert!(matches!(
            a.authorize(&req, ARN, None, &no).await,
            HttpOutcome::Forbidden
        ));
        let bad = fake(r#"{"isAuthorized":"yes"}"#);
        assert!(matches!(
            a.authorize(&req, ARN, None, &bad).await,
            HttpOutcome::ConfigurationError
        ));
    }

    #[tokio::test]
    async fn policy_responses_in_1_0() {
        let a = authorizer("1.0", false, 0);
        assert!(a.ttl.is_zero());
        let allow = fake(
            r#"{"principalId":"u1","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:000000000000:abc123/*/GET/pets"}]},"context":{"tier":3}}"#,
        );
        let req = Req(Some("tok"), BTreeMap::new());
        let out = a.authorize(&req, ARN, None, &allow).await;
        assert!(matches!(out, HttpOutcome::Allow(o) if o.principal_id.as_deref() == Some("u1")));
        let event = allow.2.lock().unwrap().clone();
        assert_eq!(event["version"], "1.0");
        assert_eq!(event["methodArn"], ARN);
        assert_eq!(event["identitySource"], "tok");
        assert_eq!(event["authorizationToken"], "tok");
        let post = ARN.replace("/GET/", "/POST/");
        assert!(matches!(
            a.authorize(&req, &post, None, &allow).await,
            HttpOutcome::Forbidden
        ));
        let nested =
            fake(r#"{"principalId":"u1","policyDocument":{"Statement":[]},"context":{"a":[1]}}"#);
        assert!(matches!(
            a.authorize(&req, ARN, None, &nested).await,
            HttpOutcome::ConfigurationError
        ));
    }
}
