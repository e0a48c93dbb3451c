//! The simulator seen from a real HTTPS client (reqwest over rustls), as the exporter sees it.

// A test binary: clippy.toml's allow-unwrap-in-tests covers #[test] functions but not the
// helpers beside them, and a panic is exactly how a helper should fail here.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::sim::{self, DEMO_CLIENT, DEMO_SECRET, FLEET_PARTNER as PARTNER};
use intune_graph_simulator::{RecordedRequest, Scenario, Simulator};
use reqwest::{Client, StatusCode, Version};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde_json::{json, Value};

const TENANT: &str = "11111111-2222-4333-8444-555555555555";
const CLIENT: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const SECRET: &str = "test-secret";

const SCENARIO: &str = r#"
tenants:
  - tenant_id: 11111111-2222-4333-8444-555555555555
    client_id: aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee
    client_secret: test-secret
    page_size: 2
    resources:
      v1.0/deviceManagement:
        id: 5f4a8c2e-0c9b-4e1d-9a37-2b6f1e8d4c70
        subscriptionState: active
        intuneAccountId: 0e3c9f2a-5b7d-4c1e-8f60-9a2b4d6c8e10
      v1.0/deviceManagement/applePushNotificationCertificate: ~
      v1.0/deviceAppManagement/vppTokens:
        - id: 9b1f0c3e-6a2d-4e58-b7c4-1d3e5f7a9b20
          expirationDateTime: {in: 5d}
          lastSyncDateTime: {ago: 2h}
          state: valid
      v1.0/subscribedSkus:
        - {id: s1, skuPartNumber: EMS, consumedUnits: 10, capabilityStatus: Enabled}
        - {id: s2, skuPartNumber: SPE_E5, consumedUnits: 20, capabilityStatus: Enabled}
        - {id: s3, skuPartNumber: POWER_BI_STANDARD, consumedUnits: 30, capabilityStatus: Enabled}
        - {id: s4, skuPartNumber: FLOW_FREE, consumedUnits: 40, capabilityStatus: Suspended}
        - {id: s5, skuPartNumber: INTUNE_A, consumedUnits: 50, capabilityStatus: Enabled}
      v1.0/admin/serviceAnnouncement/healthOverviews:
        - {id: Intune, service: Microsoft Intune, status: serviceOperational}
      v1.0/deviceManagement/exchangeConnectors: []
    faults:
      - path: v1.0/admin/serviceAnnouncement/healthOverviews
        sequence:
          - {status: 429, retry_after: "2.5"}
          - {status: 503}
      - path: v1.0/deviceManagement/exchangeConnectors
        sequence:
          - {malformed: true}
"#;

