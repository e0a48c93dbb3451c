//! Every credential kind through the real binary, against the simulator over HTTPS: five tenants
//! sign in with a client secret from an environment variable, a PKCS#12 certificate (RS256), a
//! workload identity token file and managed identities (user- and system-assigned, App Service
//! protocol), and all poll.
//! One source of one tenant is refused with 403: its `up` is 0, the log names the permission,
//! and every other series is untouched. At debug level, no log line shows a secret, a password,
//! an assertion or any access token the simulator issued.
//!
//! Also through the binary: the Azure SDK's variables alone start it, and `HTTPS_PROXY` carries
//! Graph and sign-in traffic through a CONNECT proxy unless `NO_PROXY` names the host.

#![allow(clippy::unwrap_used)]

mod common;

use common::sim::{self, DEMO_CLIENT as CLIENT, DEMO_TENANT};
use common::{config_text, Exporter, TempDir};
use intune_exporter::demo;
use intune_exporter::graph::certificate::ClientCertificate;
use intune_exporter::sources::Source;
use intune_graph_simulator::Simulator;
const SECRET: &str = "e2e-secret-value-7Q~x";
const PFX_PASSWORD: &str = "e2e-pfx-password-3k";
const FEDERATED: &str = "eyJhbGciOiJSUzI1NiJ9.e2e-federated-token.c2ln";
const IDENTITY_HEADER: &str = "e2e-identity-header-9f";
const MI_CLIENT: &str = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

