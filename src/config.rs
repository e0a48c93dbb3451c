//! The configuration file: raw serde structs, validated into a typed [`Config`].
//!
//! Unknown keys are refused, and every problem in a file is reported at once (with its key), so
//! `--config.check` shows an operator the whole list in one go. Secrets are read here and held
//! in [`SecretString`], whose `Debug` and `Display` print `***`.
//!
//! By concern: this file holds the file-level shape (graph, poll, health, sources, service
//! communications) and the problem list; `auth` the credentials; `tenants` which tenants to read
//! (the config's own list, tenant files, GDAP discovery).

use crate::graph::Cloud;
use crate::health::Thresholds;
use crate::sources::{Options, Source};
use crate::{duration, yaml};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

mod app_credentials;
mod auth;
mod problems;
mod tenants;

pub use problems::floors;
pub use problems::{is_guid, process_env, ConfigError, EnvLookup, Problem, SecretString};
use problems::{read_config_text, read_pem_certificates, unknown_keys, Problems};

pub use app_credentials::AppCredentialsConfig;
use auth::RawWorkloadIdentity;
pub use auth::{read_secret, Auth};
pub(crate) use auth::{validate_auth, RawAuth};

pub use tenants::{
    expand_pattern, load_tenant_file, tenant_identifier, DiscoveryConfig, TenantConfig,
};
use tenants::{RawDefaults, RawDiscovery, RawTenant};

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
    /// The tenants listed in the config file itself.
    pub tenants: Vec<TenantConfig>,
    /// The credential of tenants without their own `auth` (tenant files, discovered customers).
    pub defaults_auth: Option<Arc<Auth>>,
    /// `tenant_files` patterns, relative paths resolved against the config file's folder.
    pub tenant_files: Vec<PathBuf>,
    /// GDAP discovery of a partner's customer tenants.
    pub discovery: Option<DiscoveryConfig>,
    /// Reading the expiry dates of the exporter's own app registration; off when `None`.
    pub app_credentials: Option<AppCredentialsConfig>,
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
#[derive(Debug, Clone, PartialEq)]
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
    /// Largest Graph answer read, in bytes after decompression.
    pub max_response_bytes: usize,
    /// Most pages read from one collection.
    pub max_pages: usize,
    /// Most Graph requests in flight at once, all tenants together (a `$batch` counts as one).
    pub max_concurrent_requests: usize,
    /// Most sign-ins (token requests) in flight at once, all tenants together.
    pub max_concurrent_sign_ins: usize,
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
    /// First polls of a fleet are spread over at most this long (and at most 100 ms per
    /// tenant, and at most `interval`), so hundreds of tenants don't sign in in one second.
    pub startup_spread: Duration,
    /// First wait before retrying a failed source; doubles per failure up to its interval.
    pub retry_backoff: Duration,
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    expecting = "a mapping with the keys graph, poll, health, sources, service_communications, defaults, tenants, tenant_files, discovery, app_credentials"
)]
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
    defaults: RawDefaults,
    #[serde(default)]
    tenants: Vec<RawTenant>,
    #[serde(default)]
    tenant_files: Vec<PathBuf>,
    #[serde(default)]
    discovery: RawDiscovery,
    app_credentials: Option<app_credentials::RawAppCredentials>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a mapping with the keys enabled, interval")]
