//! The smkex user API: the constants and structures of
//! `include/uapi/linux/smkex.h`, for Rust programs. The tests check every
//! value and layout against the C header, so the two cannot drift.
#![no_std]

/// Socket level of the SMKEX options ("SK").
pub const SOL_SMKEX: i32 = 0x534b;

/// `int` 0/1, set and get; before `connect()`/`listen()`.
pub const SMKEX_ENABLE: i32 = 1;
/// `int` milliseconds, set and get.
pub const SMKEX_TIMEOUT_MS: i32 = 2;
/// get: [`SmkexInfo`].
pub const SMKEX_INFO: i32 = 3;
/// get: [`SMKEX_KEY_LEN`] bytes, once complete.
pub const SMKEX_SESSION_KEY: i32 = 4;
/// get: [`SmkexExport`] in and out, once complete.
pub const SMKEX_EXPORT: i32 = 5;
/// set and get: up to [`SMKEX_MAX_PEER_ADDRS`] [`SmkexPeerAddr`]s, before `connect()`.
pub const SMKEX_PEER_ADDRS: i32 = 6;
/// `int` 0/1, set and get; before `connect()`/`listen()`: the module
/// encrypts the application's data in records after the handshake.
pub const SMKEX_RECORDS: i32 = 7;
/// get: the record layer's secret ([`SMKEX_KEY_LEN`] bytes), once complete.
pub const SMKEX_RECORD_SECRET: i32 = 8;
/// Most addresses `SMKEX_PEER_ADDRS` takes.
pub const SMKEX_MAX_PEER_ADDRS: usize = 8;

pub const SMKEX_TIMEOUT_MIN_MS: i32 = 100;
pub const SMKEX_TIMEOUT_MAX_MS: i32 = 600_000;
pub const SMKEX_KEY_LEN: usize = 32;
pub const SMKEX_HASH_LEN: usize = 32;
pub const SMKEX_PROTOCOL_VERSION: u8 = 1;

/// `SmkexInfo::state`.
pub mod state {
    pub const OFF: u8 = 0;
    pub const ENABLED: u8 = 1;
    pub const HANDSHAKE: u8 = 2;
    pub const COMPLETE: u8 = 3;
    pub const FAILED: u8 = 4;
}

/// `SmkexInfo::role`.
pub mod role {
    pub const NONE: u8 = 0;
    pub const CLIENT: u8 = 1;
    pub const SERVER: u8 = 2;
    pub const LISTENER: u8 = 3;
}

/// `SmkexInfo::reason`: the protocol core's failure codes.
pub mod reason {
    pub const NONE: u8 = 0;
    pub const BINDING_HASH_MISMATCH: u8 = 1;
    pub const MALFORMED_RECORD: u8 = 2;
    pub const WRONG_CHANNEL: u8 = 3;
    pub const UNEXPECTED_RECORD: u8 = 4;
    pub const OUT_OF_ORDER_RECORD: u8 = 5;
    pub const DUPLICATE_RECORD: u8 = 6;
    pub const LOW_ORDER_KEY: u8 = 7;
    pub const BAD_FINISHED: u8 = 8;
    pub const TIMEOUT: u8 = 9;
    pub const PEER_CLOSED: u8 = 10;
    pub const CHANNEL_INTEGRITY: u8 = 11;
    pub const LOCAL_ERROR: u8 = 12;
    pub const INTERNAL: u8 = 13;
    pub const NO_INDEPENDENT_PATH: u8 = 14;
    pub const CHANNEL_CLOSED: u8 = 15;
    pub const RECORD_AUTH: u8 = 16;
    pub const RECORD_MALFORMED: u8 = 17;
    pub const RECORD_TRUNCATED: u8 = 18;
    pub const RECORD_LIMIT: u8 = 19;
}

/// One channel's subflow; addresses and ports in network byte order.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SmkexChannelInfo {
    pub family: u16,
    pub local_port: u16,
    pub remote_port: u16,
    pub reserved: u16,
    pub local_addr: [u8; 16],
    pub remote_addr: [u8; 16],
}

/// `SMKEX_INFO`; versioned by size (see Documentation/api.md).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SmkexInfo {
    pub state: u8,
    pub role: u8,
    pub version: u8,
    pub reason: u8,
    pub timeout_ms: u32,
    pub duration_us: u64,
    pub channel: [SmkexChannelInfo; 2],
    pub transcript_hash: [u8; SMKEX_HASH_LEN],
    /// Appended after version 1: microseconds from the handshake's start
    /// until each channel became usable, 0 until then.
    pub channel_up_us: [u64; 2],
    /// `SMKEX_RECORDS` in force.
    pub records: u8,
    pub reserved2: [u8; 7],
    /// Records sealed and handed to MPTCP, Close included.
    pub records_sent: u64,
    /// Records authenticated, Close included.
    pub records_received: u64,
}

/// Size of the first version of [`SmkexInfo`]: fixed, since the struct
/// only grows by appending fields.
pub const SMKEX_INFO_SIZE_V1: usize = 128;
const _: () = assert!(core::mem::size_of::<SmkexInfo>() >= SMKEX_INFO_SIZE_V1);

/// One trusted server address for `SMKEX_PEER_ADDRS`; port in network byte
/// order (0: the `connect()` port); IPv4 in the first 4 bytes of `addr`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SmkexPeerAddr {
    pub family: u16,
    pub port: u16,
    pub reserved: u32,
    pub addr: [u8; 16],
}

pub const SMKEX_EXPORT_MAX_LABEL: usize = 255;
pub const SMKEX_EXPORT_MAX_CONTEXT: usize = 255;
pub const SMKEX_EXPORT_MAX_OUT: usize = 255;

/// `SMKEX_EXPORT`: label and context in, `out_len` bytes out.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SmkexExport {
    pub label_len: u8,
    pub context_len: u8,
    pub out_len: u8,
    pub reserved: u8,
    pub label: [u8; SMKEX_EXPORT_MAX_LABEL],
    pub context: [u8; SMKEX_EXPORT_MAX_CONTEXT],
    pub out: [u8; SMKEX_EXPORT_MAX_OUT],
}
