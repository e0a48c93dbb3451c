//! What one scrape costs as the number of tenants grows: building every family from the
//! snapshots (health evaluated at scrape time), encoding the text format, and gzip.
//!
//! Each tenant carries the demo scenario's data for every source, decoded by the real
//! decoders. Run with `cargo bench --bench scrape`; figures are recorded in
//! `docs/performance.md`. Timings on shared machines are noisy: compare runs on one machine.
//!
//! The same states also time the status page's fleet table (`/`): building the view (health
//! evaluated per request, as for a scrape) and rendering its HTML.

use intune_exporter::config::SourceSettings;
use intune_exporter::demo;
use intune_exporter::health::Thresholds;
use intune_exporter::metrics::collector::{snapshot_families, BuildInfo};
use intune_exporter::metrics::encode;
use intune_exporter::simulator::Simulator;
use intune_exporter::sources::{Options, Source, SourceData};
use intune_exporter::state::{SourceState, State};
use intune_exporter::status;
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
        let app = intune_exporter::app::App::build(&config, "/metrics").expect("app");
        let clients = app.clients();
        let mut out = Vec::new();
        for source in Source::ALL {
            let data = source.fetch(&clients[0]).await.expect("fetch");
            out.push((source, data));
        }
        sim.shutdown().await;
        out
    })
}

fn state_with(tenants: usize, data: &[(Source, SourceData)]) -> State {
    let ids: Vec<String> = (0..tenants)
        .map(|i| format!("00000000-0000-0000-0000-{i:012}"))
        .collect();
    let settings: Vec<SourceSettings> = data
        .iter()
        .map(|(source, _)| SourceSettings {
            source: *source,
            interval: Duration::from_secs(300),
        })
        .collect();
    let state = State::new(&ids, &settings, Thresholds::default(), Options::default());
    for slot in state.slots() {
        let d = data
            .iter()
            .find(|(s, _)| *s == slot.source)
            .map(|(_, d)| d.clone())
            .expect("data for every source");
        slot.publish(SourceState {
            data: Some(Arc::new(d)),
            up: true,
            last_success: Some(chrono::Utc::now()),
            duration: Some(Duration::from_millis(120)),
            completed_polls: 1,
            ..SourceState::default()
        });
    }
    state
}

/// CPU time this thread has run, from Linux's schedstat (nanoseconds): on a shared machine it
/// is steadier than wall time, which includes waiting for a core.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
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
    status_page(&data);
    let build = BuildInfo::current();
    println!("| tenants | series | text bytes | gzip bytes | families+encode | gzip |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for tenants in [1usize, 10, 100, 500] {
        let state = state_with(tenants, &data);
        let runs = (2000 / tenants).clamp(5, 200);
        let mut text = String::new();
        let started = Instant::now();
        for _ in 0..runs {
            let families = snapshot_families(&state, &build, chrono::Utc::now()).into_families();
            text = encode::text(&families);
        }
        let encode_each = started.elapsed() / runs as u32;
        let started = Instant::now();
        let mut gz = Vec::new();
        for _ in 0..runs {
            gz = encode::gzip(text.as_bytes()).expect("gzip");
        }
        let gzip_each = started.elapsed() / runs as u32;
        let series = text.lines().filter(|l| !l.starts_with('#')).count();
        println!(
            "| {tenants} | {series} | {} | {} | {:.2} ms | {:.2} ms |",
            text.len(),
            gz.len(),
            encode_each.as_secs_f64() * 1e3,
            gzip_each.as_secs_f64() * 1e3
        );
    }
}
