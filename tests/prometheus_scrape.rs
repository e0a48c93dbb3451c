//! The real Prometheus (Debian's package) scrapes the exporter in `--demo`. Prometheus asks for
//! gzip, which the exporter stitches from pre-compressed pieces: the target must be up with no
//! scrape error, and every sample of the exposition must arrive, the last family included.

#![allow(clippy::unwrap_used)]

mod common;

use common::{free_port, Daemon, Exporter, TempDir};
use serde_json::Value;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The value of an instant query that returns one series, if it does yet.
async fn scalar(client: &reqwest::Client, prom: &str, query: &str) -> Option<String> {
    let r: Value = client
        .get(format!("{prom}/api/v1/query"))
        .query(&[("query", query)])
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let result = r["data"]["result"].as_array()?;
    if result.len() != 1 {
        return None;
    }
    result[0]["value"][1].as_str().map(str::to_string)
}

fn samples(exposition: &str) -> usize {
    exposition.lines().filter(|l| !l.starts_with('#')).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_gzip_output_without_errors() {
    let dir = TempDir::new("prometheus-scrape");
    let exporter = Exporter::start(&["--demo"]);
    exporter.wait_ready().await;

    // What Prometheus should receive: the same samples with and without gzip.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let plain = raw
        .get(exporter.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let gz = raw
        .get(exporter.url("/metrics"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let mut unzipped = String::new();
    flate2::read::MultiGzDecoder::new(&gz.bytes().await.unwrap()[..])
        .read_to_string(&mut unzipped)
        .unwrap();
    assert_eq!(samples(&unzipped), samples(&plain));
    common::assert_promtool_clean(&unzipped, "gzip /metrics");
    let expected = samples(&plain);

    let port = free_port();
    let prom = format!("http://127.0.0.1:{port}");
    std::fs::write(
        dir.0.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n\
             scrape_configs:\n  - job_name: intune-exporter\n    static_configs:\n      - targets: ['{}']\n",
            exporter.addr
        ),
    )
    .unwrap();
    let log = dir.0.join("prometheus.log");
    let _prometheus = Daemon(
        Command::new("prometheus")
            .args([
                format!("--config.file={}", dir.0.join("prometheus.yml").display()),
                format!("--storage.tsdb.path={}", dir.0.join("tsdb").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("prometheus: install Debian's prometheus package (scripts/test does)"),
    );

    let client = reqwest::Client::new();
    let job = "job=\"intune-exporter\"";
    let deadline = Instant::now() + Duration::from_secs(60);
    let scraped = loop {
        let up = scalar(&client, &prom, &format!("up{{{job}}}")).await;
        let count = scalar(&client, &prom, &format!("scrape_samples_scraped{{{job}}}")).await;
        if let (Some(up), Some(count)) = (up, count) {
            assert_eq!(
                up,
                "1",
                "prometheus log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            break count;
        }
        assert!(
            Instant::now() < deadline,
            "no scrape within 60 s; prometheus log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(scraped, expected.to_string());

    let targets: Value = client
        .get(format!("{prom}/api/v1/targets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let target = &targets["data"]["activeTargets"][0];
    assert_eq!(target["health"], "up", "{target}");
    assert_eq!(target["lastError"], "", "{target}");

    // The last rendered family in the body arrived whole: the demo's seven subscription states.
    assert_eq!(
        scalar(
            &client,
            &prom,
            &format!("count(intune_tenant_subscription_state{{{job}}})")
        )
        .await,
        Some("7".to_string())
    );
    assert_eq!(
        scalar(
            &client,
            &prom,
            &format!("count({{{job},__name__!~\"up|scrape_.+\"}})")
        )
        .await,
        Some(expected.to_string())
    );
}
