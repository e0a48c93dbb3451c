//! [`GraphClient`]: GET requests to one tenant's Graph, with paging, retries and accounting.
//!
//! [`GraphClient::fetch`] sends one GET per page; [`GraphClient::fetch_all`] carries many
//! requests in JSON batches ([`super::batch`]). Both hold a permit of the process-wide request
//! cap ([`super::caps`]) while a request is in flight, and both drop a `$filter` that Graph
//! refuses with 400 for good: the client remembers the path and the source filters locally.

use super::auth::TokenSource;
use super::batch;
use super::body::{decode_json, read_limited, DEFAULT_MAX_RESPONSE_BYTES};
use super::caps::Caps;
use super::error::{chain, GraphError, RequestIds};
use super::limiter::Limiter;
use super::odata::{decode, Page, Raw, Request, Shape};
use crate::metrics::catalog::{GRAPH_REQUESTS, GRAPH_REQUEST_DURATION, GRAPH_THROTTLED};
use chrono::{DateTime, Utc};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use reqwest::header::{HeaderMap, ACCEPT, LOCATION, RETRY_AFTER};
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

/// How often and how long to retry a throttled or failed request, and how much one fetch may
/// read.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff when the response gave no `Retry-After`; doubled on each attempt.
    pub base_backoff: Duration,
    /// Longest single wait, whatever `Retry-After` asks for.
    pub max_wait: Duration,
    /// Most pages followed through `@odata.nextLink` before giving up (`graph.max_pages`).
    pub max_pages: usize,
    /// Largest body read from one answer, and from every page of one collection together,
    /// after decompression (`graph.max_response_bytes`).
    pub max_response_bytes: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
            max_pages: 100,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
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
    /// The decoded body, and its size in bytes as read.
    Found(serde_json::Value, usize),
    NotFound,
}

