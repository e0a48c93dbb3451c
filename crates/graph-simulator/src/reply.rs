//! Building HTTP responses: the body type, JSON content types and header helpers shared by the
//! token endpoint and Graph. Knows no Graph or Entra semantics.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};

/// Every simulator response has a complete, in-memory body.
pub(crate) type HttpResponse = Response<Full<Bytes>>;

/// A handler's answer and the tenant it concerned, for the request log.
pub(crate) struct Handled {
    pub(crate) tenant_id: Option<String>,
    pub(crate) response: HttpResponse,
}

/// What Graph sends for JSON (minimal metadata, streaming) — clients must not insist on an exact
/// `application/json`.
pub(crate) const GRAPH_JSON: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
/// What Entra's token endpoint sends.
pub(crate) const ENTRA_JSON: &str = "application/json; charset=utf-8";
/// What a proxy's own error page might be.
pub(crate) const TEXT: &str = "text/plain; charset=utf-8";

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

/// Sets a header whose name came from a scenario; an invalid name or value is dropped.
pub(crate) fn set_named_header(response: &mut HttpResponse, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        response.headers_mut().insert(name, value);
    }
}

/// The JSON document that oversized answers and gzip bombs carry: an empty collection page
/// (which any entity decoder also accepts) with a string of `0`s padding it to `size` bytes.
const PAD_PREFIX: &[u8] = br#"{"value":[],"padding":""#;
const PAD_SUFFIX: &[u8] = br#""}"#;

fn padding(size: u64) -> u64 {
    size.saturating_sub((PAD_PREFIX.len() + PAD_SUFFIX.len()) as u64)
}

/// A valid JSON document of exactly `size` bytes (at least the shortest such document).
pub(crate) fn padded_json(size: u64) -> Vec<u8> {
    let fill = usize::try_from(padding(size)).unwrap_or(usize::MAX);
    let mut body = Vec::with_capacity(PAD_PREFIX.len() + fill + PAD_SUFFIX.len());
    body.extend_from_slice(PAD_PREFIX);
    body.resize(PAD_PREFIX.len() + fill, b'0');
    body.extend_from_slice(PAD_SUFFIX);
    body
}

/// [`padded_json`] of `size` bytes, gzip-compressed, without ever holding it inflated: the
/// padding is deflated one MiB at a time with a full flush after each, which makes every MiB
/// compress to the same bytes, so they are compressed once and repeated. About 1 KiB per MiB.
pub(crate) fn gzip_bomb(size: u64) -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    const CHUNK: usize = 1 << 20;
    let fill = padding(size);
    let chunk = vec![b'0'; CHUNK];
    let mut deflater = Compress::new(Compression::best(), false);
    let mut crc = Crc::new();
    // RFC 1952 header: deflate, no flags, no time, unknown OS.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff];
    out.extend(deflate(&mut deflater, PAD_PREFIX, FlushCompress::Full));
    crc.update(PAD_PREFIX);
    let mut chunk_crc = Crc::new();
    chunk_crc.update(&chunk);
    let mut repeated: Option<Vec<u8>> = None;
    let mut previous: Option<Vec<u8>> = None;
    for _ in 0..fill / CHUNK as u64 {
        let block = match &repeated {
            Some(block) => block.clone(),
            None => {
                let block = deflate(&mut deflater, &chunk, FlushCompress::Full);
                if previous.as_ref() == Some(&block) {
                    repeated = Some(block.clone());
                }
                previous = Some(block.clone());
                block
            }
        };
        out.extend(block);
        crc.combine(&chunk_crc);
    }
    let rest = &chunk[..(fill % CHUNK as u64) as usize];
    out.extend(deflate(&mut deflater, rest, FlushCompress::Full));
    crc.update(rest);
    out.extend(deflate(&mut deflater, PAD_SUFFIX, FlushCompress::Finish));
    crc.update(PAD_SUFFIX);
    out.extend(crc.sum().to_le_bytes());
    // ISIZE is the inflated size modulo 2^32.
    out.extend((crc.amount()).to_le_bytes());
    out
}

fn deflate(deflater: &mut flate2::Compress, input: &[u8], flush: flate2::FlushCompress) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 512 + 64);
    let mut consumed = 0;
    loop {
        out.reserve(4096);
        let before = deflater.total_in();
        let status = deflater.compress_vec(&input[consumed..], &mut out, flush);
        consumed += (deflater.total_in() - before) as usize;
        let done = match status {
            Ok(flate2::Status::StreamEnd) | Err(_) => true,
            Ok(_) => consumed == input.len() && out.len() < out.capacity(),
        };
        if done {
            return out;
        }
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
    fn padded_bodies_and_gzip_bombs_inflate_to_the_size_asked() {
        use std::io::Read;
        let body = padded_json(100);
        assert_eq!(body.len(), 100);
        assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());
        let size = 3 * (1 << 20) + 12345;
        let bomb = gzip_bomb(size);
        assert!(bomb.len() < 8 * 1024, "{}", bomb.len());
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(bomb.as_slice())
            .read_to_end(&mut inflated)
            .unwrap();
        assert_eq!(inflated, padded_json(size));
    }

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
