//! intune-exporter turns Microsoft Intune's *Tenant status* page into Prometheus metrics.
//!
//! # Layout
//!
//! - [`cli`]: flags in the Prometheus exporter convention, with env mirrors.
//! - [`config`]: the YAML config file, validated into typed settings; secrets that never print.
//! - [`graph`]: the only code that talks to Microsoft: Graph client, paging, retries, the
//!   per-tenant rate limiter, sign-in (secret, certificate, workload and managed identity),
//!   clouds, errors.
//! - [`sources`]: one module per Graph data source: a request, a decoder and a pure
//!   `(data, now) -> families` function.
//! - [`health`]: the Tenant status page's healthy / warning / unhealthy rules, pure.
//! - [`metrics`]: the catalog of every family, the scrape-time collector, the encoder.
//! - [`poller`]: schedules polls and publishes immutable snapshots.
//! - [`state`]: the latest snapshot per (tenant, source), swapped atomically.
//! - [`status`]: the status page (`/`, `/tenants/{id}`) and its JSON (`/api/v1/tenants`),
//!   rendered from views of the state, health evaluated like the metrics.
//! - [`http`]: `/metrics`, the status page, `/-/healthy`, `/-/ready`: read and encode.
//! - [`app`]: wiring from a config to a running exporter.
//! - [`demo`]: `--demo`, the simulator with the bundled scenario and a config pointing at it.
//! - [`duration`]: Prometheus-style durations (`5m`, `7d`) for config and scenarios.
//! - [`logging`]: logfmt or JSON logs.
//! - [`simulator`]: a Microsoft Graph + Entra token endpoint simulator over HTTPS, for `--demo`,
//!   `simulate` and the integration tests. Not used by the exporter itself.

#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod duration;
pub mod graph;
pub mod health;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod poller;
pub mod simulator;
pub mod sources;
pub mod state;
pub mod status;
