//! Lambda authorizers (TOKEN and REQUEST): compiled once per deployment from the model's
//! `Authorizer`, run per request through an [`Invoker`] (lambda-events.md §5).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use regex::Regex;
use serde_json::{Map, Value};
use tollgate_model::authorizer::{
    effective_ttl, function_of_invocation_uri, identity_sources, IdentitySource,
};
use tollgate_model::lambda::{parse_function_ref, FunctionRef};
use tollgate_model::{Authorizer, AuthorizerType};

use crate::cache::ResultCache;
use crate::event::{request_event, token_event};
use crate::front;
use crate::method_arn::MethodArn;
use crate::output::{is_unauthorized_error, AuthorizerOutput};
use tollgate_policy::{Caller, ConditionKeys, Decision, Request};

/// A function's answer, as the engine needs it.
pub struct Invoked {
    pub payload: Bytes,
    /// The function raised (Lambda's `X-Amz-Function-Error`).
    pub function_error: bool,
}

/// Calls an authorizer's function: the data plane implements it with its function engine,
/// so this crate does not depend on the gateway. `Err` is any failure to get an answer
/// (unknown function, no permission, throttled, timed out), logged by the implementation.
pub trait Invoker {
    fn invoke(
        &self,
        function: &FunctionRef,
        payload: Vec<u8>,
    ) -> impl Future<Output = Result<Invoked, ()>> + Send;
}

/// What the engine reads from the request.
pub trait RequestView: ConditionKeys {
    /// A header's value (names without case).
    fn header(&self, name: &str) -> Option<Cow<'_, str>>;
    /// A query string parameter's value (the last one).
    fn query(&self, name: &str) -> Option<Cow<'_, str>>;
    fn stage_variables(&self) -> &BTreeMap<String, String>;
    /// `$context.{name}`.
    fn context(&self, name: &str) -> Option<Cow<'_, str>>;
    /// The REQUEST event's request members (lambda-events.md §5.1), built only when a
    /// REQUEST authorizer's function is called.
    fn request_members(&self) -> Map<String, Value>;
}

/// How a request fared.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Let through, with what the authorizer returned.
    Allow(Arc<AuthorizerOutput>),
    /// 401: a missing identity source, a token the validation expression refuses, or the
    /// function's `Unauthorized` error.
    Unauthorized,
    /// 403: the returned policy does not allow the method.
    Denied {
        explicit: bool,
        output: Arc<AuthorizerOutput>,
    },
    /// 500: the function failed, could not be called or answered something unusable.
    ConfigurationError,
}

/// Why an authorizer cannot be compiled (every request it guards is then a 500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("authorizer {0} is not a Lambda authorizer")]
    NotLambda(String),
    #[error("authorizer {0}: {1}")]
    IdentitySource(String, String),
    #[error("authorizer {0} has an invalid authorizerUri")]
    Uri(String),
    #[error("authorizer {0} has an invalid identityValidationExpression")]
    ValidationExpression(String),
}

/// An authorizer's function, from its `authorizerUri` (shared with HTTP APIs' Lambda
/// authorizers).
#[derive(Debug)]
pub(crate) enum Function {
    Fixed(FunctionRef),
    /// The ARN holds `${stageVariables.x}`: resolved per request.
    PerStage(String),
}

/// Why an authorizer's function gave no usable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallFailure {
    /// It raised `Unauthorized` (the client's 401).
    Unauthorized,
    /// It raised anything else, or could not be resolved or called (a 500).
    Failed,
}

impl Function {
    /// Calls the function for this request's stage variables; its answer when it did not
    /// raise.
    pub(crate) async fn call(
        &self,
        authorizer: &str,
        vars: &BTreeMap<String, String>,
        payload: Vec<u8>,
        invoker: &impl Invoker,
    ) -> Result<Bytes, CallFailure> {
        let function = self.resolve(vars).ok_or_else(|| {
            tracing::info!(authorizer, "authorizer names an invalid function");
            CallFailure::Failed
        })?;
        let answer = invoker
            .invoke(&function, payload)
            .await
            .map_err(|()| CallFailure::Failed)?;
        if !answer.function_error {
            return Ok(answer.payload);
        }
        if is_unauthorized_error(&answer.payload) {
            return Err(CallFailure::Unauthorized);
        }
        tracing::info!(authorizer, "authorizer function failed");
        Err(CallFailure::Failed)
    }

    /// `None`: the URI names no function.
    pub(crate) fn compile(authorizer_uri: Option<&str>) -> Option<Function> {
        let arn = authorizer_uri.and_then(function_of_invocation_uri)?;
        Some(if arn.contains("${stageVariables.") {
            Function::PerStage(arn.to_string())
        } else {
            Function::Fixed(parse_function_ref(arn)?)
        })
    }

