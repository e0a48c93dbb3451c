//! Metrics: the catalog of every family, the set that pure functions fill, each tenant's
//! render made when its snapshots are published, the cache that assembles `/metrics` from the
//! renders by copying bytes, and the one encoder.

pub mod cache;
pub mod catalog;
pub mod collector;
pub mod encode;
pub mod gzip;
pub mod render;
pub mod set;

pub use cache::RenderCache;
pub use render::{render_tenant, TenantInput, TenantRender};
pub use set::MetricSet;
