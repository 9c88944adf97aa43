//! What a key IAM or STS issued may do on the control plane: its identity policies decide,
//! as IAM would, the action a call is: `apigateway:{VERB}` on
//! `arn:aws:apigateway:{region}::{path}` (API Gateway v1 and v2), `lambda:{Operation}` on
//! the function, `iam:{Action}` on the role, user or policy it names. The configured keys
//! are the account root's and may do everything; STS checks its own calls (AssumeRole) or
//! needs no permission (GetCallerIdentity).

use serde_json::Value;
use tollgate_policy::{decide_all, Caller, ConditionKeys, Decision, Policy, Request};
use tollgate_store::State;

use crate::core::credentials::KeyOwner;
use crate::core::error::ApiError;
use crate::core::registry::{IamAction, IamCall};

/// The condition keys of one call: its own (tags, request members), then the caller's
/// and the time's.
struct CallKeys<'k> {
    call: &'k [(String, String)],
    caller_arn: &'k str,
    epoch_secs: i64,
}

impl ConditionKeys for CallKeys<'_> {
    fn values(&self, key: &str) -> Vec<String> {
        match key {
            "aws:principalarn" => vec![self.caller_arn.to_string()],
            "aws:principalaccount" => vec![tollgate_model::ACCOUNT_ID.to_string()],
            "aws:currenttime" => vec![tollgate_model::time::iso8601(self.epoch_secs)],
            "aws:epochtime" => vec![self.epoch_secs.to_string()],
            _ => self
                .call
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .collect(),
        }
    }
}

/// Refuses a call its caller's policies do not allow (a call that is no known operation is
/// left to the service, which answers it as unknown).
pub fn check(
    state: &State,
    owner: &KeyOwner,
    iam_action: fn(&IamCall<'_>) -> Option<IamAction>,
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
    let path = percent_encoding::percent_decode_str(parts.uri.path()).decode_utf8_lossy();
    let call = IamCall {
        state,
        parts,
        path: &path,
        body,
        region,
    };
    let Some(c) = iam_action(&call) else {
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
        keys: &CallKeys {
            call: &c.keys,
            caller_arn: &arn,
            epoch_secs: tollgate_model::time::now_epoch(),
        },
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
    use crate::core::apigateway_iam::apigateway_action;

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
            |owner: &KeyOwner| check(&state, owner, apigateway_action, &get, b"", "us-east-1");
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
            |_| None,
            &sts,
            b"Action=GetCallerIdentity",
            "us-east-1"
        )
        .is_ok());
    }
}
