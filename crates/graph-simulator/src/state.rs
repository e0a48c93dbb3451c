//! The simulator's shared state: resolved tenants, issued tokens, remaining faults, the request
//! log and the counters. Locks are held only for a lookup or an insert, never across an await.
//!
//! Memory stays bounded however long a fleet is polled: the request log, the issued-token list
//! and the assertion list are rings of the scenario's `log_capacity` (the oldest entry goes), and
//! tokens are forgotten an hour after they expire. Counting is left to [`Counters`], which never
//! forgets.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustls::crypto::CryptoProvider;
use serde_json::{Map, Value};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::record::RecordedRequest;
use super::scenario::{
    AppCertificate, Fault, FaultOutcome, ManagedIdentity, Resource, Scenario, Secret,
    TenantScenario,
};
use super::stats::{Counters, InFlight, RequestKind, SimStats};
use super::sync::lock;

/// How long an expired token is still recognised as expired (Graph's "Lifetime validation
/// failed") rather than unknown; after that it is dropped, so the token table stays bounded.
const EXPIRED_TOKEN_MEMORY: Duration = Duration::from_secs(3600);

/// A tenant with its resources resolved against the anchor.
pub(crate) struct LiveTenant {
    pub(crate) tenant_id: String,
    /// Lowercase domain names the token URL accepts in place of the id.
    pub(crate) domains: Vec<String>,
    /// `false`: the app has no service principal here; token requests get AADSTS700016.
    pub(crate) consented: bool,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) certificate: Option<AppCertificate>,
    pub(crate) federated_tokens: Vec<Secret>,
    pub(crate) managed_identity: Option<ManagedIdentity>,
    pub(crate) token_lifetime: Duration,
    pub(crate) page_size: usize,
    pub(crate) latency: Duration,
    pub(crate) resources: LiveResources,
}

/// A tenant's resources: its own, then those it shares with the tenants of its fleet variant.
pub(crate) struct LiveResources {
    own: HashMap<String, LiveResource>,
    shared: Arc<HashMap<String, LiveResource>>,
}

impl LiveResources {
    /// The resource at a Graph path (`v1.0/...`), if the scenario has one.
    pub(crate) fn get(&self, path: &str) -> Option<&LiveResource> {
        self.own.get(path).or_else(|| self.shared.get(path))
    }
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
    /// Lowercase tenant ids and domains, for the token URL.
    index: HashMap<String, TenantIx>,
    tokens: Mutex<Tokens>,
    /// The last `capacity` tokens issued, in order, for tests that check no log line shows one.
    issued: Mutex<VecDeque<String>>,
    /// The last `capacity` client assertions received, for the same tests.
    assertions: Mutex<VecDeque<String>>,
    faults: Mutex<HashMap<(TenantIx, String), VecDeque<Fault>>>,
    /// Client secrets changed at run time, by tenant.
    rotated_secrets: Mutex<HashMap<TenantIx, Vec<Secret>>>,
    /// The last `capacity` requests answered.
    requests: Mutex<VecDeque<RecordedRequest>>,
    capacity: usize,
    counters: Counters,
    next_id: AtomicU64,
    anchor: DateTime<Utc>,
}

/// Issued tokens, pruned of long-expired ones whenever the table has doubled since the last
/// pruning (amortised constant time per token).
#[derive(Default)]
struct Tokens {
    live: HashMap<String, IssuedToken>,
    prune_at: usize,
}

