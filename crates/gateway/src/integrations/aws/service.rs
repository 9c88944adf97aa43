//! The REST `AWS` service integration as an [`Integration`].

use std::collections::BTreeMap;

use super::request;
use crate::error::{GatewayError, MAX_BODY};
use crate::integrations::call::{Answer, Call, CallRecord, Integration};
use crate::integrations::http::HttpClient;
use crate::invocation::{Invocation, RequestBody};

/// `AWS` to a service: the mapped, rendered call is signed and sent, and the service's
/// answer is read for the integration response.
pub struct AwsService;

impl Integration for AwsService {
    async fn call(
        &self,
        call: &Call<'_, '_>,
        inv: &Invocation<'_>,
        rec: &mut CallRecord,
        body: RequestBody,
    ) -> Result<Answer, GatewayError> {
        let i = call.integration;
        let target = i.service.as_ref().ok_or_else(GatewayError::internal)?;
        let r = call.render(inv, rec, body).await?;
        let service_call = request::build(inv, i, target, call.params, &r)?;
        let role = i
            .credentials
            .as_deref()
            .map(|r| role_arn(r, inv.stage_variables));
        let req = super::as_role::prepare(call.aws, service_call, role.as_deref()).await?;
        let out = rec
            .timed(HttpClient::current().send_buffered(req, i.timeout, MAX_BODY))
            .await;
        Ok(rec.output(inv, out?))
    }
}

/// The role ARN with its `${stageVariables.x}` replaced (a missing variable is empty), as
/// a stage may name its own role (stages-canary-domains.md).
pub(crate) fn role_arn(arn: &str, variables: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(arn.len());
    let mut rest = arn;
    while let Some(start) = rest.find("${stageVariables.") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = &rest[start + "${stageVariables.".len()..start + len];
        out.push_str(variables.get(name).map_or("", |v| v.as_str()));
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_arn_may_name_stage_variables() {
        let vars = BTreeMap::from([("env".to_string(), "prod".to_string())]);
        let arn = "arn:aws:iam::1:role/${stageVariables.env}-writer";
        assert_eq!(role_arn(arn, &vars), "arn:aws:iam::1:role/prod-writer");
        assert_eq!(
            role_arn("arn:aws:iam::1:role/${stageVariables.none}x", &vars),
            "arn:aws:iam::1:role/x"
        );
        assert_eq!(
            role_arn("arn:aws:iam::1:role/r", &vars),
            "arn:aws:iam::1:role/r"
        );
        assert_eq!(
            role_arn("a${stageVariables.env", &vars),
            "a${stageVariables.env"
        );
    }
}
