//! intune-exporter turns Microsoft Intune's *Tenant status* page into Prometheus metrics.
//!
//! # Layout
//!
//! - [`duration`]: Prometheus-style durations (`5m`, `7d`) for config and scenarios.

#![forbid(unsafe_code)]

pub mod duration;
