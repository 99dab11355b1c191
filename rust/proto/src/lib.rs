//! SMKEX v1 protocol core: records, state machine, key schedule and crypto.
//!
//! `no_std`, no allocator, no I/O: the same code runs in the host tests and
//! in the kernel module. The specification is Documentation/protocol.md;
//! its test vectors are checked by this crate's tests.
//!
//! Use: create a [`Session`] from a [`Role`] and 64 random bytes, report
//! events ([`Session::channel_up`], [`Session::receive`],
//! [`Session::timer_expired`], [`Session::peer_closed`]) and after each one
//! drain [`Session::poll`] until it returns [`Action::Idle`].
//!
//! After completion, [`records`] is the AEAD record layer keyed by
//! [`Session::record_secret`] (protocol.md §10); the AEAD primitive itself
//! is supplied by the caller through [`records::Aead`].
//!
//! ```
//! use smkex_proto::{Action, Channel, Role, Session, Status, MAX_RECORD_LEN};
//!
//! // The caller supplies fresh random bytes (the kernel: get_random_bytes).
//! let mut client = Session::new(Role::Client, &[1; 64]);
//! let mut server = Session::new(Role::Server, &[2; 64]);
//! let mut buf = [0u8; MAX_RECORD_LEN];
//! client.channel_up(Channel::One);
//! client.channel_up(Channel::Two);
//! // Drains one side's actions, delivering each record to the peer on the
//! // same channel.
//! fn shuttle(from: &mut Session, to: &mut Session, buf: &mut [u8; MAX_RECORD_LEN]) {
//!     loop {
//!         match from.poll(buf) {
//!             Action::Idle => return,
//!             Action::Send { channel, len } => {
//!                 to.receive(channel, &buf[..len]);
//!             }
//!             Action::ArmTimer { .. } | Action::Complete => {}
//!             Action::Fail(reason) => panic!("failed: {}", reason.name()),
//!         }
//!     }
//! }
//! shuttle(&mut client, &mut server, &mut buf); // X on 1, N_C on 2
//! shuttle(&mut server, &mut client, &mut buf); // Y on 1, N_S ‖ h on 2
//! shuttle(&mut client, &mut server, &mut buf); // Finished on 1
//! assert_eq!(client.status(), Status::Complete);
//! assert_eq!(server.status(), Status::Complete);
//! assert_eq!(client.session_key(), server.session_key());
//! ```
#![no_std]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod record;
pub mod records;
pub mod schedule;
pub mod selftest;
mod session;

pub use record::{
    expected_receive_bytes, expected_send_bytes, RecordType, CLIENT_TO_SERVER_CH1_BYTES,
    CLIENT_TO_SERVER_CH2_BYTES, MAX_RECORD_LEN, SERVER_TO_CLIENT_CH1_BYTES,
    SERVER_TO_CLIENT_CH2_BYTES,
};
pub use schedule::{ExportError, MAX_EXPORT_LEN, RECORD_SECRET_LEN};
pub use session::{Action, Session, Status, DEFAULT_TIMEOUT_MS, RANDOM_LEN};

/// Which side of the connection a session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Role {
    /// The side that called `connect()`; sends X, N_C and the Finished.
    Client = 1,
    /// The accepting side; sends Y, N_S and h.
    Server = 2,
}

impl Role {
    /// The other role.
    pub const fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }

    /// The role for its number (1 client, 2 server), or `None`.
    pub const fn from_u8(value: u8) -> Option<Role> {
        match value {
            1 => Some(Role::Client),
            2 => Some(Role::Server),
            _ => None,
        }
    }
}

/// The two channels: 1 = the initial (primary) MPTCP subflow, 2 = the first
/// subflow that joins (secondary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Channel {
    /// Channel 1: the primary subflow. Carries X, Y and the Finished.
    One = 1,
    /// Channel 2: the secondary subflow. Carries N_C and N_S ‖ h.
    Two = 2,
}

impl Channel {
    /// The channel for its number (1 or 2), or `None`.
    pub const fn from_u8(value: u8) -> Option<Channel> {
        match value {
            1 => Some(Channel::One),
            2 => Some(Channel::Two),
            _ => None,
        }
    }

    /// The other channel.
    pub const fn other(self) -> Channel {
        match self {
            Channel::One => Channel::Two,
            Channel::Two => Channel::One,
        }
    }
}

