//! The fleet table's rows, kept between requests: each tenant's row is built once and used again
//! until the tenant's state changes or the clock reaches the instant the row stops describing
//! the present; the sorted table is rebuilt only when a row changes.
//!
//! A row remembers exactly what it was built from: the tenant, its labels, the settings and the
//! latest state of each source, by identity (the state swaps in a new value for every change, so
//! the same allocation means the same content). Checking a row is a few pointer comparisons, not
//! a health evaluation, so `/` and `/api/v1/tenants` cost the same whether 1 or 5,000 tenants
//! are polled, until something changes; and then only the tenants that changed are read again.
//! The rows are built by [`view::summary`], the code that builds them without the cache, so the
//! two cannot disagree.

use super::view::{self, FleetView, TenantSummary};
use crate::sources::Source;
use crate::state::{Settings, SignIn, SourceState, State, TenantState};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};

/// The fleet table's rows of every tenant, and the table sorted worst first.
#[derive(Debug, Default)]
pub struct SummaryCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    rows: HashMap<String, Row>,
    /// The rows sorted, while no row has changed since.
    sorted: Option<Arc<FleetView>>,
}

#[derive(Debug)]
struct Row {
    built_from: Stamp,
    summary: TenantSummary,
    /// The row describes the instants from this one until `valid_until`; a clock set back
    /// reads the tenant again.
    built_at: DateTime<Utc>,
    valid_until: Option<DateTime<Utc>>,
}

/// What a row was built from, by identity. Weak references keep no old data alive, and keep
/// an address from being reused while the row remembers it.
#[derive(Debug)]
struct Stamp {
    tenant: Weak<TenantState>,
    settings: Weak<Settings>,
    labels: Weak<BTreeMap<String, String>>,
    /// The sign-in outcome is recorded after the poll's sources are published, so it is part
    /// of what a row was built from on its own.
    sign_in: Option<Weak<SignIn>>,
    sources: Vec<(Source, Weak<SourceState>)>,
}

impl Stamp {
    fn of(settings: &Arc<Settings>, tenant: &Arc<TenantState>) -> Stamp {
        Stamp {
            tenant: Arc::downgrade(tenant),
            settings: Arc::downgrade(settings),
            labels: Arc::downgrade(&tenant.labels()),
            sign_in: tenant.sign_in().as_ref().map(Arc::downgrade),
            sources: tenant
                .slots()
                .iter()
                .map(|slot| (slot.source, Arc::downgrade(&slot.load())))
                .collect(),
        }
    }

    /// Whether `tenant` under `settings` is still exactly what was read.
    fn holds(&self, settings: &Arc<Settings>, tenant: &Arc<TenantState>) -> bool {
        let slots = tenant.slots();
        same(&self.tenant, tenant)
            && same(&self.settings, settings)
            && same(&self.labels, &tenant.labels())
            && match (&self.sign_in, tenant.sign_in()) {
                (None, None) => true,
                (Some(read), Some(now)) => same(read, &now),
                _ => false,
            }
            && self.sources.len() == slots.len()
            && self
                .sources
                .iter()
                .zip(&slots)
                .all(|((source, state), slot)| *source == slot.source && same(state, &slot.load()))
    }
}

fn same<T>(weak: &Weak<T>, current: &Arc<T>) -> bool {
    std::ptr::eq(weak.as_ptr(), Arc::as_ptr(current))
}

impl SummaryCache {
    /// Every tenant of `state` at `now`, worst first: the same table as [`view::fleet`], built
    /// from the rows that still hold and the few read again.
    pub fn fleet(&self, state: &State, now: DateTime<Utc>) -> FleetView {
        let sorted = self.sorted(state, now);
        FleetView {
            generated_at: now,
            tenants: sorted.tenants.clone(),
        }
    }

