//! The configuration file: raw serde structs, validated into a typed [`Config`].
//!
//! Unknown keys are refused, and every problem in a file is reported at once (with its key), so
//! `--config.check` shows an operator the whole list in one go. Secrets are read here and held
//! in [`SecretString`], whose `Debug` and `Display` print `***`.

use crate::duration;
use crate::graph::Cloud;
use crate::health::Thresholds;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(s: String) -> Self {
        Self(s)
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where Graph and the login authority are, and how to reach them.
    pub graph: GraphSettings,
    /// How often to poll.
    pub poll: PollSettings,
    /// The Tenant status page's thresholds.
    pub health: Thresholds,
    /// The tenants to read, at least one.
    pub tenants: Vec<TenantConfig>,
}

/// The `graph:` section, resolved.
#[derive(Debug, Clone)]
pub struct GraphSettings {
    /// The cloud chosen.
    pub cloud: Cloud,
    /// Graph root with a trailing slash; requests go to `{root}v1.0/...` and `{root}beta/...`.
    pub graph_root: Url,
    /// The login authority host.
    pub authority_host: Url,
    /// Extra trust roots (PEM), for both Graph and the login authority.
    pub extra_roots_pem: Vec<u8>,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
}

impl GraphSettings {
    /// The token scope: `{graph root}/.default`.
    pub fn scope(&self) -> String {
        format!(
            "{}/.default",
            self.graph_root.as_str().trim_end_matches('/')
        )
    }
}

/// The `poll:` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollSettings {
    /// Time between two polls of the same source.
    pub interval: Duration,
    /// Longest a single poll may take, retries included.
    pub timeout: Duration,
}

/// One tenant.
#[derive(Debug, Clone)]
pub struct TenantConfig {
    /// The directory (tenant) id, a GUID in lower case.
    pub tenant_id: String,
    /// How to sign in.
    pub auth: Auth,
}