/// Appends to a ring of at most `capacity` entries.
fn push_bounded<T>(ring: &Mutex<VecDeque<T>>, capacity: usize, item: T) {
    let mut ring = lock(ring);
    if ring.len() >= capacity {
        ring.pop_front();
    }
    ring.push_back(item);
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
        let mut index = HashMap::new();
        // Generated tenants of one variant share their resources: resolve each set once.
        let mut resolved: HashMap<*const BTreeMap<String, Resource>, Arc<_>> = HashMap::new();
        let tenants = scenario
            .tenants()
            .iter()
            .enumerate()
            .map(|(ix, t)| {
                for (path, sequence) in &t.faults {
                    faults.insert((ix, path.clone()), sequence.iter().cloned().collect());
                }
                for name in
                    std::iter::once(t.tenant_id()).chain(t.domains().iter().map(String::as_str))
                {
                    index.insert(name.to_ascii_lowercase(), ix);
                }
                let shared = resolved
                    .entry(Arc::as_ptr(&t.resources))
                    .or_insert_with(|| Arc::new(live_resources(&t.resources, anchor)))
                    .clone();
                live_tenant(t, shared, anchor)
            })
            .collect();
        let capacity = scenario.log_capacity();
        SimState {
            base_url,
            tenants,
            cancel,
            provider,
            index,
            tokens: Mutex::new(Tokens::default()),
            issued: Mutex::new(VecDeque::new()),
            assertions: Mutex::new(VecDeque::new()),
            faults: Mutex::new(faults),
            rotated_secrets: Mutex::new(HashMap::new()),
            requests: Mutex::new(VecDeque::new()),
            capacity,
            counters: Counters::default(),
            next_id: AtomicU64::new(1),
            anchor,
        }
    }

    pub(crate) fn anchor(&self) -> DateTime<Utc> {
        self.anchor
    }

    /// The tenant a token URL names: its GUID or one of its domains, without regard to case.
    pub(crate) fn tenant_by_id(&self, id: &str) -> Option<TenantIx> {
        self.index.get(&id.to_ascii_lowercase()).copied()
    }

    /// Mints an opaque token (32 random bytes, base64url) for `tenant`; `None` if the system
    /// random generator failed.
    pub(crate) fn issue_token(&self, tenant: TenantIx, lifetime: Duration) -> Option<String> {
        let mut bytes = [0u8; 32];
        self.provider.secure_random.fill(&mut bytes).ok()?;
        let token = base64url(&bytes);
        push_bounded(&self.issued, self.capacity, token.clone());
        self.counters.token_issued();
        let now = Instant::now();
        let mut tokens = lock(&self.tokens);
        tokens.live.insert(
            token.clone(),
            IssuedToken {
                tenant,
                expires_at: now + lifetime,
            },
        );
        if tokens.live.len() >= tokens.prune_at {
            tokens
                .live
                .retain(|_, t| t.expires_at + EXPIRED_TOKEN_MEMORY > now);
            tokens.prune_at = (tokens.live.len() * 2).max(1024);
        }
        Some(token)
    }

    pub(crate) fn issued_tokens(&self) -> Vec<String> {
        lock(&self.issued).iter().cloned().collect()
    }

    pub(crate) fn record_assertion(&self, assertion: &str) {
        push_bounded(&self.assertions, self.capacity, assertion.to_string());
    }

    pub(crate) fn received_assertions(&self) -> Vec<String> {
        lock(&self.assertions).iter().cloned().collect()
    }

    pub(crate) fn check_token(&self, token: &str) -> TokenCheck {
        match lock(&self.tokens).live.get(token) {
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

    /// Logs and counts one answered (or abandoned) request.
    pub(crate) fn record(&self, request: RecordedRequest) {
        // An item of a `$batch` is counted apart: the batch itself is the one round trip,
        // recorded by the router like any request.
        match (&request.tenant_id, request.in_batch) {
            (Some(tenant_id), true) => self.counters.batch_item(tenant_id, &request.path),
            _ => self.counters.request(&request),
        }
        push_bounded(&self.requests, self.capacity, request);
    }

    /// Marks a request in flight (for the peak counters) until the guard drops.
    pub(crate) fn in_flight(&self, path: &str) -> InFlight<'_> {
        self.counters.enter(RequestKind::of(path))
    }

    pub(crate) fn stats(&self) -> SimStats {
        self.counters.snapshot()
    }

    /// The last `capacity` requests in arrival order (they are logged when answered, so a slow
    /// one is logged late).
    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        let mut all: Vec<RecordedRequest> = lock(&self.requests).iter().cloned().collect();
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

fn live_resources(
    resources: &BTreeMap<String, Resource>,
    anchor: DateTime<Utc>,
) -> HashMap<String, LiveResource> {
    let object = |template: &super::scenario::Template| match template.resolve(anchor) {
        Value::Object(map) => map,
        // Validation admits only mappings here.
        _ => Map::new(),
    };
    resources
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
        .collect()
}

fn live_tenant(
    t: &TenantScenario,
    shared: Arc<HashMap<String, LiveResource>>,
    anchor: DateTime<Utc>,
) -> LiveTenant {
    LiveTenant {
        tenant_id: t.tenant_id().to_string(),
        domains: t.domains().to_vec(),
        consented: t.consented,
        client_id: t.client_id().to_string(),
        client_secret: Secret(t.client_secret().to_string()),
        certificate: t.certificate.clone(),
        federated_tokens: t.federated_tokens.clone(),
        managed_identity: t.managed_identity.clone(),
        token_lifetime: t.token_lifetime,
        page_size: t.page_size,
        latency: t.latency,
        resources: LiveResources {
            own: live_resources(&t.own_resources, anchor),
            shared,
        },
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
