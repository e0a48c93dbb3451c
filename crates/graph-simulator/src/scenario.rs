//! Simulator scenarios: which tenants exist, what Graph answers for each path, and which faults
//! are scripted. Owns the YAML format, its validation and relative-time resolution; it does no I/O
//! beyond reading the file in [`Scenario::load`] and knows nothing about HTTP.
//!
//! # Format
//!
//! ```yaml
//! log_capacity: 10000      # optional, default 10000: requests, tokens and assertions remembered
//! tenants:
//!   - tenant_id: 4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21   # GUID, also the {tenant} of the token URL
//!     domains: [contoso.onmicrosoft.com]   # optional: also accepted as {tenant} of the token URL
//!     client_id: 9a3e5b1f-6c2d-4e8a-b7f0-1d2c3e4f5a6b   # GUID
//!     client_secret: demo-secret-not-for-production   # a credential the token endpoint accepts;
//!     certificate: |                       # a tenant needs at least one of these four
//!       -----BEGIN CERTIFICATE-----        # the app's certificate: client assertions signed by its
//!       ...                                # key verify (PS256 + x5t#S256 or RS256 + x5t, aud, iss,
//!       -----END CERTIFICATE-----          # sub, nbf, exp)
//!     federated_tokens: [eyJ...]           # exact federated (workload identity) assertions accepted
//!     managed_identity:                    # answers GET /msi/token like App Service's IDENTITY_ENDPOINT
//!       identity_header: local-secret      # the X-IDENTITY-HEADER value required
//!       client_id: 5d1c...                 # optional: a user-assigned identity; absent = system-assigned
//!     token_lifetime: 1h     # optional, default 1h; expires_in is one second less, like Entra (3599)
//!     page_size: 100         # optional, default 100; longer collections are paged with @odata.nextLink
//!     latency: 0s            # optional, default 0s; added to every Graph response of this tenant
//!     resources:
//!       v1.0/deviceAppManagement/vppTokens:      # Graph path: version, then the resource, no query
//!         - id: 2f1a6c1e-...                     # a sequence is a collection
//!           expirationDateTime: {in: 5d}         # relative time: anchor + 5 days
//!           lastSyncDateTime: {ago: 2h}          # relative time: anchor - 2 hours
//!       v1.0/deviceManagement:                   # a mapping is a singleton or entity
//!         subscriptionState: active
//!       v1.0/deviceManagement/applePushNotificationCertificate: ~   # null (or absent): 404
//!     faults:                                    # optional
//!       - path: v1.0/subscribedSkus              # a resource path, or `token` for the token endpoint;
//!                                                # `{path}?$filter`: only its requests with a $filter;
//!                                                # `v1.0/$batch`, `beta/$batch`: the JSON batch itself
//!         sequence:                              # one entry per request, then normal service
//!           - {status: 429, retry_after: "2.5"}  # error status with Graph's (or Entra's) error body
//!           - {status: 503}
//!           - {malformed: true}                  # 200 with a truncated, non-JSON body
//!           - {delay: 3s}                        # normal answer, late; combines with the others
//!           # Hostile answers, to test that a client bounds what it reads and follows:
//!           - {headers: {Retry-After: "1e20"}}   # normal answer with extra headers
//!           - {redirect: "https://other/x"}      # 307 to that URL (status: 301-308 to choose)
//!           - {body: '{"value":["\ud800"]}'}     # 200 (or status) with exactly this body
//!           - {oversized: 2MiB}                  # 200, valid JSON padded to this size
//!           - {gzip_bomb: 1GiB}                  # 200, Content-Encoding gzip inflating to this
//!           - {next_link: self}                  # normal page whose @odata.nextLink is its own
//!           - {next_link: "https://other/x"}     #   URL, or the one given
//!           - {echo: true, status: 400}          # the request body sent back (default 400)
//! fleets:                                        # optional: generated tenants
//!   - count: 300                 # tenants numbered 1 to 300
//!     template: 4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21   # a tenant above (id or domain)
//!     seed: 7                    # optional, default 0: ids derive from seed and number
//!     name: Customer             # optional, default Customer: "Customer 0042", customer0042.onmicrosoft.com
//!     latency: 100ms             # optional, default the template's
//!     latency_spread: 50ms       # optional, default 0s: each tenant adds a fixed 0 to 50 ms
//!     not_consented: [7]         # optional: numbers whose token requests get AADSTS700016
//!     partner: 0d3c...           # optional: a tenant above that lists these in delegatedAdminCustomers
//!                                #   and delegatedAdminRelationships
//!     variants:                  # optional: tenant n gets variant (n - 1) mod len over the template
//!       - {}                                                     # the template as it is
//!       - v1.0/deviceManagement/applePushNotificationCertificate:
//!           expirationDateTime: {in: 20d}                        # a mapping sets properties
//!       - v1.0/deviceManagement/applePushNotificationCertificate: ~   # anything else replaces
//! ```
//!
//! - Property names and values are Graph's own (camelCase), copied into responses unchanged. The
//!   simulator has no per-resource code: any Graph resource can be simulated.
//! - A relative time is a mapping with exactly one key, `in` or `ago`, whose value is a duration
//!   ([`intune_duration::parse`]), anywhere in the object tree. It becomes an RFC 3339 UTC string
//!   `YYYY-MM-DDTHH:MM:SSZ` relative to the simulator's anchor (its start time, whole seconds). A
//!   plain string is passed through unchanged, so absolute times are written as strings.
//! - Collection elements are mappings. A collection `v1.0/organization` also answers
//!   `v1.0/organization/{id}` with the element whose `id` matches, unless that path has its own key.
//! - Unknown keys are refused everywhere outside `resources` and `variants`, naming the key.
//!
//! ## Fleets
//!
//! A fleet generates `count` tenants from its `template`, a tenant written out under `tenants`.
//! Tenant number `n` (from 1) gets:
//!
//! - a GUID derived from `seed` and `n` (version-4 shaped; the same on every run and platform),
//!   the name `{name} {n}` and the domain `{name}{n}.onmicrosoft.com` (name lowercased, letters
//!   and digits only; `n` zero-padded to at least 4 digits), which the token URL accepts;
//! - the template's app registration (client id, secret, certificate, federated tokens), token
//!   lifetime and page size, but not its managed identity nor its faults;
//! - the template's resources with variant `(n - 1) mod len(variants)` laid over them (a variant
//!   path set to a mapping sets those properties of the template's entity; a sequence or `~`
//!   replaces the resource), so a fleet spreads connector states and expiry dates in a fixed
//!   pattern. Tenants with the same variant share one copy of their resources;
//! - its own `v1.0/organization`: the template's first element with `id`, `displayName` and
//!   `verifiedDomains` (the generated domain) replaced;
//! - `latency` plus a fixed share of `latency_spread` derived from `seed` and `n`.
//!
//! Numbers in `not_consented` stand for tenants where the app was never consented: every token
//! request answers 400 `unauthorized_client` with `AADSTS700016` ("Application ... was not found
//! in the directory"), which is what Entra answers a client-credentials request from a
//! multi-tenant app without a service principal in that tenant. (`AADSTS65001` is the
//! interactive, delegated-consent error; the client-credentials grant never gets it.)
//!
//! A `partner` tenant serves `v1.0/tenantRelationships/delegatedAdminCustomers` (GDAP) listing
//! the fleet's tenants, consented or not, after any elements it declares itself, each with
//! `id` and `tenantId` the customer's tenant id and `displayName` its name; paged by its
//! `page_size` like any collection. It also serves
//! `v1.0/tenantRelationships/delegatedAdminRelationships`, one relationship per generated
//! customer after any it declares: customer `n` ending in 5 days without auto-extension when
//! `n` mod 10 is 2, expired 10 days ago when it is 3, and otherwise active, auto-extending
//! (`P180D`) and ending in 400 days.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