/// Why a handshake failed. A closed set; the numbers are stable and become
/// the uapi reason codes (Documentation/protocol.md §6). 0 is never used
/// (it means "no failure" in the uapi).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FailureReason {
    /// The client's recomputed binding hash differs from the h the server
    /// sent: a record on one path was changed (an active attack).
    BindingHashMismatch = 1,
    /// A record header is malformed: unknown type, wrong version or wrong
    /// length for its type.
    MalformedRecord = 2,
    /// A known record type this side may receive arrived on the other
    /// channel than the one it is pinned to.
    WrongChannel = 3,
    /// A record type this side never receives (one it sends itself).
    UnexpectedRecord = 4,
    /// A record this side will receive, but not yet (e.g. the Finished
    /// before the server answered, a server record before the client sent
    /// both of its records).
    OutOfOrderRecord = 5,
    /// A second copy of a record already received, or any data after the
    /// last record a channel carries.
    DuplicateRecord = 6,
    /// The shared secret Z is all zero: the peer sent a low-order key share.
    LowOrderKey = 7,
    /// The server received a Finished that does not verify.
    BadFinished = 8,
    /// The handshake timer expired before completion.
    Timeout = 9,
    /// The peer closed or reset the connection before completion.
    PeerClosed = 10,
    /// The transport saw handshake bytes where they do not belong: on a
    /// subflow other than the record's channel, or more bytes on a subflow
    /// than its records (MPTCP channel integrity, DESIGN.md §2). Detected by
    /// the caller and reported through [`crate::Session::abort`].
    ChannelIntegrity = 11,
    /// A local failure of the caller (e.g. a send error, no memory),
    /// reported through [`crate::Session::abort`].
    LocalError = 12,
    /// An internal invariant failed (unreachable; fail closed).
    Internal = 13,
    /// No subflow that the local channel-2 policy accepts as an independent
    /// path came up before the deadline, or the peer forbade joins to its
    /// only trusted address (MPTCP's C flag). Reported by the caller through
    /// [`crate::Session::abort`]; distinct from [`FailureReason::Timeout`].
    NoIndependentPath = 14,
    /// The subflow of a channel closed or was reset while records on that
    /// channel were still expected. Reported through
    /// [`crate::Session::abort`].
    ChannelClosed = 15,
}

impl FailureReason {
    /// Every reason, in number order.
    pub const ALL: [FailureReason; 15] = [
        FailureReason::BindingHashMismatch,
        FailureReason::MalformedRecord,
        FailureReason::WrongChannel,
        FailureReason::UnexpectedRecord,
        FailureReason::OutOfOrderRecord,
        FailureReason::DuplicateRecord,
        FailureReason::LowOrderKey,
        FailureReason::BadFinished,
        FailureReason::Timeout,
        FailureReason::PeerClosed,
        FailureReason::ChannelIntegrity,
        FailureReason::LocalError,
        FailureReason::Internal,
        FailureReason::NoIndependentPath,
        FailureReason::ChannelClosed,
    ];

    /// The reason's stable number.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The reason for a number, or `None`.
    pub const fn from_code(code: u8) -> Option<FailureReason> {
        match code {
            1 => Some(FailureReason::BindingHashMismatch),
            2 => Some(FailureReason::MalformedRecord),
            3 => Some(FailureReason::WrongChannel),
            4 => Some(FailureReason::UnexpectedRecord),
            5 => Some(FailureReason::OutOfOrderRecord),
            6 => Some(FailureReason::DuplicateRecord),
            7 => Some(FailureReason::LowOrderKey),
            8 => Some(FailureReason::BadFinished),
            9 => Some(FailureReason::Timeout),
            10 => Some(FailureReason::PeerClosed),
            11 => Some(FailureReason::ChannelIntegrity),
            12 => Some(FailureReason::LocalError),
            13 => Some(FailureReason::Internal),
            14 => Some(FailureReason::NoIndependentPath),
            15 => Some(FailureReason::ChannelClosed),
            _ => None,
        }
    }

    /// A short lower-case name (for logs).
    pub const fn name(self) -> &'static str {
        match self {
            FailureReason::BindingHashMismatch => "binding-hash-mismatch",
            FailureReason::MalformedRecord => "malformed-record",
            FailureReason::WrongChannel => "wrong-channel",
            FailureReason::UnexpectedRecord => "unexpected-record",
            FailureReason::OutOfOrderRecord => "out-of-order-record",
            FailureReason::DuplicateRecord => "duplicate-record",
            FailureReason::LowOrderKey => "low-order-key",
            FailureReason::BadFinished => "bad-finished",
            FailureReason::Timeout => "timeout",
            FailureReason::PeerClosed => "peer-closed",
            FailureReason::ChannelIntegrity => "channel-integrity",
            FailureReason::LocalError => "local-error",
            FailureReason::Internal => "internal",
            FailureReason::NoIndependentPath => "no-independent-path",
            FailureReason::ChannelClosed => "channel-closed",
        }
    }
}
