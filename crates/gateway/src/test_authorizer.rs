//! TestInvokeAuthorizer: runs one authorizer of the current (undeployed) definition with
//! the given headers, query string and stage variables, as the Authorize phase would (no
//! cache), and reports what the client would have got.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;

use tollgate_authorizers::{CognitoAuthorizer, LambdaAuthorizer, MethodArn, Outcome};
use tollgate_model::test_invoke::{TestInvokeAuthorizerRequest, TestInvokeAuthorizerResponse};

use crate::compile::compile;
use crate::invocation::Invocation;
use crate::pipeline::authorize::{run, AuthRequest, JwksHttp};
use crate::pipeline::method_request::parse_query;
use crate::pipeline::respond;
use crate::Gateway;

/// AWS's stage name for test invocations (it appears in the method ARN).
const TEST_STAGE: &str = "ESTestInvoke-stage";

fn answer(
    status: u16,
    log: Vec<String>,
    started: Instant,
    outcome: Option<&tollgate_authorizers::AuthorizerOutput>,
) -> TestInvokeAuthorizerResponse {
    TestInvokeAuthorizerResponse {
        client_status: status,
        log: log.join("\n") + "\n",
        latency: started.elapsed().as_millis() as i64,
        principal_id: outcome.map(|o| o.principal_id.clone()),
        policy: outcome.map(|o| o.policy_document.to_string()),
        authorization: outcome
            .map(|o| {
                o.context
                    .iter()
                    .map(|(k, v)| (k.clone(), vec![v.clone()]))
                    .collect()
            })
            .unwrap_or_default(),
        claims: BTreeMap::new(),
    }
}

impl Gateway {
    /// A Cognito authorizer: the token from the identity-source header, checked as an ID
    /// token; its claims are the answer.
    async fn test_cognito(
        &self,
        model: &tollgate_model::Authorizer,
        req: &TestInvokeAuthorizerRequest,
        mut log: Vec<String>,
        started: Instant,
    ) -> TestInvokeAuthorizerResponse {
        let Ok(authorizer) = CognitoAuthorizer::compile(model) else {
            log.push("Execution failed due to configuration error: invalid authorizer".into());
            return answer(500, log, started, None);
        };
        let token = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(authorizer.header()))
            .map(|(_, v)| v.as_str());
        let endpoint = self.cognito_endpoint.as_deref();
        match authorizer
            .authorize(token, &[], endpoint, &self.jwks, &JwksHttp)
            .await
        {
            Ok(claims) => {
                log.push("Authorizer result: token verified".into());
                let mut out = answer(200, log, started, None);
                out.claims = claims.iter().cloned().collect();
                out
            }
            Err(_) => {
                log.push("Authorizer failed with status: 401".into());
                answer(401, log, started, None)
            }
        }
    }

    pub async fn test_invoke_authorizer(
        &self,
        req: TestInvokeAuthorizerRequest,
    ) -> TestInvokeAuthorizerResponse {
        let started = Instant::now();
        let mut log = vec![format!(
            "Execution log for request test-request\n{} : Starting authorizer: {} for request: test-request",
            tollgate_model::time::clf_time(tollgate_model::time::now_epoch_millis()),
            req.authorizer_id
        )];
        let Some(model) = req.definition.authorizers.get(&req.authorizer_id) else {
            return answer(500, log, started, None);
        };
        if model.authorizer_type == tollgate_model::AuthorizerType::CognitoUserPools {
            return self.test_cognito(model, &req, log, started).await;
        }
        let compiled = Some(LambdaAuthorizer::compile(model));
        let (Some(Ok(authorizer)), Some(functions)) = (compiled, self.functions.as_deref()) else {
            log.push(
                "Execution failed due to configuration error: the authorizer cannot be run".into(),
            );
            return answer(500, log, started, None);
        };
        let path_and_query = req
            .path_with_query_string
            .clone()
            .filter(|p| p.starts_with('/'))
            .unwrap_or_else(|| "/".into());
        let mut builder = http::Request::builder().method("GET").uri(&path_and_query);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        for (k, vs) in &req.multi_value_headers {
            for v in vs {
                builder = builder.header(k, v);
            }
        }
        let Ok((parts, _)) = builder.body(()).map(|r| r.into_parts()) else {
            log.push("Execution failed: invalid request".into());
            return answer(500, log, started, None);
        };
        let deployment = compile(&req.definition, "test-invoke-deployment-id");
        let stage: std::sync::Arc<str> = TEST_STAGE.into();
        let remote: SocketAddr = ([127, 0, 0, 1], 0).into();
        let ctx = respond::new_context(
            &parts,
            "",
            "testPrefix.testDomainName",
            &stage,
            &deployment,
            None,
            remote,
        );
        let query = parse_query(parts.uri.query());
        let routing_path = parts.uri.path().to_string();
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
        // AWS tests an authorizer against the root GET of the test stage.
        let arn = MethodArn::new(functions.region(), &inv.ctx.api_id, TEST_STAGE, "GET", "/");
        let view = AuthRequest {
            inv: &inv,
            resource_path: "/",
            path_params: &[],
            query: &query,
        };
        let outcome = run(functions, &authorizer, &view, &arn, None).await;
        let (status, output) = match &outcome {
            Outcome::Allow(o) => (200, Some(&**o)),
            Outcome::Denied { output, .. } => (403, Some(&**output)),
            Outcome::Unauthorized => (401, None),
            Outcome::ConfigurationError => (500, None),
        };
        match output {
            Some(o) => log.push(format!(
                "Authorizer result: principalId {}, policy {}",
                o.principal_id, o.policy_document
            )),
            None => log.push(format!("Authorizer failed with status: {status}")),
        }
        answer(status, log, started, output)
    }
}
