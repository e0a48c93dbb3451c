//! Signing in: a [`TokenSource`] hands the Graph client a bearer token for one tenant.
//!
//! Tokens come from Entra's v2 client-credentials flow through the Azure SDK's `azure_identity`
//! crate, which caches them and refreshes them five minutes before they expire. The SDK's HTTP
//! transport is our own `reqwest` client, so `graph.ca_file` and proxies apply to the login
//! authority exactly as they do to Graph. Other credential types implement the same trait.

use super::error::{chain, GraphError};
use async_trait::async_trait;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions, Transport};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use std::fmt;
use std::sync::Arc;

/// Gives out a valid bearer token for Graph, fetching or refreshing it as needed.
#[async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A token valid for at least the next few minutes. The returned string is a secret: it
    /// must never be logged.
    async fn token(&self) -> Result<String, GraphError>;
}

/// Where and how to ask for tokens.
#[derive(Debug, Clone)]
pub struct Authority {
    /// The login authority host, e.g. `https://login.microsoftonline.com`.
    pub host: url::Url,
    /// The scope to ask for: `{graph root}/.default`.
    pub scope: String,
}

/// A credential from `azure_identity`, asked for one scope.
pub struct EntraCredential {
    credential: Arc<dyn TokenCredential>,
    scope: String,
    kind: &'static str,
}

impl fmt::Debug for EntraCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraCredential")
            .field("kind", &self.kind)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl EntraCredential {
    /// A client-secret credential for `tenant_id`, sending its requests through `http`.
    pub fn client_secret(
        tenant_id: &str,
        client_id: &str,
        secret: String,
        authority: &Authority,
        http: reqwest::Client,
    ) -> Result<Self, GraphError> {
        let options = ClientSecretCredentialOptions {
            client_options: client_options(authority, http),
        };
        let credential = ClientSecretCredential::new(
            tenant_id,
            client_id.to_string(),
            Secret::new(secret),
            Some(options),
        )
        .map_err(|e| GraphError::Token(chain(&e)))?;
        Ok(Self {
            credential,
            scope: authority.scope.clone(),
            kind: "client_secret",
        })
    }
}

fn client_options(authority: &Authority, http: reqwest::Client) -> ClientOptions {
    let mut custom = CustomConfiguration::default();
    // `azure_identity` joins "/{tenant}/oauth2/v2.0/token" onto the host, replacing any path.
    custom.authority_host = authority.host.as_str().trim_end_matches('/').to_string();
    let mut options = ClientOptions {
        transport: Some(Transport::new(Arc::new(http))),
        cloud: Some(Arc::new(CloudConfiguration::Custom(custom))),
        ..ClientOptions::default()
    };
    // The poller retries the whole poll on its next tick; a short SDK retry keeps one poll bounded.
    options.retry = RetryOptions::exponential(ExponentialRetryOptions {
        max_retries: 2,
        ..ExponentialRetryOptions::default()
    });
    options
}

#[async_trait]
impl TokenSource for EntraCredential {
    async fn token(&self) -> Result<String, GraphError> {
        let token = self
            .credential
            .get_token(&[self.scope.as_str()], None)
            .await
            .map_err(|e| GraphError::Token(chain(&e)))?;
        Ok(token.token.secret().to_string())
    }
}