/// A client that trusts only the simulator's CA, with the aws-lc-rs provider installed explicitly.
fn client(sim: &Simulator) -> Client {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(sim.ca_pem().as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap()
}

async fn start(scenario: &str) -> (Simulator, Client) {
    let sim = sim::start_yaml(scenario).await;
    let client = client(&sim);
    (sim, client)
}

fn token_url(sim: &Simulator, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/token", sim.base_url())
}

async fn token_request(
    sim: &Simulator,
    client: &Client,
    tenant: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = client
        .post(token_url(sim, tenant))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn token(sim: &Simulator, client: &Client) -> String {
    let scope = format!("{}/.default", sim.base_url());
    let (status, body) = token_request(
        sim,
        client,
        TENANT,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// The parts of a recorded request a test can predict: method, path, query, status, tenant.
type Row = (String, String, Option<String>, u16, Option<String>);

fn summary(requests: &[RecordedRequest]) -> Vec<Row> {
    requests
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.path.clone(),
                r.query.clone(),
                r.status,
                r.tenant_id.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn token_endpoint_issues_tokens_and_answers_like_entra() {
    let (sim, client) = start(SCENARIO).await;
    let graph_scope = "https://graph.microsoft.com/.default";
    let good = |secret: &'static str, client_id: &'static str| {
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", graph_scope),
        ]
    };

    let (status, body) = token_request(&sim, &client, TENANT, &good(SECRET, CLIENT)).await;
    assert_eq!(status, StatusCode::OK);
    let token = body["access_token"].as_str().unwrap();
    // 32 random bytes, unpadded base64url.
    assert_eq!(token.len(), 43);
    assert!(token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    assert_eq!(
        body,
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})
    );

    let unknown_tenant = "99999999-9999-4999-8999-999999999999";
    let cases = [
        (
            unknown_tenant,
            good(SECRET, CLIENT),
            400,
            "invalid_request",
            90002,
        ),
        (
            TENANT,
            good(SECRET, "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"),
            400,
            "unauthorized_client",
            700016,
        ),
        (
            TENANT,
            good("wrong", CLIENT),
            401,
            "invalid_client",
            7000215,
        ),
    ];
    for (tenant, form, status, error, code) in cases {
        let (got_status, body) = token_request(&sim, &client, tenant, &form).await;
        assert_eq!(got_status.as_u16(), status, "{body}");
        assert_eq!(body["error"], error);
        assert_eq!(body["error_codes"], json!([code]));
        let description = body["error_description"].as_str().unwrap();
        assert!(
            description.starts_with(&format!("AADSTS{code}: ")),
            "{description}"
        );
        let trace_id = body["trace_id"].as_str().unwrap();
        assert!(
            description.contains(&format!("\r\nTrace ID: {trace_id}\r\n")),
            "{description}"
        );
        let mut keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "correlation_id",
                "error",
                "error_codes",
                "error_description",
                "timestamp",
                "trace_id"
            ]
        );
    }

    assert_eq!(
        summary(&sim.requests()),
        vec![
            (
                "POST".into(),
                format!("/{TENANT}/oauth2/v2.0/token"),
                None,
                200,
                Some(TENANT.into())
            ),
            (
                "POST".into(),
                format!("/{unknown_tenant}/oauth2/v2.0/token"),
                None,
                400,
                None
            ),
            (
                "POST".into(),
                format!("/{TENANT}/oauth2/v2.0/token"),
                None,
                400,
                Some(TENANT.into())
            ),
            (
                "POST".into(),
                format!("/{TENANT}/oauth2/v2.0/token"),
                None,
                401,
                Some(TENANT.into())
            ),
        ]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn graph_serves_resources_pages_and_scripted_faults() {
    let (sim, client) = start(SCENARIO).await;
    let base = sim.base_url();
    let bearer = format!("Bearer {}", token(&sim, &client).await);
    let get = |path: &str| {
        client
            .get(format!("{base}{path}"))
            .header("authorization", &bearer)
    };

    // No token: 401 with a challenge and Graph's error code.
    let response = client
        .get(format!("{base}/v1.0/deviceManagement"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        format!("Bearer realm=\"\", authorization_uri=\"{base}/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"").as_str()
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");

    // A singleton, over HTTP/2, with Graph's headers.
    let response = get("/v1.0/deviceManagement")
        .header("client-request-id", "c0ffee00-0000-4000-8000-000000000001")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(
        response.headers()["content-type"],
        "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
    );
    assert_eq!(
        response.headers()["client-request-id"],
        "c0ffee00-0000-4000-8000-000000000001"
    );
    assert_eq!(response.headers()["request-id"].len(), 36);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "@odata.context": format!("{base}/v1.0/$metadata#deviceManagement"),
            "id": "5f4a8c2e-0c9b-4e1d-9a37-2b6f1e8d4c70",
            "subscriptionState": "active",
            "intuneAccountId": "0e3c9f2a-5b7d-4c1e-8f60-9a2b4d6c8e10",
        })
    );

    // Relative times resolve against the anchor.
    let body: Value = get("/v1.0/deviceAppManagement/vppTokens")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let anchor = sim.anchor();
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert_eq!(
        body["value"][0]["expirationDateTime"],
        fmt(anchor + chrono::TimeDelta::days(5))
    );
    assert_eq!(
        body["value"][0]["lastSyncDateTime"],
        fmt(anchor - chrono::TimeDelta::hours(2))
    );

    // A singleton that was never set up: 404 with Graph's error body.
    let response = get("/v1.0/deviceManagement/applePushNotificationCertificate")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "ResourceNotFound");
    assert_eq!(
        body["error"]["message"],
        "Resource not found for the segment 'applePushNotificationCertificate'."
    );

    // Five SKUs at page size 2: three pages, each nextLink absolute and keeping $select.
    let mut url = format!("{base}/v1.0/subscribedSkus?$select=skuPartNumber");
    let mut pages = Vec::new();
    loop {
        let body: Value = client
            .get(&url)
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pages.push(body["value"].clone());
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
        assert_eq!(
            body["@odata.context"],
            format!("{base}/v1.0/$metadata#subscribedSkus(skuPartNumber)")
        );
    }
    assert_eq!(
        pages,
        vec![
            json!([{"id": "s1", "skuPartNumber": "EMS"}, {"id": "s2", "skuPartNumber": "SPE_E5"}]),
            json!([{"id": "s3", "skuPartNumber": "POWER_BI_STANDARD"}, {"id": "s4", "skuPartNumber": "FLOW_FREE"}]),
            json!([{"id": "s5", "skuPartNumber": "INTUNE_A"}]),
        ]
    );

    // Prefer: odata.maxpagesize lowers the page size.
    let body: Value = get("/v1.0/subscribedSkus")
        .header("prefer", "odata.maxpagesize=1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        body["@odata.nextLink"],
        format!("{base}/v1.0/subscribedSkus?$skiptoken=sim-1-1")
    );

    // Scripted faults, in order, then normal service.
    let health = "/v1.0/admin/serviceAnnouncement/healthOverviews";
    let response = get(health).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "2.5");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TooManyRequests");
    assert_eq!(body["error"]["message"], "Please retry again later.");
    assert_eq!(body["error"]["innerError"]["status"], "429");
    let response = get(health).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers().get("retry-after"), None);
    let response = get(health).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["value"][0]["service"], "Microsoft Intune");

    // Malformed: 200, but not JSON.
    let response = get("/v1.0/deviceManagement/exchangeConnectors")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert_eq!(text.len(), json!({"@odata.context": format!("{base}/v1.0/$metadata#deviceManagement/exchangeConnectors"), "value": []}).to_string().len() / 2);

    // Unknown path and a write.
    let response = get("/v1.0/deviceManagement/nothingHere")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = client
        .post(format!("{base}/v1.0/deviceManagement"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);

    let t = || Some(TENANT.to_string());
    let get_row = |path: &str, query: Option<&str>, status: u16, tenant: Option<String>| {
        (
            "GET".to_string(),
            path.to_string(),
            query.map(str::to_string),
            status,
            tenant,
        )
    };
    assert_eq!(
        summary(&sim.requests()),
        vec![
            (
                "POST".into(),
                format!("/{TENANT}/oauth2/v2.0/token"),
                None,
                200,
                t()
            ),
            get_row("/v1.0/deviceManagement", None, 401, None),
            get_row("/v1.0/deviceManagement", None, 200, t()),
            get_row("/v1.0/deviceAppManagement/vppTokens", None, 200, t()),
            get_row(
                "/v1.0/deviceManagement/applePushNotificationCertificate",
                None,
                404,
                t()
            ),
            get_row(
                "/v1.0/subscribedSkus",
                Some("$select=skuPartNumber"),
                200,
                t()
            ),
            get_row(
                "/v1.0/subscribedSkus",
                Some("$select=skuPartNumber&$skiptoken=sim-2-2"),
                200,
                t()
            ),
            get_row(
                "/v1.0/subscribedSkus",
                Some("$select=skuPartNumber&$skiptoken=sim-4-2"),
                200,
                t()
            ),
            get_row("/v1.0/subscribedSkus", None, 200, t()),
            get_row(health, None, 429, t()),
            get_row(health, None, 503, t()),
            get_row(health, None, 200, t()),
            get_row("/v1.0/deviceManagement/exchangeConnectors", None, 200, t()),
            get_row("/v1.0/deviceManagement/nothingHere", None, 404, t()),
            (
                "POST".into(),
                "/v1.0/deviceManagement".into(),
                None,
                405,
                t()
            ),
        ]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn expired_tokens_and_token_faults() {
    let scenario = SCENARIO.replace(
        "    page_size: 2\n",
        "    page_size: 2\n    token_lifetime: 1s\n",
    )
        + "      - path: token\n        sequence: [{status: 500, retry_after: \"1\"}]\n";
    let (sim, client) = start(&scenario).await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let response = client
        .post(token_url(&sim, TENANT))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");

    // A 1s lifetime is announced as 0s, like Entra's 3599 for an hour, and has expired at once.
    let (status, body) = token_request(&sim, &client, TENANT, &form).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expires_in"], 0);
    let response = client
        .get(format!("{}/v1.0/deviceManagement", sim.base_url()))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Lifetime validation failed, the token is expired."
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn demo_scenario_covers_the_tenant_status_page() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/demo/scenario.yaml");
    let scenario = Scenario::load(&path).unwrap();
    assert_eq!(scenario.tenants().len(), 1);
    let demo = scenario.tenants()[0].clone();
    let tenant_id = demo.tenant_id().to_string();
    let (sim, client) = {
        let sim = Simulator::start(scenario, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let client = client(&sim);
        (sim, client)
    };
    let scope = format!("{}/.default", sim.base_url());
    let (status, body) = token_request(
        &sim,
        &client,
        &tenant_id,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", demo.client_id()),
            ("client_secret", demo.client_secret()),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let bearer = body["access_token"].as_str().unwrap().to_string();
    let get = |path: &'static str| {
        let request = client
            .get(format!("{}/{path}", sim.base_url()))
            .bearer_auth(&bearer);
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };

    let (_, org) = get("v1.0/organization").await;
    assert_eq!(org["value"][0]["displayName"], "Contoso");
    assert_eq!(org["value"][0]["id"], tenant_id.as_str());

    let (_, messages) = get("v1.0/admin/serviceAnnouncement/messages").await;
    let messages = messages["value"].as_array().unwrap();
    let intune = messages
        .iter()
        .filter(|m| {
            m["services"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == "Microsoft Intune")
        })
        .count();
    assert_eq!((intune, messages.len()), (13, 15));

    // Every path the exporter calls (every registered source's) answers; Chromebook is not
    // configured.
    for source in intune_exporter::sources::Source::ALL {
        let path = source.request().path;
        assert_eq!(
            get(path).await.0,
            StatusCode::OK,
            "{}: {path}",
            source.name()
        );
    }
    // Chromebook onboarding is a collection: an empty one when never onboarded.
    let (status, body) = get("beta/deviceManagement/chromeOSOnboardingSettings").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["value"], serde_json::json!([]));

    // An entity of a set by id, as GET /organization/{id} asks for it.
    let (status, body) = get("v1.0/admin/serviceAnnouncement/healthOverviews/Intune").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "serviceDegradation");
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/v1.0/$metadata#admin/serviceAnnouncement/healthOverviews/$entity",
            sim.base_url()
        )
    );
    sim.shutdown().await;
}

