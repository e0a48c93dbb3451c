//! The validated scenario's parts: a tenant, its credentials, its resources (Graph JSON with
//! relative times still unresolved) and its scripted faults. What the server reads; knows no
//! YAML and no HTTP. A leaf of `scenario`: the parser (`scenario`) and `fleet` build these.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// One simulated tenant: its app registration, its Graph resources and its scripted faults.
#[derive(Debug, Clone)]
pub struct TenantScenario {
    pub(super) tenant_id: String,
    pub(super) client_id: String,
    pub(super) client_secret: Secret,
    pub(super) display_name: Option<String>,
    pub(super) domains: Vec<String>,
    pub(crate) consented: bool,
    pub(crate) certificate: Option<AppCertificate>,
    pub(crate) federated_tokens: Vec<Secret>,
    pub(crate) managed_identity: Option<ManagedIdentity>,
    pub(crate) token_lifetime: Duration,
    pub(crate) page_size: usize,
    pub(crate) latency: Duration,
    /// Shared by the tenants of a fleet that get the same variant, so 5,000 generated tenants
    /// hold one copy of the template's resources.
    pub(crate) resources: Arc<BTreeMap<String, Resource>>,
    /// Served before `resources`: what is this tenant's alone (a generated tenant's
    /// `v1.0/organization`).
    pub(crate) own_resources: BTreeMap<String, Resource>,
    pub(crate) faults: BTreeMap<String, Vec<Fault>>,
}

impl TenantScenario {
    /// The tenant GUID, as written in the scenario.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The app registration's client id the token endpoint accepts.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client secret the token endpoint accepts (empty when the tenant has none). Never log it.
    pub fn client_secret(&self) -> &str {
        &self.client_secret.0
    }

    /// A generated tenant's name (`Customer 0042`); `None` for a tenant written out in `tenants`.
    pub fn display_name(&self) -> Option<&str> {
        self.display_name.as_deref()
    }

    /// Domain names the token URL accepts in place of the GUID, lowercase.
    pub fn domains(&self) -> &[String] {
        &self.domains
    }

    /// `false` when the app was never consented in this tenant: every token request answers
    /// `AADSTS700016`.
    pub fn consented(&self) -> bool {
        self.consented
    }
}

/// An app registration's certificate, as the token endpoint needs it to check assertions.
#[derive(Debug, Clone)]
pub(crate) struct AppCertificate {
    /// base64url SHA-1 of the DER certificate (`x5t`).
    pub(crate) x5t: String,
    /// base64url SHA-256 of the DER certificate (`x5t#S256`).
    pub(crate) x5t_s256: String,
    /// The RSAPublicKey DER of the certificate's key.
    pub(crate) public_key: Vec<u8>,
}

/// A managed identity the `/msi/token` endpoint hands tokens to.
#[derive(Debug, Clone)]
pub(crate) struct ManagedIdentity {
    pub(crate) identity_header: Secret,
    pub(crate) client_id: Option<String>,
}

/// A secret whose `Debug` does not print it, so a scenario can be debug-printed safely.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What the scenario says lives at one Graph path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resource {
    /// `null`: Graph answers 404, as for an APNs certificate that was never uploaded.
    Missing,
    /// A YAML sequence: an entity set or collection, paged.
    Collection(Vec<Template>),
    /// A YAML mapping: a singleton or single entity.
    Entity(Template),
}

/// A Graph JSON value whose relative times are not yet resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Template {
    /// A scalar, copied as is.
    Scalar(Value),
    Array(Vec<Template>),
    Object(Vec<(String, Template)>),
    /// `{in: 5d}`: the anchor plus the duration.
    In(Duration),
    /// `{ago: 2h}`: the anchor minus the duration.
    Ago(Duration),
}

impl Template {
    /// Replaces every relative time with an RFC 3339 UTC string relative to `anchor`.
    pub(crate) fn resolve(&self, anchor: DateTime<Utc>) -> Value {
        match self {
            Template::Scalar(v) => v.clone(),
            Template::Array(items) => {
                Value::Array(items.iter().map(|t| t.resolve(anchor)).collect())
            }
            Template::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, t)| (k.clone(), t.resolve(anchor)))
                    .collect::<Map<String, Value>>(),
            ),
            Template::In(d) => Value::String(rfc3339(shift(anchor, *d, true))),
            Template::Ago(d) => Value::String(rfc3339(shift(anchor, *d, false))),
        }
    }
}

fn shift(anchor: DateTime<Utc>, d: Duration, forward: bool) -> DateTime<Utc> {
    // MAX_RELATIVE (scenario/values.rs) keeps both conversions and the addition far inside
    // chrono's range, so the fallbacks below are unreachable for validated scenarios.
    let delta = chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::zero());
    let shifted = if forward {
        anchor.checked_add_signed(delta)
    } else {
        anchor.checked_sub_signed(delta)
    };
    shifted.unwrap_or(anchor)
}

/// Graph's own shape for the times the simulator writes: UTC, whole seconds, `Z`.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// One scripted answer of a fault sequence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fault {
    /// Wait this long before answering (zero: answer at once).
    pub(crate) delay: Duration,
    pub(crate) outcome: FaultOutcome,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FaultOutcome {
    /// Answer as usual (only the delay applies).
    Normal,
    /// An error status with the endpoint's error body and, if given, `Retry-After` verbatim.
    Status {
        status: u16,
        retry_after: Option<String>,
    },
    /// 200 with a body cut in half, which is never valid JSON.
    Malformed,
    /// The usual answer with these headers added (a `Retry-After` on a 200, say).
    Headers(Vec<(String, String)>),
    /// A redirect (`status` 301-308) to `location`.
    Redirect { status: u16, location: String },
    /// `status` (200 unless given) with exactly this body.
    Body { status: u16, text: String },
    /// 200 with a valid JSON document of exactly this many bytes.
    Oversized(u64),
    /// 200 with `Content-Encoding: gzip`, inflating to a JSON document of this many bytes.
    GzipBomb(u64),
    /// The usual answer, its `@odata.nextLink` replaced: [`NEXT_LINK_SELF`] or a URL.
    NextLink(String),
    /// `status` with the request's own body sent back, as a broken proxy might.
    Echo { status: u16 },
}

/// `next_link: self`: the page links to itself.
pub(crate) const NEXT_LINK_SELF: &str = "self";

/// The path under which token endpoint faults are scripted.
pub(crate) const TOKEN_FAULT_PATH: &str = "token";
/// After a Graph path, scripts only the requests that carry a `$filter`.
pub(crate) const FILTERED_FAULT_SUFFIX: &str = "?$filter";
