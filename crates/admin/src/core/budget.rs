//! The memory all control-plane bodies in flight may hold together. A call reserves its
//! declared length (or its limit, when the length is not declared) before reading a byte,
//! and gives back what it did not use once the body is in; the rest is returned when the
//! call is answered.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::core::error::ApiError;

/// Bodies in flight, all calls together: room for one 50 MB function zip (72 MB as base64
/// JSON) and many ordinary calls.
pub const TOTAL: usize = 128 * 1024 * 1024;

/// How long a call waits for room before it is answered 429.
const WAIT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
}

/// Room reserved for one body; returned when dropped.
pub struct Reservation(Option<OwnedSemaphorePermit>);

impl BodyBudget {
    pub fn new(total: usize) -> Self {
        BodyBudget {
            bytes: Arc::new(Semaphore::new(total.min(Semaphore::MAX_PERMITS))),
        }
    }

    /// Reserves `bytes` (at most the budget, so one call can never wait forever), waiting a
    /// bounded time. AWS answers an overloaded control plane with TooManyRequestsException
    /// (429) in both API Gateway and Lambda; SDKs retry it.
    pub async fn reserve(&self, bytes: usize) -> Result<Reservation, ApiError> {
        let n = u32::try_from(bytes).unwrap_or(u32::MAX);
        if n == 0 {
            return Ok(Reservation(None));
        }
        match tokio::time::timeout(WAIT, self.bytes.clone().acquire_many_owned(n)).await {
            Ok(Ok(permit)) => Ok(Reservation(Some(permit))),
            _ => {
                tracing::warn!(
                    bytes,
                    "control-plane bodies in flight hold the whole budget; call refused (429)"
                );
                Err(ApiError::new(
                    429,
                    "TooManyRequestsException",
                    "Too Many Requests",
                ))
            }
        }
    }
}

impl Reservation {
    /// Keeps `used` bytes reserved and returns the rest to the budget.
    pub fn shrink_to(&mut self, used: usize) {
        let Some(permit) = &mut self.0 else {
            return;
        };
        let keep = used.min(permit.num_permits());
        if let Some(spare) = permit.split(permit.num_permits() - keep) {
            drop(spare);
        }
    }
}
