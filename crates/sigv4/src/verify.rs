//! The server side: a [`Verifier`] checks a request's head, then its signature.

use std::fmt;
use std::time::{Duration, SystemTime};

use subtle::{Choice, ConstantTimeEq};

use crate::authorization::{
    check_signed_headers_present, parse_auth, parse_query, Auth, QueryParam, TERMINATOR,
};
use crate::canonical::{
    build_canonical_request, cached_signing_key, hmac_sha256, payload_hashes, string_to_sign,
};
use crate::credential::CredentialProvider;
use crate::error::AuthError;
use crate::request::IncomingRequest;
use crate::time::{describe_window, epoch_secs, format_secs};

/// AWS API Gateway accepts requests signed up to 5 minutes away from its clock.
const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// The identity established by a valid signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Access key id from the credential scope.
    pub access_key_id: String,
    /// Region from the credential scope.
    pub region: String,
    /// Service from the credential scope.
    pub service: String,
}

/// Verifies SigV4 signatures for one signing service (`apigateway` or `execute-api`).
pub struct Verifier<P: CredentialProvider> {
    provider: P,
    service: &'static str,
    /// `None` disables every clock-based check (skew and presigned expiry).
    max_skew: Option<Duration>,
    /// `None` accepts any region in the credential scope.
    regions: Option<Vec<String>>,
}

impl<P: CredentialProvider> Verifier<P> {
    /// A verifier for `service`, any region, with AWS's 5-minute clock window.
    pub fn new(provider: P, service: &'static str) -> Self {
        Verifier {
            provider,
            service,
            max_skew: Some(DEFAULT_MAX_SKEW),
            regions: None,
        }
    }

    /// Changes the allowed distance between the request time and the server clock.
    pub fn with_max_skew(mut self, max_skew: Duration) -> Self {
        self.max_skew = Some(max_skew);
        self
    }

    /// Disables the clock checks (skew and presigned expiry), e.g. to replay
    /// captured requests. Formats and the scope date are still checked.
    pub fn without_clock_check(mut self) -> Self {
        self.max_skew = None;
        self
    }

    /// Restricts the accepted credential-scope regions (default: any).
    pub fn with_regions<I, S>(mut self, regions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.regions = Some(regions.into_iter().map(Into::into).collect());
        self
    }

    /// Verifies `req` against the server clock `now` (spec §2, steps 1–10).
    pub fn verify(
        &self,
        req: &IncomingRequest<'_>,
        now: SystemTime,
    ) -> Result<Verified, AuthError> {
        self.verify_for(req, now, self.service)
    }

    /// As [`Verifier::verify`], for a request addressed to `service` (one endpoint that
    /// serves several services, such as `apigateway` and `lambda`).
    pub fn verify_for(
        &self,
        req: &IncomingRequest<'_>,
        now: SystemTime,
        service: &str,
    ) -> Result<Verified, AuthError> {
        self.check_head(req, now, service)?.verify_signature(req)
    }

    /// Every check that needs only the request head (spec §2 steps 1–6): the auth is present
    /// and well-formed, the time is within the window, the scope names `service` and an
    /// accepted region, the access key is known. `req.body` is not read, so a server can
    /// refuse a request before receiving its body; [`HeadCheck::verify_signature`] finishes
    /// the job once the body is in.
    pub fn check_head(
        &self,
        req: &IncomingRequest<'_>,
        now: SystemTime,
        service: &str,
    ) -> Result<HeadCheck, AuthError> {
        let query = parse_query(req.raw_query);
        let auth = parse_auth(req, &query)?;
        self.check_clock(&auth, epoch_secs(now))?;

        if auth.service != service {
            return Err(AuthError::invalid(format!(
                "Credential should be scoped to correct service: '{service}'. "
            )));
        }
        if let Some(regions) = &self.regions {
            if !regions.contains(&auth.region) {
                return Err(AuthError::invalid(
                    "Credential should be scoped to a valid region. ",
                ));
            }
        }

        let credential = self
            .provider
            .lookup(&auth.access_key_id)
            .ok_or_else(AuthError::unrecognized)?;
        if let Some(expected) = &credential.session_token {
            let ok = auth
                .session_token
                .as_deref()
                .is_some_and(|t| bool::from(t.ct_eq(expected.as_bytes())));
            if !ok {
                return Err(AuthError::unrecognized());
            }
        }

        check_signed_headers_present(&auth, req.headers)?;
        Ok(HeadCheck {
            query,
            auth,
            secret_access_key: credential.secret_access_key,
        })
    }

    fn check_clock(&self, auth: &Auth, now: i64) -> Result<(), AuthError> {
        let Some(max_skew) = self.max_skew else {
            return Ok(());
        };
        let skew = i64::try_from(max_skew.as_secs()).unwrap_or(i64::MAX);
        let t = auth.request_time;
        // Presigned URLs are valid for X-Amz-Expires; header signatures for the skew.
        let window = auth.expires.unwrap_or(skew);
        let earliest = now.saturating_sub(window);
        if t < earliest {
            return Err(AuthError::invalid(format!(
                "Signature expired: {} is now earlier than {} ({} - {}.)",
                format_secs(t),
                format_secs(earliest),
                format_secs(now),
                describe_window(window)
            )));
        }
        let latest = now.saturating_add(skew);
        if t > latest {
            return Err(AuthError::invalid(format!(
                "Signature not yet current: {} is still later than {} ({} + {}.)",
                format_secs(t),
                format_secs(latest),
                format_secs(now),
                describe_window(skew)
            )));
        }
        Ok(())
    }
}

/// A request whose head passed [`Verifier::check_head`]; its signature still needs the body.
pub struct HeadCheck {
    query: Vec<QueryParam>,
    auth: Auth,
    secret_access_key: String,
}

impl fmt::Debug for HeadCheck {
    // The secret never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeadCheck")
            .field("access_key_id", &self.auth.access_key_id)
            .finish_non_exhaustive()
    }
}

impl HeadCheck {
    /// Steps 7–10: the signature over `req`, which must be the request the head came from,
    /// now with its complete body.
    pub fn verify_signature(self, req: &IncomingRequest<'_>) -> Result<Verified, AuthError> {
        let HeadCheck {
            query,
            auth,
            secret_access_key,
        } = self;
        let key = cached_signing_key(
            &secret_access_key,
            &auth.scope_date,
            &auth.region,
            &auth.service,
        );
        let scope = format!(
            "{}/{}/{}/{TERMINATOR}",
            auth.scope_date, auth.region, auth.service
        );
        // Several payload hashes may be acceptable (presigned GET); the
        // number of candidates is public, each comparison is constant-time.
        let mut matched = Choice::from(0);
        for payload_hash in payload_hashes(req, &auth)? {
            let canonical = build_canonical_request(req, &query, &auth, &payload_hash);
            let sts = string_to_sign(&auth.timestamp, &scope, &canonical);
            let expected = hex::encode(hmac_sha256(&key, sts.as_bytes()));
            matched |= expected.as_bytes().ct_eq(auth.signature.as_bytes());
        }
        if bool::from(matched) {
            Ok(Verified {
                access_key_id: auth.access_key_id,
                region: auth.region,
                service: auth.service,
            })
        } else {
            Err(AuthError::mismatch())
        }
    }
}
