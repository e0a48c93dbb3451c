//! Signing in: a [`TokenSource`] hands the Graph client a bearer token for one tenant.
//!
//! Every credential type goes through the Azure SDK's `azure_identity` crate, which caches
//! tokens and refreshes them five minutes before they expire:
//!
//! - client secret: `ClientSecretCredential`;
//! - certificate: `ClientAssertionCredential` with a JWT this crate signs ([`super::certificate`]);
//! - workload identity: `ClientAssertionCredential` with the federated token file read on every
//!   request ([`super::federated`]);
//! - managed identity: `ManagedIdentityCredential` (IMDS, or App Service / Container Apps through
//!   `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`).
//!
//! The SDK's HTTP transport is our own `reqwest` client, so `graph.ca_file` and proxies apply to
//! the login authority exactly as they do to Graph. Managed identity endpoints are local plain-HTTP
//! services; they get a client of their own (see `app.rs`).

use super::certificate::{AssertionAlg, CertificateAssertion, ClientCertificate};
use super::error::{chain, GraphError};
use super::federated::FederatedTokenFile;
use async_trait::async_trait;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{
    AsyncRawResponse, ClientOptions, ExponentialRetryOptions, HttpClient, Request, RetryOptions,
    Transport,
};
use azure_identity::{
    ClientAssertionCredential, ClientAssertionCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId,
};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

/// Gives out a valid bearer token for Graph, fetching or refreshing it as needed.
#[async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A token valid for at least the next few minutes. The returned string is a secret: it
    /// must never be logged.
    async fn token(&self) -> Result<String, GraphError>;

    /// Forgets the cached token if it is still `rejected`, so that the next
    /// [`TokenSource::token`] asks the authority for a new one. Called when Graph answers 401 to
    /// a token the cache still considers valid (it was revoked, or the app's roles changed).
    /// When several requests meet the same 401, only the first one forgets: the others then
    /// get the new token instead of each fetching (and discarding) one more.
    fn invalidate(&self, rejected: &str);
}

/// Where and how to ask for tokens.
#[derive(Debug, Clone)]
pub struct Authority {
    /// The login authority host, e.g. `https://login.microsoftonline.com`.
    pub host: url::Url,
    /// The scope to ask for: `{graph root}/.default`.
    pub scope: String,
}

impl Authority {
    /// The token endpoint of `tenant_id`: `{host}/{tenant}/oauth2/v2.0/token`, built the way
    /// `azure_identity` builds it (any path of the host is replaced). Certificate assertions
    /// name it as their audience.
    pub fn token_endpoint(&self, tenant_id: &str) -> String {
        self.host
            .join(&format!("/{tenant_id}/oauth2/v2.0/token"))
            .map_or_else(|_| self.host.to_string(), |u| u.to_string())
    }
}

type Build = Box<dyn Fn() -> Result<Arc<dyn TokenCredential>, GraphError> + Send + Sync>;

/// The last error answer of the login authority (or managed identity endpoint), described.
type LastError = Arc<Mutex<Option<String>>>;

/// The SDK's transport: our `reqwest` client, keeping a description of each error answer.
///
/// azure_identity 1.0.0 reads Entra's `error_description` as a borrowed `&str`, which fails
/// on the `\r\n` escapes every real Entra error carries; the operator would then see a serde
/// message instead of the AADSTS code. Reading the body here keeps Entra's own words.
#[derive(Debug)]
struct EntraTransport {
    http: reqwest::Client,
    last_error: LastError,
}

#[async_trait]
impl HttpClient for EntraTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let response = self.http.execute_request(request).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let (status, headers, body) = response.deconstruct();
        let bytes = body.collect().await?;
        let description = describe_error(u16::from(status), &bytes);
        match self.last_error.lock() {
            Ok(mut slot) => *slot = Some(description),
            Err(poisoned) => *poisoned.into_inner() = Some(description),
        }
        Ok(AsyncRawResponse::from_bytes(status, headers, bytes))
    }
}

