//! [`GraphError`]: why a Graph call failed, in words an operator can act on.

use reqwest::header::{HeaderMap, LOCATION};
use reqwest::StatusCode;
use std::time::Duration;

/// A failed Graph or token request. Never carries a secret or a token. Cloned when one failure
/// (a refused sign-in) answers every item of a JSON batch.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GraphError {
    /// The login authority refused to issue a token (its AADSTS error is in the message).
    #[error("getting a token failed: {0}")]
    Token(String),
    /// Graph answered with an error status (or a redirect, which is never followed).
    #[error("GET {path}: HTTP {status} {code}: {}{}", shortened(message), ids(request_ids.as_deref()))]
    Status {
        /// The request path (no query).
        path: String,
        /// The HTTP status code.
        status: u16,
        /// Graph's `error.code`, or the reason phrase.
        code: String,
        /// Graph's `error.message`.
        message: String,
        /// The `Retry-After` that came with it, if any.
        retry_after: Option<Duration>,
        /// Graph's ids for the answer, when it sent any (boxed: errors travel in `Result`s).
        request_ids: Option<Box<RequestIds>>,
    },
    /// No response arrived (connection refused, TLS failure, timeout).
    #[error("GET {path}: {message}")]
    Transport {
        /// The request path (no query).
        path: String,
        /// What went wrong, with its causes.
        message: String,
    },
    /// The response was not the JSON that Graph documents.
    #[error("GET {path}: unexpected response body: {}", shortened(message))]
    Decode {
        /// The request path (no query).
        path: String,
        /// What did not parse.
        message: String,
    },
    /// A collection had more pages than the configured bound.
    #[error("GET {path}: more than {max_pages} pages (graph.max_pages); not following @odata.nextLink further")]
    TooManyPages {
        /// The request path.
        path: String,
        /// The bound that was reached.
        max_pages: usize,
    },
    /// The response body was larger than `graph.max_response_bytes` (counted after
    /// decompression); it was not read further.
    #[error("GET {path}: the response is larger than {limit} bytes (graph.max_response_bytes); not reading further")]
    TooLarge {
        /// The request path.
        path: String,
        /// The bound that was reached.
        limit: usize,
    },
    /// The pages of one collection together were larger than `graph.max_response_bytes`
    /// (counted after decompression); no further page was read.
    #[error("GET {path}: the pages of this collection together are larger than {limit} bytes (graph.max_response_bytes); not reading further")]
    CollectionTooLarge {
        /// The request path.
        path: String,
        /// The bound that was reached.
        limit: usize,
    },
    /// An `@odata.nextLink` named a page that was already read: following it would never end.
    #[error("GET {path}: @odata.nextLink repeats a page already read ({link}); not following it")]
    NextLinkLoop {
        /// The request path.
        path: String,
        /// The repeated link.
        link: String,
    },
    /// An `@odata.nextLink` pointed away from the configured Graph root; the bearer token is
    /// never sent anywhere else.
    #[error("GET {path}: @odata.nextLink leaves the Graph root ({link})")]
    ForeignNextLink {
        /// The request path.
        path: String,
        /// The link that was refused.
        link: String,
    },
}

impl GraphError {
    /// The HTTP status, when Graph answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            GraphError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error for a non-success answer, alone or an item of a JSON batch: Graph's
    /// `{"error":{"code","message"}}` from `body`, its request ids from `headers`. The HTTP
    /// client follows no redirect (the token would be stripped, but the foreign body would be
    /// read as tenant data), so a 3xx says where it pointed instead.
    pub(crate) fn from_answer(
        path: &str,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> GraphError {
        #[derive(serde::Deserialize)]
        struct Envelope {
            error: Inner,
        }
        #[derive(serde::Deserialize)]
        struct Inner {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
        }
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let ids = RequestIds {
            request_id: text("request-id"),
            client_request_id: text("client-request-id"),
        };
        let reason = || status.canonical_reason().unwrap_or("error").to_string();
        let (code, message) = match (status.is_redirection(), text(LOCATION.as_str())) {
            (true, Some(location)) => (
                reason(),
                format!("a redirect to {location}, not followed: the exporter reads only the configured graph_url"),
            ),
            _ => match serde_json::from_slice::<Envelope>(body) {
                Ok(e) => (e.error.code, e.error.message),
                Err(_) => (reason(), String::new()),
            },
        };
        GraphError::Status {
            path: path.to_string(),
            status: status.as_u16(),
            code,
            message,
            retry_after,
            request_ids: (ids != RequestIds::default()).then(|| Box::new(ids)),
        }
    }

    /// A 404 for a collection, which (unlike an entity) must exist.
    pub(crate) fn not_found(path: &str) -> GraphError {
        GraphError::Status {
            path: path.to_string(),
            status: 404,
            code: "NotFound".to_string(),
            message: "the collection does not exist".to_string(),
            retry_after: None,
            request_ids: None,
        }
    }

    /// The pages of a collection add up to more than `graph.max_response_bytes`.
    pub(crate) fn collection_too_large(path: &str, limit: usize) -> GraphError {
        GraphError::CollectionTooLarge {
            path: path.to_string(),
            limit,
        }
    }
}

/// The ids Graph gives every answer, which Microsoft support asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestIds {
    /// The `request-id` header.
    pub request_id: Option<String>,
    /// The `client-request-id` header: the client's own id echoed, or one Graph made up.
    pub client_request_id: Option<String>,
}

