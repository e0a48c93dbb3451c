//! The simulator's shared state: resolved tenants, issued tokens, remaining faults and the request
//! log. Locks are held only for a lookup or an insert, never across an await.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustls::crypto::CryptoProvider;
use serde_json::{Map, Value};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::scenario::{
    AppCertificate, Fault, FaultOutcome, ManagedIdentity, Resource, Scenario, Secret,
    TenantScenario,
};
use super::RecordedRequest;

/// A tenant with its resources resolved against the anchor.
pub(crate) struct LiveTenant {
    pub(crate) tenant_id: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) certificate: Option<AppCertificate>,
    pub(crate) federated_tokens: Vec<Secret>,
    pub(crate) managed_identity: Option<ManagedIdentity>,
    pub(crate) token_lifetime: Duration,
    pub(crate) page_size: usize,
    pub(crate) latency: Duration,
    pub(crate) resources: HashMap<String, LiveResource>,
}

/// A resource as served: plain JSON, times resolved.
pub(crate) enum LiveResource {
    Missing,
    Collection(Vec<Map<String, Value>>),
    Entity(Map<String, Value>),
}

/// Index of a tenant in [`SimState::tenants`].
pub(crate) type TenantIx = usize;

/// What an access token turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    Unknown,
    Expired,
    Valid(TenantIx),
}

struct IssuedToken {
    tenant: TenantIx,
    expires_at: Instant,
}

pub(crate) struct SimState {
    /// `https://127.0.0.1:PORT`: Graph root and login authority host at once.
    pub(crate) base_url: String,
    pub(crate) tenants: Vec<LiveTenant>,
    /// Cancelled on shutdown; pending delays end early so connections can close.
    pub(crate) cancel: CancellationToken,
    provider: Arc<CryptoProvider>,
    tokens: Mutex<HashMap<String, IssuedToken>>,
    /// Every token issued, in order, for tests that check no log line shows one.
    issued: Mutex<Vec<String>>,
    /// Every client assertion received, for the same tests.
    assertions: Mutex<Vec<String>>,
    faults: Mutex<HashMap<(TenantIx, String), VecDeque<Fault>>>,
    /// Client secrets changed at run time, by tenant.
    rotated_secrets: Mutex<HashMap<TenantIx, Vec<Secret>>>,
    requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) in_flight: super::router::InFlight,
    next_id: AtomicU64,
    anchor: DateTime<Utc>,
}

