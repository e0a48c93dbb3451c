//! GDAP relationships of the partner tenant: the listing turned into series (fixture to golden
//! file, per shard), and the real binary against the simulator's partner and fleet, through a
//! failed listing that keeps the last good series.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, Duration as Days, TimeZone, Utc};
use common::config_text::{self, demo_app_defaults, gdap, only_sources};
use common::scrape::scrape_until;
use common::sim::{self, DEMO_TENANT};
use common::{assert_golden, assert_promtool_clean, Exporter};
use intune_exporter::fleet::relationships::families;
use intune_exporter::fleet::Shard;
use intune_exporter::sources::Source;
use intune_graph_simulator::Scenario;
use std::time::Duration;

const PARTNER: &str = "f0000000-0000-4000-8000-00000000000a";
const PATH: &str = "v1.0/tenantRelationships/delegatedAdminRelationships";

fn listing() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(
        common::root().join("tests/fixtures/gdap/delegated_admin_relationships.json"),
    )
    .unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    body["value"].as_array().unwrap().clone()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
}

#[test]
fn relationships_become_series_and_long_ended_ones_are_left_out() {
    let text = families(listing(), Shard::ALL, now()).to_text();
    assert_promtool_clean(&text, "GDAP relationships");
    assert_golden(
        "tests/golden/gdap/delegated_admin_relationships.prom",
        &text,
    );
}

#[test]
fn each_shard_exports_the_relationships_of_its_own_customers() {
    let all = families(listing(), Shard::ALL, now()).to_text();
    let mut parts = Vec::new();
    for index in 0..2 {
        let text = families(listing(), Shard::new(index, 2).unwrap(), now()).to_text();
        assert_golden(
            &format!("tests/golden/gdap/delegated_admin_relationships_shard_{index}_of_2.prom"),
            &text,
        );
        parts.push(text);
    }
    let series = |t: &str| -> Vec<String> {
        let mut v: Vec<String> = t
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    let mut joined = series(&parts[0]);
    joined.extend(series(&parts[1]));
    joined.sort();
    assert_eq!(joined, series(&all));
    assert!(parts.iter().all(|p| series(p).len() < series(&all).len()));
}

/// The exporter's GDAP families in an exposition, with the exporter's discovery health.
fn gdap_lines(text: &str) -> String {
    text.lines()
        .filter(|l| l.starts_with("intune_gdap_") || l.starts_with("intune_exporter_discovery_up{"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partners_relationships_are_exported_and_kept_through_a_failed_listing() {
    // Three customers generated from the demo tenant: the first auto-extends, the second ends
    // in 5 days without auto-extension, the third expired 10 days ago. The first listing of
    // the relationships is answered, every later one refused.
    let scenario = format!(
        "{}fleets:\n  - count: 3\n    template: {DEMO_TENANT}\n    seed: 5\n    partner: {PARTNER}\n",
        sim::demo_and_partner(
            PARTNER,
            &format!(
                "    faults:\n      - path: {PATH}\n        sequence: [{{delay: 0s}}, {{status: 403}}, {{status: 403}}, {{status: 403}}]\n"
            )
        )
    );
    let scenario = Scenario::from_yaml(&scenario).unwrap();
    let customers: Vec<String> = scenario.tenants()[2..]
        .iter()
        .map(|t| t.tenant_id().to_string())
        .collect();
    let (sim, dir) = sim::start_with_dir(scenario, "gdap-relationships").await;
    std::fs::write(
        dir.0.join("config.yml"),
        format!(
            "{}{}{}    interval: 1m\n{}",
            config_text::graph(sim.base_url()),
            demo_app_defaults(),
            gdap(PARTNER),
            only_sources(&[Source::Organization]),
        ),
    )
    .unwrap();
    let exporter = Exporter::start(&["--config.file", dir.0.join("config.yml").to_str().unwrap()]);
    exporter.wait_ready().await;
    let text = exporter.scrape().await;

    let anchor = sim.anchor();
    let at = |days: i64| (anchor + Days::days(days)).timestamp();
    // Pinned: the simulator derives these from the fleet's seed.
    let ids = [
        "0b539926-7a51-402e-bf0f-d5e726535953",
        "e97a13ff-a1df-417f-848e-89c9b3faaf2d",
        "2eee3ed7-54e0-4d01-8058-7340f6ac97a8",
    ];
    let rel = |n: usize| format!("{}-{}", ids[n], customers[n]);
    let mut rows: Vec<(usize, &str, i64, i64)> = vec![
        (0, "active", at(400), 15_552_000),
        (1, "active", at(5), 0),
        (2, "expired", at(-10), 0),
    ];
    // Series sort by tenant id, then relationship id.
    rows.sort_by_key(|(n, ..)| customers[*n].clone());
    let mut expected = String::new();
    for (n, _, _, seconds) in &rows {
        expected.push_str(&format!(
            "intune_gdap_relationship_auto_extend_seconds{{tenant_id=\"{}\",relationship_id=\"{}\"}} {seconds}\n",
            customers[*n],
            rel(*n)
        ));
    }
    for (n, _, end, _) in &rows {
        expected.push_str(&format!(
            "intune_gdap_relationship_end_timestamp_seconds{{tenant_id=\"{}\",relationship_id=\"{}\"}} {end}\n",
            customers[*n],
            rel(*n)
        ));
    }
    for (n, status, _, _) in &rows {
        expected.push_str(&format!(
            "intune_gdap_relationship_info{{tenant_id=\"{}\",relationship_id=\"{}\",display_name=\"Customer {:04} admin relationship\",customer_name=\"Customer {:04}\",status=\"{status}\"}} 1\n",
            customers[*n],
            rel(*n),
            n + 1,
            n + 1
        ));
    }
    let good = format!(
        "intune_exporter_discovery_up{{discovery=\"delegated_admin_customers\"}} 1\nintune_exporter_discovery_up{{discovery=\"delegated_admin_relationships\"}} 1\n{expected}"
    );
    assert_eq!(gdap_lines(&text), good, "{}", exporter.log());

    // The next listing, a minute later, is refused: the series stay, the failure shows.
    let failed = scrape_until(
        &exporter,
        Duration::from_secs(90),
        "the second listing of the relationships did not fail",
        |t| {
            t.contains(
                "intune_exporter_discovery_up{discovery=\"delegated_admin_relationships\"} 0",
            )
        },
    )
    .await;
    assert_eq!(
        gdap_lines(&failed),
        good.replace(
            "{discovery=\"delegated_admin_relationships\"} 1",
            "{discovery=\"delegated_admin_relationships\"} 0"
        )
    );
    // Logged before the metric is set; read until the log has caught up.
    let failures = |log: &str| {
        log.lines()
            .filter(|l| {
                l.contains("listing the partner\\'s GDAP relationships") && l.contains("HTTP 403")
            })
            .count()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while failures(&exporter.log()) == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = exporter.log();
    assert_eq!(failures(&log), 1, "{log}");
    let requests: Vec<u16> = sim::statuses(&sim, &format!("/{PATH}"));
    assert_eq!(requests, [200, 403], "{log}");
    sim.shutdown().await;
}
