//! intune-exporter turns Microsoft Intune's *Tenant status* page into Prometheus metrics.
//!
//! # Layout
//!
//! - [`cli`]: flags in the Prometheus exporter convention, with env mirrors.
//! - [`config`]: the YAML config file, validated into typed settings; secrets that never print.
//! - [`graph`]: the only code that talks to Microsoft: Graph client, JSON batches, paging,
//!   retries, the per-tenant rate limiter, process-wide caps on requests and sign-ins, sign-in
//!   (secret, certificate, workload and managed identity), clouds, errors.
//! - [`sources`]: one module per Graph data source, named after it and listed once in its
//!   registry: a request, a decoded type, its connector kinds' instances and its other
//!   families, all pure. Health is evaluated once from the instances, for the metrics and the
//!   status page alike (`docs/adding-a-source.md`).
//! - [`health`]: the Tenant status page's healthy / warning / unhealthy rules, pure.
//! - [`metrics`]: the catalog of every family, each tenant's render (made when its data is
//!   polled), the cache that assembles `/metrics` from renders by copying bytes, the encoder.
//! - [`fleet`]: which tenants to read: config, tenant files, GDAP discovery, sharding; and
//!   the partner's GDAP relationships, listed with the customers.
//! - [`app_credentials`]: when the exporter's own app registration's secrets and certificates
//!   end (optional, `app_credentials:`).
//! - [`supervisor`]: one poller per tenant, started and stopped as the fleet changes.
//! - [`poller`]: one tenant's schedule: polls its due sources together, publishes snapshots.
//! - [`snapshot`]: what one (tenant, source)'s polls left behind, immutable.
//! - [`state`]: the latest snapshot per (tenant, source) and each tenant's last sign-in,
//!   swapped atomically.
//! - [`status`]: the status page (`/`, `/tenants/{id}`) and its JSON (`/api/v1/tenants`),
//!   rendered from views of the state, health evaluated like the metrics.
//! - [`http`]: `/metrics`, `/`, `/-/healthy`, `/-/ready`, `/-/reload`: read and encode, nothing
//!   else.
//! - [`web`]: the server around the handlers: listeners (dual-stack, systemd sockets), TLS,
//!   basic auth and headers from `--web.config.file`, timeouts and the connection cap.
//! - [`reload`]: the reload requests (SIGHUP, `POST /-/reload`) and their outcome metrics.
//! - [`files`]: bounded reads of operator-supplied files; [`yaml`]: strict, bounded YAML.
//! - [`app`]: wiring from a config to a running exporter.
//! - [`clients`]: each tenant's Graph client from the config's Graph settings: the shared HTTP
//!   clients, the tenant's credential, the process-wide caps.
//! - [`demo`]: `--demo`, the simulator with the bundled scenario and a config pointing at it.
//! - [`duration`]: Prometheus-style durations (`5m`, `7d`) for config and scenarios; a
//!   re-export of the `intune-duration` crate (`crates/duration`), which the simulator shares.
//! - [`logging`]: logfmt or JSON logs.
//!
//! The Graph simulator (a Microsoft Graph + Entra token endpoint over HTTPS, for `--demo`,
//! `simulate` and the integration tests) is the `intune-graph-simulator` crate
//! (`crates/graph-simulator`). It does not depend on this crate, so the compiler keeps it from
//! knowing any exporter type; here only [`demo`] and `main` use it.

#![forbid(unsafe_code)]

pub mod app;
pub mod app_credentials;
pub mod cli;
pub mod clients;
pub mod config;
pub mod demo;
pub mod files;
pub mod fleet;
pub mod graph;
pub mod health;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod poller;
pub mod reload;
pub mod snapshot;
pub mod sources;
pub mod state;
pub mod status;
pub mod supervisor;
pub mod web;
pub mod yaml;

/// Prometheus-style durations, from their own crate (shared with the simulator's scenarios).
pub use intune_duration as duration;
