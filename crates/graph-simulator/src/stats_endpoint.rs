//! `GET /_sim/stats`: the counters ([`SimStats`](super::SimStats)) as JSON, for tools that run
//! the simulator out of process (`scripts/bench`). Served to loopback clients only; Graph has no
//! such path.

use hyper::body::Incoming;
use hyper::Request;

use super::reply::{self, Handled};
use super::state::SimState;
use super::stats::Peer;

/// Whether `GET /_sim/stats` is served: to loopback clients only, so the endpoint does not
/// exist (404, like any unknown path) beyond the machine.
pub(crate) fn allowed(request: &Request<Incoming>) -> bool {
    request.method() == hyper::Method::GET
        && request
            .extensions()
            .get::<Peer>()
            .is_some_and(|p| p.0.ip().is_loopback())
}

/// `GET /_sim/stats`: [`SimStats`] as JSON.
pub(crate) fn handle(state: &SimState) -> Handled {
    let body = serde_json::to_vec(&state.stats()).unwrap_or_default();
    Handled {
        tenant_id: None,
        response: reply::json(200, reply::ENTRA_JSON, body),
    }
}
