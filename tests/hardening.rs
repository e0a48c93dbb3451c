//! Hostile answers from Graph and the login authority, through the real binary against the
//! simulator: each one fails only the (tenant, source) it hit, with `up` 0 and one clear log
//! line, and never a panic, a leaked credential or a request to another host.
//!
//! - An absurd `Retry-After` (`1e20`, `18446744073709551616`, `1e308`) on a 200 is clamped; the
//!   sources stay up and `/-/ready` answers 200.
//! - A token endpoint redirecting (307/308) to another host: that host receives not one byte
//!   (no secret, no signed assertion); a Graph GET redirected (in a batch answer or alone), a
//!   batch redirected, or an `@odata.nextLink` to another host, is refused the same way.
//! - A token endpoint or proxy echoing the request body: no log line, at debug level, shows the
//!   secret or the assertion.
//! - Bounded inputs: `graph.max_response_bytes`, `graph.max_pages`, an `@odata.nextLink` loop,
//!   and a gzip bomb (1 GiB inflated from about 1 MiB) refused with the exporter's peak RSS
//!   bounded, whether they come in a `$batch` answer or in the single GETs that follow a failed
//!   batch. Measured on the development machine (debug build, default 64 MiB limit): peak RSS
//!   (VmHWM) 89 MiB with the bomb, against 2.9 GB before the limit existed.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Exporter, TempDir};
use intune_exporter::demo;
use intune_exporter::simulator::{Scenario, Simulator};
use intune_exporter::sources::Source;
use std::sync::{Arc, Mutex};

const SECRET_LINE: &str = "    client_secret: demo-secret-not-for-production\n";
const DEMO_TENANT: &str = "4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21";
const CLIENT: &str = "9a3e5b1f-6c2d-4e8a-b7f0-1d2c3e4f5a6b";
/// With a `/`, which JSON writers may escape as `\/`.
const SECRET: &str = "hardening-secret/Vb8~q2";
const APNS: &str = "v1.0/deviceManagement/applePushNotificationCertificate";
const VPP: &str = "v1.0/deviceAppManagement/vppTokens";

/// A tenant id for the `i`th tenant of a test scenario.
fn tenant(i: usize) -> String {
    format!("30000000-0000-4000-8000-{i:012}")
}

/// How one simulated tenant signs in, and what goes wrong for it.
struct TenantSpec {
    /// `secret` or `certificate`.
    certificate: bool,
    /// Extra scenario lines at tenant level (`faults:`, `page_size:`), indented four spaces.
    extra: String,
}

fn secret_tenant(extra: &str) -> TenantSpec {
    TenantSpec {
        certificate: false,
        extra: extra.to_string(),
    }
}

/// A fault script for one path: `(path, [faults])`, as scenario lines.
fn faults(scripts: &[(&str, &str)]) -> String {
    let mut out = String::from("    faults:\n");
    for (path, sequence) in scripts {
        out.push_str(&format!(
            "      - path: {path}\n        sequence: [{sequence}]\n"
        ));
    }
    out
}

/// A running simulator and a config dir for the exporter, every tenant reading only `sources`.
struct Setup {
    sim: Simulator,
    /// Holds the config files until the test ends.
    _dir: TempDir,
    config: String,
    /// The certificate's private key, PEM: must never be logged either.
    key_pem: String,
}

