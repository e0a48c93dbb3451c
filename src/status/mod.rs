//! The status page: `/` (every tenant, worst first), `/tenants/{tenant_id}` (the four areas of
//! Intune's Tenant status page, and why a source is down) and the same data as JSON under
//! `/api/v1/tenants`.
//!
//! [`view`] builds plain data from the shared state at request time, evaluating health with
//! the code that builds the metrics; [`html`] and [`json`] render those views and nothing else.
//! Like every handler, this reads snapshots only: no Graph call, no lock held.

pub mod html;
pub mod json;
pub mod view;

use crate::state::State;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::Full;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Response, StatusCode};

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

/// Answers a status page or API path, or `None` when `path` is not one of them.
pub fn respond(
    state: &State,
    telemetry_path: &str,
    path: &str,
    query: Option<&str>,
    now: DateTime<Utc>,
) -> Option<Response<Full<Bytes>>> {
    let q = query_param(query, "q");
    if path == "/" {
        let mut fleet = view::fleet(state, now);
        let total = fleet.tenants.len();
        fleet.filter(&q);
        return Some(answer(
            StatusCode::OK,
            HTML,
            html::fleet(&fleet, total, &q, telemetry_path),
        ));
    }
    if path == "/api/v1/tenants" {
        let mut fleet = view::fleet(state, now);
        fleet.filter(&q);
        return Some(answer(StatusCode::OK, JSON, json::fleet(&fleet)));
    }
    if let Some(id) = tenant_segment(path, "/tenants/") {
        return Some(match view::tenant(state, &id, now) {
            Some(t) => answer(StatusCode::OK, HTML, html::tenant(&t, telemetry_path)),
            None => answer(
                StatusCode::NOT_FOUND,
                HTML,
                html::not_found(&id, telemetry_path),
            ),
        });
    }
    if let Some(id) = tenant_segment(path, "/api/v1/tenants/") {
        return Some(match view::tenant(state, &id, now) {
            Some(t) => answer(StatusCode::OK, JSON, json::tenant(&t)),
            None => answer(StatusCode::NOT_FOUND, JSON, json::not_found(&id)),
        });
    }
    None
}

/// The one percent-decoded segment after `prefix`, if the path is exactly that.
fn tenant_segment(path: &str, prefix: &str) -> Option<String> {
    let rest = path.strip_prefix(prefix)?;
    if rest.is_empty() || rest.contains('/') {
        return None;
    }
    Some(
        percent_encoding::percent_decode_str(rest)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// The value of `name` in a query string (`+` is a space), or empty.
fn query_param(query: Option<&str>, name: &str) -> String {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

fn answer(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Health is evaluated per request: a cached page would show yesterday's verdict.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_take_one_decoded_segment() {
        assert_eq!(
            tenant_segment("/tenants/abc", "/tenants/"),
            Some("abc".into())
        );
        assert_eq!(
            tenant_segment("/tenants/a%20b", "/tenants/"),
            Some("a b".into())
        );
        assert_eq!(tenant_segment("/tenants/", "/tenants/"), None);
        assert_eq!(tenant_segment("/tenants/a/b", "/tenants/"), None);
        assert_eq!(query_param(Some("x=1&q=acme+corp"), "q"), "acme corp");
        assert_eq!(query_param(None, "q"), "");
    }
}
