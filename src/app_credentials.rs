//! The exporter's own app registration: when its client secrets and certificates end.
//!
//! `GET /v1.0/applications(appId='{client_id}')` in the app's home tenant (application
//! permission `Application.Read.All`, so only with `app_credentials:` configured) lists the
//! app's `passwordCredentials` and `keyCredentials`. A multi-tenant app signs in to every
//! customer with the same secret: when it lapses, every tenant's sign-in fails at once
//! (AADSTS7000222), and only the home tenant's application object knows the date beforehand.
//!
//! Only the credential collections are selected, never `secretText` or `key` on their own.
//! Graph never returns a password's `secretText` after it was created (it is `null` on reads).
//! A certificate's `key`, its public part, comes with a single application's `keyCredentials`
//! (Graph documents it so); it is no secret, and it is neither decoded nor kept: only ids,
//! names, hints, thumbprints and dates are read. A password credential's `hint` is the first
//! three characters of the secret, which Entra shows to anyone who can read the app: it is
//! exported so that an operator can tell which secret the exporter uses.
//!
//! The `in_use` label says which credential the reader itself signs in with
//! (`app_credentials.auth`, `defaults.auth` unless set): a secret whose hint is the first three
//! characters of the reader's secret, or a certificate with the reader's thumbprint. The alert
//! pages for that one (and for any it cannot tell apart) and opens a ticket for the others: an
//! old secret left on the app after a rotation must not wake anyone.
//!
//! [`families`] is a pure function of the application, the client id and the reader's own
//! credential; [`read`] fetches it.

use crate::config::Auth;
use crate::graph::odata::{lenient, lenient_list, parse_datetime, Request, Shape};
use crate::graph::{GraphClient, GraphError};
use crate::metrics::catalog::{APP_CREDENTIALS_UP, APP_CREDENTIAL_END, APP_CREDENTIAL_INFO};
use crate::metrics::collector::Listed;
use crate::metrics::MetricSet;
use base64::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// The `source` label of the request, and the name in logs.
pub const NAME: &str = "app_credentials";

/// The application permission the request needs.
pub const PERMISSION: &str = "Application.Read.All";

/// What is selected: the credential collections whole (Graph cannot select inside them).
const SELECT: &[&str] = &[
    "id",
    "appId",
    "displayName",
    "passwordCredentials",
    "keyCredentials",
];

/// The instruments: the credentials of the last good read, and whether the last read worked.
#[derive(Debug, Clone)]
pub struct Metrics {
    credentials: Listed,
    up: prometheus::IntGaugeVec,
}

impl Metrics {
    /// New instruments, registered with `registry`, with no series.
    pub fn register(registry: &prometheus::Registry) -> prometheus::Result<Self> {
        let up = prometheus::IntGaugeVec::new(
            prometheus::Opts::new(APP_CREDENTIALS_UP.name, APP_CREDENTIALS_UP.help),
            APP_CREDENTIALS_UP.labels,
        )?;
        registry.register(Box::new(up.clone()))?;
        Ok(Self {
            credentials: Listed::register(&[&APP_CREDENTIAL_INFO, &APP_CREDENTIAL_END], registry)?,
            up,
        })
    }

    /// Forgets everything: the app is no longer read (or another one is).
    pub fn clear(&self) {
        self.credentials.replace(MetricSet::new());
        self.up.reset();
    }

