//! Counters a test or benchmark asserts on, kept while the bounded request log forgets: requests
//! per tenant and per path, token requests, `$batch` items, the peak number of requests in
//! flight (Graph and token endpoint apart) and each tenant's first request. Also serves them as
//! JSON on `GET /_sim/stats`, to loopback clients only, for tools that run the simulator out of
//! process (`scripts/bench`). Knows no Graph resource; never holds a lock across an await.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::record::RecordedRequest;
use super::sync::lock;

/// What the simulator has counted since it started. Round trips are HTTP requests: a `$batch`
/// is one Graph round trip, whatever it carries; its items are counted apart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SimStats {
    /// Every request answered (or abandoned by its client), of any kind.
    pub requests: u64,
    /// Requests to `/v1.0/...` and `/beta/...`, `$batch` included.
    pub graph_round_trips: u64,
    /// Requests to the token endpoint and `/msi/token`.
    pub token_requests: u64,
    /// Items carried inside `$batch` requests.
    pub batch_items: u64,
    /// Access tokens issued.
    pub tokens_issued: u64,
    /// The most Graph requests in flight at one instant.
    pub peak_in_flight_graph: u64,
    /// The most token requests in flight at one instant.
    pub peak_in_flight_token: u64,
    /// Requests per percent-decoded path (no query); token URLs are counted under
    /// `/{tenant}/oauth2/v2.0/token` whatever tenant they name.
    pub paths: BTreeMap<String, u64>,
    /// `$batch` items per path, as the items name them (`/deviceManagement`, no version).
    pub batch_item_paths: BTreeMap<String, u64>,
    /// Per scenario tenant id, for requests the simulator could tie to a tenant.
    pub tenants: BTreeMap<String, TenantStats>,
}

/// One tenant's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TenantStats {
    pub graph_round_trips: u64,
    pub token_requests: u64,
    pub batch_items: u64,
    /// When its first request (of any kind) arrived.
    pub first_request_at: Option<DateTime<Utc>>,
    /// When its first Graph request arrived.
    pub first_graph_request_at: Option<DateTime<Utc>>,
}

/// Which counters a request moves, from its path alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    Graph,
    Token,
    Other,
}

/// The path token URLs are counted under.
const TOKEN_PATH: &str = "/{tenant}/oauth2/v2.0/token";

impl RequestKind {
    /// `path` is percent-decoded, with its leading slash.
    pub(crate) fn of(path: &str) -> RequestKind {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            [_, "oauth2", "v2.0", "token"] | ["msi", "token"] => RequestKind::Token,
            ["v1.0" | "beta", _, ..] => RequestKind::Graph,
            _ => RequestKind::Other,
        }
    }
}

/// The live counters behind [`SimStats`].
#[derive(Default)]
pub(crate) struct Counters {
    totals: Mutex<SimStats>,
    in_flight_graph: AtomicU64,
    in_flight_token: AtomicU64,
    peak_graph: AtomicU64,
    peak_token: AtomicU64,
}

/// Counts a request in flight until dropped (answered, or abandoned by its client).
pub(crate) struct InFlight<'a> {
    current: Option<&'a AtomicU64>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(current) = self.current {
            current.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Counters {
    /// Marks a request of `kind` in flight and raises the peak if needed.
    pub(crate) fn enter(&self, kind: RequestKind) -> InFlight<'_> {
        let (current, peak) = match kind {
            RequestKind::Graph => (&self.in_flight_graph, &self.peak_graph),
            RequestKind::Token => (&self.in_flight_token, &self.peak_token),
            RequestKind::Other => return InFlight { current: None },
        };
        let now = current.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        InFlight {
            current: Some(current),
        }
    }

    /// Counts one answered request.
    pub(crate) fn request(&self, request: &RecordedRequest) {
        let kind = RequestKind::of(&request.path);
        let mut totals = lock(&self.totals);
        totals.requests += 1;
        let path = match kind {
            RequestKind::Token if request.path != "/msi/token" => TOKEN_PATH,
            _ => request.path.as_str(),
        };
        *totals.paths.entry(path.to_string()).or_default() += 1;
        match kind {
            RequestKind::Graph => totals.graph_round_trips += 1,
            RequestKind::Token => totals.token_requests += 1,
            RequestKind::Other => {}
        }
        let Some(tenant_id) = &request.tenant_id else {
            return;
        };
        let tenant = totals.tenants.entry(tenant_id.clone()).or_default();
        let earliest = |slot: &mut Option<DateTime<Utc>>| {
            // Requests are counted when answered, so a slow first one may come in late.
            if slot.is_none_or(|t| request.at < t) {
                *slot = Some(request.at);
            }
        };
        earliest(&mut tenant.first_request_at);
        match kind {
            RequestKind::Graph => {
                tenant.graph_round_trips += 1;
                earliest(&mut tenant.first_graph_request_at);
            }
            RequestKind::Token => tenant.token_requests += 1,
            RequestKind::Other => {}
        }
    }

    pub(crate) fn batch_item(&self, tenant_id: &str, path: &str) {
        let mut totals = lock(&self.totals);
        totals.batch_items += 1;
        *totals.batch_item_paths.entry(path.to_string()).or_default() += 1;
        totals
            .tenants
            .entry(tenant_id.to_string())
            .or_default()
            .batch_items += 1;
    }

    pub(crate) fn token_issued(&self) {
        lock(&self.totals).tokens_issued += 1;
    }

    pub(crate) fn snapshot(&self) -> SimStats {
        let mut stats = lock(&self.totals).clone();
        stats.peak_in_flight_graph = self.peak_graph.load(Ordering::SeqCst);
        stats.peak_in_flight_token = self.peak_token.load(Ordering::SeqCst);
        stats
    }
}

