//! The accept loop around the handlers: HTTP/1.1 and HTTP/2, TLS and basic auth from the web
//! config in force, the configured headers, and the limits that keep one client from starving
//! the others:
//!
//! - at most `max_connections` connections; at the cap, a new connection takes the place of
//!   the connection idle the longest (one with no request being answered), and when every
//!   connection is busy, new ones wait in the kernel's queue;
//! - a request head must arrive within `header_read_timeout`, a TLS handshake within
//!   `tls_handshake_timeout`, and a connection with nothing to do closes after `idle_timeout`;
//! - on shutdown, listeners close at once; a response being sent gets `shutdown_grace` to reach
//!   its client, however slowly it reads; connections with nothing to answer (idle, or a
//!   half-sent request) close at once;
//! - password checks are bounded per client and overall ([`super::auth`]): past the bound a
//!   request gets 429 at once, so a guessing flood cannot hold the connections a scrape needs.
//!
//! Owns connections; what a request gets is [`crate::http`].

use super::auth::Verdict;
use super::tls::client_san_allowed;
use super::watch::{Active, WebConfigFile};
use crate::http::Endpoints;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{
    HeaderValue, AUTHORIZATION, CONNECTION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE,
};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How much the server lets each client have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once (`--web.max-connections`).
    pub max_connections: usize,
    /// Time to receive a whole request head.
    pub header_read_timeout: Duration,
    /// Time to finish a TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// A connection with no request for this long is closed.
    pub idle_timeout: Duration,
    /// How long requests being answered may take to finish after shutdown starts.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // Prometheus' own --web.max-connections default.
            max_connections: 512,
            header_read_timeout: Duration::from_secs(15),
            tls_handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serves on every listener until `shutdown`, then closes idle connections at once and gives
/// requests being answered `limits.shutdown_grace` to finish.
pub async fn serve(
    listeners: Vec<TcpListener>,
    web: Arc<WebConfigFile>,
    endpoints: Arc<Endpoints>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let tracker = Arc::new(Tracker::new(limits.max_connections.max(1)));
    let mut loops = JoinSet::new();
    for listener in listeners {
        loops.spawn(accept_loop(
            listener,
            Arc::clone(&web),
            Arc::clone(&endpoints),
            limits,
            Arc::clone(&tracker),
            shutdown.clone(),
        ));
    }
    while loops.join_next().await.is_some() {}
    // Connections see the same token; wait for them, but never longer than the grace.
    tokio::select! {
        _ = tracker.all_closed() => {}
        _ = tokio::time::sleep(limits.shutdown_grace + Duration::from_secs(1)) => {
            tracing::warn!("connections still open after the shutdown grace; closing them");
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    web: Arc<WebConfigFile>,
    endpoints: Arc<Endpoints>,
    limits: Limits,
    tracker: Arc<Tracker>,
    shutdown: CancellationToken,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => return,
        };
        let conn = tokio::select! {
            c = tracker.admit() => c,
            _ = shutdown.cancelled() => return,
        };
        let web = Arc::clone(&web);
        let endpoints = Arc::clone(&endpoints);
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let active = web.current().await;
            let peer = peer.ip();
            connection(stream, peer, active, endpoints, limits, &conn, shutdown).await;
            drop(conn);
        });
    }
}

