//! The SMKEX v1 record layer: the application's data after the handshake,
//! as ChaCha20-Poly1305 (RFC 8439) records. Documentation/protocol.md §10.
//!
//! Each direction of the connection is a sequence of records, starting
//! right after the handshake bytes:
//!
//! ```text
//! type (1: 0x10 Data, 0x11 Close) ‖ version (1: 1) ‖ length (2, big-endian)
//! ‖ ciphertext ‖ tag (16)          length = ciphertext + tag
//! ```
//!
//! with the 4 header bytes as the AAD and a nonce made from a per-direction
//! IV and an implicit sequence number (0 for each direction's first record,
//! +1 per record, the Close included). The keys come from the handshake's
//! record secret ([`crate::Session::record_secret`]) by [`RecordKeys::derive`].
//!
//! This module holds everything except the AEAD primitive, which the user
//! supplies through the [`Aead`] trait (the kernel module: `lib/crypto`;
//! the host tests: RustCrypto). Like the rest of the crate it is `no_std`,
//! allocates nothing, and has no reachable panic: a [`Sealer`] seals in
//! place, an [`Opener`] reads a byte stream in any split into one
//! caller-owned buffer of [`MAX_WIRE_LEN`] bytes and opens it in place.
//!
//! ```
//! use smkex_proto::records::{Aead, Opener, RecordKeys, RecordType, Sealer};
//! use smkex_proto::records::{HEADER_LEN, KEY_LEN, MAX_WIRE_LEN, SEQ_LIMIT};
//! use smkex_proto::Role;
//!
//! // A stand-in AEAD (NOT secure): XOR with a key byte, a "tag" of zeros.
//! // Real users plug in ChaCha20-Poly1305.
//! struct Toy;
//! impl Aead for Toy {
//!     fn seal(&self, key: &[u8; KEY_LEN], _n: u64, _aad: &[u8], buf: &mut [u8], pt_len: usize) {
//!         let (pt, tag) = buf.split_at_mut(pt_len);
//!         pt.iter_mut().for_each(|b| *b ^= key[0]);
//!         tag[..16].fill(0);
//!     }
//!     fn open(&self, key: &[u8; KEY_LEN], _n: u64, _aad: &[u8], buf: &mut [u8]) -> bool {
//!         let (ct, tag) = buf.split_at_mut(buf.len() - 16);
//!         ct.iter_mut().for_each(|b| *b ^= key[0]);
//!         tag.iter().all(|&b| b == 0)
//!     }
//! }
//!
//! let secret = [7u8; 32]; // Session::record_secret() on both sides
//! let client = RecordKeys::derive(&secret, Role::Client);
//! let server = RecordKeys::derive(&secret, Role::Server);
//! let mut sealer = Sealer::new(client.tx, SEQ_LIMIT);
//! let mut opener = Opener::new(server.rx, SEQ_LIMIT);
//!
//! let mut wire = [0u8; MAX_WIRE_LEN];
//! wire[HEADER_LEN..HEADER_LEN + 5].copy_from_slice(b"hello");
//! let n = sealer.seal(&Toy, RecordType::Data, &mut wire, 5).unwrap();
//!
//! // The receiver: append what arrived (here one byte at a time).
//! let mut buf = [0u8; MAX_WIRE_LEN];
//! for &byte in &wire[..n] {
//!     assert!(opener.want() >= 1);
//!     let at = opener.have();
//!     buf[at] = byte;
//!     opener.filled(&buf, 1).unwrap();
//! }
//! assert!(opener.ready());
//! let opened = opener.open(&Toy, &mut buf).unwrap();
//! assert_eq!(opened.kind, RecordType::Data);
//! assert_eq!(&buf[HEADER_LEN..HEADER_LEN + opened.len], b"hello");
//! ```

use hmac::digest::{Key, KeyInit};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::schedule::RECORD_SECRET_LEN;
use crate::Role;