/// ` (request-id: X, client-request-id: Y)`, or nothing when Graph sent neither.
fn ids(ids: Option<&RequestIds>) -> String {
    let Some(ids) = ids else {
        return String::new();
    };
    match (ids.request_id.as_deref(), ids.client_request_id.as_deref()) {
        (None, None) => String::new(),
        (Some(r), None) => format!(" (request-id: {r})"),
        (None, Some(c)) => format!(" (client-request-id: {c})"),
        (Some(r), Some(c)) => format!(" (request-id: {r}, client-request-id: {c})"),
    }
}

/// Most characters of a message from Graph shown in an error: a hostile or broken answer (a
/// megabyte-long string where an object belongs, which serde quotes whole) must not become a
/// megabyte-long log line.
const MAX_SHOWN: usize = 512;

/// `message`, or its start and end with how much was left out between them.
fn shortened(message: &str) -> std::borrow::Cow<'_, str> {
    let total = message.chars().count();
    if total <= MAX_SHOWN {
        return message.into();
    }
    // The end usually says what was expected (`..., expected struct Page`): keep some of it.
    let (head, tail) = (MAX_SHOWN * 3 / 4, MAX_SHOWN / 4);
    let start: String = message.chars().take(head).collect();
    let end: String = message.chars().skip(total - tail).collect();
    format!(
        "{start} [... {} characters left out ...] {end}",
        total - head - tail
    )
    .into()
}

/// Renders an error with its chain of causes on one line.
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn answer(
        status: StatusCode,
        headers: &[(&'static str, &'static str)],
        path: &str,
        body: &[u8],
    ) -> GraphError {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        GraphError::from_answer(path, status, &map, body, None)
    }

    #[test]
    fn error_bodies_name_graphs_code() {
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}"#;
        let err = answer(StatusCode::FORBIDDEN, &[], "v1.0/subscribedSkus", body);
        assert_eq!(
            err.to_string(),
            "GET v1.0/subscribedSkus: HTTP 403 Authorization_RequestDenied: Insufficient privileges to complete the operation."
        );
        let err = answer(StatusCode::BAD_GATEWAY, &[], "v1.0/x", b"<html>");
        assert_eq!(err.to_string(), "GET v1.0/x: HTTP 502 Bad Gateway: ");
    }

    #[test]
    fn error_text_names_graphs_request_ids_and_where_a_redirect_pointed() {
        let body = br#"{"error":{"code":"Forbidden","message":"No."}}"#;
        let ids = [
            ("request-id", "8f7b7c4e-0000-4000-8000-000000000001"),
            ("client-request-id", "8f7b7c4e-0000-4000-8000-000000000002"),
        ];
        let err = answer(StatusCode::FORBIDDEN, &ids, "v1.0/x", body);
        assert_eq!(
            err.to_string(),
            "GET v1.0/x: HTTP 403 Forbidden: No. (request-id: 8f7b7c4e-0000-4000-8000-000000000001, client-request-id: 8f7b7c4e-0000-4000-8000-000000000002)"
        );
        let err = answer(StatusCode::FORBIDDEN, &ids[..1], "v1.0/x", body);
        assert_eq!(
            err.to_string(),
            "GET v1.0/x: HTTP 403 Forbidden: No. (request-id: 8f7b7c4e-0000-4000-8000-000000000001)"
        );
        let err = answer(
            StatusCode::TEMPORARY_REDIRECT,
            &[("location", "https://elsewhere.example/v1.0/x")],
            "v1.0/x",
            b"",
        );
        assert_eq!(
            err.to_string(),
            "GET v1.0/x: HTTP 307 Temporary Redirect: a redirect to https://elsewhere.example/v1.0/x, not followed: the exporter reads only the configured graph_url"
        );
    }

    #[test]
    fn long_messages_from_graph_are_shortened_in_the_middle() {
        let short = GraphError::Decode {
            path: "v1.0/x".to_string(),
            message: "expected value at line 1 column 1".to_string(),
        };
        assert_eq!(
            short.to_string(),
            "GET v1.0/x: unexpected response body: expected value at line 1 column 1"
        );
        let junk = "é".repeat(1_000_000);
        let long = GraphError::Decode {
            path: "v1.0/x".to_string(),
            message: format!("invalid type: string \"{junk}\", expected struct Page"),
        };
        let text = long.to_string();
        assert_eq!(
            text,
            format!(
                "GET v1.0/x: unexpected response body: invalid type: string \"{} [... 999533 characters left out ...] {}\", expected struct Page",
                "é".repeat(384 - 22),
                "é".repeat(128 - 23)
            )
        );
        let status = GraphError::Status {
            path: "v1.0/x".to_string(),
            status: 400,
            code: "BadRequest".to_string(),
            message: junk,
            retry_after: None,
            request_ids: None,
        };
        assert_eq!(
            status.to_string(),
            format!(
                "GET v1.0/x: HTTP 400 BadRequest: {} [... 999488 characters left out ...] {}",
                "é".repeat(384),
                "é".repeat(128)
            )
        );
    }
}
