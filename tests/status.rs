//! The status page, end to end: the real binary (with `--demo`, or against `intune-exporter
//! simulate` with a scenario written here), looked at through Debian's `chromium` in headless
//! mode and checked strictly as markup.
//!
//! Screenshots of every page a browser test visits are written to
//! `target/test-output/status/*.png` (next to `target/tmp`), so a reader can look at them.
//!
//! The browser tests need `chromium` (the test command installs it). Without it they print why
//! they skip, unless `CI` is set: then a missing browser fails the run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::sim::{self, DEMO_SECRET, DEMO_TENANT, FLEET_PARTNER};
use common::{config_text, Exporter, TempDir};
use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where screenshots go.
fn output_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("test-output/status");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `chromium` on the PATH; `None` (after saying why) when absent outside CI.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("chromium"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not installed; CI must run the browser tests (scripts/test installs it)"
        );
        eprintln!(
            "SKIPPED: chromium is not installed (apt-get install chromium; scripts/test does)"
        );
    }
    found
}

/// Runs headless chromium on `url` with a fresh profile and returns its standard output.
fn run_chromium(browser: &Path, url: &str, extra: &[&str]) -> String {
    let profile = TempDir::new("chromium-profile");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.0.display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).expect("read chromium output");
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            assert!(status.success(), "chromium {url}: {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish with {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().expect("reader")
}

/// The DOM chromium built from `url`, serialised.
fn dump_dom(browser: &Path, url: &str) -> String {
    run_chromium(browser, url, &["--dump-dom"])
}

/// A full-page screenshot of `url` into the output directory.
fn screenshot(browser: &Path, url: &str, name: &str) {
    let file = output_dir().join(name);
    let _ = std::fs::remove_file(&file);
    run_chromium(
        browser,
        url,
        &[
            "--window-size=1280,2600",
            &format!("--screenshot={}", file.display()),
        ],
    );
    let png = std::fs::read(&file).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name} is a PNG");
    eprintln!("screenshot: {}", file.display());
}

/// The opening tags of the elements carrying `attr`, in document order, as (attr value, tag).
fn tags_with<'a>(html: &'a str, attr: &str) -> Vec<(String, &'a str)> {
    let needle = format!("{attr}=\"");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&needle) {
        let start = rest[..i].rfind('<').unwrap_or(0);
        let end = i + rest[i..].find('>').unwrap_or(rest.len() - i);
        let value_start = i + needle.len();
        let value_end = value_start + rest[value_start..].find('"').unwrap();
        out.push((rest[value_start..value_end].to_string(), &rest[start..=end]));
        rest = &rest[end..];
    }
    out
}

/// The text between `<table id="{id}"` and its `</table>`.
fn table<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<table id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let end = start + html[start..].find("</table>").unwrap();
    &html[start..end]
}

/// The value of `attr` in one opening tag.
fn attr<'a>(tag: &'a str, attr: &str) -> Option<&'a str> {
    let needle = format!(" {attr}=\"");
    let i = tag.find(&needle)? + needle.len();
    Some(&tag[i..i + tag[i..].find('"')?])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_pages_in_chromium() {
    let Some(browser) = chromium() else { return };
    let exporter = Exporter::start(&["--demo"]);
    exporter.wait_ready().await;

    // The fleet table lists the demo tenant with its worst status.
    let fleet = dump_dom(&browser, &exporter.url("/"));
    let rows = tags_with(table(&fleet, "fleet"), "data-tenant-id");
    assert_eq!(rows.len(), 1, "{fleet}");
    assert_eq!(rows[0].0, DEMO_TENANT);
    assert_eq!(attr(rows[0].1, "data-status"), Some("unhealthy"));
    assert!(
        fleet.contains(&format!("<a href=\"tenants/{DEMO_TENANT}\">Contoso</a>")),
        "{fleet}"
    );
    assert!(fleet.contains("<span class=\"pill unhealthy\">Unhealthy</span>"));
    screenshot(&browser, &exporter.url("/"), "fleet.png");

    let page_url = exporter.url(&format!("/tenants/{DEMO_TENANT}"));
    let page = dump_dom(&browser, &page_url);

    // Connectors in the page's order: five in the first table, the rest behind "Show all",
    // which is closed.
    let top: Vec<(String, String)> = tags_with(table(&page, "connectors-top"), "data-connector")
        .into_iter()
        .map(|(c, tag)| (c, attr(tag, "data-status").unwrap().to_string()))
        .collect();
    let top_names: Vec<(&str, &str)> = top.iter().map(|(c, s)| (c.as_str(), s.as_str())).collect();
    assert_eq!(
        top_names,
        [
            ("dep_token", "unhealthy"),
            ("vpp_token", "unhealthy"),
            ("certificate_connector", "unhealthy"),
            ("ios_app_provisioning_profile", "unhealthy"),
            ("android_enrollment_token", "warning"),
        ]
    );
    let details = &page[page.find("<details").expect("a Show all section")..];
    let details_tag = &details[..details.find('>').unwrap()];
    assert!(!details_tag.contains("open"), "{details_tag}");
    // One row per connector kind, and one more for each instance beyond a kind's first: the
    // demo tenant has six such instances, so a kind added to the registry adds a row.
    let rows = intune_exporter::sources::connector_kinds().len() + 6;
    assert!(details.starts_with(&format!(
        "<details id=\"connectors-all\"><summary>Show all {rows} connectors</summary>"
    )));
    let rest: Vec<String> = tags_with(table(&page, "connectors-rest"), "data-connector")
        .into_iter()
        .map(|(_, tag)| attr(tag, "data-status").unwrap().to_string())
        .collect();
    assert_eq!(rest.len(), rows - top.len());
    let order = [
        "unhealthy",
        "warning",
        "unknown",
        "healthy",
        "not_configured",
    ];
    let rank = |s: &str| order.iter().position(|o| *o == s).unwrap();
    let all: Vec<usize> = top
        .iter()
        .map(|(_, s)| rank(s))
        .chain(rest.iter().map(|s| rank(s)))
        .collect();
    assert!(all.windows(2).all(|w| w[0] <= w[1]), "{all:?}");

    // Intune news: the 10 latest active posts, newest first (ties by id, descending).
    let news: Vec<String> = tags_with(table(&page, "messages"), "data-message-id")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        news,
        [
            "MC900109", "MC900111", "MC900101", "MC900103", "MC900110", "MC900108", "MC900107",
            "MC900106", "MC900105", "MC900104"
        ]
    );
    // Each row's first time is when the post was last updated.
    let messages = table(&page, "messages");
    let updated: Vec<chrono::DateTime<chrono::FixedOffset>> = messages
        .split("<tr data-message-id=")
        .skip(1)
        .map(|row| {
            let (t, _) = &tags_with(row, "datetime")[0];
            chrono::DateTime::parse_from_rfc3339(t).unwrap()
        })
        .collect();
    assert_eq!(updated.len(), 10);
    assert!(updated.windows(2).all(|w| w[0] >= w[1]), "{updated:?}");
    screenshot(&browser, &page_url, "tenant-demo.png");
}

