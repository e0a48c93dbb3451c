//! One tenant's series, rendered once when its snapshots are published instead of at every
//! scrape: for each family, the text lines and the same lines compressed (see [`super::gzip`]).
//!
//! Rendering is pure: the same input and `now` give the same bytes. What the output shows at
//! `now` stays true until [`TenantRender::valid_until`] (a connector crossing a health threshold,
//! a Message center post ending); the scrape path renders the tenant again once that instant has
//! passed, from the input kept in the render. Nothing here is shared or locked.

use super::catalog::{FamilyDef, SIGN_IN_UP, SOURCE_LAST_SUCCESS, SOURCE_UP, TENANT_INFO};
use super::encode;
use super::gzip::{Deflater, Segment};
use super::set::MetricSet;
use crate::health::Thresholds;
use crate::snapshot::SourceState;
use crate::sources::{Context, Horizon, Options, Source};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Everything one tenant's series are made of.
#[derive(Debug, Clone)]
pub struct TenantInput {
    /// The tenant (`tenant_id` label).
    pub tenant_id: String,
    /// The labels an operator set on the tenant, appended in this order to `intune_tenant_info`
    /// after its fixed labels. Validated where they are configured, not here.
    pub labels: Vec<(String, String)>,
    /// The latest state of each of its sources, in polling order.
    pub sources: Vec<(Source, Arc<SourceState>)>,
    /// Whether the last sign-in succeeded; `None` before the first one.
    pub sign_in: Option<bool>,
    /// The Tenant status page's health thresholds.
    pub thresholds: Thresholds,
    /// Watched services and list lengths.
    pub options: Arc<Options>,
}

/// A tenant's series of one family.
#[derive(Debug, Clone)]
pub struct FamilyChunk {
    /// The family.
    pub family: &'static FamilyDef,
    /// The series lines, sorted by label values, without `# HELP` / `# TYPE`.
    pub text: Bytes,
    /// The same lines, compressed.
    pub gzip: Segment,
}

/// A tenant's series, rendered at one instant.
#[derive(Debug, Clone)]
pub struct TenantRender {
    input: Arc<TenantInput>,
    families: Vec<FamilyChunk>,
    rendered_at: DateTime<Utc>,
    valid_until: Option<DateTime<Utc>>,
}

impl TenantRender {
    /// The tenant.
    pub fn tenant_id(&self) -> &str {
        &self.input.tenant_id
    }

    /// The families the tenant has series in, sorted by name.
    pub fn families(&self) -> &[FamilyChunk] {
        &self.families
    }

    /// The instant the output describes.
    pub fn rendered_at(&self) -> DateTime<Utc> {
        self.rendered_at
    }

    /// The first instant at which some series would read differently, or `None` when the
    /// output does not depend on the clock.
    pub fn valid_until(&self) -> Option<DateTime<Utc>> {
        self.valid_until
    }

    /// Whether the output no longer describes `now`.
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        self.valid_until.is_some_and(|t| t <= now)
    }

    /// The same input, rendered at `now`.
    pub fn render_again(&self, now: DateTime<Utc>) -> TenantRender {
        render_tenant(Arc::clone(&self.input), now)
    }

    /// Series per family, in family order.
    pub fn series_per_family(&self) -> Vec<(&'static str, usize)> {
        self.families
            .iter()
            .map(|f| {
                (
                    f.family.name,
                    f.text.iter().filter(|b| **b == b'\n').count(),
                )
            })
            .collect()
    }

    /// Every series of the tenant.
    pub fn series(&self) -> usize {
        self.series_per_family().iter().map(|(_, n)| n).sum()
    }
}

/// Renders a tenant's series at `now`: whether it signs in and each source's `up` and last
/// success (once tried), and the families of each source's last good data.
pub fn render_tenant(input: Arc<TenantInput>, now: DateTime<Utc>) -> TenantRender {
    let horizon = Horizon::new();
    let ctx = Context {
        tenant_id: &input.tenant_id,
        now,
        thresholds: &input.thresholds,
        options: &input.options,
        horizon: &horizon,
    };
    let mut set = MetricSet::new();
    if let Some(up) = input.sign_in {
        set.gauge(
            &SIGN_IN_UP,
            &[input.tenant_id.as_str()],
            if up { 1.0 } else { 0.0 },
        );
    }
    for (source, state) in &input.sources {
        if state.completed_polls == 0 {
            // Nothing is known yet; `up` 0 would claim a failure that has not happened.
            continue;
        }
        let labels = [input.tenant_id.as_str(), source.name()];
        set.gauge(&SOURCE_UP, &labels, if state.up { 1.0 } else { 0.0 });
        if let Some(t) = state.last_success {
            set.gauge(&SOURCE_LAST_SUCCESS, &labels, t.timestamp() as f64);
        }
        if let Some(data) = &state.data {
            set.extend(data.families(&ctx));
        }
    }
    set.append_labels(&TENANT_INFO, &input.labels);

    let mut deflater = Deflater::new();
    let families = set
        .into_catalog_families()
        .into_iter()
        .map(|(family, mf)| {
            let text = encode::series_lines(&mf);
            let gzip = deflater.segment(text.as_bytes());
            FamilyChunk {
                family,
                text: Bytes::from(text),
                gzip,
            }
        })
        .collect();
    TenantRender {
        valid_until: horizon.get(),
        input,
        families,
        rendered_at: now,
    }
}
