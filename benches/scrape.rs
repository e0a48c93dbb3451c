//! What one scrape costs as the number of tenants grows, the way `/metrics` works now against
//! the way it worked before, in the same run.
//!
//! - **before**: at every scrape, build every family of every tenant from the snapshots, sort,
//!   encode the text format, gzip the whole body.
//! - **render**: each tenant rendered to text and deflate segments, which the poller does once
//!   per poll (not per scrape); the time for all tenants.
//! - **assemble**: the scrape itself: the body copied together from the renders, after a
//!   change (a new plan: what every scrape costs while tenants publish in between) and with
//!   nothing changed since the last scrape (the cached plan).
//!
//! Each tenant carries the demo scenario's data for every source, decoded by the real decoders.
//! Run with `cargo bench --bench scrape`; figures are recorded in `docs/performance.md`.
//! Timings on shared machines are noisy: compare the ratios of one run.
//!
//! The same data also times the status page's fleet table (`/`): building the view (health
//! evaluated per request, as for a scrape) and rendering its HTML.

use chrono::{DateTime, Utc};
use flate2::{write::GzEncoder, Compression};
use intune_exporter::demo;
use intune_exporter::fleet::Origin;
use intune_exporter::health::Thresholds;
use intune_exporter::metrics::catalog::{SOURCE_LAST_SUCCESS, SOURCE_UP};
use intune_exporter::metrics::{encode, render_tenant, MetricSet, RenderCache, TenantInput};
use intune_exporter::sources::{Context, Horizon, Options, Source, SourceData};
use intune_exporter::state::{Settings, SourceState, State};
use intune_exporter::status;
use intune_graph_simulator::Simulator;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The demo tenant's data for every source, fetched once through the real client.
fn demo_data() -> Vec<(Source, SourceData)> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let (scenario, certificate) = demo::prepare().expect("demo");
        let sim = Simulator::start(scenario.clone(), "127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("simulator");
        let config = demo::config(&sim, &scenario, &certificate).expect("demo config");
        let app = intune_exporter::app::App::build(
            &config,
            "/metrics",
            intune_exporter::fleet::Shard::ALL,
        )
        .expect("app");
        let client = app.client(&config.tenants[0]).expect("client");
        let mut out = Vec::new();
        for source in Source::ALL {
            let data = source.fetch(&client).await.expect("fetch");
            out.push((source, data));
        }
        sim.shutdown().await;
        out
    })
}

fn inputs(tenants: usize, data: &[(Source, SourceData)]) -> Vec<Arc<TenantInput>> {
    let options = Arc::new(Options::default());
    let sources: Vec<(Source, Arc<SourceState>)> = data
        .iter()
        .map(|(source, d)| {
            let state = SourceState {
                data: Some(Arc::new(d.clone())),
                up: true,
                last_success: Some(Utc::now()),
                duration: Some(Duration::from_millis(120)),
                completed_polls: 1,
                ..SourceState::default()
            };
            (*source, Arc::new(state))
        })
        .collect();
    (0..tenants)
        .map(|i| {
            Arc::new(TenantInput {
                tenant_id: format!("00000000-0000-0000-0000-{i:012}"),
                labels: Vec::new(),
                sign_in: Some(true),
                sources: sources.clone(),
                thresholds: Thresholds::default(),
                options: Arc::clone(&options),
            })
        })
        .collect()
}

/// The scrape as it was: every family of every tenant built, sorted and encoded, then gzip.
fn before(inputs: &[Arc<TenantInput>], now: DateTime<Utc>) -> (String, Vec<u8>) {
    let mut set = MetricSet::new();
    for t in inputs {
        let horizon = Horizon::new();
        let ctx = Context {
            tenant_id: &t.tenant_id,
            now,
            thresholds: &t.thresholds,
            options: &t.options,
            horizon: &horizon,
        };
        for (source, s) in &t.sources {
            let labels = [t.tenant_id.as_str(), source.name()];
            set.gauge(&SOURCE_UP, &labels, 1.0);
            if let Some(ts) = s.last_success {
                set.gauge(&SOURCE_LAST_SUCCESS, &labels, ts.timestamp() as f64);
            }
            if let Some(d) = &s.data {
                set.extend(d.families(&ctx));
            }
        }
    }
    let text = encode::text(&set.into_families());
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(text.as_bytes()).expect("gzip");
    let gz = gz.finish().expect("gzip");
    (text, gz)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| f()).collect();
    times.sort();
    times[times.len() / 2]
}

