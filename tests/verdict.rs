//! The verdict on a Graph answer, over its whole table: every status class, attempt and flag,
//! with and without `Retry-After`, compared with a golden file. Single requests and batch items
//! both act on it (tests/graph.rs, tests/batch.rs), so this is the one place its rules are
//! spelled out.

#![allow(clippy::unwrap_used)]

mod common;

use intune_exporter::graph::verdict::{verdict, Attempt, Failure, Reply, RetryPolicy, Verdict};
use reqwest::StatusCode;
use std::time::Duration;

const POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    base_backoff: Duration::from_secs(1),
    max_wait: Duration::from_secs(60),
    max_pages: 100,
    max_response_bytes: 1 << 20,
};

fn cell(v: Verdict) -> String {
    match v {
        Verdict::Done => "done".to_string(),
        Verdict::Absent => "absent".to_string(),
        Verdict::RefreshToken => "new token".to_string(),
        Verdict::DropFilter => "drop filter".to_string(),
        Verdict::Retry { after, tenant } => {
            format!("retry {after:?}{}", if tenant { " tenant" } else { "" })
        }
        Verdict::Fail(Failure::Status) => "fail".to_string(),
        Verdict::Fail(Failure::NotFound) => "fail not found".to_string(),
        Verdict::Fail(Failure::Transport) => "fail transport".to_string(),
    }
}

/// Every flag combination, as a column: optional (an entity), filtered, refreshed.
const FLAGS: [(&str, bool, bool, bool); 8] = [
    ("-", false, false, false),
    ("o", true, false, false),
    ("f", false, true, false),
    ("r", false, false, true),
    ("of", true, true, false),
    ("or", true, false, true),
    ("fr", false, true, true),
    ("ofr", true, true, true),
];

#[test]
fn the_verdict_table() {
    let mut replies: Vec<(String, Reply)> = Vec::new();
    for status in [
        200, 204, 301, 307, 400, 401, 403, 404, 409, 429, 500, 501, 502, 503, 504,
    ] {
        for (shown, retry_after) in [
            ("", None),
            (" retry-after 2.5s", Some(Duration::from_millis(2500))),
            (" retry-after 90s", Some(Duration::from_secs(90))),
        ] {
            replies.push((
                format!("{status}{shown}"),
                Reply::Status(StatusCode::from_u16(status).unwrap(), retry_after),
            ));
        }
    }
    for transient in [true, false] {
        let shown = if transient {
            "no answer, transient"
        } else {
            "no answer"
        };
        replies.push((shown.to_string(), Reply::Unanswered { transient }));
    }
    let mut out = String::from(
        "# The verdict on one send under max_attempts 3, base_backoff 1s, max_wait 60s, jitter 0.5.\n\
         # Columns: what the request carried: o = optional (an entity), f = a $filter,\n\
         # r = a 401 already got a new token for it. Attempt 4 follows a new token on attempt 3.\n",
    );
    out.push_str(&format!("{:<34}{:<8}", "reply", "attempt"));
    for (name, ..) in FLAGS {
        out.push_str(&format!("{name:<20}"));
    }
    out = out.trim_end().to_string() + "\n";
    for (shown, reply) in &replies {
        for number in 1..=4 {
            let mut line = format!("{shown:<34}{number:<8}");
            for (_, optional, filtered, refreshed) in FLAGS {
                let attempt = Attempt {
                    number,
                    optional,
                    filtered,
                    refreshed,
                };
                line.push_str(&format!(
                    "{:<20}",
                    cell(verdict(*reply, attempt, &POLICY, 0.5))
                ));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    common::assert_golden("tests/golden/graph/verdict.txt", &out);
}

#[test]
fn a_backoff_doubles_per_attempt_within_its_jitter_and_max_wait() {
    let waits = |jitter: f64| -> Vec<Duration> {
        [1, 2, 3, 6, 7, 10, 11, 40]
            .into_iter()
            .map(|number| {
                let attempt = Attempt {
                    number,
                    ..Attempt::default()
                };
                let policy = RetryPolicy {
                    max_attempts: 100,
                    max_wait: Duration::from_secs(100),
                    ..POLICY
                };
                match verdict(
                    Reply::Unanswered { transient: true },
                    attempt,
                    &policy,
                    jitter,
                ) {
                    Verdict::Retry {
                        after,
                        tenant: false,
                    } => after,
                    other => panic!("attempt {number}: {other:?}"),
                }
            })
            .collect()
    };
    let secs =
        |s: &[f64]| -> Vec<Duration> { s.iter().map(|s| Duration::from_secs_f64(*s)).collect() };
    // From half of the step to all of it, at most max_wait.
    assert_eq!(
        waits(0.0),
        secs(&[0.5, 1.0, 2.0, 16.0, 32.0, 100.0, 100.0, 100.0])
    );
    assert_eq!(
        waits(1.0),
        secs(&[1.0, 2.0, 4.0, 32.0, 64.0, 100.0, 100.0, 100.0])
    );
    let long = RetryPolicy {
        max_wait: Duration::from_secs(1000),
        max_attempts: 100,
        ..POLICY
    };
    let at = |number| {
        verdict(
            Reply::Status(StatusCode::SERVICE_UNAVAILABLE, None),
            Attempt {
                number,
                ..Attempt::default()
            },
            &long,
            1.0,
        )
    };
    let step = |secs| Verdict::Retry {
        after: Duration::from_secs(secs),
        tenant: false,
    };
    // The base is doubled at most 9 times.
    assert_eq!((at(10), at(11), at(50)), (step(512), step(512), step(512)));
}
