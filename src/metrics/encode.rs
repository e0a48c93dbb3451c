//! The one encoder: Prometheus text format 0.0.4, whole families or their series alone.
//!
//! Series lines come from the `prometheus` crate's `TextEncoder`, so that values and escaping
//! are those of every other exporter built on it; `# HELP` / `# TYPE` headers are written here
//! for the cached per-tenant blocks, and a test holds them equal to the crate's.

use super::catalog::FamilyDef;
use prometheus::proto::MetricFamily;
use prometheus::TextEncoder;

/// The `Content-Type` of the text exposition format served on `/metrics`.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Encodes families in the text format.
pub fn text(families: &[MetricFamily]) -> String {
    let mut out = String::new();
    append(families, &mut out);
    out
}

/// Appends families in the text format to `out`.
pub fn append(families: &[MetricFamily], out: &mut String) {
    // Encoding into a String cannot fail on I/O; it fails only on malformed families, which the
    // catalog rules out. An error would surface as a truncated exposition, never a panic.
    if let Err(err) = TextEncoder::new().encode_utf8(families, out) {
        tracing::error!(error = %err, "encoding metrics failed");
    }
}

/// The series lines of one family, without its `# HELP` and `# TYPE` lines.
pub fn series_lines(family: &MetricFamily) -> String {
    let mut out = String::new();
    append(std::slice::from_ref(family), &mut out);
    // The encoder writes exactly two header lines first (every catalog help is non-empty).
    let body_start = out
        .match_indices('\n')
        .nth(1)
        .map_or(out.len(), |(i, _)| i + 1);
    out.split_off(body_start)
}

/// The `# HELP` and `# TYPE` lines of a catalog family.
pub fn header(def: &FamilyDef) -> String {
    // The text format escapes backslashes and line feeds in help texts.
    let help = def.help.replace('\\', "\\\\").replace('\n', "\\n");
    format!(
        "# HELP {name} {help}\n# TYPE {name} {kind}\n",
        name = def.name,
        kind = def.kind.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalog::{self, Kind};
    use crate::metrics::MetricSet;

    #[test]
    fn headers_match_the_crate_encoder_and_lines_follow_them() {
        for def in catalog::ALL.iter().filter(|d| d.kind == Kind::Gauge) {
            let mut set = MetricSet::new();
            let labels: Vec<&str> = def.labels.iter().map(|_| "v").collect();
            set.gauge(def, &labels, 1.0);
            let families = set.into_families();
            let whole = text(&families);
            let lines = series_lines(&families[0]);
            assert_eq!(whole, header(def) + &lines, "{}", def.name);
            assert_eq!(lines.lines().count(), 1, "{}", def.name);
        }
    }
}
