//! OData response shapes and the quirks of Graph's JSON that every source shares.

use super::error::GraphError;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// Whether a path names one object or a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A singleton or entity: the object itself.
    Entity,
    /// A collection: `{"value": [...]}`, possibly over several pages.
    Collection,
}

/// What a source asks Graph for.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// Path under the Graph root, starting with the version: `v1.0/subscribedSkus`.
    pub path: &'static str,
    /// The properties to `$select` (Graph then sends nothing else, secrets included).
    pub select: &'static [&'static str],
    /// Entity or collection.
    pub shape: Shape,
    /// An OData `$filter` that narrows a collection on Graph's side. Sources still filter
    /// what they receive, so a Graph that ignores it changes nothing but the traffic.
    pub filter: Option<&'static str>,
}

/// A response before any source-specific decoding.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    /// An entity, or `None` when Graph answered 404.
    Entity(Option<serde_json::Value>),
    /// Every item of a collection, all pages together.
    Collection(Vec<serde_json::Value>),
}

impl Raw {
    /// Interprets one response body of the given shape (a collection body is one page).
    pub fn from_body(shape: Shape, path: &str, body: serde_json::Value) -> Result<Raw, GraphError> {
        Ok(match shape {
            Shape::Entity => Raw::Entity(Some(unwrap_singleton(body))),
            Shape::Collection => Raw::Collection(decode::<Page>(path, body)?.value),
        })
    }

    /// Decodes an entity response (`None` for 404).
    pub fn entity<T: DeserializeOwned>(self, path: &str) -> Result<Option<T>, GraphError> {
        match self {
            Raw::Entity(v) => v.map(|v| decode(path, v)).transpose(),
            Raw::Collection(_) => Err(shape_mismatch(path, "an object", "a collection")),
        }
    }

    /// Decodes every item of a collection response.
    pub fn items<T: DeserializeOwned>(self, path: &str) -> Result<Vec<T>, GraphError> {
        match self {
            Raw::Collection(items) => items.into_iter().map(|v| decode(path, v)).collect(),
            Raw::Entity(_) => Err(shape_mismatch(path, "a collection", "an object")),
        }
    }
}

fn shape_mismatch(path: &str, expected: &str, got: &str) -> GraphError {
    GraphError::Decode {
        path: path.to_string(),
        message: format!("expected {expected}, got {got}"),
    }
}

/// Deserializes a JSON value, reporting the path on failure.
pub fn decode<T: DeserializeOwned>(path: &str, value: serde_json::Value) -> Result<T, GraphError> {
    serde_json::from_value(value).map_err(|e| GraphError::Decode {
        path: path.to_string(),
        message: e.to_string(),
    })
}

/// One page of a collection.
#[derive(Debug, Deserialize)]
pub struct Page {
    /// The items of this page.
    #[serde(default)]
    pub value: Vec<serde_json::Value>,
    /// The absolute URL of the next page; absent on the last page.
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
}

/// Removes the `{"value": {...}}` wrapper that Intune's generated documentation puts around
/// singletons. Real singletons are the object itself; accepting both costs nothing.
pub fn unwrap_singleton(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(mut map)
            if map.get("value").is_some_and(|v| v.is_object())
                && map.keys().all(|k| k == "value" || k.starts_with('@')) =>
        {
            map.remove("value").unwrap_or_default()
        }
        other => other,
    }
}

/// Deserializes an optional `DateTimeOffset`. Graph fills non-nullable date properties with
/// `0001-01-01T00:00:00Z` when the event never happened; that, `null`, an absent property, a
/// value that is not a string and an unparsable string all mean "never" rather than failing the
/// poll.
pub fn optional_datetime<'de, D>(d: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw = serde_json::Value::deserialize(d)?;
    Ok(raw.as_str().and_then(parse_datetime))
}

/// Deserializes a property that may be `null`, absent (with `#[serde(default)]`) or of another
/// JSON type than the schema says: all of these give `None`, so one odd property makes one
/// value unknown instead of failing the whole source. Use it on every property a source reads.
pub fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let raw = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(raw).ok())
}

/// Like [`lenient`], for a property whose absence has a documented meaning: `T::default()`.
pub fn lenient_or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    Ok(lenient(d)?.unwrap_or_default())
}

