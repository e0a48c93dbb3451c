//! One answered request as the request log keeps it. A leaf: the router records it, the state
//! keeps it, the counters count it.

use chrono::{DateTime, Utc};

/// One request the simulator answered (or whose client hung up: status 499).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// When the request arrived, with sub-second precision.
    pub at: DateTime<Utc>,
    /// The scenario's tenant the request concerned: from the token URL, or from the bearer token
    /// for Graph. `None` for an unknown tenant or a missing/invalid token.
    pub tenant_id: Option<String>,
    pub method: String,
    /// The percent-decoded path, e.g. `/v1.0/subscribedSkus`.
    pub path: String,
    /// The raw query, still percent-encoded, without the `?`.
    pub query: Option<String>,
    /// The status sent.
    pub status: u16,
    /// Whether this was an item of a JSON batch; the batch itself is logged as its `POST`
    /// (`/v1.0/$batch`), before its items.
    pub in_batch: bool,
}