mod fleet;
mod model;
mod values;

use fleet::RawFleet;
pub use model::TenantScenario;
pub(crate) use model::{
    AppCertificate, Fault, FaultOutcome, ManagedIdentity, Resource, Secret, Template,
    FILTERED_FAULT_SUFFIX, NEXT_LINK_SELF, TOKEN_FAULT_PATH,
};
use values::{check_graph_path, key_error, optional_duration, resource, KeyError};

const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
const DEFAULT_PAGE_SIZE: usize = 100;
/// How many requests, issued tokens and client assertions the simulator remembers by default:
/// enough for any test's exact log, small enough (a few MiB) that a fleet polled for hours does
/// not grow the simulator. Counters ([`super::SimStats`]) keep counting past it.
pub const DEFAULT_LOG_CAPACITY: usize = 10_000;
/// What [`Scenario::from_yaml`] calls its input in error messages.
const INLINE: &str = "<inline scenario>";

/// Why a scenario was refused. Every variant names the file; validation errors also name the key.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// Not YAML, or not the expected shape (unknown key, wrong type). The message names the key.
    #[error("scenario {file}: {source}")]
    Syntax {
        file: String,
        #[source]
        source: serde_yaml_ng::Error,
    },
    /// Well-formed YAML with a value the simulator cannot use.
    #[error("scenario {file}: {key}: {message}")]
    Invalid {
        file: String,
        key: String,
        message: String,
    },
}

/// A validated scenario. Times are still relative: the simulator resolves them when it starts.
#[derive(Debug, Clone)]
pub struct Scenario {
    tenants: Vec<TenantScenario>,
    log_capacity: usize,
}

impl Scenario {
    /// Parses and validates a scenario; errors call the input `<inline scenario>`.
    pub fn from_yaml(text: &str) -> Result<Scenario, ScenarioError> {
        Self::parse(text, INLINE)
    }

