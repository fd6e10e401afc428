//! Frames: MessagePack (maps with field names), compressed per the negotiated sub-protocol.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use super::wire::ClientRequest;

/// The sub-protocol without compression.
pub const PROTOCOL: &str = "v1.api.titan.ag";

/// A v1 sub-protocol's compression: every binary frame, both ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// `v1.api.titan.ag`: raw MessagePack.
    None,
    /// `v1.api.titan.ag+gzip`.
    Gzip,
    /// `v1.api.titan.ag+zstd`.
    Zstd,
    /// `v1.api.titan.ag+brotli`.
    Brotli,
}

/// A frame that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FrameError {
    /// The request id, when the frame got far enough to show one.
    pub request_id: Option<u32>,
    /// What is wrong.
    pub message: String,
}

impl Compression {
    /// Every compression, in the default order of preference.
    pub const ALL: [Compression; 4] = [
        Compression::Gzip,
        Compression::Zstd,
        Compression::Brotli,
        Compression::None,
    ];

    /// The sub-protocol token.
    pub fn token(self) -> &'static str {
        match self {
            Compression::None => PROTOCOL,
            Compression::Gzip => "v1.api.titan.ag+gzip",
            Compression::Zstd => "v1.api.titan.ag+zstd",
            Compression::Brotli => "v1.api.titan.ag+brotli",
        }
    }

    /// The compression of a sub-protocol token (exact, case-sensitive, as tokens are).
    pub fn from_token(token: &str) -> Option<Self> {
        Compression::ALL.into_iter().find(|c| c.token() == token)
    }

    /// Compresses one frame's payload.
    pub fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            Compression::None => data.to_vec(),
            Compression::Gzip => {
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(data.len() / 2 + 32),
                    flate2::Compression::fast(),
                );
                // Writing into a Vec cannot fail.
                let _ = enc.write_all(data);
                enc.finish().unwrap_or_default()
            }
            Compression::Zstd => zstd::bulk::compress(data, 3).unwrap_or_default(),
            Compression::Brotli => {
                let mut out = Vec::with_capacity(data.len() / 2 + 32);
                {
                    let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                    let _ = w.write_all(data);
                }
                out
            }
        }
    }

    /// Decompresses one frame's payload, refusing more than `limit` bytes of output (a
    /// decompression bomb is an error, not an allocation).
    pub fn decompress(self, data: &[u8], limit: usize) -> Result<Vec<u8>, FrameError> {
        let bad = |e: std::io::Error| FrameError {
            request_id: None,
            message: format!(
                "the frame is not valid {} data for sub-protocol {}: {e}",
                self.name(),
                self.token()
            ),
        };
        let mut out = Vec::new();
        let cap = limit as u64 + 1;
        match self {
            Compression::None => out.extend_from_slice(data),
            Compression::Gzip => {
                flate2::read::GzDecoder::new(data)
                    .take(cap)
                    .read_to_end(&mut out)
                    .map_err(bad)?;
            }
            Compression::Zstd => {
                zstd::stream::read::Decoder::new(data)
                    .map_err(bad)?
                    .take(cap)
                    .read_to_end(&mut out)
                    .map_err(bad)?;
            }
            Compression::Brotli => {
                brotli::Decompressor::new(data, 4096)
                    .take(cap)
                    .read_to_end(&mut out)
                    .map_err(bad)?;
            }
        }
        if out.len() > limit {
            return Err(FrameError {
                request_id: None,
                message: format!("the frame decompresses to more than {limit} bytes"),
            });
        }
        Ok(out)
    }

    fn name(self) -> &'static str {
        match self {
            Compression::None => "MessagePack",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Brotli => "brotli",
        }
    }
}

/// Encodes any wire value as MessagePack with named fields (structs as maps).
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing the wire types into a Vec cannot fail: they have string keys and no
    // unrepresentable values.
    rmp_serde::to_vec_named(value).unwrap_or_default()
}

/// Decodes any wire value.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, rmp_serde::decode::Error> {
    rmp_serde::from_slice(bytes)
}

/// Decodes a client request; on failure, says what is wrong and, when it could be read, the
/// request id (so the `Error` reply names it).
pub fn decode_request(bytes: &[u8]) -> Result<ClientRequest, FrameError> {
    decode::<ClientRequest>(bytes).map_err(|e| {
        #[derive(Deserialize)]
        struct IdOnly {
            id: Option<u32>,
        }
        let request_id = decode::<IdOnly>(bytes).ok().and_then(|r| r.id);
        FrameError {
            request_id,
            message: format!("malformed request: {e}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compression_round_trips_and_bounds_its_output() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 7) as u8).collect();
        for c in Compression::ALL {
            let z = c.compress(&data);
            assert_eq!(c.decompress(&z, data.len()).unwrap(), data, "{c:?}");
            if c != Compression::None {
                assert!(z.len() < data.len() / 4, "{c:?} does not compress");
            }
            let e = c.decompress(&z, data.len() - 1).unwrap_err();
            assert!(e.message.contains("more than"), "{c:?}: {e}");
            assert_eq!(Compression::from_token(c.token()), Some(c));
        }
        for c in [Compression::Gzip, Compression::Zstd, Compression::Brotli] {
            let e = c.decompress(b"\x81\xa2id\x01 not compressed", 1 << 20);
            assert!(e.is_err(), "{c:?} accepted garbage");
        }
        assert_eq!(Compression::from_token("vi.api.titan.ag+gzip"), None);
    }
}
