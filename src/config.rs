//! The configuration file: raw serde structs, validated into a typed [`Config`].
//!
//! Unknown keys are refused, and every problem in a file is reported at once (with its key), so
//! `--config.check` shows an operator the whole list in one go. Secrets are read here and held
//! in [`SecretString`], whose `Debug` and `Display` print `***`.

use crate::duration;
use crate::graph::Cloud;
use crate::health::Thresholds;
use crate::sources::{Options, Source};
use serde::Deserialize;
use std::collections::BTreeMap;
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
    /// The sources to poll, each with its interval.
    pub sources: Vec<SourceSettings>,
    /// Watched services and list lengths.
    pub options: Options,
    /// The tenants to read, at least one.
    pub tenants: Vec<TenantConfig>,
}

/// One enabled source and how often to poll it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceSettings {
    /// The source.
    pub source: Source,
    /// Time between two polls.
    pub interval: Duration,
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
    sources: BTreeMap<String, RawSource>,
    #[serde(default)]
    service_communications: RawServiceCommunications,
    #[serde(default)]
    tenants: Vec<RawTenant>,
}

#[derive(Debug, Default, Deserialize)]
struct RawSource {
    enabled: Option<bool>,
    interval: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RawServiceCommunications {
    services: Option<Vec<String>>,
    message_center_latest: Option<usize>,
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
    let mut p = Problems(problems);

    let cloud = match raw.graph.cloud.as_deref().map(str::parse::<Cloud>) {
        None => Cloud::Public,
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            p.add("graph.cloud", e);
            Cloud::Public
        }
    };
    let graph_root = p.https_url(
        "graph.graph_url",
        raw.graph.graph_url.as_deref(),
        cloud.graph_root(),
    );
    let authority_host = p.https_url(
        "graph.authority_host",
        raw.graph.authority_host.as_deref(),
        cloud.authority_host(),
    );

    let extra_roots_pem = match &raw.graph.ca_file {
        None => Vec::new(),
        Some(file) => match read_pem_certificates(&base.join(file)) {
            Ok(pem) => pem,
            Err(e) => {
                p.add("graph.ca_file", e);
                Vec::new()
            }
        },
    };

    let request_timeout = p.duration(
        "graph.request_timeout",
        raw.graph.request_timeout.as_deref(),
        defaults::REQUEST_TIMEOUT,
    );
    let interval = p.duration(
        "poll.interval",
        raw.poll.interval.as_deref(),
        defaults::POLL_INTERVAL,
    );
    let timeout = p.duration(
        "poll.timeout",
        raw.poll.timeout.as_deref(),
        defaults::POLL_TIMEOUT,
    );
    let d = Thresholds::default();
    let health = Thresholds {
        expiry_warning: p.duration(
            "health.expiry_warning",
            raw.health.expiry_warning.as_deref(),
            &duration::format(d.expiry_warning),
        ),
        sync_warning: p.duration(
            "health.sync_warning",
            raw.health.sync_warning.as_deref(),
            &duration::format(d.sync_warning),
        ),
        sync_unhealthy: p.duration(
            "health.sync_unhealthy",
            raw.health.sync_unhealthy.as_deref(),
            &duration::format(d.sync_unhealthy),
        ),
    };
    if health.sync_warning >= health.sync_unhealthy {
        p.add(
            "health.sync_warning",
            "must be shorter than health.sync_unhealthy".to_string(),
        );
    }

    let mut sources = Vec::new();
    for name in raw.sources.keys() {
        if Source::from_name(name).is_none() {
            let names: Vec<&str> = Source::ALL.iter().map(|s| s.name()).collect();
            p.add(
                &format!("sources.{name}"),
                format!("unknown source; expected one of {}", names.join(", ")),
            );
        }
    }
    for source in Source::ALL {
        let spec = source.spec();
        let settings = raw.sources.get(spec.name);
        if settings.and_then(|s| s.enabled) == Some(false) {
            continue;
        }
        let interval = match settings.and_then(|s| s.interval.as_deref()) {
            Some(text) => p.duration(&format!("sources.{}.interval", spec.name), Some(text), ""),
            // Built-in defaults are checked by a unit test, so parsing them cannot fail.
            None => spec
                .default_interval
                .and_then(|d| duration::parse(d).ok())
                .unwrap_or(interval),
        };
        sources.push(SourceSettings { source, interval });
    }
    let defaults = Options::default();
    let options = Options {
        services: raw
            .service_communications
            .services
            .unwrap_or(defaults.services),
        message_center_latest: raw
            .service_communications
            .message_center_latest
            .unwrap_or(defaults.message_center_latest),
    };
    if options.services.iter().any(|s| s.trim().is_empty()) {
        p.add(
            "service_communications.services",
            "service names must not be empty".to_string(),
        );
    }

