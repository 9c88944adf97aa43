//! Which requests of a stage with `tracingEnabled` are traced: X-Ray's default rule, a
//! reservoir of one request each second, then a fixed 5% of the rest.

use std::sync::atomic::{AtomicU64, Ordering};

/// The fixed rate after the reservoir.
const FIXED_RATE: f64 = 0.05;

/// One stage's sampling state.
#[derive(Debug, Default)]
pub struct Sampler {
    /// The second whose reservoir request was taken. Read by every traced stage's request,
    /// written at most once a second: the cache line stays shared between threads.
    reservoir_second: AtomicU64,
}

impl Sampler {
    /// Whether a request arriving at `now_secs` is traced.
    pub fn sample(&self, now_secs: u64) -> bool {
        let taken = self.reservoir_second.load(Ordering::Relaxed);
        if taken != now_secs
            && self
                .reservoir_second
                .compare_exchange(taken, now_secs, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return true;
        }
        rand::random::<f64>() < FIXED_RATE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_request_a_second_then_about_five_percent() {
        let s = Sampler::default();
        assert!(s.sample(100));
        let traced = (0..20_000).filter(|_| s.sample(100)).count();
        // 5% of 20,000 is 1,000; binomial sd ~31, so this cannot fail by chance.
        assert!((700..1300).contains(&traced), "{traced}");
        assert!(
            s.sample(101),
            "a new second's first request is the reservoir's"
        );
    }
}