/// Bytes of a record header: type, version, length (u16, big-endian).
pub const HEADER_LEN: usize = 4;
/// Bytes of the Poly1305 tag at the end of every record.
pub const TAG_LEN: usize = 16;
/// The largest record on the wire (header + ciphertext + tag): one
/// 16 KiB buffer holds any record.
pub const MAX_WIRE_LEN: usize = 16384;
/// The largest plaintext of one Data record:
/// `MAX_WIRE_LEN - HEADER_LEN - TAG_LEN` = 16364.
pub const MAX_PLAINTEXT: usize = MAX_WIRE_LEN - HEADER_LEN - TAG_LEN;
/// No record is sealed or opened with a sequence number at or above this
/// (2^62); the connection fails first ([`RecordError::Limit`]).
pub const SEQ_LIMIT: u64 = 1 << 62;
/// The version byte of every record header.
pub const VERSION: u8 = 1;
/// Bytes of a ChaCha20-Poly1305 key.
pub const KEY_LEN: usize = 32;
/// Bytes of a per-direction IV (XORed with the sequence number, read as a
/// little-endian u64).
pub const IV_LEN: usize = 8;

/// The smallest length field of a Data record: 1 byte of ciphertext + tag.
pub const DATA_LEN_MIN: u16 = 1 + TAG_LEN as u16;
/// The largest length field of a Data record: [`MAX_PLAINTEXT`] + tag =
/// 16380.
pub const DATA_LEN_MAX: u16 = (MAX_PLAINTEXT + TAG_LEN) as u16;
/// The only length field of a Close record: the tag of an empty plaintext.
pub const CLOSE_LEN: u16 = TAG_LEN as u16;

/// HKDF-Expand info of the client→server record key (PRK = record secret).
pub const LABEL_C2S_KEY: &[u8] = b"smkex v1 c2s record key";
/// HKDF-Expand info of the client→server IV (PRK = record secret).
pub const LABEL_C2S_IV: &[u8] = b"smkex v1 c2s record iv";
/// HKDF-Expand info of the server→client record key (PRK = record secret).
pub const LABEL_S2C_KEY: &[u8] = b"smkex v1 s2c record key";
/// HKDF-Expand info of the server→client IV (PRK = record secret).
pub const LABEL_S2C_IV: &[u8] = b"smkex v1 s2c record iv";

/// The two record types. The discriminant is the type byte on the wire
/// (disjoint from the handshake's types 1..=5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordType {
    /// Application data: 1..=[`MAX_PLAINTEXT`] bytes of plaintext.
    Data = 0x10,
    /// The authenticated end of the direction: an empty plaintext. Nothing
    /// may follow it.
    Close = 0x11,
}

impl RecordType {
    /// The type for its wire byte, or `None`.
    pub const fn from_u8(byte: u8) -> Option<RecordType> {
        match byte {
            0x10 => Some(RecordType::Data),
            0x11 => Some(RecordType::Close),
            _ => None,
        }
    }

    /// The legal range of the length field (ciphertext + tag) for this
    /// type: Data 17..=16380, Close exactly 16.
    pub const fn length_range(self) -> (u16, u16) {
        match self {
            RecordType::Data => (DATA_LEN_MIN, DATA_LEN_MAX),
            RecordType::Close => (CLOSE_LEN, CLOSE_LEN),
        }
    }

    /// The legal range of the plaintext length for this type: Data
    /// 1..=[`MAX_PLAINTEXT`], Close exactly 0.
    pub const fn plaintext_range(self) -> (usize, usize) {
        match self {
            RecordType::Data => (1, MAX_PLAINTEXT),
            RecordType::Close => (0, 0),
        }
    }
}

