//! [`GraphError`]: why a Graph call failed, in words an operator can act on.

use std::time::Duration;

/// A failed Graph or token request. Never carries a secret or a token. Cloned when one failure
/// (a refused sign-in) answers every item of a JSON batch.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GraphError {
    /// The login authority refused to issue a token (its AADSTS error is in the message).
    #[error("getting a token failed: {0}")]
    Token(String),
    /// Graph answered with an error status.
    #[error("GET {path}: HTTP {status} {code}: {message}")]
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
