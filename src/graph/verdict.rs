//! The verdict on one send of a Graph request: what to do next, from what came back (a status
//! and its `Retry-After`, or no answer), which send it was and what the request carried, under
//! the configured [`RetryPolicy`].
//!
//! Pure: no I/O, no clock, no randomness (the backoff's jitter is an argument). Single GETs and
//! the items of a JSON batch ask the same [`verdict`], so a request meets one policy whichever
//! way it travels. This module decides and never acts: the caller sleeps, pauses the tenant's
//! limiter, asks for a new token, forgets a `$filter`, and builds the error from the answer.

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use std::time::Duration;

/// How often and how long to retry a throttled or failed request, and how much one fetch may
/// read.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff when the response gave no `Retry-After`; doubled on each attempt.
    pub base_backoff: Duration,
    /// Longest single wait, whatever `Retry-After` asks for.
    pub max_wait: Duration,
    /// Most pages followed through `@odata.nextLink` before giving up (`graph.max_pages`).
    pub max_pages: usize,
    /// Largest body read from one answer, and from every page of one collection together,
    /// after decompression (`graph.max_response_bytes`).
    pub max_response_bytes: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
            max_pages: 100,
            max_response_bytes: super::body::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// What came back for one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Graph answered with this status, and this `Retry-After` (see [`retry_after`]).
    Status(StatusCode, Option<Duration>),
    /// No answer. `transient`: the same send may well get one (a timeout, a refused
    /// connection, a request that could not be sent), as opposed to a broken answer.
    Unanswered {
        /// Whether sending again may help.
        transient: bool,
    },
}

/// Which send of a request it was, and what the request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempt {
    /// Sends of this page so far, this one included: 1 for the first.
    pub number: u32,
    /// It asks for an entity, for which 404 means "not configured" (a singleton connector);
    /// for a collection, 404 is an error.
    pub optional: bool,
    /// It carries the source's `$filter`. Only the first page of a collection does: a later
    /// page's 400 is not a refusal of the filter, which Graph judges on the first.
    pub filtered: bool,
    /// A 401 already got a new token for this page.
    pub refreshed: bool,
}

/// What to do after a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A 2xx: read the body.
    Done,
    /// A 404 for an optional resource: it is absent ("not configured"), which is no error.
    Absent,
    /// A 401 for a token still within its lifetime (revoked, or the app's roles changed): get
    /// one new token and send again. A second 401 for the same page fails it.
    RefreshToken,
    /// A 400 to a request with a `$filter`: Graph refuses the filter on this resource. Forget
    /// it for the path (every source filters locally too) and send again without it, with
    /// fresh attempts.
    DropFilter,
    /// Send again, not before `after`.
    Retry {
        /// How long to wait.
        after: Duration,
        /// The wait is Graph's `Retry-After`, which holds back every request of the tenant
        /// (they all count against the same limit); otherwise it is this request's backoff.
        tenant: bool,
    },
    /// Give up on the request.
    Fail(Failure),
}

/// Why a request failed, as far as the verdict knows: the error itself is built by the caller,
/// from the answer's body and headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Graph's error answer (its status, code, message and request ids), or a redirect.
    Status,
    /// A 404 for a collection: the collection does not exist.
    NotFound,
    /// No answer arrived.
    Transport,
}

/// The verdict on a send that got `reply`, being `attempt`, under `policy`. `jitter`, from 0 to
/// 1, places a backoff between half and all of its exponential step (full jitter, so that
/// clients throttled together do not come back together).
///
/// Graph asks clients to wait exactly `Retry-After` on 429 and 503; without one, back off
/// exponentially (throttling guidance, concepts/throttling.md). 429, 500, 502, 503 and 504 are
/// worth another send; any other error status is Graph's last word.
pub fn verdict(reply: Reply, attempt: Attempt, policy: &RetryPolicy, jitter: f64) -> Verdict {
    let last = attempt.number >= policy.max_attempts;
    let backoff = Verdict::Retry {
        after: backoff(policy, attempt.number, jitter),
        tenant: false,
    };
    let (status, retry_after) = match reply {
        Reply::Unanswered { transient } if transient && !last => return backoff,
        Reply::Unanswered { .. } => return Verdict::Fail(Failure::Transport),
        Reply::Status(status, retry_after) => (status, retry_after),
    };
    match status.as_u16() {
        200..=299 => Verdict::Done,
        404 if attempt.optional => Verdict::Absent,
        404 => Verdict::Fail(Failure::NotFound),
        400 if attempt.filtered => Verdict::DropFilter,
        // Before the attempts are counted: a refused token is not Graph failing the request.
        401 if !attempt.refreshed => Verdict::RefreshToken,
        429 | 500 | 502 | 503 | 504 if !last => match retry_after {
            Some(wait) => Verdict::Retry {
                after: wait.min(policy.max_wait),
                tenant: true,
            },
            None => backoff,
        },
        _ => Verdict::Fail(Failure::Status),
    }
}

/// The wait before send `attempt + 1` without a `Retry-After`: the base doubled per send (at
/// most 2^9 times), `jitter` of the way from half of that to all of it, at most `max_wait`.
fn backoff(policy: &RetryPolicy, attempt: u32, jitter: f64) -> Duration {
    let exp = policy
        .base_backoff
        .saturating_mul(1 << attempt.min(10).saturating_sub(1));
    exp.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
        .min(policy.max_wait)
}

/// The longest `Retry-After` taken at its word. Graph asks for seconds to minutes; anything
/// longer (`1e20`, a date years ahead) is clamped here, so that no caller can overflow a
/// `Duration` or an `Instant` with it. The client waits at most [`RetryPolicy::max_wait`] anyway.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Reads `Retry-After` as decimal seconds (Graph sends `2.128`) or as an HTTP date, clamped to
/// [`MAX_RETRY_AFTER`]. Negative, NaN and unreadable values are ignored.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        if secs.is_nan() || secs < 0.0 {
            return None;
        }
        // `Duration::from_secs_f64` panics above u64::MAX seconds (and on infinity).
        let wait = Duration::try_from_secs_f64(secs).unwrap_or(MAX_RETRY_AFTER);
        return Some(wait.min(MAX_RETRY_AFTER));
    }
    let at = DateTime::parse_from_rfc2822(raw).ok()?.with_timezone(&Utc);
    Some(
        (at - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    fn headers(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn retry_after_accepts_decimal_seconds_and_http_dates() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 27, 30).unwrap();
        assert_eq!(
            retry_after(&headers("2.128"), now),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&headers("-1"), now), None);
        assert_eq!(retry_after(&headers("NaN"), now), None);
        assert_eq!(retry_after(&headers("-inf"), now), None);
    }

    #[test]
    fn absurd_retry_afters_are_clamped_not_panicked_on() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        for absurd in [
            "1e20",
            "18446744073709551616",
            "1e308",
            "inf",
            "86401",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            assert_eq!(
                retry_after(&headers(absurd), now),
                Some(MAX_RETRY_AFTER),
                "{absurd}"
            );
        }
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