/// Why the record layer failed. The numbers share the uapi reason code
/// space with [`crate::FailureReason`] (1..=15): Documentation/protocol.md
/// §6.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordError {
    /// A record did not authenticate: a changed byte, or a record replayed,
    /// reordered, deleted, reflected or sealed with other keys (all change
    /// the nonce or the key). Reason 16 `RecordAuth`.
    Auth = 16,
    /// A header is malformed (unknown type, version ≠ 1, length out of
    /// range for the type), any byte follows a Close, or the caller broke
    /// the API's contract (e.g. more bytes than [`Opener::want`], a plaintext
    /// size out of range). Reason 17 `RecordMalformed`.
    Malformed = 17,
    /// The byte stream ended without a Close, or inside a record. Reason 18
    /// `RecordTruncated`.
    Truncated = 18,
    /// The next sequence number reached the limit ([`SEQ_LIMIT`] or a
    /// lower test limit). Reason 19 `RecordLimit`.
    Limit = 19,
}

impl RecordError {
    /// Every record error, in number order.
    pub const ALL: [RecordError; 4] = [
        RecordError::Auth,
        RecordError::Malformed,
        RecordError::Truncated,
        RecordError::Limit,
    ];

    /// The uapi reason code: 16, 17, 18, 19.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The error for a reason code, or `None`.
    pub const fn from_code(code: u8) -> Option<RecordError> {
        match code {
            16 => Some(RecordError::Auth),
            17 => Some(RecordError::Malformed),
            18 => Some(RecordError::Truncated),
            19 => Some(RecordError::Limit),
            _ => None,
        }
    }

    /// A short lower-case name (for logs), in the style of
    /// [`crate::FailureReason::name`].
    pub const fn name(self) -> &'static str {
        match self {
            RecordError::Auth => "record-auth",
            RecordError::Malformed => "record-malformed",
            RecordError::Truncated => "record-truncated",
            RecordError::Limit => "record-limit",
        }
    }
}

/// A record header: its type and its length field (ciphertext + tag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The record type.
    pub kind: RecordType,
    /// The length field: bytes of ciphertext and tag after the header.
    pub len: u16,
}

impl Header {
    /// The 4 header bytes (also the record's AAD).
    pub const fn encode(self) -> [u8; HEADER_LEN] {
        let len = self.len.to_be_bytes();
        [self.kind as u8, VERSION, len[0], len[1]]
    }

    /// Bytes of the whole record on the wire (header + length field).
    pub const fn wire_len(self) -> usize {
        HEADER_LEN + self.len as usize
    }

    /// Parses 4 header bytes strictly: an unknown type, a version ≠ 1 or a
    /// length out of range for the type is [`RecordError::Malformed`].
    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Result<Header, RecordError> {
        match Header::check_prefix(bytes)? {
            Some(header) => Ok(header),
            None => Err(RecordError::Malformed),
        }
    }

    /// Checks the first bytes of a header as far as they go, deciding at
    /// the earliest byte that can decide (as the handshake's parser does):
    /// byte 0 must be a known type, byte 1 the version, byte 2 a high
    /// length byte some legal length of the type has, bytes 2..4 a legal
    /// length. `Ok(None)` while fewer than 4 bytes are given and nothing is
    /// wrong yet; `Ok(Some(header))` once 4 are (bytes beyond the fourth are
    /// not looked at).
    pub fn check_prefix(prefix: &[u8]) -> Result<Option<Header>, RecordError> {
        let Some(&type_byte) = prefix.first() else {
            return Ok(None);
        };
        let kind = RecordType::from_u8(type_byte).ok_or(RecordError::Malformed)?;
        let Some(&version) = prefix.get(1) else {
            return Ok(None);
        };
        if version != VERSION {
            return Err(RecordError::Malformed);
        }
        let (min, max) = kind.length_range();
        let Some(&high) = prefix.get(2) else {
            return Ok(None);
        };
        // Some length high‖x with x in 0..=255 must lie in min..=max.
        let lowest = u16::from_be_bytes([high, 0x00]);
        let highest = u16::from_be_bytes([high, 0xff]);
        if lowest > max || highest < min {
            return Err(RecordError::Malformed);
        }
        let Some(&low) = prefix.get(3) else {
            return Ok(None);
        };
        let len = u16::from_be_bytes([high, low]);
        if len < min || len > max {
            return Err(RecordError::Malformed);
        }
        Ok(Some(Header { kind, len }))
    }
}

