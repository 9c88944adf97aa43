//! The IAM action and resource an IAM call is, for the identity policies of keys IAM and
//! STS issued: `iam:{Action}` on the role or user the call is about (with its path: its
//! stored ARN, or the one it will be created with), else the managed policy, else `*`.
//! Attach/Detach{Role,User}Policy are about the role or user, as IAM has them.

use crate::core::registry::{IamAction, IamCall};
use crate::core::util::form_pairs;

pub fn iam_action(c: &IamCall<'_>) -> Option<IamAction> {
    let account = tollgate_model::ACCOUNT_ID;
    let form = String::from_utf8_lossy(c.body);
    let query = c.parts.uri.query().unwrap_or_default();
    let params: Vec<(String, String)> = form_pairs(query).chain(form_pairs(&form)).collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let action = get("Action")?.to_string();
    let path_of = || get("Path").unwrap_or("/");
    let resource = if let Some(n) = get("RoleName") {
        c.state.iam.roles.get(n).map_or_else(
            || format!("arn:aws:iam::{account}:role{}{n}", path_of()),
            |r| r.arn.clone(),
        )
    } else if let Some(n) = get("UserName") {
        c.state.iam.users.get(n).map_or_else(
            || format!("arn:aws:iam::{account}:user{}{n}", path_of()),
            |u| u.arn.clone(),
        )
    } else if let Some(arn) = get("PolicyArn") {
        arn.to_string()
    } else {
        "*".into()
    };
    Some(IamAction {
        action: format!("iam:{action}"),
        resource,
        keys: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use crate::core::registry::call_for_test;

    fn resource(body: &[u8]) -> Option<String> {
        call_for_test("POST", "/", body, |c| {
            super::iam_action(c).map(|a| a.resource)
        })
    }

    #[test]
    fn calls_are_about_the_role_or_user_with_its_path() {
        assert_eq!(
            resource(b"Action=AttachUserPolicy&UserName=admin&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess").as_deref(),
            Some("arn:aws:iam::000000000000:user/admin")
        );
        assert_eq!(
            resource(b"Action=CreateRole&RoleName=ops&Path=%2Fadmin%2F").as_deref(),
            Some("arn:aws:iam::000000000000:role/admin/ops")
        );
    }
}
