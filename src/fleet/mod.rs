//! Fleets: which tenants this process reads, as they change at run time.
//!
//! Tenants come from three origins: the config file's `tenants:`, the files named by
//! `tenant_files` ([`files`], re-read when they change) and the partner's GDAP customers
//! ([`discovery`]). [`desired`] merges them (config first, then files, then discovery: the
//! first entry of a tenant wins), drops excluded tenants and keeps this replica's shard
//! ([`shard`]). The [`crate::poller`] supervisor starts and stops one poller per tenant to
//! match. Nothing here talks to Graph except the partner tenant's two listings: its GDAP
//! customers ([`discovery`]) and its GDAP relationships ([`relationships`]).

pub mod discovery;
pub mod files;
pub mod relationships;
pub mod shard;

use crate::config::TenantConfig;
use std::collections::BTreeMap;

pub use shard::Shard;

/// Where a tenant comes from: the `origin` label of `intune_exporter_tenants`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// `tenants:` in the config file.
    Config,
    /// A file named by `tenant_files`.
    File,
    /// `discovery.delegated_admin_customers`.
    Discovery,
}

impl Origin {
    /// Every origin, in precedence order.
    pub const ALL: [Origin; 3] = [Origin::Config, Origin::File, Origin::Discovery];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Config => "config",
            Origin::File => "file",
            Origin::Discovery => "discovery",
        }
    }
}

/// The tenants this replica reads, by tenant id: the first entry of a tenant wins (config,
/// then files, then discovery), excluded ids and other shards' tenants are left out.
pub fn desired<'a>(
    origins: impl IntoIterator<Item = (Origin, &'a [TenantConfig])>,
    exclude: &std::collections::BTreeSet<String>,
    shard: Shard,
) -> BTreeMap<String, (Origin, TenantConfig)> {
    let mut out = BTreeMap::new();
    for (origin, tenants) in origins {
        for t in tenants {
            if exclude.contains(&t.tenant_id) || !shard.owns(&t.tenant_id) {
                continue;
            }
            out.entry(t.tenant_id.clone())
                .or_insert_with(|| (origin, t.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Auth, SecretString};
    use std::collections::BTreeSet;
    use std::sync::Arc;

    fn tenant(id: &str, label: &str) -> TenantConfig {
        TenantConfig {
            tenant_id: id.to_string(),
            labels: BTreeMap::from([("from".to_string(), label.to_string())]),
            auth: Arc::new(Auth::ClientSecret {
                client_id: "c".to_string(),
                secret: SecretString::new("s".to_string()),
                secret_file: None,
            }),
        }
    }

    #[test]
    fn config_wins_over_files_over_discovery_and_exclusions_apply() {
        let config = [tenant("a", "config")];
        let files = [tenant("a", "file"), tenant("b", "file")];
        let discovered = [
            tenant("b", "gdap"),
            tenant("c", "gdap"),
            tenant("d", "gdap"),
        ];
        let exclude = BTreeSet::from(["d".to_string()]);
        let got = desired(
            [
                (Origin::Config, &config[..]),
                (Origin::File, &files[..]),
                (Origin::Discovery, &discovered[..]),
            ],
            &exclude,
            Shard::ALL,
        );
        let summary: Vec<(&str, Origin, &str)> = got
            .iter()
            .map(|(id, (o, t))| (id.as_str(), *o, t.labels["from"].as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("a", Origin::Config, "config"),
                ("b", Origin::File, "file"),
                ("c", Origin::Discovery, "gdap")
            ]
        );
    }
}
