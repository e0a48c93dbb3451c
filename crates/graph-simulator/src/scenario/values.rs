//! Scenario JSON into validated values: resources, templates with relative times (`{in: 5d}`),
//! durations and Graph paths, and the error they fail with before the file name is attached.
//! Shared by the tenant parser (`scenario`) and `fleet`; builds on `model` only.

use std::time::Duration;

use intune_duration as duration;
use serde_json::Value;

use super::model::{Resource, Template};

/// Relative times further out than this are almost certainly typos, and would leave the years
/// RFC 3339 can express.
const MAX_RELATIVE: Duration = Duration::from_secs(100 * 365 * 86_400);

/// A validation failure before the file name is attached.
#[derive(Debug)]
pub(super) struct KeyError {
    pub(super) key: String,
    pub(super) message: String,
}

pub(super) fn key_error(key: impl Into<String>, message: impl Into<String>) -> KeyError {
    KeyError {
        key: key.into(),
        message: message.into(),
    }
}

pub(super) fn optional_duration(
    value: Option<&str>,
    default: Duration,
    key: &str,
) -> Result<Duration, KeyError> {
    match value {
        None => Ok(default),
        Some(s) => duration::parse(s).map_err(|e| key_error(key, e.to_string())),
    }
}

/// Resource and fault paths look like Graph URLs after the host: `v1.0/...` or `beta/...`.
pub(super) fn check_graph_path(path: &str) -> Result<(), String> {
    let Some(rest) = path
        .strip_prefix("v1.0/")
        .or_else(|| path.strip_prefix("beta/"))
    else {
        return Err(format!(
            "{path:?} must start with the Graph version, v1.0/ or beta/ (no leading slash)"
        ));
    };
    if path.contains('?') {
        return Err(format!("{path:?} must not carry a query"));
    }
    if rest.split('/').any(str::is_empty) {
        return Err(format!("{path:?} has an empty segment"));
    }
    Ok(())
}

pub(super) fn resource(value: Value, key: &str) -> Result<Resource, KeyError> {
    match value {
        Value::Null => Ok(Resource::Missing),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let ikey = format!("{key}[{i}]");
                if !item.is_object() {
                    return Err(key_error(ikey, "collection elements must be mappings"));
                }
                template(item, &ikey)
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Resource::Collection),
        Value::Object(_) => template(value, key).map(Resource::Entity),
        _ => Err(key_error(
            key,
            "expected a sequence (collection), a mapping (entity) or null (404)",
        )),
    }
}

/// Turns scenario JSON into a template, recognising `{in: ..}` and `{ago: ..}` anywhere.
pub(super) fn template(value: Value, key: &str) -> Result<Template, KeyError> {
    match value {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| template(v, &format!("{key}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Template::Array),
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some((word, v)) = map.iter().next() {
                    if word == "in" || word == "ago" {
                        return relative(word, v, &format!("{key}.{word}"));
                    }
                }
            }
            map.into_iter()
                .map(|(k, v)| {
                    let t = template(v, &format!("{key}.{k}"))?;
                    Ok((k, t))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Template::Object)
        }
        scalar => Ok(Template::Scalar(scalar)),
    }
}

fn relative(word: &str, value: &Value, key: &str) -> Result<Template, KeyError> {
    let Value::String(text) = value else {
        return Err(key_error(
            key,
            format!("a relative time needs a duration string such as 5d or 2h30m, got {value}"),
        ));
    };
    let d = duration::parse(text).map_err(|e| key_error(key, e.to_string()))?;
    if d > MAX_RELATIVE {
        return Err(key_error(key, format!("{text} is more than 100 years")));
    }
    Ok(if word == "in" {
        Template::In(d)
    } else {
        Template::Ago(d)
    })
}
