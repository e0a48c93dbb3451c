//! Fleets through the real binary, against the simulator over HTTPS: 300 tenants from one
//! `defaults.auth`, the config's own list, a tenant-file glob and the partner's GDAP customers
//! (paged, one excluded, one that never consented), tenant files edited while it runs, and two
//! shards that split a fleet between them.

#![allow(clippy::unwrap_used)]

mod common;

use common::config_text::{self, demo_app_defaults, gdap};
use common::scrape::{label, scrape_until, series};
use common::sim::{
    self, start_with_dir as simulator_and_dir, tenant_id, DEMO_CLIENT as CLIENT,
    DEMO_SECRET as SECRET, FLEET_PARTNER, SECRET_LINE,
};
use common::{Exporter, TempDir};
use intune_graph_simulator::{Scenario, Simulator};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const PARTNER: &str = "f0000000-0000-4000-8000-000000000000";

/// The demo tenant `ids.len()` times under other ids, plus the partner tenant listing
/// `customers` as its GDAP customers, 50 to a page.
fn scenario(ids: &[String], customers: &[String]) -> Scenario {
    Scenario::from_yaml(&scenario_yaml(ids, customers)).unwrap()
}

/// The text of [`scenario`].
fn scenario_yaml(ids: &[String], customers: &[String]) -> String {
    let mut text = String::from("tenants:\n");
    for id in ids {
        text.push_str(&sim::demo_tenant_as(id, SECRET_LINE));
    }
    text.push_str(&format!(
        "  - tenant_id: {PARTNER}\n    client_id: {CLIENT}\n    client_secret: {SECRET}\n    page_size: 50\n    resources:\n      v1.0/tenantRelationships/delegatedAdminCustomers:\n"
    ));
    for (i, c) in customers.iter().enumerate() {
        text.push_str(&format!(
            "        - {{id: \"{c}\", tenantId: \"{c}\", displayName: \"Customer {i}\"}}\n"
        ));
    }
    text
}

/// Tenant ids with a `source_up` series, and how many of their sources are up.
fn up_by_tenant(text: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (labels, value) in series(text, "intune_exporter_source_up") {
        let up = out
            .entry(label(&labels, "tenant_id").unwrap().to_string())
            .or_insert(0);
        if value == 1.0 {
            *up += 1;
        }
    }
    out
}

