//! The Graph layer against the simulator over HTTPS: each credential kind obtains a token the
//! simulator checks (a certificate assertion verified cryptographically, a federated token file
//! re-read on every request), and Graph's faults are survived or reported as they should be:
//! 429 with `Retry-After` holding back the whole tenant, 503, 401, malformed JSON, paging.

#![allow(clippy::unwrap_used)]

mod common;

use common::sim::{
    self, authority, certificate_lines, faults, http, DEMO_CLIENT as CLIENT, DEMO_SECRET,
    DEMO_TENANT as TENANT, SECRET_LINE,
};
use intune_exporter::fleet::Origin;
use intune_exporter::graph::auth::EntraCredential;
use intune_exporter::graph::certificate::{AssertionAlg, ClientCertificate};
use intune_exporter::graph::client::RetryPolicy;
use intune_exporter::graph::limiter::Limiter;
use intune_exporter::graph::odata::Raw;
use intune_exporter::graph::{GraphClient, GraphError, GraphMetrics, TokenSource};
use intune_exporter::poller::poll_once;
use intune_exporter::sources::Source;
use intune_exporter::state::{Settings, State, TenantState};
use intune_graph_simulator::Simulator;
use std::sync::Arc;
use std::time::Duration;

/// The VPP tokens' path, as the simulator records it.
const VPP: &str = "/v1.0/deviceAppManagement/vppTokens";

/// The demo tenant with its credential lines (and anything else at tenant level) replaced.
async fn simulator(tenant_lines: &str) -> Simulator {
    sim::start_yaml(&sim::demo_replacing_secret(tenant_lines)).await
}

/// The demo tenant's secret and `scripts` as its faults.
fn with_faults(scripts: &[(&str, &str)]) -> String {
    format!("{SECRET_LINE}{}", faults(scripts))
}

/// The demo tenant with `items` as the fault sequence of its VPP tokens.
async fn vpp_faulted(items: &str) -> Simulator {
    simulator(&with_faults(&[(VPP.trim_start_matches('/'), items)])).await
}

/// Reads the VPP tokens once.
async fn fetch_vpp(client: &GraphClient) -> Result<Raw, GraphError> {
    client
        .fetch("vpp_tokens", Source::VppTokens.request())
        .await
}

fn secret_credential(sim: &Simulator) -> EntraCredential {
    sim::secret_credential(sim, TENANT, DEMO_SECRET)
}

fn client(sim: &Simulator, token: impl TokenSource + 'static) -> (GraphClient, GraphMetrics) {
    let metrics = GraphMetrics::new().unwrap();
    let client = sim::graph_client(sim, TENANT, Arc::new(token), &metrics, 2);
    (client, metrics)
}

/// The test tenant with `sources`, in a fresh state.
fn tenant(sources: &[Source]) -> Arc<TenantState> {
    State::new(Settings::default()).upsert_tenant(
        TENANT,
        Origin::Config,
        Default::default(),
        sources.iter().copied(),
    )
}

/// Polls one source once and says whether it is up.
async fn polls_up(client: &GraphClient, source: Source) -> bool {
    let tenant = tenant(&[source]);
    poll_once(&tenant, client, &[source], Duration::from_secs(30)).await;
    tenant.slots()[0].load().up
}

/// A fresh RSA certificate and key, PEM.
fn certificate() -> (String, String) {
    let (cert, key) = sim::rsa_certificate("intune-exporter-test");
    (cert.pem(), key.serialize_pem())
}

fn jwt_header(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwt.split('.').next().unwrap())
        .unwrap();
    serde_json::from_slice(&raw).unwrap()
}