/// One line from an error answer: Entra's `error` and `error_description` (with its AADSTS code
/// and trace id) when the body is Entra's; otherwise the start of the body. Token endpoints never
/// echo the secret or assertion they were sent.
fn describe_error(status: u16, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct EntraError {
        error: String,
        #[serde(default)]
        error_description: String,
    }
    match serde_json::from_slice::<EntraError>(body) {
        Ok(e) => {
            let description = e
                .error_description
                .split(['\r', '\n'])
                .filter(|l| !l.trim().is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            format!(
                "the token endpoint answered HTTP {status}: {}: {description}",
                e.error
            )
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text: String = text.chars().take(300).collect();
            format!(
                "the login authority answered HTTP {status}: {}",
                text.trim()
            )
        }
    }
}

/// A credential from `azure_identity`, asked for one scope.
pub struct EntraCredential {
    // azure_identity's token cache cannot be told to drop a token. Rebuilding the credential
    // (no I/O: it only parses options and URLs) starts it with an empty cache, which is how
    // `invalidate` forces one fresh token after Graph rejects the cached one with a 401.
    build: Build,
    current: RwLock<Arc<dyn TokenCredential>>,
    /// The token `token()` handed out last, so `invalidate` can tell a stale 401 from a fresh one.
    latest: Mutex<Option<String>>,
    last_error: LastError,
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

/// An SDK error that came without an error answer (no connection, a credential that cannot be
/// built, a token file that cannot be read), with its causes.
fn sdk_error(e: &azure_core::Error) -> GraphError {
    GraphError::Token(chain(e))
}

impl EntraCredential {
    fn new(
        kind: &'static str,
        scope: String,
        last_error: LastError,
        build: Build,
    ) -> Result<Self, GraphError> {
        let first = build()?;
        Ok(Self {
            build,
            current: RwLock::new(first),
            latest: Mutex::new(None),
            last_error,
            scope,
            kind,
        })
    }

    /// Which kind of credential this is: `client_secret`, `certificate`, `workload_identity`
    /// or `managed_identity`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// A client-secret credential for `tenant_id`, sending its requests through `http`.
    pub fn client_secret(
        tenant_id: &str,
        client_id: &str,
        secret: String,
        authority: &Authority,
        http: reqwest::Client,
    ) -> Result<Self, GraphError> {
        let (tenant_id, client_id, authority) = (
            tenant_id.to_string(),
            client_id.to_string(),
            authority.clone(),
        );
        let scope = authority.scope.clone();
        let secret = Secret::new(secret);
        let last_error = LastError::default();
        let transport = transport(http, &last_error);
        Self::new(
            "client_secret",
            scope,
            last_error,
            Box::new(move || {
                let options = ClientSecretCredentialOptions {
                    client_options: client_options(&authority, transport.clone()),
                };
                let credential: Arc<dyn TokenCredential> = ClientSecretCredential::new(
                    &tenant_id,
                    client_id.clone(),
                    secret.clone(),
                    Some(options),
                )
                .map_err(|e| sdk_error(&e))?;
                Ok(credential)
            }),
        )
    }

    /// A certificate credential: each token request carries a fresh assertion signed with the
    /// certificate's key.
    pub fn certificate(
        tenant_id: &str,
        client_id: &str,
        certificate: Arc<ClientCertificate>,
        alg: AssertionAlg,
        authority: &Authority,
        http: reqwest::Client,
    ) -> Result<Self, GraphError> {
        let client = client_id.to_string();
        Self::with_assertion(
            "certificate",
            tenant_id,
            client_id,
            authority,
            http,
            move |audience| CertificateAssertion {
                certificate: Arc::clone(&certificate),
                alg,
                client_id: client.clone(),
                audience,
            },
        )
    }

    /// A workload identity (federated) credential whose assertion is the token in `token_file`.
    pub fn workload_identity(
        tenant_id: &str,
        client_id: &str,
        token_file: PathBuf,
        authority: &Authority,
        http: reqwest::Client,
    ) -> Result<Self, GraphError> {
        Self::with_assertion(
            "workload_identity",
            tenant_id,
            client_id,
            authority,
            http,
            move |_audience| FederatedTokenFile {
                path: token_file.clone(),
            },
        )
    }

    /// A client-assertion credential; `assertion` makes the assertion source for the token
    /// endpoint's URL (the audience a signed assertion names).
    fn with_assertion<C, F>(
        kind: &'static str,
        tenant_id: &str,
        client_id: &str,
        authority: &Authority,
        http: reqwest::Client,
        assertion: F,
    ) -> Result<Self, GraphError>
    where
        C: azure_identity::ClientAssertion + 'static,
        F: Fn(String) -> C + Send + Sync + 'static,
    {
        let (tenant_id, client_id, authority) = (
            tenant_id.to_string(),
            client_id.to_string(),
            authority.clone(),
        );
        let scope = authority.scope.clone();
        let last_error = LastError::default();
        let transport = transport(http, &last_error);
        Self::new(
            kind,
            scope,
            last_error,
            Box::new(move || {
                let source = assertion(authority.token_endpoint(&tenant_id));
                assertion_credential(&tenant_id, &client_id, source, &authority, &transport)
            }),
        )
    }

    /// A managed identity: system-assigned, or the user-assigned identity with `client_id`.
    /// `http` must allow plain HTTP: IMDS and the App Service endpoint are local HTTP services.
    pub fn managed_identity(
        client_id: Option<&str>,
        scope: &str,
        http: reqwest::Client,
    ) -> Result<Self, GraphError> {
        let client_id = client_id.map(str::to_string);
        let last_error = LastError::default();
        let transport = transport(http, &last_error);
        Self::new(
            "managed_identity",
            scope.to_string(),
            last_error,
            Box::new(move || {
                let options = ManagedIdentityCredentialOptions {
                    user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                    client_options: ClientOptions {
                        transport: Some(transport.clone()),
                        ..ClientOptions::default()
                    },
                };
                let credential: Arc<dyn TokenCredential> =
                    ManagedIdentityCredential::new(Some(options)).map_err(|e| sdk_error(&e))?;
                Ok(credential)
            }),
        )
    }

    fn credential(&self) -> Arc<dyn TokenCredential> {
        match self.current.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }
}

fn assertion_credential<C: azure_identity::ClientAssertion + 'static>(
    tenant_id: &str,
    client_id: &str,
    assertion: C,
    authority: &Authority,
    transport: &Transport,
) -> Result<Arc<dyn TokenCredential>, GraphError> {
    let options = ClientAssertionCredentialOptions {
        client_options: client_options(authority, transport.clone()),
    };
    let credential: Arc<dyn TokenCredential> = ClientAssertionCredential::new(
        tenant_id.to_string(),
        client_id.to_string(),
        assertion,
        Some(options),
    )
    .map_err(|e| sdk_error(&e))?;
    Ok(credential)
}

fn transport(http: reqwest::Client, last_error: &LastError) -> Transport {
    Transport::new(Arc::new(EntraTransport {
        http,
        last_error: Arc::clone(last_error),
    }))
}

fn client_options(authority: &Authority, transport: Transport) -> ClientOptions {
    let mut custom = CustomConfiguration::default();
    // `azure_identity` joins "/{tenant}/oauth2/v2.0/token" onto the host, replacing any path.
    custom.authority_host = authority.host.as_str().trim_end_matches('/').to_string();
    let mut options = ClientOptions {
        transport: Some(transport),
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
        let take = || match self.last_error.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        take();
        let token = self
            .credential()
            .get_token(&[self.scope.as_str()], None)
            .await
            .map_err(|e| match take() {
                Some(answer) => GraphError::Token(answer),
                None => sdk_error(&e),
            })?;
        let token = token.token.secret().to_string();
        match self.latest.lock() {
            Ok(mut latest) => *latest = Some(token.clone()),
            Err(poisoned) => *poisoned.into_inner() = Some(token.clone()),
        }
        Ok(token)
    }

    fn invalidate(&self, rejected: &str) {
        {
            let mut latest = match self.latest.lock() {
                Ok(l) => l,
                Err(poisoned) => poisoned.into_inner(),
            };
            if latest.as_deref() != Some(rejected) {
                return;
            }
            *latest = None;
        }
        match (self.build)() {
            Ok(fresh) => match self.current.write() {
                Ok(mut c) => *c = fresh,
                Err(poisoned) => *poisoned.into_inner() = fresh,
            },
            // Building succeeded at start with the same inputs; if it fails now, the old
            // credential (and its cached token) stays, and the next 401 tries again.
            Err(err) => tracing::warn!(error = %err, "cannot rebuild the credential"),
        }
    }
}
