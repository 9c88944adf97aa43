//! `AWS_IAM` authorization (auth-throttle-cache.md §7.1), independent of any pipeline: a
//! request signed with SigV4 for `execute-api` (header or presigned query form, session
//! tokens) is authenticated by `tollgate-sigv4`'s verifier against the [`Callers`] table,
//! and the caller's identity policies decide `execute-api:Invoke` on the method ARN.
//! REST's Authorize phase calls it (`pipeline/authorize.rs`); an HTTP API route with
//! `AWS_IAM` can call [`Iam::check_head`], [`Iam::finish`] and
//! [`CallerIdentity::decide`] the same way with its own answers.

mod callers;

use std::sync::Arc;
use std::time::SystemTime;

use tollgate_sigv4::{AuthError, Credential, CredentialProvider, HeadCheck, IncomingRequest};
use tollgate_store::IamState;

pub use callers::{CallerIdentity, Callers, PrincipalsError};

/// The signing service of data-plane requests.
const SERVICE: &str = "execute-api";

/// Why a request to an `AWS_IAM` method is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IamRejection {
    /// The signature check's failure: no auth data, a malformed or wrong signature, a
    /// time outside the window, an unknown key or a session token that does not match.
    Signature(AuthError),
    /// Temporary credentials past their expiration.
    Expired,
}

/// Verifies data-plane signatures for the callers of `AWS_IAM` methods.
pub struct Iam {
    verifier: tollgate_sigv4::Verifier<Keys>,
    callers: Arc<Callers>,
    /// The IAM state the callers were compiled with (`None`: the configured ones only).
    source: Option<Arc<IamState>>,
}

/// The callers' secrets, as the verifier looks them up.
struct Keys(Arc<Callers>);

impl CredentialProvider for Keys {
    fn lookup(&self, access_key_id: &str) -> Option<Credential> {
        self.0.get(access_key_id).map(|c| c.credential())
    }
}

impl Iam {
    pub fn new(callers: Callers) -> Iam {
        let callers = Arc::new(callers);
        Iam {
            verifier: tollgate_sigv4::Verifier::new(Keys(callers.clone()), SERVICE),
            callers,
            source: None,
        }
    }

    /// The configured `callers` and IAM's users and sessions in `iam`.
    pub fn with_iam(callers: &Callers, iam: &Arc<IamState>) -> Iam {
        Iam {
            source: Some(iam.clone()),
            ..Iam::new(callers.with_iam(iam))
        }
    }

    /// Whether this was compiled from `iam` (so a rebuild can keep it).
    pub fn compiled_from(&self, iam: &Arc<IamState>) -> bool {
        self.source.as_ref().is_some_and(|s| Arc::ptr_eq(s, iam))
    }

    /// Every check that needs only the request head (`req.body` is not read): the auth is
    /// there and well formed, in time, scoped to `execute-api`, by a known key with its
    /// session token. A request refused here never has its body read.
    pub fn check_head(
        &self,
        req: &IncomingRequest<'_>,
        now: SystemTime,
    ) -> Result<HeadCheck, IamRejection> {
        self.check_head_for(req, now, SERVICE)
    }

    /// [`Iam::check_head`] for a signature scoped to `service` (`lambda` for function URLs).
    pub fn check_head_for(
        &self,
        req: &IncomingRequest<'_>,
        now: SystemTime,
        service: &str,
    ) -> Result<HeadCheck, IamRejection> {
        self.verifier
            .check_head(req, now, service)
            .map_err(IamRejection::Signature)
    }

    /// The signature over the whole request (`req` as for [`Iam::check_head`], now with
    /// its body), then the credentials' expiration: the caller.
    pub fn finish(
        &self,
        head: HeadCheck,
        req: &IncomingRequest<'_>,
        now: SystemTime,
    ) -> Result<Arc<CallerIdentity>, IamRejection> {
        let verified = head
            .verify_signature(req)
            .map_err(IamRejection::Signature)?;
        let caller = self
            .callers
            .get(&verified.access_key_id)
            .ok_or(IamRejection::Signature(AuthError {
                error_type: "UnrecognizedClientException",
                status: 403,
                message: "The security token included in the request is invalid.".into(),
            }))?;
        let now_ms = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        if caller.expired(now_ms) {
            return Err(IamRejection::Expired);
        }
        Ok(caller.clone())
    }
}
