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
//! the login authority exactly as they do to Graph, and like Graph requests, sign-ins follow no
//! redirect: a 307 to another host would re-send the secret or assertion there. Managed identity
//! endpoints are local plain-HTTP services; they get a client of their own (see `app.rs`).
//!
//! A client secret read from a file is read again when the file changes, so a rotated secret
//! is used from the next sign-in on. Error texts built from the authority's answers never carry
//! the secret or assertion, even when a proxy echoes the request body back.

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
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

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
        let (status, headers, body) = response.deconstruct();
        let status_code = u16::from(status);
        // Token answers are a few KiB; reading at most MAX_ANSWER_BYTES keeps a broken or hostile
        // endpoint (a huge body, a gzip bomb) from taking the exporter's memory.
        let mut buffer = vec![0u8; MAX_ANSWER_BYTES];
        let bytes = match body.collect_into(&mut buffer).await {
            Ok(n) => {
                buffer.truncate(n);
                azure_core::Bytes::from(buffer)
            }
            Err(e) => {
                let description = format!("the login authority answered HTTP {status_code} with a body that cannot be read within {MAX_ANSWER_BYTES} bytes: {}", chain(&e));
                self.remember(description.clone());
                return Err(azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Io,
                    description,
                ));
            }
        };
        if status.is_success() {
            return Ok(AsyncRawResponse::from_bytes(status, headers, bytes));
        }
        let location = headers.get_optional_str(
            &azure_core::http::headers::HeaderName::from_static("location"),
        );
        let known = sent_credentials(request);
        let description = match location {
            Some(location) if (300..400).contains(&status_code) => format!(
                "the login authority answered HTTP {status_code} with a redirect to {location}, not followed: sign-in requests are never re-sent to another URL (check graph.authority_host)"
            ),
            // Redacted before describing, which shortens the text: a cut must not leave half a
            // secret that no longer matches.
            _ => describe_error(
                status_code,
                redact(&String::from_utf8_lossy(&bytes), &known).as_bytes(),
            ),
        };
        self.remember(redact(&description, &known));
        Ok(AsyncRawResponse::from_bytes(status, headers, bytes))
    }
}

/// The most a token answer may hold.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

impl EntraTransport {
    fn remember(&self, description: String) {
        match self.last_error.lock() {
            Ok(mut slot) => *slot = Some(description),
            Err(poisoned) => *poisoned.into_inner() = Some(description),
        }
    }
}

/// Form fields of a token request that hold a credential.
const CREDENTIAL_FIELDS: [&str; 2] = ["client_secret", "client_assertion"];

/// The credentials a token request carries (decoded and as sent), for [`redact`].
fn sent_credentials(request: &Request) -> Vec<String> {
    let azure_core::http::Body::Bytes(body) = request.body() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in url::form_urlencoded::parse(body) {
        if CREDENTIAL_FIELDS.contains(&key.as_ref()) && !value.is_empty() {
            out.extend(echoed_forms(&value));
        }
    }
    out
}

/// The ways an answer may echo `value`: as is, form- or percent-encoded, and JSON-escaped
/// (with `/` escaped as `\/` too, as some JSON writers do). Longest first, so that a longer
/// form is redacted whole before a shorter one inside it.
fn echoed_forms(value: &str) -> Vec<String> {
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or_default()
        .to_string();
    let mut forms = vec![
        value.to_string(),
        url::form_urlencoded::byte_serialize(value.as_bytes()).collect(),
        percent_encode(value),
        json.replace('/', "\\/"),
        json,
    ];
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms.retain(|f| !f.is_empty());
    forms
}

/// `value` with every byte outside the URL-unreserved set as `%XX` (a space as `%20`, where
/// form encoding writes `+`).
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Removes credentials from a text built from an answer: every `known` value, and whatever
/// follows `client_secret=` or `"client_assertion":` and the like. Entra never echoes them, but a
/// proxy or a misconfigured endpoint may send the request body back.
pub(crate) fn redact(text: &str, known: &[String]) -> String {
    let mut out = text.to_string();
    for secret in known {
        out = out.replace(secret.as_str(), "***");
    }
    for field in CREDENTIAL_FIELDS {
        let mut from = 0;
        while let Some(found) = out[from..].find(field) {
            let start = from + found + field.len();
            let rest = &out[start..];
            // `=value` (form) or `": "value"` (JSON).
            let sep = rest.len() - rest.trim_start_matches(['"', '\'', ' ']).len();
            let after = &rest[sep..];
            let Some(value) = after.strip_prefix(['=', ':']) else {
                from = start;
                continue;
            };
            let lead = value.len() - value.trim_start_matches(['"', '\'', ' ']).len();
            let value_start = start + sep + 1 + lead;
            let value_len = out[value_start..]
                .find(|c: char| {
                    matches!(c, '&' | '"' | '\'' | ',' | '}' | '<' | ';') || c.is_whitespace()
                })
                .unwrap_or(out.len() - value_start);
            out.replace_range(value_start..value_start + value_len, "***");
            from = value_start + 3;
        }
    }
    out
}

/// One line from an error answer: Entra's `error` and `error_description` (with its AADSTS code
/// and trace id) when the body is Entra's; otherwise the start of the body.
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
    /// The client secret file to watch, for a secret read from one.
    secret_file: Option<SecretFile>,
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
    GraphError::Token(redact(&chain(e), &[]))
}

/// A client secret file, watched so that a rotated secret (a Kubernetes Secret updated in place,
/// a file renewed from Key Vault) is used without a restart.
struct SecretFile {
    path: PathBuf,
    /// Modification time and length when the file was last read.
    seen: Mutex<Option<Stamp>>,
}

type Stamp = (Option<SystemTime>, u64);

