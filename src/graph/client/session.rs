//! [`Session`]: what every request of one tenant's client shares, whichever way it travels
//! (alone, [`super::single`], or in a JSON batch, [`super::batch`]): the tenant's Graph root,
//! token, limiter, the process-wide request cap, metrics, the retry policy and the `$filter`s
//! Graph refused. A request costs the same either way, and meets the same [`verdict`].
//!
//! It owns the state and the bookkeeping on it; it sends nothing itself.

use super::metrics::GraphMetrics;
use crate::graph::auth::TokenSource;
use crate::graph::error::GraphError;
use crate::graph::limiter::Limiter;
use crate::graph::odata::Request;
use crate::graph::verdict::{verdict, Attempt, Reply, RetryPolicy, Verdict};
use reqwest::StatusCode;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use url::Url;

/// One tenant's Graph session, shared by the clones of its client.
#[derive(Debug, Clone)]
pub(super) struct Session {
    /// Follows no redirect (the exporter's own client does not).
    pub(super) http: reqwest::Client,
    /// Graph's root, e.g. `https://graph.microsoft.com/`.
    pub(super) root: Url,
    pub(super) tenant_id: String,
    pub(super) token: Arc<dyn TokenSource>,
    /// The tenant's share of Graph's limits: every request, and every batch item, passes it.
    pub(super) limiter: Arc<Limiter>,
    pub(super) metrics: GraphMetrics,
    pub(super) retry: RetryPolicy,
    /// The process-wide cap on Graph requests in flight, shared by every tenant's client.
    pub(super) requests_in_flight: Option<Arc<Semaphore>>,
    /// Paths whose `$filter` Graph refused with 400 (see [`Session::filter`]).
    pub(super) unfiltered: Arc<Mutex<HashSet<&'static str>>>,
}

impl Session {
    /// What to do after a send, under this session's retry policy.
    pub(super) fn verdict(&self, reply: Reply, attempt: Attempt) -> Verdict {
        verdict(reply, attempt, &self.retry, fastrand::f64())
    }

    /// Before `path` is sent again after `status`, as [`Verdict::Retry`] says: a wait that is
    /// Graph's `Retry-After` holds back every request of the tenant (they all count against
    /// the same limit); a backoff is the caller's own to wait.
    pub(super) fn retrying(
        &self,
        path: &str,
        attempt: u32,
        status: StatusCode,
        after: Duration,
        tenant: bool,
        in_batch: bool,
    ) {
        if tenant {
            self.limiter.pause(after);
        }
        tracing::debug!(
            path,
            attempt,
            status = status.as_u16(),
            wait_seconds = after.as_secs_f64(),
            in_batch,
            "retrying Graph request"
        );
    }

    /// Counts one answer of `source`'s request (`code` is its status, or `error` when none came)
    /// and the time since `started`; a 429 also counts as throttled.
    pub(super) fn record(&self, source: &str, code: &str, started: Instant) {
        self.metrics
            .duration
            .with_label_values(&[source])
            .observe(started.elapsed().as_secs_f64());
        self.metrics
            .requests
            .with_label_values(&[source, code])
            .inc();
        if code == "429" {
            self.metrics.throttled.with_label_values(&[source]).inc();
        }
    }

    /// A permit of the process-wide request cap (none when the client is not capped), to hold
    /// until the answer has been read.
    pub(super) async fn request_permit(&self) -> Option<OwnedSemaphorePermit> {
        let cap = self.requests_in_flight.as_ref()?;
        // The semaphore is never closed; were it, the request would go uncapped, not fail.
        Arc::clone(cap).acquire_owned().await.ok()
    }

    /// The URL of `path` under the Graph root, with its `$select` and `$filter`.
    pub(super) fn url(
        &self,
        path: &str,
        select: &[&str],
        filter: Option<&str>,
    ) -> Result<Url, GraphError> {
        let mut url =
            self.root
                .join(path.trim_start_matches('/'))
                .map_err(|e| GraphError::Decode {
                    path: path.to_string(),
                    message: format!("cannot build a URL: {e}"),
                })?;
        if !select.is_empty() {
            url.query_pairs_mut()
                .append_pair("$select", &select.join(","));
        }
        if let Some(filter) = filter {
            url.query_pairs_mut().append_pair("$filter", filter);
        }
        Ok(url)
    }

    /// The `$filter` to send for `request`: none once Graph has refused it on this path.
    pub(super) fn filter(&self, request: &Request) -> Option<&'static str> {
        let refused = lock(&self.unfiltered).contains(request.path);
        request.filter.filter(|_| !refused)
    }

    /// Remembers that Graph answered 400 to `request`'s `$filter`: later requests go without it
    /// and the source filters what it receives (every source does).
    pub(super) fn refuse_filter(&self, request: &Request) {
        if lock(&self.unfiltered).insert(request.path) {
            tracing::info!(
                path = request.path,
                filter = request.filter.unwrap_or_default(),
                "Graph refused the $filter with HTTP 400; asking without it from now on and filtering locally"
            );
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A set of paths stays valid whatever a panicking holder did.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