#[tokio::test]
async fn certificate_assertions_verify_in_the_simulator_with_either_algorithm() {
    let (cert_pem, key_pem) = certificate();
    let sim = simulator(&certificate_lines(&cert_pem)).await;
    let cert =
        Arc::new(ClientCertificate::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap());
    for (alg, name, thumbprint) in [
        (AssertionAlg::Ps256, "PS256", "x5t#S256"),
        (AssertionAlg::Rs256, "RS256", "x5t"),
    ] {
        let credential = EntraCredential::certificate(
            TENANT,
            CLIENT,
            Arc::clone(&cert),
            alg,
            &authority(&sim),
            http(&sim),
        )
        .unwrap();
        let (client, _) = client(&sim, credential);
        assert!(polls_up(&client, Source::Apns).await, "{name}");
        let assertion = sim.received_assertions().pop().unwrap();
        let header = jwt_header(&assertion);
        assert_eq!(header["alg"], name);
        let expected = if alg == AssertionAlg::Ps256 {
            cert.thumbprint_sha256()
        } else {
            cert.thumbprint_sha1()
        };
        assert_eq!(header[thumbprint], expected.as_str());
    }
    assert_eq!(sim.received_assertions().len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_assertion_signed_by_an_unregistered_certificate_shows_entras_error() {
    let (registered, _) = certificate();
    let (other_cert, other_key) = certificate();
    let sim = simulator(&certificate_lines(&registered)).await;
    let cert = ClientCertificate::from_pem(other_cert.as_bytes(), other_key.as_bytes()).unwrap();
    let credential = EntraCredential::certificate(
        TENANT,
        CLIENT,
        Arc::new(cert),
        AssertionAlg::Ps256,
        &authority(&sim),
        http(&sim),
    )
    .unwrap();
    let err = credential.token().await.unwrap_err();
    let GraphError::Token(message) = &err else {
        panic!("{err:?}")
    };
    assert!(
        message.starts_with("the token endpoint answered HTTP 401: invalid_client: AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. Trace ID: "),
        "{message}"
    );
    let assertion = sim.received_assertions().pop().unwrap();
    assert!(!message.contains(&assertion));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_client_secret_shows_entras_error_and_not_the_secret() {
    let sim = simulator(SECRET_LINE).await;
    let wrong = "not-the-secret-Zk8~q";
    let credential = EntraCredential::client_secret(
        TENANT,
        CLIENT,
        wrong.to_string(),
        &authority(&sim),
        http(&sim),
    )
    .unwrap();
    let (client, _) = client(&sim, credential);
    let err = fetch_vpp(&client).await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("getting a token failed: the token endpoint answered HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{CLIENT}'. Trace ID: ")),
        "{err}"
    );
    assert!(!err.contains(wrong), "{err}");
    // The poll fails and Graph was never asked.
    assert!(!polls_up(&client, Source::VppTokens).await);
    assert_eq!(sim::statuses(&sim, VPP), Vec::<u16>::new());
    sim.shutdown().await;
}

#[tokio::test]
async fn the_federated_token_file_is_read_again_for_every_token_request() {
    let dir = std::env::temp_dir().join(format!("intune-exporter-wi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("azure-identity-token");
    std::fs::write(&file, "stale-token\n").unwrap();
    let sim = simulator("    federated_tokens: [rotated-token]\n").await;
    let credential = EntraCredential::workload_identity(
        TENANT,
        CLIENT,
        file.clone(),
        &authority(&sim),
        http(&sim),
    )
    .unwrap();
    let err = credential.token().await.unwrap_err().to_string();
    assert!(
        err.starts_with("getting a token failed: the token endpoint answered HTTP 400: invalid_client: AADSTS70021: No matching federated identity record found for presented assertion."),
        "{err}"
    );
    // The kubelet rotates the projected token; the same credential picks the new one up.
    std::fs::write(&file, "rotated-token\n").unwrap();
    let (client, _) = client(&sim, credential);
    assert!(polls_up(&client, Source::Apns).await);
    assert_eq!(sim.received_assertions(), ["stale-token", "rotated-token"]);
    std::fs::remove_dir_all(&dir).unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn a_429_with_retry_after_holds_back_every_request_of_the_tenant() {
    let sim = vpp_faulted("{status: 429, retry_after: \"2.5\"}").await;
    let (client, metrics) = client(&sim, secret_credential(&sim));
    let tenant = tenant(&[Source::VppTokens, Source::Apns]);
    let (vpp, apns) = (
        tenant.slot(Source::VppTokens).unwrap(),
        tenant.slot(Source::Apns).unwrap(),
    );
    let throttled = async {
        poll_once(
            &tenant,
            &client,
            &[Source::VppTokens],
            Duration::from_secs(30),
        )
        .await;
    };
    let other = async {
        // Start the other source's poll once the client has read the 429.
        while metrics.throttled.with_label_values(&["vpp_tokens"]).get() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        poll_once(&tenant, &client, &[Source::Apns], Duration::from_secs(30)).await;
    };
    tokio::join!(throttled, other);
    assert!(vpp.load().up && apns.load().up);
    let requests = sim.requests();
    let throttled_at = requests.iter().find(|r| r.status == 429).unwrap().at;
    let after: Vec<_> = requests
        .iter()
        .filter(|r| r.at > throttled_at && r.path.starts_with("/v1.0/"))
        .collect();
    // Each poll is one batch of its one source: the throttled item's retry and the other
    // source's first request, both held back by the tenant's pause. The two batches travel at
    // once, so their order is not fixed.
    let mut lines: Vec<String> = after
        .iter()
        .map(|r| {
            let indent = if r.in_batch { "  " } else { "" };
            format!("{indent}{} {} {}", r.method, r.path, r.status)
        })
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            format!("  GET {VPP} 200"),
            "  GET /v1.0/deviceManagement/applePushNotificationCertificate 200".to_string(),
            "POST /v1.0/$batch 200".to_string(),
            "POST /v1.0/$batch 200".to_string(),
        ],
        "{after:#?}"
    );
    for r in &after {
        let waited = r.at - throttled_at;
        assert!(
            waited >= chrono::TimeDelta::milliseconds(2500),
            "{} sent {waited} after the 429",
            r.path
        );
        println!(
            "{} sent {} ms after the 429",
            r.path,
            waited.num_milliseconds()
        );
    }
    assert_eq!(sim::statuses(&sim, VPP), [429, 200]);
    assert_eq!(
        metrics.throttled.with_label_values(&["vpp_tokens"]).get(),
        1
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_503_is_retried_and_a_401_forces_one_new_token() {
    let sim = vpp_faulted("{status: 503}, {status: 401}").await;
    let (client, metrics) = client(&sim, secret_credential(&sim));
    // The 503 is retried; the retry meets a 401 for a token the cache still holds: exactly
    // one new token, then success.
    assert!(polls_up(&client, Source::VppTokens).await);
    assert_eq!(sim::statuses(&sim, VPP), [503, 401, 200]);
    assert_eq!(sim::token_requests(&sim), 2);
    let issued = sim.issued_tokens();
    assert_eq!(issued.len(), 2);
    assert_ne!(issued[0], issued[1]);
    let count = |code: &str| {
        metrics
            .requests
            .with_label_values(&["vpp_tokens", code])
            .get()
    };
    assert_eq!((count("200"), count("401"), count("503")), (1, 1, 1));
    assert_eq!(
        metrics
            .duration
            .with_label_values(&["vpp_tokens"])
            .get_sample_count(),
        3
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn concurrent_401s_for_the_same_token_fetch_one_new_token() {
    let sim = simulator(&with_faults(&[
        ("v1.0/deviceAppManagement/vppTokens", "{status: 401}"),
        (
            "v1.0/deviceManagement/applePushNotificationCertificate",
            "{status: 401}",
        ),
    ]))
    .await;
    let (client, _) = client(&sim, secret_credential(&sim));
    // Warm the cache, so both polls send the same token and both meet a 401.
    assert!(polls_up(&client, Source::DeviceManagement).await);
    let (vpp, apns) = tokio::join!(
        polls_up(&client, Source::VppTokens),
        polls_up(&client, Source::Apns)
    );
    assert!(vpp && apns);
    assert_eq!(sim::statuses(&sim, VPP), [401, 200]);
    assert_eq!(sim::token_requests(&sim), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_second_401_in_a_row_fails_the_poll() {
    let sim = vpp_faulted("{status: 401}, {status: 401}").await;
    let (client, _) = client(&sim, secret_credential(&sim));
    let err = fetch_vpp(&client).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(sim::token_requests(&sim), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn three_pages_are_assembled_into_one_collection() {
    let sim = simulator(&format!("{SECRET_LINE}    page_size: 1\n")).await;
    let (client, _) = client(&sim, secret_credential(&sim));
    let raw = fetch_vpp(&client).await.unwrap();
    let Raw::Collection(items) = raw else {
        panic!("a collection")
    };
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "2f1a6c1e-4b8d-4e3a-9c7f-0d5b2e8a1f63",
            "6a2e8f14-0b3d-4c97-a5e1-8d7c2b9f0e36",
            "c4f7a0b9-2e6d-4813-b9a2-5f1e7d3c8a04"
        ]
    );
    // One token for all three pages: it is cached.
    assert_eq!(sim::token_requests(&sim), 1);
    let pages: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path == VPP)
        .collect();
    assert_eq!(pages.len(), 3);
    // Pages 2 and 3 come from @odata.nextLink, never a $skip the client made up.
    assert!(pages
        .iter()
        .all(|p| !p.query.as_deref().unwrap_or("").contains("skip=")));
    assert!(pages[1..]
        .iter()
        .all(|p| p.query.as_deref().unwrap().contains("skiptoken")));
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_json_is_reported_not_panicked_on() {
    let sim = vpp_faulted("{malformed: true}").await;
    let (client, _) = client(&sim, secret_credential(&sim));
    let err = fetch_vpp(&client).await.unwrap_err();
    assert!(matches!(err, GraphError::Decode { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with(
            "GET v1.0/deviceAppManagement/vppTokens: unexpected response body: EOF while parsing"
        ),
        "{err}"
    );
    // The poller marks the source down and the next poll recovers.
    assert!(polls_up(&client, Source::VppTokens).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_request_that_times_out_is_retried() {
    let sim = vpp_faulted("{delay: 30s}").await;
    let metrics = GraphMetrics::new().unwrap();
    // One second is far beyond a loopback answer, even on a loaded machine, and far below
    // the scripted delay.
    let impatient = reqwest::Client::builder()
        .tls_certs_merge(reqwest::Certificate::from_pem_bundle(sim.ca_pem().as_bytes()).unwrap())
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let client = GraphClient::new(
        impatient,
        sim::root(&sim),
        TENANT.to_string(),
        Arc::new(secret_credential(&sim)),
        Arc::new(Limiter::documented()),
        metrics.clone(),
        RetryPolicy {
            max_attempts: 2,
            base_backoff: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
    );
    assert!(polls_up(&client, Source::VppTokens).await);
    let count = |code: &str| {
        metrics
            .requests
            .with_label_values(&["vpp_tokens", code])
            .get()
    };
    assert_eq!((count("error"), count("200")), (1, 1));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_rotated_client_secret_file_is_used_from_the_next_sign_in() {
    let dir = std::env::temp_dir().join(format!("intune-exporter-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("client-secret");
    std::fs::write(&file, "demo-secret-not-for-production\n").unwrap();
    // Tokens live two seconds: every poll below signs in again.
    let sim = simulator(&format!("{SECRET_LINE}    token_lifetime: 2s\n")).await;
    let credential = EntraCredential::client_secret_file(
        TENANT,
        CLIENT,
        file.clone(),
        &authority(&sim),
        http(&sim),
    )
    .unwrap();
    let (client, _) = client(&sim, credential);
    assert!(polls_up(&client, Source::Apns).await);

    // The administrator adds a new secret in Entra, deletes the old one, and the secret store
    // rewrites the file (a longer value, as a new secret usually is).
    let rotated = "rotated-secret-Q7~after";
    assert!(sim.set_client_secrets(TENANT, &[rotated]));
    std::fs::write(&file, format!("{rotated}\n")).unwrap();
    assert!(polls_up(&client, Source::Apns).await);
    assert!(polls_up(&client, Source::VppTokens).await);

    let token_statuses: Vec<u16> = sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .map(|r| r.status)
        .collect();
    // A token that expires within minutes is never reused by the SDK, so each poll signed in:
    // before the rotation with the old secret, after it with the new one, never refused.
    assert_eq!(token_statuses, [200, 200, 200]);
    std::fs::remove_dir_all(&dir).unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unchanged_client_secret_file_keeps_the_cached_token() {
    let dir = std::env::temp_dir().join(format!("intune-exporter-keep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("client-secret");
    std::fs::write(&file, "demo-secret-not-for-production").unwrap();
    let sim = simulator(SECRET_LINE).await;
    let credential = EntraCredential::client_secret_file(
        TENANT,
        CLIENT,
        file.clone(),
        &authority(&sim),
        http(&sim),
    )
    .unwrap();
    let (client, _) = client(&sim, credential);
    assert!(polls_up(&client, Source::Apns).await);
    assert!(polls_up(&client, Source::VppTokens).await);
    assert_eq!(sim::token_requests(&sim), 1);
    // A file emptied mid-rotation keeps the old secret (and its token) instead of failing.
    std::fs::write(&file, "").unwrap();
    assert!(polls_up(&client, Source::Apns).await);
    assert_eq!(sim::token_requests(&sim), 1);
    std::fs::remove_dir_all(&dir).unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn a_lone_surrogate_in_a_graph_string_becomes_a_replacement_character() {
    let sim = simulator(&with_faults(&[("v1.0/deviceAppManagement/vppTokens", "{body: '{\"value\":[{\"id\":\"a\",\"organizationName\":\"Contoso \\ud800 Ltd\",\"appleId\":\"\\udfff\\ud83d\\ude00\"}]}'}")]))
    .await;
    let (client, _) = client(&sim, secret_credential(&sim));
    let Raw::Collection(items) = fetch_vpp(&client).await.unwrap() else {
        panic!("a collection")
    };
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["organizationName"], "Contoso \u{FFFD} Ltd");
    assert_eq!(items[0]["appleId"], "\u{FFFD}\u{1F600}");
    sim.shutdown().await;
}

#[tokio::test]
async fn graph_errors_carry_graphs_request_ids() {
    let sim = vpp_faulted("{status: 403}").await;
    let (client, _) = client(&sim, secret_credential(&sim));
    let err = fetch_vpp(&client).await.unwrap_err();
    let GraphError::Status {
        request_ids: Some(ids),
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    let (Some(request_id), Some(client_request_id)) = (&ids.request_id, &ids.client_request_id)
    else {
        panic!("{ids:?}")
    };
    // The simulator, like Graph, echoes a client-request-id or makes one up.
    assert_eq!(request_id, client_request_id);
    assert_eq!(
        err.to_string(),
        format!("GET v1.0/deviceAppManagement/vppTokens: HTTP 403 Forbidden: Insufficient privileges to complete the operation. (request-id: {request_id}, client-request-id: {client_request_id})")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_oversized_or_inflating_token_answer_is_refused_without_reading_it() {
    let sim = simulator(&with_faults(&[("token", "{gzip_bomb: 1GiB}, {gzip_bomb: 1GiB}, {gzip_bomb: 1GiB}, {oversized: 65537}, {oversized: 65537}, {oversized: 65537}")]))
    .await;
    let credential = secret_credential(&sim);
    for _ in 0..2 {
        let err = credential.token().await.unwrap_err().to_string();
        assert!(
            err.starts_with("getting a token failed: the login authority answered HTTP 200 with a body that cannot be read within 65536 bytes: "),
            "{err}"
        );
    }
    // The SDK retries a failed read twice; after the six scripted answers, sign-in works.
    assert_eq!(sim::token_requests(&sim), 6);
    assert!(credential.token().await.is_ok());
    sim.shutdown().await;
}
