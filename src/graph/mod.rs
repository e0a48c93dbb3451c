//! Everything that talks HTTP to Microsoft: the Graph client, sign-in, clouds and errors.
//!
//! No other module sends a request to Graph or to the login authority. Sources describe what to
//! fetch (a path and the properties to `$select`); this module owns how: tokens, paging through
//! `@odata.nextLink`, retries with `Retry-After` (one [`verdict`] for single requests and batch
//! items alike), a client-side limiter per tenant under Microsoft's documented limits, JSON
//! batching, process-wide caps on requests and sign-ins in flight, reading every answer within
//! a size bound ([`body`]), and turning failures into [`GraphError`]s that tell the operator
//! what to do. No request follows a redirect, and no token or credential is sent to any host
//! but the configured ones. Base URLs and trust roots are configuration, never test hooks.

pub mod auth;
pub mod body;
pub mod caps;
pub mod certificate;
pub mod client;
pub mod cloud;
pub mod error;
pub mod federated;
pub mod limiter;
pub mod odata;
pub mod verdict;

pub use auth::TokenSource;
pub use caps::Caps;
pub use client::{GraphClient, GraphMetrics};
pub use cloud::Cloud;
pub use error::GraphError;
