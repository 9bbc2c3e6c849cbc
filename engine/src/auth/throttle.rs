//! Rate limiting of failed password logins. Each cleartext check costs a PBKDF2 (milliseconds
//! of CPU), so a client retrying wrong passwords could burn the server's cores.
//!
//! Two limits, so that a storm against one name does not lock out the others:
//! - per user name, a token bucket of failures: an attempt needs a token left and a failure
//!   spends one (successes spend nothing, so many concurrent logins of a busy user are never
//!   throttled); with the bucket empty, attempts for that name fail fast (53300) without any
//!   derivation. Other names have their own buckets. Concurrent failures can overshoot the
//!   bucket by at most the number of derivation slots.
//! - globally, at most a few derivations run at once (a queue, not a refusal): attempts spread
//!   over many names wait their turn instead of occupying every core; one that waits too long
//!   fails fast.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::{EngineError, ErrorKind, Result};

/// Failed logins a user name may have before its attempts fail fast, and how fast it regains
/// them. Successes spend nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoginFailureLimit {
    /// Failures in a burst (at least 1).
    pub burst: u32,
    /// Failures regained per minute.
    pub per_minute: u32,
}

impl Default for LoginFailureLimit {
    fn default() -> Self {
        Self {
            burst: 10,
            per_minute: 30,
        }
    }
}
/// Names tracked at most (full buckets are forgotten first).
const MAX_TRACKED: usize = 10_000;
/// Longest wait for a derivation slot.
const QUEUE_WAIT: Duration = Duration::from_secs(5);

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant, limit: LoginFailureLimit) {
        let gained = now.duration_since(self.at).as_secs_f64() * f64::from(limit.per_minute) / 60.0;
        self.tokens = (self.tokens + gained).min(burst(limit));
        self.at = now;
    }
}

fn burst(limit: LoginFailureLimit) -> f64 {
    f64::from(limit.burst.max(1))
}

pub(super) struct Throttle {
    limit: LoginFailureLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
    derivations: Semaphore,
}

/// An admitted attempt, holding a derivation slot; a failure is recorded by
/// [`Admission::failed`].
pub(super) struct Admission<'a> {
    throttle: &'a Throttle,
    name: String,
    _slot: SemaphorePermit<'a>,
}

impl Admission<'_> {
    pub(super) fn failed(self) {
        self.throttle.spend(&self.name);
    }
}

fn throttled(name: &str) -> EngineError {
    EngineError::Session {
        kind: ErrorKind::TooManyConnections,
        message: format!("too many failed logins for user \"{name}\"; try again later"),
    }
}

impl Throttle {
    pub(super) fn new(limit: LoginFailureLimit) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
            derivations: Semaphore::new(cores.max(2)),
        }
    }

    /// Admits an attempt for `name` (a failure token left) with a derivation slot, or fails
    /// fast.
    pub(super) async fn admit(&self, name: &str) -> Result<Admission<'_>> {
        if !self.has_token(name) {
            return Err(throttled(name));
        }
        match tokio::time::timeout(QUEUE_WAIT, self.derivations.acquire()).await {
            Ok(Ok(slot)) => Ok(Admission {
                throttle: self,
                name: name.to_string(),
                _slot: slot,
            }),
            _ => Err(EngineError::Session {
                kind: ErrorKind::TooManyConnections,
                message: "too many logins in progress; try again later".into(),
            }),
        }
    }

    fn has_token(&self, name: &str) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            return false;
        };
        let now = Instant::now();
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(name) {
            forget_full(&mut buckets, now, self.limit);
        }
        let bucket = buckets.entry(name.to_string()).or_insert(Bucket {
            tokens: burst(self.limit),
            at: now,
        });
        bucket.refill(now, self.limit);
        bucket.tokens >= 1.0
    }

    fn spend(&self, name: &str) {
        if let Ok(mut buckets) = self.buckets.lock()
            && let Some(bucket) = buckets.get_mut(name)
        {
            bucket.tokens = (bucket.tokens - 1.0).max(0.0);
        }
    }
}

/// Drops the buckets that are full again (nothing to remember); if every name is still
/// throttled, forgets them all rather than growing without bound.
fn forget_full(buckets: &mut HashMap<String, Bucket>, now: Instant, limit: LoginFailureLimit) {
    buckets.retain(|_, b| {
        b.refill(now, limit);
        b.tokens < burst(limit)
    });
    if buckets.len() >= MAX_TRACKED {
        buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_name_is_throttled_others_are_not() {
        let limit = LoginFailureLimit {
            burst: 4,
            per_minute: 1,
        };
        let throttle = Throttle::new(limit);
        for _ in 0..limit.burst {
            throttle
                .admit("bob")
                .await
                .expect("within the burst")
                .failed();
        }
        let err = throttle.admit("bob").await.err().expect("over the burst");
        assert_eq!(err.kind(), ErrorKind::TooManyConnections);
        throttle
            .admit("alice")
            .await
            .expect("other names are not affected");
        // Attempts that do not fail (and concurrent ones in flight) spend nothing.
        let held = futures::future::join_all((0..2).map(|_| throttle.admit("carol"))).await;
        assert!(held.iter().all(|a| a.is_ok()));
        drop(held);
        for _ in 0..3 * limit.burst {
            drop(throttle.admit("carol").await.unwrap());
        }
    }
}
