//! The web server through the real binary: TLS from a web config with a test CA (and plain
//! HTTP refused on it), basic auth with a bcrypt hash, mutual TLS, a real Prometheus scraping
//! over TLS with basic auth, dual-stack and systemd listeners, the connection cap and
//! timeouts, and shutdown with a half-sent request.

#![allow(clippy::unwrap_used)]

mod common;

use common::{quick_hash, Exporter, TempDir, PASSWORD};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A CA, a server certificate for localhost/127.0.0.1/::1 and a client certificate, as PEM
/// files in a temp dir.
struct Pki {
    dir: TempDir,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let dir = TempDir::new(name);
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "intune-exporter test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(names.clone()).unwrap();
            params
                .distinguished_name
                .push(DnType::CommonName, names[0].clone());
            params.use_authority_key_identifier_extension = true;
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![usage];
            let cert = params.signed_by(&key, &ca).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = leaf(
            vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert, client_key) = leaf(
            vec!["prometheus.example.test".into()],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        for (name, pem) in [
            ("ca.pem", ca.pem()),
            ("server.pem", server_cert),
            ("server-key.pem", server_key),
            ("client.pem", client_cert),
            ("client-key.pem", client_key),
        ] {
            std::fs::write(dir.0.join(name), pem).unwrap();
        }
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.0.join(name)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    /// Writes a web config into the temp dir and returns its path.
    fn web_config(&self, text: &str) -> String {
        let path = self.path("web.yml");
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn client(&self, identity: bool) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(&self.read("ca.pem")).unwrap();
        let mut builder = reqwest::Client::builder()
            .tls_certs_only([ca])
            .timeout(Duration::from_secs(10));
        if identity {
            let mut pem = self.read("client.pem");
            pem.extend(self.read("client-key.pem"));
            builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
        }
        builder.build().unwrap()
    }
}

fn https(exporter: &Exporter, path: &str) -> String {
    format!("https://{}{path}", exporter.addr)
}

#[tokio::test]
async fn https_with_basic_auth_and_plain_http_refused() {
    let pki = Pki::new("web-tls");
    let web = pki.web_config(&format!(
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n\
         http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n\
         basic_auth_users:\n  prometheus: {}\n",
        quick_hash(PASSWORD)
    ));
    let exporter = Exporter::start(&["--demo", "--web.config.file", &web]);
    let client = pki.client(false);

    let ok = client
        .get(https(&exporter, "/metrics"))
        .basic_auth("prometheus", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    // HTTP/2 is offered over TLS (the toolkit's default `http2: true`).
    assert_eq!(ok.version(), reqwest::Version::HTTP_2);
    assert_eq!(ok.headers()["x-content-type-options"], "nosniff");
    let body = ok.text().await.unwrap();
    assert!(body.contains("\nintune_exporter_build_info{"), "{body}");

    for (user, password) in [
        (Some("prometheus"), "wrong"),
        (Some("nobody"), PASSWORD),
        (None, ""),
    ] {
        let mut req = client.get(https(&exporter, "/-/healthy"));
        if let Some(user) = user {
            req = req.basic_auth(user, Some(password));
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{user:?}");
        assert_eq!(r.headers()["www-authenticate"], "Basic");
        // The configured headers are on refusals too.
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    }

    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(exporter.url("/-/healthy"))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP answered: {plain:?}");
}

#[tokio::test]
async fn mutual_tls_rejects_a_client_without_a_certificate() {
    let pki = Pki::new("web-mtls");
    let web = pki.web_config(
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n  \
         client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n  \
         client_allowed_sans: [prometheus.example.test]\n  \
         # TLS 1.2 with one suite and one curve, to prove the names map to rustls'.\n  \
         max_version: TLS12\n  \
         cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n  \
         curve_preferences: [CurveP256]\n",
    );
    let exporter = Exporter::start(&["--demo", "--web.config.file", &web]);
    let refused = pki
        .client(false)
        .get(https(&exporter, "/-/healthy"))
        .send()
        .await;
    assert!(refused.is_err(), "answered without a client certificate");
    let ok = pki
        .client(true)
        .get(https(&exporter, "/-/healthy"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "Healthy.\n");

    // Edited to allow another SAN only: the next connection reads the new file and is refused.
    let text = std::fs::read_to_string(&web).unwrap();
    std::fs::write(
        &web,
        text.replace("[prometheus.example.test]", "[grafana.example.test]"),
    )
    .unwrap();
    let refused = pki
        .client(true)
        .get(https(&exporter, "/-/healthy"))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a SAN outside client_allowed_sans was let in"
    );
}

#[tokio::test]
async fn a_rotated_certificate_is_served_without_a_restart() {
    let pki = Pki::new("web-rotate");
    let web =
        pki.web_config("tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n");
    let exporter = Exporter::start(&["--demo", "--web.config.file", &web]);
    let old_client = pki.client(false);
    let r = old_client
        .get(https(&exporter, "/-/healthy"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A new CA and certificate written over the old files, as cert-manager does.
    let next = Pki::new("web-rotate-next");
    for name in ["server.pem", "server-key.pem"] {
        std::fs::write(pki.path(name), next.read(name)).unwrap();
    }
    let r = next
        .client(false)
        .get(https(&exporter, "/-/healthy"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A fresh connection trusting only the old CA now fails.
    let fresh_old = pki.client(false);
    assert!(fresh_old
        .get(https(&exporter, "/-/healthy"))
        .send()
        .await
        .is_err());
}

#[test]
fn invalid_web_configs_exit_2_naming_the_key() {
    let pki = Pki::new("web-invalid");
    let cases = [
        (
            "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n  min_version: TLS10\n",
            "tls_server_config.min_version: TLS10 is not implemented by rustls (TLS 1.2 and 1.3 only)",
        ),
        (
            "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n  client_auth_type: RequireAnyClientCert\n",
            "tls_server_config.client_auth_type: RequireAnyClientCert accepts client certificates without verifying them, which rustls does not offer; use VerifyClientCertIfGiven or RequireAndVerifyClientCert",
        ),
        (
            "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n  cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA]\n",
            "tls_server_config.cipher_suites: TLS_RSA_WITH_AES_128_CBC_SHA is not a TLS 1.2 suite rustls implements",
        ),
        (
            "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n  curve_preferences: [CurveP521]\n",
            "tls_server_config.curve_preferences: CurveP521 is not a curve rustls implements; expected one of CurveP256, CurveP384, X25519, X25519MLKEM768",
        ),
        (
            "tls_server_config:\n  cert_file: server.pem\n  key_file: missing.pem\n",
            "tls_server_config.key_file: cannot read ",
        ),
        ("tls_server_config:\n  cert_fiel: server.pem\n", "tls_server_config.cert_fiel: unknown key"),
        ("basic_auth_users:\n  alice: hunter2\n", "basic_auth_users.alice: not a bcrypt hash"),
        (
            "basic_auth_users:\n  alice: $2y$04$abc\n  alice: $2y$04$abc\n",
            "basic_auth_users: duplicate entry with key \"alice\"",
        ),
        (
            "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
            "http_server_config.headers.X-Frame-Options: \"allow\" is not deny or sameorigin",
        ),
        ("rate_limit:\n  interval: 1s\n", "rate_limit: not supported by intune-exporter"),
    ];
    let config = common::root().join("tests/fixtures/config/valid/multi_tenant.yaml");
    for (text, expected) in cases {
        let web = pki.web_config(text);
        let out = Command::new(env!("CARGO_BIN_EXE_intune-exporter"))
            .args(["--config.check", "--config.file"])
            .arg(&config)
            .args(["--web.config.file", &web])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(
            stderr.starts_with(&format!("{web}: {expected}")),
            "{text}:\n{stderr}"
        );
        // Starting with it fails the same way, before listening.
        let out = Command::new(env!("CARGO_BIN_EXE_intune-exporter"))
            .args([
                "--demo",
                "--web.listen-address",
                "127.0.0.1:0",
                "--web.config.file",
                &web,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
    }
}

#[tokio::test]
async fn prometheus_scrapes_over_tls_with_basic_auth() {
    let pki = Pki::new("web-prometheus");
    let web = pki.web_config(&format!(
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n\
         basic_auth_users:\n  prometheus: {}\n",
        quick_hash(PASSWORD)
    ));
    let exporter = Exporter::start(&["--demo", "--web.config.file", &web]);
    std::fs::write(pki.path("password"), PASSWORD).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The README's scrape_config, with the paths and target of this test.
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    assert!(
        readme.contains(
            "  - job_name: intune-exporter\n    scheme: https\n    tls_config:\n      ca_file: \
             /etc/prometheus/intune-exporter-ca.crt\n    basic_auth:\n      username: prometheus\n      \
             password_file: /etc/prometheus/intune-exporter-password\n    static_configs:\n"
        ),
        "the README's scrape_config differs from the one tested here"
    );
    let config = format!(
        "global:\n  scrape_interval: 1s\n\
         scrape_configs:\n  - job_name: intune-exporter\n    scheme: https\n    \
         tls_config:\n      ca_file: {ca}\n    \
         basic_auth:\n      username: prometheus\n      password_file: {password}\n    \
         static_configs:\n      - targets: ['{target}']\n",
        ca = pki.path("ca.pem").display(),
        password = pki.path("password").display(),
        target = exporter.addr,
    );
    std::fs::write(pki.path("prometheus.yml"), config).unwrap();
    let log = std::fs::File::create(pki.path("prometheus.log")).unwrap();
    let mut prometheus = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            pki.path("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            pki.path("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("prometheus: install Debian's prometheus package (scripts/test says how)");
    let client = reqwest::Client::new();
    let query =
        format!("http://127.0.0.1:{port}/api/v1/query?query=up%7Bjob%3D%22intune-exporter%22%7D");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    let result = loop {
        if let Ok(r) = client.get(&query).send().await {
            last = r.text().await.unwrap_or_default();
            if last.contains("\"value\":[") {
                let up = last.split("\"value\":[").nth(1).unwrap();
                if up.contains(",\"1\"]") {
                    break true;
                }
            }
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let _ = prometheus.kill();
    let _ = prometheus.wait();
    assert!(
        result,
        "Prometheus never scraped the exporter: {last}\n{}",
        std::fs::read_to_string(pki.path("prometheus.log")).unwrap_or_default()
    );
}

/// The port of the first `listening` line whose address starts with `prefix`.
fn listening_port(exporter: &Exporter, prefix: &str) -> u16 {
    let log = exporter.log();
    log.lines()
        .filter(|l| l.contains("message=listening"))
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|kv| kv.strip_prefix("address="))
        })
        .find(|a| a.starts_with(prefix))
        .and_then(|a| a.rsplit(':').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no listening line for {prefix}:\n{log}"))
}

#[tokio::test]
async fn colon_port_listens_on_ipv6_and_ipv4() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        println!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let exporter = Exporter::start(&["--demo", "--web.listen-address", ":0"]);
    let port = listening_port(&exporter, "[::]:");
    for host in ["127.0.0.1", "[::1]"] {
        let r = reqwest::get(format!("http://{host}:{port}/-/healthy"))
            .await
            .unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(r.status(), 200, "{host}");
    }
}

#[test]
fn a_malformed_listen_address_exits_2() {
    for bad in ["10468", "::1:10468", "localhost:http"] {
        let out = Command::new(env!("CARGO_BIN_EXE_intune-exporter"))
            .args(["--demo", "--web.listen-address", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

#[tokio::test]
async fn systemd_socket_activation() {
    if Command::new("systemd-socket-activate")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        println!("skipped: systemd-socket-activate is not installed");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new("systemd-socket-activate")
        .args(["-l", &format!("127.0.0.1:{port}")])
        .arg(env!("CARGO_BIN_EXE_intune-exporter"))
        .args(["--demo", "--web.systemd-socket"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/-/healthy")).await {
            break r.status();
        }
        assert!(Instant::now() < deadline, "no answer on the systemd socket");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200);

    // Without sockets from systemd the flag is a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_intune-exporter"))
        .args(["--demo", "--web.systemd-socket"])
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Sets this test process's soft limit of open files to `want` (within the hard limit) with
/// util-linux's prlimit; processes it starts inherit it.
fn set_open_files(want: u64) {
    let out = Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            "--nofile",
            "--raw",
            "--noheadings",
            "--output=HARD",
        ])
        .output()
        .expect("prlimit (util-linux)");
    let hard: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(u64::MAX);
    let soft = want.min(hard);
    let ok = Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            &format!("--nofile={soft}:"),
        ])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[tokio::test]
async fn eleven_hundred_idle_connections_do_not_starve_the_server() {
    // The exporter gets the usual limit of 1,024 open files; this test needs more to hold
    // 1,100 connections.
    set_open_files(1024);
    let exporter = Exporter::start(&["--demo"]);
    set_open_files(4096);
    exporter.wait_ready().await;
    let mut idle = Vec::new();
    for _ in 0..1100 {
        idle.push(
            tokio::net::TcpStream::connect(&exporter.addr)
                .await
                .unwrap(),
        );
    }
    // Shorter than the header read timeout (15 s), which would free places by itself.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for path in ["/-/healthy", "/metrics"] {
        let r = client
            .get(exporter.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}\n{}", exporter.log()));
        assert_eq!(r.status(), 200, "{path}");
    }
    drop(idle);
}

#[test]
fn a_half_sent_request_does_not_hold_up_shutdown() {
    let mut exporter = Exporter::start(&["--demo"]);
    let mut stream = std::net::TcpStream::connect(&exporter.addr).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let status = exporter.terminate();
    let took = started.elapsed();
    assert!(status.success(), "{status}");
    // Before, the server waited its whole 10 s grace for this request.
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
}
