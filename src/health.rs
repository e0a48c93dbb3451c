//! The Tenant status page's health rules, as pure functions of timestamps and `now`.
//!
//! Intune's *Tenant status* page marks a connector **unhealthy** when its certificate or token
//! has expired or its last sync was at least 3 days ago, and **warning** when it expires within
//! 7 days or last synced more than 1 day ago. A state Graph reports (a VPP token `expired`, a
//! failed sync, an ADE/DEP sync error) sets a floor: the instance is at least that bad whatever
//! its dates say. An instance takes the worst rule that applies.
//! A kind of connector is as healthy as its worst instance, and *not configured* when it has
//! none. The rules read stored timestamps, and [`next_change`] says when their answer next
//! changes, so output rendered from them is redone then and never goes stale in meaning;
//! nothing here does I/O.

use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;

/// Health of one connector instance. Ordered from best to worst.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    /// Nothing to do.
    #[default]
    Healthy,
    /// Needs attention soon.
    Warning,
    /// Needs attention now.
    Unhealthy,
}

impl Health {
    /// Every state, in the order the `status` stateset is emitted.
    pub const STATES: [&'static str; 3] = ["healthy", "warning", "unhealthy"];

    /// The `status` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Warning => "warning",
            Health::Unhealthy => "unhealthy",
        }
    }
}

/// Health of a connector kind: the worst instance, or not configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeHealth {
    /// At least one instance, and this is the worst.
    Configured(Health),
    /// No instance of this kind exists.
    NotConfigured,
}

impl TypeHealth {
    /// Every state, in the order the page sorts them: unhealthy first, not configured last.
    pub const STATES: [&'static str; 4] = ["healthy", "warning", "unhealthy", "not_configured"];

    /// The worst of `instances`, or `NotConfigured` when there are none.
    pub fn of(instances: impl IntoIterator<Item = Health>) -> Self {
        instances
            .into_iter()
            .max()
            .map_or(TypeHealth::NotConfigured, TypeHealth::Configured)
    }

    /// The `status` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            TypeHealth::Configured(h) => h.as_str(),
            TypeHealth::NotConfigured => "not_configured",
        }
    }
}

/// The page's thresholds. Defaults are Intune's: 7 days, 1 day, 3 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Warning when the expiry is at most this far ahead.
    pub expiry_warning: Duration,
    /// Warning when the last sync is more than this long ago.
    pub sync_warning: Duration,
    /// Unhealthy when the last sync is at least this long ago.
    pub sync_unhealthy: Duration,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            expiry_warning: Duration::from_secs(7 * 86_400),
            sync_warning: Duration::from_secs(86_400),
            sync_unhealthy: Duration::from_secs(3 * 86_400),
        }
    }
}

/// The facts about one instance that the rules look at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// When its certificate or token expires, if it has one.
    pub expiry: Option<DateTime<Utc>>,
    /// When it last synchronised (or sent a heartbeat), if ever.
    pub last_sync: Option<DateTime<Utc>>,
    /// The health Graph's own state implies, whatever the dates say: `Unhealthy` for an
    /// explicit failure (a VPP token `expired`, a partner `unresponsive`, a failed sync),
    /// `Warning` for a state that needs attention (an ADE/DEP sync error), `Healthy` when the
    /// state says nothing.
    pub floor: Health,
}

/// Applies the page's rules to one instance at `now`.
pub fn evaluate(facts: &Facts, now: DateTime<Utc>, t: &Thresholds) -> Health {
    let mut health = facts.floor;
    if let Some(expiry) = facts.expiry {
        let left = expiry - now;
        let rule = if left <= TimeDelta::zero() {
            Health::Unhealthy
        } else if left <= delta(t.expiry_warning) {
            Health::Warning
        } else {
            Health::Healthy
        };
        health = health.max(rule);
    }
    if let Some(last_sync) = facts.last_sync {
        let age = now - last_sync;
        let rule = if age >= delta(t.sync_unhealthy) {
            Health::Unhealthy
        } else if age > delta(t.sync_warning) {
            Health::Warning
        } else {
            Health::Healthy
        };
        health = health.max(rule);
    }
    health
}

