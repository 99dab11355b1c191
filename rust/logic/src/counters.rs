//! The per-namespace counters of `/proc/net/smkex`: their order, their
//! user-visible names, and which counter an event moves.
//!
//! The counters are a flat array of [`COUNT`] slots: the [`Counter`]s in
//! declaration order, then one "failed for this reason" slot per
//! [`FailureReason`] in code order. The names are an interface (operators
//! and tests read them), so they are fixed here and tested one by one.

use crate::errno::Errno;
use smkex_proto::records::RecordError;
use smkex_proto::FailureReason;

/// The counters that are not per failure reason, in `/proc/net/smkex`
/// order; the discriminant is the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Counter {
    /// Sockets taken over by the module (first SMKEX option).
    SocketsAttached = 0,
    /// Option requests that failed with `EINVAL`.
    OptInvalid,
    /// Option requests that failed with `EFAULT`.
    OptFault,
    /// Option requests that failed with `ENOPROTOOPT`.
    OptUnknown,
    /// Option requests that failed with `EISCONN` (after connect/listen).
    OptTooLate,
    /// Key or export asked before completion (`ENOTCONN`, `ECONNABORTED`).
    KeyNotReady,
    /// Option requests that failed otherwise (`ENOMEM`, `EBUSY`, ...).
    OptOtherError,
    /// Handshakes started, both roles.
    HandshakesStarted,
    /// Handshakes completed.
    HandshakesCompleted,
    /// Handshakes failed, any reason.
    HandshakesFailed,
    /// Accepted connections refused because they fell back to TCP.
    AcceptRefusedTcpFallback,
    /// Handshakes that could not start (`ENOMEM`).
    HandshakeStartFailed,
    /// Accepted connections refused because their data moved untracked.
    AcceptRefusedUntracked,
    /// Handshakes the application ended by closing its socket, so that
    /// started = completed + failed + closed.
    HandshakesClosed,
    /// Records sealed and handed to MPTCP (Close included).
    RecordsSealed,
    /// Records authenticated (Close included).
    RecordsOpened,
    /// Connections failed by a record that did not authenticate.
    FailedRecordAuth,
    /// Connections failed by a malformed record or data after Close.
    FailedRecordMalformed,
    /// Connections failed by a stream that ended inside a record or
    /// without Close.
    FailedRecordTruncated,
    /// Connections failed because the sequence space ran out.
    FailedRecordLimit,
    /// Connections closed after completion before the peer acknowledged
    /// our last record: their records stayed pinned until MPTCP freed them.
    PinnedAtClose,
}

impl Counter {
    /// Every plain counter in slot order, so tables can be checked whole.
    pub const ALL: [Counter; 21] = [
        Counter::SocketsAttached,
        Counter::OptInvalid,
        Counter::OptFault,
        Counter::OptUnknown,
        Counter::OptTooLate,
        Counter::KeyNotReady,
        Counter::OptOtherError,
        Counter::HandshakesStarted,
        Counter::HandshakesCompleted,
        Counter::HandshakesFailed,
        Counter::AcceptRefusedTcpFallback,
        Counter::HandshakeStartFailed,
        Counter::AcceptRefusedUntracked,
        Counter::HandshakesClosed,
        Counter::RecordsSealed,
        Counter::RecordsOpened,
        Counter::FailedRecordAuth,
        Counter::FailedRecordMalformed,
        Counter::FailedRecordTruncated,
        Counter::FailedRecordLimit,
        Counter::PinnedAtClose,
    ];

    /// The counter's slot in the array.
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Slot of the first per-reason counter (reason code 1).
pub const FAILED_BASE: usize = Counter::ALL.len();

/// Number of slots: the plain counters and one per failure reason.
pub const COUNT: usize = FAILED_BASE + FailureReason::ALL.len();

/// The slot counting handshakes that failed for `reason`.
pub const fn failed(reason: FailureReason) -> usize {
    // Codes start at 1; saturating keeps a (never seen) 0 in range.
    FAILED_BASE + (reason.code() as usize).saturating_sub(1)
}

/// The user-visible names, slot by slot (one `Name value` line each).
const NAMES: [&str; COUNT] = [
    "SocketsAttached",
    "OptInvalid",
    "OptFault",
    "OptUnknown",
    "OptTooLate",
    "KeyNotReady",
    "OptOtherError",
    "HandshakesStarted",
    "HandshakesCompleted",
    "HandshakesFailed",
    "AcceptRefusedTcpFallback",
    "HandshakeStartFailed",
    "AcceptRefusedUntracked",
    "HandshakesClosed",
    "RecordsSealed",
    "RecordsOpened",
    "FailedRecordAuth",
    "FailedRecordMalformed",
    "FailedRecordTruncated",
    "FailedRecordLimit",
    "PinnedAtClose",
    // The protocol's reason names (Documentation/protocol.md §6).
    "FailedBindingHashMismatch",
    "FailedMalformedRecord",
    "FailedWrongChannel",
    "FailedUnexpectedRecord",
    "FailedOutOfOrderRecord",
    "FailedDuplicateRecord",
    "FailedLowOrderKey",
    "FailedBadFinished",
    "FailedTimeout",
    "FailedPeerClosed",
    "FailedChannelIntegrity",
    "FailedLocalError",
    "FailedInternal",
    "FailedNoIndependentPath",
    "FailedChannelClosed",
];

/// The name `/proc/net/smkex` shows for slot `index`, or `None` past the
/// last slot.
pub fn name(index: usize) -> Option<&'static str> {
    NAMES.get(index).copied()
}

