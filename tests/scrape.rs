//! `/metrics` assembled from per-tenant renders: exact text against a golden file and against
//! the way the body used to be built (every family at scrape time), gzip that any reader
//! decompresses to the same text, health that moves with the scrape time without a publish,
//! removed tenants, the demo tenant's series budget, and `/-/healthy` answering while large
//! scrapes run.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use intune_exporter::graph::odata::Raw;
use intune_exporter::health::Thresholds;
use intune_exporter::http::Endpoints;
use intune_exporter::metrics::catalog::TENANT_INFO;
use intune_exporter::metrics::collector::BuildInfo;
use intune_exporter::metrics::{
    encode, render_tenant, MetricSet, RenderCache, TenantInput, TenantRender,
};
use intune_exporter::sources::{Context, Horizon, Options, Source, SourceData};
use intune_exporter::state::{Settings, SourceState, State};
use prometheus::proto::MetricFamily;
use prometheus::{IntGauge, Registry};
use serde_json::json;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

const A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const B: &str = "bbbbbbbb-0000-4000-8000-000000000002";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

fn data(source: Source, body: serde_json::Value) -> SourceData {
    let req = source.request();
    source
        .decode(Raw::from_body(req.shape, req.path, body).unwrap())
        .unwrap()
}

fn polled(data: SourceData) -> Arc<SourceState> {
    Arc::new(SourceState {
        data: Some(Arc::new(data)),
        up: true,
        last_success: Some(now() - TimeDelta::minutes(2)),
        duration: Some(Duration::from_millis(300)),
        completed_polls: 1,
        ..SourceState::default()
    })
}

fn organization(name: &str) -> SourceData {
    data(
        Source::Organization,
        json!({"value": [{"displayName": name, "countryLetterCode": "NL", "mobileDeviceManagementAuthority": "intune"}]}),
    )
}

/// Tenant A: operator labels; an Apple push certificate that turns `warning` at 13:00 (seven
/// days before it expires); a Message center post that ends at 12:30 and one without end.
fn tenant_a() -> Arc<TenantInput> {
    let apns = data(
        Source::Apns,
        json!({"id": "apns-1", "appleIdentifier": "mdm@contoso.com", "expirationDateTime": "2026-12-02T13:00:00Z"}),
    );
    let messages = data(
        Source::Messages,
        json!({"value": [
            {"id": "MC100", "title": "Ends at half past", "services": ["Microsoft Intune"], "category": "stayInformed",
             "severity": "normal", "endDateTime": "2026-11-25T12:30:00Z", "lastModifiedDateTime": "2026-11-20T00:00:00Z"},
            {"id": "MC200", "title": "Plan for \"change\"", "services": ["Microsoft Intune"], "category": "planForChange",
             "severity": "high", "isMajorChange": true, "lastModifiedDateTime": "2026-11-21T00:00:00Z",
             "actionRequiredByDateTime": "2027-01-31T00:00:00Z"}
        ]}),
    );
    Arc::new(TenantInput {
        tenant_id: A.to_string(),
        labels: vec![
            ("customer".to_string(), "acme".to_string()),
            ("psa_id".to_string(), "1234".to_string()),
        ],
        sign_in: Some(true),
        sources: vec![
            (Source::Organization, polled(organization("Contoso"))),
            (Source::Apns, polled(apns)),
            (Source::Messages, polled(messages)),
        ],
        thresholds: Thresholds::default(),
        options: Arc::new(Options::default()),
    })
}

/// Tenant B: an expired VPP token, an Apple push certificate source whose polls failed from
/// the start, and a source not polled yet.
fn tenant_b() -> Arc<TenantInput> {
    let vpp = data(
        Source::VppTokens,
        json!({"value": [{"id": "vpp-1", "organizationName": "Fabrikam", "state": "expired",
            "expirationDateTime": "2026-11-01T00:00:00Z", "lastSyncDateTime": "2026-10-31T00:00:00Z"}]}),
    );
    let failed = Arc::new(SourceState {
        data: None,
        up: false,
        last_success: None,
        duration: Some(Duration::from_secs(30)),
        completed_polls: 3,
        ..SourceState::default()
    });
    Arc::new(TenantInput {
        tenant_id: B.to_string(),
        labels: Vec::new(),
        sign_in: Some(true),
        sources: vec![
            (Source::Organization, polled(organization("Fabrikam"))),
            (Source::VppTokens, polled(vpp)),
            (Source::Apns, failed),
            (Source::Messages, Arc::new(SourceState::default())),
        ],
        thresholds: Thresholds::default(),
        options: Arc::new(Options::default()),
    })
}

