//! [`Caps`]: process-wide bounds on how much the exporter asks of Microsoft at once, shared by
//! every tenant's client: Graph requests in flight (`graph.max_concurrent_requests`) and sign-ins
//! in flight (`graph.max_concurrent_sign_ins`).
//!
//! The per-tenant [`super::limiter::Limiter`] keeps each tenant under Microsoft's documented
//! rates; these caps keep hundreds of tenants from opening hundreds of connections (and token
//! requests) in the same second, which the per-tenant limits cannot see. This module only hands
//! out permits; it sends nothing itself.

use super::auth::TokenSource;
use super::error::GraphError;
use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The two caps. Cloning shares them.
#[derive(Debug, Clone)]
pub struct Caps {
    requests: Arc<Semaphore>,
    sign_ins: Arc<Semaphore>,
}

impl Caps {
    /// At most `max_requests` Graph requests (a `$batch` POST counts as one) and
    /// `max_sign_ins` token requests in flight at once; each at least 1.
    pub fn new(max_requests: usize, max_sign_ins: usize) -> Self {
        Self {
            requests: Arc::new(Semaphore::new(max_requests.max(1))),
            sign_ins: Arc::new(Semaphore::new(max_sign_ins.max(1))),
        }
    }

    /// The request cap, for [`super::GraphClient::capped`].
    pub(crate) fn requests(&self) -> Arc<Semaphore> {
        Arc::clone(&self.requests)
    }

    /// `token` behind the sign-in cap: each call holds a permit while it runs.
    ///
    /// A call answered from the credential's token cache holds it for microseconds, so it
    /// waits only while every permit is taken by a real sign-in; the token source does not
    /// say in advance whether it will ask the authority.
    pub fn sign_ins(&self, token: Arc<dyn TokenSource>) -> Arc<dyn TokenSource> {
        Arc::new(CappedSignIn {
            inner: token,
            permits: Arc::clone(&self.sign_ins),
        })
    }
}

#[derive(Debug)]
struct CappedSignIn {
    inner: Arc<dyn TokenSource>,
    permits: Arc<Semaphore>,
}

#[async_trait]
impl TokenSource for CappedSignIn {
    async fn token(&self) -> Result<String, GraphError> {
        // The semaphore is never closed; were it, sign-ins would go uncapped rather than fail.
        let _permit = self.permits.acquire().await.ok();
        self.inner.token().await
    }

    fn invalidate(&self, rejected: &str) {
        self.inner.invalidate(rejected);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A token source that takes a second and records how many calls overlap.
    #[derive(Debug, Default)]
    struct Slow {
        now: AtomicUsize,
        peak: AtomicUsize,
    }

    #[async_trait]
    impl TokenSource for Slow {
        async fn token(&self) -> Result<String, GraphError> {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(1)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            Ok("t".to_string())
        }

        fn invalidate(&self, _rejected: &str) {}
    }

    #[tokio::test(start_paused = true)]
    async fn sign_ins_beyond_the_cap_wait_for_a_permit() {
        let caps = Caps::new(32, 2);
        let slow = Arc::new(Slow::default());
        let tenants: Vec<_> = (0..5)
            .map(|_| caps.sign_ins(Arc::clone(&slow) as Arc<dyn TokenSource>))
            .collect();
        let start = tokio::time::Instant::now();
        let mut calls = tokio::task::JoinSet::new();
        for t in tenants {
            calls.spawn(async move { t.token().await.map_err(|e| e.to_string()) });
        }
        while let Some(done) = calls.join_next().await {
            assert_eq!(done.unwrap().unwrap(), "t");
        }
        assert_eq!(slow.peak.load(Ordering::SeqCst), 2);
        // Five one-second sign-ins, two at a time: three rounds.
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }
}
