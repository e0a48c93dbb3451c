//! The poller against the simulator: a failing source keeps its last good data and goes down
//! without touching any other source, and recovers on its next good poll.

#![allow(clippy::unwrap_used)]

mod common;

use common::sim::{self, demo_with, faults, DEMO_SECRET, DEMO_TENANT as TENANT};
use intune_exporter::fleet::Origin;
use intune_exporter::graph::{GraphClient, GraphMetrics};
use intune_exporter::poller::poll_once;
use intune_exporter::sources::Source;
use intune_exporter::state::{Settings, Slot, State, TenantState};
use intune_graph_simulator::Simulator;
use prometheus::IntCounterVec;
use std::sync::Arc;
use std::time::Duration;

/// The demo tenant with the VPP tokens answered by `items` first.
async fn simulator(vpp_items: &str) -> Simulator {
    sim::start_yaml(&demo_with(&faults(&[(
        "v1.0/deviceAppManagement/vppTokens",
        vpp_items,
    )])))
    .await
}

fn client(sim: &Simulator) -> (GraphClient, IntCounterVec) {
    let token = sim::secret_credential(sim, TENANT, DEMO_SECRET);
    let metrics = GraphMetrics::new().unwrap();
    let requests = metrics.requests.clone();
    let client = sim::graph_client(sim, TENANT, Arc::new(token), &metrics, 2);
    (client, requests)
}

/// The tenant with two sources, APNs and VPP, and their slots.
fn tenant() -> (Arc<TenantState>, Arc<Slot>, Arc<Slot>) {
    let state = State::new(Settings::default());
    let tenant = state.upsert_tenant(
        TENANT,
        Origin::Config,
        Default::default(),
        [Source::Apns, Source::VppTokens],
    );
    let apns = tenant.slot(Source::Apns).unwrap();
    let vpp = tenant.slot(Source::VppTokens).unwrap();
    (tenant, apns, vpp)
}

#[tokio::test]
async fn a_failing_source_keeps_its_data_and_leaves_the_others_alone() {
    // First VPP poll answers normally, the second fails twice (both attempts), the third works.
    let sim = simulator("{delay: 0s}, {status: 503}, {status: 503}").await;
    let (client, requests) = client(&sim);
    let (tenant, apns, vpp) = tenant();
    let timeout = Duration::from_secs(30);

    poll_once(&tenant, &client, &[Source::Apns], timeout).await;
    poll_once(&tenant, &client, &[Source::VppTokens], timeout).await;
    let good = vpp.load();
    assert!(good.up);
    let good_data = good.data.clone().unwrap();
    let apns_before = apns.load();

    poll_once(&tenant, &client, &[Source::VppTokens], timeout).await;
    let failed = vpp.load();
    assert!(!failed.up);
    assert_eq!(
        failed.data.as_deref(),
        Some(&*good_data),
        "last good data kept"
    );
    assert_eq!(failed.last_success, good.last_success);
    assert_eq!(failed.completed_polls, 2);
    assert!(
        Arc::ptr_eq(&apns.load(), &apns_before),
        "the other source was not touched"
    );
    let labels = |code: &str| requests.with_label_values(&["vpp_tokens", code]).get();
    assert_eq!((labels("200"), labels("503")), (1, 2));

    poll_once(&tenant, &client, &[Source::VppTokens], timeout).await;
    let recovered = vpp.load();
    assert!(recovered.up);
    assert!(recovered.last_success > good.last_success);
    assert_eq!(labels("200"), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_throttled_request_waits_retry_after_then_succeeds() {
    let sim = simulator("{status: 429, retry_after: \"0.5\"}").await;
    let (client, requests) = client(&sim);
    let (tenant, _, vpp) = tenant();
    poll_once(
        &tenant,
        &client,
        &[Source::VppTokens],
        Duration::from_secs(30),
    )
    .await;
    assert!(vpp.load().up);
    let vpp_requests: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1.0/deviceAppManagement/vppTokens")
        .collect();
    assert_eq!(
        vpp_requests.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 200]
    );
    let waited = vpp_requests[1].at - vpp_requests[0].at;
    assert!(
        waited >= chrono::TimeDelta::milliseconds(500),
        "retried after {waited}"
    );
    assert_eq!(requests.with_label_values(&["vpp_tokens", "429"]).get(), 1);
    sim.shutdown().await;
}
