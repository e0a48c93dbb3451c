//! Gzip without recompressing: text compressed once into raw deflate [`Segment`]s, stitched
//! into one gzip member per response by copying bytes.
//!
//! Each segment is a deflate stream of its own (it refers only to its own bytes) that ends with
//! a sync flush, so it ends on a byte boundary without a final block. Deflate streams cut like
//! that can be laid end to end: [`Member`] writes the gzip header, copies the segments, closes
//! the stream with an empty final block and writes the CRC-32 of the whole text, combined from
//! the segments' own CRCs without reading the text again (see [`Crc32`]).
//!
//! Why one member and not one gzip member per segment: concatenated members are valid gzip and
//! Go's reader (Prometheus) reads them all, but many readers stop after the first member
//! without an error (reqwest's and curl's among them), which would silently truncate the scrape.

use bytes::{BufMut, Bytes, BytesMut};
use flate2::{Compress, Compression, FlushCompress, Status};

/// The gzip header: deflate, no name or time, unknown OS (RFC 1952, section 2.3).
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// An empty final block with fixed Huffman codes: `BFINAL=1, BTYPE=01`, end-of-block.
const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];
/// The CRC-32 polynomial of gzip, bit-reversed.
const POLY: u32 = 0xedb8_8320;

/// The CRC-32 of some bytes, in a form that concatenations can be computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crc32 {
    crc: u32,
    len: u64,
    /// `x^(8 * len)` modulo the polynomial: what appending these bytes does to the CRC of the
    /// bytes before them. Kept so that appending costs one multiplication, not `log(len)`.
    shift: u32,
}

impl Default for Crc32 {
    fn default() -> Self {
        Self {
            crc: 0,
            len: 0,
            shift: ONE,
        }
    }
}

/// The polynomial `1` in the bit-reversed representation.
const ONE: u32 = 1 << 31;

impl Crc32 {
    /// The CRC of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        let mut crc = flate2::Crc::new();
        crc.update(bytes);
        let len = bytes.len() as u64;
        Self {
            crc: crc.sum(),
            len,
            shift: x_pow_8n(len),
        }
    }

    /// The CRC of these bytes followed by `next`'s.
    pub fn then(self, next: Crc32) -> Crc32 {
        Crc32 {
            crc: multiply(next.shift, self.crc) ^ next.crc,
            len: self.len + next.len,
            shift: multiply(self.shift, next.shift),
        }
    }

    /// The CRC value.
    pub fn value(&self) -> u32 {
        self.crc
    }

    /// How many bytes it covers.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when it covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// `a * b` modulo the CRC polynomial, both bit-reversed.
fn multiply(a: u32, mut b: u32) -> u32 {
    let mut product = 0;
    let mut bit = ONE;
    while bit != 0 {
        if a & bit != 0 {
            product ^= b;
        }
        bit >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    product
}

/// `x^(8n)` modulo the CRC polynomial, by repeated squaring.
fn x_pow_8n(n: u64) -> u32 {
    // x^8, the effect of one byte.
    let mut square = 1u32 << (31 - 8);
    let mut result = ONE;
    let mut n = n;
    while n != 0 {
        if n & 1 != 0 {
            result = multiply(square, result);
        }
        square = multiply(square, square);
        n >>= 1;
    }
    result
}

/// Text compressed once, ready to be laid into a gzip member any number of times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Segment {
    /// Raw deflate, ending in a sync flush.
    pub deflate: Bytes,
    /// The CRC and length of the text it holds.
    pub crc: Crc32,
}

/// Compresses segments; reuses one compressor's memory across them.
pub struct Deflater {
    compress: Compress,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Deflater")
    }
}

impl Default for Deflater {
    fn default() -> Self {
        Self::new()
    }
}

impl Deflater {
    /// A compressor at the fastest level: on the demo tenant, the default level costs about
    /// three times the time for 5% fewer bytes, and every poll pays it.
    pub fn new() -> Self {
        Self {
            compress: Compress::new(Compression::fast(), false),
        }
    }