/// CPU time this thread has run, from Linux's schedstat (nanoseconds): on a shared machine it
/// is steadier than wall time, which includes waiting for a core.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// A state with `tenants` copies of the demo tenant, every source polled.
fn state_with(tenants: usize, data: &[(Source, SourceData)]) -> State {
    let state = State::new(Settings::default());
    for i in 0..tenants {
        let tenant = state.upsert_tenant(
            &format!("00000000-0000-0000-0000-{i:012}"),
            Origin::Config,
            Default::default(),
            data.iter().map(|(s, _)| *s),
        );
        for (source, d) in data {
            if let Some(slot) = tenant.slot(*source) {
                slot.publish(SourceState {
                    data: Some(Arc::new(d.clone())),
                    up: true,
                    last_success: Some(Utc::now()),
                    last_poll: Some(Utc::now()),
                    completed_polls: 1,
                    ..SourceState::default()
                });
            }
        }
    }
    state
}

/// The fleet page at 100 and 1,000 tenants: the view alone, then view and HTML.
fn status_page(data: &[(Source, SourceData)]) {
    println!();
    println!(
        "| tenants | fleet HTML bytes | view (wall) | view + HTML (wall) | view + HTML (CPU) |"
    );
    println!("|---:|---:|---:|---:|---:|");
    for tenants in [100usize, 1000] {
        let state = state_with(tenants, data);
        let runs = 20;
        let started = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(status::view::fleet(&state, chrono::Utc::now()));
        }
        let view_each = started.elapsed() / runs;
        let mut html = String::new();
        let cpu_before = thread_cpu();
        let started = Instant::now();
        for _ in 0..runs {
            let fleet = status::view::fleet(&state, chrono::Utc::now());
            html = status::html::fleet(&fleet, tenants, "", "/metrics");
        }
        let page_each = started.elapsed() / runs;
        let cpu_each = cpu_before.zip(thread_cpu()).map_or_else(
            || "n/a".to_string(),
            |(a, b)| format!("{:.2} ms", ((b - a) / runs).as_secs_f64() * 1e3),
        );
        println!(
            "| {tenants} | {} | {:.2} ms | {:.2} ms | {cpu_each} |",
            html.len(),
            view_each.as_secs_f64() * 1e3,
            page_each.as_secs_f64() * 1e3
        );
    }
}

fn main() {
    let data = demo_data();
    let now = Utc::now();
    println!(
        "| tenants | series | text bytes | gzip bytes before | gzip bytes now | before (gzip) | render, all tenants | scrape, gzip, new plan | scrape, gzip, cached plan | scrape, text, new plan | before / scrape |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for tenants in [1usize, 10, 100, 1000] {
        let inputs = inputs(tenants, &data);
        let runs = if tenants >= 1000 { 3 } else { 7 };

        let mut old = (String::new(), Vec::new());
        let before_time = median(runs, || {
            let started = Instant::now();
            let (text, gz) = before(&inputs, now);
            let took = started.elapsed();
            old = (text, gz);
            took
        });

        let cache = RenderCache::new();
        let render_time = median(runs, || {
            let started = Instant::now();
            for input in &inputs {
                cache.publish(render_tenant(Arc::clone(input), now));
            }
            started.elapsed()
        });

        // A publish between two scrapes makes the next scrape plan again.
        let republish = || cache.publish(render_tenant(Arc::clone(&inputs[0]), now));
        let mut gz = bytes::Bytes::new();
        let new_plan = median(runs * 3, || {
            republish();
            let started = Instant::now();
            gz = cache.body(&[], true, now);
            started.elapsed()
        });
        let cached_plan = median(runs * 3, || {
            let started = Instant::now();
            gz = cache.body(&[], true, now);
            started.elapsed()
        });
        let mut text = bytes::Bytes::new();
        let text_new_plan = median(runs * 3, || {
            republish();
            let started = Instant::now();
            text = cache.body(&[], false, now);
            started.elapsed()
        });
        assert_eq!(text, old.0.as_bytes(), "the same exposition both ways");

        let series = text
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty() && l[0] != b'#')
            .count();
        println!(
            "| {tenants} | {series} | {} | {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.0}x |",
            text.len(),
            old.1.len(),
            gz.len(),
            ms(before_time),
            ms(render_time),
            ms(new_plan),
            ms(cached_plan),
            ms(text_new_plan),
            before_time.as_secs_f64() / new_plan.as_secs_f64(),
        );
    }
    status_page(&data);
}
