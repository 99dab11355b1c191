//! The SMKEX v1 wire format: record types, their channels, their fixed
//! lengths, encoding, and a strict one-shot parser.
//!
//! Every record is `type (1) ‖ version (1) ‖ length (2, big-endian) ‖ body`.
//! Every record type has exactly one legal body length, one sender and one
//! channel; see Documentation/protocol.md §3.

use crate::{Channel, FailureReason, Role};

/// The protocol version carried in every record header.
pub const VERSION: u8 = 1;
/// Bytes of the record header: type, version, length (u16, big-endian).
pub const HEADER_LEN: usize = 4;
/// Bytes of an X25519 key share (X or Y).
pub const KEY_SHARE_LEN: usize = 32;
/// Bytes of a nonce (N_C or N_S).
pub const NONCE_LEN: usize = 32;
/// Bytes of the binding hash h (SHA-256).
pub const HASH_LEN: usize = 32;
/// Bytes of the client Finished MAC (HMAC-SHA256).
pub const FINISHED_LEN: usize = 32;

/// Total bytes of a `ClientKeyShare` record (step 1, channel 1).
pub const CLIENT_KEY_SHARE_RECORD_LEN: usize = HEADER_LEN + KEY_SHARE_LEN;
/// Total bytes of a `ClientNonce` record (step 2, channel 2).
pub const CLIENT_NONCE_RECORD_LEN: usize = HEADER_LEN + NONCE_LEN;
/// Total bytes of a `ServerKeyShare` record (step 3, channel 1).
pub const SERVER_KEY_SHARE_RECORD_LEN: usize = HEADER_LEN + KEY_SHARE_LEN;
/// Total bytes of a `ServerNonceHash` record (step 4, channel 2).
pub const SERVER_NONCE_HASH_RECORD_LEN: usize = HEADER_LEN + NONCE_LEN + HASH_LEN;
/// Total bytes of a `ClientFinished` record (step 5, channel 1).
pub const CLIENT_FINISHED_RECORD_LEN: usize = HEADER_LEN + FINISHED_LEN;
/// The largest record; a buffer of this size holds any record.
pub const MAX_RECORD_LEN: usize = SERVER_NONCE_HASH_RECORD_LEN;

/// Handshake bytes the client sends on channel 1 (= the server receives on
/// its channel 1): `ClientKeyShare` + `ClientFinished` = 72.
pub const CLIENT_TO_SERVER_CH1_BYTES: usize =
    CLIENT_KEY_SHARE_RECORD_LEN + CLIENT_FINISHED_RECORD_LEN;
/// Handshake bytes the client sends on channel 2: `ClientNonce` = 36.
pub const CLIENT_TO_SERVER_CH2_BYTES: usize = CLIENT_NONCE_RECORD_LEN;
/// Handshake bytes the server sends on channel 1: `ServerKeyShare` = 36.
pub const SERVER_TO_CLIENT_CH1_BYTES: usize = SERVER_KEY_SHARE_RECORD_LEN;
/// Handshake bytes the server sends on channel 2: `ServerNonceHash` = 68.
pub const SERVER_TO_CLIENT_CH2_BYTES: usize = SERVER_NONCE_HASH_RECORD_LEN;

/// The handshake bytes a side with `role` receives on `channel` in a
/// complete, untampered handshake (for the kernel's channel-integrity check:
/// once the handshake completes, each subflow must have received exactly
/// this many bytes).
pub const fn expected_receive_bytes(role: Role, channel: Channel) -> usize {
    match (role, channel) {
        (Role::Client, Channel::One) => SERVER_TO_CLIENT_CH1_BYTES,
        (Role::Client, Channel::Two) => SERVER_TO_CLIENT_CH2_BYTES,
        (Role::Server, Channel::One) => CLIENT_TO_SERVER_CH1_BYTES,
        (Role::Server, Channel::Two) => CLIENT_TO_SERVER_CH2_BYTES,
    }
}

/// The handshake bytes a side with `role` sends on `channel` in a complete
/// handshake.
pub const fn expected_send_bytes(role: Role, channel: Channel) -> usize {
    expected_receive_bytes(role.peer(), channel)
}

/// The five record types of SMKEX v1. The discriminant is the type byte on
/// the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RecordType {
    /// Step 1, client → server, channel 1: body = X (32 bytes).
    ClientKeyShare = 1,
    /// Step 2, client → server, channel 2: body = N_C (32 bytes).
    ClientNonce = 2,
    /// Step 3, server → client, channel 1: body = Y (32 bytes).
    ServerKeyShare = 3,
    /// Step 4, server → client, channel 2: body = N_S ‖ h (64 bytes).
    ServerNonceHash = 4,
    /// Step 5, client → server, channel 1: body = Finished (32 bytes).
    ClientFinished = 5,
}

