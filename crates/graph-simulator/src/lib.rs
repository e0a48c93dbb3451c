//! A Microsoft Graph and Entra ID token endpoint simulator that speaks the real wire format, over
//! HTTPS only. It backs `intune-exporter --demo`, `intune-exporter simulate` and the integration
//! tests: production code has no test hooks, so everything a test needs comes from here.
//!
//! It owns serving a [`Scenario`]; it must not know any exporter type or any particular Graph
//! resource (resources are raw JSON in the scenario). The first is enforced by the build: this
//! crate does not depend on `intune-exporter` (the exporter depends on it), and shares only
//! `intune-duration` with it.
//!
//! # Layout
//!
//! - [`scenario`]: the YAML format and its validation (`scenario`), the validated parts the
//!   server reads (`scenario/model`: tenants, resources with relative times, faults), the JSON
//!   value checks both the parser and fleets use (`scenario/values`), and `fleets` of generated
//!   tenants (`scenario/fleet`).
//! - `tls`: the throw-away CA and server certificate.
//! - `server`: accept loop, TLS handshakes, HTTP/1.1 + HTTP/2, graceful shutdown.
//! - `router`: dispatch to the token endpoint, Graph or `/_sim/stats`; logs each request.
//! - `token`: `POST /{tenant}/oauth2/v2.0/token`, client credentials (secret, certificate
//!   assertion, federated token), and `GET /msi/token`, the App Service managed identity endpoint.
//! - `graph`: `GET /v1.0/...` and `GET /beta/...`: auth, faults, resources; JSON batches
//!   (`POST /v1.0/$batch`, `POST /beta/$batch`).
//! - `odata`: `$select`, paging and `@odata.context`, as pure functions.
//! - `state`: tenants, tokens, remaining faults, the bounded request log.
//! - `stats`: counters for tests and benchmarks ([`SimStats`]); `stats_endpoint`: serves them
//!   at `GET /_sim/stats`.
//! - `reply`: responses, header helpers and a handler's answer (`Handled`).
//! - Leaves: `record` ([`RecordedRequest`], an entry of the request log), `error`
//!   ([`SimulatorError`]), `sync` (poison-tolerant locking).
//!
//! Files depend one way: `lib` → `server` → `router` → the handlers (`token`, `graph`,
//! `stats_endpoint`) → `state` → `stats`, `scenario` and the leaves, with no import cycles
//! (`scripts/import-cycles`). A new Graph path needs no code here: it is scenario data
//! (`resources`), served by `graph`.
//!
//! # What it does not simulate
//!
//! `$filter`, `$orderby`, `$top` and `$expand` are ignored (the exporter filters client-side);
//! HTTP Basic client authentication is not
//! accepted; federated tokens are compared exactly, not verified against an issuer; the VM
//! instance metadata endpoint (IMDS, fixed at 169.254.169.254) cannot be simulated on loopback.
//!
//! # Simulator-only endpoint
//!
//! `GET /_sim/stats` answers [`SimStats`] as JSON to loopback clients (404 to anyone else), so a
//! benchmark running `intune-exporter simulate` in another process can read the counters. Graph
//! has no such path; the exporter never calls it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

mod error;
mod graph;
mod odata;
mod record;
mod reply;
mod router;
pub mod scenario;
mod server;
mod state;
mod stats;
mod stats_endpoint;
mod sync;
mod tls;
mod token;

pub use error::SimulatorError;
pub use record::RecordedRequest;
pub use scenario::{Scenario, ScenarioError, DEFAULT_LOG_CAPACITY};
pub use stats::{SimStats, TenantStats};

use state::SimState;

