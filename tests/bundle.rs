//! The monitoring bundle speaks the exporter's metric API: every metric a dashboard or a rule
//! uses is in the catalog (or is a recording rule, a `process_*` family or `up`), and the
//! list the bundle's own checker reads (`deploy/tools/metric-api.txt`) is generated from the
//! catalog (`UPDATE_GOLDEN=1` rewrites it).

#![allow(clippy::unwrap_used)]

mod common;

use intune_exporter::metrics::catalog::{self, Kind};
use std::collections::BTreeSet;

/// Every `intune_*`, `intune:*` and `process_*` identifier in a text, string literals included
/// (annotation templates look series up by name inside strings).
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        let starts = rest.starts_with("intune_")
            || rest.starts_with("intune:")
            || rest.starts_with("process_");
        let boundary = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':');
        if starts && boundary {
            // Only recording rules (intune:...) have colons; elsewhere a colon ends the name
            // ("intune_tenant_info: the tenant's name" in a panel description).
            let colons = rest.starts_with("intune:");
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || (colons && c == ':')))
                .unwrap_or(rest.len());
            out.insert(rest[..len].to_string());
            i += len;
        } else {
            i += 1;
        }
    }
    out
}

fn known_names() -> BTreeSet<String> {
    let mut known = BTreeSet::new();
    for f in catalog::ALL {
        known.insert(f.name.to_string());
        if f.kind == Kind::Histogram {
            for suffix in ["_bucket", "_sum", "_count"] {
                known.insert(format!("{}{suffix}", f.name));
            }
        }
    }
    known.extend(catalog::PROCESS_FAMILIES.iter().map(|s| s.to_string()));
    let rules =
        std::fs::read_to_string(common::root().join("deploy/prometheus/recording-rules.yml"))
            .unwrap();
    for line in rules.lines() {
        if let Some(name) = line.trim().strip_prefix("- record:") {
            known.insert(name.trim().to_string());
        }
    }
    known
}

#[test]
fn dashboards_and_rules_use_only_catalogued_metrics() {
    let known = known_names();
    let mut files = common::files_in(&common::root().join("dashboards"));
    files.extend(common::files_in(&common::root().join("deploy/prometheus")));
    files.retain(|f| matches!(f.extension().and_then(|e| e.to_str()), Some("json" | "yml")));
    files.retain(|f| !f.ends_with("prometheus.yml"));
    assert_eq!(files.len(), 5, "{files:?}");
    let mut used = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for name in metric_names(&text) {
            assert!(
                known.contains(&name),
                "{}: {name} is not in the exporter's catalog",
                file.display()
            );
            used.insert(name);
        }
    }
    // Every family of the catalog is on a dashboard or in a rule.
    for f in catalog::ALL {
        let shown = used.iter().any(|u| {
            u == f.name
                || u.strip_prefix(f.name)
                    .is_some_and(|s| ["_bucket", "_sum", "_count"].contains(&s))
        });
        assert!(shown, "{} is used by no dashboard and no rule", f.name);
    }
}

#[test]
fn the_bundle_checker_reads_the_catalog() {
    let mut list = String::from(
        "# Generated from the exporter's metric catalog by tests/bundle.rs (UPDATE_GOLDEN=1 cargo test --test bundle).\n\
         # deploy/tools/catalog_check.py compares the dashboards and rules against it.\n",
    );
    for f in catalog::ALL {
        list.push_str(f.name);
        list.push('\n');
    }
    for p in catalog::PROCESS_FAMILIES {
        list.push_str(p);
        list.push('\n');
    }
    common::assert_golden("deploy/tools/metric-api.txt", &list);
}