impl RecordType {
    /// All record types, in protocol (step) order.
    pub const ALL: [RecordType; 5] = [
        RecordType::ClientKeyShare,
        RecordType::ClientNonce,
        RecordType::ServerKeyShare,
        RecordType::ServerNonceHash,
        RecordType::ClientFinished,
    ];

    /// The record type for a type byte, or `None` for an unknown type.
    pub const fn from_u8(byte: u8) -> Option<RecordType> {
        match byte {
            1 => Some(RecordType::ClientKeyShare),
            2 => Some(RecordType::ClientNonce),
            3 => Some(RecordType::ServerKeyShare),
            4 => Some(RecordType::ServerNonceHash),
            5 => Some(RecordType::ClientFinished),
            _ => None,
        }
    }

    /// The only legal body length of this type.
    pub const fn body_len(self) -> usize {
        match self {
            RecordType::ClientKeyShare | RecordType::ServerKeyShare => KEY_SHARE_LEN,
            RecordType::ClientNonce => NONCE_LEN,
            RecordType::ServerNonceHash => NONCE_LEN + HASH_LEN,
            RecordType::ClientFinished => FINISHED_LEN,
        }
    }

    /// Total record length (header + body).
    pub const fn record_len(self) -> usize {
        HEADER_LEN + self.body_len()
    }

    /// The channel this type must travel on.
    pub const fn channel(self) -> Channel {
        match self {
            RecordType::ClientNonce | RecordType::ServerNonceHash => Channel::Two,
            RecordType::ClientKeyShare
            | RecordType::ServerKeyShare
            | RecordType::ClientFinished => Channel::One,
        }
    }

    /// The role that sends this type.
    pub const fn sender(self) -> Role {
        match self {
            RecordType::ServerKeyShare | RecordType::ServerNonceHash => Role::Server,
            RecordType::ClientKeyShare | RecordType::ClientNonce | RecordType::ClientFinished => {
                Role::Client
            }
        }
    }

    /// A single bit identifying this type in a set.
    pub(crate) const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Writes the record `ty` with `body` into `out` and returns its length.
/// Fails with [`FailureReason::Internal`] if `body` has the wrong length for
/// `ty` or `out` is too small (never the case for the session's own use).
pub fn encode(ty: RecordType, body: &[u8], out: &mut [u8]) -> Result<usize, FailureReason> {
    let len = ty.record_len();
    if body.len() != ty.body_len() {
        return Err(FailureReason::Internal);
    }
    let out = out.get_mut(..len).ok_or(FailureReason::Internal)?;
    let (header, rest) = out.split_at_mut(HEADER_LEN);
    let body_len = (body.len() as u16).to_be_bytes();
    header.copy_from_slice(&[ty as u8, VERSION, body_len[0], body_len[1]]);
    rest.copy_from_slice(body);
    Ok(len)
}

/// Checks a (possibly partial) record prefix byte by byte against the
/// format rules that do not depend on the session's state: known type,
/// version, exact length. `prefix` may be any length; only the header bytes
/// present are checked.
pub fn check_header_prefix(prefix: &[u8]) -> Result<Option<RecordType>, FailureReason> {
    let Some(&type_byte) = prefix.first() else {
        return Ok(None);
    };
    let ty = RecordType::from_u8(type_byte).ok_or(FailureReason::MalformedRecord)?;
    if let Some(&version) = prefix.get(1) {
        if version != VERSION {
            return Err(FailureReason::MalformedRecord);
        }
    }
    let want = (ty.body_len() as u16).to_be_bytes();
    if let Some(&hi) = prefix.get(2) {
        if hi != want[0] {
            return Err(FailureReason::MalformedRecord);
        }
    }
    if let Some(&lo) = prefix.get(3) {
        if lo != want[1] {
            return Err(FailureReason::MalformedRecord);
        }
    }
    Ok(Some(ty))
}

/// A record parsed from a complete buffer by [`parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The record's type.
    pub ty: RecordType,
    /// The body (exactly `ty.body_len()` bytes).
    pub body: &'a [u8],
}

/// Parses one record from the front of `input`, strictly: unknown type,
/// wrong version or wrong length fail with
/// [`FailureReason::MalformedRecord`]; fewer bytes than one record returns
/// `Ok(None)` (need more). On success returns the record and the number of
/// bytes it occupied; bytes after it are left to the caller.
pub fn parse(input: &[u8]) -> Result<Option<(Record<'_>, usize)>, FailureReason> {
    let Some(ty) = check_header_prefix(input)? else {
        return Ok(None);
    };
    if input.len() < HEADER_LEN {
        return Ok(None);
    }
    let len = ty.record_len();
    match input.get(HEADER_LEN..len) {
        Some(body) => Ok(Some((Record { ty, body }, len))),
        None => Ok(None),
    }
}
