//! The HTTP endpoints: `/metrics` (or `--web.telemetry-path`), the status page and its API
//! (see [`crate::status`]), `/-/healthy`, `/-/ready`, and `POST /-/reload` (with
//! `--web.enable-lifecycle`). The server around them (listeners, TLS, authentication, limits)
//! is [`crate::web`].
//!
//! Handlers read the latest snapshots and renders; they never call Graph, parse config or
//! hold a lock across an await. Assembling `/metrics` is CPU work that grows with the tenants:
//! it runs on tokio's blocking pool, so that `/-/healthy` never waits behind a scrape. Status
//! pages are built there too, a few at a time (see [`crate::status::gate`]).

use crate::metrics::{encode, RenderCache};
use crate::reload::ReloadHandle;
use crate::state::State;
use crate::status::{Route, StatusPages};
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use hyper::{Method, Request, Response, StatusCode};
use prometheus::Registry;
use std::sync::{Arc, OnceLock};

/// What the handlers read.
#[derive(Debug)]
pub struct Endpoints {
    /// The families encoded at each scrape: build info, instruments and process metrics.
    pub registry: Registry,
    /// Every tenant's rendered families.
    pub renders: Arc<RenderCache>,
    /// For readiness.
    pub state: Arc<State>,
    /// Where metrics are served, `/metrics` by default.
    pub telemetry_path: String,
    /// Set with `--web.enable-lifecycle`: where `POST /-/reload` sends its request.
    pub lifecycle: OnceLock<ReloadHandle>,
    /// The status page and its API: rows kept between requests, built a few at a time.
    pub status: StatusPages,
}

impl Endpoints {
    /// Answers one request, the lifecycle endpoint included.
    pub async fn respond<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        if req.uri().path() == "/-/reload" {
            return self.reload(req.method()).await;
        }
        self.handle(req).await
    }

    /// `/-/reload`, as Prometheus answers it: POST or PUT reloads when the lifecycle API is
    /// enabled, 403 when it is not, 405 for other methods.
    async fn reload(&self, method: &Method) -> Response<Full<Bytes>> {
        if method != Method::POST && method != Method::PUT {
            let mut r = text(
                StatusCode::METHOD_NOT_ALLOWED,
                "Only POST and PUT are supported.\n",
            );
            r.headers_mut()
                .insert("allow", HeaderValue::from_static("POST, PUT"));
            return r;
        }
        let Some(handle) = self.lifecycle.get() else {
            return text(
                StatusCode::FORBIDDEN,
                "Lifecycle API is not enabled (--web.enable-lifecycle).\n",
            );
        };
        match handle.reload().await {
            Ok(()) => text(StatusCode::OK, "Configuration reloaded.\n"),
            Err(problems) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("failed to reload config: {problems}\n"),
            ),
        }
    }

    /// Answers one request.
    pub async fn handle<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
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
            return self.metrics(req).await;
        }
        if let Some(route) = Route::parse(path, req.uri().query()) {
            return self
                .status
                .respond(&self.state, &self.telemetry_path, route)
                .await;
        }
        match path {
            "/-/healthy" => text(StatusCode::OK, "Healthy.\n"),
            "/-/ready" => {
                if self.state.is_ready() {
                    text(StatusCode::OK, "Ready.\n")
                } else {
                    let waiting = self.state.waiting();
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

    async fn metrics<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
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
        let registry = self.registry.clone();
        let renders = Arc::clone(&self.renders);
        let assembled = tokio::task::spawn_blocking(move || {
            renders.body(&registry.gather(), gzip, chrono::Utc::now())
        })
        .await;
        let body = match assembled {
            Ok(body) => body,
            Err(err) => {
                tracing::error!(error = %err, "assembling /metrics failed");
                return text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Assembling the metrics failed; see the log.\n",
                );
            }
        };
        let mut response = Response::new(Full::new(body));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(encode::CONTENT_TYPE));
        headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
        if gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
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
