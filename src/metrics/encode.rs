//! The one encoder: Prometheus text format 0.0.4, optionally gzip-compressed.

use flate2::{write::GzEncoder, Compression};
use prometheus::{proto::MetricFamily, Encoder, TextEncoder};
use std::io::Write;

/// The `Content-Type` of the text exposition format served on `/metrics`.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Encodes families in the text format.
pub fn text(families: &[MetricFamily]) -> String {
    let mut buf = Vec::new();
    // Encoding into a Vec cannot fail on I/O; it fails only on malformed families, which the
    // catalog rules out. An error would surface as a truncated exposition, never a panic.
    if let Err(err) = TextEncoder::new().encode(families, &mut buf) {
        tracing::error!(error = %err, "encoding metrics failed");
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Gzip-compresses a body for clients that sent `Accept-Encoding: gzip`.
pub fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
    enc.write_all(body)?;
    enc.finish()
}
