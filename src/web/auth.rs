//! Basic authentication against the bcrypt hashes of `basic_auth_users`, as the exporter
//! toolkit does it: a wrong or missing password gets 401 with `WWW-Authenticate: Basic`, and a
//! password that matched once is remembered, so a scrape every 15 seconds does not spend ~70 ms
//! of CPU each. Owns checking credentials; never logs a password.
//!
//! What a check may cost is bounded three ways:
//!
//! - a hash above [`MAX_COST`] is refused when the file is read (each step doubles the work; at
//!   cost 17 one check takes seconds, at 31 days), and reading the file never runs bcrypt;
//! - checks run on tokio's blocking pool, at most [`CONCURRENT_CHECKS`] at once, and at most
//!   [`QUEUED_CHECKS`] wait or run at once, [`PEER_CHECKS`] of them from one client address;
//!   past that a request gets 429 at once, without a check, so that a password-guessing flood
//!   holds neither threads nor connections;
//! - every check runs bcrypt once per distinct cost in the file, against the user's own hash at
//!   its cost and against another user's hash at the others, so that an unknown user, a wrong
//!   password and a right one cost the same whatever the users' costs (with one cost, as usual,
//!   that is one bcrypt).

use base64::Engine;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Semaphore;

/// The highest bcrypt cost accepted. At cost 10 (`htpasswd -nBC 10`, the toolkit's example) a
/// check takes about 70 ms; each step doubles it, so 12 is about 0.3 s, and the toolkit's docs
/// warn that cost 18 takes seconds. A costlier hash would make every new scrape wait that long.
pub const MAX_COST: u32 = 12;
/// bcrypt checks running at once, so that guessing cannot take every blocking thread.
pub const CONCURRENT_CHECKS: usize = 2;
/// Checks waiting or running at once, from every client together.
pub const QUEUED_CHECKS: usize = 32;
/// Checks waiting or running at once for one client address.
pub const PEER_CHECKS: usize = 2;
/// Matches remembered before the memory is cleared.
const REMEMBERED: usize = 256;
/// Roughly how long one bcrypt check at cost 10 takes on a server core.
const COST_10_SECONDS: f64 = 0.07;

/// Why a hash in the file was refused; its cost when it is fine.
pub fn check_hash(hash: &str) -> Result<u32, String> {
    let cost = hash_cost(hash).ok_or_else(|| {
        "not a bcrypt hash ($2a$, $2b$ or $2y$ followed by the cost); make one with \
         `htpasswd -nBC 10 \"\" | tr -d ':\\n'`"
            .to_string()
    })?;
    // Parsed fully now (no hashing), so a truncated hash is refused at load, not at the first
    // request.
    hash.parse::<bcrypt::HashParts>()
        .map_err(|e| format!("not a valid bcrypt hash: {e}"))?;
    if cost < 4 {
        return Err(format!(
            "bcrypt cost {cost} is below 4, the lowest bcrypt has"
        ));
    }
    if cost > MAX_COST {
        return Err(format!(
            "bcrypt cost {cost} is above {MAX_COST}, the highest accepted: one check at cost \
             {cost} takes about {} of CPU, and every new scrape would wait for it; make the \
             hash with cost 10 to {MAX_COST}: `htpasswd -nBC 10 \"\" | tr -d ':\\n'`",
            check_time(cost)
        ));
    }
    Ok(cost)
}

/// About how long one check at `cost` takes, for the message refusing it.
fn check_time(cost: u32) -> String {
    let seconds = COST_10_SECONDS * 2f64.powi(cost as i32 - 10);
    match seconds {
        s if s < 120.0 => format!("{s:.0} s"),
        s if s < 7_200.0 => format!("{:.0} minutes", s / 60.0),
        s if s < 172_800.0 => format!("{:.0} hours", s / 3_600.0),
        s => format!("{:.0} days", s / 86_400.0),
    }
}

fn hash_cost(hash: &str) -> Option<u32> {
    let rest = ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .find_map(|p| hash.strip_prefix(p))?;
    rest.get(..2)?.parse().ok()
}

/// A bcrypt hash from the web config file; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What a request's credentials got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Authentication is off, or the user and password match.
    Allowed,
    /// Missing, malformed or wrong: 401.
    Refused,
    /// Too many checks waiting, from this client or from all: 429, checked later.
    Busy,
}

