//! `--aws-assume-role`: an integration's `credentials` role is assumed with STS AssumeRole
//! and its call signed with the temporary credentials. The STS call is built here (query
//! protocol), its XML answer read, and the credentials cached per role until shortly
//! before they expire; `config` sends the call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, Method};
use tollgate_sigv4::endpoint::AwsCredentials;
use tollgate_sigv4::Credential;

use super::wire::{push_pair, set_header, ServiceCall};

/// Credentials are fetched again this long before they expire, so a call signed with them
/// does not reach the service after they stopped working.
const MARGIN: Duration = Duration::from_secs(300);

/// Whether a `credentials` value names a role to assume (`arn:aws:iam::ACCOUNT:role/NAME`);
/// `arn:aws:iam::*:user/*` (the caller's own credentials) is not one.
pub fn is_role(arn: &str) -> bool {
    arn.strip_prefix("arn:")
        .and_then(|r| r.split_once(":iam::"))
        .and_then(|(_, r)| r.split_once(":role/"))
        .is_some_and(|(account, name)| {
            !account.is_empty() && account != "*" && !name.is_empty() && !name.contains('*')
        })
}

/// Temporary credentials and when to stop using them.
#[derive(Debug)]
struct Assumed {
    credentials: Arc<AwsCredentials>,
    refresh_at: SystemTime,
}

#[derive(Debug, Default)]
struct Slot {
    current: Option<Assumed>,
    /// Held while this role's credentials are fetched: concurrent first requests wait for
    /// the one fetch instead of each calling STS.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

/// The roles assumed so far, by ARN. The std mutex is only held to read or replace an
/// entry, never across an await.
#[derive(Debug, Default)]
pub struct Roles {
    slots: Mutex<HashMap<String, Slot>>,
}

impl Roles {
    /// The role's credentials if they are still good at `now`.
    pub fn cached(&self, role: &str, now: SystemTime) -> Option<Arc<AwsCredentials>> {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .get(role)?
            .current
            .as_ref()
            .filter(|a| now < a.refresh_at)
            .map(|a| a.credentials.clone())
    }

    /// The lock one fetch of the role's credentials holds.
    pub fn fetch_lock(&self, role: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(role.to_string()).or_default().fetching.clone()
    }

    /// Keeps fetched credentials until `MARGIN` before `expiration`.
    pub fn store(&self, role: &str, fetched: Fetched) -> Arc<AwsCredentials> {
        let credentials = Arc::new(fetched.credentials);
        let refresh_at = fetched.expiration.checked_sub(MARGIN).unwrap_or(UNIX_EPOCH);
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(role.to_string()).or_default().current = Some(Assumed {
            credentials: credentials.clone(),
            refresh_at,
        });
        credentials
    }
}

/// The STS call assuming `role` in `region`, before it is addressed and signed.
pub fn call<'a>(role: &str, region: &'a str, now: SystemTime) -> ServiceCall<'a> {
    let mut form = String::new();
    push_pair(&mut form, "Action", "AssumeRole");
    push_pair(&mut form, "Version", "2011-06-15");
    push_pair(&mut form, "RoleArn", role);
    // Shows whose calls these are in the role's CloudTrail records.
    let secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    push_pair(&mut form, "RoleSessionName", &format!("tollgate-{secs}"));
    let mut headers = HeaderMap::with_capacity(4);
    set_header(
        &mut headers,
        CONTENT_TYPE,
        "application/x-www-form-urlencoded; charset=utf-8",
    );
    ServiceCall {
        method: Method::POST,
        region,
        service: "sts",
        subdomain: None,
        path: "/".into(),
        query: String::new(),
        headers,
        body: Bytes::from(form),
    }
}

/// Credentials STS answered with.
pub struct Fetched {
    pub credentials: AwsCredentials,
    pub expiration: SystemTime,
}