/// Families encoded per scrape: build info, and one that sorts after every rendered family.
fn globals() -> Vec<MetricFamily> {
    let registry = Registry::new();
    BuildInfo {
        version: "1.2.3",
        revision: "abcdef",
        rustc_version: "1.95.0",
    }
    .register(&registry)
    .unwrap();
    let fds = IntGauge::new(
        "process_max_fds",
        "Maximum number of open file descriptors.",
    )
    .unwrap();
    fds.set(1024);
    registry.register(Box::new(fds)).unwrap();
    registry.gather()
}

/// The body as it was built before renders existed: every family of every tenant at once.
fn built_at_once(
    inputs: &[Arc<TenantInput>],
    globals: &[MetricFamily],
    at: DateTime<Utc>,
) -> String {
    use intune_exporter::metrics::catalog::{SIGN_IN_UP, SOURCE_LAST_SUCCESS, SOURCE_UP};
    let mut all = MetricSet::new();
    for t in inputs {
        let horizon = Horizon::new();
        let ctx = Context {
            tenant_id: &t.tenant_id,
            now: at,
            thresholds: &t.thresholds,
            options: &t.options,
            horizon: &horizon,
        };
        let mut set = MetricSet::new();
        if let Some(up) = t.sign_in {
            set.gauge(&SIGN_IN_UP, &[&t.tenant_id], if up { 1.0 } else { 0.0 });
        }
        for (source, s) in t.sources.iter().filter(|(_, s)| s.completed_polls > 0) {
            let labels = [t.tenant_id.as_str(), source.name()];
            set.gauge(&SOURCE_UP, &labels, if s.up { 1.0 } else { 0.0 });
            if let Some(ts) = s.last_success {
                set.gauge(&SOURCE_LAST_SUCCESS, &labels, ts.timestamp() as f64);
            }
            if let Some(d) = &s.data {
                set.extend(d.families(&ctx));
            }
        }
        set.append_labels(&TENANT_INFO, &t.labels);
        all.extend(set);
    }
    let mut families = all.into_families();
    families.extend(globals.iter().cloned());
    families.sort_by(|a, b| a.name().cmp(b.name()));
    encode::text(&families)
}

fn cache_with(inputs: &[Arc<TenantInput>], at: DateTime<Utc>) -> RenderCache {
    let cache = RenderCache::new();
    // Published in reverse: the body sorts tenants itself.
    for input in inputs.iter().rev() {
        cache.publish(render_tenant(Arc::clone(input), at));
    }
    cache
}

fn text(cache: &RenderCache, at: DateTime<Utc>) -> String {
    String::from_utf8(cache.body(&globals(), false, at).to_vec()).unwrap()
}

#[test]
fn two_tenants_render_and_assemble_exactly() {
    let inputs = [tenant_a(), tenant_b()];
    let cache = cache_with(&inputs, now());
    let body = text(&cache, now());
    common::assert_golden("tests/golden/scrape/two_tenants.prom", &body);
    common::assert_promtool_clean(&body, "two tenants");
    assert_eq!(body, built_at_once(&inputs, &globals(), now()));

    let a = render_tenant(tenant_a(), now());
    assert_eq!(
        a.valid_until(),
        Some(Utc.with_ymd_and_hms(2026, 11, 25, 12, 30, 0).unwrap()),
        "the post ends before the certificate turns warning"
    );
    assert_eq!(render_tenant(tenant_b(), now()).valid_until(), None);
    assert_eq!(
        a.series_per_family(),
        [
            ("intune_connector_expiry_timestamp_seconds", 1),
            ("intune_connector_health", 3),
            ("intune_connector_info", 1),
            ("intune_connector_type_health", 4),
            ("intune_exporter_sign_in_up", 1),
            ("intune_exporter_source_last_success_timestamp_seconds", 3),
            ("intune_exporter_source_up", 3),
            ("intune_message_center_action_required_timestamp_seconds", 1),
            ("intune_message_center_message_info", 2),
            (
                "intune_message_center_message_last_modified_timestamp_seconds",
                2
            ),
            ("intune_message_center_messages_active", 9),
            ("intune_tenant_info", 1),
        ]
    );
}