    if raw.tenants.is_empty() {
        p.add("tenants", no_tenants_message().to_string());
    }
    let mut tenants = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (i, t) in raw.tenants.into_iter().enumerate() {
        let key = |k: &str| format!("tenants[{i}].{k}");
        let tenant_id = t.tenant_id.trim().to_ascii_lowercase();
        if !is_guid(&tenant_id) {
            p.add(
                &key("tenant_id"),
                format!(
                    "{:?} is not a directory (tenant) id; expected a GUID like 00000000-0000-0000-0000-000000000000",
                    t.tenant_id
                ),
            );
        } else if seen.contains(&tenant_id) {
            p.add(&key("tenant_id"), format!("{tenant_id} is listed twice"));
        }
        seen.push(tenant_id.clone());
        let client_id = t.auth.client_id.trim().to_ascii_lowercase();
        if !is_guid(&client_id) {
            p.add(
                &key("auth.client_id"),
                format!(
                    "{:?} is not an application (client) id; expected a GUID",
                    t.auth.client_id
                ),
            );
        }
        let secret = match &t.auth.client_secret_file {
            None => {
                p.add(
                    &key("auth"),
                    "no credential: set client_secret_file".to_string(),
                );
                None
            }
            Some(file) => match read_secret(&base.join(file)) {
                Ok(s) => Some(s),
                Err(e) => {
                    p.add(&key("auth.client_secret_file"), e);
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
        sources,
        options,
        tenants,
    })
}

struct Problems<'a>(&'a mut Vec<Problem>);

impl Problems<'_> {
    fn add(&mut self, key: &str, message: String) {
        self.0.push(Problem {
            key: key.to_string(),
            message,
        });
    }

    fn duration(&mut self, key: &str, value: Option<&str>, default: &str) -> Duration {
        match duration::parse(value.unwrap_or(default)) {
            Ok(d) if d.is_zero() => {
                self.add(key, "must be greater than zero".to_string());
                Duration::from_secs(1)
            }
            Ok(d) => d,
            Err(e) => {
                self.add(key, e.to_string());
                Duration::from_secs(1)
            }
        }
    }

    fn https_url(&mut self, key: &str, value: Option<&str>, default: &str) -> Option<Url> {
        let text = value.unwrap_or(default);
        match Url::parse(text) {
            Ok(u) if u.scheme() == "https" && u.host().is_some() => Some(with_slash(u)),
            Ok(_) => {
                self.add(key, format!("{text:?} must be an https:// URL"));
                None
            }
            Err(e) => {
                self.add(key, format!("{text:?} is not a URL: {e}"));
                None
            }
        }
    }
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
    fn sources_can_be_switched_off_and_retimed() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/valid");
        let c = Config::load(&dir.join("multi_tenant.yaml")).unwrap();
        let interval = |s: Source| c.sources.iter().find(|x| x.source == s).map(|x| x.interval);
        assert_eq!(c.sources.len(), Source::ALL.len() - 1);
        assert_eq!(interval(Source::DeviceAppManagement), None);
        assert_eq!(interval(Source::Messages), Some(Duration::from_secs(3600)));
        assert_eq!(
            interval(Source::ServiceHealth),
            Some(Duration::from_secs(300))
        );
        assert_eq!(interval(Source::VppTokens), Some(Duration::from_secs(600)));
        assert_eq!(c.options.services, ["Microsoft Intune", "Exchange Online"]);
        assert_eq!(c.options.message_center_latest, 5);
        assert_eq!(
            c.tenants[0].tenant_id,
            "4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21"
        );
        assert_eq!(c.graph.cloud, Cloud::UsGov);
        assert_eq!(c.graph.scope(), "https://graph.microsoft.us/.default");
    }

    #[test]
    fn built_in_source_intervals_parse() {
        for s in Source::ALL {
            if let Some(d) = s.spec().default_interval {
                assert!(duration::parse(d).is_ok(), "{}", s.name());
            }
        }
    }

    #[test]
    fn service_communications_stay_far_below_800_requests_an_hour() {
        // Graph's limit for /admin/serviceAnnouncement is 800 requests an hour per app and
        // tenant. Assume ten pages per poll, far more than a real tenant needs.
        let per_hour: u64 = [
            Source::ServiceHealth,
            Source::ServiceIssues,
            Source::Messages,
        ]
        .iter()
        .map(|s| {
            let every = duration::parse(s.spec().default_interval.unwrap()).unwrap();
            10 * 3600 / every.as_secs()
        })
        .sum();
        assert_eq!(per_hour, 280);
    }

    #[test]
    fn bracketed_paths() {
        assert_eq!(bracket_indices("tenants.0.auth.foo"), "tenants[0].auth.foo");
        assert_eq!(bracket_indices("grpah"), "grpah");
    }
}