    /// Reads `client_id`'s app every `interval` until `stop`: a failed read keeps the last
    /// credentials, sets `up` 0 and logs why, naming the permission on a 403.
    pub async fn run(
        self,
        client: GraphClient,
        client_id: String,
        own: Own,
        interval: std::time::Duration,
        stop: tokio_util::sync::CancellationToken,
    ) {
        loop {
            let identity = own.identify();
            let result = tokio::select! {
                _ = stop.cancelled() => return,
                r = read(&client, &client_id, &identity) => r,
            };
            let tenant_id = client.tenant_id();
            let ok = match result {
                Ok(Some(set)) => {
                    self.credentials.replace(set);
                    true
                }
                Ok(None) => {
                    tracing::warn!(client_id, tenant_id, "app_credentials: the home tenant has no application with this client id; is app_credentials.home_tenant_id the tenant the app was registered in?");
                    false
                }
                Err(err) if err.status() == Some(403) => {
                    tracing::warn!(client_id, tenant_id, error = %err, permission = PERMISSION, "app_credentials: cannot read the app registration's secrets and certificates; grant the permission in the home tenant (with admin consent), or remove app_credentials");
                    false
                }
                Err(err) => {
                    tracing::warn!(client_id, tenant_id, error = %err, "app_credentials: reading the app registration failed; keeping the last credentials read");
                    false
                }
            };
            self.up.with_label_values(&[&client_id]).set(i64::from(ok));
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }
}

/// The application, when Graph found it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Application {
    #[serde(default, deserialize_with = "lenient_list")]
    password_credentials: Vec<Credential>,
    #[serde(default, deserialize_with = "lenient_list")]
    key_credentials: Vec<Credential>,
}

/// A `passwordCredential` or a `keyCredential`: the properties both have, and the one of each.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Credential {
    #[serde(default, deserialize_with = "lenient")]
    key_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    end_date_time: Option<String>,
    /// Password credentials only.
    #[serde(default, deserialize_with = "lenient")]
    hint: Option<String>,
    /// Key credentials only: for a certificate, its SHA-1 thumbprint (base64).
    #[serde(default, deserialize_with = "lenient")]
    custom_key_identifier: Option<String>,
}

/// Reads the application `client_id` from the home tenant `client` signs in to. `Ok(None)`
/// when Graph has no application with that id there (a wrong home tenant, or the client id of
/// a managed identity).
pub async fn read(
    client: &GraphClient,
    client_id: &str,
    own: &Identity,
) -> Result<Option<MetricSet>, GraphError> {
    let request = Request {
        path: path(client_id),
        select: SELECT,
        shape: Shape::Entity,
        filter: None,
    };
    let raw = client.fetch(NAME, &request).await?;
    Ok(raw
        .entity::<serde_json::Value>(request.path)?
        .map(|app| families(app, client_id, own)))
}

/// The request path of `client_id`, made once per client id: request paths are `'static`
/// (the Graph client keys state by them), and a process meets one or two client ids in its
/// life, one more per reload that changes it.
fn path(client_id: &str) -> &'static str {
    static PATHS: Mutex<BTreeMap<String, &'static str>> = Mutex::new(BTreeMap::new());
    let mut paths = PATHS.lock().unwrap_or_else(|e| e.into_inner());
    paths.entry(client_id.to_string()).or_insert_with(|| {
        Box::leak(format!("v1.0/applications(appId='{client_id}')").into_boxed_str())
    })
}

/// The credential the reader signs in with, as it can be recognised among the app's.
#[derive(Debug, Clone)]
pub enum Own {
    /// A client secret, from the config or from a file read again at each read (a rotated
    /// secret is the new one at once).
    Secret {
        /// The secret as the config was loaded.
        loaded: crate::config::SecretString,
        /// `client_secret_file`, when it came from one.
        file: Option<PathBuf>,
    },
    /// A certificate: its SHA-1 thumbprint in upper-case hex.
    Certificate(String),
    /// A federated credential (workload identity): none of the app's secrets or certificates.
    Federated,
}

impl Own {
    /// The credential `auth` signs in with.
    pub fn of(auth: &Auth) -> Own {
        match auth {
            Auth::ClientSecret {
                secret,
                secret_file,
                ..
            } => Own::Secret {
                loaded: secret.clone(),
                file: secret_file.clone(),
            },
            Auth::Certificate { certificate, .. } => Own::Certificate(certificate.thumbprint_hex()),
            Auth::WorkloadIdentity { .. } | Auth::ManagedIdentity { .. } => Own::Federated,
        }
    }