/// A poisoned lock only means another request panicked; the data (a map, a log) is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SimState {
    pub(crate) fn new(
        scenario: Scenario,
        base_url: String,
        anchor: DateTime<Utc>,
        provider: Arc<CryptoProvider>,
        cancel: CancellationToken,
    ) -> SimState {
        let mut faults = HashMap::new();
        let tenants = scenario
            .tenants()
            .iter()
            .enumerate()
            .map(|(ix, t)| {
                for (path, sequence) in &t.faults {
                    faults.insert((ix, path.clone()), sequence.iter().cloned().collect());
                }
                live_tenant(t, anchor)
            })
            .collect();
        SimState {
            base_url,
            tenants,
            cancel,
            provider,
            tokens: Mutex::new(HashMap::new()),
            issued: Mutex::new(Vec::new()),
            assertions: Mutex::new(Vec::new()),
            faults: Mutex::new(faults),
            rotated_secrets: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            in_flight: Default::default(),
            next_id: AtomicU64::new(1),
            anchor,
        }
    }

    pub(crate) fn anchor(&self) -> DateTime<Utc> {
        self.anchor
    }

    /// The tenant a token URL or scenario names; tenant GUIDs compare without regard to case.
    pub(crate) fn tenant_by_id(&self, id: &str) -> Option<TenantIx> {
        self.tenants
            .iter()
            .position(|t| t.tenant_id.eq_ignore_ascii_case(id))
    }

    /// Mints an opaque token (32 random bytes, base64url) for `tenant`; `None` if the system
    /// random generator failed.
    pub(crate) fn issue_token(&self, tenant: TenantIx, lifetime: Duration) -> Option<String> {
        let mut bytes = [0u8; 32];
        self.provider.secure_random.fill(&mut bytes).ok()?;
        let token = base64url(&bytes);
        lock(&self.issued).push(token.clone());
        lock(&self.tokens).insert(
            token.clone(),
            IssuedToken {
                tenant,
                expires_at: Instant::now() + lifetime,
            },
        );
        Some(token)
    }

    pub(crate) fn issued_tokens(&self) -> Vec<String> {
        lock(&self.issued).clone()
    }

    pub(crate) fn record_assertion(&self, assertion: &str) {
        lock(&self.assertions).push(assertion.to_string());
    }

    pub(crate) fn received_assertions(&self) -> Vec<String> {
        lock(&self.assertions).clone()
    }

    pub(crate) fn check_token(&self, token: &str) -> TokenCheck {
        match lock(&self.tokens).get(token) {
            None => TokenCheck::Unknown,
            Some(t) if Instant::now() >= t.expires_at => TokenCheck::Expired,
            Some(t) => TokenCheck::Valid(t.tenant),
        }
    }

    /// Consumes the next scripted fault for `path` (a resource path or `token`), if any is left.
    pub(crate) fn next_fault(&self, tenant: TenantIx, path: &str) -> Option<Fault> {
        lock(&self.faults)
            .get_mut(&(tenant, path.to_string()))
            .and_then(VecDeque::pop_front)
    }

    /// Takes the next scripted fault of `path`, waits its delay, and returns its outcome
    /// ([`FaultOutcome::Normal`] when nothing is scripted).
    pub(crate) async fn apply_fault(&self, tenant: TenantIx, path: &str) -> FaultOutcome {
        let Some(fault) = self.next_fault(tenant, path) else {
            return FaultOutcome::Normal;
        };
        self.pause(fault.delay).await;
        fault.outcome
    }

    /// Whether the token endpoint accepts `secret` for `tenant` now: the scenario's secret, or
    /// those [`SimState::set_client_secrets`] set.
    pub(crate) fn accepts_secret(&self, tenant: TenantIx, secret: &str) -> bool {
        match lock(&self.rotated_secrets).get(&tenant) {
            Some(accepted) => accepted.iter().any(|s| s.0 == secret),
            None => {
                let own = &self.tenants[tenant].client_secret.0;
                !own.is_empty() && own == secret
            }
        }
    }

    /// Replaces the secrets `tenant` accepts, as an administrator rotating them in Entra does.
    pub(crate) fn set_client_secrets(&self, tenant: TenantIx, secrets: Vec<String>) {
        let secrets = secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(Secret)
            .collect();
        lock(&self.rotated_secrets).insert(tenant, secrets);
    }

    /// A GUID-shaped id for `request-id`, trace and correlation ids. Unique, not secret, so a
    /// counter does: tests can read ids in order.
    pub(crate) fn new_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        // The anchor keeps ids of two simulator runs apart in shared logs.
        let run = self.anchor.timestamp() as u32;
        format!("{run:08x}-0000-4000-8000-{n:012x}")
    }

    pub(crate) fn record(&self, request: RecordedRequest) {
        lock(&self.requests).push(request);
    }

    /// Requests in arrival order (they are logged when answered, so a slow one is logged late).
    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        let mut all = lock(&self.requests).clone();
        all.sort_by_key(|r| r.at);
        all
    }

    /// Sleeps for `d`, or until shutdown.
    pub(crate) async fn pause(&self, d: Duration) {
        if d.is_zero() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.cancel.cancelled() => {}
        }
    }
}

fn live_tenant(t: &TenantScenario, anchor: DateTime<Utc>) -> LiveTenant {
    let object = |template: &super::scenario::Template| match template.resolve(anchor) {
        Value::Object(map) => map,
        // Validation admits only mappings here.
        _ => Map::new(),
    };
    let resources = t
        .resources
        .iter()
        .map(|(path, resource)| {
            let live = match resource {
                Resource::Missing => LiveResource::Missing,
                Resource::Collection(items) => {
                    LiveResource::Collection(items.iter().map(object).collect())
                }
                Resource::Entity(template) => LiveResource::Entity(object(template)),
            };
            (path.clone(), live)
        })
        .collect();
    LiveTenant {
        tenant_id: t.tenant_id().to_string(),
        client_id: t.client_id().to_string(),
        client_secret: Secret(t.client_secret().to_string()),
        certificate: t.certificate.clone(),
        federated_tokens: t.federated_tokens.clone(),
        managed_identity: t.managed_identity.clone(),
        token_lifetime: t.token_lifetime,
        page_size: t.page_size,
        latency: t.latency,
        resources,
    }
}

/// Unpadded base64url (RFC 4648 §5), the alphabet of real access tokens.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        // RFC 4648 §10 vectors, without padding.
        for (input, expected) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(input.as_bytes()), expected);
        }
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }
}
