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
        KeyOwner::Session(s) if s.expiration <= tollgate_model::time::now_epoch() => {
            return Err(ApiError::new(
                403,
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ))
        }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tollgate_model::iam::RoleSession;

    use super::*;

    fn parts(method: &str, uri: &str) -> http::request::Parts {
        let req = http::Request::builder().method(method).uri(uri).body(());
        req.unwrap().into_parts().0
    }

    #[test]
    fn sessions_act_with_their_role_until_they_expire() {
        let session = |expiration| {
            Arc::new(RoleSession {
                access_key_id: "ASIAX".into(),
                secret_access_key: "s".into(),
                session_token: "t".into(),
                expiration,
                role_name: "gone".into(),
                role_session_name: "s".into(),
            })
        };
        let state = State::default();
        let get = parts("GET", "/restapis");
        let check_as =
            |owner: &KeyOwner| check(&state, owner, "apigateway", &get, b"", "us-east-1");
        assert!(check_as(&KeyOwner::Root).is_ok());
        let expired = check_as(&KeyOwner::Session(session(1))).unwrap_err();
        assert_eq!(expired.error_type, "ExpiredTokenException");
        // Alive, but its role is gone: no policy allows anything.
        let later = tollgate_model::time::now_epoch() + 600;
        let denied = check_as(&KeyOwner::Session(session(later))).unwrap_err();
        assert_eq!(denied.error_type, "AccessDeniedException");
        assert_eq!(
            denied.message,
            "User: arn:aws:sts::000000000000:assumed-role/gone/s is not authorized to perform: apigateway:GET on resource: arn:aws:apigateway:us-east-1::/restapis"
        );
        // STS's calls are STS's to check.
        let sts = parts("POST", "/");
        let alive = KeyOwner::Session(session(later));
        assert!(check(
            &state,
            &alive,
            "sts",
            &sts,
            b"Action=GetCallerIdentity",
            "us-east-1"
        )
        .is_ok());
    }
}
