//! The monitoring bundle speaks the exporter's metric API: every metric a dashboard or a rule
//! uses is in the catalog (or is a recording rule, a `process_*` family or `up`), and the list
//! the bundle's own checker reads
//! (`deploy/tools/metric-api.txt`) is generated from the catalog (`UPDATE_GOLDEN=1` rewrites
//! it).
//!
//! The bundle is rendered from the monitoring mixin (`mixin/`, jsonnet): the checked-in rule
//! files, PrometheusRule and dashboards must equal its output, another `_config` must render
//! rules promtool accepts, and the layout check must catch overlapping panels.

#![allow(clippy::unwrap_used)]

mod common;

use intune_exporter::metrics::catalog::{self, Kind};
use std::collections::BTreeSet;
use std::process::Command;

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
            known.insert(name.trim().trim_matches('"').to_string());
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

/// The connector kinds the mixin knows (mixin/generated/connectors.json) are the exporter's:
/// their `connector` label values, descriptions, admin centre blades and order come from the
/// registry of sources, so renaming or adding a kind changes the rules and dashboards (or fails
/// rendering) instead of silently breaking them. `UPDATE_GOLDEN=1` rewrites the file.
#[test]
fn mixin_connector_list_is_generated_from_the_exporter() {
    let kinds: Vec<serde_json::Value> = intune_exporter::sources::connector_kinds()
        .iter()
        .map(|k| {
            serde_json::json!({"connector": k.label, "description": k.description, "blade": k.blade})
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&kinds).unwrap();
    text.push('\n');
    common::assert_golden("mixin/generated/connectors.json", &text);
}

/// The admin centre hosts and blades the dashboards link to (mixin/generated/admin-centres.json)
/// are the status page's, so the two cannot point to different places.
#[test]
fn mixin_admin_centres_are_generated_from_the_exporter() {
    use intune_exporter::graph::Cloud;
    use intune_exporter::status::view;
    let hosts: serde_json::Map<String, serde_json::Value> = Cloud::ALL
        .iter()
        .map(|(cloud, name)| {
            let host = view::admin_center_host(*cloud).trim_start_matches("https://");
            (name.to_string(), serde_json::Value::from(host))
        })
        .collect();
    let doc = serde_json::json!({
        "hosts": hosts,
        "tenantStatusBlade": view::TENANT_STATUS_BLADE,
        "connectorOverviewBlade": intune_exporter::sources::connector::CONNECTORS_AND_TOKENS,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap();
    text.push('\n');
    common::assert_golden("mixin/generated/admin-centres.json", &text);
}

/// Renders the mixin with `config` (a jsonnet object merged into `_config`) into `dir`, as
/// deploy/tools/render-mixin.sh does: the rules (`render.jsonnet`, strings) and, unless
/// `rules_only`, the dashboards (`render-dashboards.jsonnet`, JSON). The paths written,
/// relative to `dir`.
fn render_mixin(dir: &std::path::Path, config: &str, rules_only: bool) -> Vec<String> {
    for sub in ["dashboards", "deploy/prometheus", "deploy/kubernetes"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let mut renders = vec![("render.jsonnet", true)];
    if !rules_only {
        renders.push(("render-dashboards.jsonnet", false));
    }
    let mut written = String::new();
    for (file, strings) in renders {
        let mut cmd = Command::new("jsonnet");
        cmd.arg("-J")
            .arg(common::root().join("mixin"))
            .args(["--ext-code", &format!("config={config}")]);
        if strings {
            cmd.arg("-S");
        }
        let out = cmd
            .arg("-m")
            .arg(dir)
            .arg(common::root().join("mixin").join(file))
            .output()
            .expect("jsonnet not found: install Debian's jsonnet package (scripts/test does)");
        assert!(
            out.status.success(),
            "jsonnet {file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        written.push_str(&String::from_utf8(out.stdout).unwrap());
    }
    written
        .lines()
        .map(|l| {
            std::path::Path::new(l)
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn checked_in_rules_and_dashboards_are_the_rendered_mixin() {
    let dir = common::TempDir::new("mixin");
    let mut files = render_mixin(&dir.0, "{}", false);
    files.sort();
    assert_eq!(
        files,
        [
            "dashboards/intune-exporter.json",
            "dashboards/intune-fleet.json",
            "dashboards/intune-tenant-status.json",
            "deploy/kubernetes/prometheusrule.yaml",
            "deploy/prometheus/alerts.yml",
            "deploy/prometheus/recording-rules.yml",
        ]
    );
    for f in &files {
        let text = std::fs::read_to_string(dir.0.join(f)).unwrap();
        common::assert_golden(f, &text);
    }
}

#[test]
fn another_config_renders_rules_promtool_accepts() {
    let dir = common::TempDir::new("mixin-custom");
    render_mixin(
        &dir.0,
        r#"{ selector: 'job="intune-eu"', ladder+:: { expiryNoticeDays: 45, expiryWarningDays: 10 }, licenceUtilisationRatio: 0.9 }"#,
        true,
    );
    let rules = dir.0.join("deploy/prometheus/recording-rules.yml");
    let alerts = dir.0.join("deploy/prometheus/alerts.yml");
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules)
        .arg(&alerts)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text =
        std::fs::read_to_string(&alerts).unwrap() + &std::fs::read_to_string(&rules).unwrap();
    for default in [r#"job="intune-exporter""#, r#"job=\"intune-exporter\""#] {
        assert!(
            !text.contains(default),
            "the default selector is left: {default}"
        );
    }
    for wanted in [
        r#"up{job="intune-eu"} == 0"#,
        "< 45 * 86400",
        "< 10 * 86400",
        "intune:license_utilization:ratio > 0.9",
    ] {
        assert!(
            text.contains(wanted),
            "{wanted} is not in the rendered rules"
        );
    }
}

#[test]
fn layout_check_passes_the_dashboards_and_fails_on_overlaps() {
    let lint = |args: &[&str]| {
        let out = Command::new("python3")
            .arg(common::root().join("deploy/tools/dashboard_lint.py"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, text) = lint(&[]);
    assert!(ok, "{text}");
    assert_eq!(text, "linted 3 dashboards: ok\n");
    let fixture = common::root().join("tests/fixtures/dashboards/overlapping.json");
    let (ok, text) = lint(&["--any-uid", fixture.to_str().unwrap()]);
    assert!(!ok);
    assert_eq!(
        text,
        "overlapping.json: panel 2 'Tenant' {'h': 4, 'w': 10, 'x': 0, 'y': 1} overlaps panel 3 'Intune subscription' {'h': 4, 'w': 4, 'x': 8, 'y': 1}\n\
         overlapping.json: panel 2 'Tenant' {'h': 4, 'w': 10, 'x': 0, 'y': 1} overlaps panel 99 'Second row' {'h': 1, 'w': 24, 'x': 0, 'y': 3}\n\
         overlapping.json: panel 3 'Intune subscription' {'h': 4, 'w': 4, 'x': 8, 'y': 1} overlaps panel 99 'Second row' {'h': 1, 'w': 24, 'x': 0, 'y': 3}\n\
         overlapping.json: panel 2 'Tenant' {'h': 4, 'w': 10, 'x': 0, 'y': 1} reaches into row 'Second row' at y=3\n\
         overlapping.json: panel 3 'Intune subscription' {'h': 4, 'w': 4, 'x': 8, 'y': 1} reaches into row 'Second row' at y=3\n\
         linted 1 dashboards: FAILED\n"
    );
}
