//! One module per Graph data source, listed explicitly in [`Source`].
//!
//! A source knows one Graph resource: what to request ([`Source::request`]), how to decode the
//! response ([`Source::decode`]), and a pure function from the decoded data and `now` to metric
//! families ([`SourceData::families`]). The only I/O is [`Source::fetch`], through
//! [`GraphClient`]. Adding a source means: a module here, a variant in [`Source`] and
//! [`SourceData`], catalog entries, a fixture and a golden file.

pub mod apns;
pub mod connector;
pub mod organization;
pub mod subscribed_skus;
pub mod vpp_tokens;

use crate::graph::odata::{Raw, Request};
use crate::graph::{GraphClient, GraphError};
use crate::health::Thresholds;
use crate::metrics::MetricSet;
use chrono::{DateTime, Utc};

/// Everything a pure families function may depend on besides the data.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The tenant the data belongs to (`tenant_id` label).
    pub tenant_id: &'a str,
    /// The time of the scrape.
    pub now: DateTime<Utc>,
    /// The Tenant status page's health thresholds.
    pub thresholds: &'a Thresholds,
}

/// A Graph data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// Tenant name, country and MDM authority.
    Organization,
    /// User licences.
    SubscribedSkus,
    /// The Apple MDM push certificate.
    Apns,
    /// Apple VPP tokens.
    VppTokens,
}

impl Source {
    /// Every source, in polling order.
    pub const ALL: [Source; 4] = [
        Source::Organization,
        Source::SubscribedSkus,
        Source::Apns,
        Source::VppTokens,
    ];

    /// The `source` label value and config name.
    pub fn name(self) -> &'static str {
        match self {
            Source::Organization => "organization",
            Source::SubscribedSkus => "subscribed_skus",
            Source::Apns => "apns",
            Source::VppTokens => "vpp_tokens",
        }
    }

    /// The least-privileged Graph application permission that reads this source (read-only
    /// where Graph offers one).
    pub fn permission(self) -> &'static str {
        match self {
            Source::Organization | Source::SubscribedSkus => "Organization.Read.All",
            Source::Apns => "DeviceManagementConfiguration.Read.All",
            Source::VppTokens => "DeviceManagementServiceConfig.Read.All",
        }
    }

    /// What to ask Graph for.
    pub fn request(self) -> &'static Request {
        match self {
            Source::Organization => &organization::REQUEST,
            Source::SubscribedSkus => &subscribed_skus::REQUEST,
            Source::Apns => &apns::REQUEST,
            Source::VppTokens => &vpp_tokens::REQUEST,
        }
    }

    /// Polls Graph once for this source.
    pub async fn fetch(self, client: &GraphClient) -> Result<SourceData, GraphError> {
        let raw = client.fetch(self.name(), self.request()).await?;
        self.decode(raw)
    }

    /// Decodes a raw response into this source's data.
    pub fn decode(self, raw: Raw) -> Result<SourceData, GraphError> {
        let path = self.request().path;
        Ok(match self {
            Source::Organization => SourceData::Organization(raw.items(path)?),
            Source::SubscribedSkus => SourceData::SubscribedSkus(raw.items(path)?),
            Source::Apns => SourceData::Apns(raw.entity(path)?),
            Source::VppTokens => SourceData::VppTokens(raw.items(path)?),
        })
    }
}

/// The README's permission table: every source, its Graph request and the application
/// permission it needs.
pub fn markdown_permissions() -> String {
    let mut out = String::from(
        "| Source (`source` label) | Graph request | Application permission |\n|---|---|---|\n",
    );
    for s in Source::ALL {
        out.push_str(&format!(
            "| `{}` | `GET /{}` | `{}` |\n",
            s.name(),
            s.request().path,
            s.permission()
        ));
    }
    out
}

/// The decoded data of one successful poll.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceData {
    /// See [`organization`].
    Organization(Vec<organization::Organization>),
    /// See [`subscribed_skus`].
    SubscribedSkus(Vec<subscribed_skus::SubscribedSku>),
    /// See [`apns`]; `None` when no certificate is configured.
    Apns(Option<apns::Certificate>),
    /// See [`vpp_tokens`].
    VppTokens(Vec<vpp_tokens::VppToken>),
}

impl SourceData {
    /// The metric families of this data at `ctx.now`.
    pub fn families(&self, ctx: &Context<'_>) -> MetricSet {
        match self {
            SourceData::Organization(d) => organization::families(d, ctx),
            SourceData::SubscribedSkus(d) => subscribed_skus::families(d, ctx),
            SourceData::Apns(d) => apns::families(d.as_ref(), ctx),
            SourceData::VppTokens(d) => vpp_tokens::families(d, ctx),
        }
    }
}