/// How the exporter signs in to a tenant.
#[derive(Debug, Clone)]
pub enum Auth {
    /// An app registration with a client secret.
    ClientSecret {
        /// The application (client) id.
        client_id: String,
        /// The secret.
        secret: SecretString,
    },
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Read {
        /// The config file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid YAML of the expected shape.
    #[error("{file}: {message}")]
    Parse {
        /// The config file.
        file: PathBuf,
        /// The parser's message, with the key and position.
        message: String,
    },
    /// The file parsed, but some values are wrong.
    #[error("{file}: {} problem(s):\n{}", problems.len(), problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

/// One thing wrong in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `tenants[0].tenant_id`.
    pub key: String,
    /// What was expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

#[derive(Debug, Default, Deserialize)]
struct RawConfig {
    #[serde(default)]
    graph: RawGraph,
    #[serde(default)]
    poll: RawPoll,
    #[serde(default)]
    health: RawHealth,
    #[serde(default)]
    tenants: Vec<RawTenant>,
}

#[derive(Debug, Default, Deserialize)]
struct RawGraph {
    cloud: Option<String>,
    graph_url: Option<String>,
    authority_host: Option<String>,
    ca_file: Option<PathBuf>,
    request_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RawPoll {
    interval: Option<String>,
    timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RawHealth {
    expiry_warning: Option<String>,
    sync_warning: Option<String>,
    sync_unhealthy: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawTenant {
    tenant_id: String,
    auth: RawAuth,
}

#[derive(Debug, Deserialize)]
struct RawAuth {
    client_id: String,
    client_secret_file: Option<PathBuf>,
}

/// Defaults, also used by the README.
pub mod defaults {
    /// `poll.interval`.
    pub const POLL_INTERVAL: &str = "5m";
    /// `poll.timeout`.
    pub const POLL_TIMEOUT: &str = "2m";
    /// `graph.request_timeout`.
    pub const REQUEST_TIMEOUT: &str = "30s";
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Validates config text; `path` names the file in messages and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut unknown = Vec::new();
        let de = serde_yaml_ng::Deserializer::from_str(text);
        let raw: Option<RawConfig> = serde_ignored::deserialize(de, |p| {
            unknown.push(p.to_string())
        })
        .map_err(|e| ConfigError::Parse {
            file: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let raw = raw.unwrap_or_default();
        let mut problems: Vec<Problem> = unknown
            .into_iter()
            .map(|key| Problem {
                // `?` is serde_ignored's mark for the `Option` around the whole document.
                key: bracket_indices(key.trim_start_matches("?.")),
                message: "unknown key".to_string(),
            })
            .collect();
        let base = path.parent().unwrap_or(Path::new("."));
        let config = validate(raw, base, &mut problems);
        match config {
            Some(c) if problems.is_empty() => Ok(c),
            _ => Err(ConfigError::Invalid {
                file: path.to_path_buf(),
                problems,
            }),
        }
    }
}

/// `tenants.0.auth.foo` -> `tenants[0].auth.foo`.
fn bracket_indices(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('.') {
        if !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    out
}

fn validate(raw: RawConfig, base: &Path, problems: &mut Vec<Problem>) -> Option<Config> {
    let mut problem = |key: &str, message: String| {
        problems.push(Problem {
            key: key.to_string(),
            message,
        })
    };

    let cloud = match raw.graph.cloud.as_deref().map(str::parse::<Cloud>) {
        None => Cloud::Public,
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            problem("graph.cloud", e);
            Cloud::Public
        }
    };
    let mut https_url = |key: &str, value: Option<&str>, default: &str| {
        let text = value.unwrap_or(default);
        match Url::parse(text) {
            Ok(u) if u.scheme() == "https" && u.host().is_some() => Some(with_slash(u)),
            Ok(_) => {
                problem(key, format!("{text:?} must be an https:// URL"));
                None
            }
            Err(e) => {
                problem(key, format!("{text:?} is not a URL: {e}"));
                None
            }
        }
    };
    let graph_root = https_url(
        "graph.graph_url",
        raw.graph.graph_url.as_deref(),
        cloud.graph_root(),
    );
    let authority_host = https_url(
        "graph.authority_host",
        raw.graph.authority_host.as_deref(),
        cloud.authority_host(),
    );

    let mut problem = |key: &str, message: String| {
        problems.push(Problem {
            key: key.to_string(),
            message,
        })
    };
    let extra_roots_pem = match &raw.graph.ca_file {
        None => Vec::new(),
        Some(file) => match read_pem_certificates(&base.join(file)) {
            Ok(pem) => pem,
            Err(e) => {
                problem("graph.ca_file", e);
                Vec::new()
            }
        },
    };

    let mut dur = |key: &str, value: Option<&str>, default: &str| -> Duration {
        match duration::parse(value.unwrap_or(default)) {
            Ok(d) if d.is_zero() => {
                problem(key, "must be greater than zero".to_string());
                Duration::from_secs(1)
            }
            Ok(d) => d,
            Err(e) => {
                problem(key, e.to_string());
                Duration::from_secs(1)
            }
        }
    };
    let request_timeout = dur(
        "graph.request_timeout",
        raw.graph.request_timeout.as_deref(),
        defaults::REQUEST_TIMEOUT,
    );
    let interval = dur(
        "poll.interval",
        raw.poll.interval.as_deref(),
        defaults::POLL_INTERVAL,
    );
    let timeout = dur(
        "poll.timeout",
        raw.poll.timeout.as_deref(),
        defaults::POLL_TIMEOUT,
    );
    let d = Thresholds::default();
    let health = Thresholds {
        expiry_warning: dur(
            "health.expiry_warning",
            raw.health.expiry_warning.as_deref(),
            &duration::format(d.expiry_warning),
        ),
        sync_warning: dur(
            "health.sync_warning",
            raw.health.sync_warning.as_deref(),
            &duration::format(d.sync_warning),
        ),
        sync_unhealthy: dur(
            "health.sync_unhealthy",
            raw.health.sync_unhealthy.as_deref(),
            &duration::format(d.sync_unhealthy),
        ),
    };
    if health.sync_warning >= health.sync_unhealthy {
        problem(
            "health.sync_warning",
            "must be shorter than health.sync_unhealthy".to_string(),
        );
    }

    if raw.tenants.is_empty() {
        problem("tenants", no_tenants_message().to_string());
    }
    let mut tenants = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (i, t) in raw.tenants.into_iter().enumerate() {
        let key = |k: &str| format!("tenants[{i}].{k}");
        let tenant_id = t.tenant_id.trim().to_ascii_lowercase();
        if !is_guid(&tenant_id) {
            problem(
                &key("tenant_id"),
                format!(
                    "{:?} is not a directory (tenant) id; expected a GUID like 00000000-0000-0000-0000-000000000000",
                    t.tenant_id
                ),
            );
        } else if seen.contains(&tenant_id) {
            problem(&key("tenant_id"), format!("{tenant_id} is listed twice"));
        }
        seen.push(tenant_id.clone());
        let client_id = t.auth.client_id.trim().to_ascii_lowercase();
        if !is_guid(&client_id) {
            problem(
                &key("auth.client_id"),
                format!(
                    "{:?} is not an application (client) id; expected a GUID",
                    t.auth.client_id
                ),
            );
        }
        let secret = match &t.auth.client_secret_file {
            None => {
                problem(
                    &key("auth"),
                    "no credential: set client_secret_file".to_string(),
                );
                None
            }
            Some(file) => match read_secret(&base.join(file)) {
                Ok(s) => Some(s),
                Err(e) => {
                    problem(&key("auth.client_secret_file"), e);
                    None
                }
            },
        };
        if let Some(secret) = secret {
            tenants.push(TenantConfig {
                tenant_id,
                auth: Auth::ClientSecret { client_id, secret },
            });
        }
    }

    Some(Config {
        graph: GraphSettings {
            cloud,
            graph_root: graph_root?,
            authority_host: authority_host?,
            extra_roots_pem,
            request_timeout,
        },
        poll: PollSettings { interval, timeout },
        health,
        tenants,
    })
}

/// What to tell someone who started the exporter without any tenant.
pub fn no_tenants_message() -> &'static str {
    "no tenant is configured: write a config file with at least one entry under `tenants:` \
     (tenant_id and auth.client_id + auth.client_secret_file of an app registration with \
     read permissions; see the README, \"Configuration\") and pass it with --config.file, \
     or run with --demo to see the exporter against a simulated tenant"
}

fn with_slash(mut u: Url) -> Url {
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    u
}

/// A GUID in the 8-4-4-4-12 hex form.
pub fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn read_secret(path: &Path) -> Result<SecretString, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    // Files written by editors and `echo` end with a newline that is not part of the secret.
    let secret = text.trim_end_matches(['\r', '\n']).to_string();
    if secret.trim().is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(SecretString::new(secret))
}

fn read_pem_certificates(path: &Path) -> Result<Vec<u8>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let count = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{} is not PEM: {e}", path.display()))?
        .len();
    if count == 0 {
        return Err(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids() {
        assert!(is_guid("00000000-0000-0000-0000-000000000000"));
        assert!(is_guid("4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21"));
        assert!(!is_guid("contoso.onmicrosoft.com"));
        assert!(!is_guid("4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c2"));
        assert!(!is_guid("4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c2g"));
    }

    #[test]
    fn secrets_never_print() {
        let s = SecretString::new("hunter2".into());
        assert_eq!(format!("{s} {s:?}"), "*** ***");
    }

    #[test]
    fn bracketed_paths() {
        assert_eq!(bracket_indices("tenants.0.auth.foo"), "tenants[0].auth.foo");
        assert_eq!(bracket_indices("grpah"), "grpah");
    }
}
