//! Durations written the Prometheus way (`30s`, `5m`, `1h30m`, `7d`, `250ms`).
//!
//! Used by the configuration file and by simulator scenarios, so that an operator writes
//! a duration the same way everywhere. Owns parsing and formatting only.

use std::fmt;
use std::time::Duration;

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (expected e.g. 30s, 5m, 1h30m, 7d)")]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

/// Parses `[0-9]+(ms|s|m|h|d|w)` repeated, largest unit first, like Prometheus' `model.ParseDuration`.
/// A decimal number of seconds (`2.5s`) is accepted too, because Graph's `Retry-After` is decimal.
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let err = |reason| DurationError {
        input: input.to_string(),
        reason,
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err("empty"));
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    let mut last_rank = usize::MAX;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| err("missing unit"))?;
        if num_len == 0 {
            return Err(err("expected a number"));
        }
        let number: f64 = rest[..num_len]
            .parse()
            .map_err(|_| err("malformed number"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let (rank, unit_secs) = match &rest[..unit_len] {
            "w" => (0, 7.0 * 86_400.0),
            "d" => (1, 86_400.0),
            "h" => (2, 3_600.0),
            "m" => (3, 60.0),
            "s" => (4, 1.0),
            "ms" => (5, 0.001),
            _ => return Err(err("unknown unit (use ms, s, m, h, d or w)")),
        };
        if last_rank != usize::MAX && rank <= last_rank {
            return Err(err("units must go from largest to smallest, each once"));
        }
        last_rank = rank;
        let secs = number * unit_secs;
        if !secs.is_finite() || secs > 1e12 {
            return Err(err("too large"));
        }
        total += Duration::from_secs_f64(secs);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Formats a duration the way [`parse`] reads it, with the largest units first (`1h30m`, `7d`, `250ms`).
pub fn format(d: Duration) -> String {
    Formatted(d).to_string()
}

struct Formatted(Duration);

impl fmt::Display for Formatted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in [
            ("w", 604_800_000u128),
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1_000),
            ("ms", 1),
        ] {
            if ms >= size {
                write!(f, "{}{unit}", ms / size)?;
                ms %= size;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_durations() {
        assert_eq!(parse("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse("2w").unwrap(), Duration::from_secs(1_209_600));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("2.5s").unwrap(), Duration::from_millis(2500));
        assert_eq!(parse("0").unwrap(), Duration::ZERO);
    }

    #[test]
    fn refuses_malformed_durations() {
        for bad in ["", "5", "m", "5x", "1m1h", "1m1m", "-5s", "5 m"] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            parse("5x").unwrap_err().to_string(),
            "invalid duration \"5x\": unknown unit (use ms, s, m, h, d or w) (expected e.g. 30s, 5m, 1h30m, 7d)"
        );
    }

    #[test]
    fn formats_round_trip() {
        for s in ["30s", "5m", "1h30m", "6d", "250ms", "1w2d", "0s"] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
        // Like Prometheus, seven days print as a week.
        assert_eq!(format(parse("7d").unwrap()), "1w");
    }
}
