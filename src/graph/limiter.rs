//! [`Limiter`]: a client-side rate limiter per tenant, so that the exporter stays under Microsoft's
//! documented Graph limits instead of finding them with 429s, and so that a `Retry-After` from
//! Graph holds back every request for that tenant, not only the one that was throttled.
//!
//! The limits are per app per tenant (Graph docs, `concepts/throttling-limits.md`):
//!
//! - service communications (`/admin/serviceAnnouncement/`): 240 requests per 60 s and
//!   **800 per hour**;
//! - Intune (`/deviceManagement`, `/deviceAppManagement`): 1000 requests per 20 s (the
//!   enrollment include; the devices include allows twice that, so the lower figure covers both);
//! - directory (`/organization`, `/subscribedSkus`): a resource-unit bucket of at least 3500 units
//!   per 10 s for the smallest tenants, where one of these requests costs at most 3 units; 1000
//!   requests per 10 s stays inside it.
//!
//! Each class is a sliding window log: a request may go when fewer than `limit` requests of its
//! class were sent in the last `period`. Time is tokio's, so tests run it on a paused clock.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// One documented limit: at most `limit` requests in any `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed per period.
    pub limit: usize,
    /// The window.
    pub period: Duration,
}

/// The requests a set of limits applies to: every path that contains `contains`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    /// A name for logs: `service_communications`.
    pub name: &'static str,
    /// The path segment that puts a request into this class (`/admin/serviceAnnouncement/`).
    pub contains: &'static str,
    /// The limits, all of which must hold.
    pub limits: Vec<Limit>,
}

impl Class {
    /// Microsoft's documented limits for the resources the exporter reads (see the module docs).
    pub fn documented() -> Vec<Class> {
        let per = |limit, secs| Limit {
            limit,
            period: Duration::from_secs(secs),
        };
        vec![
            Class {
                name: "service_communications",
                contains: "/admin/serviceAnnouncement/",
                limits: vec![per(240, 60), per(800, 3600)],
            },
            Class {
                name: "intune",
                contains: "/deviceManagement",
                limits: vec![per(1000, 20)],
            },
            Class {
                name: "intune",
                contains: "/deviceAppManagement",
                limits: vec![per(1000, 20)],
            },
            Class {
                name: "directory",
                contains: "/organization",
                limits: vec![per(1000, 10)],
            },
            Class {
                name: "directory",
                contains: "/subscribedSkus",
                limits: vec![per(1000, 10)],
            },
        ]
    }
}

/// The limiter of one tenant. Cheap to share behind an `Arc`; holds its lock only while counting.
#[derive(Debug)]
pub struct Limiter {
    classes: Vec<Class>,
    inner: Mutex<Inner>,
    /// Seconds spent waiting, added to `intune_exporter_graph_limiter_wait_seconds_total`.
    waited: Option<prometheus::Counter>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Send times per class index, oldest first, kept for the longest period of the class.
    sent: Vec<VecDeque<Instant>>,
    /// Graph asked this tenant to wait (`Retry-After`) until then.
    paused_until: Option<Instant>,
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    // The data is a few queues of instants, valid whatever a panicking holder did.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Limiter {
    /// A limiter enforcing `classes`.
    pub fn new(classes: Vec<Class>) -> Self {
        let sent = vec![VecDeque::new(); classes.len()];
        Self {
            classes,
            inner: Mutex::new(Inner {
                sent,
                paused_until: None,
            }),
            waited: None,
        }
    }

    /// Adds every wait, in seconds, to `counter`.
    pub fn counting_waits(mut self, counter: prometheus::Counter) -> Self {
        self.waited = Some(counter);
        self
    }

    /// A limiter with Microsoft's documented limits.
    pub fn documented() -> Self {
        Self::new(Class::documented())
    }

