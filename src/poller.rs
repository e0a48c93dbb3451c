//! The tenant poller: one task per tenant that polls the tenant's sources on their schedules
//! and publishes an immutable snapshot per source.
//!
//! The sources of a tenant that fall due together are fetched together (one `$batch` per API
//! version where Graph allows it), so a regular poll costs a couple of round trips, and a
//! refused sign-in costs one token request per tenant, not one per source. A failed source keeps
//! its last good data, is marked down, touches no other source, and is retried after a short
//! jittered backoff (doubling, capped at its interval) instead of waiting a whole interval;
//! Graph's `Retry-After` still holds every request of the tenant back (the client's limiter).
//!
//! Which tenants run is decided by [`crate::supervisor`]; this module owns one tenant's loop.

use crate::config::SourceSettings;
use crate::graph::{GraphClient, GraphError};
use crate::sources::Source;
use crate::state::{PollError, SignIn, SourceState, State, TenantState};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// What every tenant polls and how; replaced whole on reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The enabled sources and their intervals.
    pub sources: Vec<SourceSettings>,
    /// Longest one poll of a tenant may take, retries included.
    pub timeout: Duration,
    /// First wait before retrying a failed source; doubles up to the source's interval.
    pub retry_backoff: Duration,
}

impl Plan {
    fn interval(&self, source: Source) -> Option<Duration> {
        self.sources
            .iter()
            .find(|s| s.source == source)
            .map(|s| s.interval)
    }

    /// Sources due within this much of each other are fetched in one go: a tenth of the
    /// shortest interval, at most 30 s. With the default intervals (5m, 5m, 15m) every source
    /// of a tenant then rides in the same batches.
    fn grace(&self) -> Duration {
        self.sources
            .iter()
            .map(|s| s.interval / 10)
            .min()
            .unwrap_or_default()
            .min(Duration::from_secs(30))
    }
}

/// Polls one tenant until `shutdown`. The first poll waits `first_delay` (the fleet's start is
/// spread); a source that was polled before (the task was restarted by a reload) keeps its
/// schedule from its last poll.
pub async fn run_tenant(
    state: Arc<State>,
    tenant: Arc<TenantState>,
    client: GraphClient,
    mut plan_rx: watch::Receiver<Arc<Plan>>,
    first_delay: Duration,
    shutdown: CancellationToken,
) {
    let mut plan = Arc::clone(&plan_rx.borrow_and_update());
    let mut schedule = initial_schedule(&tenant, &plan, Instant::now() + first_delay);
    loop {
        let Some(wake) = schedule.values().min().copied() else {
            // No source enabled: wait for a new plan.
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = plan_rx.changed() => {
                    if changed.is_err() { return; }
                    plan = Arc::clone(&plan_rx.borrow_and_update());
                    schedule = initial_schedule(&tenant, &plan, Instant::now());
                    continue;
                }
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            changed = plan_rx.changed() => {
                if changed.is_err() { return; }
                plan = Arc::clone(&plan_rx.borrow_and_update());
                tenant.set_sources(plan.sources.iter().map(|s| s.source));
                schedule = initial_schedule(&tenant, &plan, Instant::now());
                continue;
            }
            _ = tokio::time::sleep_until(wake) => {}
        }
        let now = Instant::now();
        let horizon = now + plan.grace();
        let due: Vec<Source> = schedule
            .iter()
            .filter(|(_, at)| **at <= horizon)
            .map(|(s, _)| *s)
            .collect();
        let span = tracing::info_span!("poll", tenant_id = %tenant.tenant_id, sources = due.len());
        // A poll can wait minutes (Retry-After, an unreachable authority); shutdown must not.
        // Dropping it mid-way is safe: it only sends GETs and publishes at the very end.
        let outcomes = tokio::select! {
            _ = shutdown.cancelled() => return,
            o = poll_once(&tenant, &client, &due, plan.timeout).instrument(span) => o,
        };
        state.render(&tenant);
        let now = Instant::now();
        for (source, ok) in outcomes {
            let Some(interval) = plan.interval(source) else {
                continue;
            };
            let failures = tenant
                .slot(source)
                .map_or(0, |s| s.load().consecutive_failures);
            let next = if ok {
                let planned = schedule.get(&source).copied().unwrap_or(now) + interval;
                // After a long stall (a suspended laptop, a stuck poll) don't fire a burst.
                if planned < now {
                    now + interval
                } else {
                    planned
                }
            } else {
                now + backoff(plan.retry_backoff, failures, interval)
            };
            schedule.insert(source, next);
        }
    }
}

