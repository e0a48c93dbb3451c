//! National clouds: each has its own Graph root and login authority, and tokens of one are
//! not accepted by another (Graph docs, `concepts/deployments.md`).

use std::fmt;
use std::str::FromStr;

/// A Microsoft cloud, as named by `graph.cloud` in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cloud {
    /// The global service (and GCC, which keeps the global endpoints).
    #[default]
    Public,
    /// US Government L4 (GCC High).
    UsGov,
    /// US Government L5 (DoD).
    UsGovDod,
    /// Microsoft Cloud China operated by 21Vianet.
    China,
}

impl Cloud {
    /// Every cloud, with its config name.
    pub const ALL: [(Cloud, &'static str); 4] = [
        (Cloud::Public, "public"),
        (Cloud::UsGov, "usgov"),
        (Cloud::UsGovDod, "usgov_dod"),
        (Cloud::China, "china"),
    ];

    /// The Graph root, without a trailing slash.
    pub fn graph_root(self) -> &'static str {
        match self {
            Cloud::Public => "https://graph.microsoft.com",
            Cloud::UsGov => "https://graph.microsoft.us",
            Cloud::UsGovDod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    /// The Entra login authority host, without a trailing slash.
    pub fn authority_host(self) -> &'static str {
        match self {
            Cloud::Public => "https://login.microsoftonline.com",
            Cloud::UsGov | Cloud::UsGovDod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }
}

impl FromStr for Cloud {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cloud::ALL
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(c, _)| *c)
            .ok_or_else(|| {
                let names: Vec<_> = Cloud::ALL.iter().map(|(_, n)| *n).collect();
                format!("unknown cloud {s:?}, expected one of {}", names.join(", "))
            })
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Cloud::ALL
            .iter()
            .find(|(c, _)| c == self)
            .map_or("public", |(_, n)| n);
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cloud_round_trips_and_has_its_endpoints() {
        for (cloud, name) in Cloud::ALL {
            assert_eq!(name.parse::<Cloud>().unwrap(), cloud);
            assert_eq!(cloud.to_string(), name);
        }
        assert_eq!(
            Cloud::UsGovDod.graph_root(),
            "https://dod-graph.microsoft.us"
        );
        assert_eq!(
            Cloud::UsGovDod.authority_host(),
            "https://login.microsoftonline.us"
        );
        assert_eq!(
            Cloud::China.graph_root(),
            "https://microsoftgraph.chinacloudapi.cn"
        );
        assert_eq!(
            Cloud::China.authority_host(),
            "https://login.chinacloudapi.cn"
        );
        assert_eq!(Cloud::UsGov.graph_root(), "https://graph.microsoft.us");
        assert_eq!(
            "gcc".parse::<Cloud>().unwrap_err(),
            "unknown cloud \"gcc\", expected one of public, usgov, usgov_dod, china"
        );
    }
}