/// How many sources a tenant has when its config turns none on or off: every source but those
/// off by default.
fn source_count() -> usize {
    intune_exporter::sources::Source::ALL
        .into_iter()
        .filter(|s| s.enabled_by_default())
        .count()
}

/// How many sources the demo tenant has: every one, as the demo config turns them all on.
fn demo_source_count() -> usize {
    intune_exporter::sources::Source::ALL.len()
}

/// The connector collections of a simulated tenant that has none of those kinds, and no
/// service issue.
macro_rules! no_other_connectors {
    () => {
        r#"      beta/deviceManagement/depOnboardingSettings: []
      v1.0/deviceManagement/exchangeConnectors: []
      beta/deviceManagement/ndesConnectors: []
      beta/deviceManagement/certificateConnectorDetails: []
      beta/deviceManagement/mobileThreatDefenseConnectors: []
      v1.0/deviceManagement/deviceManagementPartners: []
      v1.0/deviceManagement/complianceManagementPartners: []
      beta/deviceManagement/domainJoinConnectors: []
      v1.0/deviceManagement/remoteAssistancePartners: []
      beta/deviceManagement/chromeOSOnboardingSettings: []
      v1.0/deviceAppManagement/mobileApps: []
      beta/deviceAppManagement/iosLobAppProvisioningConfigurations: []
      beta/deviceManagement/androidDeviceOwnerEnrollmentProfiles: []
      v1.0/admin/serviceAnnouncement/issues: []
"#
    };
}

/// A tenant whose licence source is refused (403) and whose names carry markup.
const SCENARIO: &str = concat!(
    r#"
tenants:
  - tenant_id: 0d8a5f3e-6b1c-4e92-a7d4-3c9e1b5f7a20
    client_id: 6c2e9a4f-1d7b-4f38-b5e0-8a3d6c1f9e72
    client_secret: status-test-secret
    resources:
      v1.0/organization:
        - id: 0d8a5f3e-6b1c-4e92-a7d4-3c9e1b5f7a20
          displayName: "Fabrikam <script>document.title='owned'</script>"
          countryLetterCode: DE
          mobileDeviceManagementAuthority: intune
      v1.0/deviceManagement: {subscriptionState: active}
      v1.0/subscribedSkus: []
      v1.0/deviceAppManagement/vppTokens:
        - id: 11111111-2222-4333-8444-555555555555
          organizationName: "Fabrikam <b>bold</b> & co"
          expirationDateTime: {in: 100d}
          lastSyncDateTime: {ago: 1h}
          state: valid
"#,
    no_other_connectors!(),
    r#"      v1.0/admin/serviceAnnouncement/healthOverviews:
        - {id: Intune, service: Microsoft Intune, status: serviceOperational}
      v1.0/admin/serviceAnnouncement/messages:
        - id: MC700001
          title: "Heads up <script>alert('x')</script> for admins"
          category: stayInformed
          severity: normal
          services: [Microsoft Intune]
          lastModifiedDateTime: {ago: 1d}
    faults:
      - path: v1.0/subscribedSkus
        sequence: [{status: 403}, {status: 403}, {status: 403}, {status: 403}]
"#
);

