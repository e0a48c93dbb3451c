//! [`GraphClient`]: GET requests to one tenant's Graph, with paging, retries and accounting.
//!
//! [`GraphClient::fetch`] sends one GET per page; [`GraphClient::fetch_all`] carries many
//! requests in JSON batches ([`super::batch`]). Both hold a permit of the process-wide request
//! cap ([`super::caps`]) while a request is in flight, and both drop a `$filter` that Graph
//! refuses with 400 for good: the client remembers the path and the source filters locally.

use super::auth::TokenSource;
use super::batch;
use super::caps::Caps;
use super::error::{chain, GraphError};
use super::limiter::Limiter;
use super::odata::{decode, Page, Raw, Request, Shape};
use crate::metrics::catalog::{GRAPH_REQUESTS, GRAPH_REQUEST_DURATION, GRAPH_THROTTLED};
use chrono::{DateTime, Utc};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use reqwest::header::{HeaderMap, ACCEPT, RETRY_AFTER};
use reqwest::StatusCode;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

/// Instruments the client updates as requests happen.
#[derive(Debug, Clone)]
pub struct GraphMetrics {
    /// `intune_exporter_graph_requests_total{source,code}`: one per request, or per item of a
    /// JSON batch.
    pub requests: IntCounterVec,
    /// `intune_exporter_graph_throttled_total{source}`.
    pub throttled: IntCounterVec,
    /// `intune_exporter_graph_request_duration_seconds{source}`: a batch item observes the round
    /// trip of the batch that carried it.
    pub duration: HistogramVec,
}

/// Buckets for one Graph request: Graph answers in 50 ms to a few seconds; beyond 30 s the
/// request timeout has usually struck.
const DURATION_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

impl GraphMetrics {
    /// New, unregistered instruments, as the catalog declares them.
    pub fn new() -> prometheus::Result<Self> {
        Ok(Self {
            requests: IntCounterVec::new(
                Opts::new(GRAPH_REQUESTS.name, GRAPH_REQUESTS.help),
                GRAPH_REQUESTS.labels,
            )?,
            throttled: IntCounterVec::new(
                Opts::new(GRAPH_THROTTLED.name, GRAPH_THROTTLED.help),
                GRAPH_THROTTLED.labels,
            )?,
            duration: HistogramVec::new(
                HistogramOpts::new(GRAPH_REQUEST_DURATION.name, GRAPH_REQUEST_DURATION.help)
                    .buckets(DURATION_BUCKETS.to_vec()),
                GRAPH_REQUEST_DURATION.labels,
            )?,
        })
    }

    /// Registers every instrument with `registry`.
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.requests.clone()))?;
        registry.register(Box::new(self.throttled.clone()))?;
        registry.register(Box::new(self.duration.clone()))
    }
}

/// How often and how long to retry a throttled or failed request.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff when the response gave no `Retry-After`; doubled on each attempt.
    pub base_backoff: Duration,
    /// Longest single wait, whatever `Retry-After` asks for.
    pub max_wait: Duration,
    /// Most pages followed through `@odata.nextLink` before giving up.
    pub max_pages: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
            max_pages: 100,
        }
    }
}

/// A Graph client for one tenant.
#[derive(Debug, Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    root: Url,
    tenant_id: String,
    token: Arc<dyn TokenSource>,
    limiter: Arc<Limiter>,
    metrics: GraphMetrics,
    retry: RetryPolicy,
    /// The process-wide cap on Graph requests in flight, shared by every tenant's client.
    requests_in_flight: Option<Arc<Semaphore>>,
    /// Paths whose `$filter` Graph refused with 400; shared by the clones of this client.
    unfiltered: Arc<Mutex<HashSet<&'static str>>>,
}

enum Fetched {
    Found(serde_json::Value),
    NotFound,
}