    /// The function for this request's stage variables; `None`: they name no function.
    pub(crate) fn resolve(&self, vars: &BTreeMap<String, String>) -> Option<Cow<'_, FunctionRef>> {
        match self {
            Function::Fixed(f) => Some(Cow::Borrowed(f)),
            Function::PerStage(arn) => {
                parse_function_ref(&substitute_stage_variables(arn, vars)).map(Cow::Owned)
            }
        }
    }
}

#[derive(Debug)]
pub struct LambdaAuthorizer {
    pub id: Arc<str>,
    pub name: Arc<str>,
    token: bool,
    sources: Vec<IdentitySource>,
    validation: Option<Regex>,
    /// Zero: no cache.
    pub ttl: Duration,
    function: Function,
}

/// Separates identity values in a cache key (a control character no header carries).
const KEY_SEPARATOR: char = '\u{1f}';

impl LambdaAuthorizer {
    pub fn compile(a: &Authorizer) -> Result<LambdaAuthorizer, CompileError> {
        let token = match a.authorizer_type {
            AuthorizerType::Token => true,
            AuthorizerType::Request => false,
            AuthorizerType::CognitoUserPools => return Err(CompileError::NotLambda(a.id.clone())),
        };
        let sources = identity_sources(a.authorizer_type, a.identity_source.as_deref())
            .map_err(|e| CompileError::IdentitySource(a.id.clone(), e))?;
        let function = Function::compile(a.authorizer_uri.as_deref())
            .ok_or_else(|| CompileError::Uri(a.id.clone()))?;
        // AWS matches the expression against the whole token.
        let validation = match a
            .identity_validation_expression
            .as_deref()
            .filter(|_| token)
        {
            Some(e) => Some(
                Regex::new(&format!("^(?:{e})$"))
                    .map_err(|_| CompileError::ValidationExpression(a.id.clone()))?,
            ),
            None => None,
        };
        let ttl = effective_ttl(a.authorizer_result_ttl_in_seconds).max(0);
        Ok(LambdaAuthorizer {
            id: a.id.as_str().into(),
            name: a.name.as_str().into(),
            token,
            sources,
            validation,
            ttl: Duration::from_secs(ttl as u64),
            function,
        })
    }