    /// What identifies it now: a secret's first three characters (from its file when it can
    /// be read, else as loaded), or the thumbprint.
    pub fn identify(&self) -> Identity {
        match self {
            Own::Secret { loaded, file } => {
                let current = file
                    .as_deref()
                    .and_then(|f| crate::config::read_secret(f).ok());
                let secret = current.as_ref().unwrap_or(loaded).expose();
                Identity::Hint(secret.chars().take(3).collect())
            }
            Own::Certificate(thumbprint) => Identity::Thumbprint(thumbprint.clone()),
            Own::Federated => Identity::Neither,
        }
    }
}

/// How the reader's own credential shows among the app's: Entra's `hint` of a secret (its first
/// three characters) or a certificate's thumbprint. Debug never shows the hint.
#[derive(Clone, PartialEq, Eq)]
pub enum Identity {
    /// A secret whose first three characters are these.
    Hint(String),
    /// A certificate with this SHA-1 thumbprint (upper-case hex).
    Thumbprint(String),
    /// A federated credential: no secret or certificate of the app is the reader's.
    Neither,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::Hint(_) => f.write_str("Hint(..)"),
            Identity::Thumbprint(t) => f.debug_tuple("Thumbprint").field(t).finish(),
            Identity::Neither => f.write_str("Neither"),
        }
    }
}

impl Identity {
    /// The `in_use` label of a credential of `kind` with this hint or thumbprint (empty when
    /// Graph gave none): `true`, `false`, or `unknown` when it is of the reader's kind but
    /// Graph did not say enough to tell.
    fn in_use(&self, kind: &str, hint: &str, thumbprint: &str) -> &'static str {
        let (mine, theirs) = match (self, kind) {
            (Identity::Hint(h), "password") => (h.as_str(), hint),
            (Identity::Thumbprint(t), "certificate") => (t.as_str(), thumbprint),
            _ => return "false",
        };
        match theirs {
            "" => "unknown",
            t if t == mine => "true",
            _ => "false",
        }
    }
}

/// The series of one application: for each credential with a key id, its info series (kind
/// `password` or `certificate`, display name, hint, thumbprint, whether the reader signs in
/// with it) and its end date when it has one. Credentials already ended are kept: Entra lists
/// them until someone removes them, and an operator may want to.
pub fn families(app: serde_json::Value, client_id: &str, own: &Identity) -> MetricSet {
    let mut set = MetricSet::new();
    let app: Application = match serde_json::from_value(app) {
        Ok(app) => app,
        Err(err) => {
            tracing::warn!(client_id, error = %err, "the app registration is not an object; no credentials to export");
            return set;
        }
    };
    let all = app
        .password_credentials
        .into_iter()
        .map(|c| ("password", c))
        .chain(app.key_credentials.into_iter().map(|c| ("certificate", c)));
    for (kind, c) in all {
        let Some(key_id) = c.key_id.filter(|k| !k.is_empty()) else {
            continue;
        };
        let thumbprint = c
            .custom_key_identifier
            .as_deref()
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .filter(|bytes| bytes.len() == 20)
            .map(|bytes| bytes.iter().map(|b| format!("{b:02X}")).collect::<String>())
            .unwrap_or_default();
        let hint = c.hint.as_deref().unwrap_or_default();
        set.gauge(
            &APP_CREDENTIAL_INFO,
            &[
                client_id,
                &key_id,
                kind,
                c.display_name.as_deref().unwrap_or_default(),
                hint,
                &thumbprint,
                own.in_use(kind, hint, &thumbprint),
            ],
            1.0,
        );
        if let Some(end) = c.end_date_time.as_deref().and_then(parse_datetime) {
            set.gauge(
                &APP_CREDENTIAL_END,
                &[client_id, &key_id],
                end.timestamp() as f64,
            );
        }
    }
    set
}
