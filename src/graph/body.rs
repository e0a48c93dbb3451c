//! Reading a Graph response body: within a size limit, and decoded as JSON leniently enough
//! that one odd string does not cost a whole source.
//!
//! Every body the Graph client reads goes through [`read_limited`] (pages, entities, error
//! answers, `$batch` answers), so no answer can take more memory than the configured bound,
//! however it is compressed. It knows nothing about paging, retries or tokens.

use super::error::{chain, GraphError};

/// The default for `graph.max_response_bytes`: far above any Graph page (a 999-item page of
/// devices is a few MiB) and far below the 256 Mi the shipped Kubernetes manifest allows.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Reads the whole body of `response`, refusing it once it exceeds `limit` bytes.
///
/// The bound applies to the decoded body: reqwest inflates `Content-Encoding: gzip` while the
/// chunks are read, so a small compressed answer that inflates to gigabytes is cut off at
/// `limit`, and at most `limit` bytes (plus one chunk) are ever held. A `Content-Length` above
/// the limit is refused before anything is read.
pub async fn read_limited(
    mut response: reqwest::Response,
    path: &str,
    limit: usize,
) -> Result<Vec<u8>, GraphError> {
    let too_large = || GraphError::TooLarge {
        path: path.to_string(),
        limit,
    };
    let announced = response.content_length();
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(announced.map_or(0, |n| n as usize));
    loop {
        let chunk = response.chunk().await.map_err(|e| GraphError::Transport {
            path: path.to_string(),
            message: chain(&e),
        })?;
        let Some(chunk) = chunk else {
            return Ok(body);
        };
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
}

/// Decodes a Graph JSON body. A lone UTF-16 surrogate escape (`"\ud800"`), which Graph passes
/// through from user-entered names and serde_json refuses, becomes U+FFFD first.
pub fn decode_json(path: &str, mut body: Vec<u8>) -> Result<serde_json::Value, GraphError> {
    replace_lone_surrogates(&mut body);
    serde_json::from_slice(&body).map_err(|e| GraphError::Decode {
        path: path.to_string(),
        message: e.to_string(),
    })
}

/// Rewrites, in place, every `\uD800`-`\uDFFF` escape inside a JSON string that is not half of
/// a high-low pair into `\uFFFD` (the same six bytes). Escaped backslashes are honoured, so
/// `"\\ud800"` (a backslash, then text) is left alone. Returns how many were replaced.
pub fn replace_lone_surrogates(body: &mut [u8]) -> usize {
    let mut replaced = 0;
    let mut in_string = false;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => {
                if body.get(i + 1) == Some(&b'u') {
                    if let Some(unit) = hex4(body, i + 2) {
                        if (0xD800..0xDC00).contains(&unit) {
                            let low = (body.get(i + 6) == Some(&b'\\')
                                && body.get(i + 7) == Some(&b'u'))
                            .then(|| hex4(body, i + 8))
                            .flatten();
                            if low.is_some_and(|l| (0xDC00..0xE000).contains(&l)) {
                                // A proper pair: skip both escapes.
                                i += 12;
                                continue;
                            }
                            body[i + 2..i + 6].copy_from_slice(b"FFFD");
                            replaced += 1;
                        } else if (0xDC00..0xE000).contains(&unit) {
                            body[i + 2..i + 6].copy_from_slice(b"FFFD");
                            replaced += 1;
                        }
                        i += 6;
                        continue;
                    }
                }
                // Any other escape is two bytes; skipping the second keeps `\"` and `\\` from
                // ending the string or starting an escape.
                i += 2;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    replaced
}

fn hex4(body: &[u8], at: usize) -> Option<u16> {
    let digits = body.get(at..at + 4)?;
    let text = std::str::from_utf8(digits).ok()?;
    u16::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(text: &str) -> (String, usize) {
        let mut bytes = text.as_bytes().to_vec();
        let n = replace_lone_surrogates(&mut bytes);
        (String::from_utf8(bytes).unwrap_or_default(), n)
    }

    #[test]
    fn lone_surrogates_become_the_replacement_character() {
        assert_eq!(
            fixed(r#"{"a":"x\ud800y","b":"\uDC00"}"#),
            (r#"{"a":"x\uFFFDy","b":"\uFFFD"}"#.to_string(), 2)
        );
        // A high surrogate at the very end of a string, and one followed by a non-surrogate.
        assert_eq!(
            fixed(r#"["\ud83d","\ud83d\u0041"]"#),
            (r#"["\uFFFD","\uFFFD\u0041"]"#.to_string(), 2)
        );
        let decoded = decode_json("p", br#"{"name":"a\ud800b"}"#.to_vec());
        assert_eq!(
            decoded.ok(),
            Some(serde_json::json!({"name": "a\u{FFFD}b"}))
        );
    }

    #[test]
    fn pairs_escaped_backslashes_and_keys_are_left_alone() {
        for text in [
            r#"{"e":"\ud83d\ude00"}"#,
            r#"{"e":"\\ud800"}"#,
            r#"{"e":"\"\\\ud83d\ude00"}"#,
            r#"{"e":"\u00e9\n"}"#,
        ] {
            assert_eq!(fixed(text), (text.to_string(), 0), "{text}");
        }
    }
}