impl GraphClient {
    /// A client for `tenant_id` whose requests go to `root` (e.g. `https://graph.microsoft.com/`).
    /// Every request first passes `limiter`, the tenant's share of Graph's limits.
    pub fn new(
        http: reqwest::Client,
        root: Url,
        tenant_id: String,
        token: Arc<dyn TokenSource>,
        limiter: Arc<Limiter>,
        metrics: GraphMetrics,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            http,
            root,
            tenant_id,
            token,
            limiter,
            metrics,
            retry,
            requests_in_flight: None,
            unfiltered: Arc::default(),
        }
    }

    /// Makes every request of this client hold a permit of `caps`' request cap while in flight.
    pub fn capped(mut self, caps: &Caps) -> Self {
        self.requests_in_flight = Some(caps.requests());
        self
    }

    /// Fetches every request, each as [`GraphClient::fetch`] would, in JSON batches of up to 20
    /// (v1.0 and beta apart); the results are in the order of `requests`. Each pair is the
    /// `source` label and what to fetch. See [`super::batch`].
    pub async fn fetch_all(
        &self,
        requests: &[(&'static str, &'static Request)],
    ) -> Vec<Result<Raw, GraphError>> {
        batch::fetch_all(self, requests).await
    }

    /// The tenant this client reads.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// Fetches what `request` names: an entity (`None` when Graph answers 404, which for a
    /// singleton connector means "not configured") or every item of a collection, following
    /// `@odata.nextLink` to the end.
    pub async fn fetch(&self, source: &str, request: &Request) -> Result<Raw, GraphError> {
        let filter = self.filter(request);
        match self.fetch_with(source, request, filter).await {
            Err(err) if filter.is_some() && err.status() == Some(400) => {
                self.refuse_filter(request);
                self.fetch_with(source, request, None).await
            }
            other => other,
        }
    }

    async fn fetch_with(
        &self,
        source: &str,
        request: &Request,
        filter: Option<&str>,
    ) -> Result<Raw, GraphError> {
        let path = request.path;
        let mut url = self.url(path, request.select, filter)?;
        match request.shape {
            Shape::Entity => match self.get_json(source, path, url).await? {
                Fetched::NotFound => Ok(Raw::Entity(None)),
                Fetched::Found(v) => Ok(Raw::from_body(Shape::Entity, path, v)?),
            },
            Shape::Collection => {
                let mut items = Vec::new();
                for _ in 0..self.retry.max_pages {
                    let body = match self.get_json(source, path, url).await? {
                        Fetched::Found(v) => v,
                        Fetched::NotFound => return Err(not_found(path)),
                    };
                    let page: Page = decode(path, body)?;
                    items.extend(page.value);
                    match page.next_link {
                        None => return Ok(Raw::Collection(items)),
                        // Graph's nextLink is opaque: follow it as given, but never send the
                        // bearer token to another origin.
                        Some(link) => url = self.same_origin(path, &link)?,
                    }
                }
                Err(GraphError::TooManyPages {
                    path: path.to_string(),
                    max_pages: self.retry.max_pages,
                })
            }
        }
    }

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

    fn same_origin(&self, path: &str, link: &str) -> Result<Url, GraphError> {
        let foreign = || GraphError::ForeignNextLink {
            path: path.to_string(),
            link: link.to_string(),
        };
        let url = Url::parse(link).map_err(|_| foreign())?;
        if url.origin() != self.root.origin() {
            return Err(foreign());
        }
        Ok(url)
    }

    async fn get_json(&self, source: &str, path: &str, url: Url) -> Result<Fetched, GraphError> {
        let mut attempt = 0;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let last = attempt >= self.retry.max_attempts;
            let token = self.token.token().await?;
            self.limiter.acquire(path).await;
            let permit = self.request_permit().await;
            let started = tokio::time::Instant::now();
            let sent = self
                .http
                .get(url.clone())
                .bearer_auth(&token)
                .header(ACCEPT, "application/json")
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(err) => {
                    drop(permit);
                    self.observe(source, started);
                    self.count(source, "error");
                    if last || !(err.is_timeout() || err.is_connect() || err.is_request()) {
                        return Err(GraphError::Transport {
                            path: path.to_string(),
                            message: chain(&err),
                        });
                    }
                    let wait = self.backoff(attempt);
                    tracing::debug!(path, attempt, wait_seconds = wait.as_secs_f64(), error = %chain(&err), "retrying Graph request");
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            let status = response.status();
            self.count(source, status.as_str());
            if status == StatusCode::NOT_FOUND {
                self.observe(source, started);
                return Ok(Fetched::NotFound);
            }
            let retry_after = retry_after(response.headers(), Utc::now());
            let body = response.bytes().await.map_err(|e| GraphError::Transport {
                path: path.to_string(),
                message: chain(&e),
            });
            drop(permit);
            self.observe(source, started);
            let body = body?;
            if status.is_success() {
                return serde_json::from_slice(&body)
                    .map(Fetched::Found)
                    .map_err(|e| GraphError::Decode {
                        path: path.to_string(),
                        message: e.to_string(),
                    });
            }
            let error = status_error(path, status, &body, retry_after);
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                // The cached token was still within its lifetime but Graph refused it (revoked,
                // or the app's roles changed). Get one new token and try once more; a second
                // 401 is a real failure.
                refreshed = true;
                tracing::debug!(path, "Graph refused the token; getting a new one");
                self.token.invalidate(&token);
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                self.throttled(source);
            }
            if last || !retryable(status) {
                return Err(error);
            }
            // Graph asks clients to wait exactly Retry-After on 429 and 503; without one,
            // back off exponentially with jitter (throttling guidance, concepts/throttling.md).
            // A Retry-After holds back every request of the tenant: they all count against the
            // same limit.
            let wait = match retry_after {
                Some(ra) => {
                    let wait = ra.min(self.retry.max_wait);
                    self.limiter.pause(wait);
                    wait
                }
                None => {
                    let wait = self.backoff(attempt);
                    tokio::time::sleep(wait).await;
                    wait
                }
            };
            tracing::debug!(
                path,
                attempt,
                status = status.as_u16(),
                wait_seconds = wait.as_secs_f64(),
                "retrying Graph request"
            );
        }
    }

    pub(super) fn observe(&self, source: &str, started: tokio::time::Instant) {
        self.metrics
            .duration
            .with_label_values(&[source])
            .observe(started.elapsed().as_secs_f64());
    }

    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .retry
            .base_backoff
            .saturating_mul(1 << attempt.min(10).saturating_sub(1));
        // Full jitter between half and all of the exponential step.
        exp.mul_f64(0.5 + fastrand::f64() / 2.0)
            .min(self.retry.max_wait)
    }

    pub(super) fn count(&self, source: &str, code: &str) {
        self.metrics
            .requests
            .with_label_values(&[source, code])
            .inc();
    }
}