    /// Registers `pem` as the certificate of the tenant `tenant_id`'s app, so the token endpoint
    /// accepts assertions signed with its key (what `--demo` does with a certificate it makes).
    pub fn register_certificate(
        &mut self,
        tenant_id: &str,
        pem: &str,
    ) -> Result<(), ScenarioError> {
        let invalid = |key: String, message: String| ScenarioError::Invalid {
            file: INLINE.to_string(),
            key,
            message,
        };
        let tenant = self
            .tenants
            .iter_mut()
            .find(|t| t.tenant_id == tenant_id)
            .ok_or_else(|| invalid("tenants".into(), format!("no tenant {tenant_id}")))?;
        let cert = app_certificate(pem, "certificate").map_err(|e| invalid(e.key, e.message))?;
        tenant.certificate = Some(cert);
        Ok(())
    }

    /// Reads, parses and validates a scenario file; errors name the file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            file: file.clone(),
            source,
        })?;
        Self::parse(&text, &file)
    }

    /// The simulated tenants: those of `tenants` in file order, then each fleet's generated
    /// tenants by fleet and number.
    pub fn tenants(&self) -> &[TenantScenario] {
        &self.tenants
    }

    /// How many entries the request log, the issued-token list and the assertion list keep
    /// (`log_capacity`, default [`DEFAULT_LOG_CAPACITY`]).
    pub fn log_capacity(&self) -> usize {
        self.log_capacity
    }

    fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let raw: RawScenario =
            serde_yaml_ng::from_str(text).map_err(|source| ScenarioError::Syntax {
                file: file.to_string(),
                source,
            })?;
        raw.validate().map_err(|e| ScenarioError::Invalid {
            file: file.to_string(),
            key: e.key,
            message: e.message,
        })
    }
}

fn app_certificate(pem: &str, key: &str) -> Result<AppCertificate, KeyError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let der = rustls_pemfile::certs(&mut pem.as_bytes())
        .next()
        .and_then(Result::ok)
        .ok_or_else(|| {
            key_error(
                key,
                "expected a PEM certificate (-----BEGIN CERTIFICATE-----)",
            )
        })?;
    let (_, parsed) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| key_error(key, format!("the certificate does not parse: {e}")))?;
    let digest = |alg| URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(alg, &der));
    Ok(AppCertificate {
        x5t: digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY),
        x5t_s256: digest(&aws_lc_rs::digest::SHA256),
        public_key: parsed.public_key().subject_public_key.data.to_vec(),
    })
}

