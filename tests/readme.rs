//! The README tells the truth: its metric reference and permission table are generated from
//! the catalog and the source list (run with `UPDATE_GOLDEN=1` to regenerate them), and its
//! test command is what CI runs.

#![allow(clippy::unwrap_used)]

mod common;

use intune_exporter::metrics::catalog;
use intune_exporter::sources;

fn section(readme: &str, name: &str) -> (usize, usize) {
    let begin = format!("<!-- BEGIN {name} (generated; see tests/readme.rs) -->\n");
    let end = format!("<!-- END {name} -->");
    let start = readme
        .find(&begin)
        .unwrap_or_else(|| panic!("README lacks {begin:?}"))
        + begin.len();
    let stop = readme[start..]
        .find(&end)
        .unwrap_or_else(|| panic!("README lacks {end:?}"))
        + start;
    (start, stop)
}

fn check_generated(name: &str, generated: &str) {
    let path = common::root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (start, stop) = section(&readme, name);
    if readme[start..stop] == *generated {
        return;
    }
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let updated = format!("{}{}{}", &readme[..start], generated, &readme[stop..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "README section {name} is out of date (run UPDATE_GOLDEN=1 cargo test --test readme):\n{generated}"
    );
}

#[test]
fn metric_reference_matches_the_catalog() {
    check_generated("METRICS", &catalog::markdown_reference());
}

#[test]
fn permission_table_matches_the_sources() {
    check_generated("PERMISSIONS", &sources::markdown_permissions());
}

#[test]
fn ci_runs_the_readme_test_command() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    assert!(
        readme.contains("\n```sh\nscripts/test\n```\n"),
        "README must show the test command"
    );
    let ci = std::fs::read_to_string(common::root().join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == "exec scripts/test"),
        ".ci/run must run scripts/test"
    );
}

#[test]
fn every_connector_kind_is_documented() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    for kind in intune_exporter::sources::connector_kinds() {
        let row = format!("| `{}` | {} |", kind.label, kind.description);
        assert!(readme.contains(&row), "README lacks the row {row:?}");
    }
}

/// Every connector kind tells the person paged where to look (docs/runbooks.md).
#[test]
fn every_connector_kind_has_a_runbook_entry() {
    let runbooks = std::fs::read_to_string(common::root().join("docs/runbooks.md")).unwrap();
    let missing: Vec<&str> = intune_exporter::sources::connector_kinds()
        .iter()
        .map(|k| k.label)
        .filter(|label| !runbooks.contains(&format!("`{label}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/runbooks.md does not name these connector kinds: {missing:?}"
    );
}
