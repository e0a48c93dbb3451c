//! The tenancy part of the config: which tenants to read and how each signs in.
//!
//! Four places name tenants, merged by [`crate::fleet`] at run time:
//! - `tenants:` in the config file, each with optional `labels` and `auth`;
//! - `defaults.auth`, the credential of every tenant that has no `auth` of its own (a managed
//!   service provider's multi-tenant app registration signs in to every customer tenant);
//! - `tenant_files:`, file patterns whose files each hold a YAML list of tenant entries, re-read
//!   when they change (like Prometheus' `file_sd_configs`: `*` only in the last path segment);
//! - `discovery.delegated_admin_customers`, the partner tenant's GDAP customers.
//!
//! This module owns the raw shapes of those keys and their validation; it does no I/O except
//! reading tenant files when asked to, and knows nothing about polling.

use super::auth::{own_or_defaults, validate_auth, Auth, RawAuth};
use super::problems::{ConfigError, EnvLookup, Problems};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Labels of `intune_tenant_info` that an operator's labels may not shadow.
const RESERVED_LABELS: &[&str] = &[
    "tenant_id",
    "tenant_name",
    "country_code",
    "mdm_authority",
    "instance",
    "job",
];

/// One tenant to read.
#[derive(Debug, Clone)]
pub struct TenantConfig {
    /// The directory (tenant) id as configured: a GUID or a verified domain name
    /// (`contoso.onmicrosoft.com`), in lower case. It is the `tenant_id` label.
    pub tenant_id: String,
    /// The operator's labels, exported on `intune_tenant_info` only.
    pub labels: BTreeMap<String, String>,
    /// How to sign in: the tenant's own `auth`, or `defaults.auth`.
    pub auth: Arc<Auth>,
}

/// GDAP discovery of a partner's customer tenants.
#[derive(Debug, Clone)]
pub struct DiscoveryConfig {
    /// The partner tenant that lists its customers.
    pub partner_tenant_id: String,
    /// How to sign in to the partner tenant (and, through `defaults.auth`, to each customer).
    pub auth: Arc<Auth>,
    /// Time between two listings.
    pub interval: Duration,
    /// Customer tenants never to read.
    pub exclude: BTreeSet<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawDefaults {
    pub(super) auth: Option<RawAuth>,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "a mapping with the keys tenant_id, labels, auth")]
