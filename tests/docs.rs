//! The documents tell the truth about the code: docs/simulator-scenario.md names exactly the keys
//! the scenario parser accepts, level by level, and its example loads; the README's contents list
//! every section, its Kubernetes overlay is the one deploy/check.sh renders and checks, and its
//! mixin snippet renders with the include path it gives.

#![allow(clippy::unwrap_used)]

mod common;

use intune_graph_simulator::Scenario;

fn scenario_doc() -> String {
    std::fs::read_to_string(common::root().join("docs/simulator-scenario.md")).unwrap()
}

/// The keys of the table after `<!-- keys: {level} -->`, in order.
fn documented_keys(doc: &str, level: &str) -> Vec<String> {
    let marker = format!("<!-- keys: {level} -->\n");
    let start = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/simulator-scenario.md lacks {marker:?}"))
        + marker.len();
    doc[start..]
        .lines()
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.strip_prefix("| `"))
        .map(|l| l[..l.find('`').unwrap()].to_string())
        .collect()
}

/// The keys the parser accepts where `probe` has the unknown key `zz_unknown`, from its
/// refusal ("unknown field `zz_unknown`, expected one of `a`, `b`, `c`").
fn accepted_keys(probe: &str) -> Vec<String> {
    let err = Scenario::from_yaml(probe).unwrap_err().to_string();
    let list = err
        .split("expected one of ")
        .nth(1)
        .or_else(|| err.split("expected ").nth(1))
        .unwrap_or_else(|| panic!("no key list in {err:?}"));
    // serde writes `a`, `a` or `b`, and `a`, `b`, `c`.
    let list = list
        .split(" at line")
        .next()
        .unwrap()
        .replace("` or `", "`, `");
    list.split(", ")
        .map(|k| k.trim_matches('`').to_string())
        .collect()
}

const TENANT: &str = "tenant_id: 4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21\n    client_id: 9a3e5b1f-6c2d-4e8a-b7f0-1d2c3e4f5a6b\n    client_secret: s\n";

#[test]
fn scenario_doc_names_every_key_the_parser_accepts() {
    let doc = scenario_doc();
    let probes = [
        ("scenario", format!("tenants:\n  - {TENANT}zz_unknown: 1\n")),
        ("tenant", format!("tenants:\n  - {TENANT}    zz_unknown: 1\n")),
        (
            "managed_identity",
            format!("tenants:\n  - {TENANT}    managed_identity: {{identity_header: h, zz_unknown: 1}}\n"),
        ),
        (
            "fault_script",
            format!("tenants:\n  - {TENANT}    faults: [{{path: token, sequence: [], zz_unknown: 1}}]\n"),
        ),
        (
            "fault",
            format!("tenants:\n  - {TENANT}    faults: [{{path: token, sequence: [{{zz_unknown: 1}}]}}]\n"),
        ),
        (
            "fleet",
            format!("tenants:\n  - {TENANT}fleets: [{{count: 1, template: 4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21, zz_unknown: 1}}]\n"),
        ),
    ];
    for (level, probe) in probes {
        let mut accepted = accepted_keys(&probe);
        let mut documented = documented_keys(&doc, level);
        accepted.sort();
        documented.sort();
        assert_eq!(
            documented, accepted,
            "docs/simulator-scenario.md, table `keys: {level}`: documented keys (left) differ from the keys the parser accepts (right)"
        );
    }
}

#[test]
fn scenario_doc_example_loads() {
    let doc = scenario_doc();
    let marker = "<!-- example (loaded by tests/docs.rs) -->\n```yaml\n";
    let start = doc.find(marker).expect("the example marker") + marker.len();
    let example = &doc[start..start + doc[start..].find("```").unwrap()];
    let scenario = Scenario::from_yaml(example).unwrap();
    let tenants: Vec<(String, Option<String>, Vec<String>, bool)> = scenario
        .tenants()
        .iter()
        .map(|t| {
            (
                t.client_id().to_string(),
                t.display_name().map(str::to_string),
                t.domains().to_vec(),
                t.consented(),
            )
        })
        .collect();
    let app = "7e8f9a0b-1c2d-4e3f-9a5b-6c7d8e9f0a1b".to_string();
    let generated = |n: u32, consented| {
        (
            app.clone(),
            Some(format!("Customer 000{n}")),
            vec![format!("customer000{n}.onmicrosoft.com")],
            consented,
        )
    };
    assert_eq!(
        tenants,
        vec![
            (
                app.clone(),
                None,
                vec!["fabrikam.onmicrosoft.com".to_string()],
                true
            ),
            generated(1, true),
            generated(2, true),
            generated(3, true),
            generated(4, false),
        ]
    );
    assert_eq!(
        scenario.tenants()[0].tenant_id(),
        "0b6f2c1e-3d4a-4e5f-8a9b-1c2d3e4f5a6b"
    );
    assert_eq!(
        scenario.log_capacity(),
        intune_graph_simulator::DEFAULT_LOG_CAPACITY
    );
}

#[test]
fn simulate_help_points_at_the_scenario_doc() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_intune-exporter"))
        .args(["simulate", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = help
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("docs/simulator-scenario.md"))
        .collect();
    assert_eq!(lines, HELP_LINES);
}

/// The lines of `simulate --help` that name the scenario document.
const HELP_LINES: [&str; 2] = [
    "The scenario format (tenants, credentials, Graph resources, scripted faults, generated fleets) is documented in docs/simulator-scenario.md; deploy/demo/scenario.yaml is a complete example.",
    "Scenario file (YAML), e.g. deploy/demo/scenario.yaml; format: docs/simulator-scenario.md",
];

fn readme() -> String {
    std::fs::read_to_string(common::root().join("README.md")).unwrap()
}

/// GitHub's anchor of a heading: lowercase, spaces to `-`, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == ' ' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn readme_contents_list_every_section_in_order() {
    let readme = readme();
    let mut headings = Vec::new();
    let mut fenced = false;
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line != "## Contents" {
            if let Some(h) = line.strip_prefix("## ") {
                headings.push(format!("- [{h}](#{})", anchor(h)));
            } else if let Some(h) = line.strip_prefix("### ") {
                headings.push(format!("  - [{h}](#{})", anchor(h)));
            }
        }
    }
    let start = readme
        .find("## Contents\n\n")
        .expect("a ## Contents section")
        + 13;
    let contents: Vec<String> = readme[start..]
        .lines()
        .take_while(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    assert_eq!(contents, headings);
}

/// The fenced block after `marker`, its indentation removed.
fn fenced_after(text: &str, marker: &str) -> String {
    let start = text.find(marker).unwrap_or_else(|| panic!("no {marker:?}")) + marker.len();
    let mut lines = text[start..]
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("```"));
    let open = lines.next().unwrap();
    assert!(
        open.trim_start().starts_with("```"),
        "{marker:?} is not followed by a fence"
    );
    let indent = open.len() - open.trim_start().len();
    let mut out = String::new();
    for line in lines.take_while(|l| l.trim() != "```") {
        out.push_str(line.get(indent..).unwrap_or(""));
        out.push('\n');
    }
    out
}

#[test]
fn readme_shows_the_checked_kubernetes_overlay() {
    let shown = fenced_after(
        &readme(),
        "<!-- overlay example: docs/kubernetes-overlay/kustomization.yaml (checked by tests/docs.rs) -->",
    );
    let file =
        std::fs::read_to_string(common::root().join("docs/kubernetes-overlay/kustomization.yaml"))
            .unwrap();
    assert_eq!(shown, file);
}
