//! End to end: the real binary against the Graph simulator over HTTPS, with the demo tenant.
//!
//! The simulator runs in this test process so that the test knows its anchor (the instant its
//! relative times were resolved against); the exporter is configured like any production
//! deployment pointed at a private Graph (`graph_url`, `authority_host`, `ca_file`).
//! `/metrics` is compared exactly with `tests/golden/e2e/demo.prom`, after writing scenario
//! timestamps relative to the anchor and checking, then masking, the values that depend on
//! when the poll ran (last success, duration) and on the build (revision, rustc).

#![allow(clippy::unwrap_used)]

mod common;

use common::sim::{self, DEMO_SECRET as SECRET_MARKER};
use common::{config_text, Exporter, TempDir};
use intune_exporter::demo;
use intune_graph_simulator::Simulator;
use std::io::Read;

async fn start_simulator() -> Simulator {
    sim::start(demo::scenario().unwrap()).await
}

/// Writes a config for every tenant of the demo scenario, pointing at `sim`.
fn write_config(dir: &TempDir, sim: &Simulator, extra: &str) -> String {
    std::fs::write(dir.0.join("ca.pem"), sim.ca_pem()).unwrap();
    let scenario = demo::scenario().unwrap();
    let mut tenants = String::new();
    for (i, t) in scenario.tenants().iter().enumerate() {
        let secret = format!("secret-{i}.txt");
        std::fs::write(dir.0.join(&secret), format!("{}\n", t.client_secret())).unwrap();
        tenants.push_str(&config_text::secret_tenant(
            t.tenant_id(),
            t.client_id(),
            &secret,
        ));
    }
    let config = format!(
        "{}{extra}tenants:\n{tenants}",
        config_text::graph(sim.base_url())
    );
    let path = dir.0.join("config.yaml");
    std::fs::write(&path, config).unwrap();
    path.to_string_lossy().into_owned()
}

/// A `sources:` section that turns on the sources that are off by default.
fn every_source() -> String {
    let mut out = String::from("sources:\n");
    for s in intune_exporter::sources::Source::ALL {
        if !s.enabled_by_default() {
            out.push_str(&format!("  {}: {{enabled: true}}\n", s.name()));
        }
    }
    out
}

