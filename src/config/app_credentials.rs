//! `app_credentials:`: reading the expiry dates of the exporter's own app registration.
//!
//! Off unless the key is present: it needs `Application.Read.All` in the app's home tenant, a
//! permission that reads every app registration there, which the exporter does not otherwise
//! need. This module owns the key's raw shape and its validation; it does no I/O.

use super::auth::{own_or_defaults, Auth, RawAuth};
use super::problems::{EnvLookup, Problems};
use super::tenants::tenant_identifier;
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Reading the client secrets and certificates of the exporter's app registration.
#[derive(Debug, Clone)]
pub struct AppCredentialsConfig {
    /// The tenant the app registration lives in (its home tenant).
    pub home_tenant_id: String,
    /// How to sign in there; its client id is the application read.
    pub auth: Arc<Auth>,
    /// That client id.
    pub client_id: String,
    /// Time between two reads.
    pub interval: Duration,
}

impl AppCredentialsConfig {
    /// Whether a reload can keep the running reader.
    pub fn same_as(&self, other: &AppCredentialsConfig) -> bool {
        self.home_tenant_id == other.home_tenant_id
            && self.interval == other.interval
            && self.auth.same_credential(&other.auth)
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct RawAppCredentials {
    home_tenant_id: String,
    auth: Option<RawAuth>,
    interval: Option<String>,
}

/// The default time between two reads: credentials are valid for months.
pub const INTERVAL: &str = "1h";

/// Validates `app_credentials:`.
pub(super) fn validate(
    raw: Option<RawAppCredentials>,
    defaults: Option<&Arc<Auth>>,
    base: &Path,
    env: EnvLookup<'_>,
    p: &mut Problems<'_>,
) -> Option<AppCredentialsConfig> {
    let raw = raw?;
    const KEY: &str = "app_credentials";
    let key = |k: &str| format!("{KEY}.{k}");
    let home = tenant_identifier(&raw.home_tenant_id)
        .map_err(|e| p.add(&key("home_tenant_id"), e))
        .ok();
    let auth = own_or_defaults(raw.auth, &key("auth"), defaults, base, env, p);
    let client_id = match auth.as_deref() {
        Some(
            Auth::ClientSecret { client_id, .. }
            | Auth::Certificate { client_id, .. }
            | Auth::WorkloadIdentity { client_id, .. },
        ) => Some(client_id.clone()),
        Some(Auth::ManagedIdentity { .. }) => {
            p.add(
                &key("auth"),
                "a managed identity has no app registration, so no client secret or certificate that can expire"
                    .to_string(),
            );
            None
        }
        None => None,
    };
    let interval = p.duration_at_least(
        &key("interval"),
        raw.interval.as_deref(),
        INTERVAL,
        super::problems::floors::DISCOVERY_INTERVAL,
    );
    Some(AppCredentialsConfig {
        home_tenant_id: home?,
        auth: auth?,
        client_id: client_id?,
        interval,
    })
}