/// Deserializes a collection-valued property leniently: `null`, an absent property or another
/// type give an empty list, and an element that does not decode is left out (Graph's
/// `Collection(...)` properties are nullable, and an element of an unknown shape must not hide
/// the others).
pub fn lenient_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let raw = serde_json::Value::deserialize(d)?;
    Ok(match raw {
        serde_json::Value::Array(items) => items
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// Parses an RFC 3339 timestamp with any offset and up to 7 fractional digits; years before
/// 1900 (Graph's "never" sentinel) give `None`.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc);
    (t.timestamp() > -2_208_988_800).then_some(t)
}

/// Compares enum members the way Graph's documents need: camelCase in the schema, PascalCase
/// in some examples. Returns the member in snake_case (`serviceOperational` -> `service_operational`).
pub fn snake_case(member: &str) -> String {
    let chars: Vec<char> = member.chars().collect();
    let mut out = String::with_capacity(member.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            // A new word starts at an upper-case letter after a lower-case one or a digit
            // (`lockedOut`), and at the last capital of an acronym (`ATPConnector`).
            let boundary = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(|p| p.is_ascii_uppercase())
                    && next.is_some_and(|n| n.is_ascii_lowercase()));
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unwraps_doc_wrapped_singletons_only() {
        let wrapped = json!({"@odata.context": "x", "value": {"id": "a"}});
        assert_eq!(unwrap_singleton(wrapped), json!({"id": "a"}));
        let real = json!({"@odata.context": "x", "id": "a", "value": {"id": "b"}});
        assert_eq!(unwrap_singleton(real.clone()), real);
        let collection = json!({"value": [{"id": "a"}]});
        assert_eq!(unwrap_singleton(collection.clone()), collection);
    }

    #[test]
    fn parses_graph_dates_and_the_never_sentinel() {
        assert_eq!(
            parse_datetime("2016-12-31T23:59:05.9976309-08:00")
                .unwrap()
                .to_rfc3339(),
            "2017-01-01T07:59:05.997630900+00:00"
        );
        assert_eq!(parse_datetime("0001-01-01T00:00:00Z"), None);
        assert_eq!(parse_datetime("yesterday"), None);
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Tolerant {
        #[serde(default, deserialize_with = "lenient")]
        count: Option<i64>,
        #[serde(default, deserialize_with = "lenient_or_default")]
        name: String,
        #[serde(default, deserialize_with = "lenient_list")]
        tags: Vec<String>,
        #[serde(default, deserialize_with = "optional_datetime")]
        when: Option<DateTime<Utc>>,
    }

    #[test]
    fn lenient_properties_turn_null_absent_and_wrong_types_into_unknown() {
        let decoded: Tolerant = decode(
            "p",
            json!({"count": 3, "name": "a", "tags": ["x", 1, "y"], "when": "2026-11-25T12:00:00Z"}),
        )
        .unwrap();
        assert_eq!(decoded.count, Some(3));
        assert_eq!(decoded.name, "a");
        assert_eq!(decoded.tags, ["x", "y"]);
        assert!(decoded.when.is_some());
        let empty = Tolerant {
            count: None,
            name: String::new(),
            tags: Vec::new(),
            when: None,
        };
        for odd in [
            json!({"count": null, "name": null, "tags": null, "when": null}),
            json!({}),
            json!({"count": "3", "name": 7, "tags": {"a": 1}, "when": 20261125}),
            json!({"count": 1.5, "name": true, "tags": "x", "when": {"at": "now"}}),
        ] {
            assert_eq!(decode::<Tolerant>("p", odd).unwrap(), empty);
        }
    }

    #[test]
    fn snake_cases_camel_and_pascal_members() {
        assert_eq!(snake_case("serviceOperational"), "service_operational");
        assert_eq!(snake_case("ServiceOperational"), "service_operational");
        assert_eq!(snake_case("lockedOut"), "locked_out");
        assert_eq!(snake_case("valid"), "valid");
        assert_eq!(
            snake_case("windowsDefenderATPConnectorLastHeartbeatDateTime"),
            "windows_defender_atp_connector_last_heartbeat_date_time"
        );
        assert_eq!(
            snake_case("assignedToExternalMDM"),
            "assigned_to_external_mdm"
        );
        assert_eq!(snake_case("office365"), "office365");
    }
}