#[test]
fn gzip_decompresses_to_exactly_the_text() {
    let cache = cache_with(&[tenant_a(), tenant_b()], now());
    let plain = cache.body(&globals(), false, now());
    let gz = cache.body(&globals(), true, now());
    let mut multi = Vec::new();
    flate2::read::MultiGzDecoder::new(&gz[..])
        .read_to_end(&mut multi)
        .unwrap();
    assert_eq!(multi, plain);
    // One member: a reader that stops after the first member reads it all too.
    let mut single = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut single)
        .unwrap();
    assert_eq!(single, plain);
    // Without tenants, and without anything at all.
    let empty = RenderCache::new();
    let mut only_globals = String::new();
    flate2::read::GzDecoder::new(&empty.body(&globals(), true, now())[..])
        .read_to_string(&mut only_globals)
        .unwrap();
    assert_eq!(
        only_globals.as_bytes(),
        empty.body(&globals(), false, now())
    );
    assert_eq!(only_globals, encode::text(&globals()));
    let mut nothing = Vec::new();
    flate2::read::GzDecoder::new(&empty.body(&[], true, now())[..])
        .read_to_end(&mut nothing)
        .unwrap();
    assert_eq!(nothing, b"");
}

fn apns_status(body: &str) -> Vec<String> {
    common::current_health(body, &["apns"])
}

#[test]
fn health_and_posts_move_with_the_scrape_time_without_a_publish() {
    let cache = cache_with(&[tenant_a()], now());
    let rendered = cache.renders();
    let at = |minutes: i64| now() + TimeDelta::minutes(minutes);

    let first = text(&cache, at(0));
    assert_eq!(apns_status(&first), ["healthy"]);
    assert!(first.contains("message_id=\"MC100\""));

    // Nothing due yet: the same render serves.
    let early = text(&cache, at(20));
    assert_eq!(early, first);
    assert!(Arc::ptr_eq(&cache.renders()[0], &rendered[0]));

    // The post has ended: rendered again at the scrape, not by a publish.
    let later = text(&cache, at(45));
    assert!(!later.contains("MC100"), "{later}");
    assert_eq!(apns_status(&later), ["healthy"]);
    let again = cache.renders();
    assert!(!Arc::ptr_eq(&again[0], &rendered[0]));
    assert_eq!(again[0].rendered_at(), at(45));
    assert_eq!(again[0].valid_until(), Some(at(60)));

    // Seven days before expiry the certificate needs attention.
    assert_eq!(apns_status(&text(&cache, at(59))), ["healthy"]);
    let warned = text(&cache, at(60));
    assert_eq!(apns_status(&warned), ["warning"]);
    assert_eq!(warned, built_at_once(&[tenant_a()], &globals(), at(60)));
    assert!(warned.contains(
        "intune_connector_type_health{tenant_id=\"aaaaaaaa-0000-4000-8000-000000000001\",connector=\"apns\",status=\"warning\"} 1\n"
    ));
    // And it is unhealthy from the instant it expires, seven days on.
    let expired = now() + TimeDelta::days(7) + TimeDelta::hours(1);
    assert_eq!(apns_status(&text(&cache, expired)), ["unhealthy"]);
    assert_eq!(cache.renders()[0].valid_until(), None);
}

#[test]
fn a_newer_publish_wins_over_a_stale_render() {
    let cache = cache_with(&[tenant_a()], now());
    // Published after the scrape's view went stale: the scrape must not put the old input back.
    let newer = TenantInput {
        labels: vec![("customer".to_string(), "renamed".to_string())],
        ..(*tenant_a()).clone()
    };
    cache.publish(render_tenant(Arc::new(newer), now()));
    let body = text(&cache, now() + TimeDelta::hours(2));
    assert!(body.contains("customer=\"renamed\""), "{body}");
    assert_eq!(apns_status(&body), ["warning"]);
}

#[test]
fn removing_a_tenant_removes_its_series() {
    let cache = cache_with(&[tenant_a(), tenant_b()], now());
    assert!(text(&cache, now()).contains(B));
    cache.remove(B);
    cache.remove("never-published");
    let body = text(&cache, now());
    assert!(!body.contains(B), "{body}");
    assert_eq!(body, built_at_once(&[tenant_a()], &globals(), now()));
    cache.remove(A);
    assert_eq!(text(&cache, now()), encode::text(&globals()));
}