/// When each source of the plan is next due: from its last poll if it had one, else `first`.
fn initial_schedule(
    tenant: &TenantState,
    plan: &Plan,
    first: Instant,
) -> BTreeMap<Source, Instant> {
    let now_utc = Utc::now();
    let now = Instant::now();
    plan.sources
        .iter()
        .map(|s| {
            let at = tenant
                .slot(s.source)
                .and_then(|slot| slot.load().last_poll)
                .map_or(first, |last| {
                    let since = (now_utc - last).to_std().unwrap_or_default();
                    now + s.interval.saturating_sub(since)
                });
            (s.source, at)
        })
        .collect()
}

/// The wait before retrying a source that failed `failures` times in a row: `base` doubled per
/// further failure, capped at `interval`, with ±20 % jitter so a fleet hit by one outage does
/// not retry in step.
pub fn backoff(base: Duration, failures: u32, interval: Duration) -> Duration {
    let doubled = base.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    doubled
        .min(interval)
        .mul_f64(0.8 + fastrand::f64() * 0.4)
        .min(interval)
}

/// Polls `due` sources of one tenant once, publishes each result and the outcome of its
/// sign-in ([`TenantState::sign_in`]), and says which sources succeeded.
pub async fn poll_once(
    tenant: &TenantState,
    client: &GraphClient,
    due: &[Source],
    timeout: Duration,
) -> Vec<(Source, bool)> {
    let started = Instant::now();
    let requests: Vec<(&'static str, &'static crate::graph::odata::Request)> =
        due.iter().map(|s| (s.name(), s.request())).collect();
    // One sign-in per batch round: a refused sign-in fails every source with one token request.
    let fetch = client.fetch_all(&requests);
    let timed_out = || {
        due.iter()
            .map(|s| {
                Err(GraphError::Transport {
                    path: s.request().path.to_string(),
                    message: format!("poll timed out after {}", crate::duration::format(timeout)),
                })
            })
            .collect()
    };
    let (results, answered): (Vec<Result<_, GraphError>>, bool) =
        match tokio::time::timeout(timeout, fetch).await {
            Ok(r) => (r, true),
            Err(_) => (timed_out(), false),
        };
    let duration = started.elapsed();
    let finished = Utc::now();
    if answered {
        record_sign_in(tenant, &results, finished);
    }
    let mut outcomes = Vec::with_capacity(due.len());
    // A refused sign-in or an unreachable Graph fails every source the same way: each such
    // cause is logged once per tenant poll, not once per source.
    let mut logged_causes: Vec<String> = Vec::new();
    for (source, result) in due.iter().zip(results) {
        let Some(slot) = tenant.slot(*source) else {
            continue;
        };
        let previous = slot.load();
        let decoded = result.and_then(|raw| source.decode(raw));
        let next = match decoded {
            Ok(data) => SourceState {
                data: Some(Arc::new(data)),
                up: true,
                last_success: Some(finished),
                last_poll: Some(finished),
                duration: Some(duration),
                completed_polls: previous.completed_polls + 1,
                consecutive_failures: 0,
                // Kept: the status page shows what went wrong last, and when.
                last_error: previous.last_error.clone(),
            },
            Err(err) => {
                let shared_cause = match &err {
                    GraphError::Token(message) | GraphError::Transport { message, .. } => {
                        Some(message.clone())
                    }
                    _ => None,
                };
                match shared_cause {
                    Some(cause) if logged_causes.contains(&cause) => {}
                    Some(cause) => {
                        log_failure(&tenant.tenant_id, *source, &err);
                        logged_causes.push(cause);
                    }
                    None => log_failure(&tenant.tenant_id, *source, &err),
                }
                SourceState {
                    data: previous.data.clone(),
                    up: false,
                    last_success: previous.last_success,
                    last_poll: Some(finished),
                    duration: Some(duration),
                    completed_polls: previous.completed_polls + 1,
                    consecutive_failures: previous.consecutive_failures.saturating_add(1),
                    last_error: Some(Arc::new(poll_error(Some(*source), &err, finished))),
                }
            }
        };
        let ok = next.up;
        slot.publish(next);
        outcomes.push((*source, ok));
    }
    tracing::debug!(
        tenant_id = %tenant.tenant_id,
        sources = due.len(),
        failed = outcomes.iter().filter(|(_, ok)| !ok).count(),
        duration_seconds = duration.as_secs_f64(),
        "poll finished"
    );
    outcomes
}