/// A running simulator. Stops on [`Simulator::shutdown`] or when dropped.
pub struct Simulator {
    local_addr: SocketAddr,
    ca_pem: String,
    state: Arc<SimState>,
    task: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Binds `listen` (e.g. `127.0.0.1:0`), generates a throw-away CA and server certificate
    /// (SANs `localhost`, `127.0.0.1`, `::1`), resolves the scenario's relative times against
    /// `anchor = Utc::now()` truncated to whole seconds, and serves HTTPS (HTTP/1.1 and HTTP/2)
    /// until [`Simulator::shutdown`] or drop.
    pub async fn start(
        scenario: Scenario,
        listen: SocketAddr,
    ) -> Result<Simulator, SimulatorError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let identity = tls::generate(provider.clone())?;
        let bind_error = |source| SimulatorError::Bind {
            addr: listen,
            source,
        };
        let listener = TcpListener::bind(listen).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;

        let now = Utc::now();
        let anchor = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
        let cancel = CancellationToken::new();
        let state = Arc::new(SimState::new(
            scenario,
            base_url(local_addr),
            anchor,
            provider,
            cancel,
        ));
        let acceptor = TlsAcceptor::from(identity.server_config);
        let task = tokio::spawn(server::serve(listener, acceptor, state.clone()));
        tracing::info!(address = %local_addr, "simulator listening");
        Ok(Simulator {
            local_addr,
            ca_pem: identity.ca_pem,
            state,
            task: Some(task),
        })
    }

    /// The bound address (with the real port when `:0` was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `https://127.0.0.1:PORT`: both the Graph root and the login authority host.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// PEM of the throw-away CA, for a client's trust roots.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The instant relative scenario times were resolved against (whole seconds).
    pub fn anchor(&self) -> DateTime<Utc> {
        self.state.anchor()
    }

    /// The last [`Scenario::log_capacity`] requests answered, in arrival order. A request still
    /// being answered (a `delay` fault, say) appears once it is answered or its client leaves.
    /// [`Simulator::stats`] counts past the capacity.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests()
    }

    /// The last [`Scenario::log_capacity`] access tokens issued (token endpoint and
    /// `/msi/token`), in order. Test tooling: lets a test check that no log line shows one.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state.issued_tokens()
    }

    /// Makes the token endpoint accept exactly `secrets` for the tenant `tenant_id` from now
    /// on, as rotating a client secret in Entra does (add the new one, later delete the old one).
    /// `false` for an unknown tenant.
    pub fn set_client_secrets(&self, tenant_id: &str, secrets: &[&str]) -> bool {
        match self.state.tenant_by_id(tenant_id) {
            Some(ix) => {
                let secrets = secrets.iter().map(|s| s.to_string()).collect();
                self.state.set_client_secrets(ix, secrets);
                true
            }
            None => false,
        }
    }

    /// The last [`Scenario::log_capacity`] `client_assertion`s received (signed JWTs and
    /// federated tokens), in order.
    pub fn received_assertions(&self) -> Vec<String> {
        self.state.received_assertions()
    }

    /// Everything counted since the start: requests per tenant and per path, token requests,
    /// `$batch` items, peak requests in flight, each tenant's first request.
    pub fn stats(&self) -> SimStats {
        self.state.stats()
    }

    /// Stops accepting, lets in-flight requests finish (pending delays end at once) and waits
    /// for the server to close.
    pub async fn shutdown(mut self) {
        self.state.cancel.cancel();
        if let Some(task) = self.task.take() {
            // A panic in the server task has nothing left to clean up here.
            let _ = task.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.state.cancel.cancel();
    }
}

/// The URL clients use. An unspecified listen address (`0.0.0.0`, `::`) is reached over loopback,
/// which the certificate also names.
fn base_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("https://{}", SocketAddr::new(ip, addr.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_use_loopback_for_unspecified_addresses() {
        assert_eq!(
            base_url("127.0.0.1:8443".parse().unwrap()),
            "https://127.0.0.1:8443"
        );
        assert_eq!(
            base_url("0.0.0.0:8443".parse().unwrap()),
            "https://127.0.0.1:8443"
        );
        assert_eq!(base_url("[::]:8443".parse().unwrap()), "https://[::1]:8443");
        assert_eq!(base_url("[::1]:1".parse().unwrap()), "https://[::1]:1");
    }
}