    fn identity_value<'r>(
        &self,
        s: &IdentitySource,
        req: &'r impl RequestView,
    ) -> Option<Cow<'r, str>> {
        match s {
            IdentitySource::Header(n) => req.header(n),
            IdentitySource::QueryString(n) => req.query(n),
            IdentitySource::StageVariable(n) => req
                .stage_variables()
                .get(n)
                .map(|v| Cow::Borrowed(v.as_str())),
            IdentitySource::Context(n) => req.context(n),
        }
        .filter(|v| !v.is_empty())
    }

    /// The decision this thread already holds for the request (the per-thread front of
    /// the stage's cache), found without awaiting: a caller can try it before building
    /// [`LambdaAuthorizer::authorize`]'s future, which is large. `None`: not held (or the
    /// request lacks an identity source), so `authorize` must run.
    pub fn front_decision(
        &self,
        req: &impl RequestView,
        method_arn: &MethodArn<'_>,
        cache: Option<&ResultCache>,
    ) -> Option<Outcome> {
        let caching = cache.filter(|_| !self.ttl.is_zero())?;
        let identity = self.identity(req, true).ok()?;
        let (cache, generation) = caching.front_name();
        let key = front::Key {
            cache,
            generation,
            identity: identity.key(),
            method: method_arn.method,
            path: method_arn.path,
        };
        front::get(&key).map(|(decision, output)| outcome(decision, output))
    }

    /// The identity: the sources' values joined (allocated only for several). `Err`: a
    /// source is missing where that refuses the request.
    fn identity<'r>(
        &self,
        req: &'r impl RequestView,
        caching: bool,
    ) -> Result<Identity<'r>, Outcome> {
        let mut first: Option<Cow<'r, str>> = None;
        let mut joined = String::new();
        for s in &self.sources {
            match self.identity_value(s, req) {
                Some(v) => match &first {
                    None => first = Some(v),
                    Some(f) => {
                        if joined.is_empty() {
                            joined.push_str(f);
                        }
                        joined.push(KEY_SEPARATOR);
                        joined.push_str(&v);
                    }
                },
                // lambda-events.md §5.2: a REQUEST authorizer without caching takes
                // requests that lack its sources.
                None if self.token || caching => return Err(Outcome::Unauthorized),
                None => {}
            }
        }
        Ok(Identity { first, joined })
    }

    /// Authorizes one request for `method_arn`; `cache` is this stage's cache for this
    /// authorizer (none when its TTL is 0).
    pub async fn authorize(
        &self,
        req: &impl RequestView,
        method_arn: &MethodArn<'_>,
        cache: Option<&ResultCache>,
        invoker: &impl Invoker,
    ) -> Outcome {
        let caching = cache.filter(|_| !self.ttl.is_zero());
        let identity = match self.identity(req, caching.is_some()) {
            Ok(i) => i,
            Err(outcome) => return outcome,
        };
        let key = identity.key();
        let first = &identity.first;
        let front_key = caching.map(|c| {
            let (cache, generation) = c.front_name();
            front::Key {
                cache,
                generation,
                identity: key,
                method: method_arn.method,
                path: method_arn.path,
            }
        });
        if let Some((decision, output)) = front_key.as_ref().and_then(front::get) {
            return outcome(decision, output);
        }
        if let (Some(re), Some(t)) = (&self.validation, &first) {
            if !re.is_match(t) {
                return Outcome::Unauthorized;
            }
        }
        let mut hit = caching.and_then(|c| c.get_until(key));
        if let Some(c) = caching.filter(|c| hit.is_none() && c.is_shared()) {
            hit = c
                .get_shared(key, |answer| AuthorizerOutput::parse(answer).ok())
                .await;
        }
        let (output, expires) = match hit {
            Some(hit) => hit,
            None => {
                let payload = if self.token {
                    token_event(first.as_deref().unwrap_or_default(), method_arn.as_str())
                } else {
                    request_event(method_arn.as_str(), req.request_members())
                };
                let (output, answer) = match self.call(req, payload, invoker).await {
                    Ok((o, answer)) => (Arc::new(o), answer),
                    Err(outcome) => return outcome,
                };
                let expires = caching.map(|c| {
                    c.share(key, answer);
                    c.insert(key, output.clone())
                });
                (output, expires.unwrap_or_else(Instant::now))
            }
        };
        let decision = output.policy.evaluate(&Request {
            action: "execute-api:Invoke",
            resource: method_arn.as_str(),
            // The policy is about the caller the authorizer identified: no Principal.
            caller: Caller::Anonymous,
            keys: req,
        });
        if let Some(k) = front_key.filter(|_| !output.policy.reads_condition_keys()) {
            front::put(&k, expires, decision, &output);
        }
        outcome(decision, output)
    }

    /// The function's output, and its answer as it gave it (what a shared cache keeps).
    async fn call(
        &self,
        req: &impl RequestView,
        payload: Vec<u8>,
        invoker: &impl Invoker,
    ) -> Result<(AuthorizerOutput, Bytes), Outcome> {
        let answer = self
            .function
            .call(&self.id, req.stage_variables(), payload, invoker)
            .await
            .map_err(|f| match f {
                CallFailure::Unauthorized => Outcome::Unauthorized,
                CallFailure::Failed => Outcome::ConfigurationError,
            })?;
        let output = AuthorizerOutput::parse(&answer).map_err(|e| {
            tracing::info!(authorizer = %self.id, error = %e, "authorizer answered an unusable result");
            Outcome::ConfigurationError
        })?;
        Ok((output, answer))
    }
}

/// A request's identity for an authorizer: its first source's value, and all of them
/// joined when there are several.
struct Identity<'r> {
    first: Option<Cow<'r, str>>,
    joined: String,
}

impl Identity<'_> {
    /// The cache key: the one value, or the joined ones.
    fn key(&self) -> &str {
        match (&self.first, self.joined.is_empty()) {
            (Some(f), true) => f,
            (None, _) => "",
            (_, false) => &self.joined,
        }
    }
}

/// What a policy's decision means for the request.
fn outcome(decision: Decision, output: Arc<AuthorizerOutput>) -> Outcome {
    match decision {
        Decision::Allow => Outcome::Allow(output),
        Decision::ImplicitDeny => Outcome::Denied {
            explicit: false,
            output,
        },
        Decision::ExplicitDeny => Outcome::Denied {
            explicit: true,
            output,
        },
    }
}