impl GraphClient {
    /// A client for `tenant_id` whose requests go to `root` (e.g. `https://graph.microsoft.com/`).
    /// Every request first passes `limiter`, the tenant's share of Graph's limits. `http` should
    /// follow no redirects (the exporter's own client does not): a redirect is then reported as
    /// an error naming where it pointed.
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
        let limit = self.retry.max_response_bytes;
        let mut url = self.url(path, request.select, filter)?;
        match request.shape {
            Shape::Entity => match self.get_json(source, path, url, limit).await? {
                Fetched::NotFound => Ok(Raw::Entity(None)),
                Fetched::Found(v, _) => Ok(Raw::from_body(Shape::Entity, path, v)?),
            },
            Shape::Collection => {
                let mut items = Vec::new();
                let mut seen = HashSet::from([url.clone()]);
                // The limit bounds the whole collection, every page together: pages each
                // under it must not add up to gigabytes.
                let mut read = 0usize;
                for _ in 0..self.retry.max_pages {
                    let fetched = self.get_json(source, path, url, limit - read).await;
                    let body = match fetched {
                        Ok(Fetched::Found(v, len)) => {
                            read += len;
                            v
                        }
                        Ok(Fetched::NotFound) => return Err(not_found(path)),
                        Err(GraphError::TooLarge { .. }) if read > 0 => {
                            return Err(collection_too_large(path, limit))
                        }
                        Err(err) => return Err(err),
                    };
                    let page: Page = decode(path, body)?;
                    items.extend(page.value);
                    match page.next_link {
                        None => return Ok(Raw::Collection(items)),
                        // Graph's nextLink is opaque: follow it as given, but never send the
                        // bearer token to another origin.
                        Some(link) => {
                            url = self.same_origin(path, &link)?;
                            // A link back to a page already read would page forever.
                            if !seen.insert(url.clone()) {
                                return Err(GraphError::NextLinkLoop {
                                    path: path.to_string(),
                                    link,
                                });
                            }
                        }
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

    /// GETs `url` with retries and reads at most `limit` bytes of its answer.
    async fn get_json(
        &self,
        source: &str,
        path: &str,
        url: Url,
        limit: usize,
    ) -> Result<Fetched, GraphError> {
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
            let answer = Answer::of(status, response.headers());
            let body = read_limited(response, path, limit).await;
            drop(permit);
            self.observe(source, started);
            let body = body?;
            if status.is_success() {
                let len = body.len();
                return decode_json(path, body).map(|v| Fetched::Found(v, len));
            }
            let error = answer.error(path, &body, retry_after);
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

/// The pages of a collection add up to more than `graph.max_response_bytes`.
pub(super) fn collection_too_large(path: &str, limit: usize) -> GraphError {
    GraphError::CollectionTooLarge {
        path: path.to_string(),
        limit,
    }
}

pub(super) fn not_found(path: &str) -> GraphError {
    GraphError::Status {
        path: path.to_string(),
        status: 404,
        code: "NotFound".to_string(),
        message: "the collection does not exist".to_string(),
        retry_after: None,
        request_ids: None,
    }
}

/// Builds the error for a non-success answer in a JSON batch, from its headers (request ids,
/// where a redirect pointed) and Graph's `{"error":{"code","message"}}` body, exactly as for a
/// single request.
pub(super) fn status_error(
    path: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    retry_after: Option<Duration>,
) -> GraphError {
    Answer::of(status, headers).error(path, body, retry_after)
}

/// What an error answer's headers say: its status, Graph's request ids and, for a redirect,
/// where it pointed.
struct Answer {
    status: StatusCode,
    ids: RequestIds,
    location: Option<String>,
}

impl Answer {
    fn of(status: StatusCode, headers: &HeaderMap) -> Answer {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Answer {
            status,
            ids: RequestIds {
                request_id: text("request-id"),
                client_request_id: text("client-request-id"),
            },
            location: text(LOCATION.as_str()),
        }
    }

    /// The error for this answer, from Graph's `{"error":{"code","message"}}` body. The HTTP
    /// client follows no redirect (the token would be stripped, but the foreign body would be
    /// read as tenant data), so a 3xx says where it pointed instead.
    fn error(self, path: &str, body: &[u8], retry_after: Option<Duration>) -> GraphError {
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
        let reason = || {
            self.status
                .canonical_reason()
                .unwrap_or("error")
                .to_string()
        };
        let (code, message) = match (self.status.is_redirection(), &self.location) {
            (true, Some(location)) => (
                reason(),
                format!("a redirect to {location}, not followed: the exporter reads only the configured graph_url"),
            ),
            _ => match serde_json::from_slice::<Envelope>(body) {
                Ok(e) => (e.error.code, e.error.message),
                Err(_) => (reason(), String::new()),
            },
        };
        GraphError::Status {
            path: path.to_string(),
            status: self.status.as_u16(),
            code,
            message,
            retry_after,
            request_ids: (self.ids != RequestIds::default()).then(|| Box::new(self.ids)),
        }
    }
}

/// The longest `Retry-After` taken at its word. Graph asks for seconds to minutes; anything
/// longer (`1e20`, a date years ahead) is clamped here, so that no caller can overflow a
/// `Duration` or an `Instant` with it. The client waits at most [`RetryPolicy::max_wait`] anyway.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Reads `Retry-After` as decimal seconds (Graph sends `2.128`) or as an HTTP date, clamped to
/// [`MAX_RETRY_AFTER`]. Negative, NaN and unreadable values are ignored.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        if secs.is_nan() || secs < 0.0 {
            return None;
        }
        // `Duration::from_secs_f64` panics above u64::MAX seconds (and on infinity).
        let wait = Duration::try_from_secs_f64(secs).unwrap_or(MAX_RETRY_AFTER);
        return Some(wait.min(MAX_RETRY_AFTER));
    }
    let at = DateTime::parse_from_rfc2822(raw).ok()?.with_timezone(&Utc);
    Some(
        (at - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
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
        assert_eq!(retry_after(&headers("NaN"), now), None);
        assert_eq!(retry_after(&headers("-inf"), now), None);
    }

    #[test]
    fn absurd_retry_afters_are_clamped_not_panicked_on() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        for absurd in [
            "1e20",
            "18446744073709551616",
            "1e308",
            "inf",
            "86401",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            assert_eq!(
                retry_after(&headers(absurd), now),
                Some(MAX_RETRY_AFTER),
                "{absurd}"
            );
        }
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn error_bodies_name_graphs_code() {
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}"#;
        let err = answer(StatusCode::FORBIDDEN, &[]).error("v1.0/subscribedSkus", body, None);
        assert_eq!(
            err.to_string(),
            "GET v1.0/subscribedSkus: HTTP 403 Authorization_RequestDenied: Insufficient privileges to complete the operation."
        );
        let err = answer(StatusCode::BAD_GATEWAY, &[]).error("v1.0/x", b"<html>", None);
        assert_eq!(err.to_string(), "GET v1.0/x: HTTP 502 Bad Gateway: ");
    }

    fn answer(status: StatusCode, headers: &[(&'static str, &'static str)]) -> Answer {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        Answer::of(status, &map)
    }

    #[test]
    fn error_text_names_graphs_request_ids_and_where_a_redirect_pointed() {
        let body = br#"{"error":{"code":"Forbidden","message":"No."}}"#;
        let ids = [
            ("request-id", "8f7b7c4e-0000-4000-8000-000000000001"),
            ("client-request-id", "8f7b7c4e-0000-4000-8000-000000000002"),
        ];
        let err = answer(StatusCode::FORBIDDEN, &ids).error("v1.0/x", body, None);
        assert_eq!(
            err.to_string(),
            "GET v1.0/x: HTTP 403 Forbidden: No. (request-id: 8f7b7c4e-0000-4000-8000-000000000001, client-request-id: 8f7b7c4e-0000-4000-8000-000000000002)"
        );
        let err = answer(StatusCode::FORBIDDEN, &ids[..1]).error("v1.0/x", body, None);
        assert_eq!(
            err.to_string(),
            "GET v1.0/x: HTTP 403 Forbidden: No. (request-id: 8f7b7c4e-0000-4000-8000-000000000001)"
        );
        let err = answer(
            StatusCode::TEMPORARY_REDIRECT,
            &[("location", "https://elsewhere.example/v1.0/x")],
        )
        .error("v1.0/x", b"", None);
        assert_eq!(
            err.to_string(),
            "GET v1.0/x: HTTP 307 Temporary Redirect: a redirect to https://elsewhere.example/v1.0/x, not followed: the exporter reads only the configured graph_url"
        );
    }
}
