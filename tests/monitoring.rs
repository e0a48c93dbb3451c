//! The monitoring bundle against the real programs: the exporter in demo mode, Prometheus
//! (Debian's package) scraping it with the bundled recording and alerting rules, and
//! Alertmanager with the bundled configuration, all on loopback ports chosen at run time.
//!
//! The same test runs twice: with the scrape job named `intune-exporter`, as in the bundled
//! prometheus.yml, and named `tenant-watch`, since nothing may depend on the job's name.
//!
//! Asserts that every recording rule records series, that every PromQL query of every
//! dashboard panel (and template variable), as deploy/tools/dashboard_queries.py extracts it,
//! returns data for the demo tenant with the `job`, `instance` and `tenant` variables set, that the
//! Intune news panel lists exactly the 10 latest posts newest first, each with a title and a
//! date, that the demo's expired and expiring connectors and its posts due within 30 days raise
//! exactly the expected alerts,
//! and that those alerts reach Alertmanager's v2 API with their labels, their receiver
//! (critical pages, warning tickets) and the inhibition of warnings by criticals.
//!
//! Two more tests serve small expositions on loopback and check Alertmanager's grouping: three
//! tenants sharing one Microsoft incident, or one Message center post, give one notification,
//! not three; a customer-origin incident in two tenants gives two.
//!
//! Queries that use a family the demo cannot have (GDAP and tenant-file discovery: its one
//! tenant is in its config) may return nothing; every other query must not.
//!
//! One deliberate change to the bundled rules: every `for:` hold is set to 0 in the copy that
//! Prometheus loads, so alerts fire within seconds instead of 15 minutes. The hold durations
//! themselves are covered by `promtool test rules` (deploy/prometheus/tests/).

#![allow(clippy::unwrap_used)]

mod common;

use common::{free_port, Daemon, Exporter, TempDir};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TENANT: &str = "4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21";

fn spawn(program: &'static str, args: &[String], log: &Path) -> Daemon {
    let log = std::fs::File::create(log).unwrap();
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{program}: {e}; install Debian's prometheus and prometheus-alertmanager (scripts/test does)")
        });
    Daemon(child)
}