/// The counter a record layer failure moves.
pub const fn record_failed(e: RecordError) -> Counter {
    match e {
        RecordError::Auth => Counter::FailedRecordAuth,
        RecordError::Malformed => Counter::FailedRecordMalformed,
        RecordError::Truncated => Counter::FailedRecordTruncated,
        RecordError::Limit => Counter::FailedRecordLimit,
    }
}

/// The counter a failed `SOL_SMKEX` request moves, by its errno. No
/// wildcard: a new errno must be given its counter here.
pub const fn option_error(e: Errno) -> Counter {
    match e {
        Errno::Inval => Counter::OptInvalid,
        Errno::Fault => Counter::OptFault,
        Errno::NoProtoOpt => Counter::OptUnknown,
        Errno::IsConn => Counter::OptTooLate,
        Errno::NotConn | Errno::ConnAborted => Counter::KeyNotReady,
        Errno::NoMem
        | Errno::OpNotSupp
        | Errno::Busy
        | Errno::Again
        | Errno::KeyRejected
        | Errno::TimedOut
        | Errno::NetUnreach
        | Errno::ConnReset
        | Errno::Proto
        | Errno::BadMsg
        | Errno::KeyExpired => Counter::OptOtherError,
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::string::String;

    #[test]
    fn slots_and_names() {
        let expected = [
            (Counter::SocketsAttached, "SocketsAttached"),
            (Counter::OptInvalid, "OptInvalid"),
            (Counter::OptFault, "OptFault"),
            (Counter::OptUnknown, "OptUnknown"),
            (Counter::OptTooLate, "OptTooLate"),
            (Counter::KeyNotReady, "KeyNotReady"),
            (Counter::OptOtherError, "OptOtherError"),
            (Counter::HandshakesStarted, "HandshakesStarted"),
            (Counter::HandshakesCompleted, "HandshakesCompleted"),
            (Counter::HandshakesFailed, "HandshakesFailed"),
            (
                Counter::AcceptRefusedTcpFallback,
                "AcceptRefusedTcpFallback",
            ),
            (Counter::HandshakeStartFailed, "HandshakeStartFailed"),
            (Counter::AcceptRefusedUntracked, "AcceptRefusedUntracked"),
            (Counter::HandshakesClosed, "HandshakesClosed"),
            (Counter::RecordsSealed, "RecordsSealed"),
            (Counter::RecordsOpened, "RecordsOpened"),
            (Counter::FailedRecordAuth, "FailedRecordAuth"),
            (Counter::FailedRecordMalformed, "FailedRecordMalformed"),
            (Counter::FailedRecordTruncated, "FailedRecordTruncated"),
            (Counter::FailedRecordLimit, "FailedRecordLimit"),
            (Counter::PinnedAtClose, "PinnedAtClose"),
        ];
        for (slot, (counter, n)) in expected.iter().enumerate() {
            assert_eq!(counter.index(), slot);
            assert_eq!(Counter::ALL[slot], *counter);
            assert_eq!(name(slot), Some(*n));
        }
        assert_eq!(FAILED_BASE, 21);
        assert_eq!(COUNT, 36);
        assert_eq!(name(COUNT - 1), Some("FailedChannelClosed"));
        assert_eq!(name(COUNT), None);
        assert_eq!(name(usize::MAX), None);
    }

    #[test]
    fn reason_slots() {
        assert_eq!(failed(FailureReason::BindingHashMismatch), 21);
        assert_eq!(failed(FailureReason::Timeout), 29);
        assert_eq!(failed(FailureReason::ChannelClosed), 35);
        for (i, r) in FailureReason::ALL.iter().enumerate() {
            assert_eq!(failed(*r), FAILED_BASE + i);
        }
    }

    /// "binding-hash-mismatch" -> "BindingHashMismatch".
    fn camel(kebab: &str) -> String {
        let mut out = String::new();
        for word in kebab.split('-') {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.push(first.to_ascii_uppercase());
                out.extend(chars);
            }
        }
        out
    }

    #[test]
    fn every_reason_has_its_failed_name() {
        for r in FailureReason::ALL {
            let got = name(failed(r)).expect("named");
            // Both spellings the core offers: its Debug name and its log name.
            assert_eq!(got, format!("Failed{r:?}"));
            assert_eq!(got, format!("Failed{}", camel(r.name())));
        }
    }

    #[test]
    fn names_are_unique_and_plain() {
        for i in 0..COUNT {
            let a = name(i).unwrap();
            assert!(
                !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric()),
                "{a}"
            );
            for j in i + 1..COUNT {
                assert_ne!(Some(a), name(j), "slots {i} and {j}");
            }
        }
    }

    #[test]
    fn documented_in_api_md() {
        let doc = include_str!("../../../Documentation/api.md");
        for c in Counter::ALL {
            let quoted = format!("| `{}` |", name(c.index()).unwrap());
            assert!(doc.contains(&quoted), "{quoted} missing from api.md");
        }
    }

    #[test]
    fn option_errors() {
        let table = [
            (Errno::Inval, Counter::OptInvalid),
            (Errno::Fault, Counter::OptFault),
            (Errno::NoProtoOpt, Counter::OptUnknown),
            (Errno::IsConn, Counter::OptTooLate),
            (Errno::NotConn, Counter::KeyNotReady),
            (Errno::ConnAborted, Counter::KeyNotReady),
            (Errno::NoMem, Counter::OptOtherError),
            (Errno::Busy, Counter::OptOtherError),
            (Errno::OpNotSupp, Counter::OptOtherError),
            (Errno::Again, Counter::OptOtherError),
        ];
        for (e, c) in table {
            assert_eq!(option_error(e), c, "{}", e.name());
        }
        // Only the option paths' own errnos (six) have counters of their own.
        let own = Errno::ALL
            .iter()
            .filter(|e| option_error(**e) != Counter::OptOtherError)
            .count();
        assert_eq!(own, 6);
    }
}
