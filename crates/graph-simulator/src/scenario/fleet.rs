//! Fleets: many tenants generated from one tenant of the scenario, for tests and benchmarks at
//! managed-service-provider scale. Owns the `fleets:` entries, their validation and the
//! deterministic ids, names, domains, latencies and variants; knows no HTTP.
//!
//! Generated tenants share their template's resources (one copy per variant, behind an `Arc`),
//! so a fleet of thousands costs little more memory than its template.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::model::{Resource, Template, TenantScenario};
use super::values::{check_graph_path, key_error, optional_duration, resource, template, KeyError};

/// More generated tenants than this in one fleet is a typo, not a benchmark.
const MAX_FLEET: usize = 100_000;

const DEFAULT_NAME: &str = "Customer";
/// GDAP: the customers a partner tenant administers, as Graph lists them.
pub(crate) const DELEGATED_ADMIN_CUSTOMERS: &str =
    "v1.0/tenantRelationships/delegatedAdminCustomers";
/// GDAP: the partner's relationships with its customers, each ending on its own date.
pub(crate) const DELEGATED_ADMIN_RELATIONSHIPS: &str =
    "v1.0/tenantRelationships/delegatedAdminRelationships";
/// The one resource a generated tenant does not share: its own identity.
const ORGANIZATION: &str = "v1.0/organization";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFleet {
    count: usize,
    template: String,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    latency: Option<String>,
    #[serde(default)]
    latency_spread: Option<String>,
    #[serde(default)]
    not_consented: Vec<usize>,
    #[serde(default)]
    partner: Option<String>,
    #[serde(default)]
    variants: Vec<BTreeMap<String, Value>>,
}