/// Rewrites a live exposition so that it can be compared exactly (see the module docs).
fn normalise(text: &str, anchor: i64, polled_from: i64, polled_to: i64) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("process_")
            || line.starts_with("# HELP process_")
            || line.starts_with("# TYPE process_")
        {
            continue;
        }
        if line.starts_with('#') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let name = series.split('{').next().unwrap();
        let value: f64 = value.parse().unwrap();
        let shown = match name {
            "intune_exporter_source_last_success_timestamp_seconds" => {
                let v = value as i64;
                assert!(
                    (polled_from..=polled_to).contains(&v),
                    "{line}: not during the test"
                );
                "<poll time>".to_string()
            }
            "intune_exporter_config_last_reload_success_timestamp_seconds" => {
                let v = value as i64;
                assert!(
                    (polled_from..=polled_to).contains(&v),
                    "{line}: not loaded during the test"
                );
                "<load time>".to_string()
            }
            "intune_exporter_source_duration_seconds" => {
                assert!((0.0..10.0).contains(&value), "{line}");
                "<duration>".to_string()
            }
            // Which bucket a request lands in depends on the machine; how many there were does not.
            "intune_exporter_graph_request_duration_seconds_sum" => {
                assert!((0.0..10.0).contains(&value), "{line}");
                "<duration>".to_string()
            }
            "intune_exporter_graph_request_duration_seconds_bucket"
                if !series.contains("le=\"+Inf\"") =>
            {
                "<count>".to_string()
            }
            n if n.ends_with("_timestamp_seconds") => {
                let delta = value as i64 - anchor;
                format!("<anchor{delta:+}>")
            }
            _ => value.to_string(),
        };
        let series = if name == "intune_exporter_build_info" {
            let version = env!("CARGO_PKG_VERSION");
            assert!(
                series.starts_with(&format!(
                    "intune_exporter_build_info{{version=\"{version}\",revision=\""
                )),
                "{series}"
            );
            "intune_exporter_build_info{version=\"<version>\",revision=\"<revision>\",rustc_version=\"<rustc>\"}".to_string()
        } else {
            series.to_string()
        };
        out.push_str(&format!("{series} {shown}\n"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_tenant_metrics_end_to_end() {
    let sim = start_simulator().await;
    let dir = TempDir::new("e2e");
    // Every source, those off by default too.
    let config = write_config(&dir, &sim, &every_source());
    let started = chrono::Utc::now().timestamp();
    let mut exporter = Exporter::start(&["--config.file", &config, "--log.level", "debug"]);
    exporter.wait_ready().await;

    // Gzip, as Prometheus asks for it.
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    let response = client
        .get(exporter.url("/metrics"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let compressed = response.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_string(&mut text)
        .unwrap();
    let finished = chrono::Utc::now().timestamp();

    common::assert_promtool_clean(&text, "/metrics");
    common::assert_golden(
        "tests/golden/e2e/demo.prom",
        &normalise(&text, sim.anchor().timestamp(), started, finished),
    );

    // The same without gzip.
    let plain = client.get(exporter.url("/metrics")).send().await.unwrap();
    assert_eq!(plain.headers().get("content-encoding"), None);
    let plain = plain.text().await.unwrap();
    assert!(plain.contains("intune_tenant_info{tenant_id=\"4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21\",tenant_name=\"Contoso\",country_code=\"US\",mdm_authority=\"intune\"} 1\n"));

    // The poll was one JSON batch per API version; every request in them carried $select,
    // and no source was asked twice.
    let (items, round_trips): (Vec<_>, Vec<_>) = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1.0/") || r.path.starts_with("/beta/"))
        .partition(|r| r.in_batch);
    let mut round_trips: Vec<String> = round_trips
        .iter()
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect();
    round_trips.sort();
    assert_eq!(
        round_trips,
        ["POST /beta/$batch 200", "POST /v1.0/$batch 200"],
        "{items:#?}"
    );
    let paths: std::collections::BTreeSet<_> = items.iter().map(|r| r.path.as_str()).collect();
    let n = intune_exporter::sources::Source::ALL.len();
    assert_eq!((items.len(), paths.len()), (n, n), "{items:#?}");
    assert!(items.iter().all(|r| r
        .query
        .as_deref()
        .is_some_and(|q| q.contains("%24select=") || q.contains("$select="))));

    // The other endpoints.
    let healthy = client.get(exporter.url("/-/healthy")).send().await.unwrap();
    assert_eq!(healthy.status(), 200);
    let landing = client
        .get(exporter.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        // The status page links relatively, so it works under a proxy's path prefix.
        landing.contains("<a href=\"metrics\">Metrics</a>"),
        "{landing}"
    );
    let missing = client.get(exporter.url("/nope")).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    // The secret appears nowhere, even at debug level.
    assert!(!text.contains(SECRET_MARKER));
    let log = exporter.log();
    assert!(!log.contains(SECRET_MARKER), "{log}");
    assert!(!log.to_ascii_lowercase().contains("bearer"), "{log}");

    // SIGTERM stops it cleanly.
    let status = exporter.terminate();
    assert!(status.success(), "{status}: {}", exporter.log());
    assert!(exporter.log().contains("message=stopped"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_until_every_source_polled_once() {
    // Slow every Graph answer down so the first poll is still running when we look.
    let sim = sim::start_yaml(&sim::demo_with("    latency: 2s\n")).await;
    let dir = TempDir::new("ready");
    let config = write_config(&dir, &sim, "");
    let exporter = Exporter::start(&["--config.file", &config]);
    let ready = reqwest::get(exporter.url("/-/ready")).await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(
        ready.text().await.unwrap(),
        format!(
            "Not ready: {} source(s) have not finished a first poll.\n",
            // Those off by default (subscriptions) are not polled without a config saying so.
            intune_exporter::sources::Source::defaults().len()
        )
    );
    let metrics = exporter.scrape().await;
    assert!(
        !metrics.contains("intune_exporter_source_up"),
        "no up before a poll:\n{metrics}"
    );
    exporter.wait_ready().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_flag_needs_no_configuration() {
    let exporter = Exporter::start(&["--demo"]);
    exporter.wait_ready().await;
    let text = exporter.scrape_linted().await;
    // The Apple push certificate and the VPP tokens cover all three health states.
    let mut states = common::current_health(&text, &["apns", "vpp_token"]);
    states.sort();
    states.dedup();
    assert_eq!(states, ["healthy", "unhealthy", "warning"]);
    assert!(text.contains("connector=\"chromebook\",status=\"not_configured\"} 1"));
    // The demo shows every family of the catalog with data, the credential expiry of its
    // certificate included, except the discovery's and the GDAP relationships listed with it
    // (the demo's one tenant is in its config) and the app registration's, which only
    // `app_credentials` reads.
    use intune_exporter::metrics::catalog::{self, Kind};
    let not_in_demo = [
        &catalog::DISCOVERY_UP,
        &catalog::DISCOVERY_LAST_SUCCESS,
        &catalog::GDAP_RELATIONSHIP_INFO,
        &catalog::GDAP_RELATIONSHIP_END,
        &catalog::GDAP_RELATIONSHIP_AUTO_EXTEND,
        &catalog::APP_CREDENTIALS_UP,
        &catalog::APP_CREDENTIAL_INFO,
        &catalog::APP_CREDENTIAL_END,
    ];
    for family in catalog::ALL {
        let sample = match family.kind {
            Kind::Histogram => format!("{}_bucket", family.name),
            _ => family.name.to_string(),
        };
        let present =
            text.contains(&format!("\n{sample}{{")) || text.contains(&format!("\n{sample} "));
        assert_eq!(
            present,
            !not_in_demo.contains(family),
            "the demo lacks or has {}",
            family.name
        );
    }
}

/// The demo scenario with its Message center posts replaced by 25 active Intune posts, one
/// updated a day from yesterday back; only the 20th newest has an act-by date, in 5 days.
fn scenario_with_25_posts() -> String {
    let (head, _) = demo::SCENARIO
        .split_once("      v1.0/admin/serviceAnnouncement/messages:\n")
        .unwrap();
    let mut text = format!("{head}      v1.0/admin/serviceAnnouncement/messages:\n");
    for n in 1..=25 {
        let act_by = if n == 20 { "{in: 5d}" } else { "null" };
        text.push_str(&format!(
            "        - id: MC7000{n:02}\n          title: \"Intune post {n}\"\n          category: planForChange\n          severity: normal\n          isMajorChange: false\n          services: [Microsoft Intune]\n          tags: [Retirement, Updated message]\n          startDateTime: {{ago: 30d}}\n          endDateTime: null\n          lastModifiedDateTime: {{ago: {n}d}}\n          actionRequiredByDateTime: {act_by}\n          viewPoint: null\n"
        ));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_act_by_date_twenty_posts_deep_is_exported() {
    let sim = sim::start_yaml(&scenario_with_25_posts()).await;
    let dir = TempDir::new("act-by");
    let config = write_config(&dir, &sim, "");
    let exporter = Exporter::start(&["--config.file", &config]);
    exporter.wait_ready().await;
    let text = exporter.scrape_linted().await;
    let anchor = sim.anchor().timestamp();
    let lines = |prefix: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with(prefix))
            .map(str::to_string)
            .collect()
    };
    let tenant = "4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21";
    // The post is older than the latest 10, yet its deadline is there, with its title.
    assert_eq!(
        lines("intune_message_center_action_required_timestamp_seconds{"),
        [format!(
            "intune_message_center_action_required_timestamp_seconds{{tenant_id=\"{tenant}\",message_id=\"MC700020\"}} {}",
            anchor + 5 * 86400
        )]
    );
    let info = lines("intune_message_center_message_info{");
    assert_eq!(info.len(), 11, "{info:#?}");
    assert_eq!(
        info.last().unwrap(),
        &format!("intune_message_center_message_info{{tenant_id=\"{tenant}\",message_id=\"MC700020\",title=\"Intune post 20\",category=\"plan_for_change\",severity=\"normal\",major_change=\"false\",tags=\"retirement\"}} 1")
    );
    // The latest 10 keep their last-modified times; the old post has none.
    let modified: Vec<String> =
        lines("intune_message_center_message_last_modified_timestamp_seconds{")
            .iter()
            .map(|l| l.split('"').nth(3).unwrap().to_string())
            .collect();
    assert_eq!(
        modified,
        (1..=10)
            .map(|n| format!("MC7000{n:02}"))
            .collect::<Vec<_>>()
    );
    sim.shutdown().await;
}

/// The lines of an exposition that start with `prefix` and mention `needle`, in order.
fn lines_with<'a>(text: &'a str, prefix: &str, needle: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.starts_with(prefix) && l.contains(needle))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_versions_reach_the_info_series_and_health() {
    // Every connector checked in minutes ago, so only its version can make it unhealthy. The
    // cases are the ones whose answer does not move with the clock: the newest release the
    // exporter knows, one superseded in May 2022 (past its eighteen months since November
    // 2023), a version newer than the table, one that is no version, and a legacy AD connector.
    let certificate = "      beta/deviceManagement/certificateConnectorDetails:\n";
    let mobile = "      beta/deviceManagement/mobileThreatDefenseConnectors:\n";
    let demo = demo::SCENARIO;
    let (head, rest) = demo.split_at(demo.find(certificate).unwrap());
    let tail = &rest[rest.find(mobile).unwrap()..];
    let connectors = "      beta/deviceManagement/certificateConnectorDetails:
        - {id: c-latest, connectorName: LATEST, lastCheckinDateTime: {ago: 10m}, connectorVersion: 6.2510.3.2002}
        - {id: c-retired, connectorName: RETIRED, lastCheckinDateTime: {ago: 10m}, connectorVersion: 6.2202.38.0}
        - {id: c-newer, connectorName: NEWER, lastCheckinDateTime: {ago: 10m}, connectorVersion: 9.0.0.1}
        - {id: c-odd, connectorName: ODD, lastCheckinDateTime: {ago: 10m}, connectorVersion: \"n/a\"}
        - {id: c-absent, connectorName: ABSENT, lastCheckinDateTime: {ago: 10m}}

";
    let scenario_text = format!("{head}{connectors}{tail}").replacen(
        "version: 6.2504.2001.8",
        "version: 6.2405.5.0",
        1,
    );
    let sim = sim::start_yaml(&scenario_text).await;
    let dir = TempDir::new("versions");
    let config = write_config(&dir, &sim, "");
    let exporter = Exporter::start(&["--config.file", &config]);
    exporter.wait_ready().await;
    let text = exporter.scrape_linted().await;
    let tenant = "tenant_id=\"4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21\"";
    let info = |kind: &str| {
        lines_with(
            &text,
            "intune_connector_info{",
            &format!("connector=\"{kind}\""),
        )
    };
    assert_eq!(
        info("certificate_connector"),
        [
            format!("intune_connector_info{{{tenant},connector=\"certificate_connector\",connector_id=\"c-absent\",display_name=\"ABSENT\",state=\"\",version=\"\",support=\"\"}} 1"),
            format!("intune_connector_info{{{tenant},connector=\"certificate_connector\",connector_id=\"c-latest\",display_name=\"LATEST\",state=\"\",version=\"6.2510.3.2002\",support=\"supported\"}} 1"),
            format!("intune_connector_info{{{tenant},connector=\"certificate_connector\",connector_id=\"c-newer\",display_name=\"NEWER\",state=\"\",version=\"9.0.0.1\",support=\"supported\"}} 1"),
            format!("intune_connector_info{{{tenant},connector=\"certificate_connector\",connector_id=\"c-odd\",display_name=\"ODD\",state=\"\",version=\"n/a\",support=\"\"}} 1"),
            format!("intune_connector_info{{{tenant},connector=\"certificate_connector\",connector_id=\"c-retired\",display_name=\"RETIRED\",state=\"\",version=\"6.2202.38.0\",support=\"may_fail\"}} 1"),
        ]
    );
    assert_eq!(
        info("ad_connector"),
        [format!("intune_connector_info{{{tenant},connector=\"ad_connector\",connector_id=\"6e3a9c1f-4d7b-4582-a0c9-1f8e5b2d7a63\",display_name=\"ODJ-CONNECTOR-01\",state=\"active\",version=\"6.2405.5.0\",support=\"may_fail\"}} 1")]
    );
    // In the order the series sort: by connector_id.
    assert_eq!(
        common::current_health(&text, &["certificate_connector"]),
        ["healthy", "healthy", "healthy", "healthy", "unhealthy"]
    );
    assert_eq!(
        common::current_health(&text, &["ad_connector"]),
        ["unhealthy"]
    );
    // The kind is its worst instance, so the existing connector alerts see it.
    for kind in ["certificate_connector", "ad_connector"] {
        assert_eq!(
            lines_with(&text, "intune_connector_type_health{", &format!("connector=\"{kind}\",status=\"unhealthy\"")),
            [format!("intune_connector_type_health{{{tenant},connector=\"{kind}\",status=\"unhealthy\"}} 1")]
        );
    }
    sim.shutdown().await;
}