async fn setup(tenants: &[TenantSpec], sources: &[Source], graph_extra: &str) -> Setup {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["intune-exporter-hardening".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let block = &demo::SCENARIO[demo::SCENARIO.find("  - tenant_id:").unwrap()..];
    let mut scenario = String::from("tenants:\n");
    let mut config_tenants = String::new();
    for (i, spec) in tenants.iter().enumerate() {
        let id = tenant(i);
        let credential = if spec.certificate {
            let pem: String = cert.pem().lines().map(|l| format!("      {l}\n")).collect();
            format!("    certificate: |\n{pem}")
        } else {
            format!("    client_secret: {SECRET}\n")
        };
        let lines = format!("{credential}{}", spec.extra);
        scenario.push_str(
            &block
                .replacen(DEMO_TENANT, &id, 1)
                .replacen(SECRET_LINE, &lines, 1),
        );
        let auth = if spec.certificate {
            "certificate_file: app.pem"
        } else {
            "client_secret_file: secret"
        };
        config_tenants.push_str(&format!(
            "  - tenant_id: {id}\n    auth:\n      client_id: {CLIENT}\n      {auth}\n"
        ));
    }
    let sim = Simulator::start(
        Scenario::from_yaml(&scenario).unwrap(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let dir = TempDir::new("hardening");
    std::fs::write(dir.0.join("ca.pem"), sim.ca_pem()).unwrap();
    std::fs::write(dir.0.join("secret"), format!("{SECRET}\n")).unwrap();
    std::fs::write(
        dir.0.join("app.pem"),
        format!("{}{}", cert.pem(), key.serialize_pem()),
    )
    .unwrap();
    let mut enabled = String::from("sources:\n");
    for s in Source::ALL {
        if !sources.contains(&s) {
            enabled.push_str(&format!("  {}: {{enabled: false}}\n", s.name()));
        } else if !s.enabled_by_default() {
            enabled.push_str(&format!("  {}: {{enabled: true}}\n", s.name()));
        }
    }
    let config = format!(
        "graph:\n  graph_url: {url}\n  authority_host: {url}\n  ca_file: ca.pem\n{graph_extra}{enabled}tenants:\n{config_tenants}",
        url = sim.base_url()
    );
    let path = dir.0.join("config.yaml");
    std::fs::write(&path, config).unwrap();
    Setup {
        sim,
        config: path.to_string_lossy().into_owned(),
        _dir: dir,
        key_pem: key.serialize_pem(),
    }
}

/// Every `intune_exporter_source_up` series, as `(tenant index, source, value)`, sorted.
fn up_series(text: &str, tenants: usize) -> Vec<(usize, String, u8)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("intune_exporter_source_up{") else {
            continue;
        };
        let ix = (0..tenants)
            .find(|i| rest.contains(&format!("tenant_id=\"{}\"", tenant(*i))))
            .unwrap();
        let source = rest.split("source=\"").nth(1).unwrap();
        let source = source.split('"').next().unwrap().to_string();
        let value = if line.ends_with(" 1") { 1 } else { 0 };
        out.push((ix, source, value));
    }
    out.sort();
    out
}

/// A loopback TCP listener that records every connection and byte it receives, and answers
/// nothing: what a host a redirect or link points to would get.
async fn recorder() -> (String, Arc<Mutex<Vec<u8>>>, Arc<Mutex<usize>>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(Mutex::new(0));
    let (b, c) = (Arc::clone(&bytes), Arc::clone(&connections));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            *c.lock().unwrap() += 1;
            let b = Arc::clone(&b);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    b.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
    });
    (url, bytes, connections)
}

/// An expected `up` series: (tenant index, source, value).
fn up(ix: usize, source: &str, value: u8) -> (usize, String, u8) {
    (ix, source.to_string(), value)
}

/// Starts the exporter on `setup` with `args`, waits until it is ready, and returns its `up`
/// series and, once it stopped, its log.
async fn run(setup: &Setup, tenants: usize, args: &[&str]) -> (Vec<(usize, String, u8)>, String) {
    let mut all = vec!["--config.file", setup.config.as_str()];
    all.extend_from_slice(args);
    let mut exporter = Exporter::start(&all);
    exporter.wait_ready().await;
    let up = up_series(&scrape(&exporter).await, tenants);
    assert!(exporter.terminate().success());
    (up, exporter.log())
}