const TENANTS: [&str; 5] = [
    DEMO_TENANT,
    "20000000-0000-4000-8000-000000000002",
    "20000000-0000-4000-8000-000000000003",
    "20000000-0000-4000-8000-000000000004",
    "20000000-0000-4000-8000-000000000005",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_credential_kind_polls_and_no_log_line_shows_a_secret() {
    let (cert, key) = sim::rsa_certificate("intune-exporter-e2e");

    // The demo tenant five times, each with its own id and credential.
    let credentials = [
        format!(
            "    client_secret: {SECRET}\n    faults:\n      - path: v1.0/subscribedSkus\n        sequence: [{{status: 403}}]\n"
        ),
        sim::certificate_lines(&cert.pem()),
        format!("    federated_tokens: [\"{FEDERATED}\"]\n"),
        format!("    managed_identity:\n      identity_header: {IDENTITY_HEADER}\n      client_id: {MI_CLIENT}\n"),
        format!("    managed_identity:\n      identity_header: {IDENTITY_HEADER}\n"),
    ];
    let mut scenario = String::from("tenants:\n");
    for (tenant, credential) in TENANTS.iter().zip(&credentials) {
        scenario.push_str(&sim::demo_tenant_as(tenant, credential));
    }
    let sim = sim::start_yaml(&scenario).await;

    // The certificate as a PKCS#12 archive, as Windows and Key Vault export it.
    let pem =
        ClientCertificate::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap();
    let chain = p12_keystore::PrivateKeyChain::new(
        vec![7u8; 20],
        p12_keystore::PrivateKey::from_der(&key.serialize_der()).unwrap(),
        [p12_keystore::Certificate::from_der(pem.der()).unwrap()],
    );
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry("app", p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
    let dir = TempDir::new("credentials");
    std::fs::write(
        dir.0.join("app.pfx"),
        store.writer(PFX_PASSWORD).write().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.0.join("pfx-password"), format!("{PFX_PASSWORD}\n")).unwrap();
    std::fs::write(dir.0.join("federated-token"), FEDERATED).unwrap();
    std::fs::write(dir.0.join("ca.pem"), sim.ca_pem()).unwrap();
    let config = format!(
        "{graph}tenants:
  - tenant_id: {t0}
    auth:
      client_id: {CLIENT}
      client_secret_env: E2E_INTUNE_SECRET
  - tenant_id: {t1}
    auth:
      client_id: {CLIENT}
      pkcs12_file: app.pfx
      pkcs12_password_file: pfx-password
      assertion: rs256
  - tenant_id: {t2}
    auth:
      client_id: {CLIENT}
      workload_identity:
        token_file: federated-token
  - tenant_id: {t3}
    auth:
      managed_identity:
        client_id: {MI_CLIENT}
  - tenant_id: {t4}
    auth:
      managed_identity: {{}}
",
        graph = config_text::graph(sim.base_url()),
        t0 = TENANTS[0],
        t1 = TENANTS[1],
        t2 = TENANTS[2],
        t3 = TENANTS[3],
        t4 = TENANTS[4],
    );
    let path = dir.0.join("config.yaml");
    std::fs::write(&path, config).unwrap();

    let msi = format!("{}/msi/token", sim.base_url());
    let mut exporter = Exporter::start_with_env(
        &[
            "--config.file",
            path.to_str().unwrap(),
            "--log.level",
            "debug",
        ],
        &[
            ("E2E_INTUNE_SECRET", SECRET),
            ("IDENTITY_ENDPOINT", &msi),
            ("IDENTITY_HEADER", IDENTITY_HEADER),
        ],
    );
    exporter.wait_ready().await;
    let text = exporter.scrape_linted().await;

    // Every source of every tenant is up, except the one that got 403.
    let up: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("intune_exporter_source_up{"))
        .collect();
    assert_eq!(
        up.len(),
        5 * intune_exporter::sources::Source::defaults().len(),
        "{text}"
    );
    let down: Vec<&&str> = up.iter().filter(|l| l.ends_with(" 0")).collect();
    assert_eq!(
        down,
        [&format!(
            "intune_exporter_source_up{{tenant_id=\"{DEMO_TENANT}\",source=\"subscribed_skus\"}} 0"
        )
        .as_str()]
    );
    for tenant in TENANTS {
        assert!(
            text.contains(&format!(
                "intune_tenant_info{{tenant_id=\"{tenant}\",tenant_name=\"Contoso\""
            )),
            "{tenant} polled"
        );
    }
    // The certificate's own expiry, once per certificate, however many tenants use it.
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("intune_exporter_credential_expiry_timestamp_seconds"))
            .collect::<Vec<_>>(),
        [format!(
            "intune_exporter_credential_expiry_timestamp_seconds{{client_id=\"{CLIENT}\",thumbprint=\"{}\"}} {}",
            pem.thumbprint_hex(),
            pem.not_after().timestamp()
        )]
    );
    // One token request per tenant; the managed identities asked their own endpoint, once each
    // (user-assigned with its client_id, system-assigned without).
    let requests = sim.requests();
    let token_paths: Vec<String> = requests
        .iter()
        .filter(|r| r.path.ends_with("/token"))
        .map(|r| r.path.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        token_paths,
        [
            format!("/{}/oauth2/v2.0/token", TENANTS[1]),
            format!("/{}/oauth2/v2.0/token", TENANTS[2]),
            format!("/{DEMO_TENANT}/oauth2/v2.0/token"),
            "/msi/token".to_string(),
        ]
    );
    assert!(requests
        .iter()
        .filter(|r| r.path.ends_with("/token"))
        .all(|r| r.status == 200));
    let msi: Vec<(Option<String>, Option<String>)> = requests
        .iter()
        .filter(|r| r.path == "/msi/token")
        .map(|r| (r.tenant_id.clone(), r.query.clone()))
        .collect();
    assert_eq!(msi.len(), 2, "{msi:?}");
    for (tenant, query) in &msi {
        let user_assigned = query
            .as_deref()
            .unwrap()
            .contains(&format!("client_id={MI_CLIENT}"));
        let expected = if user_assigned {
            TENANTS[3]
        } else {
            TENANTS[4]
        };
        assert_eq!(tenant.as_deref(), Some(expected), "{query:?}");
    }

    let status = exporter.terminate();
    assert!(status.success(), "{status}");
    let log = exporter.log();
    // The 403 names the permission to grant, once.
    let permission = format!(
        "permission={}",
        intune_exporter::sources::Source::SubscribedSkus.permission()
    );
    let refused: Vec<&str> = log.lines().filter(|l| l.contains(&permission)).collect();
    assert_eq!(refused.len(), 1, "{log}");
    assert!(
        refused[0].contains("HTTP 403 Authorization_RequestDenied"),
        "{}",
        refused[0]
    );
    // The managed identity and the certificate credential were used.
    assert!(log.contains("credential=managed_identity"), "{log}");
    assert!(log.contains("credential=certificate"), "{log}");

    let issued = sim.issued_tokens();
    assert_eq!(issued.len(), 5);
    let assertions = sim.received_assertions();
    assert_eq!(assertions.len(), 2, "one signed JWT, one federated token");
    let mut secrets: Vec<String> = vec![
        SECRET.into(),
        PFX_PASSWORD.into(),
        FEDERATED.into(),
        IDENTITY_HEADER.into(),
    ];
    secrets.extend(issued);
    secrets.extend(assertions);
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "the log shows a secret:\n{log}"
        );
        assert!(!text.contains(secret.as_str()));
    }
    assert!(!log.to_ascii_lowercase().contains("bearer"), "{log}");
    sim.shutdown().await;
}

