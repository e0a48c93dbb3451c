//! [`GraphMetrics`]: the instruments a Graph client updates as its requests happen.

use crate::metrics::catalog::{GRAPH_REQUESTS, GRAPH_REQUEST_DURATION, GRAPH_THROTTLED};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// Instruments the client updates as requests happen.
#[derive(Debug, Clone)]
pub struct GraphMetrics {
    /// `intune_exporter_graph_requests_total{source,code}`: one per request, or per item of a
    /// JSON batch.
    pub requests: IntCounterVec,
    /// `intune_exporter_graph_throttled_total{source}`.
    pub throttled: IntCounterVec,
    /// `intune_exporter_graph_request_duration_seconds{source}`: a batch item observes the round
    /// trip of the batch that carried it.
    pub duration: HistogramVec,
}

/// Buckets for one Graph request: Graph answers in 50 ms to a few seconds; beyond 30 s the
/// request timeout has usually struck.
const DURATION_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

impl GraphMetrics {
    /// New, unregistered instruments, as the catalog declares them.
    pub fn new() -> prometheus::Result<Self> {
        Ok(Self {
            requests: IntCounterVec::new(
                Opts::new(GRAPH_REQUESTS.name, GRAPH_REQUESTS.help),
                GRAPH_REQUESTS.labels,
            )?,
            throttled: IntCounterVec::new(
                Opts::new(GRAPH_THROTTLED.name, GRAPH_THROTTLED.help),
                GRAPH_THROTTLED.labels,
            )?,
            duration: HistogramVec::new(
                HistogramOpts::new(GRAPH_REQUEST_DURATION.name, GRAPH_REQUEST_DURATION.help)
                    .buckets(DURATION_BUCKETS.to_vec()),
                GRAPH_REQUEST_DURATION.labels,
            )?,
        })
    }

    /// Registers every instrument with `registry`.
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.requests.clone()))?;
        registry.register(Box::new(self.throttled.clone()))?;
        registry.register(Box::new(self.duration.clone()))
    }
}
