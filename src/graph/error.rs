//! [`GraphError`]: why a Graph call failed, in words an operator can act on.

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
