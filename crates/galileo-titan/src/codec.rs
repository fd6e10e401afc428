//! Frames: MessagePack payloads, compressed per the negotiated sub-protocol, in both
//! directions.
//!
//! ```
//! use galileo_titan::codec::{Compression, decode, encode};
//! use galileo_titan::wire::{ClientRequest, GetInfoRequest, RequestData};
//!
//! let req = ClientRequest { id: 1, data: RequestData::GetInfo(GetInfoRequest {}) };
//! for c in Compression::ALL {
//!     let frame = c.compress(&encode(&req));
//!     let back: ClientRequest = decode(&c.decompress(&frame, 1 << 20)?)?;
//!     assert_eq!(back, req);
//! }
//! // The bytes of spec §7.
//! assert_eq!(
//!     encode(&req),
//!     [0x82, 0xa2, b'i', b'd', 0x01, 0xa4, b'd', b'a', b't', b'a', 0x81, 0xa7,
//!      b'G', b'e', b't', b'I', b'n', b'f', b'o', 0x80]
//! );
//! # Ok::<(), galileo_titan::codec::FrameError>(())
//! ```

use std::fmt;
use std::io::{Read, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::wire::ServerMessage;

/// The v1 sub-protocol without compression.
pub const PROTOCOL: &str = "v1.api.titan.ag";

/// A sub-protocol's compression, applied to every binary frame both ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// `v1.api.titan.ag+zstd`.
    Zstd,
    /// `v1.api.titan.ag+brotli`.
    Brotli,
    /// `v1.api.titan.ag+gzip`.
    Gzip,
    /// `v1.api.titan.ag`: raw MessagePack.
    None,
}

impl Compression {
    /// Every compression, in Galileo's default order of preference.
    pub const ALL: [Compression; 4] = [
        Compression::Zstd,
        Compression::Brotli,
        Compression::Gzip,
        Compression::None,
    ];

    /// The sub-protocol token offered in `Sec-WebSocket-Protocol`.
    pub fn token(self) -> &'static str {
        match self {
            Compression::Zstd => "v1.api.titan.ag+zstd",
            Compression::Brotli => "v1.api.titan.ag+brotli",
            Compression::Gzip => "v1.api.titan.ag+gzip",
            Compression::None => PROTOCOL,
        }
    }

    /// The compression of a token the server echoed (exact match: tokens are case-sensitive).
    pub fn from_token(token: &str) -> Option<Self> {
        Compression::ALL.into_iter().find(|c| c.token() == token)
    }

    /// The short name (`zstd`, `brotli`, `gzip`, `none`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::Zstd => "zstd",
            Compression::Brotli => "brotli",
            Compression::Gzip => "gzip",
            Compression::None => "none",
        }
    }

    /// Compresses one frame's payload.
    pub fn compress(self, payload: &[u8]) -> Vec<u8> {
        match self {
            Compression::None => payload.to_vec(),
            Compression::Gzip => {
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(payload.len() / 2 + 32),
                    flate2::Compression::fast(),
                );
                // Writing into a Vec cannot fail.
                let _ = enc.write_all(payload);
                enc.finish().unwrap_or_default()
            }
            Compression::Zstd => zstd::bulk::compress(payload, 3).unwrap_or_default(),
            Compression::Brotli => {
                let mut out = Vec::with_capacity(payload.len() / 2 + 32);
                {
                    let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                    let _ = w.write_all(payload);
                }
                out
            }
        }
    }

    /// Decompresses one frame, refusing more than `limit` bytes of output: a decompression
    /// bomb is an error, not an allocation.
    pub fn decompress(self, frame: &[u8], limit: usize) -> Result<Vec<u8>, FrameError> {
        let bad = |e: std::io::Error| FrameError::Decompress {
            compression: self,
            reason: e.to_string(),
        };
        let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
        let mut out = Vec::new();
        match self {
            Compression::None => out.extend_from_slice(frame),
            Compression::Gzip => {
                flate2::read::GzDecoder::new(frame)
                    .take(cap)
                    .read_to_end(&mut out)
                    .map_err(bad)?;
            }
            Compression::Zstd => {
                zstd::stream::read::Decoder::new(frame)
                    .map_err(bad)?
                    .take(cap)
                    .read_to_end(&mut out)
                    .map_err(bad)?;
            }
            Compression::Brotli => {
                brotli::Decompressor::new(frame, 4096)
                    .take(cap)
                    .read_to_end(&mut out)
                    .map_err(bad)?;
            }
        }
        if out.len() > limit {
            return Err(FrameError::TooLarge { limit });
        }
        Ok(out)
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A frame that cannot be read. Never carries the frame's bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Not valid data for the negotiated compression.
    #[error(
        "the frame is not valid {compression} data ({reason}); the server and Galileo disagree \
         on the sub-protocol's compression"
    )]
    Decompress {
        /// The negotiated compression.
        compression: Compression,
        /// The decompressor's complaint.
        reason: String,
    },
    /// It decompresses to more than the limit.
    #[error(
        "the frame decompresses to more than {limit} bytes; raise max_message_bytes if the server's messages are really that large"
    )]
    TooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// Not a message of the protocol.
    #[error("the frame is not a Titan v1 MessagePack message: {0}")]
    Decode(String),
}

/// Encodes a wire value as MessagePack with named fields (structs as maps).
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own types into a Vec cannot fail: every map key is a string and every
    // value is serializable.
    rmp_serde::to_vec_named(value).unwrap_or_default()
}

/// Decodes a MessagePack payload (already decompressed).
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, FrameError> {
    rmp_serde::from_slice(payload).map_err(|e| FrameError::Decode(e.to_string()))
}

/// Decodes one binary frame from the server: decompress (at most `limit` bytes), then
/// MessagePack. Any input gives a message or an error, never a panic (fuzzed).
pub fn decode_server_frame(
    compression: Compression,
    frame: &[u8],
    limit: usize,
) -> Result<ServerMessage, FrameError> {
    decode(&compression.decompress(frame, limit)?)
}

/// Encodes one message for the wire: MessagePack, then compression.
pub fn encode_frame<T: Serialize>(compression: Compression, value: &T) -> Vec<u8> {
    compression.compress(&encode(value))
}
