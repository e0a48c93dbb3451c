//! The status page: `/` (every tenant, worst first), `/tenants/{tenant_id}` (the four areas of
//! Intune's Tenant status page, and why a source is down) and the same data as JSON under
//! `/api/v1/tenants`.
//!
//! [`view`] builds plain data from the shared state, evaluating health with the code that builds
//! the metrics; [`html`] and [`json`] render those views and nothing else. [`cache`] keeps the
//! fleet table's rows between requests, so a request reads again only the tenants that changed;
//! [`gate`] builds every page on the blocking pool, a few at a time, so that no number of status
//! requests delays `/metrics` or `/-/healthy`. Like every handler, this reads snapshots only: no
//! Graph call, no lock held across an await.

pub mod cache;
pub mod gate;
pub mod html;
pub mod json;
pub mod view;

use crate::state::State;
use bytes::Bytes;
use chrono::Utc;
use http_body_util::Full;
use hyper::header::{
    HeaderValue, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, RETRY_AFTER,
};
use hyper::{Response, StatusCode};
use std::sync::{Arc, OnceLock};

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

/// A status page or API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/`: the fleet table, filtered by `?q=`.
    Fleet {
        /// The filter.
        query: String,
    },
    /// `/api/v1/tenants`: the fleet table as JSON, filtered by `?q=`.
    FleetJson {
        /// The filter.
        query: String,
    },
    /// `/tenants/{tenant_id}`.
    Tenant(String),
    /// `/api/v1/tenants/{tenant_id}`.
    TenantJson(String),
}

impl Route {
    /// The status route of `path`, or `None` when it is not one.
    pub fn parse(path: &str, query: Option<&str>) -> Option<Route> {
        if path == "/" {
            return Some(Route::Fleet {
                query: query_param(query, "q"),
            });
        }
        if path == "/api/v1/tenants" {
            return Some(Route::FleetJson {
                query: query_param(query, "q"),
            });
        }
        if let Some(id) = tenant_segment(path, "/tenants/") {
            return Some(Route::Tenant(id));
        }
        tenant_segment(path, "/api/v1/tenants/").map(Route::TenantJson)
    }

    fn is_json(&self) -> bool {
        matches!(self, Route::FleetJson { .. } | Route::TenantJson(_))
    }
}

/// The status pages: the fleet table's rows kept between requests, and the gate every page is
/// built through.
#[derive(Debug, Default)]
pub struct StatusPages {
    rows: Arc<cache::SummaryCache>,
    gate: gate::Gate,
}

impl StatusPages {
    /// Answers `route` from `state`, built off the async workers. A busy exporter answers 503
    /// with `Retry-After` rather than let status pages delay `/metrics`.
    pub async fn respond(
        &self,
        state: &Arc<State>,
        telemetry_path: &str,
        route: Route,
    ) -> Response<Full<Bytes>> {
        let rows = Arc::clone(&self.rows);
        let state = Arc::clone(state);
        let telemetry_path = telemetry_path.to_string();
        let json = route.is_json();
        match self
            .gate
            .run(move || build(&rows, &state, &telemetry_path, route))
            .await
        {
            Ok(response) => response,
            Err(gate::Busy) => {
                let body = if json {
                    "{\n  \"error\": \"busy: too many status requests at once; retry shortly\"\n}\n"
                } else {
                    "Too many status requests at once; retry shortly.\n"
                };
                let content_type = if json {
                    JSON
                } else {
                    "text/plain; charset=utf-8"
                };
                let mut r = answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    content_type,
                    body.to_string(),
                );
                r.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
        }
    }
}

/// Builds the answer to `route` at the present instant. CPU work: runs on the blocking pool.
fn build(
    rows: &cache::SummaryCache,
    state: &State,
    telemetry_path: &str,
    route: Route,
) -> Response<Full<Bytes>> {
    let now = Utc::now();
    match route {
        Route::Fleet { query } => {
            let mut fleet = rows.fleet(state, now);
            let total = fleet.tenants.len();
            fleet.filter(&query);
            answer(
                StatusCode::OK,
                HTML,
                html::fleet(&fleet, total, &query, telemetry_path),
            )
        }
        Route::FleetJson { query } => {
            let mut fleet = rows.fleet(state, now);
            fleet.filter(&query);
            answer(StatusCode::OK, JSON, json::fleet(&fleet))
        }
        Route::Tenant(id) => match view::tenant(state, &id, now) {
            Some(t) => answer(StatusCode::OK, HTML, html::tenant(&t, telemetry_path)),
            None => answer(
                StatusCode::NOT_FOUND,
                HTML,
                html::not_found(&id, telemetry_path),
            ),
        },
        Route::TenantJson(id) => match view::tenant(state, &id, now) {
            Some(t) => answer(StatusCode::OK, JSON, json::tenant(&t)),
            None => answer(StatusCode::NOT_FOUND, JSON, json::not_found(&id)),
        },
    }
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
    // The web config's `http_server_config.headers` are set after this, so an operator's
    // policy replaces this one.
    h.insert(CONTENT_SECURITY_POLICY, content_security_policy().clone());
    r
}

/// The default policy: nothing may load or run but the page's own stylesheet (named by its
/// hash, as it is inline), and the filter form may only submit to the exporter. The page has
/// no script, image, font or frame, and may not be framed.
pub fn content_security_policy() -> &'static HeaderValue {
    static POLICY: OnceLock<HeaderValue> = OnceLock::new();
    POLICY.get_or_init(|| {
        // Hash whatever style elements the page template has, so that the policy follows
        // any change to the stylesheet.
        let page = html::not_found("", "/metrics");
        let hashes: String = inline_styles(&page)
            .into_iter()
            .map(|css| {
                use base64::Engine;
                let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, css.as_bytes());
                format!(
                    " 'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
                )
            })
            .collect();
        let policy = format!(
            "default-src 'none'; style-src{hashes}; form-action 'self'; base-uri 'none'; \
             frame-ancestors 'none'"
        );
        HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'none'"))
    })
}

/// The text of every `<style>` element of a page.
fn inline_styles(page: &str) -> Vec<&str> {
    page.split("<style>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</style>").map(|(css, _)| css))
        .collect()
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
        assert_eq!(
            Route::parse("/", Some("q=acme")),
            Some(Route::Fleet {
                query: "acme".into()
            })
        );
        assert_eq!(
            Route::parse("/api/v1/tenants/a%2Fb", None),
            Some(Route::TenantJson("a/b".into()))
        );
        assert_eq!(Route::parse("/-/healthy", None), None);
    }

    #[test]
    fn the_policy_names_the_page_stylesheet_by_its_hash() {
        let page = html::not_found("t", "/metrics");
        let styles = inline_styles(&page);
        assert_eq!(styles.len(), 1);
        let policy = content_security_policy().to_str().unwrap();
        assert!(
            policy.starts_with("default-src 'none'; style-src 'sha256-"),
            "{policy}"
        );
        assert!(policy.ends_with("'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"));
        assert_eq!(
            inline_styles("<style>a</style><style>b</style>"),
            ["a", "b"]
        );
    }
}