/// The demo tenant's data for every source, through the real client and simulator.
async fn demo_tenant() -> Arc<TenantInput> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let (scenario, certificate) = intune_exporter::demo::prepare().unwrap();
    let sim =
        intune_graph_simulator::Simulator::start(scenario.clone(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let config = intune_exporter::demo::config(&sim, &scenario, &certificate).unwrap();
    let app =
        intune_exporter::app::App::build(&config, "/metrics", intune_exporter::fleet::Shard::ALL)
            .unwrap();
    let client = &app.client(&config.tenants[0]).unwrap();
    let mut sources = Vec::new();
    for source in Source::ALL {
        sources.push((source, polled(source.fetch(client).await.unwrap())));
    }
    sim.shutdown().await;
    Arc::new(TenantInput {
        tenant_id: client.tenant_id().to_string(),
        labels: vec![("customer".to_string(), "demo".to_string())],
        sign_in: Some(true),
        sources,
        thresholds: config.health,
        options: Arc::new(config.options.clone()),
    })
}

/// What a tenant costs in series, with every source polled: its data and its `up` and
/// last-success series. The exporter's other families are not per tenant. Raised from 300
/// for the sources beyond the Tenant status page and every post's act-by date
/// (docs/performance.md, "Series per tenant").
const SERIES_BUDGET_PER_TENANT: usize = 375;

#[tokio::test]
async fn the_demo_tenant_stays_within_the_series_budget() {
    let render = render_tenant(demo_tenant().await, Utc::now());
    let per_family = render.series_per_family();
    let mut table = String::from("| Family | Series |\n|---|---:|\n");
    for (family, n) in &per_family {
        table.push_str(&format!("| `{family}` | {n} |\n"));
    }
    table.push_str(&format!("| all | {} |\n", render.series()));
    println!("{table}");
    assert!(
        render.series() <= SERIES_BUDGET_PER_TENANT,
        "the demo tenant costs {} series, over the budget of {SERIES_BUDGET_PER_TENANT}:\n{table}",
        render.series()
    );
}

/// `n` demo-like tenants rendered, for the load test.
fn fleet(n: usize, template: &Arc<TenantInput>) -> Vec<TenantRender> {
    (0..n)
        .map(|i| {
            let input = TenantInput {
                tenant_id: format!("00000000-0000-4000-8000-{i:012}"),
                ..(**template).clone()
            };
            render_tenant(Arc::new(input), Utc::now())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_answers_while_several_clients_scrape_a_large_fleet() {
    const TENANTS: usize = 100;
    let template = demo_tenant().await;
    let renders = Arc::new(RenderCache::new());
    for r in fleet(TENANTS, &template) {
        renders.publish(r);
    }
    let endpoints = Arc::new(Endpoints {
        registry: Registry::new(),
        renders: Arc::clone(&renders),
        state: Arc::new(State::new(Settings::default())),
        telemetry_path: "/metrics".to_string(),
        lifecycle: std::sync::OnceLock::new(),
        status: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(intune_exporter::web::serve(
        vec![listener],
        Arc::new(intune_exporter::web::WebConfigFile::load(None).unwrap()),
        endpoints,
        intune_exporter::web::Limits::default(),
        shutdown.clone(),
    ));

    // A poller keeps publishing, so that scrapes keep assembling anew.
    let publishing = {
        let renders = Arc::clone(&renders);
        let template = Arc::clone(&template);
        let shutdown = shutdown.clone();
        tokio::task::spawn_blocking(move || {
            let mut i = 0;
            while !shutdown.is_cancelled() {
                for r in fleet(1, &template) {
                    renders.publish(r);
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            i
        })
    };

    let client = reqwest::Client::builder()
        .no_gzip()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let scrapers: Vec<_> = (0..3)
        .map(|_| {
            let client = client.clone();
            let url = format!("{base}/metrics");
            tokio::spawn(async move {
                let mut series = Vec::new();
                for _ in 0..2 {
                    let gz = client
                        .get(&url)
                        .header("Accept-Encoding", "gzip")
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                        .unwrap();
                    // Off the runtime's two workers, which the server shares with this test.
                    let count = tokio::task::spawn_blocking(move || {
                        let mut text = String::new();
                        flate2::read::GzDecoder::new(&gz[..])
                            .read_to_string(&mut text)
                            .unwrap();
                        text.lines().filter(|l| !l.starts_with('#')).count()
                    });
                    series.push(count.await.unwrap());
                }
                series
            })
        })
        .collect();

    let health = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut answered = 0;
    let mut slowest = Duration::ZERO;
    while scrapers.iter().any(|s| !s.is_finished()) {
        let started = std::time::Instant::now();
        let r = health
            .get(format!("{base}/-/healthy"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "Healthy.\n");
        slowest = slowest.max(started.elapsed());
        answered += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let per_tenant = render_tenant(Arc::clone(&template), Utc::now()).series();
    for s in scrapers {
        for series in s.await.unwrap() {
            assert_eq!(series, TENANTS * per_tenant);
        }
    }
    shutdown.cancel();
    let published = publishing.await.unwrap();
    server.await.unwrap();
    println!(
        "/-/healthy answered {answered} times during 6 scrapes of {TENANTS} tenants ({published} publishes); slowest {slowest:?}"
    );
}