impl RawFleet {
    /// Generates the fleet's tenants; a `partner` among `explicit` gets them appended to its
    /// `delegatedAdminCustomers`.
    pub(super) fn validate(
        self,
        key: &str,
        explicit: &mut [TenantScenario],
    ) -> Result<Vec<TenantScenario>, KeyError> {
        if self.count == 0 || self.count > MAX_FLEET {
            return Err(key_error(
                format!("{key}.count"),
                format!("must be between 1 and {MAX_FLEET}"),
            ));
        }
        let find = |field: &str, id: &str| {
            explicit
                .iter()
                .position(|t| {
                    t.tenant_id.eq_ignore_ascii_case(id)
                        || t.domains.iter().any(|d| d.eq_ignore_ascii_case(id))
                })
                .ok_or_else(|| {
                    key_error(
                        format!("{key}.{field}"),
                        format!("no tenant {id} under tenants"),
                    )
                })
        };
        let template_ix = find("template", &self.template)?;
        let partner_ix = self
            .partner
            .as_deref()
            .map(|p| find("partner", p))
            .transpose()?;
        let name = self.name.unwrap_or_else(|| DEFAULT_NAME.to_string());
        let label: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if label.is_empty() {
            return Err(key_error(
                format!("{key}.name"),
                "needs a letter or digit: it starts each domain name",
            ));
        }
        if let Some(n) = self
            .not_consented
            .iter()
            .find(|&&n| n == 0 || n > self.count)
        {
            return Err(key_error(
                format!("{key}.not_consented"),
                format!(
                    "{n} is not a tenant number of this fleet (1 to {})",
                    self.count
                ),
            ));
        }

        let template_tenant = &explicit[template_ix];
        let latency = optional_duration(
            self.latency.as_deref(),
            template_tenant.latency,
            &format!("{key}.latency"),
        )?;
        let spread = optional_duration(
            self.latency_spread.as_deref(),
            Duration::ZERO,
            &format!("{key}.latency_spread"),
        )?;
        let variants = if self.variants.is_empty() {
            vec![template_tenant.resources.clone()]
        } else {
            self.variants
                .into_iter()
                .enumerate()
                .map(|(v, overlay)| {
                    overlaid(
                        &template_tenant.resources,
                        overlay,
                        &format!("{key}.variants[{v}]"),
                    )
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        let organization = match template_tenant.resources.get(ORGANIZATION) {
            Some(Resource::Collection(items)) => items.first(),
            _ => None,
        };

        let width = self.count.to_string().len().max(4);
        let mut generated = Vec::with_capacity(self.count);
        for n in 1..=self.count {
            let tenant_id = guid(self.seed, n);
            let display_name = format!("{name} {n:0width$}");
            let domain = format!("{label}{n:0width$}.onmicrosoft.com");
            let mut own_resources = BTreeMap::new();
            if let Some(org) = organization {
                own_resources.insert(
                    ORGANIZATION.to_string(),
                    Resource::Collection(vec![identity(org, &tenant_id, &display_name, &domain)]),
                );
            }
            let extra_ms = match spread.as_millis() as u64 {
                0 => 0,
                ms => mix(self.seed, n, 3) % (ms + 1),
            };
            generated.push(TenantScenario {
                tenant_id,
                client_id: template_tenant.client_id.clone(),
                client_secret: template_tenant.client_secret.clone(),
                display_name: Some(display_name),
                domains: vec![domain],
                consented: !self.not_consented.contains(&n),
                certificate: template_tenant.certificate.clone(),
                federated_tokens: template_tenant.federated_tokens.clone(),
                // The /msi/token endpoint finds its identity by header: copies would be ambiguous.
                managed_identity: None,
                token_lifetime: template_tenant.token_lifetime,
                page_size: template_tenant.page_size,
                latency: latency + Duration::from_millis(extra_ms),
                resources: variants[(n - 1) % variants.len()].clone(),
                own_resources,
                faults: BTreeMap::new(),
            });
        }

        if let Some(p) = partner_ix {
            let partner = &mut explicit[p];
            let partner_id = partner.tenant_id.clone();
            let resources = Arc::make_mut(&mut partner.resources);
            let customers = generated.iter().map(delegated_admin_customer).collect();
            let relationships = generated
                .iter()
                .enumerate()
                .map(|(i, t)| delegated_admin_relationship(t, guid(!self.seed, i + 1), i + 1))
                .collect();
            for (path, elements) in [
                (DELEGATED_ADMIN_CUSTOMERS, customers),
                (DELEGATED_ADMIN_RELATIONSHIPS, relationships),
            ] {
                let listing = resources
                    .entry(path.to_string())
                    .or_insert_with(|| Resource::Collection(Vec::new()));
                let Resource::Collection(items) = listing else {
                    return Err(key_error(
                        format!("{key}.partner"),
                        format!("tenant {partner_id} declares {path} as an entity or null; it must be a sequence to list the fleet"),
                    ));
                };
                items.extend::<Vec<Template>>(elements);
            }
        }
        Ok(generated)
    }
}

/// The template's resources with a variant laid over them: a mapping over an entity sets those
/// properties, anything else replaces the resource (`~` makes it a 404).
fn overlaid(
    base: &Arc<BTreeMap<String, Resource>>,
    overlay: BTreeMap<String, Value>,
    key: &str,
) -> Result<Arc<BTreeMap<String, Resource>>, KeyError> {
    let mut out = BTreeMap::clone(base);
    for (path, value) in overlay {
        let rkey = format!("{key}.{path:?}");
        check_graph_path(&path).map_err(|m| key_error(&rkey, m))?;
        match (out.get_mut(&path), value) {
            (Some(Resource::Entity(Template::Object(fields))), Value::Object(properties)) => {
                for (name, value) in properties {
                    let value = template(value, &format!("{rkey}.{name}"))?;
                    set(fields, &name, value);
                }
            }
            (Some(Resource::Collection(_)), Value::Object(_)) => {
                return Err(key_error(
                    rkey,
                    "is a collection in the template: give a sequence to replace it, or ~ for 404",
                ))
            }
            (_, value) => {
                let replacement = resource(value, &rkey)?;
                out.insert(path, replacement);
            }
        }
    }
    Ok(Arc::new(out))
}

fn set(fields: &mut Vec<(String, Template)>, name: &str, value: Template) {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some((_, slot)) => *slot = value,
        None => fields.push((name.to_string(), value)),
    }
}

/// The template's organization with the generated tenant's id, name and initial domain.
fn identity(org: &Template, tenant_id: &str, name: &str, domain: &str) -> Template {
    let mut fields = match org {
        Template::Object(fields) => fields.clone(),
        _ => Vec::new(),
    };
    let text = |s: &str| Template::Scalar(Value::String(s.to_string()));
    set(&mut fields, "id", text(tenant_id));
    set(&mut fields, "displayName", text(name));
    let verified = serde_json::json!([{
        "capabilities": "Email, OfficeCommunicationsOnline",
        "isDefault": true,
        "isInitial": true,
        "name": domain,
        "type": "Managed",
    }]);
    set(&mut fields, "verifiedDomains", Template::Scalar(verified));
    Template::Object(fields)
}

/// One element of `delegatedAdminCustomers`, shaped like Graph's documented example: the
/// customer's `id` is its tenant id.
fn delegated_admin_customer(t: &TenantScenario) -> Template {
    let text = |s: &str| Template::Scalar(Value::String(s.to_string()));
    Template::Object(vec![
        (
            "@odata.type".into(),
            text("#microsoft.graph.delegatedAdminCustomer"),
        ),
        (
            "@odata.etag".into(),
            text(&format!("W/\"{}\"", &t.tenant_id[..8])),
        ),
        ("id".into(), text(&t.tenant_id)),
        ("tenantId".into(), text(&t.tenant_id)),
        (
            "displayName".into(),
            text(t.display_name.as_deref().unwrap_or_default()),
        ),
    ])
}

/// One element of `delegatedAdminRelationships` for customer number `n`, shaped like Graph's
/// documented example (its id is a GUID joined to the customer's tenant id). Most auto-extend
/// by 180 days, as partners set them up to; customer 2, 12, 22, ... has one ending in 5 days
/// that does not (`PT0S`, Graph's default), and customer 3, 13, 23, ... one that expired 10 days
/// ago.
fn delegated_admin_relationship(t: &TenantScenario, guid: String, n: usize) -> Template {
    let text = |s: &str| Template::Scalar(Value::String(s.to_string()));
    let day = Duration::from_secs(86_400);
    let (status, end, auto_extend) = match n % 10 {
        2 => ("active", Template::In(5 * day), "PT0S"),
        3 => ("expired", Template::Ago(10 * day), "PT0S"),
        _ => ("active", Template::In(400 * day), "P180D"),
    };
    let name = t.display_name.as_deref().unwrap_or_default();
    Template::Object(vec![
        (
            "@odata.type".into(),
            text("#microsoft.graph.delegatedAdminRelationship"),
        ),
        ("@odata.etag".into(), text(&format!("W/\"{}\"", &guid[..8]))),
        ("id".into(), text(&format!("{guid}-{}", t.tenant_id))),
        (
            "displayName".into(),
            text(&format!("{name} admin relationship")),
        ),
        ("duration".into(), text("P730D")),
        (
            "customer".into(),
            Template::Object(vec![
                ("tenantId".into(), text(&t.tenant_id)),
                ("displayName".into(), text(name)),
            ]),
        ),
        ("status".into(), text(status)),
        ("autoExtendDuration".into(), text(auto_extend)),
        ("createdDateTime".into(), Template::Ago(330 * day)),
        ("activatedDateTime".into(), Template::Ago(329 * day)),
        ("lastModifiedDateTime".into(), Template::Ago(329 * day)),
        ("endDateTime".into(), end),
    ])
}

/// splitmix64's finaliser: a fixed, well-mixed function, so ids stay the same across Rust
/// versions and platforms (std's hashers promise neither).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 64 bits derived from the fleet's seed, the tenant number and a lane (which quantity).
fn mix(seed: u64, n: usize, lane: u64) -> u64 {
    splitmix64(splitmix64(splitmix64(seed) ^ lane) ^ n as u64)
}

/// A version-4-shaped GUID (RFC 9562 version and variant bits), derived from seed and number.
pub(super) fn guid(seed: u64, n: usize) -> String {
    let hi = mix(seed, n, 1);
    let lo = mix(seed, n, 2);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        (hi & 0x0fff) | 0x4000,
        ((lo >> 48) & 0x3fff) | 0x8000,
        lo & 0xffff_ffff_ffff
    )
}
