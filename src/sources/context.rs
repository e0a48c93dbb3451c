//! What a source's pure functions may depend on besides the data: the tenant, `now`, the
//! thresholds and options, and the horizon at which what they built stops being true. The
//! bottom of `sources`.

use crate::health::{self, Facts, Health, Thresholds};
use chrono::{DateTime, Utc};
use std::cell::Cell;

/// The first item of each key, in order: Graph may list an object twice (a page boundary that
/// moved between two requests), and two series with the same labels would make Prometheus drop
/// one. Every source that emits a series per object keys it by the object's id this way.
pub fn first_of_each<'a, T, K>(items: &'a [T], key: impl Fn(&'a T) -> K) -> Vec<&'a T>
where
    K: Eq + std::hash::Hash,
{
    let mut seen = std::collections::HashSet::new();
    items.iter().filter(|i| seen.insert(key(i))).collect()
}

/// Settings some sources' families depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Service names (as Graph's `service`, e.g. `Microsoft Intune`) whose health, issues and
    /// Message center posts are exported.
    pub services: Vec<String>,
    /// How many of the most recent active Message center posts get an info series.
    pub message_center_latest: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            services: vec!["Microsoft Intune".to_string()],
            message_center_latest: 10,
        }
    }
}

impl Options {
    /// Whether `service` is one of the watched services (compared without regard to case).
    pub fn watches(&self, service: &str) -> bool {
        self.services
            .iter()
            .any(|s| s.eq_ignore_ascii_case(service))
    }
}

/// Everything a pure families function may depend on besides the data.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The tenant the data belongs to (`tenant_id` label).
    pub tenant_id: &'a str,
    /// The instant the families describe.
    pub now: DateTime<Utc>,
    /// The Tenant status page's health thresholds.
    pub thresholds: &'a Thresholds,
    /// Watched services and list lengths.
    pub options: &'a Options,
    /// Collects the instants at which families built from `now` stop being true. A function
    /// that looks at `now` goes through [`Context::health`] or [`Context::before`], which note
    /// them here.
    pub horizon: &'a Horizon,
}

impl Context<'_> {
    /// The health of an instance at `now`; notes when it next changes.
    pub fn health(&self, facts: &Facts) -> Health {
        if let Some(at) = health::next_change(facts, self.now, self.thresholds) {
            self.horizon.note(at);
        }
        health::evaluate(facts, self.now, self.thresholds)
    }

    /// Whether `now` is before `end`; when it is, notes `end`, where the answer flips.
    pub fn before(&self, end: DateTime<Utc>) -> bool {
        let before = self.now < end;
        if before {
            self.horizon.note(end);
        }
        before
    }
}

/// The earliest instant at which families built at some `now` change, gathered while they are
/// built (see [`Context::horizon`]); `None` when nothing they show depends on the clock.
#[derive(Debug, Default)]
pub struct Horizon(Cell<Option<DateTime<Utc>>>);

impl Horizon {
    /// No instant yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes that something changes at `at`; the horizon keeps the earliest.
    pub fn note(&self, at: DateTime<Utc>) {
        let earliest = self.0.get().map_or(at, |t| t.min(at));
        self.0.set(Some(earliest));
    }

    /// The earliest instant noted.
    pub fn get(&self) -> Option<DateTime<Utc>> {
        self.0.get()
    }
}