/// `${stageVariables.x}` → the variable's value (missing: empty).
fn substitute_stage_variables(s: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${stageVariables.") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "${stageVariables.".len()..];
        match after.find('}') {
            Some(end) => {
                out.push_str(vars.get(&after[..end]).map_or("", |v| v.as_str()));
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const ARN: &str = "arn:aws:execute-api:us-east-1:000000000000:abc123/dev/GET/pets";

    struct Req(
        &'static [(&'static str, &'static str)],
        BTreeMap<String, String>,
    );
    impl ConditionKeys for Req {
        fn values(&self, _key: &str) -> Vec<String> {
            Vec::new()
        }
    }
    impl RequestView for Req {
        fn header(&self, name: &str) -> Option<Cow<'_, str>> {
            self.0
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| Cow::Borrowed(*v))
        }
        fn query(&self, _name: &str) -> Option<Cow<'_, str>> {
            None
        }
        fn stage_variables(&self) -> &BTreeMap<String, String> {
            &self.1
        }
        fn context(&self, _name: &str) -> Option<Cow<'_, str>> {
            None
        }
        fn request_members(&self) -> Map<String, Value> {
            Map::new()
        }
    }

    /// Allows GET /pets only, for any token but `deny`; fails for `boom`; counts calls.
    struct Fake(AtomicUsize);
    impl Invoker for Fake {
        async fn invoke(&self, f: &FunctionRef, payload: Vec<u8>) -> Result<Invoked, ()> {
            assert_eq!(f.name, "auth");
            self.0.fetch_add(1, Ordering::SeqCst);
            let event: Value = serde_json::from_slice(&payload).unwrap();
            let token = event["authorizationToken"].as_str().unwrap_or_default();
            let (payload, function_error) = match token {
                "boom" => (r#"{"errorMessage":"boom"}"#.to_string(), true),
                "nope" => (r#"{"errorMessage":"Unauthorized"}"#.to_string(), true),
                _ => {
                    let effect = if token == "deny" { "Deny" } else { "Allow" };
                    (
                        serde_json::json!({"principalId": token, "policyDocument": {"Statement": [
                        {"Effect": effect, "Action": "execute-api:Invoke", "Resource": ARN}]}})
                        .to_string(),
                        false,
                    )
                }
            };
            Ok(Invoked {
                payload: payload.into(),
                function_error,
            })
        }
    }

    fn authorizer(ttl: Option<i64>) -> LambdaAuthorizer {
        LambdaAuthorizer::compile(&Authorizer {
            id: "a1".into(),
            name: "a".into(),
            authorizer_type: AuthorizerType::Token,
            auth_type: None,
            authorizer_uri: Some("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations".into()),
            authorizer_credentials: None,
            identity_source: Some("method.request.header.Auth".into()),
            identity_validation_expression: Some("[a-z]+".into()),
            authorizer_result_ttl_in_seconds: ttl,
            provider_arns: None,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn outcomes_and_the_cache() {
        let a = authorizer(None);
        let cache = ResultCache::new(a.ttl);
        let fake = Fake(AtomicUsize::new(0));
        let run = |h: &'static [(&'static str, &'static str)], method: &'static str| {
            let req = Req(h, BTreeMap::new());
            let (a, cache, fake) = (&a, &cache, &fake);
            async move {
                let arn = MethodArn::new("us-east-1", "abc123", "dev", method, "/pets");
                assert!(method != "GET" || arn.as_str() == ARN);
                a.authorize(&req, &arn, Some(cache), fake).await
            }
        };
        assert!(matches!(run(&[], "GET").await, Outcome::Unauthorized));
        assert!(matches!(
            run(&[("auth", "UPPER")], "GET").await,
            Outcome::Unauthorized
        ));
        assert_eq!(fake.0.load(Ordering::SeqCst), 0, "pre-checks call nothing");
        assert!(
            matches!(run(&[("auth", "alice")], "GET").await, Outcome::Allow(o) if o.principal_id == "alice")
        );
        assert!(matches!(
            run(&[("auth", "alice")], "GET").await,
            Outcome::Allow(_)
        ));
        assert_eq!(
            fake.0.load(Ordering::SeqCst),
            1,
            "the second is a cache hit"
        );
        // The cached policy is evaluated again for another method.
        let post = "POST";
        assert!(matches!(
            run(&[("auth", "alice")], post).await,
            Outcome::Denied {
                explicit: false,
                ..
            }
        ));
        assert_eq!(fake.0.load(Ordering::SeqCst), 1);
        assert!(matches!(
            run(&[("auth", "deny")], "GET").await,
            Outcome::Denied { explicit: true, .. }
        ));
        assert!(matches!(
            run(&[("auth", "nope")], "GET").await,
            Outcome::Unauthorized
        ));
        assert!(matches!(
            run(&[("auth", "nope")], "GET").await,
            Outcome::Unauthorized
        ));
        assert!(matches!(
            run(&[("auth", "boom")], "GET").await,
            Outcome::ConfigurationError
        ));
        assert_eq!(fake.0.load(Ordering::SeqCst), 5, "errors are not cached");
        cache.flush();
        assert!(matches!(
            run(&[("auth", "alice")], "GET").await,
            Outcome::Allow(_)
        ));
        assert_eq!(
            fake.0.load(Ordering::SeqCst),
            6,
            "a flushed cache calls again"
        );

        let uncached = authorizer(Some(0));
        assert!(uncached.ttl.is_zero());
    }
}
