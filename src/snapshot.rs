//! What the polls of one (tenant, source) leave behind: the immutable snapshot the state
//! publishes and the metrics and status page read. Below both.

use crate::sources::SourceData;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// Why a poll failed, in the words an operator acts on. Never holds a secret or a token: it is
/// built from a [`crate::graph::GraphError`], which carries neither.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PollError {
    /// When the poll failed.
    pub at: DateTime<Utc>,
    /// The HTTP status Graph answered with, when it answered.
    pub http_status: Option<u16>,
    /// Graph's `error.code` (`Authorization_RequestDenied`), or Entra's `AADSTS` code for a
    /// refused sign-in.
    pub code: Option<String>,
    /// What went wrong.
    pub message: String,
    /// Graph's `request-id`, which Microsoft support asks for.
    pub request_id: Option<String>,
    /// The application permission to grant (with admin consent) when Graph refused access.
    pub permission: Option<&'static str>,
    /// True when signing in to the tenant failed, not the request of this source: every
    /// source of that poll failed with this same error (see [`crate::state::SignIn`]).
    pub sign_in: bool,
}

/// What the last polls of one (tenant, source) left behind. Immutable once published.
#[derive(Debug, Clone, Default)]
pub struct SourceState {
    /// The data of the last successful poll; kept when a later poll fails.
    pub data: Option<Arc<SourceData>>,
    /// Whether the last poll succeeded.
    pub up: bool,
    /// When a poll last succeeded.
    pub last_success: Option<DateTime<Utc>>,
    /// When the last poll finished, successful or not.
    pub last_poll: Option<DateTime<Utc>>,
    /// How long the last poll took.
    pub duration: Option<Duration>,
    /// Polls finished so far, successful or not.
    pub completed_polls: u64,
    /// Failed polls since the last success (drives the retry backoff).
    pub consecutive_failures: u32,
    /// Why the last failed poll failed; kept after a later success so the page can say what
    /// happened last, with its time.
    pub last_error: Option<Arc<PollError>>,
}