/// Reads STS's answer: the credentials, or the error code (`AccessDenied`) to log.
pub fn parse(status: u16, body: &[u8]) -> Result<Fetched, String> {
    let xml = std::str::from_utf8(body).map_err(|_| "a body that is not UTF-8".to_string())?;
    if !(200..300).contains(&status) {
        return Err(element(xml, "Code").unwrap_or_else(|| format!("HTTP {status}")));
    }
    let field = |name: &str| element(xml, name).ok_or_else(|| format!("no {name} in the answer"));
    let expiration = field("Expiration")?;
    Ok(Fetched {
        credentials: AwsCredentials {
            access_key_id: field("AccessKeyId")?,
            credential: Credential {
                secret_access_key: field("SecretAccessKey")?,
                session_token: Some(field("SessionToken")?),
            },
        },
        expiration: parse_expiration(&expiration)
            .ok_or_else(|| format!("an Expiration that does not parse: {expiration}"))?,
    })
}

/// The text of the first `<name>` element, its entities decoded. STS's answers are flat
/// enough that no XML parser is needed.
fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(
        xml[start..end]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// `2026-12-06T15:50:00Z` (fractional seconds allowed), as STS writes expirations.
fn parse_expiration(s: &str) -> Option<SystemTime> {
    let s = s.trim().strip_suffix('Z')?;
    let s = s.split_once('.').map_or(s, |(whole, _)| whole);
    let basic: String = s.chars().filter(|c| *c != '-' && *c != ':').collect();
    tollgate_sigv4::parse_amz_date(&format!("{basic}Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <SessionToken>FQoG+ZXIvYXdz/EA==</SessionToken>
      <SecretAccessKey>wJalr&amp;XUtnFEMI</SecretAccessKey>
      <Expiration>2026-12-06T15:50:00.123Z</Expiration>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
    </Credentials>
  </AssumeRoleResult>
</AssumeRoleResponse>"#;

    #[test]
    fn roles_are_told_from_the_callers_own_credentials() {
        assert!(is_role("arn:aws:iam::123456789012:role/sqs-writer"));
        assert!(is_role("arn:aws-cn:iam::123456789012:role/path/r"));
        assert!(!is_role("arn:aws:iam::*:user/*"));
        assert!(!is_role("arn:aws:iam::123456789012:user/alice"));
        assert!(!is_role("arn:aws:iam::123456789012:role/"));
        assert!(!is_role("not an arn"));
    }

    #[test]
    fn credentials_are_read_from_the_answer() {
        let f = parse(200, ANSWER.as_bytes()).unwrap();
        assert_eq!(f.credentials.access_key_id, "ASIAEXAMPLE");
        assert_eq!(f.credentials.credential.secret_access_key, "wJalr&XUtnFEMI");
        assert_eq!(
            f.credentials.credential.session_token.as_deref(),
            Some("FQoG+ZXIvYXdz/EA==")
        );
        assert_eq!(
            f.expiration,
            tollgate_sigv4::parse_amz_date("20261206T155000Z").unwrap()
        );
        let denied = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                      <Message>no</Message></Error></ErrorResponse>";
        assert_eq!(parse(403, denied.as_bytes()).err().unwrap(), "AccessDenied");
        assert_eq!(parse(500, b"").err().unwrap(), "HTTP 500");
        assert!(parse(200, b"<x/>").is_err());
    }

    #[test]
    fn credentials_are_kept_until_shortly_before_they_expire() {
        let roles = Roles::default();
        let role = "arn:aws:iam::1:role/r";
        let now = SystemTime::now();
        assert!(roles.cached(role, now).is_none());
        let mut f = parse(200, ANSWER.as_bytes()).unwrap();
        f.expiration = now + Duration::from_secs(3600);
        roles.store(role, f);
        let kept = roles.cached(role, now).unwrap();
        assert_eq!(kept.access_key_id, "ASIAEXAMPLE");
        assert!(roles
            .cached(role, now + Duration::from_secs(3300))
            .is_none());
        assert!(roles.cached("arn:aws:iam::1:role/other", now).is_none());
    }

    #[test]
    fn the_call_is_a_query_protocol_form() {
        let c = call("arn:aws:iam::1:role/r", "us-east-1", UNIX_EPOCH);
        assert_eq!(c.service, "sts");
        assert_eq!(
            c.body,
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=tollgate-0"
        );
    }
}
