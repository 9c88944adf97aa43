//! What a key IAM or STS issued may do on the control plane: its identity policies decide,
//! as IAM would, the action a call is: `apigateway:{VERB}` on
//! `arn:aws:apigateway:{region}::{path}` (API Gateway v1 and v2), `lambda:{Operation}` on
//! the function, `iam:{Action}` on the role, user or policy it names. The configured keys
//! are the account root's and may do everything; STS checks its own calls (AssumeRole) or
//! needs no permission (GetCallerIdentity).

use serde_json::Value;
use tollgate_policy::{decide_all, Caller, Decision, Policy, Request};
use tollgate_store::State;

use crate::core::credentials::KeyOwner;
use crate::core::error::ApiError;
use crate::core::util::form_pairs;

/// One call as an identity policy sees it.
struct Call {
    action: String,
    resource: String,
}

fn call(service: &str, parts: &http::request::Parts, body: &[u8], region: &str) -> Option<Call> {
    let account = tollgate_model::ACCOUNT_ID;
    let path = parts.uri.path();
    match service {
        "apigateway" => Some(Call {
            action: format!("apigateway:{}", parts.method),
            resource: format!("arn:aws:apigateway:{region}::{path}"),
        }),
        "lambda" => {
            let op = crate::lambda::unsupported::operation_name(parts.method.as_str(), path)?;
            // `/{date}/functions/{name}/...`: the function (a full ARN may be given).
            let mut segs = path.split('/').skip(2);
            let resource = match (segs.next(), segs.next()) {
                (Some("functions"), Some(f)) if f.starts_with("arn:") => f.to_string(),
                (Some("functions"), Some(f)) => {
                    let name = f.split(':').next().unwrap_or(f);
                    format!("arn:aws:lambda:{region}:{account}:function:{name}")
                }
                _ => "*".to_string(),
            };
            // IAM names the invoke operations' action after the function.
            let action = match op {
                "Invoke" | "InvokeAsync" => "InvokeFunction",
                other => other,
            };
            Some(Call {
                action: format!("lambda:{action}"),
                resource,
            })
        }
        "iam" => {
            let form = String::from_utf8_lossy(body);
            let query = parts.uri.query().unwrap_or_default();
            let params: Vec<(String, String)> =
                form_pairs(query).chain(form_pairs(&form)).collect();
            let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let action = get("Action")?;
            let resource = get("PolicyArn")
                .or_else(|| get("RoleName").map(|n| format!("arn:aws:iam::{account}:role/{n}")))
                .or_else(|| get("UserName").map(|n| format!("arn:aws:iam::{account}:user/{n}")))
                .unwrap_or_else(|| "*".into());
            Some(Call {
                action: format!("iam:{action}"),
                resource,
            })
        }
        _ => None,
    }
}

/// Refuses a call its caller's policies do not allow (a call that is no known operation is
/// left to the service, which answers it as unknown).
pub fn check(
    state: &State,
    owner: &KeyOwner,
    service: &str,
    parts: &http::request::Parts,
    body: &[u8],
    region: &str,
) -> Result<(), ApiError> {
    let (arn, documents): (String, Vec<&str>) = match owner {
        KeyOwner::Root => return Ok(()),
        KeyOwner::User(u) => (
            u.arn.clone(),
            state
                .iam
                .documents(&u.attached_policies, &u.inline_policies)
                .collect(),
        ),
        KeyOwner::Session(s) => (s.arn(), state.iam.session_documents(s).collect()),
    };
    let Some(c) = call(service, parts, body, region) else {
        return Ok(());
    };
    // Documents were checked when stored.
    let policies: Vec<Policy> = documents
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| Policy::compile(&v).ok())
        .collect();
    let req = Request {
        action: &c.action,
        resource: &c.resource,
        caller: Caller::Aws {
            arn: &arn,
            account: tollgate_model::ACCOUNT_ID,
        },
        keys: &(),
    };
    match decide_all(&policies, &req) {
        Decision::Allow => Ok(()),
        _ => Err(ApiError::new(
            403,
            "AccessDeniedException",
            format!(
                "User: {arn} is not authorized to perform: {} on resource: {}",
                c.action, c.resource
            ),
        )),
    }
}