/// The demo scenario with a partner tenant and a 300-tenant fleet made from the demo tenant.
fn fleet_scenario() -> String {
    sim::with_contoso_domain(&format!(
        "{}fleets:
  - count: 300
    template: contoso.onmicrosoft.com
    seed: 42
    partner: {PARTNER}
    not_consented: [7]
    variants:
      - {{}}
      - v1.0/deviceManagement/applePushNotificationCertificate: {{expirationDateTime: {{in: 20d}}}}
      - v1.0/deviceManagement/applePushNotificationCertificate: {{expirationDateTime: {{ago: 1d}}}}
      - v1.0/deviceManagement/applePushNotificationCertificate: ~
",
        sim::demo_and_partner(PARTNER, "    page_size: 128\n")
    ))
}

/// A client-credentials request with the demo app's secret, the tenant named by `segment`.
async fn demo_token(sim: &Simulator, client: &Client, segment: &str) -> (StatusCode, Value) {
    let scope = format!("{}/.default", sim.base_url());
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", DEMO_CLIENT),
        ("client_secret", DEMO_SECRET),
        ("scope", scope.as_str()),
    ];
    token_request(sim, client, segment, &form).await
}

async fn get_json(sim: &Simulator, client: &Client, token: &str, url: &str) -> (StatusCode, Value) {
    let url = if url.starts_with("https://") {
        url.to_string()
    } else {
        format!("{}{url}", sim.base_url())
    };
    let response = client.get(url).bearer_auth(token).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_generated_fleet_is_served_with_domains_gdap_and_an_unconsented_tenant() {
    let scenario = Scenario::from_yaml(&fleet_scenario()).unwrap();
    let fleet: Vec<_> = scenario.tenants()[2..].to_vec();
    assert_eq!(fleet.len(), 300);
    let t42 = &fleet[41];
    // Pinned: ids must stay the same across releases, or saved configs stop matching.
    assert_eq!(t42.tenant_id(), "df70a803-1e36-416e-8f36-ac441372ede5");
    assert_eq!(t42.display_name(), Some("Customer 0042"));
    assert_eq!(t42.domains(), ["customer0042.onmicrosoft.com"]);
    let mut ids: Vec<&str> = fleet.iter().map(|t| t.tenant_id()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 300);

    let sim = Simulator::start(scenario.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = client(&sim);

    // The domain is accepted in place of the GUID, and the token is that tenant's.
    let (status, body) = demo_token(&sim, &client, "Customer0042.onmicrosoft.com").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    let (status, org) = get_json(&sim, &client, &token, "/v1.0/organization").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(org["value"][0]["id"], t42.tenant_id());
    assert_eq!(org["value"][0]["displayName"], "Customer 0042");
    assert_eq!(
        org["value"][0]["verifiedDomains"],
        json!([{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": true, "name": "customer0042.onmicrosoft.com", "type": "Managed"}])
    );
    // Everything else is the demo tenant's.
    assert_eq!(org["value"][0]["city"], "Redmond");

    // Variants spread the APNs certificate over healthy, warning, expired and not configured.
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let anchor = sim.anchor();
    let expected = [
        Some(fmt(anchor + chrono::TimeDelta::days(200))),
        Some(fmt(anchor + chrono::TimeDelta::days(20))),
        Some(fmt(anchor - chrono::TimeDelta::days(1))),
        None,
    ];
    for (n, expected) in [41usize, 42, 43, 44].into_iter().zip(expected) {
        let (status, body) = demo_token(&sim, &client, fleet[n - 1].tenant_id()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let token = body["access_token"].as_str().unwrap();
        let (status, apns) = get_json(
            &sim,
            &client,
            token,
            "/v1.0/deviceManagement/applePushNotificationCertificate",
        )
        .await;
        match expected {
            Some(at) => {
                assert_eq!(status, StatusCode::OK, "tenant {n}");
                assert_eq!(apns["expirationDateTime"], at.as_str(), "tenant {n}");
            }
            None => assert_eq!(status, StatusCode::NOT_FOUND, "tenant {n}"),
        }
    }

    // Tenant 7 never consented: Entra's answer for an app without a service principal there.
    let (status, body) = demo_token(&sim, &client, "customer0007.onmicrosoft.com").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unauthorized_client");
    assert_eq!(body["error_codes"], json!([700016]));
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS700016: Application with identifier '{DEMO_CLIENT}' was not found in the directory '{}'.", fleet[6].tenant_id())),
        "{description}"
    );

    // GDAP: the partner lists all 300, consented or not, in pages of its page_size.
    let (status, body) = demo_token(&sim, &client, PARTNER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    let mut url = "/v1.0/tenantRelationships/delegatedAdminCustomers".to_string();
    let mut pages = Vec::new();
    let mut listed = Vec::new();
    loop {
        let (status, page) = get_json(&sim, &client, &token, &url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["value"].as_array().unwrap();
        pages.push(items.len());
        listed.extend(items.iter().cloned());
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, [128, 128, 44]);
    let expected: Vec<Value> = fleet
        .iter()
        .map(|t| {
            json!({
                "@odata.type": "#microsoft.graph.delegatedAdminCustomer",
                "@odata.etag": format!("W/\"{}\"", &t.tenant_id()[..8]),
                "id": t.tenant_id(),
                "tenantId": t.tenant_id(),
                "displayName": t.display_name().unwrap(),
            })
        })
        .collect();
    assert_eq!(listed, expected);
    // And one GDAP relationship per customer: 1 in 10 ends in 5 days without auto-extension,
    // 1 in 10 expired 10 days ago, the others auto-extend.
    let mut url = "/v1.0/tenantRelationships/delegatedAdminRelationships?$select=id,status,endDateTime,autoExtendDuration,customer".to_string();
    let mut relationships = Vec::new();
    loop {
        let (status, page) = get_json(&sim, &client, &token, &url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        relationships.extend(page["value"].as_array().unwrap().iter().cloned());
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(relationships.len(), 300);
    for (n, (r, t)) in relationships
        .iter()
        .zip(&fleet)
        .enumerate()
        .map(|(i, p)| (i + 1, p))
    {
        let (status, end, auto) = match n % 10 {
            2 => ("active", anchor + chrono::TimeDelta::days(5), "PT0S"),
            3 => ("expired", anchor - chrono::TimeDelta::days(10), "PT0S"),
            _ => ("active", anchor + chrono::TimeDelta::days(400), "P180D"),
        };
        let id = r["id"].as_str().unwrap();
        assert_eq!(id.len(), 73, "{id}");
        assert!(id.ends_with(&format!("-{}", t.tenant_id())), "{id}");
        assert_eq!(
            r,
            &json!({
                "@odata.type": "#microsoft.graph.delegatedAdminRelationship",
                "@odata.etag": format!("W/\"{}\"", &id[..8]),
                "id": id,
                "status": status,
                "endDateTime": fmt(end),
                "autoExtendDuration": auto,
                "customer": {"tenantId": t.tenant_id(), "displayName": t.display_name().unwrap()},
            }),
            "customer {n}"
        );
    }
    // A customer does not list anyone.
    let (status, _) = demo_token(&sim, &client, fleet[0].tenant_id()).await;
    assert_eq!(status, StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn logs_stay_within_their_capacity_while_counters_keep_counting() {
    let scenario = format!("log_capacity: 50\n{SCENARIO}");
    let (sim, client) = start(&scenario).await;
    let mut tokens = Vec::new();
    for _ in 0..120 {
        tokens.push(token(&sim, &client).await);
    }
    for token in &tokens[..80] {
        let (status, _) = get_json(&sim, &client, token, "/v1.0/deviceManagement").await;
        assert_eq!(status, StatusCode::OK);
    }
    let requests = sim.requests();
    assert_eq!(requests.len(), 50);
    // The newest are kept: the last 50 of the 80 Graph requests.
    assert!(requests.iter().all(|r| r.path == "/v1.0/deviceManagement"));
    assert_eq!(sim.issued_tokens(), tokens[70..]);
    let stats = sim.stats();
    assert_eq!(
        (
            stats.requests,
            stats.token_requests,
            stats.graph_round_trips,
            stats.tokens_issued
        ),
        (200, 120, 80, 120)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn counters_are_exact_for_a_scripted_sequence() {
    let scenario = SCENARIO.replace(
        "    page_size: 2\n",
        "    page_size: 2\n    latency: 1500ms\n",
    );
    let (sim, client) = start(&scenario).await;
    let access = token(&sim, &client).await;
    // A refused sign-in still counts for its tenant.
    let (status, _) = token_request(
        &sim,
        &client,
        TENANT,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", "wrong"),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Five at once, each held 1.5 s by the tenant's latency: all five are in flight together.
    let paths = [
        "/v1.0/deviceManagement",
        "/v1.0/deviceManagement",
        "/v1.0/subscribedSkus",
        "/v1.0/deviceAppManagement/vppTokens",
        "/v1.0/deviceManagement/applePushNotificationCertificate",
    ];
    let handles: Vec<_> = paths
        .iter()
        .map(|path| {
            let request = client
                .get(format!("{}{path}", sim.base_url()))
                .bearer_auth(&access);
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                let status = response.status();
                (status, response.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(handle.await.unwrap());
    }
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| s.as_u16()).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 404]);
    // Then the second page of the licences, no token (no tenant), and a path that is no API.
    let next = answers[2].1["@odata.nextLink"].as_str().unwrap();
    let (status, _) = get_json(&sim, &client, &access, next).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get_json(&sim, &client, "not-a-token", "/v1.0/organization").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = client
        .get(format!("{}/nowhere", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let stats = sim.stats();
    let first = |graph: bool| {
        sim.requests()
            .iter()
            .filter(|r| r.tenant_id.as_deref() == Some(TENANT))
            .filter(|r| !graph || r.path.starts_with("/v1.0/"))
            .map(|r| r.at)
            .min()
    };
    let counts = |pairs: &[(&str, u64)]| {
        pairs
            .iter()
            .map(|(p, n)| (p.to_string(), *n))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    assert_eq!(
        stats,
        intune_graph_simulator::SimStats {
            requests: 10,
            graph_round_trips: 7,
            token_requests: 2,
            batch_items: 0,
            tokens_issued: 1,
            peak_in_flight_graph: 5,
            peak_in_flight_token: 1,
            paths: counts(&[
                ("/{tenant}/oauth2/v2.0/token", 2),
                ("/v1.0/deviceManagement", 2),
                ("/v1.0/subscribedSkus", 2),
                ("/v1.0/deviceAppManagement/vppTokens", 1),
                ("/v1.0/deviceManagement/applePushNotificationCertificate", 1),
                ("/v1.0/organization", 1),
                ("/nowhere", 1),
            ]),
            batch_item_paths: Default::default(),
            tenants: [(
                TENANT.to_string(),
                intune_graph_simulator::TenantStats {
                    graph_round_trips: 6,
                    token_requests: 2,
                    batch_items: 0,
                    first_request_at: first(false),
                    first_graph_request_at: first(true),
                }
            )]
            .into_iter()
            .collect(),
        }
    );
    // The same counters for tools out of process, on the simulator-only endpoint.
    let response = client
        .get(format!("{}/_sim/stats", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::to_value(&stats).unwrap());
    sim.shutdown().await;
}
