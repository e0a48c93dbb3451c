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
    #[error("GET {path}: HTTP {status} {code}: {message}{}", ids(request_ids.as_deref()))]
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
    #[error("GET {path}: unexpected response body: {message}")]
    Decode {
        /// The request path (no query).
        path: String,
        /// What did not parse.
        message: String,
    },
    /// A collection had more pages than the configured bound.
    #[error("GET {path}: more than {max_pages} pages; not following @odata.nextLink further")]
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
