//! intune-exporter turns Microsoft Intune's *Tenant status* page into Prometheus metrics.
//!
//! # Layout
//!
//! - [`duration`]: Prometheus-style durations (`5m`, `7d`) for config and scenarios.
//! - [`simulator`]: a Microsoft Graph + Entra token endpoint simulator over HTTPS, for `--demo`,
//!   `simulate` and the integration tests.

#![forbid(unsafe_code)]

pub mod duration;
pub mod simulator;
