//! The HTTP endpoints: `/metrics` (or `--web.telemetry-path`), the status page and its API
//! (see [`crate::status`]), `/-/healthy`, `/-/ready`.
//!
//! Handlers read the latest snapshots and encode them; they never call Graph, parse config or
//! hold a lock across an await.

use crate::metrics::encode;
use crate::state::State;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use prometheus::Registry;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What the handlers read.
#[derive(Debug)]
pub struct Endpoints {
    /// Every collector: snapshots, instruments and process metrics.
    pub registry: Registry,
    /// For readiness.
    pub state: Arc<State>,
    /// Where metrics are served, `/metrics` by default.
    pub telemetry_path: String,
}

impl Endpoints {
    /// Answers one request.
    pub fn handle<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            let mut r = text(
                StatusCode::METHOD_NOT_ALLOWED,
                "Only GET and HEAD are supported.\n",
            );
            r.headers_mut()
                .insert("allow", HeaderValue::from_static("GET, HEAD"));
            return r;
        }
        let path = req.uri().path();
        if path == self.telemetry_path {
            return self.metrics(req);
        }
        if let Some(page) = crate::status::respond(
            &self.state,
            &self.telemetry_path,
            path,
            req.uri().query(),
            chrono::Utc::now(),
        ) {
            return page;
        }
        match path {
            "/-/healthy" => text(StatusCode::OK, "Healthy.\n"),
            "/-/ready" => {
                if self.state.is_ready() {
                    text(StatusCode::OK, "Ready.\n")
                } else {
                    let waiting = self
                        .state
                        .slots()
                        .iter()
                        .filter(|s| s.load().completed_polls == 0)
                        .count();
                    text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        &format!(
                            "Not ready: {waiting} source(s) have not finished a first poll.\n"
                        ),
                    )
                }
            }
            _ => text(StatusCode::NOT_FOUND, "Not found.\n"),
        }
    }

    fn metrics<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        let body = encode::text(&self.registry.gather()).into_bytes();
        let gzip = req
            .headers()
            .get_all(ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|enc| {
                let mut parts = enc.split(';');
                let name = parts.next().unwrap_or("").trim();
                let refused = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        == Some(0.0)
                });
                name.eq_ignore_ascii_case("gzip") && !refused
            });
        let mut response = Response::new(Full::new(Bytes::new()));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(encode::CONTENT_TYPE));
        headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
        let body = match gzip.then(|| encode::gzip(&body)) {
            Some(Ok(compressed)) => {
                headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                compressed
            }
            Some(Err(err)) => {
                tracing::warn!(error = %err, "gzip failed; answering uncompressed");
                body
            }
            None => body,
        };
        *response.body_mut() = Full::new(Bytes::from(body));
        response
    }
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Serves HTTP/1.1 and HTTP/2 on `listener` until `shutdown`, then lets open requests finish
/// (for at most 10 seconds).
pub async fn serve(listener: TcpListener, endpoints: Arc<Endpoints>, shutdown: CancellationToken) {
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(err) => {
                        // EMFILE and friends: back off briefly instead of spinning.
                        tracing::warn!(error = %err, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let endpoints = Arc::clone(&endpoints);
                let service = service_fn(move |req: Request<Incoming>| {
                    let response = endpoints.handle(&req);
                    async move { Ok::<_, Infallible>(response) }
                });
                let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(err) = conn.await {
                        tracing::debug!(error = %err, "connection ended with an error");
                    }
                });
            }
            _ = shutdown.cancelled() => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::warn!("connections still open after 10s; closing them");
        }
    }
}
