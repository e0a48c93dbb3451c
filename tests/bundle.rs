//! The monitoring bundle's inputs that come from the exporter: the metric list the bundle's
//! checker reads (`deploy/tools/metric-api.txt`) and the mixin's connector kinds
//! (`mixin/generated/connectors.json`) are generated from the code (`UPDATE_GOLDEN=1` rewrites
//! them).
//!
//! The checks of the bundle itself run in `deploy/check.sh` (part of `scripts/test`), once each:
//! `deploy/tools/catalog_check.py` compares every metric a dashboard or rule uses with that
//! list, `deploy/tools/render-mixin.sh --check` renders the mixin with jsonnet and diffs it with
//! the checked-in files, another `_config` renders rules promtool accepts, and the layout lint
//! must catch overlapping panels.

#![allow(clippy::unwrap_used)]

mod common;

use intune_exporter::metrics::catalog;

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
/// their `connector` label values, descriptions and order come from `ConnectorKind::ALL`, so
/// renaming or adding a kind changes the rules and dashboards (or fails rendering) instead of
/// silently breaking them. `UPDATE_GOLDEN=1` rewrites the file.
#[test]
fn mixin_connector_list_is_generated_from_the_exporter() {
    use intune_exporter::sources::connector::ConnectorKind;
    let kinds: Vec<serde_json::Value> = ConnectorKind::ALL
        .iter()
        .map(|k| serde_json::json!({"connector": k.label(), "description": k.description()}))
        .collect();
    let mut text = serde_json::to_string_pretty(&kinds).unwrap();
    text.push('\n');
    common::assert_golden("mixin/generated/connectors.json", &text);
}