/// `intune-exporter simulate` on a free port, killed when dropped.
struct Simulate {
    child: std::process::Child,
    url: String,
}

impl Simulate {
    fn start(dir: &TempDir) -> Simulate {
        Simulate::start_with(dir, SCENARIO)
    }

    fn start_with(dir: &TempDir, scenario_text: &str) -> Simulate {
        let scenario = dir.0.join("scenario.yaml");
        std::fs::write(&scenario, scenario_text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_intune-exporter"))
            .args([
                "--log.format",
                "logfmt",
                "simulate",
                "--listen",
                "127.0.0.1:0",
            ])
            .arg("--scenario")
            .arg(&scenario)
            .arg("--ca-out")
            .arg(dir.0.join("ca.pem"))
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the simulator");
        let stderr = child.stderr.take().unwrap();
        let mut lines = std::io::BufReader::new(stderr).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the simulator says where it listens")
                .unwrap();
            if let Some(url) = line
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix("url="))
            {
                break url.trim_matches('"').to_string();
            }
        };
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Simulate { child, url }
    }
}

impl Drop for Simulate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn exporter_against(sim: &Simulate, dir: &TempDir) -> Exporter {
    std::fs::write(dir.0.join("secret.txt"), "status-test-secret\n").unwrap();
    let config = format!(
        "{}tenants:\n{}",
        config_text::graph(&sim.url),
        config_text::secret_tenant(
            "0d8a5f3e-6b1c-4e92-a7d4-3c9e1b5f7a20",
            "6c2e9a4f-1d7b-4f38-b5e0-8a3d6c1f9e72",
            "secret.txt"
        )
    );
    let path = dir.0.join("config.yaml");
    std::fs::write(&path, config).unwrap();
    Exporter::start(&["--config.file", path.to_str().unwrap()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_source_and_markup_in_titles_in_chromium() {
    let Some(browser) = chromium() else { return };
    let dir = TempDir::new("status-sim");
    let sim = Simulate::start(&dir);
    let exporter = exporter_against(&sim, &dir);
    exporter.wait_ready().await;
    let tenant = "0d8a5f3e-6b1c-4e92-a7d4-3c9e1b5f7a20";

    let page_url = exporter.url(&format!("/tenants/{tenant}"));
    let page = dump_dom(&browser, &page_url);

    // The refused source says why, and what to grant.
    let sources = table(&page, "source-table");
    let row_start = sources
        .find("<tr data-source=\"subscribed_skus\">")
        .expect("a row for subscribed_skus");
    let row = &sources[row_start..row_start + sources[row_start..].find("</tr>").unwrap()];
    assert!(
        row.contains("<span class=\"pill down\">Down</span>"),
        "{row}"
    );
    assert!(
        row.contains("<span class=\"code\">HTTP 403 Authorization_RequestDenied</span>"),
        "{row}"
    );
    assert!(
        row.contains("Insufficient privileges to complete the operation."),
        "{row}"
    );
    assert!(
        row.contains(
            "Grant the application permission <code class=\"permission\">LicenseAssignment.Read.All</code>"
        ),
        "{row}"
    );
    assert!(
        page.contains(&format!("1 of {} down", source_count())),
        "{page}"
    );

    // Markup in names and titles is text: chromium built no script element and no <b>, and the
    // document title is still ours.
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<b>"), "{page}");
    assert!(page.contains("Heads up &lt;script&gt;alert('x')&lt;/script&gt; for admins"));
    assert!(page.contains("Fabrikam &lt;b&gt;bold&lt;/b&gt; &amp; co"));
    assert!(page.contains(
        "<title>Fabrikam &lt;script&gt;document.title='owned'&lt;/script&gt; · Tenant status · intune-exporter</title>"
    ));
    screenshot(&browser, &page_url, "tenant-failing-source.png");

    let fleet = dump_dom(&browser, &exporter.url("/"));
    assert!(!fleet.contains("<script"), "{fleet}");
    assert!(fleet.contains("Fabrikam &lt;script&gt;document.title='owned'&lt;/script&gt;</a>"));
    let rows = tags_with(table(&fleet, "fleet"), "data-tenant-id");
    assert_eq!(attr(rows[0].1, "data-status"), Some("healthy"));
    assert!(
        fleet.contains(&format!(
            "title=\"subscribed_skus\">1 of {}</span>",
            source_count()
        )),
        "{fleet}"
    );
    screenshot(&browser, &exporter.url("/"), "fleet-failing-source.png");
    drop(sim);
}

/// Parses `html` strictly and checks that every table has header cells; returns the links.
fn check_markup(url: &str, html: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse_with_options(
        html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{url} is not well-formed: {e}"));
    let mut links = Vec::new();
    for node in doc.descendants() {
        match node.tag_name().name() {
            "table" => {
                let headers = node
                    .descendants()
                    .filter(|n| n.has_tag_name("thead"))
                    .flat_map(|t| t.descendants().filter(|n| n.has_tag_name("th")))
                    .count();
                assert!(headers > 0, "{url}: a table without header cells");
            }
            "a" => links.push(
                node.attribute("href")
                    .expect("a link has an href")
                    .to_string(),
            ),
            "script" => panic!("{url}: a script element"),
            _ => {}
        }
    }
    links
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_well_formed_and_every_internal_link_resolves() {
    let exporter = Exporter::start(&["--demo"]);
    exporter.wait_ready().await;
    let client = reqwest::Client::new();
    let base = url::Url::parse(&exporter.url("/")).unwrap();
    let mut pages = vec![
        "/".to_string(),
        "/?q=contoso".to_string(),
        "/?q=%3Cnothing%3E".to_string(),
        format!("/tenants/{DEMO_TENANT}"),
        "/tenants/no-such-tenant".to_string(),
    ];
    let mut seen = BTreeSet::new();
    let mut checked_links = BTreeSet::new();
    while let Some(path) = pages.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let url = base.join(&path).unwrap();
        let response = client.get(url.clone()).send().await.unwrap();
        let expected = if path.starts_with("/tenants/no-such") {
            404
        } else {
            200
        };
        assert_eq!(response.status(), expected, "{url}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        let html = response.text().await.unwrap();
        for href in check_markup(url.as_str(), &html) {
            let target = url.join(&href).unwrap();
            if target.host_str() != base.host_str() || target.port() != base.port() {
                // The admin center: never a network target from a test.
                assert!(
                    target.as_str().starts_with(&format!(
                        "https://intune.microsoft.com/{DEMO_TENANT}/#view/"
                    )),
                    "{url}: unexpected external link {target}"
                );
                continue;
            }
            if !checked_links.insert(target.to_string()) {
                continue;
            }
            let status = client.get(target.clone()).send().await.unwrap().status();
            assert_eq!(status, 200, "{url} links to {target}");
            if target.path() == "/" || target.path().starts_with("/tenants/") {
                let p = &target[url::Position::BeforePath..];
                pages.push(p.to_string());
            }
        }
    }
    assert!(seen.len() >= 5, "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_agrees_with_metrics() {
    let exporter = Exporter::start(&["--demo"]);
    exporter.wait_ready().await;
    let fleet: serde_json::Value = reqwest::get(exporter.url("/api/v1/tenants"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = &fleet["tenants"][0];
    assert_eq!(t["tenant_id"], DEMO_TENANT);
    assert_eq!(t["name"], "Contoso");
    assert_eq!(t["worst_status"], "unhealthy");
    assert_eq!(
        t["connectors"],
        serde_json::json!({"unhealthy": 4, "warning": 2, "unknown": 0, "healthy": 7, "not_configured": 6})
    );
    assert_eq!(t["sources_down"], serde_json::json!([]));
    let none: serde_json::Value = reqwest::get(exporter.url("/api/v1/tenants?q=fabrikam"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["tenants"], serde_json::json!([]));

    let page: serde_json::Value =
        reqwest::get(exporter.url(&format!("/api/v1/tenants/{DEMO_TENANT}")))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let metrics = exporter.scrape_linted().await;
    // Every instance's status on the page is the one /metrics says, and every kind's too.
    let mut instances = 0;
    for c in page["connectors"].as_array().unwrap() {
        let connector = c["connector"].as_str().unwrap();
        let status = c["status"].as_str().unwrap();
        let series = match c["connector_id"].as_str() {
            Some(id) => format!(
                "intune_connector_health{{tenant_id=\"{DEMO_TENANT}\",connector=\"{connector}\",connector_id=\"{id}\",status=\"{status}\"}} 1"
            ),
            None => format!(
                "intune_connector_type_health{{tenant_id=\"{DEMO_TENANT}\",connector=\"{connector}\",status=\"{status}\"}} 1"
            ),
        };
        assert!(metrics.contains(&series), "{series} not in /metrics");
        instances += usize::from(c["connector_id"].is_string());
    }
    assert_eq!(instances, 19);
    assert_eq!(page["messages"].as_array().unwrap().len(), 10);
    assert_eq!(
        page["sources"].as_array().unwrap().len(),
        demo_source_count()
    );
    // Beyond the page: the demo's commercial subscriptions that carry Intune (Power BI has no
    // Intune plan), worst first, each with the date its series gives.
    let beyond: Vec<[String; 4]> = page["beyond"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| ["kind", "name", "status", "detail"].map(|k| r[k].as_str().unwrap().to_string()))
        .collect();
    let subscriptions = [
        (
            "2d9f6b3a-8e1c-4a57-b0d2-7c4e9a1f3b68",
            "SPE_E5",
            "unhealthy",
            "Warning",
        ),
        (
            "3f7a9c2e-6b1d-4e58-a0c3-9d2f4b8e1a67",
            "EMSPREMIUM",
            "warning",
            "Enabled, trial",
        ),
        (
            "8c2e5a1f-3b7d-4e90-a6c4-1f9d2b8e5a73",
            "EMS",
            "healthy",
            "Enabled",
        ),
    ];
    let expected: Vec<[String; 4]> = subscriptions
        .iter()
        .map(|(id, sku, status, detail)| {
            [
                "commercial_subscription".to_string(),
                sku.to_string(),
                status.to_string(),
                format!("{detail}; subscription {id}"),
            ]
        })
        .collect();
    assert_eq!(beyond, expected);
    for (row, (id, ..)) in page["beyond"].as_array().unwrap().iter().zip(subscriptions) {
        let date: chrono::DateTime<chrono::Utc> = row["date"].as_str().unwrap().parse().unwrap();
        let series = format!(
            "intune_subscription_next_lifecycle_timestamp_seconds{{tenant_id=\"{DEMO_TENANT}\",subscription_id=\"{id}\"}} {}\n",
            date.timestamp()
        );
        assert!(metrics.contains(&series), "{series} not in /metrics");
    }
    assert_eq!(page["sources"][0]["source"], "organization");
    assert_eq!(page["sources"][0]["up"], true);
    assert_eq!(page["sources"][0]["last_error"], serde_json::Value::Null);
    let missing = reqwest::get(exporter.url("/api/v1/tenants/nope"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.text().await.unwrap(),
        "{\n  \"error\": \"no tenant nope is configured\"\n}\n"
    );
}

const NORTHWIND: &str = "1b2c3d4e-5f60-4a71-8b92-a3b4c5d6e7f8";
const FABRIKAM: &str = "2c3d4e5f-6071-4b82-9ca3-b4c5d6e7f809";
/// The app's secret is wrong for this one: it never signs in.
const WOODGROVE: &str = "3d4e5f60-7182-4c93-8db4-c5d6e7f8091a";
const CLIENT: &str = "6c2e9a4f-1d7b-4f38-b5e0-8a3d6c1f9e72";

/// A tenant of the simulator with every source answered; `vpp_tokens` is its VPP tokens.
fn tenant_block(id: &str, name: &str, vpp_tokens: &str) -> String {
    format!(
        concat!(
            r#"  - tenant_id: {id}
    client_id: {CLIENT}
    client_secret: status-test-secret
    resources:
      v1.0/organization:
        - {{id: {id}, displayName: {name}, countryLetterCode: DE, mobileDeviceManagementAuthority: intune}}
      v1.0/deviceManagement: {{subscriptionState: active}}
      v1.0/subscribedSkus: []
      v1.0/deviceAppManagement/vppTokens: {vpp_tokens}
"#,
            no_other_connectors!(),
            r#"      v1.0/admin/serviceAnnouncement/healthOverviews: []
      v1.0/admin/serviceAnnouncement/messages: []
"#
        ),
        id = id,
        name = name,
        vpp_tokens = vpp_tokens,
        CLIENT = CLIENT
    )
}

/// Three tenants: Northwind with two expired VPP tokens (unhealthy), Fabrikam with one valid
/// token (healthy), and Woodgrove, which the exporter cannot sign in to (its secret is wrong).
fn sign_in_scenario() -> String {
    let expired = |id: &str, org: &str| {
        format!("{{id: {id}, organizationName: {org}, state: expired, expirationDateTime: {{ago: 2d}}, lastSyncDateTime: {{ago: 3d}}}}")
    };
    let valid = "{id: 44444444-2222-4333-8444-555555555555, organizationName: Fabrikam, state: valid, expirationDateTime: {in: 100d}, lastSyncDateTime: {ago: 1h}}";
    format!(
        "tenants:\n{}{}{}",
        tenant_block(
            NORTHWIND,
            "Northwind",
            &format!(
                "[{}, {}]",
                expired("11111111-2222-4333-8444-555555555555", "Northwind East"),
                expired("22222222-2222-4333-8444-555555555555", "Northwind West")
            )
        ),
        tenant_block(FABRIKAM, "Fabrikam", &format!("[{valid}]")),
        tenant_block(WOODGROVE, "Woodgrove", "[]"),
    )
}

/// The rows of the fleet table: (tenant id, the row's opening tag).
fn fleet_rows(html: &str) -> Vec<(String, String)> {
    tags_with(table(html, "fleet"), "data-tenant-id")
        .into_iter()
        .map(|(id, tag)| (id, tag.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_that_cannot_sign_in_is_the_most_visible() {
    let dir = TempDir::new("status-sign-in");
    let sim = Simulate::start_with(&dir, &sign_in_scenario());
    std::fs::write(dir.0.join("secret.txt"), "status-test-secret\n").unwrap();
    std::fs::write(dir.0.join("wrong.txt"), "not-the-secret\n").unwrap();
    let tenant = |id: &str, secret: &str| config_text::secret_tenant(id, CLIENT, secret);
    let config = format!(
        "{}tenants:\n{}{}{}",
        config_text::graph(&sim.url),
        tenant(NORTHWIND, "secret.txt"),
        tenant(FABRIKAM, "secret.txt"),
        tenant(WOODGROVE, "wrong.txt"),
    );
    let path = dir.0.join("config.yaml");
    std::fs::write(&path, config).unwrap();
    let exporter = Exporter::start(&["--config.file", path.to_str().unwrap()]);
    exporter.wait_ready().await;
    let get = |path: String| {
        let url = exporter.url(&path);
        async move {
            let html = reqwest::get(&url).await.unwrap().text().await.unwrap();
            check_markup(&url, &html);
            html
        }
    };

    // The sign-in outcome is a series of its own: one per tenant.
    let metrics = exporter.scrape_linted().await;
    let sign_ins: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("intune_exporter_sign_in_up"))
        .collect();
    assert_eq!(
        sign_ins,
        [
            format!("intune_exporter_sign_in_up{{tenant_id=\"{NORTHWIND}\"}} 1"),
            format!("intune_exporter_sign_in_up{{tenant_id=\"{FABRIKAM}\"}} 1"),
            format!("intune_exporter_sign_in_up{{tenant_id=\"{WOODGROVE}\"}} 0"),
        ]
    );

    // Worst first: the tenant that cannot sign in, then the unhealthy one, then the healthy.
    let fleet = get("/".to_string()).await;
    let rows = fleet_rows(&fleet);
    let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, [WOODGROVE, NORTHWIND, FABRIKAM], "{fleet}");
    assert_eq!(attr(&rows[0].1, "data-sign-in"), Some("sign_in_failed"));
    assert_eq!(attr(&rows[1].1, "data-sign-in"), None);
    assert!(fleet.contains("<span class=\"pill unhealthy\">Cannot sign in</span>"));
    // The fleet's badges count connector kinds, and say so.
    assert!(
        fleet.contains("<th>Connector kinds per status</th>"),
        "{fleet}"
    );
    assert!(
        fleet.contains("<span class=\"pill unhealthy\" title=\"1 connector kinds: unhealthy\">1 unhealthy</span>"),
        "{fleet}"
    );
    let filtered = get("/?q=sign_in_failed".to_string()).await;
    let ids: Vec<String> = fleet_rows(&filtered)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, [WOODGROVE]);

    // Its page says why once, and each of its sources points there.
    let page = get(format!("/tenants/{WOODGROVE}")).await;
    assert_eq!(
        page.matches("Invalid client secret provided.").count(),
        1,
        "{page}"
    );
    assert_eq!(
        page.matches("AADSTS7000215").count(),
        2,
        "the code and the message: {page}"
    );
    assert_eq!(
        page.matches("Signing in failed: see <a href=\"#sign-in\">Sign-in</a>.")
            .count(),
        source_count()
    );
    assert!(page.contains(
        "<section id=\"sign-in\" class=\"signin\"><h2>Cannot sign in to this tenant</h2>"
    ));
    assert!(page.contains(&format!("{n} of {n} down", n = source_count())));

    // Northwind's page: the picker names the other tenants (the id where no name is known),
    // and the badges count the connector table's rows.
    let page = get(format!("/tenants/{NORTHWIND}")).await;
    let picker = &page[page
        .find("<details id=\"tenant-picker\"")
        .expect("a picker")..];
    let picker = &picker[..picker.find("</details>").unwrap()];
    let links: Vec<(String, String)> = picker
        .split("<li>")
        .skip(1)
        .map(|li| {
            let href = attr(li, "href").unwrap().to_string();
            let text = &li[li.find('>').unwrap() + 1..li.find("</a>").unwrap()];
            (href, text.to_string())
        })
        .collect();
    assert_eq!(
        links,
        [
            (WOODGROVE.to_string(), WOODGROVE.to_string()),
            (FABRIKAM.to_string(), "Fabrikam".to_string()),
        ]
    );
    let mut per_status: std::collections::BTreeMap<String, usize> = Default::default();
    for id in ["connectors-top", "connectors-rest"] {
        for (_, tag) in tags_with(table(&page, id), "data-connector") {
            *per_status
                .entry(attr(tag, "data-status").unwrap().to_string())
                .or_default() += 1;
        }
    }
    assert_eq!(per_status["unhealthy"], 2, "two expired VPP tokens");
    let section = &page[page.find("<section id=\"connectors\">").unwrap()..];
    let badges = &section[..section.find("</p>").unwrap()];
    let shown: std::collections::BTreeMap<String, usize> = tags_with(badges, "title")
        .into_iter()
        .map(|(title, tag)| {
            let status = attr(tag, "class")
                .unwrap()
                .trim_start_matches("pill ")
                .to_string();
            assert!(title.contains(" connectors: "), "{title}");
            (status, title.split(' ').next().unwrap().parse().unwrap())
        })
        .collect();
    assert_eq!(shown, per_status, "{badges}");
    drop(sim);
}

// ---- cost: status pages never delay /metrics or /-/healthy --------------------------------

/// The exporter reading the demo tenant and `count` tenants generated from it (connector
/// states spread over the four statuses), discovered through a partner tenant, as a service
/// provider runs it.
async fn fleet_exporter(
    count: usize,
    dir: &TempDir,
) -> (intune_graph_simulator::Simulator, Exporter) {
    let scenario = format!(
        "{}fleets:
  - count: {count}
    template: {DEMO_TENANT}
    seed: 3
    partner: {FLEET_PARTNER}
    variants:
      - {{}}
      - v1.0/deviceManagement/applePushNotificationCertificate: {{expirationDateTime: {{in: 20d}}}}
      - v1.0/deviceManagement/applePushNotificationCertificate: {{expirationDateTime: {{ago: 1d}}}}
      - v1.0/deviceManagement/applePushNotificationCertificate: ~
",
        sim::demo_and_partner(FLEET_PARTNER, "    page_size: 300\n")
    );
    let sim = sim::start_yaml(&scenario).await;
    std::fs::write(dir.0.join("ca.pem"), sim.ca_pem()).unwrap();
    std::fs::write(dir.0.join("secret"), format!("{DEMO_SECRET}\n")).unwrap();
    let config = dir.0.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "{}poll:\n  interval: 1h\n  startup_spread: 1s\n{}{}",
            config_text::graph(sim.base_url()),
            config_text::demo_app_defaults(),
            config_text::gdap(FLEET_PARTNER)
        ),
    )
    .unwrap();
    let exporter = Exporter::start(&["--config.file", config.to_str().unwrap()]);
    exporter.wait_ready().await;
    (sim, exporter)
}

/// Sends `GET path` on a new connection and returns the whole answer (status line, headers and
/// body; the connection is closed after it). A hang guard, not a measure: it fails only if no
/// answer comes in two minutes.
async fn raw_get(addr: &str, path: &str, extra: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    };
    tokio::time::timeout(Duration::from_secs(120), exchange)
        .await
        .unwrap_or_else(|_| panic!("no answer to {path}"))
}

/// The number of `intune_connector_type_health` series of each tenant with `status` at 1.
fn kinds_in(metrics: &str, status: &str) -> std::collections::BTreeMap<String, u64> {
    let mut counts = std::collections::BTreeMap::new();
    for line in metrics.lines() {
        let Some(labels) = line.strip_prefix("intune_connector_type_health{") else {
            continue;
        };
        if !line.ends_with("} 1") || !labels.contains(&format!("status=\"{status}\"")) {
            continue;
        }
        let tenant = labels
            .split("tenant_id=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        *counts.entry(tenant.to_string()).or_insert(0) += 1;
    }
    counts
}

async fn fleet_json(client: &reqwest::Client, exporter: &Exporter) -> serde_json::Value {
    let r = client
        .get(exporter.url("/api/v1/tenants"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_page_load_never_delays_health_or_metrics() {
    const TENANTS: usize = 300;
    let dir = TempDir::new("status-load");
    let (sim, exporter) = fleet_exporter(TENANTS, &dir).await;
    let addr = exporter.addr.clone();

    // Eight fleet pages at once, while nothing has been read yet (every row is built), each with
    // a filter that matches nothing; then the health check. It is answered while the pages are
    // still being built, as a rule: they run on the blocking pool, a few at a time, and never
    // occupy the threads that answer /-/healthy. (Before, each page held one of those threads until done,
    // and the health check waited for one of them.)
    let done = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut pages = Vec::new();
    for i in 0..8 {
        let (addr, done) = (addr.clone(), std::sync::Arc::clone(&done));
        pages.push(tokio::spawn(async move {
            let path = if i % 2 == 0 {
                "/?q=matches-nothing"
            } else {
                "/api/v1/tenants?q=matches-nothing"
            };
            let answer = raw_get(&addr, path, "").await;
            assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
            done.lock().unwrap().push(format!("page {i}"));
        }));
    }
    // The pages' requests are on their way (the first is being built) before health asks.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let healthy = raw_get(&addr, "/-/healthy", "").await;
    done.lock().unwrap().push("health".to_string());
    assert!(healthy.starts_with("HTTP/1.1 200 OK\r\n"), "{healthy}");
    assert!(healthy.ends_with("\r\n\r\nHealthy.\n"), "{healthy}");
    for p in pages {
        p.await.unwrap();
    }
    // Which answered first is not asserted: when the cold build finishes within the pause above
    // (a fast machine), pages may rightly come first. What must hold is below, under load.
    assert_eq!(done.lock().unwrap().len(), 9);

    // Then eight clients looping on the status page and API (a bounded number of times each),
    // while /metrics (gzip, as Prometheus asks) and /-/healthy are read in a loop: every answer
    // comes and is whole.
    let client = reqwest::Client::new();
    let reference = fleet_json(&client, &exporter).await;
    let mut loops = Vec::new();
    for i in 0..8 {
        let (client, base) = (client.clone(), exporter.url(""));
        loops.push(tokio::spawn(async move {
            let paths = [
                "/",
                "/api/v1/tenants",
                "/?q=unhealthy",
                "/api/v1/tenants?q=nothing",
            ];
            let mut busy = 0;
            for n in 0..15 {
                let r = client
                    .get(format!("{base}{}", paths[(i + n) % 4]))
                    .send()
                    .await
                    .unwrap();
                match r.status().as_u16() {
                    200 => {}
                    503 => {
                        assert_eq!(r.headers()["retry-after"], "1");
                        busy += 1;
                    }
                    other => panic!("status page answered {other}"),
                }
            }
            busy
        }));
    }
    let gzip_client = reqwest::Client::builder().gzip(true).build().unwrap();
    for _ in 0..5 {
        let r = gzip_client
            .get(exporter.url("/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let metrics = r.text().await.unwrap();
        // Every tenant's series are there.
        assert_eq!(
            metrics
                .lines()
                .filter(|l| l.starts_with("intune_tenant_info{"))
                .count(),
            TENANTS
        );
        let healthy = client.get(exporter.url("/-/healthy")).send().await.unwrap();
        assert_eq!(healthy.status(), 200);
        assert_eq!(healthy.text().await.unwrap(), "Healthy.\n");
    }
    let mut refused = 0;
    for l in loops {
        refused += l.await.unwrap();
    }
    eprintln!("status requests answered 503 under load: {refused} of 120");

    // The table is the same after the load, and says what /metrics says about every tenant.
    let mut after = fleet_json(&client, &exporter).await;
    after["generated_at"] = reference["generated_at"].clone();
    assert_eq!(after, reference);
    let tenants = reference["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), TENANTS);
    let metrics = exporter.scrape_linted().await;
    for status in ["unhealthy", "warning", "healthy", "not_configured"] {
        let from_metrics = kinds_in(&metrics, status);
        for t in tenants {
            let id = t["tenant_id"].as_str().unwrap();
            assert_eq!(
                t["connectors"][status].as_u64().unwrap(),
                from_metrics.get(id).copied().unwrap_or(0),
                "{id} {status}"
            );
        }
    }
    // Worst first: the generated variants put tenants in three statuses.
    let worst: Vec<&str> = tenants
        .iter()
        .map(|t| t["worst_status"].as_str().unwrap())
        .collect();
    let mut sorted = worst.clone();
    sorted.sort_by_key(|s| {
        [
            "unhealthy",
            "warning",
            "unknown",
            "healthy",
            "not_configured",
        ]
        .iter()
        .position(|o| o == s)
    });
    assert_eq!(worst, sorted);
    drop(exporter);
    sim.shutdown().await;
}

// ---- the default Content-Security-Policy ---------------------------------------------------

/// The `sha256-...` source of the page's one inline stylesheet.
fn style_hash(page: &str) -> String {
    use base64::Engine;
    let css = page
        .split("<style>")
        .nth(1)
        .unwrap()
        .split("</style>")
        .next()
        .unwrap();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, css.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

/// What chromium says on its console (CSP violations among it) while loading `url`.
fn chromium_console(browser: &Path, url: &str) -> String {
    let profile = TempDir::new("chromium-console");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.0.display()))
        .arg(url)
        .output()
        .expect("start chromium");
    assert!(out.status.success(), "chromium {url}: {}", out.status);
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_pages_carry_a_strict_csp_that_the_web_config_overrides() {
    let exporter = Exporter::start(&["--demo"]);
    exporter.wait_ready().await;
    let client = reqwest::Client::new();
    let page = client.get(exporter.url("/")).send().await.unwrap();
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = page.text().await.unwrap();
    assert_eq!(
        policy,
        format!(
            "default-src 'none'; style-src {}; form-action 'self'; base-uri 'none'; \
             frame-ancestors 'none'",
            style_hash(&html)
        )
    );
    for path in [
        format!("/tenants/{DEMO_TENANT}"),
        "/tenants/nope".to_string(),
        "/api/v1/tenants".to_string(),
        format!("/api/v1/tenants/{DEMO_TENANT}"),
    ] {
        let r = client.get(exporter.url(&path)).send().await.unwrap();
        assert_eq!(
            r.headers()["content-security-policy"],
            policy.as_str(),
            "{path}"
        );
    }
    // The page works under it: chromium applies the stylesheet and refuses nothing.
    if let Some(browser) = chromium() {
        for path in ["/", &format!("/tenants/{DEMO_TENANT}")] {
            let console = chromium_console(&browser, &exporter.url(path));
            assert!(
                !console.contains("Content Security Policy"),
                "{path}: {console}"
            );
        }
    }
    drop(exporter);

    // An operator's policy from the web config replaces it, on every status page.
    let dir = TempDir::new("status-csp");
    let web = dir.0.join("web.yml");
    std::fs::write(
        &web,
        "http_server_config:\n  headers:\n    Content-Security-Policy: \"default-src 'none'; style-src 'none'\"\n",
    )
    .unwrap();
    let exporter = Exporter::start(&["--demo", "--web.config.file", web.to_str().unwrap()]);
    exporter.wait_ready().await;
    for path in ["/", "/api/v1/tenants"] {
        let r = client.get(exporter.url(path)).send().await.unwrap();
        assert_eq!(
            r.headers()
                .get_all("content-security-policy")
                .iter()
                .collect::<Vec<_>>(),
            ["default-src 'none'; style-src 'none'"],
            "{path}"
        );
    }
    // And chromium enforces that one: the inline stylesheet is refused (which also shows the
    // console check above can see a refusal).
    if let Some(browser) = chromium() {
        let console = chromium_console(&browser, &exporter.url("/"));
        assert!(
            console.contains(
                "Applying inline style violates the following Content Security Policy directive \
                 'style-src 'none''"
            ),
            "{console}"
        );
    }
}