#[test]
fn azure_sdk_variables_are_enough_to_start() {
    let dir = TempDir::new("zero-config");
    let token = dir.0.join("token");
    std::fs::write(&token, "t").unwrap();
    let mut exporter = Exporter::start_with_env(
        &[],
        &[
            ("AZURE_TENANT_ID", DEMO_TENANT),
            ("AZURE_CLIENT_ID", CLIENT),
            ("AZURE_FEDERATED_TOKEN_FILE", token.to_str().unwrap()),
        ],
    );
    assert!(exporter.log().contains(&format!(
        "message=\"no --config.file: reading the tenant named by AZURE_TENANT_ID and AZURE_CLIENT_ID\" tenant_id={DEMO_TENANT}\n"
    )), "{}", exporter.log());
    assert!(exporter.terminate().success());
}

/// A minimal HTTP CONNECT proxy on loopback that records each tunnel's target.
async fn connect_proxy() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let log = std::sync::Arc::clone(&log);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let Some(target) = head
                    .strip_prefix("CONNECT ")
                    .and_then(|r| r.split_whitespace().next())
                else {
                    return;
                };
                log.lock().unwrap().push(target.to_string());
                let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else {
                    return;
                };
                if client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_ok()
                {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_carries_graph_and_sign_in_unless_no_proxy_says_otherwise() {
    let sim = sim::start(demo::scenario().unwrap()).await;
    let dir = TempDir::new("proxy");
    std::fs::write(dir.0.join("ca.pem"), sim.ca_pem()).unwrap();
    std::fs::write(dir.0.join("secret"), "demo-secret-not-for-production").unwrap();
    // Two sources are enough to see both hosts' traffic.
    let config = format!(
        "{}{}tenants:\n{}",
        config_text::graph(sim.base_url()),
        config_text::only_sources(&[Source::Apns, Source::VppTokens]),
        config_text::secret_tenant(DEMO_TENANT, CLIENT, "secret")
    );
    let path = dir.0.join("config.yaml");
    std::fs::write(&path, config).unwrap();
    let target = sim.base_url().trim_start_matches("https://").to_string();

    for (no_proxy, expect_tunnels) in [("", true), ("127.0.0.1", false)] {
        let (proxy, seen) = connect_proxy().await;
        let exporter = Exporter::start_with_env(
            &["--config.file", path.to_str().unwrap()],
            &[("HTTPS_PROXY", &proxy), ("NO_PROXY", no_proxy)],
        );
        exporter.wait_ready().await;
        let text = exporter.scrape().await;
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("intune_exporter_source_up{") && l.ends_with(" 1"))
                .count(),
            2,
            "NO_PROXY={no_proxy:?}: {text}"
        );
        let tunnels = seen.lock().unwrap().clone();
        if expect_tunnels {
            assert!(!tunnels.is_empty(), "no CONNECT through the proxy");
            assert!(tunnels.iter().all(|t| *t == target), "{tunnels:?}");
        } else {
            assert_eq!(tunnels, Vec::<String>::new());
        }
    }
    sim.shutdown().await;
}