    /// Waits until a request to `path` may be sent, then counts it as sent.
    pub async fn acquire(&self, path: &str) {
        loop {
            let wait_until = {
                let mut inner = lock(&self.inner);
                let now = Instant::now();
                match self.earliest(&mut inner, path, now) {
                    None => {
                        for (i, class) in self.classes.iter().enumerate() {
                            if path.contains(class.contains) {
                                inner.sent[i].push_back(now);
                            }
                        }
                        return;
                    }
                    Some(at) => at,
                }
            };
            let wait = (wait_until - Instant::now()).as_secs_f64();
            tracing::debug!(
                path,
                wait_seconds = wait,
                "waiting for the tenant's Graph rate limit"
            );
            if let Some(counter) = &self.waited {
                counter.inc_by(wait);
            }
            tokio::time::sleep_until(wait_until).await;
        }
    }

    /// Holds back every request of this tenant for `wait` (Graph's `Retry-After`).
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut inner = lock(&self.inner);
        if inner.paused_until.is_none_or(|p| p < until) {
            inner.paused_until = Some(until);
        }
    }

    /// When a request to `path` may go, or `None` for now. Forgets sends older than every window.
    fn earliest(&self, inner: &mut Inner, path: &str, now: Instant) -> Option<Instant> {
        let mut at = inner.paused_until.filter(|p| *p > now);
        for (i, class) in self.classes.iter().enumerate() {
            if !path.contains(class.contains) {
                continue;
            }
            let sent = &mut inner.sent[i];
            let longest = class.limits.iter().map(|l| l.period).max();
            if let Some(longest) = longest {
                while sent.front().is_some_and(|t| *t + longest <= now) {
                    sent.pop_front();
                }
            }
            for limit in &class.limits {
                let in_window: Vec<&Instant> =
                    sent.iter().filter(|t| **t + limit.period > now).collect();
                if in_window.len() >= limit.limit {
                    // The oldest send that must leave the window before one more fits.
                    let oldest = in_window[in_window.len() - limit.limit];
                    let free = *oldest + limit.period;
                    at = Some(at.map_or(free, |a| a.max(free)));
                }
            }
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Limiter {
        Limiter::new(vec![Class {
            name: "service_communications",
            contains: "/admin/serviceAnnouncement/",
            limits: vec![
                Limit {
                    limit: 2,
                    period: Duration::from_secs(60),
                },
                Limit {
                    limit: 3,
                    period: Duration::from_secs(3600),
                },
            ],
        }])
    }

    #[tokio::test(start_paused = true)]
    async fn every_limit_of_a_class_holds_and_other_paths_pass() {
        let limiter = tiny();
        let start = Instant::now();
        let path = "v1.0/admin/serviceAnnouncement/issues";
        limiter.acquire(path).await;
        limiter.acquire(path).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        // Unlimited paths are never held back.
        limiter.acquire("v1.0/deviceManagement").await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        // The third waits for the per-minute window...
        limiter.acquire(path).await;
        assert_eq!(start.elapsed(), Duration::from_secs(60));
        // ...and the fourth for the hourly one.
        limiter.acquire(path).await;
        assert_eq!(start.elapsed(), Duration::from_secs(3600));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_back_every_path_of_the_tenant() {
        let waited = prometheus::Counter::new("w", "w").unwrap();
        let limiter = tiny().counting_waits(waited.clone());
        let start = Instant::now();
        limiter.pause(Duration::from_millis(2500));
        limiter.pause(Duration::from_secs(1)); // a shorter pause never shortens a longer one
        limiter.acquire("v1.0/subscribedSkus").await;
        assert_eq!(start.elapsed(), Duration::from_millis(2500));
        limiter.acquire("v1.0/subscribedSkus").await;
        assert_eq!(start.elapsed(), Duration::from_millis(2500));
        assert_eq!(waited.get(), 2.5);
    }

    #[test]
    fn documented_limits_include_800_an_hour_for_service_communications() {
        let classes = Class::documented();
        let sc = classes
            .iter()
            .find(|c| c.name == "service_communications")
            .unwrap();
        assert_eq!(
            sc.limits,
            vec![
                Limit {
                    limit: 240,
                    period: Duration::from_secs(60)
                },
                Limit {
                    limit: 800,
                    period: Duration::from_secs(3600)
                }
            ]
        );
    }
}
