//! The latest result of every (tenant, source), swapped atomically by the poller and read by
//! the `/metrics` handler. Readers never wait for a poll: they clone an `Arc` and go.

use crate::config::SourceSettings;
use crate::graph::Cloud;
use crate::health::Thresholds;
use crate::sources::{Options, Source, SourceData};
use chrono::{DateTime, Utc};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What the last polls of one (tenant, source) left behind. Immutable once published.
#[derive(Debug, Clone, Default)]
pub struct SourceState {
    /// The data of the last successful poll; kept when a later poll fails.
    pub data: Option<Arc<SourceData>>,
    /// Whether the last poll succeeded.
    pub up: bool,
    /// When a poll last succeeded.
    pub last_success: Option<DateTime<Utc>>,
    /// How long the last poll took.
    pub duration: Option<Duration>,
    /// Polls finished so far, successful or not.
    pub completed_polls: u64,
    /// When the last poll, successful or not, started.
    pub last_poll: Option<DateTime<Utc>>,
    /// Why the last failed poll failed; kept after a later success so the page can say what
    /// happened last, with its time.
    pub last_error: Option<Arc<PollError>>,
}

/// Why a poll failed, in the words an operator acts on. Never holds a secret or a token: it is
/// built from a [`crate::graph::GraphError`], which carries neither.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PollError {
    /// When the failed poll started.
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
}

/// One (tenant, source) pair and its latest state.
#[derive(Debug)]
pub struct Slot {
    /// The tenant.
    pub tenant_id: String,
    /// The source.
    pub source: Source,
    /// Time between two polls.
    pub interval: Duration,
    current: RwLock<Arc<SourceState>>,
}

impl Slot {
    /// The latest state.
    pub fn load(&self) -> Arc<SourceState> {
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            // A writer cannot panic while holding the lock (it only swaps an Arc), but if one
            // ever did, the value inside is still a whole, valid snapshot.
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the state.
    pub fn publish(&self, state: SourceState) {
        let new = Arc::new(state);
        match self.current.write() {
            Ok(mut g) => *g = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }
}

/// Every slot, plus what encoding needs besides them.
#[derive(Debug)]
pub struct State {
    slots: Vec<Slot>,
    /// Thresholds for scrape-time health.
    pub thresholds: Thresholds,
    /// Watched services and list lengths.
    pub options: Options,
    /// The cloud the tenants live in, for links into its admin center.
    pub cloud: Cloud,
}

impl State {
    /// One slot per (tenant, source), tenants in the given order.
    pub fn new(
        tenant_ids: &[String],
        sources: &[SourceSettings],
        thresholds: Thresholds,
        options: Options,
    ) -> Self {
        let slots = tenant_ids
            .iter()
            .flat_map(|t| {
                sources.iter().map(move |s| Slot {
                    tenant_id: t.clone(),
                    source: s.source,
                    interval: s.interval,
                    current: RwLock::default(),
                })
            })
            .collect();
        Self {
            slots,
            thresholds,
            options,
            cloud: Cloud::default(),
        }
    }

    /// The same state, for tenants in `cloud`.
    pub fn with_cloud(mut self, cloud: Cloud) -> Self {
        self.cloud = cloud;
        self
    }

    /// Every slot.
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// True once every (tenant, source) has finished a first poll, successful or not.
    pub fn is_ready(&self) -> bool {
        self.slots.iter().all(|s| s.load().completed_polls > 0)
    }
}
