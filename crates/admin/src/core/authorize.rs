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

fn call(
    state: &State,
    service: &str,
    parts: &http::request::Parts,
    body: &[u8],
    region: &str,
) -> Option<Call> {
    let account = tollgate_model::ACCOUNT_ID;
    // Resources are named as decoded: `/restapis/ab%63` is the API `abc`.
    let path = percent_encoding::percent_decode_str(parts.uri.path()).decode_utf8_lossy();
    match service {
        "apigateway" => Some(Call {
            action: format!("apigateway:{}", parts.method),
            resource: format!("arn:aws:apigateway:{region}::{path}"),
        }),
        "lambda" => {
            let op = crate::lambda::unsupported::operation_name(parts.method.as_str(), &path)?;
            // `/{date}/functions/{name}/...`: the function, named by its name, `name:qualifier`,
            // or its (possibly qualified) ARN; the policy's resource is the function's ARN.
            let mut segs = path.split('/').skip(2);
            let resource = match (segs.next(), segs.next()) {
                (Some("functions"), Some(f)) => {
                    let name = match f.strip_prefix("arn:") {
                        // arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]
                        Some(_) => f.split(':').nth(6).unwrap_or(f),
                        None => f.split(':').next().unwrap_or(f),
                    };
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
            let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            let action = get("Action")?.to_string();
            // The role or user a call is about is its resource (Attach/DetachRolePolicy
            // included, as IAM does), else the policy; named by its stored ARN (with its
            // path), or as it will be created.
            let path_of = || get("Path").unwrap_or("/");
            let resource = if let Some(n) = get("RoleName") {
                state.iam.roles.get(n).map_or_else(
                    || format!("arn:aws:iam::{account}:role{}{n}", path_of()),
                    |r| r.arn.clone(),
                )
            } else if let Some(n) = get("UserName") {
                state.iam.users.get(n).map_or_else(
                    || format!("arn:aws:iam::{account}:user{}{n}", path_of()),
                    |u| u.arn.clone(),
                )
            } else if let Some(arn) = get("PolicyArn") {
                arn.to_string()
            } else {
                "*".into()
            };
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
    let Some(c) = call(state, service, parts, body, region) else {
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

    #[test]
    fn resources_are_named_as_iam_names_them() {
        let state = State::default();
        let resource = |service: &str, method: &str, uri: &str, body: &[u8]| {
            call(&state, service, &parts(method, uri), body, "us-east-1").map(|c| c.resource)
        };
        // Percent-encoded paths name the decoded resource.
        assert_eq!(
            resource("apigateway", "GET", "/restapis/ab%63", b"").as_deref(),
            Some("arn:aws:apigateway:us-east-1::/restapis/abc")
        );
        let f = "arn:aws:lambda:us-east-1:000000000000:function:secret";
        for uri in [
            "/2015-03-31/functions/s%65cret",
            "/2015-03-31/functions/secret%3Alive",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Asecret%3Alive",
        ] {
            assert_eq!(resource("lambda", "GET", uri, b"").as_deref(), Some(f), "{uri}");
        }
        // Attaching a policy is about the role or user (with its path), not the policy.
        let attach =
            b"Action=AttachUserPolicy&UserName=admin&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess";
        assert_eq!(
            resource("iam", "POST", "/", attach).as_deref(),
            Some("arn:aws:iam::000000000000:user/admin")
        );
        let create = b"Action=CreateRole&RoleName=ops&Path=%2Fadmin%2F";
        assert_eq!(
            resource("iam", "POST", "/", create).as_deref(),
            Some("arn:aws:iam::000000000000:role/admin/ops")
        );
    }
}