/// Which way a record travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Client → server (`c2s` labels).
    ClientToServer,
    /// Server → client (`s2c` labels).
    ServerToClient,
}

impl Direction {
    /// The direction of the records `role` sends.
    pub const fn sent_by(role: Role) -> Direction {
        match role {
            Role::Client => Direction::ClientToServer,
            Role::Server => Direction::ServerToClient,
        }
    }

    /// The HKDF-Expand info of this direction's key and of its IV.
    pub const fn labels(self) -> (&'static [u8], &'static [u8]) {
        match self {
            Direction::ClientToServer => (LABEL_C2S_KEY, LABEL_C2S_IV),
            Direction::ServerToClient => (LABEL_S2C_KEY, LABEL_S2C_IV),
        }
    }
}

/// HKDF-Expand(PRK = `prk`, info = `info`, L = `out.len()`) for
/// L ≤ 32 (RFC 5869 §2.3): the first L bytes of T(1) =
/// HMAC-SHA256(PRK, info ‖ 0x01).
///
/// HMAC is keyed with the 32-byte PRK zero-padded to SHA-256's 64-byte
/// block, which is exactly how HMAC treats a shorter key (RFC 2104 §2);
/// this way the derivation has no error path (the `hkdf` crate's
/// `from_prk`/`expand` return errors that cannot happen here but would have
/// to be handled). Checked against the `hkdf` crate and Python in the tests.
fn expand_short(prk: &[u8; RECORD_SECRET_LEN], info: &[u8], out: &mut [u8]) {
    let mut key = Key::<Hmac<Sha256>>::default();
    for (dst, src) in key.iter_mut().zip(prk.iter()) {
        *dst = *src;
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&key);
    key.as_mut_slice().zeroize();
    mac.update(info);
    mac.update(&[1]);
    let mut block: [u8; 32] = mac.finalize().into_bytes().into();
    for (dst, src) in out.iter_mut().zip(block.iter()) {
        *dst = *src;
    }
    block.zeroize();
}

/// The key and IV of one direction. Zeroized on drop; deliberately not
/// `Clone`: each direction's keys belong to exactly one [`Sealer`] and one
/// [`Opener`] (two sealers with the same keys would reuse nonces).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DirKeys {
    key: [u8; KEY_LEN],
    iv: [u8; IV_LEN],
}

impl core::fmt::Debug for DirKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // No secrets in debug output.
        f.debug_struct("DirKeys").finish_non_exhaustive()
    }
}

impl DirKeys {
    /// Keys from their parts (the kernel's self-test, tests).
    pub fn from_parts(key: [u8; KEY_LEN], iv: [u8; IV_LEN]) -> Self {
        DirKeys { key, iv }
    }

    /// One direction's keys from the record secret:
    /// key = HKDF-Expand(record_secret, "smkex v1 c2s record key", 32),
    /// iv = HKDF-Expand(record_secret, "smkex v1 c2s record iv", 8), and
    /// the same with "s2c".
    pub fn derive(record_secret: &[u8; RECORD_SECRET_LEN], direction: Direction) -> Self {
        let (key_label, iv_label) = direction.labels();
        let mut keys = DirKeys {
            key: [0; KEY_LEN],
            iv: [0; IV_LEN],
        };
        expand_short(record_secret, key_label, &mut keys.key);
        expand_short(record_secret, iv_label, &mut keys.iv);
        keys
    }

    /// The 64-bit nonce of record `seq`: `u64::from_le_bytes(iv) ^ seq`.
    /// The RFC 8439 96-bit nonce is `00 00 00 00 ‖ LE64(nonce)` (the Linux
    /// `lib/crypto` convention; see [`Aead`]).
    pub fn nonce(&self, seq: u64) -> u64 {
        u64::from_le_bytes(self.iv) ^ seq
    }

    /// The ChaCha20-Poly1305 key.
    pub fn key(&self) -> &[u8; KEY_LEN] {
        &self.key
    }