/// The users of one web config, and the matches seen so far.
#[derive(Debug)]
pub struct Users {
    users: BTreeMap<String, Password>,
    /// One hash of each cost in the file, checked against at the costs that are not the user's.
    by_cost: BTreeMap<u32, Password>,
    remembered: Mutex<HashSet<[u8; 32]>>,
    budget: Arc<Budget>,
}

impl Users {
    /// The users of a web config (hashes validated by [`check_hash`]); none means
    /// authentication is off.
    pub fn new(users: BTreeMap<String, Password>) -> Arc<Users> {
        let mut by_cost = BTreeMap::new();
        for hash in users.values() {
            by_cost
                .entry(hash_cost(&hash.0).unwrap_or(0))
                .or_insert_with(|| hash.clone());
        }
        Arc::new(Users {
            users,
            by_cost,
            remembered: Mutex::new(HashSet::new()),
            budget: Arc::new(Budget::default()),
        })
    }

    /// Whether requests need credentials.
    pub fn enabled(&self) -> bool {
        !self.users.is_empty()
    }

    /// Whether an `Authorization` header value from `peer` names a user and their password.
    pub async fn check(self: &Arc<Self>, authorization: Option<&[u8]>, peer: IpAddr) -> Verdict {
        if !self.enabled() {
            return Verdict::Allowed;
        }
        let Some((user, password)) = authorization.and_then(decode_basic) else {
            return Verdict::Refused;
        };
        let own = self.users.get(&user);
        let fingerprint = own.map(|hash| fingerprint(&user, &password, &hash.0));
        if fingerprint.is_some_and(|f| lock(&self.remembered).contains(&f)) {
            return Verdict::Allowed;
        }
        // Decided before anything depends on the user, so that a 429 tells nothing about them.
        let Some(ticket) = Budget::enter(&self.budget, peer) else {
            return Verdict::Busy;
        };
        let Ok(permit) = Arc::clone(&self.budget.running).acquire_owned().await else {
            return Verdict::Refused;
        };
        let own_cost = own.and_then(|h| hash_cost(&h.0));
        let hashes: Vec<(u32, String)> = self
            .by_cost
            .iter()
            .map(|(&cost, other)| match own {
                Some(hash) if own_cost == Some(cost) => (cost, hash.0.clone()),
                _ => (cost, other.0.clone()),
            })
            .collect();
        // The permit and the ticket go with the work: a client that hangs up does not free
        // its place until bcrypt is done.
        let checked = tokio::task::spawn_blocking(move || {
            let matched = hashes
                .iter()
                .map(|(cost, hash)| {
                    let ok = bcrypt::verify(&password, hash).unwrap_or(false);
                    Some(*cost) == own_cost && ok
                })
                .fold(false, |a, b| a | b);
            drop((permit, ticket));
            (
                matched,
                hashes.into_iter().map(|(c, _)| c).collect::<Vec<_>>(),
            )
        })
        .await;
        let Ok((matched, costs)) = checked else {
            return Verdict::Refused;
        };
        let matched = matched && own.is_some();
        if let (true, Some(fingerprint)) = (matched, fingerprint) {
            let mut remembered = lock(&self.remembered);
            if remembered.len() >= REMEMBERED {
                remembered.clear();
            }
            remembered.insert(fingerprint);
            return Verdict::Allowed;
        }
        tracing::debug!(
            bcrypt_costs = %costs.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
            "basic auth refused"
        );
        Verdict::Refused
    }
}

/// The password checks waiting or running, overall and per client address.
#[derive(Debug)]
struct Budget {
    running: Arc<Semaphore>,
    waiting: Mutex<HashMap<IpAddr, usize>>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            running: Arc::new(Semaphore::new(CONCURRENT_CHECKS)),
            waiting: Mutex::new(HashMap::new()),
        }
    }
}