/// The bundled rule files with every `for:` hold set to 0.
fn rules_without_holds(dir: &TempDir) -> Vec<String> {
    let mut out = Vec::new();
    for name in ["recording-rules.yml", "alerts.yml"] {
        let text =
            std::fs::read_to_string(common::root().join("deploy/prometheus").join(name)).unwrap();
        let rewritten: String = text
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("for:") {
                    let indent = &l[..l.len() - l.trim_start().len()];
                    format!("{indent}for: 0s\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        let path = dir.0.join(name);
        std::fs::write(&path, rewritten).unwrap();
        out.push(path.to_string_lossy().into_owned());
    }
    out
}

/// Families the demo cannot have: its one tenant is in its config, with no tenant files, no
/// GDAP discovery (so no relationships either) and no `app_credentials`, so a panel about them
/// rightly shows nothing there.
fn not_in_demo() -> Vec<String> {
    use intune_exporter::metrics::catalog::{
        APP_CREDENTIAL_END, APP_CREDENTIAL_INFO, DISCOVERY_LAST_SUCCESS, DISCOVERY_UP,
        GDAP_RELATIONSHIP_AUTO_EXTEND, GDAP_RELATIONSHIP_END, GDAP_RELATIONSHIP_INFO,
    };
    [
        &DISCOVERY_UP,
        &DISCOVERY_LAST_SUCCESS,
        &GDAP_RELATIONSHIP_END,
        &GDAP_RELATIONSHIP_AUTO_EXTEND,
        &GDAP_RELATIONSHIP_INFO,
        &APP_CREDENTIAL_END,
        &APP_CREDENTIAL_INFO,
    ]
    .iter()
    .map(|f| f.name.to_string())
    .collect()
}

/// Alertmanager with `am_config` and Prometheus scraping `target` as job `job` with the
/// bundled rules (holds set to 0), on free loopback ports, both ready.
struct Stack {
    am: String,
    prom: String,
    _daemons: [Daemon; 2],
}

impl Stack {
    async fn start(dir: &TempDir, am_config: &Path, job: &str, target: &str) -> Stack {
        let am_port = free_port();
        let alertmanager = spawn(
            "prometheus-alertmanager",
            &[
                format!("--config.file={}", am_config.display()),
                format!("--storage.path={}", dir.0.join("am").display()),
                format!("--web.listen-address=127.0.0.1:{am_port}"),
                // A single instance: no gossip port.
                "--cluster.listen-address=".to_string(),
            ],
            &dir.0.join("alertmanager.log"),
        );
        let rules = rules_without_holds(dir);
        let prom_port = free_port();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files: [{}]\n\
             alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\n\
             scrape_configs:\n  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n",
            rules.iter().map(|r| format!("'{r}'")).collect::<Vec<_>>().join(", "),
        );
        std::fs::write(dir.0.join("prometheus.yml"), config).unwrap();
        let prometheus = spawn(
            "prometheus",
            &[
                format!("--config.file={}", dir.0.join("prometheus.yml").display()),
                format!("--storage.tsdb.path={}", dir.0.join("tsdb").display()),
                format!("--web.listen-address=127.0.0.1:{prom_port}"),
            ],
            &dir.0.join("prometheus.log"),
        );
        let stack = Stack {
            am: format!("http://127.0.0.1:{am_port}"),
            prom: format!("http://127.0.0.1:{prom_port}"),
            _daemons: [alertmanager, prometheus],
        };
        let client = reqwest::Client::new();
        wait_ready(
            &client,
            &format!("{}/-/ready", stack.am),
            &dir.0.join("alertmanager.log"),
        )
        .await;
        wait_ready(
            &client,
            &format!("{}/-/ready", stack.prom),
            &dir.0.join("prometheus.log"),
        )
        .await;
        stack
    }

    /// Both daemons' logs, for a failure message.
    fn logs(dir: &TempDir) -> String {
        format!(
            "prometheus log:\n{}\nalertmanager log:\n{}",
            std::fs::read_to_string(dir.0.join("prometheus.log")).unwrap_or_default(),
            std::fs::read_to_string(dir.0.join("alertmanager.log")).unwrap_or_default()
        )
    }
}

/// Every PromQL query of every dashboard, panel targets and template-variable queries, named
/// `dashboard / panel title / refId`, as deploy/tools/dashboard_queries.py extracts them (the
/// one place that knows Grafana's variables), with `job`, `instance` (the exporter's address)
/// and `tenant` set.
fn dashboard_queries(job: &str, instance: &str) -> Vec<(String, String)> {
    let out = Command::new("python3")
        .arg(common::root().join("deploy/tools/dashboard_queries.py"))
        .args(["--tenant", TENANT, "--job", job, "--instance", instance])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dashboard_queries.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let queries: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    queries
        .iter()
        .map(|q| {
            let s = |k: &str| q[k].as_str().unwrap_or("variable").to_string();
            (
                format!(
                    "{} / {} / {}",
                    s("dashboard"),
                    s("panel_title"),
                    s("ref_id")
                ),
                s("expr"),
            )
        })
        .collect()
}

/// The names of the bundled recording rules.
fn recording_rules() -> Vec<String> {
    std::fs::read_to_string(common::root().join("deploy/prometheus/recording-rules.yml"))
        .unwrap()
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("- record: "))
        .map(|name| name.trim_matches('"').to_string())
        .collect()
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// Waits until `url` answers 200 (a daemon's `/-/ready`).
async fn wait_ready(client: &reqwest::Client, url: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(url).send().await {
            if r.status() == 200 {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{url} never ready:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Queries Prometheus; the number of series (or 1 for a scalar) in the result.
async fn result_size(client: &reqwest::Client, prom: &str, expr: &str) -> usize {
    let v = query(client, prom, expr).await;
    match v["data"]["resultType"].as_str() {
        Some("vector") | Some("matrix") => v["data"]["result"].as_array().unwrap().len(),
        _ => 1,
    }
}

/// Queries Prometheus; its whole answer, which must be a success.
async fn query(client: &reqwest::Client, prom: &str, expr: &str) -> Value {
    let v: Value = client
        .get(format!("{prom}/api/v1/query"))
        .query(&[("query", expr)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "success", "{expr}: {v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboards_alerts_and_routing_on_real_prometheus_and_alertmanager() {
    dashboards_alerts_and_routing("intune-exporter").await;
}

/// The rules and dashboards find the exporter by its metrics, so a job called anything else
/// gets the same alerts, recorded series and dashboard data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboards_alerts_and_routing_under_another_job_name() {
    dashboards_alerts_and_routing("tenant-watch").await;
}

async fn dashboards_alerts_and_routing(job: &str) {
    let dir = TempDir::new(&format!("monitoring-{job}"));
    let exporter = Exporter::start(&["--demo"]);
    exporter.wait_ready().await;

    let stack = Stack::start(
        &dir,
        &common::root().join("deploy/alertmanager/alertmanager.yml"),
        job,
        &exporter.addr,
    )
    .await;
    let (am, prom) = (stack.am.clone(), stack.prom.clone());
    let client = reqwest::Client::new();
    let queries = dashboard_queries(job, &exporter.addr);
    let recorded = recording_rules();
    assert_eq!(recorded.len(), 14, "{recorded:?}");
    assert!(
        queries.len() >= 80,
        "only {} dashboard queries found",
        queries.len()
    );
    let planned = not_in_demo();

    // Expected alerts from the demo scenario: (alertname, severity, connector, connector_id,
    // message_id or subscription_id).
    let expected: BTreeSet<(String, String, String, String)> = [
        (
            "IntuneConnectorExpired",
            "critical",
            "vpp_token",
            "c4f7a0b9-2e6d-4813-b9a2-5f1e7d3c8a04",
        ),
        (
            "IntuneAppleVppTokenExpiring",
            "critical",
            "vpp_token",
            "6a2e8f14-0b3d-4c97-a5e1-8d7c2b9f0e36",
        ),
        (
            "IntuneAppleVppTokenExpiring",
            "warning",
            "vpp_token",
            "6a2e8f14-0b3d-4c97-a5e1-8d7c2b9f0e36",
        ),
        (
            "IntuneConnectorSyncStale",
            "critical",
            "vpp_token",
            "c4f7a0b9-2e6d-4813-b9a2-5f1e7d3c8a04",
        ),
        (
            "IntuneConnectorSyncStale",
            "warning",
            "vpp_token",
            "c4f7a0b9-2e6d-4813-b9a2-5f1e7d3c8a04",
        ),
        (
            "IntuneConnectorSyncStale",
            "critical",
            "dep_token",
            "e8b1c5d2-4a7f-4e39-86d0-1b3a9c5e7f28",
        ),
        (
            "IntuneConnectorSyncStale",
            "warning",
            "dep_token",
            "e8b1c5d2-4a7f-4e39-86d0-1b3a9c5e7f28",
        ),
        (
            "IntuneConnectorSyncStale",
            "critical",
            "certificate_connector",
            "7c1f5b3e-9a2d-4c60-b8e7-3f0a6d2c9b51",
        ),
        (
            "IntuneConnectorSyncStale",
            "warning",
            "certificate_connector",
            "7c1f5b3e-9a2d-4c60-b8e7-3f0a6d2c9b51",
        ),
        (
            "IntuneConnectorSyncStale",
            "warning",
            "managed_google_play",
            "9d4e7b2f-8c1a-4f56-b3e0-2a6d8f1c5b47",
        ),
        (
            "IntuneAppleEnrollmentTermsPending",
            "warning",
            "dep_token",
            "e8b1c5d2-4a7f-4e39-86d0-1b3a9c5e7f28",
        ),
        // Beyond the Apple tokens: the demo's Android enrollment token expires within 7 days
        // (a page, and the 30-day ticket it inhibits), one in-house iOS app within 30.
        (
            "IntuneConnectorExpiring",
            "critical",
            "android_enrollment_token",
            "6c1d9e4a-3b7f-4a28-9e05-d2f8a4c61b93",
        ),
        (
            "IntuneConnectorExpiring",
            "warning",
            "android_enrollment_token",
            "6c1d9e4a-3b7f-4a28-9e05-d2f8a4c61b93",
        ),
        (
            "IntuneConnectorExpiring",
            "warning",
            "ios_lob_app",
            "1d4b7e2a-5c8f-4a31-9e06-3b2d7f1c8a54",
        ),
        // The demo's 2025 iOS provisioning profile lapsed two days ago.
        (
            "IntuneConnectorExpired",
            "critical",
            "ios_app_provisioning_profile",
            "5a1d8e3c-7f2b-4a94-b6e0-3c9a7d1f5e28",
        ),
        (
            "IntuneConnectorOutOfSupport",
            "critical",
            "certificate_connector",
            "7c1f5b3e-9a2d-4c60-b8e7-3f0a6d2c9b51",
        ),
        ("IntuneLicensesNearlyExhausted", "warning", "", ""),
        ("IntuneServiceIncidentActive", "warning", "", ""),
        // One alert per post, without a tenant: MC900104 (in the latest 10) and MC900102
        // (older) are due within 30 days.
        (
            "IntuneMessageCenterActionRequired",
            "warning",
            "",
            "MC900102",
        ),
        (
            "IntuneMessageCenterActionRequired",
            "warning",
            "",
            "MC900104",
        ),
        // Of the demo's commercial subscriptions: the one in Warning pages, the trial that ends
        // in 5 days pages and is due within 30; the paid one renewing in 150 days and Power BI
        // (no Intune plan) raise nothing.
        (
            "IntuneCommercialSubscriptionLapsed",
            "critical",
            "",
            "2d9f6b3a-8e1c-4a57-b0d2-7c4e9a1f3b68",
        ),
        (
            "IntuneTrialSubscriptionEnding",
            "critical",
            "",
            "3f7a9c2e-6b1d-4e58-a0c3-9d2f4b8e1a67",
        ),
        (
            "IntuneCommercialSubscriptionRenewalDue",
            "warning",
            "",
            "3f7a9c2e-6b1d-4e58-a0c3-9d2f4b8e1a67",
        ),
    ]
    .iter()
    .map(|(a, s, c, i)| (a.to_string(), s.to_string(), c.to_string(), i.to_string()))
    .collect();

    let deadline = Instant::now() + Duration::from_secs(40);
    let mut last_problem;
    loop {
        last_problem = String::new();
        // 1. Every recording rule records series of the job, and every dashboard query
        // returns data.
        for rule in &recorded {
            let expr = format!("{rule}{{job=\"{job}\"}}");
            if result_size(&client, &prom, &expr).await == 0 {
                last_problem.push_str(&format!("no series recorded: {expr}\n"));
            }
        }
        for (name, expr) in &queries {
            let found = result_size(&client, &prom, expr).await;
            if found == 0 && !planned.iter().any(|p| expr.contains(p.as_str())) {
                last_problem.push_str(&format!("no data for {name}: {expr}\n"));
            }
        }
        // 2. Alertmanager has exactly the expected alerts.
        let mut seen = BTreeSet::new();
        if last_problem.is_empty() {
            let alerts = get_json(&client, &format!("{am}/api/v2/alerts")).await;
            for a in alerts.as_array().unwrap() {
                let l = &a["labels"];
                let s = |k: &str| l[k].as_str().unwrap_or("").to_string();
                seen.insert((
                    s("alertname"),
                    s("severity"),
                    s("connector"),
                    s("connector_id") + &s("message_id") + &s("subscription_id"),
                ));
            }
            if seen != expected {
                last_problem = format!(
                    "alerts in Alertmanager, missing: {:#?}\nunexpected: {:#?}",
                    expected.difference(&seen).collect::<Vec<_>>(),
                    seen.difference(&expected).collect::<Vec<_>>()
                );
            }
        }
        if last_problem.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{last_problem}\n{}",
            Stack::logs(&dir)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // 3. Routing and inhibition, as Alertmanager reports them.
    let alerts = get_json(&client, &format!("{am}/api/v2/alerts")).await;
    for a in alerts.as_array().unwrap() {
        let l = &a["labels"];
        let name = l["alertname"].as_str().unwrap();
        let severity = l["severity"].as_str().unwrap();
        if name == "IntuneMessageCenterActionRequired" {
            // A post is the same in every tenant: the alert is about the post.
            assert_eq!(l.get("tenant_id"), None, "{a}");
        } else {
            assert_eq!(l["tenant_id"], TENANT, "{a}");
        }
        assert_eq!(l["job"], job, "{a}");
        let receivers: Vec<&str> = a["receivers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        let want = if severity == "critical" {
            "page"
        } else {
            "ticket"
        };
        assert_eq!(receivers, [want], "{name} {severity}");
        for key in ["summary", "description", "runbook_url", "dashboard_url"] {
            assert!(
                a["annotations"][key]
                    .as_str()
                    .is_some_and(|s| !s.trim().is_empty()),
                "{name} lacks {key}"
            );
        }
        let runbook = a["annotations"]["runbook_url"].as_str().unwrap();
        assert!(
            runbook.ends_with(&format!("docs/runbooks.md#{}", name.to_ascii_lowercase())),
            "{runbook}"
        );
        // A warning about an instance that also has a critical alert is inhibited; every
        // other alert is active.
        let connector_id = l["connector_id"].as_str().unwrap_or("");
        let shadowed = severity == "warning"
            && !connector_id.is_empty()
            && alerts.as_array().unwrap().iter().any(|b| {
                b["labels"]["severity"] == "critical"
                    && b["labels"]["connector_id"] == connector_id
                    && b["labels"]["connector"] == l["connector"]
            });
        let state = a["status"]["state"].as_str().unwrap();
        let inhibited_by = a["status"]["inhibitedBy"].as_array().map_or(0, Vec::len);
        if shadowed {
            assert_eq!(
                (state, inhibited_by > 0),
                ("suppressed", true),
                "{name} {severity} {connector_id}"
            );
        } else {
            assert_eq!(state, "active", "{name} {severity} {connector_id}: {a}");
        }
    }

    // 4. The descriptions name the tenant and the token, from the info series.
    let expired = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["alertname"] == "IntuneConnectorExpired")
        .unwrap();
    let description = expired["annotations"]["description"].as_str().unwrap();
    assert!(
        description.contains("of tenant Contoso (4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21)"),
        "{description}"
    );

    // 5. Intune news: exactly the 10 latest active posts, each with a title and a date, and the
    // panel sorts them newest first. The demo has 12 active Intune posts; MC900102 and
    // MC900112 are older than the latest 10 and must stay out, although MC900102 has an
    // act-by date and so an info series.
    let news = |ref_id: &str| {
        let name = format!("intune-tenant-status / Intune news / {ref_id}");
        queries
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no query {name}"))
            .1
            .clone()
    };
    let rows = |v: Value| -> Vec<(String, Value)> {
        v["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["metric"]["message_id"].as_str().unwrap().to_string(),
                    r.clone(),
                )
            })
            .collect()
    };
    let titles = rows(query(&client, &prom, &news("A")).await);
    let dates = rows(query(&client, &prom, &news("B")).await);
    let act_by = rows(query(&client, &prom, &news("C")).await);
    assert_eq!(titles.len(), 10, "{titles:?}");
    for (id, r) in &titles {
        assert!(
            r["metric"]["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{id} has no title"
        );
    }
    let mut by_date: Vec<(f64, String)> = dates
        .iter()
        .map(|(id, r)| (r["value"][1].as_str().unwrap().parse().unwrap(), id.clone()))
        .collect();
    by_date.sort_by(|a, b| b.0.total_cmp(&a.0));
    let newest_first: Vec<&str> = by_date.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(
        newest_first,
        [
            "MC900109", "MC900111", "MC900101", "MC900103", "MC900110", "MC900108", "MC900107",
            "MC900106", "MC900105", "MC900104"
        ]
    );
    let mut with_title: Vec<&str> = titles.iter().map(|(id, _)| id.as_str()).collect();
    with_title.sort_unstable();
    let mut with_date: Vec<&str> = newest_first.clone();
    with_date.sort_unstable();
    assert_eq!(with_title, with_date, "every row has a title and a date");
    let mut acts: Vec<&str> = act_by.iter().map(|(id, _)| id.as_str()).collect();
    acts.sort_unstable();
    assert_eq!(acts, ["MC900101", "MC900104", "MC900106", "MC900109"]);
    assert_eq!(
        result_size(
            &client,
            &prom,
            &format!(
                "intune_message_center_action_required_timestamp_seconds{{tenant_id=\"{TENANT}\"}}"
            )
        )
        .await,
        5,
        "the exporter exports the act-by date of every active post that has one"
    );
    // 6. Connector status: the page's top five, worst first; "All connector kinds" has every
    // kind the exporter knows, not configured ones included.
    let ranked = |panel: &str| {
        let name = format!("intune-tenant-status / {panel} / A");
        let expr = queries.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        let client = client.clone();
        let prom = prom.clone();
        async move {
            let v = query(&client, &prom, &expr).await;
            let mut rows: Vec<(f64, String)> = v["data"]["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["value"][1].as_str().unwrap().parse().unwrap(),
                        r["metric"]["connector"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            rows.sort_by(|a, b| b.0.total_cmp(&a.0));
            rows.into_iter().map(|(_, c)| c).collect::<Vec<String>>()
        }
    };
    let all = ranked("All connector kinds").await;
    assert_eq!(all.len(), intune_exporter::sources::connector_kinds().len());
    assert_eq!(ranked("Connector status").await, all[..5]);
    let dash: Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("dashboards/intune-tenant-status.json"))
            .unwrap(),
    )
    .unwrap();
    let panel = dash["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"] == "Intune news" && p["type"] == "table")
        .unwrap();
    let sort = panel["transformations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "sortBy")
        .unwrap();
    assert_eq!(
        sort["options"]["sort"],
        serde_json::json!([{"field": "Value #B", "desc": true}]),
        "the news panel sorts by date, newest first"
    );
}

/// Serves `body` as an exposition on a loopback port, to any request, until the test ends.
fn serve_exposition(body: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

/// A webhook receiver on a loopback port: every JSON body Alertmanager posts to it.
fn webhook_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_ok() {
                if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                    sink.lock().unwrap().push(v);
                }
            }
            let mut stream = stream;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (addr, received)
}

/// One Microsoft incident in three tenants; t-c's series has no `origin` (an exporter from
/// before the label), which groups as Microsoft's.
const SHARED_INCIDENT: &str = "\
# TYPE intune_service_issue_info gauge
intune_service_issue_info{tenant_id=\"t-a\",service_name=\"Microsoft Intune\",issue_id=\"IT100\",classification=\"incident\",origin=\"microsoft\",status=\"investigating\",feature_group=\"Devices\",feature=\"Enrollment\",title=\"Devices cannot enrol\"} 1
intune_service_issue_info{tenant_id=\"t-b\",service_name=\"Microsoft Intune\",issue_id=\"IT100\",classification=\"incident\",origin=\"microsoft\",status=\"investigating\",feature_group=\"Devices\",feature=\"Enrollment\",title=\"Devices cannot enrol\"} 1
intune_service_issue_info{tenant_id=\"t-c\",service_name=\"Microsoft Intune\",issue_id=\"IT100\",classification=\"incident\",status=\"investigating\",feature_group=\"Devices\",feature=\"Enrollment\",title=\"Devices cannot enrol\"} 1
";

/// The bundled Alertmanager configuration with the placeholder webhooks pointed at a receiver
/// and the group waits shortened, so a test needs seconds, not minutes; Prometheus scraping
/// `target` with the bundled rules. Returns the stack and what the receiver got.
async fn grouping_stack(
    dir: &TempDir,
    target: &str,
) -> (Stack, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    let (hook, received) = webhook_receiver();
    let am_config =
        std::fs::read_to_string(common::root().join("deploy/alertmanager/alertmanager.yml"))
            .unwrap()
            .replace("http://127.0.0.1:9095/", &format!("http://{hook}/"))
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("group_wait:") {
                    let indent = &l[..l.len() - l.trim_start().len()];
                    format!("{indent}group_wait: 1s\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect::<String>();
    std::fs::write(dir.0.join("alertmanager.yml"), am_config).unwrap();
    let stack = Stack::start(
        dir,
        &dir.0.join("alertmanager.yml"),
        "intune-exporter",
        target,
    )
    .await;
    (stack, received)
}

/// Waits up to 40 s until `arrived` says the expected notifications are in, then a few group
/// waits more, so that an extra notification would be there too (the next after those would
/// come after group_interval, 10 minutes).
async fn notified(dir: &TempDir, arrived: impl Fn() -> Result<(), String>) {
    let deadline = Instant::now() + Duration::from_secs(40);
    while let Err(problem) = arrived() {
        assert!(Instant::now() < deadline, "{problem}\n{}", Stack::logs(dir));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
}

/// The notifications of `alertname` received so far.
fn notifications_of(received: &std::sync::Mutex<Vec<Value>>, alertname: &str) -> Vec<Value> {
    received
        .lock()
        .unwrap()
        .iter()
        .filter(|n| n["groupLabels"]["alertname"] == alertname)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_incident_in_three_tenants_is_one_notification() {
    let dir = TempDir::new("monitoring-grouping");
    let target = serve_exposition(SHARED_INCIDENT);
    let (_stack, received) = grouping_stack(&dir, &target).await;

    // Prometheus sends three alerts (one per tenant); Alertmanager must notify once, with all
    // three in the notification, grouped by the issue.
    notified(&dir, || {
        let got = notifications_of(&received, "IntuneServiceIncidentActive");
        match got.first() {
            Some(n) if n["alerts"].as_array().unwrap().len() == 3 => Ok(()),
            _ => Err(format!("no notification with three alerts: {got:#?}")),
        }
    })
    .await;
    let got = notifications_of(&received, "IntuneServiceIncidentActive");
    assert_eq!(got.len(), 1, "{got:#?}");
    let n = &got[0];
    assert_eq!(
        n["groupLabels"],
        serde_json::json!({"alertname": "IntuneServiceIncidentActive", "issue_id": "IT100"})
    );
    assert_eq!(n["receiver"], "ticket");
    let mut tenants: Vec<&str> = n["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["labels"]["tenant_id"].as_str().unwrap())
        .collect();
    tenants.sort_unstable();
    assert_eq!(tenants, ["t-a", "t-b", "t-c"]);
    assert!(
        n["alerts"][0]["annotations"]["description"]
            .as_str()
            .unwrap()
            .contains("and 3 tenant(s) in all"),
        "{n}"
    );
}

/// A Message center post (MC100, act by in 20 days) in three tenants, a post MC200 (act by in
/// 25 days) in one, a post MC300 due in 5 days (its page inhibits its ticket, and no other
/// post's), and a customer-origin incident (IT900) in two tenants.
fn posts_and_customer_incident(now: i64) -> String {
    let mut body =
        String::from("# TYPE intune_message_center_action_required_timestamp_seconds gauge\n");
    for (tenant, post, days) in [
        ("t-a", "MC100", 20),
        ("t-b", "MC100", 20),
        ("t-c", "MC100", 20),
        ("t-a", "MC200", 25),
        ("t-b", "MC300", 5),
    ] {
        body.push_str(&format!(
            "intune_message_center_action_required_timestamp_seconds{{tenant_id=\"{tenant}\",message_id=\"{post}\"}} {}\n",
            now + days * 86400
        ));
    }
    body.push_str("# TYPE intune_service_issue_info gauge\n");
    for tenant in ["t-a", "t-b"] {
        body.push_str(&format!(
            "intune_service_issue_info{{tenant_id=\"{tenant}\",service_name=\"Microsoft Intune\",issue_id=\"IT900\",classification=\"incident\",origin=\"customer\",status=\"investigating\",feature_group=\"Conditional Access\",feature=\"Enrollment\",title=\"A policy blocks enrolment\"}} 1\n"
        ));
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_in_three_tenants_is_one_notification_a_customer_incident_one_per_tenant() {
    let dir = TempDir::new("monitoring-posts");
    let body = posts_and_customer_incident(chrono::Utc::now().timestamp());
    let target = serve_exposition(Box::leak(body.into_boxed_str()));
    let (_stack, received) = grouping_stack(&dir, &target).await;

    // One notification per post and two for the incident.
    notified(&dir, || {
        let posts = notifications_of(&received, "IntuneMessageCenterActionRequired");
        let incidents = notifications_of(&received, "IntuneServiceIncidentActive");
        if posts.len() >= 3 && incidents.len() >= 2 {
            Ok(())
        } else {
            Err(format!("posts: {posts:#?}\nincidents: {incidents:#?}"))
        }
    })
    .await;

    // One notification per post, MC100's with its three tenants: tickets for the posts due
    // within 30 days, a page for MC300 (due within 7), whose ticket is inhibited.
    let mut posts: Vec<(String, String, usize, String)> =
        notifications_of(&received, "IntuneMessageCenterActionRequired")
            .iter()
            .map(|n| {
                (
                    n["groupLabels"]["message_id"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    n["receiver"].as_str().unwrap().to_string(),
                    n["alerts"].as_array().unwrap().len(),
                    // The tenant count, after the time left (which moves with the clock).
                    n["alerts"][0]["annotations"]["description"]
                        .as_str()
                        .unwrap()
                        .rsplit_once(", in ")
                        .unwrap()
                        .1
                        .to_string(),
                )
            })
            .collect();
    posts.sort();
    let tail = |n: usize| {
        format!("{n} tenant(s). Read it in the Microsoft 365 admin center's Message center.")
    };
    assert_eq!(
        posts,
        [
            ("MC100".to_string(), "ticket".to_string(), 1, tail(3)),
            ("MC200".to_string(), "ticket".to_string(), 1, tail(1)),
            ("MC300".to_string(), "page".to_string(), 1, tail(1)),
        ]
    );

    // The customer-origin incident: one notification per tenant.
    let mut incidents: Vec<Value> = notifications_of(&received, "IntuneServiceIncidentActive")
        .iter()
        .map(|n| {
            assert_eq!(n["alerts"].as_array().unwrap().len(), 1, "{n}");
            assert_eq!(n["receiver"], "ticket");
            n["groupLabels"].clone()
        })
        .collect();
    incidents.sort_by_key(|g| g["tenant_id"].as_str().unwrap_or("").to_string());
    assert_eq!(
        incidents,
        [
            serde_json::json!({"alertname": "IntuneServiceIncidentActive", "tenant_id": "t-a", "issue_id": "IT900"}),
            serde_json::json!({"alertname": "IntuneServiceIncidentActive", "tenant_id": "t-b", "issue_id": "IT900"}),
        ]
    );
}

/// Four tenants: three sign in (t-a with one source failing), t-d does not, so it has no
/// `intune_tenant_info` and all its sources are down.
const ONE_TENANT_CANNOT_SIGN_IN: &str = "\
# TYPE intune_exporter_build_info gauge
intune_exporter_build_info{version=\"0.1.0\",revision=\"test\",rustc_version=\"1.85.0\"} 1
# TYPE intune_exporter_sign_in_up gauge
intune_exporter_sign_in_up{tenant_id=\"t-a\"} 1
intune_exporter_sign_in_up{tenant_id=\"t-b\"} 1
intune_exporter_sign_in_up{tenant_id=\"t-c\"} 1
intune_exporter_sign_in_up{tenant_id=\"t-d\"} 0
# TYPE intune_exporter_source_up gauge
intune_exporter_source_up{tenant_id=\"t-a\",source=\"apns\"} 0
intune_exporter_source_up{tenant_id=\"t-a\",source=\"organization\"} 1
intune_exporter_source_up{tenant_id=\"t-b\",source=\"organization\"} 1
intune_exporter_source_up{tenant_id=\"t-c\",source=\"organization\"} 1
intune_exporter_source_up{tenant_id=\"t-d\",source=\"apns\"} 0
intune_exporter_source_up{tenant_id=\"t-d\",source=\"organization\"} 0
# TYPE intune_tenant_info gauge
intune_tenant_info{tenant_id=\"t-a\",tenant_name=\"A\",country_code=\"NL\",mdm_authority=\"intune\"} 1
intune_tenant_info{tenant_id=\"t-b\",tenant_name=\"B\",country_code=\"NL\",mdm_authority=\"intune\"} 1
intune_tenant_info{tenant_id=\"t-c\",tenant_name=\"C\",country_code=\"NL\",mdm_authority=\"intune\"} 1
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_that_cannot_sign_in_is_counted_and_alerted_once() {
    let dir = TempDir::new("monitoring-sign-in");
    let target = serve_exposition(ONE_TENANT_CANNOT_SIGN_IN);
    let stack = Stack::start(
        &dir,
        &common::root().join("deploy/alertmanager/alertmanager.yml"),
        "intune-exporter",
        &target,
    )
    .await;
    let client = reqwest::Client::new();

    // The fleet dashboard's tenant count, with every tenant selected: 3 readable, 1 not.
    let fleet: Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("dashboards/intune-fleet.json")).unwrap(),
    )
    .unwrap();
    let tenants = fleet["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"] == "Tenants")
        .expect("a Tenants panel");
    let deadline = Instant::now() + Duration::from_secs(40);
    let (mut counts, mut firing);
    loop {
        counts = Vec::new();
        for t in tenants["targets"].as_array().unwrap() {
            let expr = t["expr"]
                .as_str()
                .unwrap()
                .replace("$job", "intune-exporter")
                .replace("$instance", ".*")
                .replace("$tenant", ".*");
            let v = query(&client, &stack.prom, &expr).await;
            let value = v["data"]["result"][0]["value"][1]
                .as_str()
                .unwrap_or("none")
                .to_string();
            counts.push((
                t["legendFormat"]
                    .as_str()
                    .unwrap_or("(no legend)")
                    .to_string(),
                value,
            ));
        }
        // And one alert for t-d's sign-in; t-d's sources alert no more, t-a's still does.
        let alerts = query(&client, &stack.prom, "ALERTS{alertstate=\"firing\"}").await;
        firing = alerts["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let l = &a["metric"];
                format!(
                    "{} {} {}",
                    l["alertname"].as_str().unwrap(),
                    l["tenant_id"].as_str().unwrap_or(""),
                    l["source"].as_str().unwrap_or("")
                )
            })
            .filter(|a| a.starts_with("IntuneExporter"))
            .collect::<BTreeSet<_>>();
        let expected: BTreeSet<String> = [
            "IntuneExporterSignInFailing t-d ",
            "IntuneExporterSourceFailing t-a apns",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        if counts
            == [
                ("readable".to_string(), "3".to_string()),
                ("not readable".to_string(), "1".to_string()),
            ]
            && firing == expected
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "counts {counts:?}, firing {firing:?}\n{}",
            Stack::logs(&dir)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