    /// The IV (for vectors and self-tests).
    pub fn iv(&self) -> &[u8; IV_LEN] {
        &self.iv
    }
}

/// Both directions' keys as one side uses them.
#[derive(Debug)]
pub struct RecordKeys {
    /// Keys of the records this side sends.
    pub tx: DirKeys,
    /// Keys of the records this side receives.
    pub rx: DirKeys,
}

impl RecordKeys {
    /// The keys of `role` from the record secret: the client sends with
    /// c2s and receives with s2c, the server the other way round.
    pub fn derive(record_secret: &[u8; RECORD_SECRET_LEN], role: Role) -> RecordKeys {
        RecordKeys {
            tx: DirKeys::derive(record_secret, Direction::sent_by(role)),
            rx: DirKeys::derive(record_secret, Direction::sent_by(role.peer())),
        }
    }
}

/// The AEAD primitive, supplied by the user of the crate (kernel
/// `lib/crypto` in the module, RustCrypto in tests): ChaCha20-Poly1305 of
/// RFC 8439.
///
/// `nonce` is the 64-bit value of [`DirKeys::nonce`]; the 96-bit RFC 8439
/// nonce is `00 00 00 00 ‖ LE64(nonce)` (the Linux `lib/crypto`
/// convention: `chacha20poly1305_encrypt(..., u64 nonce, key)`).
pub trait Aead {
    /// Encrypt `buf[..pt_len]` in place and write the 16-byte tag at
    /// `buf[pt_len..pt_len + 16]`. `buf.len() >= pt_len + 16` is
    /// guaranteed by the caller ([`Sealer`] passes exactly
    /// `pt_len + 16` bytes).
    fn seal(&self, key: &[u8; KEY_LEN], nonce: u64, aad: &[u8], buf: &mut [u8], pt_len: usize);

    /// `buf` = ciphertext ‖ tag (at least 16 bytes when called by
    /// [`Opener`]); on success decrypt in place (plaintext at
    /// `buf[..len - 16]`) and return true; on failure return false. It
    /// should verify the tag before decrypting (the [`Opener`] wipes the
    /// buffer after a failure either way).
    fn open(&self, key: &[u8; KEY_LEN], nonce: u64, aad: &[u8], buf: &mut [u8]) -> bool;
}

/// Seals one direction's records: sequence numbers, the limit, the header
/// and the in-place AEAD call. Not `Clone` (a copy would reuse nonces).
#[derive(Debug)]
pub struct Sealer {
    keys: DirKeys,
    seq: u64,
    limit: u64,
}

impl Sealer {
    /// A sealer whose first record gets seq 0. `limit` (clamped to at most
    /// [`SEQ_LIMIT`]) is the first seq that may not be sealed.
    pub fn new(keys: DirKeys, limit: u64) -> Sealer {
        Sealer::with_seq(keys, limit, 0)
    }

    /// As [`Sealer::new`], but the next record gets `seq` (for tests of
    /// the limit arithmetic near [`SEQ_LIMIT`]).
    pub fn with_seq(keys: DirKeys, limit: u64, seq: u64) -> Sealer {
        Sealer {
            keys,
            seq,
            limit: if limit < SEQ_LIMIT { limit } else { SEQ_LIMIT },
        }
    }

