//! Basic authentication against the bcrypt hashes of `basic_auth_users`, as the exporter
//! toolkit does it: a wrong or missing password gets 401 with `WWW-Authenticate: Basic`; an
//! unknown user costs as much time as a known one (their password is checked against a real
//! hash of the file); a password that matched once is remembered, so a scrape every 15 seconds
//! does not spend ~70 ms of CPU each. Owns checking credentials; never logs a password.

use super::config::Password;
use base64::Engine;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// At most this many bcrypt checks run at once, so a password-guessing flood cannot take every
/// blocking thread.
const CONCURRENT_CHECKS: usize = 2;
/// Matches remembered before the memory is cleared.
const REMEMBERED: usize = 256;

/// Why a hash in the file was refused.
pub fn check_hash(hash: &str) -> Result<(), String> {
    let cost = hash_cost(hash).ok_or_else(|| {
        "not a bcrypt hash ($2a$, $2b$ or $2y$ followed by the cost); make one with \
         `htpasswd -nBC 10 \"\" | tr -d ':\\n'`"
            .to_string()
    })?;
    if !(4..=31).contains(&cost) {
        return Err(format!("bcrypt cost {cost} is outside 4..31"));
    }
    // Parse it fully now, so a truncated hash is refused at load, not at the first request.
    bcrypt::verify("", hash)
        .map(|_| ())
        .map_err(|e| format!("not a valid bcrypt hash: {e}"))
}

fn hash_cost(hash: &str) -> Option<u32> {
    let rest = ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .find_map(|p| hash.strip_prefix(p))?;
    rest.get(..2)?.parse().ok()
}

/// The users of one web config, and the matches seen so far.
#[derive(Debug)]
pub struct Users {
    users: BTreeMap<String, Password>,
    /// Checked against for an unknown user: the costliest real hash, so the answer takes as long.
    dummy: Option<Password>,
    remembered: Mutex<HashSet<[u8; 32]>>,
    checks: Semaphore,
}

impl Users {
    /// The users of a web config; none means authentication is off.
    pub fn new(users: BTreeMap<String, Password>) -> Arc<Users> {
        let dummy = users
            .values()
            .max_by_key(|p| hash_cost(&p.0).unwrap_or(0))
            .cloned();
        Arc::new(Users {
            users,
            dummy,
            remembered: Mutex::new(HashSet::new()),
            checks: Semaphore::new(CONCURRENT_CHECKS),
        })
    }

    /// Whether requests need credentials.
    pub fn enabled(&self) -> bool {
        !self.users.is_empty()
    }

    /// Whether an `Authorization` header value names a user and their password.
    pub async fn allows(self: &Arc<Self>, authorization: Option<&[u8]>) -> bool {
        if !self.enabled() {
            return true;
        }
        let Some((user, password)) = authorization.and_then(decode_basic) else {
            return false;
        };
        let (hash, known) = match self.users.get(&user) {
            Some(h) => (h.clone(), true),
            None => match &self.dummy {
                Some(d) => (d.clone(), false),
                None => return false,
            },
        };
        let fingerprint = fingerprint(&user, &password, &hash.0);
        if known && self.lock().contains(&fingerprint) {
            return true;
        }
        let Ok(_permit) = self.checks.acquire().await else {
            return false;
        };
        let matched =
            tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash.0).unwrap_or(false))
                .await
                .unwrap_or(false);
        if matched && known {
            let mut remembered = self.lock();
            if remembered.len() >= REMEMBERED {
                remembered.clear();
            }
            remembered.insert(fingerprint);
        }
        matched && known
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<[u8; 32]>> {
        match self.remembered.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
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

    #[tokio::test]
    async fn right_password_passes_and_everything_else_fails() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let users = Users::new(BTreeMap::from([("prometheus".to_string(), Password(hash))]));
        assert!(users.allows(Some(&header("prometheus", "s3cret"))).await);
        // Remembered, and still right.
        assert!(users.allows(Some(&header("prometheus", "s3cret"))).await);
        assert!(!users.allows(Some(&header("prometheus", "wrong"))).await);
        assert!(!users.allows(Some(&header("nobody", "s3cret"))).await);
        assert!(!users.allows(None).await);
        assert!(!users.allows(Some(b"Bearer abc")).await);
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
        assert!(check_hash(&bcrypt::hash("x", 4).unwrap()).is_ok());
    }
}
