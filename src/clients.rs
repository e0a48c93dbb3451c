//! Each tenant's Graph client, built from the config's Graph settings: the HTTP clients every
//! tenant shares (trust roots, proxy, timeouts, no redirects), the sign-in for the tenant's
//! credential, the process-wide caps and the shared instruments. Builds; sends nothing.

use crate::config::{Auth, Config};
use crate::graph::auth::{Authority, EntraCredential};
use crate::graph::client::RetryPolicy;
use crate::graph::limiter::Limiter;
use crate::graph::{Caps, GraphClient, GraphError, GraphMetrics, TokenSource};
use prometheus::{Counter, GaugeVec};
use std::sync::Arc;
use std::time::Duration;

/// The HTTP client could not be built (bad trust roots, TLS set-up).
#[derive(Debug, thiserror::Error)]
#[error("building the HTTP client: {0}")]
pub struct HttpClientError(pub String);

/// The instruments every tenant's Graph client shares.
#[derive(Debug, Clone)]
pub struct Instruments {
    /// Requests, throttling and durations.
    pub graph: GraphMetrics,
    /// Seconds waited for the client-side limiter, all tenants together.
    pub limiter_wait: Counter,
    /// Expiry of the certificates the exporter signs in with.
    pub credential_expiry: GaugeVec,
}

/// Builds each tenant's Graph client from the shared HTTP client, URLs and instruments.
#[derive(Debug)]
pub struct ClientFactory {
    http: reqwest::Client,
    managed_identity_http: Result<reqwest::Client, String>,
    graph_root: url::Url,
    retry: RetryPolicy,
    caps: Caps,
    authority: Authority,
    instruments: Instruments,
}

impl ClientFactory {
    /// A factory for `config`'s Graph settings.
    pub fn new(config: &Config, instruments: Instruments) -> Result<Self, HttpClientError> {
        Ok(Self {
            http: http_client(config)?,
            managed_identity_http: managed_identity_client(config).map_err(|e| e.to_string()),
            graph_root: config.graph.graph_root.clone(),
            // Shared by every tenant: hundreds of tenants must not open hundreds of
            // connections, or ask for hundreds of tokens, in the same second.
            caps: Caps::new(
                config.graph.max_concurrent_requests,
                config.graph.max_concurrent_sign_ins,
            ),
            retry: RetryPolicy {
                max_pages: config.graph.max_pages,
                max_response_bytes: config.graph.max_response_bytes,
                ..RetryPolicy::default()
            },
            authority: Authority {
                host: config.graph.authority_host.clone(),
                scope: config.graph.scope(),
            },
            instruments,
        })
    }

    /// The shared instruments, for a factory that replaces this one.
    pub fn instruments(&self) -> Instruments {
        self.instruments.clone()
    }

    /// A Graph client for `tenant_id` signing in with `auth`; no request is sent yet.
    pub fn client(&self, tenant_id: &str, auth: &Auth) -> Result<GraphClient, GraphError> {
        let token = self.caps.sign_ins(self.credential(tenant_id, auth)?);
        if let Auth::Certificate {
            client_id,
            certificate,
            ..
        } = auth
        {
            self.instruments
                .credential_expiry
                .with_label_values(&[client_id.as_str(), &certificate.thumbprint_hex()])
                .set(certificate.not_after().timestamp() as f64);
        }
        tracing::debug!(tenant_id, credential = auth.kind(), "credential ready");
        Ok(GraphClient::new(
            self.http.clone(),
            self.graph_root.clone(),
            tenant_id.to_string(),
            token,
            Arc::new(Limiter::documented().counting_waits(self.instruments.limiter_wait.clone())),
            self.instruments.graph.clone(),
            self.retry,
        )
        .capped(&self.caps))
    }

    fn credential(&self, tenant_id: &str, auth: &Auth) -> Result<Arc<dyn TokenSource>, GraphError> {
        let authority = &self.authority;
        let http = &self.http;
        let credential = match auth {
            // A secret read from a file is read again when the file changes, so a rotated
            // secret is used from the next sign-in on.
            Auth::ClientSecret {
                client_id,
                secret_file: Some(file),
                ..
            } => EntraCredential::client_secret_file(
                tenant_id,
                client_id,
                file.clone(),
                authority,
                http.clone(),
            )?,
            Auth::ClientSecret {
                client_id, secret, ..
            } => EntraCredential::client_secret(
                tenant_id,
                client_id,
                secret.expose().to_string(),
                authority,
                http.clone(),
            )?,
            Auth::Certificate {
                client_id,
                certificate,
                assertion,
            } => EntraCredential::certificate(
                tenant_id,
                client_id,
                Arc::clone(certificate),
                *assertion,
                authority,
                http.clone(),
            )?,
            Auth::WorkloadIdentity {
                client_id,
                token_file,
            } => EntraCredential::workload_identity(
                tenant_id,
                client_id,
                token_file.clone(),
                authority,
                http.clone(),
            )?,
            Auth::ManagedIdentity { client_id } => {
                let local = self
                    .managed_identity_http
                    .clone()
                    .map_err(|e| GraphError::Token(format!("building the HTTP client: {e}")))?;
                EntraCredential::managed_identity(client_id.as_deref(), &authority.scope, local)?
            }
        };
        Ok(Arc::new(credential))
    }
}

/// The managed identity endpoints (IMDS at 169.254.169.254, App Service's IDENTITY_ENDPOINT on
/// localhost) are plain HTTP on the host itself: no `https_only`, and never through a proxy,
/// which could neither reach them nor be trusted with their tokens.
fn managed_identity_client(config: &Config) -> Result<reqwest::Client, HttpClientError> {
    build_client(client_builder(config).no_proxy(), config)
}

/// The client for Graph and the login authority. reqwest honours `HTTPS_PROXY` (and
/// `HTTP_PROXY`, `ALL_PROXY`) and `NO_PROXY` from the environment by default.
fn http_client(config: &Config) -> Result<reqwest::Client, HttpClientError> {
    build_client(client_builder(config).https_only(true), config)
}

/// Every client follows no redirect: a sign-in redirected to another host would re-send the
/// client secret or assertion there, and a redirected Graph GET would read another host's body
/// as tenant data.
fn client_builder(config: &Config) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("intune-exporter/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(config.graph.request_timeout)
}

/// Adds `graph.ca_file`'s trust roots to the system's and builds the client.
fn build_client(
    mut builder: reqwest::ClientBuilder,
    config: &Config,
) -> Result<reqwest::Client, HttpClientError> {
    if !config.graph.extra_roots_pem.is_empty() {
        let roots = reqwest::Certificate::from_pem_bundle(&config.graph.extra_roots_pem)
            .map_err(|e| HttpClientError(crate::graph::error::chain(&e)))?;
        builder = builder.tls_certs_merge(roots);
    }
    builder
        .build()
        .map_err(|e| HttpClientError(crate::graph::error::chain(&e)))
}