fn tenant_file(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("- tenant_id: {id}\n  labels: {{source_file: \"yes\"}}\n"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_tenants_from_config_files_and_gdap_follow_file_edits_without_restart() {
    let ids: Vec<String> = (0..300).map(tenant_id).collect();
    let unconsented = tenant_id(999);
    let excluded = tenant_id(150);
    // GDAP lists tenants 100..299 and one tenant the app was never consented in.
    let mut customers: Vec<String> = ids[100..].to_vec();
    customers.push(unconsented.clone());
    let (sim, dir) = simulator_and_dir(scenario(&ids, &customers), "fleet").await;
    let files = dir.0.join("tenants.d");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("a.yml"), tenant_file(&ids[10..60])).unwrap();
    std::fs::write(files.join("b.yml"), tenant_file(&ids[60..100])).unwrap();
    std::fs::write(files.join("ignored.txt"), "- tenant_id: not read\n").unwrap();
    // Tenant 0 has its own labels; organization is polled every 5 s so that freshness shows.
    let mut config = format!(
        "{graph}poll:
  startup_spread: 3s
sources:
  organization:
    interval: 5s
{defaults}tenant_files: [tenants.d/*.yml]
{gdap}    exclude: [{excluded}]
tenants:
  - tenant_id: {t0}
    labels: {{customer: acme, psa_id: \"1234\"}}
",
        graph = config_text::graph(sim.base_url()),
        defaults = demo_app_defaults(),
        gdap = gdap(PARTNER),
        t0 = ids[0],
    );
    for id in &ids[1..10] {
        config.push_str(&format!("  - tenant_id: {id}\n"));
    }
    std::fs::write(dir.0.join("config.yml"), config).unwrap();

    let exporter = Exporter::start(&["--config.file", dir.0.join("config.yml").to_str().unwrap()]);
    exporter.wait_ready().await;
    let text = exporter.scrape().await;

    let mut origins: Vec<(String, f64)> = series(&text, "intune_exporter_tenants");
    origins.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        origins,
        [
            ("origin=\"config\"".to_string(), 10.0),
            ("origin=\"discovery\"".to_string(), 200.0),
            ("origin=\"file\"".to_string(), 90.0),
        ]
    );
    let up = up_by_tenant(&text);
    let sources = up[&ids[0]];
    assert_eq!(sources, intune_exporter::sources::Source::defaults().len());
    let expected: BTreeSet<&String> = ids
        .iter()
        .filter(|id| **id != excluded)
        .chain([&unconsented])
        .collect();
    assert_eq!(up.keys().collect::<BTreeSet<_>>(), expected);
    for (id, n) in &up {
        let want = if *id == unconsented { 0 } else { sources };
        assert_eq!(*n, want, "sources up for {id}");
    }
    // The unconsented customer: each refused sign-in is one token request and one log line
    // naming Entra's code, not one per source, and only its own sources are down.
    // A retried sign-in may be answered but not yet logged when the two are read: read them
    // again until they settle.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let requests = loop {
        let requests = sim.requests();
        let log = exporter.log();
        let refusals = log
            .lines()
            .filter(|l| l.contains(&unconsented) && l.contains("AADSTS"))
            .count();
        let sign_ins = requests
            .iter()
            .filter(|r| r.path == format!("/{unconsented}/oauth2/v2.0/token"))
            .count();
        assert!(sign_ins >= 1);
        if refusals == sign_ins {
            break requests;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{refusals} refusals logged for {sign_ins} sign-ins: {log}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The excluded customer and the partner itself are never read: the partner is only
    // asked for its GDAP customers and relationships.
    assert!(!requests
        .iter()
        .any(|r| r.tenant_id.as_deref() == Some(excluded.as_str())));
    assert!(!requests
        .iter()
        .any(|r| r.tenant_id.as_deref() == Some(PARTNER)
            && r.path != "/v1.0/tenantRelationships/delegatedAdminCustomers"
            && r.path != "/v1.0/tenantRelationships/delegatedAdminRelationships"
            && !r.path.ends_with("/token")));
    // Labels from the config are on intune_tenant_info only.
    let info = series(&text, "intune_tenant_info");
    let acme: Vec<&String> = info
        .iter()
        .map(|(l, _)| l)
        .filter(|l| label(l, "tenant_id") == Some(ids[0].as_str()))
        .collect();
    assert_eq!(acme.len(), 1);
    assert_eq!(label(acme[0], "customer"), Some("acme"));
    assert_eq!(label(acme[0], "psa_id"), Some("1234"));
    assert!(!text
        .lines()
        .any(|l| !l.starts_with("intune_tenant_info") && l.contains("customer=\"acme\"")));

    // Edit the files: a.yml loses tenants 10..20, b.yml gains tenant 400 (not in the
    // simulator: its sign-in fails, which is fine: it exists as a tenant).
    let last_success = |text: &str, id: &str| {
        series(
            text,
            "intune_exporter_source_last_success_timestamp_seconds",
        )
        .into_iter()
        .find(|(l, _)| {
            label(l, "tenant_id") == Some(id) && label(l, "source") == Some("organization")
        })
        .map(|(_, v)| v)
    };
    let before = last_success(&text, &ids[5]).unwrap();
    let pid = exporter.pid();
    std::fs::write(files.join("a.yml"), tenant_file(&ids[20..60])).unwrap();
    let mut b: Vec<String> = ids[60..100].to_vec();
    b.push(tenant_id(400));
    std::fs::write(files.join("b.yml"), tenant_file(&b)).unwrap();
    let text = scrape_until(
        &exporter,
        Duration::from_secs(30),
        "files not re-read",
        |text| {
            let up = up_by_tenant(text);
            !up.contains_key(&ids[10]) && up.contains_key(&tenant_id(400))
        },
    )
    .await;
    assert_eq!(exporter.pid(), pid, "no restart");
    let up = up_by_tenant(&text);
    for id in &ids[10..20] {
        assert!(!up.contains_key(id), "{id} removed");
        assert!(!text.contains(id.as_str()), "every series of {id} is gone");
    }
    assert!(
        series(&text, "intune_exporter_tenants").contains(&("origin=\"file\"".to_string(), 81.0))
    );
    // Everyone else kept polling.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let text = exporter.scrape().await;
        if last_success(&text, &ids[5]).unwrap() > before
            && last_success(&text, &ids[150 + 1]).is_some()
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "tenant 5 stopped polling"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_split_two_hundred_tenants_between_them() {
    let ids: Vec<String> = (0..200).map(tenant_id).collect();
    let (sim, dir) = simulator_and_dir(scenario(&ids, &[]), "shards").await;
    std::fs::write(dir.0.join("tenants.yml"), tenant_file(&ids)).unwrap();
    let config = tenant_files_config(&sim, &dir, "tenants.yml", "startup_spread: 2s");
    let shards: Vec<Exporter> = (0..2)
        .map(|i| {
            Exporter::start(&[
                "--config.file",
                &config,
                "--sharding.count=2",
                &format!("--sharding.index={i}"),
            ])
        })
        .collect();
    let mut owned = Vec::new();
    for shard in &shards {
        shard.wait_ready().await;
        owned.push(up_by_tenant(&shard.scrape().await));
    }
    let (a, b): (BTreeSet<&String>, BTreeSet<&String>) =
        (owned[0].keys().collect(), owned[1].keys().collect());
    assert!(a.is_disjoint(&b), "a tenant polled twice");
    assert_eq!(
        a.union(&b).copied().collect::<BTreeSet<_>>(),
        ids.iter().collect::<BTreeSet<_>>()
    );
    assert!(a.len() > 60 && b.len() > 60, "{} / {}", a.len(), b.len());
    // Each replica polled only its own tenants.
    let polled: BTreeSet<String> = sim
        .requests()
        .into_iter()
        .filter_map(|r| r.tenant_id)
        .collect();
    assert_eq!(polled.len(), 200);
    // A shard index out of range is a usage error.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_intune-exporter"))
        .args([
            "--config.file",
            &config,
            "--sharding.count=2",
            "--sharding.index=2",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "intune-exporter: --sharding.index 2 must be less than --sharding.count 2\n"
    );
    sim.shutdown().await;
}

/// The demo scenario, a partner tenant and `count` tenants generated from the demo tenant,
/// each answering after `latency`.
fn fleet_scenario(count: usize, latency: &str) -> Scenario {
    let text = format!(
        "{}fleets:
  - count: {count}
    template: contoso.onmicrosoft.com
    seed: 11
    latency: {latency}
    partner: {FLEET_PARTNER}
",
        sim::demo_and_partner(FLEET_PARTNER, "")
    );
    Scenario::from_yaml(&sim::with_contoso_domain(&text)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discovered_fleet_starts_spread_under_the_cap_in_two_round_trips_per_tenant() {
    const TENANTS: usize = 60;
    let (sim, dir) = simulator_and_dir(fleet_scenario(TENANTS, "50ms"), "polite").await;
    // The spread window is min(startup_spread, 100 ms x 60 tenants): 4 s here.
    std::fs::write(
        dir.0.join("config.yml"),
        format!(
            "{}  max_concurrent_requests: 4
  max_concurrent_sign_ins: 2
poll:
  startup_spread: 4s
{}{}",
            config_text::graph(sim.base_url()),
            demo_app_defaults(),
            gdap(FLEET_PARTNER)
        ),
    )
    .unwrap();
    let exporter = Exporter::start(&["--config.file", dir.0.join("config.yml").to_str().unwrap()]);
    exporter.wait_ready().await;
    let stats = sim.stats();
    let customers: Vec<_> = stats
        .tenants
        .iter()
        .filter(|(id, _)| id.as_str() != FLEET_PARTNER)
        .collect();
    assert_eq!(
        customers.len(),
        TENANTS,
        "every discovered customer was polled"
    );
    // The process-wide caps held, counted by the simulator.
    assert!(stats.peak_in_flight_graph <= 4, "{stats:?}");
    assert!(stats.peak_in_flight_token <= 2, "{stats:?}");
    // Every tenant's first poll took exactly one sign-in and two round trips (a JSON batch for
    // v1.0 and one for beta) for all of its sources.
    for (id, t) in &customers {
        assert_eq!((t.token_requests, t.graph_round_trips), (1, 2), "{id}");
        assert_eq!(
            t.batch_items,
            intune_exporter::sources::Source::defaults().len() as u64,
            "{id}"
        );
    }
    // The first polls were spread over the window, not fired in the same second.
    let firsts: Vec<chrono::DateTime<chrono::Utc>> = customers
        .iter()
        .filter_map(|(_, t)| t.first_graph_request_at)
        .collect();
    let span = *firsts.iter().max().unwrap() - *firsts.iter().min().unwrap();
    assert!(
        span >= chrono::TimeDelta::milliseconds(2500) && span <= chrono::TimeDelta::seconds(10),
        "first polls spread over {span}"
    );
    let first_second = firsts
        .iter()
        .filter(|t| **t - *firsts.iter().min().unwrap() < chrono::TimeDelta::seconds(1))
        .count();
    assert!(
        first_second < TENANTS / 2,
        "{first_second} tenants started in the first second"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_adds_a_tenant_and_retimes_a_source_without_disturbing_the_others() {
    let ids: Vec<String> = (0..4).map(tenant_id).collect();
    let (sim, dir) = simulator_and_dir(scenario(&ids, &[]), "reload-fleet").await;
    let config = |tenants: &[String], apns_interval: &str| {
        let mut text = format!(
            "{graph}poll:
  startup_spread: 0s
sources:
  organization:
    interval: 5s
  apns:
    interval: {apns_interval}
{defaults}tenants:
",
            graph = config_text::graph(sim.base_url()),
            defaults = demo_app_defaults(),
        );
        for id in tenants {
            text.push_str(&format!("  - tenant_id: {id}\n"));
        }
        std::fs::write(dir.0.join("config.yml"), text).unwrap();
    };
    config(&ids[..3], "1h");
    let exporter = Exporter::start(&["--config.file", dir.0.join("config.yml").to_str().unwrap()]);
    exporter.wait_ready().await;
    let pid = exporter.pid();
    let before = exporter.scrape().await;
    let last = |text: &str, id: &str, source: &str| {
        series(
            text,
            "intune_exporter_source_last_success_timestamp_seconds",
        )
        .into_iter()
        .find(|(l, _)| label(l, "tenant_id") == Some(id) && label(l, "source") == Some(source))
        .map(|(_, v)| v)
    };
    let org_before = last(&before, &ids[0], "organization").unwrap();
    let apns_before = last(&before, &ids[0], "apns").unwrap();
    let tokens_before = sim.stats().tenants[&ids[0]].token_requests;

    // A fourth tenant and APNs every 5 s instead of every hour.
    config(&ids, "5s");
    exporter.signal("HUP");
    let text = scrape_until(
        &exporter,
        Duration::from_secs(30),
        "reload not applied",
        |text| {
            let added = up_by_tenant(text).get(&ids[3]).copied().unwrap_or(0);
            added == intune_exporter::sources::Source::defaults().len()
                && last(text, &ids[0], "apns").is_some_and(|t| t > apns_before)
                && last(text, &ids[0], "organization").is_some_and(|t| t > org_before)
        },
    )
    .await;
    assert_eq!(exporter.pid(), pid, "no restart");
    assert!(text.contains("intune_exporter_config_last_reload_successful 1"));
    assert!(
        series(&text, "intune_exporter_tenants").contains(&("origin=\"config\"".to_string(), 4.0))
    );
    // The tenants that did not change kept their poller and its token: no new sign-in.
    assert_eq!(sim.stats().tenants[&ids[0]].token_requests, tokens_before);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_answer_is_retried_after_the_backoff_not_the_interval() {
    let id = tenant_id(0);
    // The APNs answer of the first poll is malformed; later answers are fine.
    let text = format!(
        "tenants:\n{}",
        sim::demo_tenant_as(
            &id,
            &format!(
                "{SECRET_LINE}{}",
                sim::faults(&[(
                    "v1.0/deviceManagement/applePushNotificationCertificate",
                    "{malformed: true}"
                )])
            )
        )
    );
    let (sim, dir) = simulator_and_dir(Scenario::from_yaml(&text).unwrap(), "backoff").await;
    std::fs::write(
        dir.0.join("config.yml"),
        format!(
            "{}poll:\n  interval: 1h\n  retry_backoff: 2s\ntenants:\n{}",
            config_text::graph(sim.base_url()),
            config_text::secret_tenant(&id, CLIENT, "secret")
        ),
    )
    .unwrap();
    let exporter = Exporter::start(&["--config.file", dir.0.join("config.yml").to_str().unwrap()]);
    exporter.wait_ready().await;
    let up = |text: &str| {
        series(text, "intune_exporter_source_up")
            .into_iter()
            .find(|(l, _)| label(l, "source") == Some("apns"))
            .map(|(_, v)| v)
    };
    assert_eq!(
        up(&exporter.scrape().await),
        Some(0.0),
        "{}",
        exporter.log()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while up(&exporter.scrape().await) != Some(1.0) {
        assert!(
            std::time::Instant::now() < deadline,
            "not retried within 20 s, though the interval is 1 h:\n{}",
            exporter.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Exactly one retry, after 2 s ± 20 %: only APNs, alone in its batch.
    let apns: Vec<chrono::DateTime<chrono::Utc>> = sim
        .requests()
        .iter()
        .filter(|r| r.path == "/v1.0/deviceManagement/applePushNotificationCertificate")
        .map(|r| r.at)
        .collect();
    assert_eq!(apns.len(), 2, "{apns:?}");
    let waited = apns[1] - apns[0];
    assert!(
        waited >= chrono::TimeDelta::milliseconds(1600) && waited <= chrono::TimeDelta::seconds(6),
        "retried after {waited}"
    );
    sim.shutdown().await;
}

/// Writes `config.yml` in `dir`, reading the tenant files `pattern` with these `poll` settings
/// (one line); returns its path.
fn tenant_files_config(sim: &Simulator, dir: &TempDir, pattern: &str, poll: &str) -> String {
    let path = dir.0.join("config.yml");
    std::fs::write(
        &path,
        format!(
            "{}poll:\n  {poll}\n{}tenant_files: [{pattern}]\n",
            config_text::graph(sim.base_url()),
            demo_app_defaults()
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// The tenant ids with a `source_up` series, and the tenant-files health.
fn files_view(text: &str) -> (BTreeSet<String>, Option<f64>) {
    let health = series(text, "intune_exporter_discovery_up")
        .into_iter()
        .find(|(l, _)| label(l, "discovery") == Some("tenant_files"))
        .map(|(_, v)| v);
    (up_by_tenant(text).into_keys().collect(), health)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_tenant_files_keep_their_tenants_and_are_logged_once_until_they_change() {
    let ids: Vec<String> = (0..5).map(tenant_id).collect();
    let (sim, dir) = simulator_and_dir(scenario(&ids, &[]), "broken-files").await;
    let files = dir.0.join("tenants.d");
    std::fs::create_dir_all(&files).unwrap();
    for (name, range) in [
        ("a.yml", 0..1),
        ("b.yml", 1..2),
        ("c.yml", 2..3),
        ("d.yml", 3..4),
    ] {
        std::fs::write(files.join(name), tenant_file(&ids[range])).unwrap();
    }
    let config = tenant_files_config(&sim, &dir, "tenants.d/*.yml", "interval: 1h");
    let exporter = Exporter::start(&["--config.file", &config]);
    exporter.wait_ready().await;
    let all: BTreeSet<String> = ids[..4].iter().cloned().collect();
    assert_eq!(
        files_view(&exporter.scrape().await),
        (all.clone(), Some(1.0))
    );

    // a.yml: 5,000 invalid ids. b.yml: truncated to nothing, as a writer does before writing.
    // c.yml: only comments. d.yml: a link to nothing. e.yml: a folder matching the pattern.
    let invalid: String = (0..5000)
        .map(|i| format!("- tenant_id: not-a-tenant-{i}\n"))
        .collect();
    std::fs::write(files.join("a.yml"), invalid).unwrap();
    std::fs::write(files.join("b.yml"), "").unwrap();
    std::fs::write(files.join("c.yml"), "# being rewritten\n\n").unwrap();
    std::fs::remove_file(files.join("d.yml")).unwrap();
    std::os::unix::fs::symlink(files.join("gone.yml"), files.join("d.yml")).unwrap();
    std::fs::create_dir(files.join("e.yml")).unwrap();
    let refused = |log: &str, name: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.contains("tenant file refused") && l.contains(name))
            .map(str::to_string)
            .collect()
    };
    scrape_until(
        &exporter,
        Duration::from_secs(20),
        "tenant files health not 0",
        |text| files_view(text).1 == Some(0.0),
    )
    .await;
    // Four more checks (5 s apart) of files that do not change.
    tokio::time::sleep(Duration::from_secs(21)).await;
    let text = exporter.scrape().await;
    assert_eq!(
        files_view(&text),
        (all.clone(), Some(0.0)),
        "{}",
        exporter.log()
    );
    assert!(
        series(&text, "intune_exporter_tenants").contains(&("origin=\"file\"".to_string(), 4.0))
    );
    let log = exporter.log();
    for name in ["a.yml", "b.yml", "c.yml", "d.yml", "e.yml"] {
        let lines = refused(&log, &files.join(name).display().to_string());
        assert_eq!(lines.len(), 1, "{name}: {log}");
        assert!(lines[0].len() < 2000, "{name}: {} bytes", lines[0].len());
        assert!(
            lines[0].contains("kept_tenants=1") || name == "e.yml",
            "{}",
            lines[0]
        );
    }
    let a = &refused(&log, "a.yml")[0];
    assert!(
        a.contains(": 5000 problem(s): [0].tenant_id: \\\"not-a-tenant-0\\\" is not a directory (tenant) id"),
        "{a}"
    );
    assert!(a.contains("; and 4997 more"), "{a}");
    for name in ["b.yml", "c.yml"] {
        assert!(
            refused(&log, name)[0].contains("the file is empty or holds only comments"),
            "{log}"
        );
    }
    assert!(
        refused(&log, "d.yml")[0].contains("No such file or directory"),
        "{log}"
    );
    assert!(
        refused(&log, "e.yml")[0].contains("not a regular file but a directory"),
        "{log}"
    );

    // Fixed: a.yml lists its tenant again, b.yml says `[]` (no tenants, on purpose), the link
    // and the folder go; c.yml gains tenant 4.
    std::fs::write(files.join("a.yml"), tenant_file(&ids[0..1])).unwrap();
    std::fs::write(files.join("b.yml"), "[]\n").unwrap();
    std::fs::write(files.join("c.yml"), tenant_file(&ids[2..5])).unwrap();
    std::fs::remove_file(files.join("d.yml")).unwrap();
    std::fs::remove_dir(files.join("e.yml")).unwrap();
    let want: BTreeSet<String> = [&ids[0], &ids[2], &ids[3], &ids[4]]
        .into_iter()
        .cloned()
        .collect();
    let text = scrape_until(
        &exporter,
        Duration::from_secs(30),
        "fixed files not read",
        |text| files_view(text) == (want.clone(), Some(1.0)),
    )
    .await;
    assert!(!text.contains(ids[1].as_str()), "b.yml's tenant is gone");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_file_replaced_by_one_of_the_same_size_and_time_is_read_again() {
    let ids: Vec<String> = (0..2).map(tenant_id).collect();
    let (sim, dir) = simulator_and_dir(scenario(&ids, &[]), "same-stamp").await;
    let files = dir.0.join("tenants.d");
    std::fs::create_dir_all(&files).unwrap();
    let path = files.join("a.yml");
    std::fs::write(&path, tenant_file(&ids[0..1])).unwrap();
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let config = tenant_files_config(&sim, &dir, "tenants.d/*.yml", "interval: 1h");
    let exporter = Exporter::start(&["--config.file", &config]);
    exporter.wait_ready().await;
    let first: BTreeSet<String> = ids[..1].iter().cloned().collect();
    assert_eq!(files_view(&exporter.scrape().await), (first, Some(1.0)));

    // The same size and modification time, another inode: `mv` of a file written elsewhere
    // with its time kept (`cp -p`, rsync, an unpacked archive).
    let staged = dir.0.join("a.yml.new");
    std::fs::write(&staged, tenant_file(&ids[1..2])).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&staged)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    assert_eq!(
        std::fs::metadata(&staged).unwrap().len(),
        std::fs::metadata(&path).unwrap().len()
    );
    std::fs::rename(&staged, &path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    let second: BTreeSet<String> = ids[1..2].iter().cloned().collect();
    scrape_until(
        &exporter,
        Duration::from_secs(20),
        "replaced file not read again",
        |text| files_view(text) == (second.clone(), Some(1.0)),
    )
    .await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gdap_customer_with_a_numeric_tenant_id_is_skipped_and_the_others_are_read() {
    let ids: Vec<String> = (0..3).map(tenant_id).collect();
    // Customer 1's tenantId is a JSON number, not the string Graph documents.
    let text = scenario_yaml(&ids, &ids).replacen(
        &format!("{{id: \"{id}\", tenantId: \"{id}\"", id = ids[1]),
        "{id: 12345, tenantId: 12345",
        1,
    );
    assert!(text.contains("tenantId: 12345"));
    let (sim, dir) =
        simulator_and_dir(Scenario::from_yaml(&text).unwrap(), "numeric-customer").await;
    std::fs::write(
        dir.0.join("config.yml"),
        format!(
            "{}{}{}",
            config_text::graph(sim.base_url()),
            demo_app_defaults(),
            gdap(PARTNER)
        ),
    )
    .unwrap();
    let exporter = Exporter::start(&["--config.file", dir.0.join("config.yml").to_str().unwrap()]);
    exporter.wait_ready().await;
    let text = exporter.scrape().await;
    assert_eq!(
        up_by_tenant(&text).into_keys().collect::<Vec<_>>(),
        [ids[0].clone(), ids[2].clone()],
        "{}",
        exporter.log()
    );
    assert!(
        text.contains("intune_exporter_discovery_up{discovery=\"delegated_admin_customers\"} 1")
    );
    let log = exporter.log();
    let skipped: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("skipping GDAP customers"))
        .collect();
    assert_eq!(skipped.len(), 1, "{log}");
    assert!(
        skipped[0].contains("skipped=1 first=\"a customer of an unexpected shape: invalid type: integer `12345`, expected a string\""),
        "{}",
        skipped[0]
    );
    sim.shutdown().await;
}