impl Budget {
    /// A place for one check from `peer`, or `None` when it or everyone has too many.
    fn enter(budget: &Arc<Budget>, peer: IpAddr) -> Option<Ticket> {
        let peer = peer.to_canonical();
        let mut waiting = lock(&budget.waiting);
        let total: usize = waiting.values().sum();
        let mine = waiting.entry(peer).or_insert(0);
        if *mine >= PEER_CHECKS || total >= QUEUED_CHECKS {
            if *mine == 0 {
                waiting.remove(&peer);
            }
            return None;
        }
        *mine += 1;
        Some(Ticket {
            budget: Arc::clone(budget),
            peer,
        })
    }
}

/// One check's place in the [`Budget`], given back when dropped.
struct Ticket {
    budget: Arc<Budget>,
    peer: IpAddr,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut waiting = lock(&self.budget.waiting);
        if let Some(n) = waiting.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                waiting.remove(&self.peer);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// A digest of what matched, so that no password is kept in memory.
fn fingerprint(user: &str, password: &str, hash: &str) -> [u8; 32] {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in [user, password, hash] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part.as_bytes());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// `Basic base64(user:password)` -> (user, password).
fn decode_basic(value: &[u8]) -> Option<(String, String)> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(user: &str, password: &str) -> Vec<u8> {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {encoded}").into_bytes()
    }

    const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[tokio::test]
    async fn right_password_passes_and_everything_else_fails() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let users = Users::new(BTreeMap::from([("prometheus".to_string(), Password(hash))]));
        // In order: the second right answer comes from memory.
        let cases: [(Option<Vec<u8>>, Verdict); 6] = [
            (Some(header("prometheus", "s3cret")), Verdict::Allowed),
            (Some(header("prometheus", "s3cret")), Verdict::Allowed),
            (Some(header("prometheus", "wrong")), Verdict::Refused),
            (Some(header("nobody", "s3cret")), Verdict::Refused),
            (None, Verdict::Refused),
            (Some(b"Bearer abc".to_vec()), Verdict::Refused),
        ];
        for (authorization, want) in cases {
            assert_eq!(
                users.check(authorization.as_deref(), PEER).await,
                want,
                "{authorization:?}"
            );
        }
    }

    #[test]
    fn one_client_gets_a_few_places_and_everyone_a_few_more() {
        let budget = Arc::new(Budget::default());
        let mine: Vec<Ticket> = (0..PEER_CHECKS)
            .map(|_| Budget::enter(&budget, PEER).unwrap())
            .collect();
        assert!(Budget::enter(&budget, PEER).is_none());
        // An IPv4 client on a dual-stack socket is the same client.
        let mapped = IpAddr::V6(std::net::Ipv4Addr::LOCALHOST.to_ipv6_mapped());
        assert!(Budget::enter(&budget, mapped).is_none());
        let others: Vec<Ticket> = (0..QUEUED_CHECKS - PEER_CHECKS)
            .map(|i| Budget::enter(&budget, IpAddr::from([10, 0, 0, i as u8])).unwrap())
            .collect();
        assert!(Budget::enter(&budget, IpAddr::from([10, 1, 0, 0])).is_none());
        drop(mine);
        assert!(Budget::enter(&budget, PEER).is_some());
        drop(others);
        assert!(lock(&budget.waiting).is_empty());
    }

    #[test]
    fn hashes_are_checked_when_loaded() {
        assert_eq!(
            check_hash("$2y$04$abc").unwrap_err().split(':').next(),
            Some("not a valid bcrypt hash")
        );
        assert!(check_hash("plaintext")
            .unwrap_err()
            .starts_with("not a bcrypt hash"));
        assert_eq!(check_hash(&bcrypt::hash("x", 4).unwrap()), Ok(4));
        // Made at cost 4 and relabelled: checking one would take hours; refusing it, nothing.
        let costly = bcrypt::hash("x", 4).unwrap().replacen("$04$", "$31$", 1);
        assert_eq!(
            check_hash(&costly).unwrap_err(),
            "bcrypt cost 31 is above 12, the highest accepted: one check at cost 31 takes about \
             41 hours of CPU, and every new scrape would wait for it; make the hash with cost 10 \
             to 12: `htpasswd -nBC 10 \"\" | tr -d ':\\n'`"
        );
        assert_eq!(check_time(17), "9 s");
        assert_eq!(check_time(20), "72 s");
        assert_eq!(check_time(24), "19 minutes");
    }
}
