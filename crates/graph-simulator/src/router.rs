//! Dispatches each request to the token endpoint or Graph, records it with its final status, and
//! counts requests in flight (with their peak) so tests can check a client's concurrency caps.

use std::convert::Infallible;
use std::sync::Arc;

use chrono::Utc;
use hyper::body::Incoming;
use hyper::Request;
use serde_json::json;

use super::record::RecordedRequest;
use super::reply::{self, Handled, HttpResponse, GRAPH_JSON};
use super::state::SimState;
use super::{graph, stats_endpoint, token};

/// Status logged for a request whose client hung up before the answer (nginx's convention), so a
/// client timeout still shows up in [`super::Simulator::requests`].
const CLIENT_CLOSED: u16 = 499;

pub(crate) async fn handle(
    state: Arc<SimState>,
    request: Request<Incoming>,
) -> Result<HttpResponse, Infallible> {
    let path = percent_encoding::percent_decode_str(request.uri().path())
        .decode_utf8_lossy()
        .into_owned();
    let mut log = LogOnDrop {
        state: &state,
        entry: Some(RecordedRequest {
            at: Utc::now(),
            tenant_id: None,
            method: request.method().to_string(),
            path: path.clone(),
            query: request.uri().query().map(str::to_string),
            status: CLIENT_CLOSED,
            in_batch: false,
        }),
    };

    let _in_flight = state.in_flight(&path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let handled = match segments.as_slice() {
        [tenant, "oauth2", "v2.0", "token"] => token::handle(&state, tenant, request).await,
        ["msi", "token"] => token::managed_identity(&state, &request),
        [version @ ("v1.0" | "beta"), "$batch"] => {
            let version = version.to_string();
            graph::batch(&state, request, &version).await
        }
        ["v1.0" | "beta", _, ..] => graph::handle(&state, request, path.trim_matches('/')).await,
        ["_sim", "stats"] if stats_endpoint::allowed(&request) => stats_endpoint::handle(&state),
        _ => Handled {
            tenant_id: None,
            response: reply::json(
                404,
                GRAPH_JSON,
                json!({"error": {"code": "ResourceNotFound", "message": format!("Resource not found for the path '{path}'.")}})
                    .to_string(),
            ),
        },
    };
    if let Some(entry) = &mut log.entry {
        entry.tenant_id = handled.tenant_id;
        entry.status = handled.response.status().as_u16();
    }
    Ok(handled.response)
}

/// Records the request when the handler finishes — or when hyper drops it because the client left.
struct LogOnDrop<'a> {
    state: &'a SimState,
    entry: Option<RecordedRequest>,
}

impl Drop for LogOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            self.state.record(entry);
        }
    }
}
