//! Building HTTP responses: the body type, JSON content types and header helpers shared by the
//! token endpoint and Graph. Knows no Graph or Entra semantics.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};

/// Every simulator response has a complete, in-memory body.
pub(crate) type HttpResponse = Response<Full<Bytes>>;

/// What Graph sends for JSON (minimal metadata, streaming) — clients must not insist on an exact
/// `application/json`.
pub(crate) const GRAPH_JSON: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
/// What Entra's token endpoint sends.
pub(crate) const ENTRA_JSON: &str = "application/json; charset=utf-8";

/// A response with `body` and `Content-Type`. Unknown status codes become 500 rather than panic.
pub(crate) fn json(
    status: u16,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> HttpResponse {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Sets a header whose value came from a scenario or a request; a value HTTP cannot carry is
/// dropped instead of failing the response.
pub(crate) fn set_header(response: &mut HttpResponse, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), value);
    }
}

/// Cuts a JSON document in half. A proper prefix of a serialised object is never valid JSON,
/// which is what a `malformed` fault promises.
pub(crate) fn truncate(body: &[u8]) -> Vec<u8> {
    body[..body.len() / 2].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_bodies_are_not_json() {
        for body in [r#"{"value":[]}"#, r#"{}"#, r#"{"a":{"b":[1,2,3]}}"#] {
            let cut = truncate(body.as_bytes());
            assert_eq!(cut.len(), body.len() / 2);
            assert!(
                serde_json::from_slice::<serde_json::Value>(&cut).is_err(),
                "{body}"
            );
        }
    }
}