/// The peer of a connection, put in each request's extensions by the server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) SocketAddr);

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, tenant: Option<&str>, at: &str) -> RecordedRequest {
        RecordedRequest {
            at: at.parse().unwrap(),
            tenant_id: tenant.map(str::to_string),
            method: "GET".into(),
            path: path.into(),
            query: None,
            status: 200,
            in_batch: false,
        }
    }

    #[test]
    fn a_batch_is_one_round_trip_and_its_items_count_apart() {
        let counters = Counters::default();
        let t = "11111111-2222-4333-8444-555555555555";
        counters.request(&request("/v1.0/$batch", Some(t), "2026-11-25T12:00:01Z"));
        counters.batch_item(t, "/deviceManagement");
        counters.batch_item(t, "/subscribedSkus");
        counters.request(&request(
            &format!("/{t}/oauth2/v2.0/token"),
            Some(t),
            "2026-11-25T12:00:00Z",
        ));
        counters.request(&request("/_sim/stats", None, "2026-11-25T12:00:02Z"));
        let at = |s: &str| Some(s.parse().unwrap());
        assert_eq!(
            counters.snapshot(),
            SimStats {
                requests: 3,
                graph_round_trips: 1,
                token_requests: 1,
                batch_items: 2,
                tokens_issued: 0,
                peak_in_flight_graph: 0,
                peak_in_flight_token: 0,
                paths: [("/v1.0/$batch", 1), (TOKEN_PATH, 1), ("/_sim/stats", 1)]
                    .into_iter()
                    .map(|(p, n)| (p.to_string(), n))
                    .collect(),
                batch_item_paths: [("/deviceManagement", 1), ("/subscribedSkus", 1)]
                    .into_iter()
                    .map(|(p, n)| (p.to_string(), n))
                    .collect(),
                tenants: [(
                    t.to_string(),
                    TenantStats {
                        graph_round_trips: 1,
                        token_requests: 1,
                        batch_items: 2,
                        first_request_at: at("2026-11-25T12:00:00Z"),
                        first_graph_request_at: at("2026-11-25T12:00:01Z"),
                    }
                )]
                .into_iter()
                .collect(),
            }
        );
    }

    #[test]
    fn in_flight_peaks_count_graph_and_token_apart() {
        let counters = Counters::default();
        let a = counters.enter(RequestKind::of("/v1.0/organization"));
        let b = counters.enter(RequestKind::of("/beta/deviceManagement"));
        drop(a);
        let c = counters.enter(RequestKind::of("/v1.0/$batch"));
        let t = counters.enter(RequestKind::of(
            "/contoso.onmicrosoft.com/oauth2/v2.0/token",
        ));
        let _other = counters.enter(RequestKind::of("/_sim/stats"));
        drop((b, c, t));
        let d = counters.enter(RequestKind::of("/msi/token"));
        drop(d);
        let stats = counters.snapshot();
        assert_eq!(
            (stats.peak_in_flight_graph, stats.peak_in_flight_token),
            (2, 1)
        );
    }
}