    /// `buf[HEADER_LEN..HEADER_LEN + pt_len]` holds the plaintext. Writes
    /// the header, the ciphertext and the tag in place and returns the wire
    /// length (`pt_len + 20`): the record is `buf[..wire length]`.
    ///
    /// Data takes 1..=[`MAX_PLAINTEXT`] bytes, Close exactly 0. A wrong size
    /// or a `buf` shorter than the record is [`RecordError::Malformed`]
    /// without consuming a seq; a seq at or above the limit is
    /// [`RecordError::Limit`], before anything is sealed (and again on every
    /// later call). The seq advances by one per sealed record.
    pub fn seal<A: Aead>(
        &mut self,
        aead: &A,
        kind: RecordType,
        buf: &mut [u8],
        pt_len: usize,
    ) -> Result<usize, RecordError> {
        let (min, max) = kind.plaintext_range();
        if pt_len < min || pt_len > max {
            return Err(RecordError::Malformed);
        }
        // pt_len ≤ MAX_PLAINTEXT: neither sum can overflow.
        let len = u16::try_from(pt_len + TAG_LEN).map_err(|_| RecordError::Malformed)?;
        let header = Header { kind, len };
        let wire_len = header.wire_len();
        let record = buf.get_mut(..wire_len).ok_or(RecordError::Malformed)?;
        if self.seq >= self.limit {
            return Err(RecordError::Limit);
        }
        let (head, body) = record
            .split_at_mut_checked(HEADER_LEN)
            .ok_or(RecordError::Malformed)?;
        head.copy_from_slice(&header.encode());
        aead.seal(
            &self.keys.key,
            self.keys.nonce(self.seq),
            head,
            body,
            pt_len,
        );
        // seq < limit ≤ 2^62.
        self.seq = self.seq.saturating_add(1);
        Ok(wire_len)
    }

    /// The seq the next record gets (= records sealed, from 0).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The first seq that may not be sealed.
    pub fn limit(&self) -> u64 {
        self.limit
    }
}

/// An opened record: `kind`, and `len` bytes of plaintext at
/// `buf[HEADER_LEN..HEADER_LEN + len]` (0 for a Close).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The record type.
    pub kind: RecordType,
    /// Bytes of plaintext.
    pub len: usize,
}

/// Streaming reader of one direction's records over a caller-owned buffer
/// of [`MAX_WIRE_LEN`] bytes. The caller appends bytes at
/// `buf[have()..have() + n]` with `n <= want()`, calls
/// [`Opener::filled`], and calls [`Opener::open`] when [`Opener::ready`].
/// After an open, the plaintext stays in `buf` until the caller appends the
/// next record's bytes (which start again at `buf[0]`).
///
/// Errors are sticky: once a call returned an error, every later call
/// returns the same one (and `want()` is 0).
#[derive(Debug)]
pub struct Opener {
    keys: DirKeys,
    seq: u64,
    limit: u64,
    /// Bytes of the current record in the buffer.
    have: usize,
    /// The current record's header, once its 4 bytes are in.
    header: Option<Header>,
    /// A Close was opened.
    closed: bool,
    /// The sticky error.
    error: Option<RecordError>,
}

impl Opener {
    /// An opener expecting seq 0 first. `limit` (clamped to at most
    /// [`SEQ_LIMIT`]) is the first seq that may not be opened.
    pub fn new(keys: DirKeys, limit: u64) -> Opener {
        Opener::with_seq(keys, limit, 0)
    }

    /// As [`Opener::new`], but the next record must have been sealed with
    /// `seq` (for tests of the limit arithmetic near [`SEQ_LIMIT`]).
    pub fn with_seq(keys: DirKeys, limit: u64, seq: u64) -> Opener {
        Opener {
            keys,
            seq,
            limit: if limit < SEQ_LIMIT { limit } else { SEQ_LIMIT },
            have: 0,
            header: None,
            closed: false,
            error: None,
        }
    }

    fn fail<T>(&mut self, error: RecordError) -> Result<T, RecordError> {
        self.error = Some(error);
        Err(error)
    }

    /// Bytes of the current record already in the buffer.
    pub fn have(&self) -> usize {
        self.have
    }

    /// Bytes still needed for the next step: the rest of the header
    /// (`4 - have`) or the rest of the record. 0 when [`Opener::ready`],
    /// after a Close, or after an error.
    pub fn want(&self) -> usize {
        if self.error.is_some() || self.closed {
            return 0;
        }
        match self.header {
            None => HEADER_LEN.saturating_sub(self.have),
            Some(header) => header.wire_len().saturating_sub(self.have),
        }
    }