/// Writes `config.yaml` into `dir` for the demo tenant with only the `apns` source, signing in
/// with the secret in `dir/secret`, and `extra` top-level lines.
fn apns_only_config(dir: &TempDir, sim: &Simulator, extra: &str) -> std::path::PathBuf {
    let config = format!(
        "{}{extra}{}tenants:\n{}",
        config_text::graph(sim.base_url()),
        config_text::only_sources(&[Source::Apns]),
        config_text::secret_tenant(DEMO_TENANT, CLIENT, "secret")
    );
    let path = dir.0.join("config.yaml");
    std::fs::write(&path, config).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sign_in_logs_entras_reason_and_never_the_secret() {
    let sim = sim::start(demo::scenario().unwrap()).await;
    let dir = TempDir::new("wrong-secret");
    std::fs::write(dir.0.join("ca.pem"), sim.ca_pem()).unwrap();
    let wrong = "wrong-secret-Qx7~e2e";
    std::fs::write(dir.0.join("secret"), wrong).unwrap();
    let path = apns_only_config(&dir, &sim, "");
    let mut exporter = Exporter::start(&[
        "--config.file",
        path.to_str().unwrap(),
        "--log.level",
        "debug",
    ]);
    exporter.wait_ready().await;
    let text = exporter.scrape().await;
    assert!(text.contains(&format!(
        "intune_exporter_source_up{{tenant_id=\"{DEMO_TENANT}\",source=\"apns\"}} 0\n"
    )));
    assert!(exporter.terminate().success());
    let log = exporter.log();
    let failed: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("poll failed: signing in to the tenant failed"))
        .collect();
    assert_eq!(failed.len(), 1, "{log}");
    assert!(
        failed[0].contains("the token endpoint answered HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided."),
        "{}",
        failed[0]
    );
    assert!(!log.contains(wrong), "{log}");
    // Graph itself was never asked without a token.
    assert!(sim.requests().iter().all(|r| r.path.ends_with("/token")));
    sim.shutdown().await;
}

/// Waits until the simulator answered a token request that arrived after `since`, and a Graph
/// request after that.
async fn signed_in_and_polled_after(sim: &Simulator, since: chrono::DateTime<chrono::Utc>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let requests = sim.requests();
        let signed_in = requests
            .iter()
            .find(|r| r.at > since && r.path.ends_with("/oauth2/v2.0/token"));
        if let Some(token) = signed_in {
            if requests
                .iter()
                .any(|r| r.at > token.at && r.path.starts_with("/v1.0/"))
            {
                return;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no sign-in and poll after {since}: {requests:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_client_secret_file_is_picked_up_without_a_restart() {
    // Tokens live two seconds and the source is polled every two: each poll signs in again.
    let sim = sim::start_yaml(&sim::demo_replacing_secret(&format!(
        "    client_secret: {SECRET}\n    token_lifetime: 2s\n"
    )))
    .await;
    let dir = TempDir::new("rotate");
    std::fs::write(dir.0.join("ca.pem"), sim.ca_pem()).unwrap();
    let secret_file = dir.0.join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let path = apns_only_config(&dir, &sim, "poll:\n  interval: 5s\n");
    let mut exporter = Exporter::start(&["--config.file", path.to_str().unwrap()]);
    exporter.wait_ready().await;

    // Rotation as an administrator does it: Entra accepts a new secret besides the old one,
    // the secret store rewrites the file, then the old secret is deleted.
    let rotated = "rotated-e2e-secret-4Lp~w";
    assert!(sim.set_client_secrets(DEMO_TENANT, &[SECRET, rotated]));
    std::fs::write(&secret_file, format!("{rotated}\n")).unwrap();
    signed_in_and_polled_after(&sim, chrono::Utc::now()).await;
    assert!(sim.set_client_secrets(DEMO_TENANT, &[rotated]));
    signed_in_and_polled_after(&sim, chrono::Utc::now()).await;
    let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let text = exporter.scrape_linted().await;
    assert!(text.contains(&format!(
        "intune_exporter_source_up{{tenant_id=\"{DEMO_TENANT}\",source=\"apns\"}} 1\n"
    )));
    assert!(exporter.terminate().success());
    let log = exporter.log();
    assert!(
        log.contains("message=\"the client secret file changed; signing in with the new secret\""),
        "{log}"
    );
    assert!(!log.contains(rotated) && !log.contains(SECRET), "{log}");
    sim.shutdown().await;
}
