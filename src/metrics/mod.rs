//! Metrics: the catalog of every family, the set that pure functions fill, the scrape-time
//! collector and the one encoder.

pub mod catalog;
pub mod collector;
pub mod encode;
pub mod set;

pub use set::MetricSet;