    /// The caller put `n` more bytes at `buf[have..have + n]`. Checks the
    /// header strictly, each byte as soon as it is there (unknown type,
    /// version ≠ 1, Data length not in 17..=16380, Close length ≠ 16 →
    /// [`RecordError::Malformed`]). Any byte after an opened Close, `n >
    /// want()`, or a `buf` shorter than `have + n` is also `Malformed`.
    /// `n` = 0 changes nothing.
    pub fn filled(&mut self, buf: &[u8], n: usize) -> Result<(), RecordError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if n == 0 {
            return Ok(());
        }
        if self.closed || n > self.want() {
            return self.fail(RecordError::Malformed);
        }
        // n ≤ want() ≤ MAX_WIRE_LEN - have: no overflow.
        let end = self.have.saturating_add(n);
        if buf.len() < end {
            return self.fail(RecordError::Malformed);
        }
        self.have = end;
        if self.header.is_none() {
            // Here end ≤ HEADER_LEN.
            let Some(prefix) = buf.get(..end) else {
                return self.fail(RecordError::Malformed);
            };
            match Header::check_prefix(prefix) {
                Ok(header) => self.header = header,
                Err(error) => return self.fail(error),
            }
        }
        Ok(())
    }

    /// A whole record is in the buffer and can be opened.
    pub fn ready(&self) -> bool {
        match self.header {
            Some(header) => self.error.is_none() && !self.closed && self.have == header.wire_len(),
            None => false,
        }
    }

    /// Authenticates and decrypts the whole record in `buf` in place (AAD =
    /// the 4 header bytes, nonce from the seq). A seq at or above the limit
    /// is [`RecordError::Limit`] (checked before opening); a record that
    /// does not authenticate is [`RecordError::Auth`] (and its bytes in
    /// `buf` are wiped); a call when not [`Opener::ready`] or with a `buf`
    /// shorter than the record is [`RecordError::Malformed`]. On success the
    /// next record starts again at `buf[0]` (`have()` = 0), the seq advances,
    /// and after a Close the opener is closed.
    pub fn open<A: Aead>(&mut self, aead: &A, buf: &mut [u8]) -> Result<Opened, RecordError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let header = match self.header {
            Some(header) if self.ready() => header,
            _ => return self.fail(RecordError::Malformed),
        };
        if self.seq >= self.limit {
            return self.fail(RecordError::Limit);
        }
        let Some(record) = buf.get_mut(..header.wire_len()) else {
            return self.fail(RecordError::Malformed);
        };
        let Some((_, body)) = record.split_at_mut_checked(HEADER_LEN) else {
            return self.fail(RecordError::Malformed);
        };
        // The header bytes were checked to be exactly this encoding.
        let aad = header.encode();
        if !aead.open(&self.keys.key, self.keys.nonce(self.seq), &aad, body) {
            body.zeroize();
            return self.fail(RecordError::Auth);
        }
        // seq < limit ≤ 2^62.
        self.seq = self.seq.saturating_add(1);
        self.have = 0;
        self.header = None;
        if header.kind == RecordType::Close {
            self.closed = true;
        }
        Ok(Opened {
            kind: header.kind,
            len: usize::from(header.len).saturating_sub(TAG_LEN),
        })
    }

    /// The byte stream ended here: `Ok` only if a Close was opened (then
    /// nothing can be buffered after it); otherwise
    /// [`RecordError::Truncated`] (inside a record, or at a record boundary
    /// without a Close; open a [`Opener::ready`] record first). After an
    /// error, that error.
    pub fn end_of_stream(&self) -> Result<(), RecordError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.closed && self.have == 0 {
            Ok(())
        } else {
            Err(RecordError::Truncated)
        }
    }

    /// A Close was opened: the direction has ended cleanly (the stream must
    /// end here).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The sticky error, if any.
    pub fn error(&self) -> Option<RecordError> {
        self.error
    }

    /// The seq the next record must have (= records opened, from 0).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The first seq that may not be opened.
    pub fn limit(&self) -> u64 {
        self.limit
    }
}
