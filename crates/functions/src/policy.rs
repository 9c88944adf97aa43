//! A function's resource-based policy (AddPermission statements), compiled once per
//! function change and evaluated when another service (API Gateway) invokes the function.
//!
//! IAM's rules, narrowed to what a service invocation carries: an explicit `Deny` wins,
//! otherwise some `Allow` must match the principal, the action, the invoked ARN and every
//! condition; a condition on a key the request does not carry is false (a negated
//! operator's is true, as IAM does).

use serde_json::Value;
use tollgate_model::iam::wildcard_match;

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

#[derive(Debug, Default)]
pub struct ResourcePolicy {
    statements: Vec<Statement>,
}

#[derive(Debug)]
struct Statement {
    allow: bool,
    principal: Principal,
    actions: Vec<String>,
    resources: Vec<String>,
    conditions: Vec<Condition>,
}

#[derive(Debug)]
enum Principal {
    Anyone,
    Services(Vec<String>),
    /// Accounts, roles, users: never a service invocation.
    Other,
}

#[derive(Debug)]
struct Condition {
    operator: Operator,
    negated: bool,
    /// Lower case: condition keys compare without case.
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
enum Operator {
    Equals,
    EqualsIgnoreCase,
    Like,
    /// Anything else: the statement can never match (fail closed).
    Unsupported,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

fn principal(v: Option<&Value>) -> Principal {
    match v {
        Some(Value::String(s)) if s == "*" => Principal::Anyone,
        Some(Value::Object(m)) => {
            if strings(m.get("AWS")).iter().any(|a| a == "*") {
                return Principal::Anyone;
            }
            match strings(m.get("Service")) {
                s if s.is_empty() => Principal::Other,
                s => Principal::Services(s),
            }
        }
        _ => Principal::Other,
    }
}

fn conditions(v: Option<&Value>) -> Vec<Condition> {
    let Some(Value::Object(ops)) = v else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (op, keys) in ops {
        let (operator, negated) = match op.as_str() {
            "StringEquals" | "ArnEquals" => (Operator::Equals, false),
            "StringNotEquals" | "ArnNotEquals" => (Operator::Equals, true),
            "StringEqualsIgnoreCase" => (Operator::EqualsIgnoreCase, false),
            "StringNotEqualsIgnoreCase" => (Operator::EqualsIgnoreCase, true),
            "StringLike" | "ArnLike" => (Operator::Like, false),
            "StringNotLike" | "ArnNotLike" => (Operator::Like, true),
            _ => (Operator::Unsupported, false),
        };
        let Value::Object(keys) = keys else {
            out.push(Condition {
                operator: Operator::Unsupported,
                negated: false,
                key: String::new(),
                values: Vec::new(),
            });
            continue;
        };
        for (key, values) in keys {
            out.push(Condition {
                operator,
                negated,
                key: key.to_ascii_lowercase(),
                values: strings(Some(values)),
            });
        }
    }
    out
}

impl ResourcePolicy {
    /// From the stored statements (AWS's JSON shape, as GetPolicy returns them).
    pub fn compile(statements: &[Value]) -> ResourcePolicy {
        let statements = statements
            .iter()
            .map(|st| Statement {
                allow: st["Effect"] != "Deny",
                principal: principal(st.get("Principal")),
                actions: strings(st.get("Action")),
                resources: strings(st.get("Resource")),
                conditions: conditions(st.get("Condition")),
            })
            .collect();
        ResourcePolicy { statements }
    }

    /// Whether the policy lets `req.service` call `lambda:InvokeFunction` on the ARN.
    pub fn allows_invoke(&self, req: &ServiceRequest<'_>) -> bool {
        let mut allowed = false;
        for st in self.statements.iter().filter(|st| st.matches(req)) {
            if !st.allow {
                return false;
            }
            allowed = true;
        }
        allowed
    }
}

impl Statement {
    fn matches(&self, req: &ServiceRequest<'_>) -> bool {
        let principal = match &self.principal {
            Principal::Anyone => true,
            Principal::Services(s) => s.iter().any(|s| s == req.service),
            Principal::Other => false,
        };
        principal
            && self
                .actions
                .iter()
                .any(|a| wildcard_match(a, "lambda:InvokeFunction", true))
            && self
                .resources
                .iter()
                .any(|r| wildcard_match(r, req.function_arn, false))
            && self.conditions.iter().all(|c| c.holds(req))
    }
}

impl Condition {
    fn holds(&self, req: &ServiceRequest<'_>) -> bool {
        let actual = match self.key.as_str() {
            "aws:sourcearn" => req.source_arn,
            "aws:sourceaccount" => req.source_account,
            _ => return self.negated && !matches!(self.operator, Operator::Unsupported),
        };
        let any = self.values.iter().any(|v| match self.operator {
            Operator::Equals => v == actual,
            Operator::EqualsIgnoreCase => v.eq_ignore_ascii_case(actual),
            Operator::Like => wildcard_match(v, actual, false),
            Operator::Unsupported => false,
        });
        match self.operator {
            Operator::Unsupported => false,
            _ => any != self.negated,
        }
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
