//! The poller: one task per (tenant, source) that fetches on a schedule and publishes an
//! immutable snapshot. A failed poll keeps the last good data, marks the source down, and
//! touches no other source.

use crate::config::PollSettings;
use crate::graph::{GraphClient, GraphError};
use crate::state::{PollError, Slot, SourceState, State};
use chrono::{DateTime, Utc};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Polls every slot of `state` until `shutdown` fires. `clients` maps a tenant id to its client.
pub async fn run(
    state: Arc<State>,
    clients: Vec<GraphClient>,
    settings: PollSettings,
    shutdown: CancellationToken,
) {
    let mut tasks = JoinSet::new();
    for index in 0..state.slots().len() {
        let slot_tenant = &state.slots()[index].tenant_id;
        let Some(client) = clients
            .iter()
            .find(|c| c.tenant_id() == slot_tenant)
            .cloned()
        else {
            tracing::error!(tenant_id = %slot_tenant, "no Graph client for tenant");
            continue;
        };
        let state = Arc::clone(&state);
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            let slot = &state.slots()[index];
            poll_loop(slot, &client, settings, shutdown).await;
        });
    }
    while tasks.join_next().await.is_some() {}
}

async fn poll_loop(
    slot: &Slot,
    client: &GraphClient,
    settings: PollSettings,
    shutdown: CancellationToken,
) {
    // Later polls are spread over a tenth of the interval, the same offset for a slot every
    // time, so that hundreds of tenants do not hit Graph in the same second.
    let interval = slot.interval;
    let offset = spread(&slot.tenant_id, slot.source.name(), interval / 10);
    let mut next = Instant::now();
    loop {
        let span =
            tracing::info_span!("poll", tenant_id = %slot.tenant_id, source = slot.source.name());
        // A poll can wait minutes (Retry-After, an unreachable authority); shutdown must not.
        // Dropping it mid-way is safe: it only sends GETs and publishes at the very end.
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = poll_once(slot, client, settings.timeout).instrument(span) => {}
        }
        next += interval;
        let wake = next + offset;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep_until(wake) => {}
        }
        // After a long stall (a suspended laptop, a stuck poll), don't fire a burst to catch up.
        if next + interval < Instant::now() {
            next = Instant::now();
        }
    }
}

/// Polls one source once and publishes the result.
pub async fn poll_once(slot: &Slot, client: &GraphClient, timeout: Duration) {
    let started = Instant::now();
    let started_at = Utc::now();
    let result = match tokio::time::timeout(timeout, slot.source.fetch(client)).await {
        Ok(r) => r,
        Err(_) => Err(GraphError::Transport {
            path: slot.source.request().path.to_string(),
            message: format!("poll timed out after {}", crate::duration::format(timeout)),
        }),
    };
    let duration = started.elapsed();
    let previous = slot.load();
    let next = match result {
        Ok(data) => {
            tracing::debug!(duration_seconds = duration.as_secs_f64(), "poll succeeded");
            SourceState {
                data: Some(Arc::new(data)),
                up: true,
                last_success: Some(Utc::now()),
                duration: Some(duration),
                completed_polls: previous.completed_polls + 1,
                last_poll: Some(started_at),
                last_error: previous.last_error.clone(),
            }
        }
        Err(err) => {
            log_failure(slot, &err);
            SourceState {
                data: previous.data.clone(),
                up: false,
                last_success: previous.last_success,
                duration: Some(duration),
                completed_polls: previous.completed_polls + 1,
                last_poll: Some(started_at),
                last_error: Some(Arc::new(poll_error(slot, &err, started_at))),
            }
        }
    };
    slot.publish(next);
}

/// What the status page shows about a failed poll: the same facts [`log_failure`] logs.
fn poll_error(slot: &Slot, err: &GraphError, at: DateTime<Utc>) -> PollError {
    let (http_status, code, message) = match err {
        GraphError::Status {
            status,
            code,
            message,
            ..
        } => (Some(*status), Some(code.clone()), message.clone()),
        // Entra's refusal names its reason as `AADSTS<digits>` inside the message.
        GraphError::Token(message) => (None, aadsts_code(message), err.to_string()),
        _ => (None, None, err.to_string()),
    };
    PollError {
        at,
        http_status,
        code: code.filter(|c| !c.is_empty()),
        message,
        // `GraphError::Status` does not carry Graph's `request-id` header yet.
        request_id: None,
        permission: (http_status == Some(403)).then(|| slot.source.permission()),
    }
}

fn aadsts_code(message: &str) -> Option<String> {
    let start = message.find("AADSTS")?;
    let digits = message[start + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .count();
    (digits > 0).then(|| message[start..start + 6 + digits].to_string())
}

fn log_failure(slot: &Slot, err: &GraphError) {
    if let GraphError::Token(_) = err {
        tracing::warn!(
            error = %err,
            "poll failed: signing in to the tenant failed; the AADSTS code says why (README, \"Credentials\")"
        );
        return;
    }
    match err.status() {
        Some(403) => tracing::warn!(
            error = %err,
            permission = slot.source.permission(),
            "poll failed: the app registration lacks a Graph application permission; grant it (with admin consent)"
        ),
        Some(401) => tracing::warn!(error = %err, "poll failed: Graph refused the token"),
        _ => tracing::warn!(error = %err, "poll failed"),
    }
}

fn spread(tenant_id: &str, source: &str, window: Duration) -> Duration {
    let mut h = DefaultHasher::new();
    (tenant_id, source).hash(&mut h);
    let millis = window.as_millis().max(1) as u64;
    Duration::from_millis(h.finish() % millis)
}
