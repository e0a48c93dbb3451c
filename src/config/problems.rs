//! What every part of the config builds on: secrets that never print, the problems found in a
//! file and the collector that gathers them with its typed checks, and the environment lookup.
//! The bottom of `config`: its siblings and the parent import it, it imports none of them.

use crate::{duration, files};
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

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read (missing, not a regular file, too large, not UTF-8).
    #[error("{source}")]
    Read {
        /// The config file.
        file: PathBuf,
        /// Why.
        source: crate::files::ReadError,
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

/// Reads an environment variable; a function so tests can pass their own environment.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, ignoring variables that are not UTF-8.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

pub(crate) struct Problems<'a>(pub(crate) &'a mut Vec<Problem>);

impl Problems<'_> {
    pub(crate) fn add(&mut self, key: &str, message: String) {
        self.0.push(Problem {
            key: key.to_string(),
            message,
        });
    }

    /// A GUID in lower case, or a problem naming `what` it should be.
    pub(crate) fn guid(&mut self, key: &str, value: &str, what: &str) -> Option<String> {
        let id = value.trim().to_ascii_lowercase();
        if is_guid(&id) {
            Some(id)
        } else {
            self.add(key, format!("{value:?} is not {what}; expected a GUID"));
            None
        }
    }

    /// A secret from the environment variable `name` (never echoed).
    pub(crate) fn env_secret(
        &mut self,
        key: &str,
        name: &str,
        env: EnvLookup<'_>,
    ) -> Option<SecretString> {
        match env(name) {
            Some(v) if !v.trim().is_empty() => Some(SecretString::new(v)),
            Some(_) => {
                self.add(key, format!("the environment variable {name} is empty"));
                None
            }
            None => {
                self.add(key, format!("the environment variable {name} is not set"));
                None
            }
        }
    }

    /// A duration of at least `min`: anything shorter is a typo (`1ms` for `1m`) that would
    /// flood Graph or fail every poll, so `--config.check` refuses it.
    pub(crate) fn duration_at_least(
        &mut self,
        key: &str,
        value: Option<&str>,
        default: &str,
        min: Duration,
    ) -> Duration {
        match duration::parse(value.unwrap_or(default)) {
            Ok(d) if d < min => {
                self.add(
                    key,
                    format!(
                        "{} is too short: must be at least {}",
                        duration::format(d),
                        duration::format(min)
                    ),
                );
                min
            }
            Ok(d) => d,
            Err(e) => {
                self.add(key, e.to_string());
                Duration::from_secs(1)
            }
        }
    }

    /// A whole number of at least 1 (`max_pages`, `max_response_bytes`), or `default`.
    pub(crate) fn positive(&mut self, key: &str, value: Option<u64>, default: usize) -> usize {
        match value.map(usize::try_from) {
            None => default,
            Some(Ok(n)) if n > 0 => n,
            Some(_) => {
                self.add(key, "must be a whole number, at least 1".to_string());
                default
            }
        }
    }

    /// A count that must be at least 1 (a cap of 0 would stop every request).
    pub(crate) fn at_least_one(
        &mut self,
        key: &str,
        value: Option<usize>,
        default: usize,
    ) -> usize {
        match value.unwrap_or(default) {
            0 => {
                self.add(key, "must be at least 1".to_string());
                1
            }
            n => n,
        }
    }

    pub(crate) fn https_url(
        &mut self,
        key: &str,
        value: Option<&str>,
        default: &str,
    ) -> Option<Url> {
        let text = value.unwrap_or(default);
        if let Some(shown) = without_userinfo(text) {
            // The text is never echoed: it holds a password.
            self.add(
                key,
                format!("{shown:?} must not carry a user name or password (user:password@): Graph and the login authority take credentials only in the auth section, and URLs end up in logs"),
            );
            return None;
        }
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

/// Reads a config or tenant file as text: a regular file, at most
/// [`files::CONFIG_MAX_BYTES`] (a FIFO or `/dev/zero` is refused, not waited on).
pub(crate) fn read_config_text(path: &Path) -> Result<String, ConfigError> {
    files::read_text(path, files::CONFIG_MAX_BYTES).map_err(|source| ConfigError::Read {
        file: path.to_path_buf(),
        source,
    })
}

/// `text` with its `user:password@` replaced by `***@`, when it has one; `None` otherwise.
pub(crate) fn without_userinfo(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    Some(format!("{scheme}://***@{}", &rest[at + 1..]))
}

pub(crate) fn with_slash(mut u: Url) -> Url {
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

pub(crate) fn read_pem_certificates(path: &Path) -> Result<Vec<u8>, String> {
    let pem = files::read(path, files::PEM_MAX_BYTES).map_err(|e| e.to_string())?;
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

/// One problem per key that nothing reads.
pub(crate) fn unknown_keys(keys: Vec<String>) -> Vec<Problem> {
    keys.into_iter()
        .map(|key| Problem {
            key,
            message: "unknown key".to_string(),
        })
        .collect()
}

/// The shortest durations `--config.check` accepts; shorter ones are typos or would hammer Graph.
pub mod floors {
    use std::time::Duration;

    /// `poll.interval` and `sources.<name>.interval`: shorter is a typo (`1ms` for `1m`) that
    /// would flood Graph. Graph's tenant status data changes over hours; minutes are right in
    /// production, and tests poll every few seconds.
    pub const INTERVAL: Duration = Duration::from_secs(5);
    /// `poll.retry_backoff`, a non-zero `poll.startup_spread`.
    pub const SMALL: Duration = Duration::from_secs(1);
    /// `discovery.delegated_admin_customers.interval`: a partner's customer list changes over
    /// days.
    pub const DISCOVERY_INTERVAL: Duration = Duration::from_secs(60);
    /// `graph.request_timeout`: a sign-in alone takes hundreds of milliseconds.
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
    /// `poll.timeout`.
    pub const POLL_TIMEOUT: Duration = Duration::from_secs(1);
    /// `health.*`: the Tenant status page counts in days.
    pub const HEALTH: Duration = Duration::from_secs(60);
}
