//! Reload requests: SIGHUP and `POST /-/reload` each send a [`ReloadRequest`] down one channel;
//! the process's main loop answers each with the outcome (re-reading and validating the config
//! file, its secret and certificate files, and the web config), and [`ReloadMetrics`] records
//! it under Prometheus' own names. Owns the request/answer plumbing and the two gauges; what a
//! reload does is the caller's.

use crate::metrics::catalog::{
    CONFIG_LAST_RELOAD_SUCCESSFUL, CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP,
};
use prometheus::{Gauge, Opts, Registry};
use tokio::sync::{mpsc, oneshot};

/// One request to reload, answered with `Ok` or every problem found.
#[derive(Debug)]
pub struct ReloadRequest {
    reply: oneshot::Sender<Result<(), String>>,
}

impl ReloadRequest {
    /// Answers the requester (who may have gone away, which is fine).
    pub fn answer(self, outcome: Result<(), String>) {
        let _ = self.reply.send(outcome);
    }
}

/// Sends reload requests; cheap to clone.
#[derive(Debug, Clone)]
pub struct ReloadHandle {
    tx: mpsc::Sender<ReloadRequest>,
}

impl ReloadHandle {
    /// Asks for a reload and waits for its outcome.
    pub async fn reload(&self) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(ReloadRequest { reply })
            .await
            .map_err(|_| "the exporter is shutting down".to_string())?;
        answer
            .await
            .map_err(|_| "the exporter is shutting down".to_string())?
    }
}

/// A handle and the receiving end the main loop serves.
pub fn channel() -> (ReloadHandle, mpsc::Receiver<ReloadRequest>) {
    // Reloads are rare and each waits for its answer; a few queued are plenty.
    let (tx, rx) = mpsc::channel(4);
    (ReloadHandle { tx }, rx)
}

/// `intune_exporter_config_last_reload_successful` and `..._success_timestamp_seconds`.
#[derive(Debug, Clone)]
pub struct ReloadMetrics {
    successful: Gauge,
    timestamp: Gauge,
}

impl ReloadMetrics {
    /// Registers both gauges, set as after a successful load now (as Prometheus does at start).
    pub fn register(registry: &Registry) -> prometheus::Result<ReloadMetrics> {
        let gauge = |def: &crate::metrics::catalog::FamilyDef| {
            Gauge::with_opts(Opts::new(def.name, def.help))
        };
        let metrics = ReloadMetrics {
            successful: gauge(&CONFIG_LAST_RELOAD_SUCCESSFUL)?,
            timestamp: gauge(&CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP)?,
        };
        registry.register(Box::new(metrics.successful.clone()))?;
        registry.register(Box::new(metrics.timestamp.clone()))?;
        metrics.record(true);
        Ok(metrics)
    }

    /// Records the outcome of a reload.
    pub fn record(&self, ok: bool) {
        self.successful.set(if ok { 1.0 } else { 0.0 });
        if ok {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs() as f64);
            self.timestamp.set(now);
        }
    }
}
