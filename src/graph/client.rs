//! [`GraphClient`]: GET requests to one tenant's Graph, with paging, retries and accounting.
//!
//! [`GraphClient::fetch`] sends one GET per page ([`single`]); [`GraphClient::fetch_all`]
//! carries many requests in JSON batches ([`batch`]). Both share the tenant's [`session`] (its
//! token, limiter, a permit of the process-wide request cap while a request is in flight,
//! metrics) and decide every answer with the one [`verdict`]: retries, a new token after a 401,
//! and a `$filter` that Graph refuses with 400 dropped for good (the source filters locally).
//!
//! [`verdict`]: super::verdict

pub mod batch;
mod metrics;
mod session;
mod single;

pub use self::metrics::GraphMetrics;
pub use super::verdict::RetryPolicy;

use self::session::Session;
use super::auth::TokenSource;
use super::caps::Caps;
use super::error::GraphError;
use super::limiter::Limiter;
use super::odata::{Raw, Request};
use std::sync::Arc;
use url::Url;

/// A Graph client for one tenant. Clones share everything, the `$filter`s Graph refused
/// included.
#[derive(Debug, Clone)]
pub struct GraphClient {
    session: Session,
}

impl GraphClient {
    /// A client for `tenant_id` whose requests go to `root` (e.g. `https://graph.microsoft.com/`).
    /// Every request first passes `limiter`, the tenant's share of Graph's limits. `http` should
    /// follow no redirects (the exporter's own client does not): a redirect is then reported as
    /// an error naming where it pointed.
    pub fn new(
        http: reqwest::Client,
        root: Url,
        tenant_id: String,
        token: Arc<dyn TokenSource>,
        limiter: Arc<Limiter>,
        metrics: GraphMetrics,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            session: Session {
                http,
                root,
                tenant_id,
                token,
                limiter,
                metrics,
                retry,
                requests_in_flight: None,
                unfiltered: Arc::default(),
            },
        }
    }

    /// Makes every request of this client hold a permit of `caps`' request cap while in flight.
    pub fn capped(mut self, caps: &Caps) -> Self {
        self.session.requests_in_flight = Some(caps.requests());
        self
    }

    /// The tenant this client reads.
    pub fn tenant_id(&self) -> &str {
        &self.session.tenant_id
    }

    /// Fetches what `request` names: an entity (`None` when Graph answers 404, which for a
    /// singleton connector means "not configured") or every item of a collection, following
    /// `@odata.nextLink` to the end.
    pub async fn fetch(&self, source: &str, request: &Request) -> Result<Raw, GraphError> {
        single::fetch(&self.session, source, request).await
    }

    /// Fetches every request, each as [`GraphClient::fetch`] would, in JSON batches of up to 20
    /// (v1.0 and beta apart); the results are in the order of `requests`. Each pair is the
    /// `source` label and what to fetch. See [`batch`].
    pub async fn fetch_all(
        &self,
        requests: &[(&'static str, &'static Request)],
    ) -> Vec<Result<Raw, GraphError>> {
        batch::fetch_all(&self.session, requests).await
    }
}
