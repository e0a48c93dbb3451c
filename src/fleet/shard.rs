//! Sharding a fleet across replicas: a tenant belongs to shard `fnv1a32(lowercase tenant_id)
//! mod count`. Every replica reads the same config, files and discovery, and polls only its
//! own tenants, so the union of the replicas is the whole fleet and no tenant is polled twice.

use std::fmt;

/// This replica's shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This replica's index, `0..count`.
    pub index: u32,
    /// How many replicas share the fleet.
    pub count: u32,
}

/// Why sharding flags were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// `--sharding.count` is 0.
    #[error("--sharding.count must be at least 1")]
    ZeroCount,
    /// The index is not below the count.
    #[error("--sharding.index {index} must be less than --sharding.count {count}")]
    IndexOutOfRange {
        /// As given.
        index: u32,
        /// As given.
        count: u32,
    },
    /// `--sharding.from-hostname` found no `-<ordinal>` at the end of the host name.
    #[error("--sharding.from-hostname: host name {0:?} does not end in -<ordinal> (a StatefulSet pod name such as intune-exporter-2)")]
    NoOrdinal(String),
}

impl Shard {
    /// One replica reads every tenant.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Validates an index and a count.
    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError::ZeroCount);
        }
        if index >= count {
            return Err(ShardError::IndexOutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }

    /// The index a StatefulSet pod name ends with: `intune-exporter-2` is 2.
    pub fn ordinal_from_hostname(hostname: &str) -> Result<u32, ShardError> {
        let host = hostname.trim().split('.').next().unwrap_or("");
        host.rsplit_once('-')
            .and_then(|(_, n)| n.parse::<u32>().ok())
            .ok_or_else(|| ShardError::NoOrdinal(hostname.to_string()))
    }

    /// Whether this replica polls `tenant_id`.
    pub fn owns(self, tenant_id: &str) -> bool {
        self.count <= 1
            || fnv1a32(tenant_id.to_ascii_lowercase().as_bytes()) % self.count == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// 32-bit FNV-1a: tiny, stable across versions and platforms, and what the docs promise, so
/// an operator can compute a tenant's shard by hand.
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in bytes {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a32_matches_the_reference_vectors() {
        // From the FNV reference test suite.
        assert_eq!(fnv1a32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a32(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn shards_partition_tenants_case_insensitively() {
        let ids: Vec<String> = (0..200)
            .map(|i| format!("00000000-0000-0000-0000-{i:012}"))
            .collect();
        let shards = [Shard::new(0, 2).unwrap(), Shard::new(1, 2).unwrap()];
        let owned: Vec<usize> = shards
            .iter()
            .map(|s| ids.iter().filter(|id| s.owns(id)).count())
            .collect();
        assert_eq!(owned.iter().sum::<usize>(), 200);
        assert!(owned.iter().all(|&n| n > 60), "{owned:?}");
        for id in &ids {
            assert_eq!(shards[0].owns(id), shards[0].owns(&id.to_uppercase()));
            assert_ne!(shards[0].owns(id), shards[1].owns(id));
        }
        assert!(Shard::ALL.owns("anything"));
    }

    #[test]
    fn flags_are_validated_and_ordinals_read() {
        assert_eq!(Shard::new(0, 0), Err(ShardError::ZeroCount));
        assert_eq!(
            Shard::new(2, 2),
            Err(ShardError::IndexOutOfRange { index: 2, count: 2 })
        );
        assert_eq!(Shard::ordinal_from_hostname("intune-exporter-12"), Ok(12));
        assert_eq!(
            Shard::ordinal_from_hostname("intune-exporter-1.intune-exporter.svc"),
            Ok(1)
        );
        assert!(Shard::ordinal_from_hostname("intune-exporter").is_err());
    }
}