// ---- raw YAML shape ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    tenants: Vec<RawTenant>,
    #[serde(default)]
    fleets: Vec<RawFleet>,
    #[serde(default)]
    log_capacity: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    tenant_id: String,
    #[serde(default)]
    domains: Vec<String>,
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    certificate: Option<String>,
    #[serde(default)]
    federated_tokens: Vec<String>,
    #[serde(default)]
    managed_identity: Option<RawManagedIdentity>,
    #[serde(default)]
    token_lifetime: Option<String>,
    #[serde(default)]
    page_size: Option<usize>,
    #[serde(default)]
    latency: Option<String>,
    #[serde(default)]
    resources: BTreeMap<String, Value>,
    #[serde(default)]
    faults: Vec<RawFaultScript>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManagedIdentity {
    identity_header: String,
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaultScript {
    path: String,
    sequence: Vec<RawFault>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    #[serde(default)]
    status: Option<u16>,
    /// A string or a number: `retry_after: 2` is as natural to write as `"2.5"`.
    #[serde(default)]
    retry_after: Option<Value>,
    #[serde(default)]
    malformed: bool,
    #[serde(default)]
    delay: Option<String>,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    redirect: Option<String>,
    #[serde(default)]
    body: Option<String>,
    /// Bytes, or a size such as `2MiB`.
    #[serde(default)]
    oversized: Option<Value>,
    #[serde(default)]
    gzip_bomb: Option<Value>,
    #[serde(default)]
    next_link: Option<String>,
    #[serde(default)]
    echo: bool,
}

/// The fault keys that each choose a hostile answer; at most one per fault.
const HOSTILE: [&str; 8] = [
    "malformed",
    "headers",
    "redirect",
    "body",
    "oversized",
    "gzip_bomb",
    "next_link",
    "echo",
];

impl RawScenario {
    fn validate(self) -> Result<Scenario, KeyError> {
        if self.tenants.is_empty() {
            return Err(key_error("tenants", "at least one tenant is needed"));
        }
        let log_capacity = self.log_capacity.unwrap_or(DEFAULT_LOG_CAPACITY);
        if log_capacity == 0 {
            return Err(key_error("log_capacity", "must be at least 1"));
        }
        let mut tenants = self
            .tenants
            .into_iter()
            .enumerate()
            .map(|(i, raw)| raw.validate(&format!("tenants[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let explicit = tenants.len();
        for (i, raw) in self.fleets.into_iter().enumerate() {
            let generated = raw.validate(&format!("fleets[{i}]"), &mut tenants[..explicit])?;
            tenants.extend(generated);
        }
        // Ids and domains are one namespace: the token URL takes either.
        let mut seen = HashSet::new();
        for (ix, t) in tenants.iter().enumerate() {
            for name in std::iter::once(&t.tenant_id).chain(&t.domains) {
                if !seen.insert(name.to_ascii_lowercase()) {
                    let key = if ix < explicit {
                        format!("tenants[{ix}]")
                    } else {
                        "fleets".to_string()
                    };
                    return Err(key_error(
                        key,
                        format!(
                            "tenant {name} appears twice (each fleet needs its own seed and name)"
                        ),
                    ));
                }
            }
        }
        Ok(Scenario {
            tenants,
            log_capacity,
        })
    }
}

impl RawTenant {
    fn validate(self, key: &str) -> Result<TenantScenario, KeyError> {
        for (name, value) in [
            ("tenant_id", &self.tenant_id),
            ("client_id", &self.client_id),
        ] {
            if !is_guid(value) {
                return Err(key_error(
                    format!("{key}.{name}"),
                    format!("{value:?} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"),
                ));
            }
        }
        let domains = self
            .domains
            .iter()
            .enumerate()
            .map(|(i, d)| domain(d, &format!("{key}.domains[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        if self.client_secret.as_deref() == Some("") {
            return Err(key_error(
                format!("{key}.client_secret"),
                "must not be empty",
            ));
        }
        if self.client_secret.is_none()
            && self.certificate.is_none()
            && self.federated_tokens.is_empty()
            && self.managed_identity.is_none()
        {
            return Err(key_error(
                key,
                "needs a credential: client_secret, certificate, federated_tokens or managed_identity",
            ));
        }
        let certificate = self
            .certificate
            .as_deref()
            .map(|pem| app_certificate(pem, &format!("{key}.certificate")))
            .transpose()?;
        let managed_identity = match self.managed_identity {
            None => None,
            Some(m) => {
                if m.identity_header.is_empty() {
                    return Err(key_error(
                        format!("{key}.managed_identity.identity_header"),
                        "must not be empty",
                    ));
                }
                if let Some(id) = &m.client_id {
                    if !is_guid(id) {
                        return Err(key_error(
                            format!("{key}.managed_identity.client_id"),
                            format!("{id:?} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"),
                        ));
                    }
                }
                Some(ManagedIdentity {
                    identity_header: Secret(m.identity_header),
                    client_id: m.client_id,
                })
            }
        };
        let token_lifetime = optional_duration(
            self.token_lifetime.as_deref(),
            DEFAULT_TOKEN_LIFETIME,
            &format!("{key}.token_lifetime"),
        )?;
        if token_lifetime < Duration::from_secs(1) {
            return Err(key_error(
                format!("{key}.token_lifetime"),
                "must be at least 1s",
            ));
        }
        let latency = optional_duration(
            self.latency.as_deref(),
            Duration::ZERO,
            &format!("{key}.latency"),
        )?;
        let page_size = self.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if page_size == 0 {
            return Err(key_error(format!("{key}.page_size"), "must be at least 1"));
        }

        let mut resources = BTreeMap::new();
        for (path, value) in self.resources {
            let rkey = format!("{key}.resources.{path:?}");
            check_graph_path(&path).map_err(|m| key_error(&rkey, m))?;
            resources.insert(path, resource(value, &rkey)?);
        }

        let mut faults = BTreeMap::new();
        for (i, script) in self.faults.into_iter().enumerate() {
            let fkey = format!("{key}.faults[{i}]");
            if script.path != TOKEN_FAULT_PATH {
                // `{path}?$filter` scripts only the requests of that path that carry a $filter.
                let path = script.path.strip_suffix(FILTERED_FAULT_SUFFIX);
                check_graph_path(path.unwrap_or(&script.path))
                    .map_err(|m| key_error(format!("{fkey}.path"), m))?;
            }
            let sequence = script
                .sequence
                .into_iter()
                .enumerate()
                .map(|(j, f)| f.validate(&format!("{fkey}.sequence[{j}]")))
                .collect::<Result<Vec<_>, _>>()?;
            if faults.insert(script.path.clone(), sequence).is_some() {
                return Err(key_error(
                    format!("{fkey}.path"),
                    format!(
                        "{:?} is scripted twice; put all its faults in one sequence",
                        script.path
                    ),
                ));
            }
        }

        Ok(TenantScenario {
            tenant_id: self.tenant_id,
            client_id: self.client_id,
            client_secret: Secret(self.client_secret.unwrap_or_default()),
            display_name: None,
            domains,
            consented: true,
            certificate,
            federated_tokens: self.federated_tokens.into_iter().map(Secret).collect(),
            managed_identity,
            token_lifetime,
            page_size,
            latency,
            resources: Arc::new(resources),
            own_resources: BTreeMap::new(),
            faults,
        })
    }
}

impl RawFault {
    fn validate(mut self, key: &str) -> Result<Fault, KeyError> {
        let delay = optional_duration(
            self.delay.as_deref(),
            Duration::ZERO,
            &format!("{key}.delay"),
        )?;
        if let Some(outcome) = self.hostile(key)? {
            return Ok(Fault { delay, outcome });
        }
        let retry_after = match self.retry_after {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(other) => {
                return Err(key_error(
                    format!("{key}.retry_after"),
                    format!("expected seconds (\"2.5\") or an HTTP date, got {other}"),
                ))
            }
        };
        let outcome = match (self.status, self.malformed) {
            (Some(_), true) => {
                return Err(key_error(
                    key,
                    "status and malformed exclude each other (malformed answers 200)",
                ))
            }
            (Some(status), false) => {
                if !(400..=599).contains(&status) {
                    return Err(key_error(
                        format!("{key}.status"),
                        format!("{status} is not an error status (400-599)"),
                    ));
                }
                FaultOutcome::Status {
                    status,
                    retry_after,
                }
            }
            (None, malformed) => {
                if retry_after.is_some() {
                    return Err(key_error(
                        format!("{key}.retry_after"),
                        "only applies together with a status",
                    ));
                }
                if malformed {
                    FaultOutcome::Malformed
                } else if self.delay.is_some() {
                    FaultOutcome::Normal
                } else {
                    return Err(key_error(key, "a fault needs status, malformed or delay"));
                }
            }
        };
        Ok(Fault { delay, outcome })
    }

    /// The hostile answer this fault asks for, if any (`malformed` is left to the caller).
    fn hostile(&mut self, key: &str) -> Result<Option<FaultOutcome>, KeyError> {
        let chosen: Vec<&str> = [
            self.malformed,
            self.headers.is_some(),
            self.redirect.is_some(),
            self.body.is_some(),
            self.oversized.is_some(),
            self.gzip_bomb.is_some(),
            self.next_link.is_some(),
            self.echo,
        ]
        .iter()
        .zip(HOSTILE)
        .filter(|(set, _)| **set)
        .map(|(_, name)| name)
        .collect();
        if chosen.len() > 1 {
            return Err(key_error(
                key,
                format!(
                    "choose one of {}, not {}",
                    HOSTILE.join(", "),
                    chosen.join(" and ")
                ),
            ));
        }
        let Some(&kind) = chosen.first() else {
            return Ok(None);
        };
        if kind == "malformed" {
            return Ok(None);
        }
        if self.retry_after.is_some() {
            return Err(key_error(
                format!("{key}.retry_after"),
                format!("does not combine with {kind}; use headers for a Retry-After on it"),
            ));
        }
        let status_range = match kind {
            "redirect" => 300..=399,
            "echo" => 400..=599,
            "body" => 200..=599,
            _ => 0..=0,
        };
        if let Some(status) = self.status {
            if !status_range.contains(&status) {
                let message = if status_range.end() == &0 {
                    format!("does not combine with {kind}, which answers 200")
                } else {
                    format!(
                        "{status} does not suit {kind} ({}-{})",
                        status_range.start(),
                        status_range.end()
                    )
                };
                return Err(key_error(format!("{key}.status"), message));
            }
        }
        let size = |value: &Value, name: &str| {
            parse_size(value).ok_or_else(|| {
                key_error(
                    format!("{key}.{name}"),
                    format!("expected a size in bytes, such as 1048576 or 1MiB, got {value}"),
                )
            })
        };
        Ok(Some(match kind {
            "headers" => FaultOutcome::Headers(
                self.headers
                    .take()
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            ),
            "redirect" => FaultOutcome::Redirect {
                status: self.status.unwrap_or(307),
                location: self.redirect.take().unwrap_or_default(),
            },
            "body" => FaultOutcome::Body {
                status: self.status.unwrap_or(200),
                text: self.body.take().unwrap_or_default(),
            },
            "oversized" => FaultOutcome::Oversized(size(
                self.oversized.as_ref().unwrap_or(&Value::Null),
                "oversized",
            )?),
            "gzip_bomb" => FaultOutcome::GzipBomb(size(
                self.gzip_bomb.as_ref().unwrap_or(&Value::Null),
                "gzip_bomb",
            )?),
            "next_link" => FaultOutcome::NextLink(self.next_link.take().unwrap_or_default()),
            _ => FaultOutcome::Echo {
                status: self.status.unwrap_or(400),
            },
        }))
    }
}

/// `1048576`, `"512KiB"`, `"2MiB"` or `"1GiB"`, in bytes.
fn parse_size(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => {
            let s = s.trim();
            let (digits, unit) =
                s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
            let scale: u64 = match unit.trim() {
                "" | "B" => 1,
                "KiB" => 1 << 10,
                "MiB" => 1 << 20,
                "GiB" => 1 << 30,
                _ => return None,
            };
            digits.parse::<u64>().ok()?.checked_mul(scale)
        }
        _ => None,
    }
}

/// A domain name the token URL accepts in place of the tenant GUID, lowercased.
fn domain(name: &str, key: &str) -> Result<String, KeyError> {
    let lower = name.to_ascii_lowercase();
    let valid = lower.contains('.')
        && lower.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !valid {
        return Err(key_error(
            key,
            format!("{name:?} is not a domain name such as contoso.onmicrosoft.com"),
        ));
    }
    Ok(lower)
}

fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use serde_json::json;

    const TENANT: &str = "tenant_id: 4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21\n    client_id: 9a3e5b1f-6c2d-4e8a-b7f0-1d2c3e4f5a6b\n    client_secret: s3cret\n";

    fn scenario(extra: &str) -> Result<Scenario, ScenarioError> {
        Scenario::from_yaml(&format!("tenants:\n  - {TENANT}{extra}"))
    }

    fn anchor() -> DateTime<Utc> {
        "2026-11-25T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn resolves_relative_times_anywhere_in_the_tree() {
        let s = scenario(
            "    resources:\n      v1.0/x:\n        - id: a\n          expirationDateTime: {in: 5d}\n          lastSyncDateTime: {ago: 2h30m}\n          plain: \"2020-01-01T00:00:00Z\"\n          nested:\n            list:\n              - {ago: 1w}\n              - when: {in: 90s}\n",
        )
        .unwrap();
        let Resource::Collection(items) = &s.tenants()[0].resources["v1.0/x"] else {
            panic!("expected a collection");
        };
        assert_eq!(
            items[0].resolve(anchor()),
            json!({
                "id": "a",
                "expirationDateTime": "2026-11-30T12:00:00Z",
                "lastSyncDateTime": "2026-11-25T09:30:00Z",
                "plain": "2020-01-01T00:00:00Z",
                "nested": {"list": ["2026-11-18T12:00:00Z", {"when": "2026-11-25T12:01:30Z"}]}
            })
        );
    }

    #[test]
    fn a_mapping_with_in_and_another_key_is_an_ordinary_object() {
        let s =
            scenario("    resources:\n      v1.0/x:\n        in: 5d\n        other: 1\n").unwrap();
        let Resource::Entity(t) = &s.tenants()[0].resources["v1.0/x"] else {
            panic!("expected an entity");
        };
        assert_eq!(t.resolve(anchor()), json!({"in": "5d", "other": 1}));
    }

    #[test]
    fn defaults_and_resource_kinds() {
        let s = scenario("    resources:\n      v1.0/a: []\n      v1.0/b: {}\n      beta/c: ~\n")
            .unwrap();
        let t = &s.tenants()[0];
        assert_eq!(t.token_lifetime, Duration::from_secs(3600));
        assert_eq!(t.page_size, 100);
        assert_eq!(t.latency, Duration::ZERO);
        assert_eq!(t.resources["v1.0/a"], Resource::Collection(vec![]));
        assert_eq!(
            t.resources["v1.0/b"],
            Resource::Entity(Template::Object(vec![]))
        );
        assert_eq!(t.resources["beta/c"], Resource::Missing);
        assert_eq!(format!("{:?}", t.client_secret), "***");
        assert_eq!(t.client_secret(), "s3cret");
    }

    #[test]
    fn parses_hostile_faults() {
        let s = scenario(
            "    faults:\n      - path: v1.0/x\n        sequence:\n          - {headers: {Retry-After: \"1e20\"}}\n          - {redirect: \"https://127.0.0.1:1/x\", status: 308}\n          - {body: '{\"value\":[\"\\ud800\"]}'}\n          - {oversized: 2MiB}\n          - {gzip_bomb: 1024}\n          - {next_link: self}\n      - path: token\n        sequence: [{echo: true, status: 502}, {redirect: \"https://h/\"}]\n",
        )
        .unwrap();
        let t = &s.tenants()[0];
        let outcomes: Vec<_> = t.faults["v1.0/x"]
            .iter()
            .map(|f| f.outcome.clone())
            .collect();
        assert_eq!(
            outcomes,
            [
                FaultOutcome::Headers(vec![("Retry-After".into(), "1e20".into())]),
                FaultOutcome::Redirect {
                    status: 308,
                    location: "https://127.0.0.1:1/x".into()
                },
                FaultOutcome::Body {
                    status: 200,
                    text: r#"{"value":["\ud800"]}"#.into()
                },
                FaultOutcome::Oversized(2 << 20),
                FaultOutcome::GzipBomb(1024),
                FaultOutcome::NextLink("self".into()),
            ]
        );
        let token: Vec<_> = t.faults["token"]
            .iter()
            .map(|f| f.outcome.clone())
            .collect();
        assert_eq!(
            token,
            [
                FaultOutcome::Echo { status: 502 },
                FaultOutcome::Redirect {
                    status: 307,
                    location: "https://h/".into()
                }
            ]
        );
        for (fault, expected) in [
            ("{redirect: x, status: 500}", "tenants[0].faults[0].sequence[0].status: 500 does not suit redirect (300-399)"),
            ("{body: x, status: 600}", "tenants[0].faults[0].sequence[0].status: 600 does not suit body (200-599)"),
            ("{body: x, malformed: true}", "tenants[0].faults[0].sequence[0]: choose one of malformed, headers, redirect, body, oversized, gzip_bomb, next_link, echo, not malformed and body"),
            ("{oversized: 2MB}", "tenants[0].faults[0].sequence[0].oversized: expected a size in bytes, such as 1048576 or 1MiB, got \"2MB\""),
            ("{next_link: self, retry_after: 1}", "tenants[0].faults[0].sequence[0].retry_after: does not combine with next_link; use headers for a Retry-After on it"),
        ] {
            let err = scenario(&format!("    faults:\n      - path: v1.0/x\n        sequence: [{fault}]\n"))
                .unwrap_err()
                .to_string();
            assert_eq!(err, format!("scenario <inline scenario>: {expected}"), "{fault}");
        }
    }

    #[test]
    fn parses_fault_sequences() {
        let s = scenario(
            "    faults:\n      - path: v1.0/subscribedSkus\n        sequence:\n          - {status: 429, retry_after: \"2.5\"}\n          - {status: 503, retry_after: 7}\n          - {malformed: true}\n          - {delay: 3s}\n      - path: token\n        sequence: [{status: 500, delay: 1s}]\n",
        )
        .unwrap();
        let t = &s.tenants()[0];
        let status = |status, retry_after: Option<&str>| FaultOutcome::Status {
            status,
            retry_after: retry_after.map(str::to_string),
        };
        assert_eq!(
            t.faults["v1.0/subscribedSkus"],
            vec![
                Fault {
                    delay: Duration::ZERO,
                    outcome: status(429, Some("2.5"))
                },
                Fault {
                    delay: Duration::ZERO,
                    outcome: status(503, Some("7"))
                },
                Fault {
                    delay: Duration::ZERO,
                    outcome: FaultOutcome::Malformed
                },
                Fault {
                    delay: Duration::from_secs(3),
                    outcome: FaultOutcome::Normal
                },
            ]
        );
        assert_eq!(
            t.faults["token"],
            vec![Fault {
                delay: Duration::from_secs(1),
                outcome: status(500, None)
            }]
        );
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let err = scenario("    page_sise: 5\n").unwrap_err().to_string();
        assert!(
            err.starts_with("scenario <inline scenario>: tenants[0]: unknown field `page_sise`, expected one of"),
            "{err}"
        );
        let err = scenario(
            "    faults:\n      - path: token\n        sequence: [{status: 500, retry: 1}]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("scenario <inline scenario>: tenants[0].faults[0].sequence[0]: unknown field `retry`"),
            "{err}"
        );
    }

    #[test]
    fn invalid_values_name_the_key() {
        let cases = [
            (
                "    resources:\n      v1.0/x: [{id: a, t: {in: 5y}}]\n",
                "scenario <inline scenario>: tenants[0].resources.\"v1.0/x\"[0].t.in: invalid duration \"5y\": unknown unit (use ms, s, m, h, d or w) (expected e.g. 30s, 5m, 1h30m, 7d)",
            ),
            (
                "    resources:\n      /v1.0/x: []\n",
                "scenario <inline scenario>: tenants[0].resources.\"/v1.0/x\": \"/v1.0/x\" must start with the Graph version, v1.0/ or beta/ (no leading slash)",
            ),
            (
                "    resources:\n      v1.0/x: 5\n",
                "scenario <inline scenario>: tenants[0].resources.\"v1.0/x\": expected a sequence (collection), a mapping (entity) or null (404)",
            ),
            (
                "    resources:\n      v1.0/x: [1]\n",
                "scenario <inline scenario>: tenants[0].resources.\"v1.0/x\"[0]: collection elements must be mappings",
            ),
            (
                "    page_size: 0\n",
                "scenario <inline scenario>: tenants[0].page_size: must be at least 1",
            ),
            (
                "    faults:\n      - path: token\n        sequence: [{status: 200}]\n",
                "scenario <inline scenario>: tenants[0].faults[0].sequence[0].status: 200 is not an error status (400-599)",
            ),
            (
                "    faults:\n      - path: token\n        sequence: [{retry_after: \"1\"}]\n",
                "scenario <inline scenario>: tenants[0].faults[0].sequence[0].retry_after: only applies together with a status",
            ),
            (
                "    faults:\n      - path: token\n        sequence: [{}]\n",
                "scenario <inline scenario>: tenants[0].faults[0].sequence[0]: a fault needs status, malformed or delay",
            ),
            (
                "    faults:\n      - path: subscribedSkus\n        sequence: [{status: 500}]\n",
                "scenario <inline scenario>: tenants[0].faults[0].path: \"subscribedSkus\" must start with the Graph version, v1.0/ or beta/ (no leading slash)",
            ),
        ];
        for (extra, expected) in cases {
            assert_eq!(scenario(extra).unwrap_err().to_string(), expected);
        }
        let err = Scenario::from_yaml(
            "tenants:\n  - tenant_id: contoso\n    client_id: 9a3e5b1f-6c2d-4e8a-b7f0-1d2c3e4f5a6b\n    client_secret: x\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "scenario <inline scenario>: tenants[0].tenant_id: \"contoso\" is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
        );
    }

    #[test]
    fn credentials_other_than_a_secret() {
        let base = "tenants:\n  - tenant_id: 4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21\n    client_id: 9a3e5b1f-6c2d-4e8a-b7f0-1d2c3e4f5a6b\n";
        let parse = |extra: &str| Scenario::from_yaml(&format!("{base}{extra}"));
        let s = parse("    federated_tokens: [abc]\n    managed_identity: {identity_header: h}\n")
            .unwrap();
        let t = &s.tenants()[0];
        assert_eq!(t.client_secret(), "");
        assert_eq!(format!("{:?}", t.federated_tokens), "[***]");
        assert_eq!(
            format!("{:?}", t.managed_identity),
            "Some(ManagedIdentity { identity_header: ***, client_id: None })"
        );
        for (extra, expected) in [
            (
                "",
                "scenario <inline scenario>: tenants[0]: needs a credential: client_secret, certificate, federated_tokens or managed_identity",
            ),
            (
                "    certificate: not a pem\n",
                "scenario <inline scenario>: tenants[0].certificate: expected a PEM certificate (-----BEGIN CERTIFICATE-----)",
            ),
            (
                "    managed_identity: {identity_header: h, client_id: x}\n",
                "scenario <inline scenario>: tenants[0].managed_identity.client_id: \"x\" is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
            ),
        ] {
            assert_eq!(parse(extra).unwrap_err().to_string(), expected);
        }
    }

    #[test]
    fn fleets_generate_tenants_and_refuse_bad_keys() {
        let fleet = |extra: &str| {
            Scenario::from_yaml(&format!(
                "tenants:\n  - {TENANT}    resources:\n      v1.0/a: {{x: 1, y: 2}}\n      v1.0/b: [{{id: b}}]\nfleets:\n  - count: 3\n    template: 4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21\n{extra}"
            ))
        };
        let s = fleet("    seed: 1\n    name: Acme Ltd\n    latency: 100ms\n    latency_spread: 50ms\n    not_consented: [2]\n    variants:\n      - {}\n      - {v1.0/a: {y: 3}, v1.0/b: ~}\n").unwrap();
        let t = &s.tenants()[1..];
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].tenant_id(), fleet::guid(1, 1));
        assert_eq!(t[1].display_name(), Some("Acme Ltd 0002"));
        assert_eq!(t[1].domains(), ["acmeltd0002.onmicrosoft.com"]);
        assert_eq!(
            t.iter().map(TenantScenario::consented).collect::<Vec<_>>(),
            [true, false, true]
        );
        assert_eq!(t[0].client_secret(), "s3cret");
        assert!(t
            .iter()
            .all(|t| (100..=150).contains(&t.latency.as_millis())));
        assert!(Arc::ptr_eq(&t[0].resources, &t[2].resources));
        let entity = |t: &TenantScenario| t.resources["v1.0/a"].clone();
        let object = |pairs: &[(&str, i64)]| {
            Resource::Entity(Template::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), Template::Scalar(json!(v))))
                    .collect(),
            ))
        };
        assert_eq!(entity(&t[0]), object(&[("x", 1), ("y", 2)]));
        assert_eq!(entity(&t[1]), object(&[("x", 1), ("y", 3)]));
        assert_eq!(t[1].resources["v1.0/b"], Resource::Missing);

        for (extra, expected) in [
            ("    colour: red\n", "scenario <inline scenario>: fleets[0]: unknown field `colour`"),
            ("    partner: contoso.com\n", "scenario <inline scenario>: fleets[0].partner: no tenant contoso.com under tenants"),
            ("    not_consented: [4]\n", "scenario <inline scenario>: fleets[0].not_consented: 4 is not a tenant number of this fleet (1 to 3)"),
            ("    name: \"--\"\n", "scenario <inline scenario>: fleets[0].name: needs a letter or digit: it starts each domain name"),
            ("    variants: [{v1.0/b: {id: c}}]\n", "scenario <inline scenario>: fleets[0].variants[0].\"v1.0/b\": is a collection in the template: give a sequence to replace it, or ~ for 404"),
            ("  - count: 1\n    template: 4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21\n", &format!("scenario <inline scenario>: fleets: tenant {} appears twice (each fleet needs its own seed and name)", fleet::guid(0, 1))),
        ] {
            let err = fleet(extra).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}");
        }
    }

    #[test]
    fn load_names_the_file() {
        let err = Scenario::load(Path::new("/nonexistent/scenario.yaml")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read scenario /nonexistent/scenario.yaml: "),
            "{err}"
        );
    }
}
