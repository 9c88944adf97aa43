//! What a limit (a throttle bucket, a quota counter) answers for one request.
//!
//! Local limits decide at once ([`Decision::Ready`]); a shared one (Redis, for several
//! nodes) may need one round trip when its local share is spent ([`Decision::Wait`]), so
//! the data plane awaits only then, and the embedded path never builds a future.

use std::future::Future;
use std::pin::Pin;

/// The outcome of asking a limit for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limit.
    Admit,
    /// Over the limit (429 for a bucket, the quota's 429 for a counter).
    Refuse,
    /// The shared limit cannot be asked (its Redis is down) and the node is configured to
    /// fail closed: 503.
    Unavailable,
}

impl From<bool> for Verdict {
    fn from(admit: bool) -> Self {
        if admit {
            Verdict::Admit
        } else {
            Verdict::Refuse
        }
    }
}

/// The round trip that will give a verdict (nothing is sent until it is polled).
pub type Pending<'a> = Pin<Box<dyn Future<Output = Verdict> + Send + 'a>>;

/// A verdict now, or the round trip that will give it.
pub enum Decision<'a> {
    Ready(Verdict),
    Wait(Pending<'a>),
}

impl Decision<'_> {
    pub async fn verdict(self) -> Verdict {
        match self {
            Decision::Ready(v) => v,
            Decision::Wait(f) => f.await,
        }
    }
}