struct RawSource {
    enabled: Option<bool>,
    interval: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a mapping with the keys services, message_center_latest")]
struct RawServiceCommunications {
    services: Option<Vec<String>>,
    message_center_latest: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    expecting = "a mapping with the keys cloud, graph_url, authority_host, ca_file, request_timeout"
)]
struct RawGraph {
    cloud: Option<String>,
    graph_url: Option<String>,
    authority_host: Option<String>,
    ca_file: Option<PathBuf>,
    request_timeout: Option<String>,
    max_response_bytes: Option<u64>,
    max_pages: Option<u64>,
    max_concurrent_requests: Option<usize>,
    max_concurrent_sign_ins: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a mapping with the keys interval, timeout")]
struct RawPoll {
    interval: Option<String>,
    timeout: Option<String>,
    startup_spread: Option<String>,
    retry_backoff: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a mapping with the keys expiry_warning, sync_warning, sync_unhealthy")]
struct RawHealth {
    expiry_warning: Option<String>,
    sync_warning: Option<String>,
    sync_unhealthy: Option<String>,
}

/// Defaults, also used by the README.
pub mod defaults {
    /// `poll.interval`.
    pub const POLL_INTERVAL: &str = "5m";
    /// `poll.timeout`.
    pub const POLL_TIMEOUT: &str = "2m";
    /// `graph.request_timeout`.
    pub const REQUEST_TIMEOUT: &str = "30s";
    /// `poll.startup_spread`.
    pub const STARTUP_SPREAD: &str = "60s";
    /// `poll.retry_backoff`.
    pub const RETRY_BACKOFF: &str = "30s";
    /// `graph.max_pages`.
    pub const MAX_PAGES: usize = 100;
    /// `graph.max_concurrent_requests`.
    pub const MAX_CONCURRENT_REQUESTS: usize = 32;
    /// `graph.max_concurrent_sign_ins`.
    pub const MAX_CONCURRENT_SIGN_INS: usize = 4;
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = read_config_text(path)?;
        Self::parse(&text, path)
    }

    /// Validates config text; `path` names the file in messages and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        Self::parse_with_env(text, path, &process_env)
    }

    /// The one-tenant configuration the Azure SDK's standard variables describe, for a
    /// container that has no config file: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and a credential,
    /// the first of `AZURE_CLIENT_SECRET`, `AZURE_CLIENT_CERTIFICATE_PATH` (PEM with certificate
    /// and key, or `.pfx`/`.p12` with `AZURE_CLIENT_CERTIFICATE_PASSWORD`) and
    /// `AZURE_FEDERATED_TOKEN_FILE`. `AZURE_AUTHORITY_HOST`, which the workload identity webhook
    /// sets, overrides the login authority. `None` when the variables do not name a tenant and
    /// a credential; everything else is defaults.
    pub fn from_azure_env(env: EnvLookup<'_>) -> Option<Result<Config, ConfigError>> {
        let var = |n: &str| env(n).filter(|v| !v.trim().is_empty());
        let tenant_id = var("AZURE_TENANT_ID")?;
        let client_id = var("AZURE_CLIENT_ID")?;
        let mut auth = RawAuth {
            client_id: Some(client_id),
            ..RawAuth::default()
        };
        if var("AZURE_CLIENT_SECRET").is_some() {
            auth.client_secret_env = Some("AZURE_CLIENT_SECRET".to_string());
        } else if let Some(path) = var("AZURE_CLIENT_CERTIFICATE_PATH") {
            let lower = path.to_ascii_lowercase();
            if lower.ends_with(".pfx") || lower.ends_with(".p12") {
                auth.pkcs12_file = Some(PathBuf::from(path));
                if var("AZURE_CLIENT_CERTIFICATE_PASSWORD").is_some() {
                    auth.pkcs12_password_env =
                        Some("AZURE_CLIENT_CERTIFICATE_PASSWORD".to_string());
                }
            } else {
                auth.certificate_file = Some(PathBuf::from(path));
            }
        } else if let Some(path) = var("AZURE_FEDERATED_TOKEN_FILE") {
            auth.workload_identity = Some(RawWorkloadIdentity {
                token_file: Some(PathBuf::from(path)),
            });
        } else {
            return None;
        }
        let raw = RawConfig {
            graph: RawGraph {
                authority_host: var("AZURE_AUTHORITY_HOST"),
                ..RawGraph::default()
            },
            tenants: vec![RawTenant {
                tenant_id,
                labels: BTreeMap::new(),
                auth: Some(auth),
            }],
            ..RawConfig::default()
        };
        let file = PathBuf::from(ENVIRONMENT);
        let mut problems = Vec::new();
        let config = validate(raw, Path::new("."), env, &mut problems);
        Some(match config {
            Some(c) if problems.is_empty() => Ok(c),
            _ => Err(ConfigError::Invalid { file, problems }),
        })
    }