async fn connection(
    stream: TcpStream,
    peer: IpAddr,
    active: Arc<Active>,
    endpoints: Arc<Endpoints>,
    limits: Limits,
    conn: &Admitted,
    shutdown: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let Some(tls) = active.tls.clone() else {
        serve_io(stream, peer, active, endpoints, limits, conn, shutdown).await;
        return;
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let handshake = tokio::select! {
        r = tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(stream)) => r,
        _ = conn.state.evict.cancelled() => return,
        _ = shutdown.cancelled() => return,
    };
    let stream = match handshake {
        Ok(Ok(s)) => s,
        Ok(Err(err)) => {
            // Plain HTTP sent to a TLS listener ends here too.
            tracing::debug!(error = %err, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            return;
        }
    };
    let allowed = active
        .config
        .tls
        .as_ref()
        .map_or(&[][..], |t| t.client_allowed_sans.as_slice());
    if !client_san_allowed(stream.get_ref().1.peer_certificates(), allowed) {
        tracing::debug!("client certificate has none of the allowed SANs");
        return;
    }
    serve_io(stream, peer, active, endpoints, limits, conn, shutdown).await;
}

async fn serve_io<I>(
    io: I,
    peer: IpAddr,
    active: Arc<Active>,
    endpoints: Arc<Endpoints>,
    limits: Limits,
    conn: &Admitted,
    shutdown: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let http2 = active.tls.is_some() && active.config.http2;
    let state = Arc::clone(&conn.state);
    let service = service_fn(move |req: Request<Incoming>| {
        let endpoints = Arc::clone(&endpoints);
        let active = Arc::clone(&active);
        let busy = Busy::start(Arc::clone(&state));
        async move {
            let authorization = req.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
            let verdict = active.users.check(authorization, peer).await;
            let mut response = match verdict {
                Verdict::Allowed => endpoints.respond(&req).await,
                Verdict::Refused => unauthorized(),
                Verdict::Busy => too_many_checks(),
            };
            // A refused HTTP/1 client does not keep its connection: kept alive, a flood of
            // refused guesses would fill the connection cap with idle connections whose
            // eviction could fall on a scraper's connection still sending its request.
            if verdict != Verdict::Allowed && req.version() < Version::HTTP_2 {
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
            }
            for (name, value) in &active.config.headers {
                response.headers_mut().insert(name.clone(), value.clone());
            }
            Ok::<_, Infallible>(response.map(|inner| TrackedBody { inner, _busy: busy }))
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(32)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(10));
    // As with the toolkit, HTTP/2 only over TLS (negotiated through ALPN), and only when the
    // web config does not switch it off.
    let builder = if http2 { builder } else { builder.http1_only() };
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(err) = result {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        }
        _ = conn.state.evict.cancelled() => {
            tracing::debug!("idle connection closed to make room for a new one");
        }
        _ = conn.state.idle_for(limits.idle_timeout) => {
            tracing::debug!("idle connection closed");
        }
        _ = shutdown.cancelled() => {
            // hyper closes an idle keep-alive connection at once, and one answering a request
            // once the response is written out: a slow reader gets the grace to read it. A
            // connection that never had a whole request head (nothing sent, or half of it) has
            // nothing to finish, but hyper would wait for the head: it closes now.
            connection.as_mut().graceful_shutdown();
            if conn.state.requests.load(Ordering::Acquire) > 0 {
                tokio::select! {
                    _ = connection.as_mut() => {}
                    _ = tokio::time::sleep(limits.shutdown_grace) => {
                        tracing::debug!("response not sent within the shutdown grace; closed");
                    }
                }
            }
        }
    }
}

/// Past the password-check budget: checked later, not now.
fn too_many_checks() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(
        b"Too many password checks waiting; retry later.\n",
    )));
    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    r.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn unauthorized() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(b"Unauthorized\n")));
    *r.status_mut() = StatusCode::UNAUTHORIZED;
    r.headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// One connection's bookkeeping.
#[derive(Debug)]
struct ConnState {
    /// Requests being answered (from the handler's start until the body is sent or dropped).
    busy: AtomicUsize,
    /// Requests started on this connection.
    requests: AtomicU64,
    /// Milliseconds since `epoch` when the connection last became idle.
    idle_since: AtomicU64,
    epoch: Instant,
    /// Fired to close the connection for a newcomer.
    evict: CancellationToken,
}

impl ConnState {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Resolves once the connection has been idle for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let since = Duration::from_millis(self.idle_since.load(Ordering::Acquire));
            let due = self.epoch + since + timeout;
            if self.busy.load(Ordering::Acquire) == 0 && Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due.max(Instant::now() + Duration::from_millis(100))).await;
        }
    }
}

/// Counts a request as being answered until its response body is gone.
struct Busy(Arc<ConnState>);

impl Busy {
    fn start(state: Arc<ConnState>) -> Busy {
        state.busy.fetch_add(1, Ordering::AcqRel);
        state.requests.fetch_add(1, Ordering::AcqRel);
        Busy(state)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.idle_since.store(self.0.now(), Ordering::Release);
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as busy until hyper has sent it.
struct TrackedBody {
    inner: Full<Bytes>,
    _busy: Busy,
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Every open connection, for the cap.
#[derive(Debug)]
struct Tracker {
    max: usize,
    epoch: Instant,
    inner: Mutex<TrackerInner>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct TrackerInner {
    next_id: u64,
    open: HashMap<u64, Arc<ConnState>>,
}

/// A place among the open connections, given back when dropped.
struct Admitted {
    id: u64,
    state: Arc<ConnState>,
    tracker: Arc<Tracker>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.tracker.lock().open.remove(&self.id);
        self.tracker.changed.notify_waiters();
    }
}

impl Tracker {
    fn new(max: usize) -> Tracker {
        Tracker {
            max,
            epoch: Instant::now(),
            inner: Mutex::new(TrackerInner::default()),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TrackerInner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// A place for a new connection: a free one, or the place of the connection idle the
    /// longest; waits while every connection is answering a request.
    async fn admit(self: &Arc<Self>) -> Admitted {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(a) = self.try_admit() {
                return a;
            }
            changed.await;
        }
    }

    fn try_admit(self: &Arc<Self>) -> Option<Admitted> {
        let mut inner = self.lock();
        if inner.open.len() >= self.max {
            let (&id, victim) = inner
                .open
                .iter()
                .filter(|(_, c)| c.busy.load(Ordering::Acquire) == 0)
                .min_by_key(|(_, c)| c.idle_since.load(Ordering::Acquire))?;
            victim.evict.cancel();
            inner.open.remove(&id);
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let state = Arc::new(ConnState {
            busy: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            idle_since: AtomicU64::new(self.epoch.elapsed().as_millis() as u64),
            epoch: self.epoch,
            evict: CancellationToken::new(),
        });
        inner.open.insert(id, Arc::clone(&state));
        Some(Admitted {
            id,
            state,
            tracker: Arc::clone(self),
        })
    }

    async fn all_closed(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.lock().open.is_empty() {
                return;
            }
            changed.await;
        }
    }
}