    fn sorted(&self, state: &State, now: DateTime<Utc>) -> Arc<FleetView> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *inner;
        // Settings first, then each tenant's parts, then the row: a change that lands while a
        // row is built makes its stamp old, never the row.
        let settings = state.settings();
        let tenants = state.tenants();
        let mut changed = false;
        for tenant in &tenants {
            let holds = inner.rows.get(&tenant.tenant_id).is_some_and(|row| {
                row.built_at <= now
                    && row.valid_until.is_none_or(|t| now < t)
                    && row.built_from.holds(&settings, tenant)
            });
            if holds {
                continue;
            }
            let built_from = Stamp::of(&settings, tenant);
            let (summary, valid_until) = view::summary(state, tenant, now);
            inner.rows.insert(
                tenant.tenant_id.clone(),
                Row {
                    built_from,
                    summary,
                    built_at: now,
                    valid_until,
                },
            );
            changed = true;
        }
        if inner.rows.len() > tenants.len() {
            let present: HashSet<&str> = tenants.iter().map(|t| t.tenant_id.as_str()).collect();
            inner.rows.retain(|id, _| present.contains(id.as_str()));
            changed = true;
        }
        match &inner.sorted {
            Some(sorted) if !changed => Arc::clone(sorted),
            _ => {
                let rows = inner.rows.values().map(|r| r.summary.clone()).collect();
                let sorted = Arc::new(view::fleet_of(rows, now));
                inner.sorted = Some(Arc::clone(&sorted));
                sorted
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::Origin;
    use crate::sources::{apns, SourceData};
    use chrono::TimeDelta;

    fn publish(tenant: &TenantState, up: bool, expiry: DateTime<Utc>) {
        let slot = tenant.slot(Source::Apns).expect("an APNs slot");
        slot.publish(SourceState {
            data: Some(Arc::new(SourceData::Apns(Some(apns::Certificate {
                expiration_date_time: Some(expiry),
                ..apns::Certificate::default()
            })))),
            up,
            completed_polls: 1,
            ..SourceState::default()
        });
    }

    #[test]
    fn rows_follow_every_change_and_the_clock() {
        let state = State::new(Settings::default());
        let now = DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z")
            .unwrap()
            .to_utc();
        let t1 = state.upsert_tenant("t1", Origin::Config, BTreeMap::new(), [Source::Apns]);
        let t2 = state.upsert_tenant("t2", Origin::Config, BTreeMap::new(), [Source::Apns]);
        publish(&t1, true, now + TimeDelta::days(400));
        publish(&t2, true, now + TimeDelta::hours(1));
        let cache = SummaryCache::default();
        let check = |at: DateTime<Utc>| {
            let cached = cache.fleet(&state, at);
            assert_eq!(cached, view::fleet(&state, at));
            cached
        };
        let before = check(now);
        // The certificate expires: the row is read again although nothing was published.
        let after = check(now + TimeDelta::hours(2));
        assert_ne!(before.tenants, after.tenants);
        assert_eq!(after.tenants[0].tenant_id, "t2");
        assert_eq!(after.tenants[0].worst_status, view::Status::Unhealthy);
        // A failed poll, new labels, a removed tenant: each shows at the next request.
        publish(&t1, false, now + TimeDelta::days(400));
        assert_eq!(check(now).tenants[1].sources_down, ["apns"]);
        let labels = BTreeMap::from([("customer".to_string(), "acme".to_string())]);
        state.upsert_tenant("t1", Origin::Config, labels.clone(), [Source::Apns]);
        assert_eq!(check(now).tenants[1].labels, labels);
        // A refused sign-in, recorded after the poll's sources were published.
        t1.set_sign_in(SignIn {
            up: false,
            at: now,
            last_error: None,
        });
        assert_eq!(check(now).tenants[0].tenant_id, "t1");
        assert!(state.remove_tenant("t2"));
        assert_eq!(check(now).tenants.len(), 1);
        assert_eq!(cache.inner.lock().unwrap().rows.len(), 1);
        // Nothing changed: the sorted table is the same one.
        let first = cache.sorted(&state, now);
        assert!(Arc::ptr_eq(&first, &cache.sorted(&state, now)));
    }
}
