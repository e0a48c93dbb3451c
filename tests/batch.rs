//! JSON batching against the simulator over HTTPS: every source of a tenant in two round trips,
//! each item answered as its single GET would be (paging, per-item `Retry-After`, 401, 403),
//! single requests when `$batch` itself fails, a refused `$filter` dropped for good, a nextLink
//! to another origin refused, and the process-wide caps on requests and sign-ins held with many
//! tenants at once.

#![allow(clippy::unwrap_used)]

mod common;

use common::sim::{
    self, demo_with, faults, DEMO_CLIENT as CLIENT, DEMO_SECRET as SECRET, DEMO_TENANT as TENANT,
    SECRET_LINE,
};
use intune_exporter::graph::client::RetryPolicy;
use intune_exporter::graph::limiter::Limiter;
use intune_exporter::graph::odata::{Raw, Request};
use intune_exporter::graph::{Caps, GraphClient, GraphError, GraphMetrics, TokenSource};
use intune_exporter::sources::Source;
use intune_graph_simulator::{RecordedRequest, Simulator};
use std::sync::Arc;
use std::time::Duration;

/// The demo tenant with `extra` lines (faults, page size) after its secret.
async fn simulator(extra: &str) -> Simulator {
    sim::start_yaml(&demo_with(extra)).await
}

fn credential(sim: &Simulator, tenant: &str, secret: &str) -> Arc<dyn TokenSource> {
    Arc::new(sim::secret_credential(sim, tenant, secret))
}

fn client_for(sim: &Simulator, tenant: &str, metrics: &GraphMetrics) -> GraphClient {
    sim::graph_client(sim, tenant, credential(sim, tenant, SECRET), metrics, 3)
}

fn client(sim: &Simulator) -> (GraphClient, GraphMetrics) {
    let metrics = GraphMetrics::new().unwrap();
    (client_for(sim, TENANT, &metrics), metrics)
}

fn requests(sources: &[Source]) -> Vec<(&'static str, &'static Request)> {
    sources.iter().map(|s| (s.name(), s.request())).collect()
}

/// One request as the simulator saw it: `POST /v1.0/$batch 200`, `  GET /v1.0/x 200` for an
/// item of a batch (indented), `GET /v1.0/x 200` for a single request.
fn line(r: &RecordedRequest) -> String {
    let query = r.query.as_deref().unwrap_or_default();
    let mut marks = String::new();
    if query.contains("filter=") {
        marks.push_str(" [filter]");
    }
    if query.contains("skiptoken=") {
        marks.push_str(" [next page]");
    }
    let indent = if r.in_batch { "  " } else { "" };
    format!("{indent}{} {} {}{marks}", r.method, r.path, r.status)
}

/// The log in round trips: a batch is its `POST` line followed by its items' lines (sorted: items
/// of one batch are answered at once), a single request a line of its own. In arrival order.
fn round_trips_logged(sim: &Simulator) -> Vec<Vec<String>> {
    let mut trips: Vec<Vec<String>> = Vec::new();
    // The trip each version's items belong to: the latest batch of that version.
    let mut open: Vec<(String, usize)> = Vec::new();
    let requests = sim.requests();
    for r in requests
        .iter()
        .filter(|r| !r.path.ends_with("/oauth2/v2.0/token"))
    {
        let version = r.path.split('/').nth(1).unwrap_or_default().to_string();
        if r.in_batch {
            let trip = open.iter().rev().find(|(v, _)| *v == version).unwrap().1;
            trips[trip].push(line(r));
            trips[trip][1..].sort();
        } else {
            if r.method == "POST" {
                open.push((version, trips.len()));
            }
            trips.push(vec![line(r)]);
        }
    }
    trips
}

fn round_trips(sim: &Simulator) -> usize {
    sim.requests()
        .iter()
        .filter(|r| !r.in_batch && !r.path.ends_with("/oauth2/v2.0/token"))
        .count()
}

