//! Parsing operator-written YAML (the config file, the web config) into raw serde structs,
//! strictly and in bounded time: nesting deeper than [`MAX_DEPTH`] is refused before the YAML
//! parser sees it (deeply nested `[[[...` made it take seconds to forever), duplicate keys are
//! refused anywhere in the document, and unknown keys are returned for the caller to report.
//! Owns the YAML layer only; what the values mean is validated by the caller.

use serde::de::DeserializeOwned;

/// The deepest nesting of flow collections (`[`, `{`) accepted. Real files use three or four.
pub const MAX_DEPTH: usize = 64;

/// Why a document was refused; the message names the key and position where the parser can.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct YamlError(pub String);

/// A parsed document, with the dotted paths of the keys the structs do not know
/// (`tenants[0].auth.foo`). An empty document gives `None`.
#[derive(Debug)]
pub struct Parsed<T> {
    /// The document.
    pub value: Option<T>,
    /// Keys nothing reads.
    pub unknown: Vec<String>,
}

/// Parses `text` into `T`, refusing deep nesting and duplicate keys.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<Parsed<T>, YamlError> {
    // A byte order mark is not YAML content; left in, it reads as a second document.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_depth(text)?;
    // serde's maps keep the last of two equal keys without a word; the YAML value type refuses
    // them, anywhere in the document (under `sources:` as much as at the top).
    let _: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| YamlError(e.to_string()))?;
    let mut unknown = Vec::new();
    let de = serde_yaml_ng::Deserializer::from_str(text);
    let value: Option<T> = serde_ignored::deserialize(de, |p| {
        unknown.push(bracket_indices(&p.to_string()));
    })
    .map_err(|e| YamlError(e.to_string()))?;
    Ok(Parsed { value, unknown })
}

/// Refuses flow collections nested deeper than [`MAX_DEPTH`]. A linear scan that skips quoted
/// strings and comments; brackets inside plain scalars (`a[1]`) are counted too, which only
/// matters for a file with 64 unclosed ones.
fn check_depth(text: &str) -> Result<(), YamlError> {
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    let mut at_token_start = true;
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                line += 1;
                at_token_start = true;
                continue;
            }
            '#' if at_token_start => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            '"' if at_token_start => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        '\n' => line += 1,
                        _ => {}
                    }
                }
            }
            '\'' if at_token_start => {
                for c in chars.by_ref() {
                    match c {
                        '\'' => break,
                        '\n' => line += 1,
                        _ => {}
                    }
                }
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(YamlError(format!(
                        "line {line}: collections nested more than {MAX_DEPTH} levels deep"
                    )));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        // Quotes and comments only start after a blank or an indicator.
        at_token_start = matches!(c, ' ' | '\t' | '[' | '{' | ',' | ':' | '-' | '?');
    }
    Ok(())
}

/// `tenants.0.auth.foo` -> `tenants[0].auth.foo`, without serde_ignored's `?` marks for
/// `Option`s.
pub fn bracket_indices(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('.').filter(|p| *p != "?") {
        if !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    type Doc = BTreeMap<String, serde_yaml_ng::Value>;

    #[test]
    fn deep_nesting_is_refused_quickly() {
        for n in [100_000, 1_000_000] {
            let text = "[".repeat(n);
            let err = parse::<Doc>(&text).unwrap_err();
            assert_eq!(err.0, "line 1: collections nested more than 64 levels deep");
        }
        // Brackets in quotes and comments do not count.
        let text = format!(
            "a: \"{}\"\n# {}\nb: '{}'\n",
            "[".repeat(100),
            "{".repeat(100),
            "[".repeat(100)
        );
        let doc = parse::<Doc>(&text).unwrap().value.unwrap();
        assert_eq!(doc.len(), 2);
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        let err = parse::<Doc>("a:\n  b: 1\n  b: 2\n").unwrap_err();
        assert!(
            err.0.starts_with("a: duplicate entry with key \"b\""),
            "{err}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let doc = parse::<Doc>("\u{feff}a: 1\n").unwrap().value.unwrap();
        assert_eq!(doc.len(), 1);
    }

    #[test]
    fn bracketed_paths() {
        assert_eq!(bracket_indices("tenants.0.auth.foo"), "tenants[0].auth.foo");
        assert_eq!(bracket_indices("grpah"), "grpah");
        assert_eq!(bracket_indices("?.tls.?.cert_fiel"), "tls.cert_fiel");
    }
}