pub(super) struct RawTenant {
    pub(super) tenant_id: String,
    #[serde(default)]
    pub(super) labels: BTreeMap<String, String>,
    pub(super) auth: Option<RawAuth>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawDiscovery {
    pub(super) delegated_admin_customers: Option<RawDelegatedAdminCustomers>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawDelegatedAdminCustomers {
    partner_tenant_id: String,
    auth: Option<RawAuth>,
    interval: Option<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

/// The default time between two GDAP listings.
pub const DISCOVERY_INTERVAL: &str = "1h";

/// A tenant identifier in lower case: a GUID, or a domain name such as
/// `contoso.onmicrosoft.com` (Entra accepts either in the token URL).
pub fn tenant_identifier(value: &str) -> Result<String, String> {
    let id = value.trim().to_ascii_lowercase();
    if super::problems::is_guid(&id) || is_domain(&id) {
        Ok(id)
    } else {
        Err(format!(
            "{value:?} is not a directory (tenant) id; expected a GUID like \
             00000000-0000-0000-0000-000000000000 or a domain like contoso.onmicrosoft.com"
        ))
    }
}

fn is_domain(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_alphabetic()))
}

/// Checks the operator's label names: Prometheus label syntax, not reserved.
fn check_labels(labels: &BTreeMap<String, String>, key: &str, p: &mut Problems<'_>) -> bool {
    let mut ok = true;
    for name in labels.keys() {
        let mut chars = name.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with("__");
        if !valid {
            p.add(
                &format!("{key}.{name}"),
                "is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)"
                    .to_string(),
            );
            ok = false;
        } else if RESERVED_LABELS.contains(&name.as_str()) {
            p.add(
                &format!("{key}.{name}"),
                format!(
                    "is reserved (intune_tenant_info already has it, or Prometheus sets it); reserved: {}",
                    RESERVED_LABELS.join(", ")
                ),
            );
            ok = false;
        }
    }
    ok
}

/// Validates tenant entries (from the config file or a tenant file); `prefix` is how keys are
/// named in problems (`tenants` or `` for a tenant file's top-level list).
pub(super) fn validate_tenants(
    raw: Vec<RawTenant>,
    prefix: &str,
    defaults: Option<&Arc<Auth>>,
    base: &Path,
    env: EnvLookup<'_>,
    p: &mut Problems<'_>,
) -> Vec<TenantConfig> {
    let mut tenants = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, t) in raw.into_iter().enumerate() {
        let key = |k: &str| format!("{prefix}[{i}].{k}");
        let tenant_id = match tenant_identifier(&t.tenant_id) {
            Ok(id) => id,
            Err(e) => {
                p.add(&key("tenant_id"), e);
                continue;
            }
        };
        if !seen.insert(tenant_id.clone()) {
            p.add(&key("tenant_id"), format!("{tenant_id} is listed twice"));
            continue;
        }
        let labels_ok = check_labels(&t.labels, &key("labels"), p);
        let auth = match (t.auth, defaults) {
            (Some(raw), _) => validate_auth(raw, &key("auth"), base, env, p).map(Arc::new),
            (None, Some(d)) => Some(Arc::clone(d)),
            (None, None) => {
                p.add(
                    &key("auth"),
                    "no credential: set auth here or defaults.auth for every tenant".to_string(),
                );
                None
            }
        };
        if let (Some(auth), true) = (auth, labels_ok) {
            tenants.push(TenantConfig {
                tenant_id,
                labels: t.labels,
                auth,
            });
        }
    }
    tenants
}

/// Validates `discovery:`.
pub(super) fn validate_discovery(
    raw: RawDiscovery,
    defaults: Option<&Arc<Auth>>,
    base: &Path,
    env: EnvLookup<'_>,
    p: &mut Problems<'_>,
) -> Option<DiscoveryConfig> {
    let raw = raw.delegated_admin_customers?;
    const KEY: &str = "discovery.delegated_admin_customers";
    let key = |k: &str| format!("{KEY}.{k}");
    let partner = tenant_identifier(&raw.partner_tenant_id)
        .map_err(|e| p.add(&key("partner_tenant_id"), e))
        .ok();
    let auth = own_or_defaults(raw.auth, &key("auth"), defaults, base, env, p);
    let interval = p.duration_at_least(
        &key("interval"),
        raw.interval.as_deref(),
        DISCOVERY_INTERVAL,
        super::problems::floors::DISCOVERY_INTERVAL,
    );
    let mut exclude = BTreeSet::new();
    for (i, id) in raw.exclude.iter().enumerate() {
        match tenant_identifier(id) {
            Ok(id) => {
                exclude.insert(id);
            }
            Err(e) => p.add(&format!("{}[{i}]", key("exclude")), e),
        }
    }
    if defaults.is_none() {
        p.add(
            "defaults.auth",
            format!("{KEY} needs defaults.auth: discovered customers sign in with it"),
        );
    }
    Some(DiscoveryConfig {
        partner_tenant_id: partner?,
        auth: auth?,
        interval,
        exclude,
    })
}