/// Records how the poll's sign-in went. Every request of a poll needs a token first (one per
/// batch round, [`crate::graph::GraphClient::fetch_all`]), and only a refused one yields
/// [`GraphError::Token`], which that round hands to each of its items: so the poll signed in
/// unless some result is that error (a token renewed for a later round can be refused too).
/// A poll cut short by its timeout says nothing about the sign-in, and records nothing.
fn record_sign_in<T>(tenant: &TenantState, results: &[Result<T, GraphError>], at: DateTime<Utc>) {
    let refused = results.iter().find_map(|r| match r {
        Err(err @ GraphError::Token(_)) => Some(poll_error(None, err, at)),
        _ => None,
    });
    // Like a source's, the last failure stays after a success, for the status page.
    let last_error = refused.clone().or_else(|| {
        tenant
            .sign_in()
            .and_then(|previous| previous.last_error.clone())
    });
    tenant.set_sign_in(SignIn {
        up: refused.is_none(),
        at,
        last_error,
    });
}

/// What the status page shows of a failure; `source` is `None` for the sign-in itself.
fn poll_error(source: Option<Source>, err: &GraphError, at: DateTime<Utc>) -> PollError {
    let (status, code, request_id) = match err {
        GraphError::Status {
            status,
            code,
            request_ids,
            ..
        } => (
            Some(*status),
            Some(code.clone()),
            request_ids.as_ref().and_then(|ids| ids.request_id.clone()),
        ),
        GraphError::Token(message) => (None, aadsts_code(message), None),
        _ => (None, None, None),
    };
    PollError {
        at,
        http_status: status,
        code,
        message: err.to_string(),
        request_id,
        permission: source
            .filter(|_| status == Some(403))
            .map(Source::permission),
        sign_in: matches!(err, GraphError::Token(_)),
    }
}

/// The first `AADSTSnnnn` code in an Entra error text.
fn aadsts_code(message: &str) -> Option<String> {
    let at = message.find("AADSTS")?;
    let digits: String = message[at + 6..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (!digits.is_empty()).then(|| format!("AADSTS{digits}"))
}

fn log_failure(tenant_id: &str, source: Source, err: &GraphError) {
    let source = source.name();
    if let GraphError::Token(_) = err {
        tracing::warn!(
            tenant_id,
            error = %err,
            "poll failed: signing in to the tenant failed; the AADSTS code says why (README, \"Credentials\")"
        );
        return;
    }
    match err.status() {
        Some(403) => tracing::warn!(
            tenant_id,
            source,
            error = %err,
            permission = Source::from_name(source).map_or("", |s| s.permission()),
            "poll failed: the app registration lacks a Graph application permission; grant it (with admin consent)"
        ),
        Some(401) => {
            tracing::warn!(tenant_id, source, error = %err, "poll failed: Graph refused the token")
        }
        _ => tracing::warn!(tenant_id, source, error = %err, "poll failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_stops_at_the_interval() {
        let base = Duration::from_secs(30);
        let interval = Duration::from_secs(300);
        for _ in 0..100 {
            let first = backoff(base, 1, interval);
            assert!(first >= Duration::from_secs(24) && first <= Duration::from_secs(36));
            let third = backoff(base, 3, interval);
            assert!(third >= Duration::from_secs(96) && third <= Duration::from_secs(144));
            assert!(backoff(base, 30, interval) <= interval);
            assert!(backoff(base, 30, interval) >= Duration::from_secs(240));
        }
    }

    #[test]
    fn aadsts_codes_are_found() {
        assert_eq!(
            aadsts_code("getting a token failed: invalid_client: AADSTS700016: Application with identifier 'x' was not found").as_deref(),
            Some("AADSTS700016")
        );
        assert_eq!(aadsts_code("connection refused"), None);
    }
}