    /// Compresses `text` into a segment of its own.
    pub fn segment(&mut self, text: &[u8]) -> Segment {
        // A fresh stream for every segment: the bytes before it in a response vary, so it must
        // not refer to them.
        self.compress.reset();
        let mut out = Vec::with_capacity(text.len() / 4 + 64);
        loop {
            let consumed = usize::try_from(self.compress.total_in()).unwrap_or(text.len());
            let rest = text.get(consumed..).unwrap_or_default();
            let status = self
                .compress
                .compress_vec(rest, &mut out, FlushCompress::Sync);
            let all_in = usize::try_from(self.compress.total_in()).unwrap_or(0) >= text.len();
            match status {
                // The flush is complete once all input is in and it left room in the buffer.
                Ok(Status::Ok | Status::StreamEnd) if all_in && out.len() < out.capacity() => break,
                Ok(_) => out.reserve(out.capacity().max(64)),
                // Deflating into a Vec fails only on misuse of the stream, which this code
                // rules out; stored blocks carry the text unchanged if it ever happened.
                Err(err) => {
                    tracing::error!(error = %err, "deflate failed; storing the text uncompressed");
                    return stored(text);
                }
            }
        }
        Segment {
            deflate: Bytes::from(out),
            crc: Crc32::of(text),
        }
    }
}

/// `text` as uncompressed (stored) deflate blocks, ending on a byte boundary like a sync flush.
fn stored(text: &[u8]) -> Segment {
    let mut out = Vec::with_capacity(text.len() + text.len() / 65_535 * 5 + 5);
    for block in text.chunks(65_535).chain(std::iter::once(&[][..])) {
        // BFINAL=0, BTYPE=00, padded to the byte; then LEN and its complement.
        out.push(0);
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    Segment {
        deflate: Bytes::from(out),
        crc: Crc32::of(text),
    }
}

/// One gzip member being written from segments.
#[derive(Debug)]
pub struct Member {
    out: BytesMut,
    crc: Crc32,
}

impl Member {
    /// A member with room for `capacity` bytes of compressed data.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut out = BytesMut::with_capacity(capacity + HEADER.len() + FINAL_BLOCK.len() + 8);
        out.put_slice(&HEADER);
        Self {
            out,
            crc: Crc32::default(),
        }
    }

    /// Appends a segment.
    pub fn push(&mut self, segment: &Segment) {
        self.put_deflate(&segment.deflate);
        self.put_crc(segment.crc);
    }

    /// Appends compressed bytes without accounting for their text: the caller passes the CRC
    /// of that text to [`Member::put_crc`], for several segments at once if it likes, in
    /// text order.
    pub fn put_deflate(&mut self, deflate: &[u8]) {
        self.out.put_slice(deflate);
    }

    /// Accounts for text whose compressed bytes were (or will be) appended with
    /// [`Member::put_deflate`].
    pub fn put_crc(&mut self, crc: Crc32) {
        self.crc = self.crc.then(crc);
    }

    /// Closes the stream and writes the trailer: CRC-32 and length modulo 2^32.
    pub fn finish(mut self) -> Bytes {
        self.out.put_slice(&FINAL_BLOCK);
        self.out.put_u32_le(self.crc.value());
        self.out.put_u32_le(self.crc.len() as u32);
        self.out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(bytes: &[u8]) -> String {
        let mut text = String::new();
        // The single-member reader: the output must not need a multi-member one.
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .unwrap_or_else(|e| panic!("{e}"));
        text
    }

    #[test]
    fn combined_crc_is_the_crc_of_the_concatenation() {
        let mut rng = fastrand::Rng::with_seed(1);
        for _ in 0..200 {
            let a: Vec<u8> = (0..rng.usize(0..3000)).map(|_| rng.u8(..)).collect();
            let b: Vec<u8> = (0..rng.usize(0..3000)).map(|_| rng.u8(..)).collect();
            let whole: Vec<u8> = a.iter().chain(&b).copied().collect();
            assert_eq!(Crc32::of(&a).then(Crc32::of(&b)), Crc32::of(&whole));
        }
        assert_eq!(Crc32::default().then(Crc32::of(b"x")), Crc32::of(b"x"));
        assert_eq!(Crc32::of(b"123456789").value(), 0xcbf4_3926);
    }

    #[test]
    fn segments_laid_end_to_end_are_one_valid_member() {
        let parts = [
            "# HELP a A.\n# TYPE a gauge\n",
            "",
            "a{tenant_id=\"t1\"} 1\n",
            &"a{tenant_id=\"t2\",x=\"long and repetitive\"} 2\n".repeat(5_000),
        ];
        let mut deflater = Deflater::new();
        let mut member = Member::with_capacity(0);
        for p in parts {
            member.push(&deflater.segment(p.as_bytes()));
        }
        member.push(&stored(b"stored\n"));
        assert_eq!(gunzip(&member.finish()), parts.concat() + "stored\n");
        assert_eq!(gunzip(&Member::with_capacity(0).finish()), "");
    }

    #[test]
    fn stored_blocks_split_long_text() {
        let text = "z".repeat(70_000);
        let mut member = Member::with_capacity(0);
        member.push(&stored(text.as_bytes()));
        assert_eq!(gunzip(&member.finish()), text);
    }
}