/// The first instant after `now` at which [`evaluate`] gives a different answer for `facts`, or
/// `None` when it never will. Rendered output that shows a health keeps until then.
///
/// Every rule only gets worse as time passes (an expiry comes closer, a last sync ages), so the
/// health can change only at one of the rules' boundaries: the first boundary after `now` whose
/// answer differs is the next change.
pub fn next_change(facts: &Facts, now: DateTime<Utc>, t: &Thresholds) -> Option<DateTime<Utc>> {
    let mut boundaries = Vec::with_capacity(4);
    if let Some(expiry) = facts.expiry {
        // Warning from the instant `left <= expiry_warning`, unhealthy from `left <= 0`.
        boundaries.extend(expiry.checked_sub_signed(delta(t.expiry_warning)));
        boundaries.push(expiry);
    }
    if let Some(last_sync) = facts.last_sync {
        // Warning once the age is strictly more than `sync_warning`: the next representable
        // instant after that boundary. Unhealthy from the instant the age reaches `sync_unhealthy`.
        boundaries.extend(
            last_sync
                .checked_add_signed(delta(t.sync_warning))
                .and_then(|b| b.checked_add_signed(TimeDelta::nanoseconds(1))),
        );
        boundaries.extend(last_sync.checked_add_signed(delta(t.sync_unhealthy)));
    }
    boundaries.retain(|b| *b > now);
    boundaries.sort();
    let current = evaluate(facts, now, t);
    boundaries
        .into_iter()
        .find(|b| evaluate(facts, *b, t) != current)
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
    }

    fn expiring(offset: TimeDelta) -> Facts {
        Facts {
            expiry: Some(now() + offset),
            ..Facts::default()
        }
    }

    fn synced(ago: TimeDelta) -> Facts {
        Facts {
            last_sync: Some(now() - ago),
            ..Facts::default()
        }
    }

    fn eval(f: Facts) -> Health {
        evaluate(&f, now(), &Thresholds::default())
    }

    #[test]
    fn expiry_boundaries() {
        assert_eq!(eval(expiring(TimeDelta::seconds(-1))), Health::Unhealthy);
        assert_eq!(eval(expiring(TimeDelta::zero())), Health::Unhealthy);
        assert_eq!(eval(expiring(TimeDelta::seconds(1))), Health::Warning);
        assert_eq!(eval(expiring(TimeDelta::days(7))), Health::Warning);
        assert_eq!(
            eval(expiring(TimeDelta::days(7) + TimeDelta::seconds(1))),
            Health::Healthy
        );
    }

    #[test]
    fn sync_boundaries() {
        assert_eq!(eval(synced(TimeDelta::days(1))), Health::Healthy);
        assert_eq!(
            eval(synced(TimeDelta::days(1) + TimeDelta::minutes(1))),
            Health::Warning
        );
        assert_eq!(
            eval(synced(TimeDelta::days(3) - TimeDelta::seconds(1))),
            Health::Warning
        );
        assert_eq!(eval(synced(TimeDelta::days(3))), Health::Unhealthy);
    }

    #[test]
    fn worst_rule_wins_and_failure_overrides_dates() {
        let f = Facts {
            expiry: Some(now() + TimeDelta::days(100)),
            last_sync: Some(now() - TimeDelta::days(2)),
            floor: Health::Healthy,
        };
        assert_eq!(eval(f), Health::Warning);
        let failed = Facts {
            floor: Health::Unhealthy,
            ..f
        };
        assert_eq!(eval(failed), Health::Unhealthy);
        // A warning floor does not hide a worse date.
        let stale = Facts {
            floor: Health::Warning,
            last_sync: Some(now() - TimeDelta::days(4)),
            ..f
        };
        assert_eq!(eval(stale), Health::Unhealthy);
        let fresh = Facts {
            floor: Health::Warning,
            last_sync: Some(now()),
            ..f
        };
        assert_eq!(eval(fresh), Health::Warning);
        assert_eq!(eval(Facts::default()), Health::Healthy);
    }

    #[test]
    fn thresholds_are_configurable() {
        let t = Thresholds {
            expiry_warning: Duration::from_secs(30 * 86_400),
            ..Thresholds::default()
        };
        assert_eq!(
            evaluate(&expiring(TimeDelta::days(20)), now(), &t),
            Health::Warning
        );
    }

    /// Random facts around `now`, to the second, sometimes exactly on a threshold.
    fn random_facts(rng: &mut fastrand::Rng) -> Facts {
        let offset = |rng: &mut fastrand::Rng| {
            let days = [1, 3, 7][rng.usize(..3)];
            let exact = TimeDelta::days(days);
            match rng.u8(..4) {
                0 => exact,
                1 => exact + TimeDelta::seconds(rng.i64(-2..=2)),
                _ => TimeDelta::seconds(rng.i64(-10 * 86_400..=10 * 86_400)),
            }
        };
        Facts {
            expiry: rng.bool().then(|| now() + offset(rng)),
            last_sync: rng.bool().then(|| now() - offset(rng)),
            floor: match rng.u8(..8) {
                0 => Health::Unhealthy,
                1 => Health::Warning,
                _ => Health::Healthy,
            },
        }
    }

    #[test]
    fn health_holds_until_next_change_and_changes_there() {
        let mut rng = fastrand::Rng::with_seed(8);
        let custom = Thresholds {
            expiry_warning: Duration::from_secs(86_400),
            sync_warning: Duration::from_secs(3 * 86_400),
            sync_unhealthy: Duration::from_secs(86_400),
        };
        for case in 0..5_000 {
            let facts = random_facts(&mut rng);
            let t = if case % 5 == 0 {
                custom
            } else {
                Thresholds::default()
            };
            let current = evaluate(&facts, now(), &t);
            let next = next_change(&facts, now(), &t);
            let until = next.unwrap_or(now() + TimeDelta::days(3_650));
            let span = (until - now()).num_nanoseconds().unwrap_or(i64::MAX);
            let mut probes = vec![now(), until - TimeDelta::nanoseconds(1)];
            probes.extend((0..20).map(|_| now() + TimeDelta::nanoseconds(rng.i64(0..span.max(1)))));
            for at in probes {
                assert_eq!(
                    evaluate(&facts, at, &t),
                    current,
                    "{facts:?} at {at}: next change {next:?}"
                );
            }
            match next {
                Some(at) => {
                    assert!(at > now(), "{facts:?}: {at} is not after now");
                    assert_ne!(evaluate(&facts, at, &t), current, "{facts:?} at {at}");
                }
                None => assert_eq!(evaluate(&facts, until, &t), current, "{facts:?}"),
            }
        }
    }

    #[test]
    fn next_change_at_the_documented_boundaries() {
        let t = Thresholds::default();
        let expiring = expiring(TimeDelta::days(10));
        assert_eq!(
            next_change(&expiring, now(), &t),
            Some(now() + TimeDelta::days(3))
        );
        assert_eq!(
            next_change(&expiring, now() + TimeDelta::days(3), &t),
            Some(now() + TimeDelta::days(10))
        );
        assert_eq!(
            next_change(&expiring, now() + TimeDelta::days(10), &t),
            None
        );
        // Warning starts just after the age passes one day, not at it.
        assert_eq!(
            next_change(&synced(TimeDelta::zero()), now(), &t),
            Some(now() + TimeDelta::days(1) + TimeDelta::nanoseconds(1))
        );
        let failed = Facts {
            floor: Health::Unhealthy,
            ..expiring
        };
        assert_eq!(next_change(&failed, now(), &t), None);
        assert_eq!(next_change(&Facts::default(), now(), &t), None);
    }

    #[test]
    fn kind_takes_the_worst_instance() {
        assert_eq!(TypeHealth::of([]), TypeHealth::NotConfigured);
        assert_eq!(
            TypeHealth::of([Health::Healthy, Health::Unhealthy, Health::Warning]),
            TypeHealth::Configured(Health::Unhealthy)
        );
        assert_eq!(TypeHealth::NotConfigured.as_str(), "not_configured");
    }
}