impl SecretFile {
    fn stamp(&self) -> Option<Stamp> {
        let meta = std::fs::metadata(&self.path).ok()?;
        Some((meta.modified().ok(), meta.len()))
    }

    /// The file's new stamp, if it changed since it was last read.
    fn changed(&self) -> Option<Stamp> {
        let now = self.stamp()?;
        let seen = match self.seen.lock() {
            Ok(s) => *s,
            Err(poisoned) => *poisoned.into_inner(),
        };
        (seen != Some(now)).then_some(now)
    }

    fn mark(&self, stamp: Option<Stamp>) {
        match self.seen.lock() {
            Ok(mut s) => *s = stamp,
            Err(poisoned) => *poisoned.into_inner() = stamp,
        }
    }
}

/// Secrets are a few hundred bytes; a bound keeps a wrong path (a device, a log) from being read
/// whole.
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// Reads a client secret file, without the line ending editors and `echo` add.
fn read_secret_file(path: &Path) -> Result<Secret, GraphError> {
    let fail = |what: String| {
        GraphError::Token(format!(
            "reading the client secret file {}: {what}",
            path.display()
        ))
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SECRET_FILE_BYTES).read_to_string(&mut text))
        .map_err(|e| fail(e.to_string()))?;
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.trim().is_empty() {
        return Err(fail("the file is empty".to_string()));
    }
    Ok(Secret::new(secret.to_string()))
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
            secret_file: None,
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
        let secret = Secret::new(secret);
        Self::secret_credential(tenant_id, client_id, authority, http, move || {
            Ok(secret.clone())
        })
    }

    /// A client-secret credential whose secret is in `file`. The file is read again when its
    /// modification time or size changes, before the next token is asked for; the new secret
    /// then signs in at once (a cached token is dropped, so a wrong new secret shows up on the
    /// next poll, not an hour later). If the changed file cannot be read, the old secret stays.
    pub fn client_secret_file(
        tenant_id: &str,
        client_id: &str,
        file: PathBuf,
        authority: &Authority,
        http: reqwest::Client,
    ) -> Result<Self, GraphError> {
        let watch = SecretFile {
            path: file.clone(),
            seen: Mutex::new(None),
        };
        // Stamp before reading: a change between the two is then seen as a change.
        let stamp = watch.stamp();
        let mut credential =
            Self::secret_credential(tenant_id, client_id, authority, http, move || {
                read_secret_file(&file)
            })?;
        watch.mark(stamp);
        credential.secret_file = Some(watch);
        Ok(credential)
    }

    fn secret_credential(
        tenant_id: &str,
        client_id: &str,
        authority: &Authority,
        http: reqwest::Client,
        secret: impl Fn() -> Result<Secret, GraphError> + Send + Sync + 'static,
    ) -> Result<Self, GraphError> {
        let (tenant_id, client_id, authority) = (
            tenant_id.to_string(),
            client_id.to_string(),
            authority.clone(),
        );
        let scope = authority.scope.clone();
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
                    secret()?,
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

    /// Builds the credential again (an empty token cache, the secret file read anew).
    fn rebuild(&self) -> Result<(), GraphError> {
        let fresh = (self.build)()?;
        match self.current.write() {
            Ok(mut c) => *c = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }

    /// Reads the secret file again if it changed since it was last read.
    fn follow_secret_file(&self) {
        let Some(file) = &self.secret_file else {
            return;
        };
        let Some(stamp) = file.changed() else {
            return;
        };
        // Marked even when the read fails, so a broken file is reported once, not per request;
        // fixing it changes the stamp again.
        file.mark(Some(stamp));
        match self.rebuild() {
            Ok(()) => {
                tracing::info!(file = %file.path.display(), "the client secret file changed; signing in with the new secret")
            }
            Err(err) => {
                tracing::warn!(error = %err, "the client secret file changed but cannot be used; keeping the previous secret")
            }
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
        self.follow_secret_file();
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
        // Building succeeded at start with the same inputs; if it fails now, the old
        // credential (and its cached token) stays, and the next 401 tries again.
        if let Err(err) = self.rebuild() {
            tracing::warn!(error = %err, "cannot rebuild the credential");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_echoed_in_an_answer_are_redacted() {
        let known = vec!["s3cr%2Bt".to_string(), "s3cr+t".to_string()];
        assert_eq!(
            redact(
                "bad request: grant_type=client_credentials&client_secret=s3cr%2Bt&scope=x",
                &known
            ),
            "bad request: grant_type=client_credentials&client_secret=***&scope=x"
        );
        // Unknown values after the field names go too, in form and JSON shape.
        assert_eq!(
            redact(
                r#"{"client_assertion": "eyJ.a.b", "client_secret":"other", "x": 1} client_secret=zz client_secret_file"#,
                &[]
            ),
            r#"{"client_assertion": "***", "client_secret":"***", "x": 1} client_secret=*** client_secret_file"#
        );
        assert_eq!(redact("echo s3cr+t", &known), "echo ***");
        // JSON-escaped, with or without `\/`, and percent-encoded, without a field name.
        let forms = echoed_forms("a/b\"c d");
        assert_eq!(
            redact(
                r#"{"m":"bad a\/b\"c d"} a/b\"c d a%2Fb%22c+d a%2Fb%22c%20d"#,
                &forms
            ),
            r#"{"m":"bad ***"} *** *** ***"#
        );
        // A secret where the description cuts the body is redacted before the cut.
        let body = format!("{}s3cr+t", "x".repeat(297));
        let described = describe_error(502, redact(&body, &known).as_bytes());
        assert_eq!(
            described,
            format!(
                "the login authority answered HTTP 502: {}***",
                "x".repeat(297)
            )
        );
    }
}