/// The files a `tenant_files` pattern names now, sorted. Only the last path segment may hold
/// `*` (any run of characters, as in Prometheus' file_sd); a pattern without `*` names one
/// file, which may not exist yet.
///
/// Every matching name is returned, whatever it is: a directory, a FIFO or a link to nothing
/// is a match that cannot be read, which the reader reports, rather than a file that silently
/// is not there (a dangling link must not drop its tenants as a deleted file does).
pub fn expand_pattern(pattern: &Path) -> std::io::Result<Vec<PathBuf>> {
    let Some(name) = pattern.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    if !name.contains('*') {
        return Ok(if std::fs::symlink_metadata(pattern).is_ok() {
            vec![pattern.to_path_buf()]
        } else {
            Vec::new()
        });
    }
    let dir = pattern.parent().unwrap_or(Path::new("."));
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(candidate) = file_name.to_str() else {
            continue;
        };
        // Kubernetes ConfigMap volumes hold `..data` links and dot-directories: skip hidden.
        if !candidate.starts_with('.') && matches(name, candidate) {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters.
fn matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = match parts.split_first() {
        Some(x) => x,
        None => return pattern == name,
    };
    let Some(mut tail) = name.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty();
    };
    for part in middle {
        match tail.find(part) {
            Some(at) => tail = &tail[at + part.len()..],
            None => return false,
        }
    }
    tail.len() >= last.len() && tail.ends_with(last)
}

/// What [`load_tenant_file`] says of a file that is empty or holds only comments.
pub const EMPTY_TENANT_FILE: &str = "the file is empty or holds only comments, which is taken \
     as not written yet (its last good tenants are kept); a file that lists no tenant says `[]`";

/// Reads one tenant file: a YAML list of tenant entries, each like an entry of `tenants:`.
/// Entries without `auth` use `defaults`. Every problem is reported at once, as for the config.
///
/// An empty or comment-only file is refused ([`EMPTY_TENANT_FILE`]): it is what a writer that
/// truncates before writing leaves for a moment, and must not read as "no tenants". An
/// explicit `[]` is a file that lists none.
pub fn load_tenant_file(
    path: &Path,
    defaults: Option<&Arc<Auth>>,
    env: EnvLookup<'_>,
) -> Result<Vec<TenantConfig>, ConfigError> {
    let text = super::problems::read_config_text(path)?;
    // The same strict, bounded parser as the config file: duplicate keys and deep nesting are
    // refused, unknown keys reported.
    let parsed = crate::yaml::parse::<Vec<RawTenant>>(&text).map_err(|e| ConfigError::Parse {
        file: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let Some(raw) = parsed.value else {
        return Err(ConfigError::Parse {
            file: path.to_path_buf(),
            message: EMPTY_TENANT_FILE.to_string(),
        });
    };
    let mut problems = super::problems::unknown_keys(parsed.unknown);
    let base = path.parent().unwrap_or(Path::new("."));
    let tenants = validate_tenants(raw, "", defaults, base, env, &mut Problems(&mut problems));
    if problems.is_empty() {
        Ok(tenants)
    } else {
        Err(ConfigError::Invalid {
            file: path.to_path_buf(),
            problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_identifiers_are_guids_or_domains() {
        assert_eq!(
            tenant_identifier(" 4F1C7D55-2A8E-4C3B-9D61-0B5E8A7F3C21 ").as_deref(),
            Ok("4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21")
        );
        assert_eq!(
            tenant_identifier("Contoso.onmicrosoft.com").as_deref(),
            Ok("contoso.onmicrosoft.com")
        );
        for bad in [
            "contoso",
            "-a.com",
            "a..com",
            "a.b/c",
            "http://a.com",
            "a.123",
        ] {
            assert!(tenant_identifier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns_match_like_file_sd() {
        assert!(matches("*.yml", "a.yml"));
        assert!(matches("*.yml", ".yml"));
        assert!(!matches("*.yml", "a.yaml"));
        assert!(matches("tenants-*.yml", "tenants-eu.yml"));
        assert!(!matches("tenants-*.yml", "other-eu.yml"));
        assert!(matches("a*b*c", "aXbYc"));
        assert!(!matches("a*b*c", "aXcYb"));
        assert!(matches("exact.yml", "exact.yml"));
        assert!(!matches("exact.yml", "exact.yml2"));
        assert!(!matches("ab*ba", "aba"));
    }
}