    /// [`Config::parse`] with environment variables (`client_secret_env`, ...) read from `env`.
    pub fn parse_with_env(
        text: &str,
        path: &Path,
        env: EnvLookup<'_>,
    ) -> Result<Config, ConfigError> {
        let parsed = yaml::parse::<RawConfig>(text).map_err(|e| ConfigError::Parse {
            file: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let raw = parsed.value.unwrap_or_default();
        let mut problems = unknown_keys(parsed.unknown);
        let base = path.parent().unwrap_or(Path::new("."));
        let config = validate(raw, base, env, &mut problems);
        match config {
            Some(c) if problems.is_empty() => Ok(c),
            _ => Err(ConfigError::Invalid {
                file: path.to_path_buf(),
                problems,
            }),
        }
    }
}

/// What errors call a configuration built from the Azure SDK's environment variables.
const ENVIRONMENT: &str = "<environment: AZURE_TENANT_ID, AZURE_CLIENT_ID, ...>";

fn validate(
    raw: RawConfig,
    base: &Path,
    env: EnvLookup<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Config> {
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

    let request_timeout = p.duration_at_least(
        "graph.request_timeout",
        raw.graph.request_timeout.as_deref(),
        defaults::REQUEST_TIMEOUT,
        floors::REQUEST_TIMEOUT,
    );
    let max_response_bytes = p.positive(
        "graph.max_response_bytes",
        raw.graph.max_response_bytes,
        crate::graph::body::DEFAULT_MAX_RESPONSE_BYTES,
    );
    let max_pages = p.positive("graph.max_pages", raw.graph.max_pages, defaults::MAX_PAGES);
    let max_concurrent_requests = p.at_least_one(
        "graph.max_concurrent_requests",
        raw.graph.max_concurrent_requests,
        defaults::MAX_CONCURRENT_REQUESTS,
    );
    let max_concurrent_sign_ins = p.at_least_one(
        "graph.max_concurrent_sign_ins",
        raw.graph.max_concurrent_sign_ins,
        defaults::MAX_CONCURRENT_SIGN_INS,
    );
    let interval = p.duration_at_least(
        "poll.interval",
        raw.poll.interval.as_deref(),
        defaults::POLL_INTERVAL,
        floors::INTERVAL,
    );
    let timeout = p.duration_at_least(
        "poll.timeout",
        raw.poll.timeout.as_deref(),
        defaults::POLL_TIMEOUT,
        floors::POLL_TIMEOUT,
    );
    // Zero is allowed here: it means "start every tenant at once".
    let startup_spread = match raw.poll.startup_spread.as_deref() {
        Some("0") | Some("0s") => Duration::ZERO,
        other => p.duration_at_least(
            "poll.startup_spread",
            other,
            defaults::STARTUP_SPREAD,
            floors::SMALL,
        ),
    };
    let retry_backoff = p.duration_at_least(
        "poll.retry_backoff",
        raw.poll.retry_backoff.as_deref(),
        defaults::RETRY_BACKOFF,
        floors::SMALL,
    );
    let d = Thresholds::default();
    let health = Thresholds {
        expiry_warning: p.duration_at_least(
            "health.expiry_warning",
            raw.health.expiry_warning.as_deref(),
            &duration::format(d.expiry_warning),
            floors::HEALTH,
        ),
        sync_warning: p.duration_at_least(
            "health.sync_warning",
            raw.health.sync_warning.as_deref(),
            &duration::format(d.sync_warning),
            floors::HEALTH,
        ),
        sync_unhealthy: p.duration_at_least(
            "health.sync_unhealthy",
            raw.health.sync_unhealthy.as_deref(),
            &duration::format(d.sync_unhealthy),
            floors::HEALTH,
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
        let settings = raw.sources.get(source.name());
        if !settings
            .and_then(|s| s.enabled)
            .unwrap_or(source.enabled_by_default())
        {
            continue;
        }
        let interval = match settings.and_then(|s| s.interval.as_deref()) {
            Some(text) => p.duration_at_least(
                &format!("sources.{}.interval", source.name()),
                Some(text),
                "",
                floors::INTERVAL,
            ),
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

    let defaults_auth = raw
        .defaults
        .auth
        .and_then(|a| validate_auth(a, "defaults.auth", base, env, &mut p))
        .map(Arc::new);
    if raw.tenants.is_empty()
        && raw.tenant_files.is_empty()
        && raw.discovery.delegated_admin_customers.is_none()
    {
        p.add("tenants", no_tenants_message().to_string());
    }
    let tenants = tenants::validate_tenants(
        raw.tenants,
        "tenants",
        defaults_auth.as_ref(),
        base,
        env,
        &mut p,
    );
    let tenant_files: Vec<PathBuf> = raw.tenant_files.iter().map(|f| base.join(f)).collect();
    for (i, (raw_pattern, pattern)) in raw.tenant_files.iter().zip(&tenant_files).enumerate() {
        let dir_pattern = pattern.parent().and_then(|d| d.to_str()).unwrap_or("");
        if dir_pattern.contains('*') {
            p.add(
                &format!("tenant_files[{i}]"),
                format!(
                    "{}: only the last path segment may contain *",
                    raw_pattern.display()
                ),
            );
        }
    }
    let discovery =
        tenants::validate_discovery(raw.discovery, defaults_auth.as_ref(), base, env, &mut p);
    let app_credentials = app_credentials::validate(
        raw.app_credentials,
        defaults_auth.as_ref(),
        base,
        env,
        &mut p,
    );

    Some(Config {
        graph: GraphSettings {
            cloud,
            graph_root: graph_root?,
            authority_host: authority_host?,
            extra_roots_pem,
            request_timeout,
            max_response_bytes,
            max_pages,
            max_concurrent_requests,
            max_concurrent_sign_ins,
        },
        poll: PollSettings {
            interval,
            timeout,
            startup_spread,
            retry_backoff,
        },
        health,
        sources,
        options,
        tenants,
        defaults_auth,
        tenant_files,
        discovery,
        app_credentials,
    })
}

/// What to tell someone who started the exporter without any tenant.
pub fn no_tenants_message() -> &'static str {
    "no tenant is configured: write a config file with at least one entry under `tenants:` \
     (tenant_id and auth.client_id + auth.client_secret_file of an app registration with \
     read permissions; see the README, \"Configuration\"), or `tenant_files` or \
     `discovery` (README, \"Many tenants\"), and pass it with --config.file, \
     or set AZURE_TENANT_ID, AZURE_CLIENT_ID and one of AZURE_CLIENT_SECRET, \
     AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE for a single tenant \
     (README, \"Credentials\"), or run with --demo to see the exporter against a simulated tenant"
}

#[cfg(test)]
mod tests {
    use super::problems::without_userinfo;
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
        // Off by default, on when asked, at its own default interval.
        assert_eq!(
            interval(Source::Subscriptions),
            Some(Duration::from_secs(3600))
        );
        let plain = Config::load(&dir.join("byte_order_mark.yaml")).unwrap();
        assert!(plain
            .sources
            .iter()
            .all(|x| x.source != Source::Subscriptions));
        assert_eq!(plain.sources.len(), Source::defaults().len());
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
    fn azure_sdk_variables_make_a_one_tenant_config() {
        let token =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/client-secret.txt");
        let token = token.to_string_lossy().into_owned();
        let vars = |extra: &[(&str, &str)]| {
            let mut v: Vec<(String, String)> = vec![
                (
                    "AZURE_TENANT_ID".into(),
                    "4F1C7D55-2A8E-4C3B-9D61-0B5E8A7F3C21".into(),
                ),
                (
                    "AZURE_CLIENT_ID".into(),
                    "9a3e5b1f-6c2d-4e8a-b7f0-1d2c3e4f5a6b".into(),
                ),
            ];
            v.extend(extra.iter().map(|(k, x)| (k.to_string(), x.to_string())));
            move |name: &str| v.iter().find(|(k, _)| k == name).map(|(_, x)| x.clone())
        };
        let env = vars(&[
            ("AZURE_CLIENT_SECRET", "s3cret"),
            ("AZURE_FEDERATED_TOKEN_FILE", &token),
        ]);
        let c = Config::from_azure_env(&env).unwrap().unwrap();
        assert_eq!(c.tenants.len(), 1);
        assert_eq!(
            c.tenants[0].tenant_id,
            "4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21"
        );
        let Auth::ClientSecret {
            client_id, secret, ..
        } = &*c.tenants[0].auth
        else {
            panic!("a secret comes first, as in the Azure SDKs");
        };
        assert_eq!(
            (client_id.as_str(), secret.expose()),
            ("9a3e5b1f-6c2d-4e8a-b7f0-1d2c3e4f5a6b", "s3cret")
        );
        assert_eq!(
            c.graph.authority_host.as_str(),
            "https://login.microsoftonline.com/"
        );

        let env = vars(&[
            ("AZURE_FEDERATED_TOKEN_FILE", &token),
            ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"),
        ]);
        let c = Config::from_azure_env(&env).unwrap().unwrap();
        let Auth::WorkloadIdentity { token_file, .. } = &*c.tenants[0].auth else {
            panic!("workload identity expected");
        };
        assert_eq!(token_file, Path::new(&token));
        assert_eq!(
            c.graph.authority_host.as_str(),
            "https://login.microsoftonline.us/"
        );

        let env = vars(&[("AZURE_CLIENT_CERTIFICATE_PATH", "/nonexistent/app.pfx")]);
        let err = Config::from_azure_env(&env)
            .unwrap()
            .unwrap_err()
            .to_string();
        assert_eq!(err, "<environment: AZURE_TENANT_ID, AZURE_CLIENT_ID, ...>: 1 problem(s):\n  tenants[0].auth.pkcs12_file: cannot read /nonexistent/app.pfx: No such file or directory (os error 2)");

        // Without a credential variable there is nothing to run.
        assert!(Config::from_azure_env(&vars(&[])).is_none());
    }

    #[test]
    fn urls_with_a_user_or_password_are_refused_without_echoing_them() {
        let text = "graph:\n  graph_url: https://svc:Hunter2-pw@graph.example/\n  authority_host: https://:Pw2-only@login.example\n  max_pages: 0\n  max_response_bytes: 1024\ntenants: []\n";
        let err = Config::parse_with_env(text, Path::new("c.yaml"), &|_| None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "c.yaml: 4 problem(s):\n  \
             graph.graph_url: \"https://***@graph.example/\" must not carry a user name or password (user:password@): Graph and the login authority take credentials only in the auth section, and URLs end up in logs\n  \
             graph.authority_host: \"https://***@login.example\" must not carry a user name or password (user:password@): Graph and the login authority take credentials only in the auth section, and URLs end up in logs\n  \
             graph.max_pages: must be a whole number, at least 1\n  \
             tenants: ".to_string() + no_tenants_message()
        );
        assert_eq!(without_userinfo("https://graph.example/a@b"), None);
        assert_eq!(
            without_userinfo("https://u@h/x"),
            Some("https://***@h/x".to_string())
        );
    }
}
