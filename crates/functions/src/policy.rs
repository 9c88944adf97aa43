//! A function's resource-based policy (AddPermission statements), compiled once per
//! function change and evaluated by the shared IAM engine (`tollgate-policy`) when another
//! service (API Gateway) invokes the function: an explicit `Deny` wins, otherwise some
//! `Allow` must match the service principal, `lambda:InvokeFunction`, the invoked ARN and
//! every condition (`aws:SourceArn`, `aws:SourceAccount`).

use serde_json::Value;
use tollgate_policy::{Caller, ConditionKeys, Decision, Policy, Request};

/// What a service presents when it invokes a function.
pub struct ServiceRequest<'a> {
    /// e.g. `apigateway.amazonaws.com`
    pub service: &'a str,
    /// The ARN invoked: unqualified for `$LATEST`, else with `:{version or alias}`.
    pub function_arn: &'a str,
    /// `aws:SourceArn`, e.g. `arn:aws:execute-api:{region}:{account}:{api}/{stage}/GET/pets`.
    pub source_arn: &'a str,
    /// `aws:SourceAccount`.
    pub source_account: &'a str,
}

impl ConditionKeys for ServiceRequest<'_> {
    fn values(&self, key: &str) -> Vec<String> {
        match key {
            "aws:sourcearn" => vec![self.source_arn.to_string()],
            "aws:sourceaccount" => vec![self.source_account.to_string()],
            _ => Vec::new(),
        }
    }
}

/// The compiled statements; `None` when they do not form a policy IAM would accept (then
/// nothing is allowed).
#[derive(Debug, Default)]
pub struct ResourcePolicy(Option<Policy>);

impl ResourcePolicy {
    /// From the stored statements (AWS's JSON shape, as GetPolicy returns them).
    pub fn compile(statements: &[Value]) -> ResourcePolicy {
        let doc = serde_json::json!({ "Statement": statements });
        ResourcePolicy(Policy::compile(&doc).ok())
    }

    /// Whether the policy lets `req.service` call `lambda:InvokeFunction` on the ARN.
    pub fn allows_invoke(&self, req: &ServiceRequest<'_>) -> bool {
        self.0.as_ref().is_some_and(|p| {
            p.evaluate(&Request {
                action: "lambda:InvokeFunction",
                resource: req.function_arn,
                caller: Caller::Service(req.service),
                keys: req,
            }) == Decision::Allow
        })
    }
}

/// A call of a function URL as the function's policy sees it.
pub struct UrlRequest<'a> {
    /// The ARN invoked (with the alias, for an alias's URL).
    pub function_arn: &'a str,
    /// The signed caller (`AWS_IAM`), or anonymous (`NONE`).
    pub caller: Caller<'a>,
    /// `NONE` or `AWS_IAM`: the `lambda:FunctionUrlAuthType` condition key.
    pub auth_type: &'a str,
}

impl ConditionKeys for UrlRequest<'_> {
    fn values(&self, key: &str) -> Vec<String> {
        match key {
            "lambda:functionurlauthtype" => vec![self.auth_type.to_string()],
            _ => Vec::new(),
        }
    }
}

impl ResourcePolicy {
    /// The policy's decision on `lambda:InvokeFunctionUrl` for a URL's caller.
    pub fn url_decision(&self, req: &UrlRequest<'_>) -> Decision {
        self.0.as_ref().map_or(Decision::ImplicitDeny, |p| {
            p.evaluate(&Request {
                action: "lambda:InvokeFunctionUrl",
                resource: req.function_arn,
                caller: req.caller,
                keys: req,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FN: &str = "arn:aws:lambda:us-east-1:000000000000:function:hello";
    const SRC: &str = "arn:aws:execute-api:us-east-1:000000000000:abc123/dev/GET/pets";

    fn req<'a>(function_arn: &'a str, source_arn: &'a str) -> ServiceRequest<'a> {
        ServiceRequest {
            service: "apigateway.amazonaws.com",
            function_arn,
            source_arn,
            source_account: "000000000000",
        }
    }

    fn statement(resource: &str, condition: Option<Value>) -> Value {
        let mut st = json!({
            "Sid": "s", "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": resource,
        });
        if let Some(c) = condition {
            st["Condition"] = c;
        }
        st
    }

    #[test]
    fn no_statement_denies() {
        assert!(!ResourcePolicy::compile(&[]).allows_invoke(&req(FN, SRC)));
    }

    #[test]
    fn source_arn_wildcards_as_aws() {
        for (pattern, ok) in [
            ("arn:aws:execute-api:us-east-1:000000000000:abc123/*", true),
            (
                "arn:aws:execute-api:us-east-1:000000000000:abc123/*/GET/pets",
                true,
            ),
            (
                "arn:aws:execute-api:us-east-1:000000000000:abc123/*/*/*",
                true,
            ),
            (
                "arn:aws:execute-api:us-east-1:000000000000:abc123/*/POST/pets",
                false,
            ),
            ("arn:aws:execute-api:us-east-1:000000000000:zzz/*", false),
        ] {
            let p = ResourcePolicy::compile(&[statement(
                FN,
                Some(json!({"ArnLike": {"AWS:SourceArn": pattern}})),
            )]);
            assert_eq!(p.allows_invoke(&req(FN, SRC)), ok, "{pattern}");
        }
    }

    #[test]
    fn qualified_statements_cover_only_their_qualifier() {
        let alias = format!("{FN}:prod");
        let p = ResourcePolicy::compile(&[statement(&alias, None)]);
        assert!(p.allows_invoke(&req(&alias, SRC)));
        assert!(!p.allows_invoke(&req(FN, SRC)));
        let p = ResourcePolicy::compile(&[statement(FN, None)]);
        assert!(!p.allows_invoke(&req(&alias, SRC)));
    }

    #[test]
    fn principal_action_account_and_deny() {
        let mut other = statement(FN, None);
        other["Principal"] = json!({"Service": "s3.amazonaws.com"});
        assert!(!ResourcePolicy::compile(&[other]).allows_invoke(&req(FN, SRC)));
        let mut star = statement(FN, None);
        star["Principal"] = json!("*");
        star["Action"] = json!("lambda:*");
        assert!(ResourcePolicy::compile(&[star]).allows_invoke(&req(FN, SRC)));
        let mut get = statement(FN, None);
        get["Action"] = json!("lambda:GetFunction");
        assert!(!ResourcePolicy::compile(&[get]).allows_invoke(&req(FN, SRC)));
        let acct = |a: &str| statement(FN, Some(json!({"StringEquals": {"AWS:SourceAccount": a}})));
        assert!(ResourcePolicy::compile(&[acct("000000000000")]).allows_invoke(&req(FN, SRC)));
        assert!(!ResourcePolicy::compile(&[acct("111111111111")]).allows_invoke(&req(FN, SRC)));
        let mut deny = statement(FN, None);
        deny["Effect"] = json!("Deny");
        assert!(!ResourcePolicy::compile(&[statement(FN, None), deny]).allows_invoke(&req(FN, SRC)));
        let unknown = statement(
            FN,
            Some(json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
        );
        assert!(!ResourcePolicy::compile(&[unknown]).allows_invoke(&req(FN, SRC)));
    }
}