fn count(metrics: &GraphMetrics, source: &str, code: &str) -> u64 {
    metrics.requests.with_label_values(&[source, code]).get()
}

/// The results of single requests, one source after the other, from a new client of the same
/// simulator (its scripted faults are used up by then).
async fn single_results(sim: &Simulator, sources: &[Source]) -> Vec<String> {
    let (client, _) = client(sim);
    let mut out = Vec::new();
    for s in sources {
        out.push(outcome(client.fetch(s.name(), s.request()).await));
    }
    out
}

/// A result as comparable text.
fn outcome(result: Result<Raw, GraphError>) -> String {
    match result {
        Ok(raw) => format!("{raw:?}"),
        Err(err) => format!("error: {err}"),
    }
}

#[tokio::test]
async fn every_source_of_a_tenant_takes_two_round_trips_and_reads_as_single_requests_do() {
    let sim = simulator("").await;
    let (client, metrics) = client(&sim);
    let results = client.fetch_all(&requests(&Source::ALL)).await;
    assert_eq!(round_trips(&sim), 2, "{:#?}", round_trips_logged(&sim));
    assert_eq!(sim::token_requests(&sim), 1);
    let mut trips: Vec<(String, usize)> = round_trips_logged(&sim)
        .into_iter()
        .map(|t| (t[0].clone(), t.len() - 1))
        .collect();
    trips.sort();
    assert_eq!(
        trips,
        [
            ("POST /beta/$batch 200".to_string(), 9),
            ("POST /v1.0/$batch 200".to_string(), 13)
        ]
    );
    // Same answers, item for item, as one GET per source.
    let results: Vec<String> = results.into_iter().map(outcome).collect();
    assert_eq!(results, single_results(&sim, &Source::ALL).await);
    // Decoded, every source is up. Chromebook onboarding is a collection now, so the demo
    // tenant that never onboarded answers 200 with none rather than 404.
    for (source, raw) in Source::ALL
        .iter()
        .zip(client.fetch_all(&requests(&Source::ALL)).await)
    {
        source.decode(raw.unwrap()).unwrap();
    }
    for source in Source::ALL {
        assert_eq!(
            (
                count(&metrics, source.name(), "200"),
                count(&metrics, source.name(), "404")
            ),
            (2, 0),
            "{}",
            source.name()
        );
        assert_eq!(
            metrics
                .duration
                .with_label_values(&[source.name()])
                .get_sample_count(),
            2
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_second_page_travels_in_the_next_batch() {
    let extra = "    page_size: 2\n";
    let sim = simulator(extra).await;
    let (client, _) = client(&sim);
    let sources = [Source::VppTokens, Source::Apns];
    let results: Vec<String> = client
        .fetch_all(&requests(&sources))
        .await
        .into_iter()
        .map(outcome)
        .collect();
    assert_eq!(
        round_trips_logged(&sim),
        [
            vec![
                "POST /v1.0/$batch 200",
                "  GET /v1.0/deviceAppManagement/vppTokens 200",
                "  GET /v1.0/deviceManagement/applePushNotificationCertificate 200",
            ],
            vec![
                "POST /v1.0/$batch 200",
                "  GET /v1.0/deviceAppManagement/vppTokens 200 [next page]",
            ]
        ]
    );
    let Ok(Raw::Collection(tokens)) = client
        .fetch(Source::VppTokens.name(), Source::VppTokens.request())
        .await
    else {
        panic!("a collection")
    };
    assert_eq!(tokens.len(), 3);
    assert_eq!(results, single_results(&sim, &sources).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_throttled_item_waits_for_its_own_retry_after_while_the_others_succeed() {
    let vpp = "v1.0/deviceAppManagement/vppTokens";
    let sim = simulator(&faults(&[(vpp, "{status: 429, retry_after: \"1.5\"}")])).await;
    let (client, metrics) = client(&sim);
    let sources = [Source::VppTokens, Source::Apns, Source::SubscribedSkus];
    let results = client.fetch_all(&requests(&sources)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        round_trips_logged(&sim),
        [
            vec![
                "POST /v1.0/$batch 200",
                "  GET /v1.0/deviceAppManagement/vppTokens 429",
                "  GET /v1.0/deviceManagement/applePushNotificationCertificate 200",
                "  GET /v1.0/subscribedSkus 200",
            ],
            vec![
                "POST /v1.0/$batch 200",
                "  GET /v1.0/deviceAppManagement/vppTokens 200",
            ]
        ]
    );
    let requests = sim.requests();
    let throttled = requests.iter().find(|r| r.status == 429).unwrap().at;
    let retried = requests
        .iter()
        .filter(|r| r.path == "/v1.0/$batch")
        .nth(1)
        .unwrap()
        .at;
    let waited = retried - throttled;
    assert!(
        waited >= chrono::TimeDelta::milliseconds(1500),
        "retried {waited} after the 429"
    );
    assert_eq!(
        metrics.throttled.with_label_values(&["vpp_tokens"]).get(),
        1
    );
    assert_eq!(count(&metrics, "vpp_tokens", "429"), 1);
    assert_eq!(count(&metrics, "vpp_tokens", "200"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_forbidden_item_fails_alone() {
    let sim = simulator(&faults(&[("v1.0/subscribedSkus", "{status: 403}")])).await;
    let (client, metrics) = client(&sim);
    let results = client.fetch_all(&requests(&Source::ALL)).await;
    for (source, result) in Source::ALL.iter().zip(&results) {
        if *source == Source::SubscribedSkus {
            // Graph's message, and the item's own request ids as a single GET's error names them.
            let err = result.as_ref().unwrap_err().to_string();
            let (text, ids) = err.split_once(" (request-id: ").unwrap();
            assert_eq!(
                text,
                "GET v1.0/subscribedSkus: HTTP 403 Authorization_RequestDenied: Insufficient privileges to complete the operation."
            );
            let (request_id, client_request_id) = ids
                .strip_suffix(')')
                .and_then(|ids| ids.split_once(", client-request-id: "))
                .unwrap();
            assert_eq!(
                (request_id.len(), client_request_id.len()),
                (36, 36),
                "{err}"
            );
        } else {
            assert!(result.is_ok(), "{}: {result:?}", source.name());
        }
    }
    // Forbidden is no reason to ask again.
    assert_eq!(round_trips(&sim), 2);
    assert_eq!(count(&metrics, "subscribed_skus", "403"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_401_in_a_batch_gets_one_new_token() {
    let sim = simulator(&faults(&[
        ("v1.0/deviceAppManagement/vppTokens", "{status: 401}"),
        ("beta/deviceManagement", "{status: 401}, {status: 401}"),
    ]))
    .await;
    let (client, _) = client(&sim);
    let sources = [Source::VppTokens, Source::ConnectorStatus];
    let results = client.fetch_all(&requests(&sources)).await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    // A second 401 in a row is a real refusal.
    assert_eq!(results[1].as_ref().unwrap_err().status(), Some(401));
    // Both items met the first 401 in the same round: one new token between them.
    assert_eq!(sim::token_requests(&sim), 2);
    assert_eq!(round_trips(&sim), 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failing_batch_falls_back_to_single_requests() {
    let sim = simulator(&faults(&[
        ("v1.0/$batch", "{status: 502}"),
        ("beta/$batch", "{malformed: true}"),
    ]))
    .await;
    let (client, metrics) = client(&sim);
    let sources = [Source::VppTokens, Source::Apns, Source::ConnectorStatus];
    let results: Vec<String> = client
        .fetch_all(&requests(&sources))
        .await
        .into_iter()
        .map(outcome)
        .collect();
    // The two batches go at once, and so do the single requests after them.
    let mut trips = round_trips_logged(&sim);
    trips.sort();
    assert_eq!(
        trips,
        [
            vec!["GET /beta/deviceManagement 200"],
            vec!["GET /v1.0/deviceAppManagement/vppTokens 200"],
            vec!["GET /v1.0/deviceManagement/applePushNotificationCertificate 200"],
            // Answered, but the answer was cut in half on the way.
            vec!["POST /beta/$batch 200", "  GET /beta/deviceManagement 200"],
            vec!["POST /v1.0/$batch 502"],
        ]
    );
    // The items of the failed batch count once with its status, once with their own.
    assert_eq!(
        (
            count(&metrics, "vpp_tokens", "502"),
            count(&metrics, "vpp_tokens", "200")
        ),
        (1, 1)
    );
    // The broken batch answer counts with its own status: it never reached the item.
    assert_eq!(count(&metrics, "connector_status", "200"), 2);
    assert_eq!(results, single_results(&sim, &sources).await);
    sim.shutdown().await;
}

/// The service issues request with a `$filter`: no production source sends one any more, but
/// Graph may refuse the filter of any request, so the client must still cope.
const FILTERED_ISSUES: Request = Request {
    filter: Some("isResolved eq false"),
    ..intune_exporter::sources::service_issues::REQUEST
};

#[tokio::test]
async fn a_refused_filter_is_dropped_and_stays_dropped() {
    let issues = Source::ServiceIssues;
    assert_eq!(issues.request().path, FILTERED_ISSUES.path);
    let filtered = [(issues.name(), &FILTERED_ISSUES)];
    let path = "v1.0/admin/serviceAnnouncement/issues?$filter";
    let sim = simulator(&faults(&[(path, "{status: 400}, {status: 400}")])).await;
    let metrics = GraphMetrics::new().unwrap();
    let batching = client_for(&sim, TENANT, &metrics);
    let single = client_for(&sim, TENANT, &metrics);
    let mut results = Vec::new();
    for _ in 0..2 {
        let result = batching.fetch_all(&filtered).await;
        results.extend(result.into_iter().map(outcome));
    }
    for _ in 0..2 {
        results.push(outcome(single.fetch(issues.name(), &FILTERED_ISSUES).await));
    }
    let batch = |item: &str| vec!["POST /v1.0/$batch 200".to_string(), format!("  {item}")];
    let single = |item: &str| vec![item.to_string()];
    assert_eq!(
        round_trips_logged(&sim),
        [
            // Batched: refused, at once again without the filter; the next poll goes without.
            batch("GET /v1.0/admin/serviceAnnouncement/issues 400 [filter]"),
            batch("GET /v1.0/admin/serviceAnnouncement/issues 200"),
            batch("GET /v1.0/admin/serviceAnnouncement/issues 200"),
            // Single requests: the same.
            single("GET /v1.0/admin/serviceAnnouncement/issues 400 [filter]"),
            single("GET /v1.0/admin/serviceAnnouncement/issues 200"),
            single("GET /v1.0/admin/serviceAnnouncement/issues 200"),
        ]
    );
    // Each answer is the one a filter Graph accepts gives (the source filters locally).
    let expected = single_results(&sim, &[issues]).await.remove(0);
    assert!(expected.starts_with("Collection([Object"), "{expected}");
    assert_eq!(results, vec![expected; 4]);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_400_on_a_later_page_fails_the_collection_and_keeps_its_filter() {
    // Graph judges a $filter on the first page; a 400 to a later one (whose nextLink carries the
    // filter along) is an error of that page, not a refusal of the filter: both ways of
    // fetching fail the collection and keep sending the filter.
    let issues = Source::ServiceIssues;
    let filtered = [(issues.name(), &FILTERED_ISSUES)];
    let path = "v1.0/admin/serviceAnnouncement/issues";
    let sequence = "[{delay: 0s}, {status: 400}, {delay: 0s}, {status: 400}]";
    let sim = simulator(&format!(
        "    page_size: 1\n{}",
        faults(&[(path, sequence)])
    ))
    .await;
    let metrics = GraphMetrics::new().unwrap();
    let client = client_for(&sim, TENANT, &metrics);
    let mut results = client.fetch_all(&filtered).await;
    results.push(client.fetch(issues.name(), &FILTERED_ISSUES).await);
    // Graph's error, request ids aside (they differ per answer).
    let refused: Vec<_> = results
        .into_iter()
        .map(|result| match result {
            Err(GraphError::Status {
                path,
                status,
                code,
                message,
                ..
            }) => format!("{path}: {status} {code}: {message}"),
            other => format!("{other:?}"),
        })
        .collect();
    let refused_page = "v1.0/admin/serviceAnnouncement/issues: 400 BadRequest: Invalid request.";
    assert_eq!(refused, [refused_page, refused_page]);
    let page = |status: u16, marks: &str| {
        format!("GET /v1.0/admin/serviceAnnouncement/issues {status} [filter]{marks}")
    };
    let batch = |item: String| vec!["POST /v1.0/$batch 200".to_string(), format!("  {item}")];
    assert_eq!(
        round_trips_logged(&sim),
        [
            batch(page(200, "")),
            batch(page(400, " [next page]")),
            vec![page(200, "")],
            vec![page(400, " [next page]")],
        ]
    );
    // The next fetch asks with the filter again.
    let again = client.fetch(issues.name(), &FILTERED_ISSUES).await;
    assert!(matches!(again, Ok(Raw::Collection(_))), "{again:?}");
    let trips = round_trips_logged(&sim);
    assert_eq!(trips[4], [page(200, "")]);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused_without_a_request() {
    // A listener that counts whoever connects: nothing may.
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = elsewhere.local_addr().unwrap().port();
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    let listener = tokio::spawn(async move {
        while let Ok((_socket, _)) = elsewhere.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let link =
        format!("https://127.0.0.1:{port}/v1.0/deviceAppManagement/vppTokens?$skiptoken=stolen");
    // The scenario answers the collection with a page whose nextLink points elsewhere.
    let scenario = format!(
        "tenants:\n  - tenant_id: {TENANT}\n    client_id: {CLIENT}\n    client_secret: {SECRET}\n    resources:\n      v1.0/deviceAppManagement/vppTokens:\n        value: []\n        \"@odata.nextLink\": \"{link}\"\n"
    );
    let sim = sim::start_yaml(&scenario).await;
    let (client, _) = client(&sim);
    let results = client.fetch_all(&requests(&[Source::VppTokens])).await;
    match &results[0] {
        Err(GraphError::ForeignNextLink {
            path,
            link: refused,
        }) => {
            assert_eq!(path, "v1.0/deviceAppManagement/vppTokens");
            assert_eq!(refused, &link);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        round_trips_logged(&sim),
        [[
            "POST /v1.0/$batch 200",
            "  GET /v1.0/deviceAppManagement/vppTokens 200"
        ]]
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);
    listener.abort();
    sim.shutdown().await;
}

/// `n` copies of the demo tenant with their own ids, each answering Graph after `latency` and
/// a sign-in after `sign_in`.
fn fleet(n: usize, latency: &str, sign_in: &str) -> (String, Vec<String>) {
    let mut text = String::from("tenants:\n");
    let mut ids = Vec::new();
    for i in 0..n {
        let id = format!("00000000-0000-4000-8000-{i:012x}");
        text.push_str(&sim::demo_tenant_as(
            &id,
            &format!(
                "{SECRET_LINE}    latency: {latency}\n{}",
                faults(&[("token", &format!("{{delay: {sign_in}}}"))])
            ),
        ));
        ids.push(id);
    }
    (text, ids)
}

#[tokio::test]
async fn the_caps_on_requests_and_sign_ins_hold_across_many_tenants() {
    // Sign-ins far shorter than Graph answers: uncapped, every tenant's batches would overlap.
    let (scenario, tenants) = fleet(24, "200ms", "20ms");
    let sim = sim::start_yaml(&scenario).await;
    let caps = Caps::new(4, 2);
    let metrics = GraphMetrics::new().unwrap();
    let clients: Vec<GraphClient> = tenants
        .iter()
        .map(|t| {
            GraphClient::new(
                sim::http(&sim),
                sim::root(&sim),
                t.clone(),
                caps.sign_ins(credential(&sim, t, SECRET)),
                Arc::new(Limiter::documented()),
                metrics.clone(),
                RetryPolicy::default(),
            )
            .capped(&caps)
        })
        .collect();
    let all = requests(&Source::ALL);
    let polls = futures::future::join_all(clients.iter().map(|c| c.fetch_all(&all))).await;
    for results in polls {
        assert!(results.iter().all(Result::is_ok));
    }
    // Every tenant: two round trips, one sign-in. The caps were reached, never passed.
    assert_eq!(round_trips(&sim), 2 * tenants.len());
    assert_eq!(sim::token_requests(&sim), tenants.len());
    let stats = sim.stats();
    assert_eq!(
        (stats.peak_in_flight_graph, stats.peak_in_flight_token),
        (4, 2)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_simulator_answers_batches_in_graphs_format() {
    let sim = simulator("    page_size: 2\n").await;
    let token = credential(&sim, TENANT, SECRET).token().await.unwrap();
    let http = sim::http(&sim);
    let post = |body: serde_json::Value, token: &str| {
        http.post(format!("{}/v1.0/$batch", sim.base_url()))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let get = |id: usize, url: &str| serde_json::json!({"id": id.to_string(), "method": "GET", "url": url});

    let answer = post(
        serde_json::json!({"requests": [
            get(1, "/deviceAppManagement/vppTokens?$select=id"),
            get(2, "deviceManagement/applePushNotificationCertificate?$select=id"),
            get(3, "/nothingHere"),
        ]}),
        &token,
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    let responses = body["responses"].as_array().unwrap();
    let by_id = |id: &str| responses.iter().find(|r| r["id"] == id).unwrap();
    let base = sim.base_url();
    assert_eq!(by_id("1")["status"], 200);
    assert_eq!(
        by_id("1")["body"]["@odata.nextLink"],
        format!("{base}/v1.0/deviceAppManagement/vppTokens?$select=id&$skiptoken=sim-2-2").as_str()
    );
    assert_eq!(
        by_id("1")["body"]["value"],
        serde_json::json!([
            {"id": "2f1a6c1e-4b8d-4e3a-9c7f-0d5b2e8a1f63"},
            {"id": "6a2e8f14-0b3d-4c97-a5e1-8d7c2b9f0e36"}
        ])
    );
    assert!(by_id("1")["headers"]["content-type"]
        .as_str()
        .unwrap()
        .starts_with("application/json"));
    assert!(by_id("1")["headers"]["request-id"].is_string());
    assert_eq!(
        by_id("2")["body"]["id"],
        "8b2f5d9e-1c4a-4e7b-a3d6-0f9c2e5b8a14"
    );
    assert_eq!(by_id("3")["status"], 404);
    assert_eq!(by_id("3")["body"]["error"]["code"], "ResourceNotFound");

    // More than 20 requests, repeated ids, and a bad token are refused as a whole.
    let many: Vec<_> = (0..21).map(|i| get(i, "/organization")).collect();
    let too_many = post(serde_json::json!({ "requests": many }), &token)
        .await
        .unwrap();
    assert_eq!(too_many.status(), 400);
    let twice = post(
        serde_json::json!({"requests": [get(1, "/organization"), get(1, "/subscribedSkus")]}),
        &token,
    )
    .await
    .unwrap();
    assert_eq!(twice.status(), 400);
    let unknown = post(
        serde_json::json!({"requests": [get(1, "/organization")]}),
        "forged",
    )
    .await
    .unwrap();
    assert_eq!(unknown.status(), 401);
    let refused: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(refused["error"]["code"], "InvalidAuthenticationToken");

    // The log holds each batch and each item of the one that was answered.
    assert_eq!(
        round_trips_logged(&sim),
        [
            vec![
                "POST /v1.0/$batch 200",
                "  GET /v1.0/deviceAppManagement/vppTokens 200",
                "  GET /v1.0/deviceManagement/applePushNotificationCertificate 200",
                "  GET /v1.0/nothingHere 404",
            ],
            vec!["POST /v1.0/$batch 400"],
            vec!["POST /v1.0/$batch 400"],
            vec!["POST /v1.0/$batch 401"],
        ]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_401_or_429_for_the_whole_batch_is_each_items_answer() {
    let sim = simulator(&faults(&[(
        "v1.0/$batch",
        "{status: 401}, {status: 429, retry_after: \"1\"}",
    )]))
    .await;
    let (client, metrics) = client(&sim);
    let sources = [Source::VppTokens, Source::Apns];
    let results = client.fetch_all(&requests(&sources)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // A new token, then a wait for the batch's Retry-After: no single requests.
    assert_eq!(sim::token_requests(&sim), 2);
    assert_eq!(
        round_trips_logged(&sim),
        [
            vec!["POST /v1.0/$batch 401".to_string()],
            vec!["POST /v1.0/$batch 429".to_string()],
            vec![
                "POST /v1.0/$batch 200".to_string(),
                "  GET /v1.0/deviceAppManagement/vppTokens 200".to_string(),
                "  GET /v1.0/deviceManagement/applePushNotificationCertificate 200".to_string(),
            ],
        ]
    );
    let posts: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1.0/$batch")
        .collect();
    assert!(
        posts[2].at - posts[1].at >= chrono::TimeDelta::seconds(1),
        "{posts:#?}"
    );
    assert_eq!(metrics.throttled.with_label_values(&["apns"]).get(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_sign_in_costs_one_token_request_for_every_source() {
    let sim = simulator("").await;
    let client = GraphClient::new(
        sim::http(&sim),
        sim::root(&sim),
        TENANT.to_string(),
        credential(&sim, TENANT, "not-the-secret"),
        Arc::new(Limiter::documented()),
        GraphMetrics::new().unwrap(),
        RetryPolicy::default(),
    );
    let results = client.fetch_all(&requests(&Source::ALL)).await;
    for result in &results {
        let err = result.as_ref().unwrap_err().to_string();
        assert!(
            err.starts_with("getting a token failed: the token endpoint answered HTTP 401: invalid_client: AADSTS7000215"),
            "{err}"
        );
    }
    assert_eq!(sim::token_requests(&sim), 1);
    assert_eq!(round_trips(&sim), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_graph_that_refuses_connections_fails_every_item_at_once() {
    let sim = simulator("").await;
    // Sign-in works; Graph is a loopback port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics = GraphMetrics::new().unwrap();
    let client = GraphClient::new(
        sim::http(&sim),
        url::Url::parse(&format!("https://127.0.0.1:{closed}/")).unwrap(),
        TENANT.to_string(),
        credential(&sim, TENANT, SECRET),
        Arc::new(Limiter::documented()),
        metrics.clone(),
        RetryPolicy {
            max_attempts: 3,
            base_backoff: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
    );
    let results = client.fetch_all(&requests(&Source::ALL)).await;
    for (source, result) in Source::ALL.iter().zip(&results) {
        assert!(
            matches!(result, Err(GraphError::Transport { .. })),
            "{}: {result:?}",
            source.name()
        );
        // The batch's one attempt, and no single request after it (each would have retried
        // against the same refused port).
        assert_eq!(
            count(&metrics, source.name(), "error"),
            1,
            "{}",
            source.name()
        );
    }
    sim.shutdown().await;
}