async fn scrape(exporter: &Exporter) -> String {
    reqwest::get(exporter.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The log lines that say a poll failed, for one tenant and source.
/// A refused sign-in fails every source of the tenant the same way: it is logged once per
/// tenant poll, without a source.
fn sign_in_failures(log: &str, tenant_ix: usize) -> Vec<&str> {
    let id = tenant(tenant_ix);
    log.lines()
        .filter(|l| l.contains("poll failed: signing in to the tenant failed"))
        .filter(|l| l.contains(&id))
        .collect()
}

/// A tenant's Graph requests as the simulator saw them, in arrival order:
/// `POST /v1.0/$batch 200`, `  GET /v1.0/x 200` (indented) for an item of a batch, `GET /v1.0/x
/// 200` for a single request. Requests answered at once (the items of a batch, the single GETs
/// after a failed batch) come in no fixed order, so each run of them is sorted.
fn graph_requests(sim: &Simulator, tenant_ix: usize) -> Vec<String> {
    let id = tenant(tenant_ix);
    let lines: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.tenant_id.as_deref() == Some(id.as_str()))
        .filter(|r| r.path.starts_with("/v1.0/") || r.path.starts_with("/beta/"))
        .map(|r| {
            let indent = if r.in_batch { "  " } else { "" };
            format!("{indent}{} {} {}", r.method, r.path, r.status)
        })
        .collect();
    lines
        .chunk_by(|a, b| a.get(..4) == b.get(..4))
        .flat_map(|run| {
            let mut run = run.to_vec();
            run.sort();
            run
        })
        .collect()
}

fn failures<'a>(log: &'a str, tenant_ix: usize, source: &str) -> Vec<&'a str> {
    let id = tenant(tenant_ix);
    log.lines()
        .filter(|l| l.contains("poll failed"))
        .filter(|l| l.contains(&id) && l.contains(&format!("source={source}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absurd_retry_after_on_a_200_keeps_every_source_polling_and_ready() {
    let scripts = faults(&[
        (APNS, "{headers: {Retry-After: \"1e20\"}}"),
        (VPP, "{headers: {Retry-After: \"18446744073709551616\"}}"),
        (
            "v1.0/deviceManagement",
            "{headers: {Retry-After: \"1e308\"}}",
        ),
    ]);
    let setup = setup(
        &[secret_tenant(&scripts)],
        &[Source::Apns, Source::VppTokens, Source::DeviceManagement],
        "",
    )
    .await;
    let (up_now, log) = run(&setup, 1, &[]).await;
    assert_eq!(
        up_now,
        [
            up(0, "apns", 1),
            up(0, "device_management", 1),
            up(0, "vpp_tokens", 1)
        ]
    );
    // The three answers really carried the header, as items of one batch (the poll's only
    // round trip): nothing was retried or held back.
    let served = graph_requests(&setup.sim, 0);
    assert_eq!(
        served,
        [
            "POST /v1.0/$batch 200".to_string(),
            format!("  GET /{VPP} 200"),
            "  GET /v1.0/deviceManagement 200".to_string(),
            format!("  GET /{APNS} 200"),
        ]
    );
    assert!(!log.contains("panicked"), "{log}");
    setup.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_and_foreign_links_reach_no_other_host() {
    let (elsewhere, received, connections) = recorder().await;
    let token_redirect = |status: u16| {
        faults(&[(
            "token",
            &vec![
                format!(
                    "{{redirect: \"{elsewhere}/{}/oauth2/v2.0/token\", status: {status}}}",
                    "x"
                );
                4
            ]
            .join(", "),
        )])
    };
    // Graph redirects one source and links another elsewhere; `batch_too`: it redirects the
    // JSON batch as well, so both meet the single GETs that follow.
    let graph = |batch_too: bool| {
        let apns = format!("{{redirect: \"{elsewhere}/{APNS}\"}}");
        let vpp = format!("{{next_link: \"{elsewhere}/{VPP}?$skiptoken=x\"}}");
        let batch = format!("{{redirect: \"{elsewhere}/v1.0/$batch\"}}");
        let mut scripts = vec![(APNS, apns.as_str()), (VPP, vpp.as_str())];
        if batch_too {
            scripts.push(("v1.0/$batch", batch.as_str()));
        }
        faults(&scripts)
    };
    let tenants = [
        // 0: the secret's sign-in is redirected with 307.
        secret_tenant(&token_redirect(307)),
        // 1: the signed assertion's sign-in is redirected with 308.
        TenantSpec {
            certificate: true,
            extra: token_redirect(308),
        },
        // 2: Graph redirects one source and links another elsewhere, in a batch answer.
        secret_tenant(&graph(false)),
        // 3: undisturbed.
        secret_tenant(""),
        // 4: the same as 2, the batch itself redirected first.
        secret_tenant(&graph(true)),
    ];
    let setup = setup(&tenants, &[Source::Apns, Source::VppTokens], "").await;
    let (up_now, log) = run(&setup, 5, &["--log.level", "debug"]).await;
    assert_eq!(
        up_now,
        [
            up(0, "apns", 0),
            up(0, "vpp_tokens", 0),
            up(1, "apns", 0),
            up(1, "vpp_tokens", 0),
            up(2, "apns", 0),
            up(2, "vpp_tokens", 0),
            up(3, "apns", 1),
            up(3, "vpp_tokens", 1),
            up(4, "apns", 0),
            up(4, "vpp_tokens", 0),
        ]
    );

    assert_eq!(
        *connections.lock().unwrap(),
        0,
        "another host was contacted"
    );
    assert_eq!(received.lock().unwrap().len(), 0);

    for (ix, status) in [(0, 307), (1, 308)] {
        let lines = sign_in_failures(&log, ix);
        assert_eq!(lines.len(), 1, "{log}");
        assert!(
            lines[0].contains(&format!("the login authority answered HTTP {status} with a redirect to {elsewhere}/x/oauth2/v2.0/token, not followed: sign-in requests are never re-sent to another URL (check graph.authority_host)")),
            "{}",
            lines[0]
        );
    }
    for ix in [2, 4] {
        let apns = failures(&log, ix, "apns");
        assert_eq!(apns.len(), 1, "{log}");
        assert!(
            apns[0].contains(&format!("GET {APNS}: HTTP 307 Temporary Redirect: a redirect to {elsewhere}/{APNS}, not followed: the exporter reads only the configured graph_url (request-id: ")),
            "{}",
            apns[0]
        );
        let vpp = failures(&log, ix, "vpp_tokens");
        assert_eq!(vpp.len(), 1, "{log}");
        assert!(
            vpp[0].contains(&format!(
                "GET {VPP}: @odata.nextLink leaves the Graph root ({elsewhere}/{VPP}?$skiptoken=x)"
            )),
            "{}",
            vpp[0]
        );
    }
    // Tenant 2's hostile answers came as items of its batch; tenant 4's batch was answered with
    // a redirect, not followed, and its requests then went singly, each refused as in a batch.
    let served = graph_requests(&setup.sim, 2);
    assert_eq!(
        served,
        [
            "POST /v1.0/$batch 200".to_string(),
            format!("  GET /{VPP} 200"),
            format!("  GET /{APNS} 307"),
        ]
    );
    let served = graph_requests(&setup.sim, 4);
    assert_eq!(
        served,
        [
            "POST /v1.0/$batch 307".to_string(),
            format!("GET /{VPP} 200"),
            format!("GET /{APNS} 307"),
        ]
    );
    for forbidden in [SECRET, setup.key_pem.as_str()] {
        assert!(!log.contains(forbidden));
    }
    setup.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_echoing_the_sign_in_request_never_puts_a_credential_in_the_log() {
    let echo = faults(&[("token", "{echo: true}, {echo: true, status: 502}")]);
    let tenants = [
        secret_tenant(&echo),
        TenantSpec {
            certificate: true,
            extra: echo.clone(),
        },
    ];
    let setup = setup(&tenants, &[Source::Apns], "").await;
    let (up_now, log) = run(&setup, 2, &["--log.level", "debug"]).await;
    assert_eq!(up_now, [up(0, "apns", 0), up(1, "apns", 0)]);
    let secret_line = sign_in_failures(&log, 0);
    assert_eq!(secret_line.len(), 1, "{log}");
    // The echo is shown (it is what the operator needs to see), its credential is not.
    assert!(
        secret_line[0].contains(&format!(
            "the login authority answered HTTP 400: client_id={CLIENT}&client_secret=***&"
        )),
        "{}",
        secret_line[0]
    );
    let assertion_line = sign_in_failures(&log, 1);
    assert_eq!(assertion_line.len(), 1, "{log}");
    assert!(
        assertion_line[0].contains("client_assertion=***"),
        "{}",
        assertion_line[0]
    );
    let assertions = setup.sim.received_assertions();
    // The echo fault answers before the simulator looks at the assertion, so it records none;
    // the signed assertion is recognisable by its JWT header instead.
    assert_eq!(assertions, Vec::<String>::new());
    for forbidden in [SECRET, "client_secret=h", "client_assertion=eyJ"] {
        assert!(!log.contains(forbidden), "{forbidden}: {log}");
    }
    setup.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_answers_page_limits_and_link_loops_fail_only_their_source() {
    // An item above the limit makes the whole batch answer too large: the batch fails and its
    // items are fetched singly, so a size fault is scripted twice to meet the single GET too.
    let tenants = [
        // 0: an answer above the limit.
        secret_tenant(&faults(&[(
            APNS,
            "{oversized: 1048577}, {oversized: 1048577}",
        )])),
        // 1: three pages of one VPP token each, above graph.max_pages.
        secret_tenant("    page_size: 1\n"),
        // 2: an answer exactly at the limit is read (alone: in a batch it is above it).
        secret_tenant(&faults(&[(
            "v1.0/deviceManagement",
            "{oversized: 1048576}, {oversized: 1048576}",
        )])),
        // 3: a page that links to itself, in a batch answer.
        secret_tenant(&faults(&[(VPP, "{next_link: self}")])),
    ];
    let setup = setup(
        &tenants,
        &[Source::Apns, Source::VppTokens, Source::DeviceManagement],
        "  max_response_bytes: 1048576\n  max_pages: 2\n",
    )
    .await;
    let (up_now, log) = run(&setup, 4, &[]).await;
    assert_eq!(
        up_now,
        [
            up(0, "apns", 0),
            up(0, "device_management", 1),
            up(0, "vpp_tokens", 1),
            up(1, "apns", 1),
            up(1, "device_management", 1),
            up(1, "vpp_tokens", 0),
            up(2, "apns", 1),
            up(2, "device_management", 1),
            up(2, "vpp_tokens", 1),
            up(3, "apns", 1),
            up(3, "device_management", 1),
            up(3, "vpp_tokens", 0),
        ]
    );
    let expect = |ix: usize, source: &str, message: &str| {
        let lines = failures(&log, ix, source);
        assert_eq!(lines.len(), 1, "{log}");
        assert!(lines[0].contains(message), "{}", lines[0]);
    };
    expect(0, "apns", &format!("GET {APNS}: the response is larger than 1048576 bytes (graph.max_response_bytes); not reading further"));
    expect(
        3,
        "vpp_tokens",
        &format!(
            "GET {VPP}: @odata.nextLink repeats a page already read ({}/{VPP}?%24select=",
            setup.sim.base_url()
        ),
    );
    expect(
        1,
        "vpp_tokens",
        &format!(
            "GET {VPP}: more than 2 pages (graph.max_pages); not following @odata.nextLink further"
        ),
    );
    // The batch carrying the oversized item failed as a whole; each of its items was then
    // fetched alone, and only the oversized one was refused again.
    let items = [
        format!("GET /{VPP} 200"),
        "GET /v1.0/deviceManagement 200".to_string(),
        format!("GET /{APNS} 200"),
    ];
    let batch = |items: &[String]| {
        let mut out = vec!["POST /v1.0/$batch 200".to_string()];
        out.extend(items.iter().map(|i| format!("  {i}")));
        out
    };
    let served = graph_requests(&setup.sim, 0);
    assert_eq!(served, [batch(&items), items.to_vec()].concat());
    // The loop was noticed in the batch answer, before its link was requested again.
    let served = graph_requests(&setup.sim, 3);
    assert_eq!(served, batch(&items));
    setup.sim.shutdown().await;
}

/// The peak resident set size of a process, in bytes (`VmHWM`).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_refused_with_memory_bounded() {
    const GIB: u64 = 1 << 30;
    let setup = setup(
        &[
            // The bomb as the batch answer, then as the answer to the single GET that follows.
            secret_tenant(&faults(&[
                ("v1.0/$batch", &format!("{{gzip_bomb: {GIB}}}")),
                (APNS, &format!("{{gzip_bomb: {GIB}}}")),
            ])),
            secret_tenant(""),
        ],
        &[Source::Apns],
        "",
    )
    .await;
    let mut exporter = Exporter::start(&["--config.file", &setup.config]);
    exporter.wait_ready().await;
    let peak = peak_rss(exporter.pid());
    println!("peak RSS with a 1 GiB gzip bomb: {} MiB", peak >> 20);
    let text = scrape(&exporter).await;
    assert_eq!(up_series(&text, 2), [up(0, "apns", 0), up(1, "apns", 1)]);
    // The default limit is 64 MiB; 256 MiB is well under the shipped manifests' limits.
    assert!(peak < 256 << 20, "peak RSS {} MiB", peak >> 20);
    assert!(exporter.terminate().success());
    let log = exporter.log();
    // Both bombs were served, and refused: the batch's, then the single GET's.
    assert_eq!(
        graph_requests(&setup.sim, 0),
        [
            "POST /v1.0/$batch 200".to_string(),
            format!("GET /{APNS} 200")
        ]
    );
    let lines = failures(&log, 0, "apns");
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains(&format!("GET {APNS}: the response is larger than 67108864 bytes (graph.max_response_bytes); not reading further")),
        "{}",
        lines[0]
    );
    setup.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_answer_with_a_repeated_or_unknown_id_is_not_taken_for_those_items() {
    // The batch carries APNs as id 0 and the VPP tokens as id 1 (the order of Source::ALL).
    // Tenant 0's answer has id 1 twice, one copy with a token and one empty; tenant 1's has an
    // id 7 that was not asked for, next to an empty id 1.
    let apns = r#"{"id":"0","status":200,"body":{"id":"x"}}"#;
    let repeated = format!(
        r#"{{"responses":[{apns},{{"id":"1","status":200,"body":{{"value":[{{"id":"copy-token","appleId":"copy@contoso.com"}}]}}}},{{"id":"1","status":200,"body":{{"value":[]}}}}]}}"#
    );
    let unknown = format!(
        r#"{{"responses":[{apns},{{"id":"1","status":200,"body":{{"value":[]}}}},{{"id":"7","status":200,"body":{{"value":[]}}}}]}}"#
    );
    let tenants = [
        secret_tenant(&faults(&[(
            "v1.0/$batch",
            &format!("{{body: '{repeated}'}}"),
        )])),
        secret_tenant(&faults(&[(
            "v1.0/$batch",
            &format!("{{body: '{unknown}'}}"),
        )])),
    ];
    let setup = setup(&tenants, &[Source::Apns, Source::VppTokens], "").await;
    let mut exporter = Exporter::start(&["--config.file", &setup.config]);
    exporter.wait_ready().await;
    let text = scrape(&exporter).await;
    assert_eq!(
        up_series(&text, 2),
        [
            up(0, "apns", 1),
            up(0, "vpp_tokens", 1),
            up(1, "apns", 1),
            up(1, "vpp_tokens", 1)
        ]
    );
    // Both tenants have the simulator's three VPP tokens, read by a single GET, and not the
    // token of the first copy.
    for ix in 0..2 {
        let id = tenant(ix);
        for token in [
            "2f1a6c1e-4b8d-4e3a-9c7f-0d5b2e8a1f63",
            "6a2e8f14-0b3d-4c97-a5e1-8d7c2b9f0e36",
            "c4f7a0b9-2e6d-4813-b9a2-5f1e7d3c8a04",
        ] {
            assert!(
                text.lines()
                    .any(|l| l.contains(&id) && l.contains(&format!("\"{token}\""))),
                "tenant {ix} lacks VPP token {token}"
            );
        }
        assert!(!text.contains("copy-token"));
    }
    assert_eq!(
        graph_requests(&setup.sim, 0),
        [
            "POST /v1.0/$batch 200".to_string(),
            format!("GET /{VPP} 200")
        ]
    );
    assert_eq!(
        graph_requests(&setup.sim, 1),
        [
            "POST /v1.0/$batch 200".to_string(),
            format!("GET /{VPP} 200"),
            format!("GET /{APNS} 200")
        ]
    );
    assert!(exporter.terminate().success());
    let log = exporter.log();
    let warned: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("the JSON batch answer repeats item ids"))
        .collect();
    assert_eq!(warned.len(), 1, "{log}");
    assert!(warned[0].contains(&tenant(0)), "{}", warned[0]);
    setup.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_response_limit_bounds_every_page_of_a_collection_together() {
    // Three pages of one VPP token each, every page far under the limit, together above it:
    // tenant 0 reads them in batches, tenant 1 alone (its batch fails).
    let tenants = [
        secret_tenant("    page_size: 1\n"),
        secret_tenant(&format!(
            "    page_size: 1\n{}",
            faults(&[("v1.0/$batch", "{status: 502}")])
        )),
    ];
    let setup = setup(
        &tenants,
        &[Source::VppTokens],
        "  max_response_bytes: 1400\n",
    )
    .await;
    let (up_now, log) = run(&setup, 2, &[]).await;
    assert_eq!(up_now, [up(0, "vpp_tokens", 0), up(1, "vpp_tokens", 0)]);
    for ix in 0..2 {
        let lines = failures(&log, ix, "vpp_tokens");
        assert_eq!(lines.len(), 1, "{log}");
        assert!(
            lines[0].contains(&format!("GET {VPP}: the pages of this collection together are larger than 1400 bytes (graph.max_response_bytes); not reading further")),
            "{}",
            lines[0]
        );
    }
    let next = format!("GET /{VPP} 200");
    assert_eq!(
        graph_requests(&setup.sim, 0),
        [
            "POST /v1.0/$batch 200".to_string(),
            format!("  {next}"),
            "POST /v1.0/$batch 200".to_string(),
            format!("  {next}"),
            "POST /v1.0/$batch 200".to_string(),
            format!("  {next}"),
        ]
    );
    assert_eq!(
        graph_requests(&setup.sim, 1),
        [
            "POST /v1.0/$batch 502".to_string(),
            next.clone(),
            next.clone(),
            next
        ]
    );
    setup.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_echoed_json_escaped_without_its_field_name_is_redacted() {
    // An error answer that quotes the secret JSON-escaped (`/` as `\/`) and percent-encoded,
    // with no `client_secret=` before it.
    let escaped = SECRET.replace('/', "\\/");
    let encoded = SECRET.replace('/', "%2F");
    let body = format!(r#"{{"message":"secret {escaped} or {encoded} is not valid"}}"#);
    let tenants = [secret_tenant(&faults(&[(
        "token",
        &format!("{{body: '{body}', status: 401}}"),
    )]))];
    let setup = setup(&tenants, &[Source::Apns], "").await;
    let (up_now, log) = run(&setup, 1, &["--log.level", "debug"]).await;
    assert_eq!(up_now, [up(0, "apns", 0)]);
    let lines = sign_in_failures(&log, 0);
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains(r#"the login authority answered HTTP 401: {\"message\":\"secret *** or *** is not valid\"}"#),
        "{}",
        lines[0]
    );
    for forbidden in [SECRET, escaped.as_str(), encoded.as_str(), "Vb8~q2"] {
        assert!(!log.contains(forbidden), "{forbidden}: {log}");
    }
    setup.sim.shutdown().await;
}