// What the batch module shares with single requests: the same tenant, token, limiter, caps,
// metrics and retry policy, so a request costs the same whichever way it travels.
impl GraphClient {
    pub(super) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(super) fn root(&self) -> &Url {
        &self.root
    }

    pub(super) fn token_source(&self) -> &dyn TokenSource {
        self.token.as_ref()
    }

    pub(super) fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    pub(super) fn retry(&self) -> RetryPolicy {
        self.retry
    }

    pub(super) fn throttled(&self, source: &str) {
        self.metrics.throttled.with_label_values(&[source]).inc();
    }

    /// A permit of the process-wide request cap (none when the client is not capped), to hold
    /// until the answer has been read.
    pub(super) async fn request_permit(&self) -> Option<OwnedSemaphorePermit> {
        let cap = self.requests_in_flight.as_ref()?;
        // The semaphore is never closed; were it, the request would go uncapped, not fail.
        Arc::clone(cap).acquire_owned().await.ok()
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

pub(super) fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

pub(super) fn not_found(path: &str) -> GraphError {
    GraphError::Status {
        path: path.to_string(),
        status: 404,
        code: "NotFound".to_string(),
        message: "the collection does not exist".to_string(),
        retry_after: None,
    }
}

/// Builds the error for a non-success answer from Graph's `{"error":{"code","message"}}` body.
pub(super) fn status_error(
    path: &str,
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> GraphError {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Inner,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let (code, message) = match serde_json::from_slice::<Envelope>(body) {
        Ok(e) => (e.error.code, e.error.message),
        Err(_) => (
            status.canonical_reason().unwrap_or("error").to_string(),
            String::new(),
        ),
    };
    GraphError::Status {
        path: path.to_string(),
        status: status.as_u16(),
        code,
        message,
        retry_after,
    }
}

/// Reads `Retry-After` as decimal seconds (Graph sends `2.128`) or as an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = DateTime::parse_from_rfc2822(raw).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    fn headers(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn retry_after_accepts_decimal_seconds_and_http_dates() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 27, 30).unwrap();
        assert_eq!(
            retry_after(&headers("2.128"), now),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&headers("-1"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn error_bodies_name_graphs_code() {
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}"#;
        let err = status_error("v1.0/subscribedSkus", StatusCode::FORBIDDEN, body, None);
        assert_eq!(
            err.to_string(),
            "GET v1.0/subscribedSkus: HTTP 403 Authorization_RequestDenied: Insufficient privileges to complete the operation."
        );
        let err = status_error("v1.0/x", StatusCode::BAD_GATEWAY, b"<html>", None);
        assert_eq!(err.to_string(), "GET v1.0/x: HTTP 502 Bad Gateway: ");
    }
}
