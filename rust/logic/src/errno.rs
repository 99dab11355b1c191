//! The errnos the module returns to user space, and which one a failed
//! handshake reports.
//!
//! Kept as a closed enum so that every place that picks an errno is an
//! exhaustive match: a new failure reason in the protocol core, or a new
//! errno here, does not compile until someone decided what it means
//! (Documentation/api.md, "Failed handshakes").

use smkex_proto::records::RecordError;
use smkex_proto::FailureReason;

/// Every errno the module hands to an application, so that a decision
/// never produces a value outside the documented set.
///
/// The numbers ([`Errno::code`]) are the kernel's generic ones
/// (`include/uapi/asm-generic/errno*.h`), which x86-64 and arm64 use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Errno {
    /// `EINVAL`: a malformed request (option length, value range).
    Inval,
    /// `EFAULT`: a bad user pointer.
    Fault,
    /// `ENOPROTOOPT`: an unknown or get-only option.
    NoProtoOpt,
    /// `EISCONN`: an option set after `connect()`/`listen()`.
    IsConn,
    /// `ENOTCONN`: key material asked before the handshake completed.
    NotConn,
    /// `ECONNABORTED`: a local failure, or key material after a failure.
    ConnAborted,
    /// `ENOMEM`: an allocation failed.
    NoMem,
    /// `EOPNOTSUPP`: Fast Open, or a socket the module cannot take over.
    OpNotSupp,
    /// `EBUSY`: a socket someone else owns (`sk_user_data` in use).
    Busy,
    /// `EAGAIN`: a non-blocking call while the handshake runs.
    Again,
    /// `EKEYREJECTED`: an active attack on one path.
    KeyRejected,
    /// `ETIMEDOUT`: the handshake did not end in time.
    TimedOut,
    /// `ENETUNREACH`: no second path this host trusts.
    NetUnreach,
    /// `ECONNRESET`: the peer or a channel's subflow went away.
    ConnReset,
    /// `EPROTO`: the peer does not speak SMKEX v1.
    Proto,
    /// `EBADMSG`: a record failed authentication, was malformed or cut.
    BadMsg,
    /// `EKEYEXPIRED`: the record layer's sequence space ran out.
    KeyExpired,
}

impl Errno {
    /// Every errno, so that tests and tables can cover all of them.
    pub const ALL: [Errno; 17] = [
        Errno::Inval,
        Errno::Fault,
        Errno::NoProtoOpt,
        Errno::IsConn,
        Errno::NotConn,
        Errno::ConnAborted,
        Errno::NoMem,
        Errno::OpNotSupp,
        Errno::Busy,
        Errno::Again,
        Errno::KeyRejected,
        Errno::TimedOut,
        Errno::NetUnreach,
        Errno::ConnReset,
        Errno::Proto,
        Errno::BadMsg,
        Errno::KeyExpired,
    ];

    /// The positive errno number, for the kernel side to negate and return.
    pub const fn code(self) -> i32 {
        match self {
            Errno::Again => 11,
            Errno::NoMem => 12,
            Errno::Fault => 14,
            Errno::Busy => 16,
            Errno::Inval => 22,
            Errno::Proto => 71,
            Errno::BadMsg => 74,
            Errno::KeyExpired => 127,
            Errno::NoProtoOpt => 92,
            Errno::OpNotSupp => 95,
            Errno::NetUnreach => 101,
            Errno::ConnAborted => 103,
            Errno::ConnReset => 104,
            Errno::IsConn => 106,
            Errno::NotConn => 107,
            Errno::TimedOut => 110,
            Errno::KeyRejected => 129,
        }
    }

    /// The errno for a positive number (e.g. one a kernel call returned,
    /// negated), or `None` for one the module never reports itself.
    pub fn from_code(code: i32) -> Option<Errno> {
        Errno::ALL.iter().copied().find(|e| e.code() == code)
    }

    /// The C name (`"EINVAL"`), for log lines.
    pub const fn name(self) -> &'static str {
        match self {
            Errno::Inval => "EINVAL",
            Errno::Fault => "EFAULT",
            Errno::NoProtoOpt => "ENOPROTOOPT",
            Errno::IsConn => "EISCONN",
            Errno::NotConn => "ENOTCONN",
            Errno::ConnAborted => "ECONNABORTED",
            Errno::NoMem => "ENOMEM",
            Errno::OpNotSupp => "EOPNOTSUPP",
            Errno::Busy => "EBUSY",
            Errno::Again => "EAGAIN",
            Errno::KeyRejected => "EKEYREJECTED",
            Errno::TimedOut => "ETIMEDOUT",
            Errno::NetUnreach => "ENETUNREACH",
            Errno::ConnReset => "ECONNRESET",
            Errno::Proto => "EPROTO",
            Errno::BadMsg => "EBADMSG",
            Errno::KeyExpired => "EKEYEXPIRED",
        }
    }
}

/// The errno every application call reports after a handshake failed for
/// `reason` (sticky), as documented in Documentation/api.md. No wildcard:
/// a new reason must be given its errno here.
pub const fn failure_errno(reason: FailureReason) -> Errno {
    match reason {
        // An active attack on one path (or a broken peer).
        FailureReason::BindingHashMismatch
        | FailureReason::WrongChannel
        | FailureReason::LowOrderKey
        | FailureReason::BadFinished
        | FailureReason::ChannelIntegrity => Errno::KeyRejected,
        FailureReason::Timeout => Errno::TimedOut,
        // No second path this host trusts.
        FailureReason::NoIndependentPath => Errno::NetUnreach,
        FailureReason::PeerClosed | FailureReason::ChannelClosed => Errno::ConnReset,
        // E.g. a peer without SMKEX.
        FailureReason::MalformedRecord
        | FailureReason::UnexpectedRecord
        | FailureReason::OutOfOrderRecord
        | FailureReason::DuplicateRecord => Errno::Proto,
        FailureReason::LocalError | FailureReason::Internal => Errno::ConnAborted,
    }
}

/// The errno every application call reports after the record layer
/// failed with `e` (sticky, like a handshake failure's).
pub const fn record_errno(e: RecordError) -> Errno {
    match e {
        RecordError::Auth | RecordError::Malformed | RecordError::Truncated => Errno::BadMsg,
        RecordError::Limit => Errno::KeyExpired,
    }
}

/// The errno for key material (session key, exporter) asked while the
/// handshake is not complete: a failed one is aborted for good, any other
/// is simply not connected yet.
pub const fn key_not_ready(failed: bool) -> Errno {
    if failed {
        Errno::ConnAborted
    } else {
        Errno::NotConn
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
    use super::*;

    /// The table "Failed handshakes" of Documentation/api.md, read from the
    /// document itself: (errno name, reason codes of its row).
    const API_MD: &str = include_str!("../../../Documentation/api.md");

    /// The reason codes a row of the errno table lists, e.g.
    /// "2 malformed, 4 unexpected" -> [2, 4].
    fn row_codes(cell: &str, out: &mut [u8; 16]) -> usize {
        let mut n = 0;
        for item in cell.split(',') {
            let digits: &str = item.trim_start().split(' ').next().unwrap_or("");
            if let Ok(code) = digits.parse::<u8>() {
                if let Some(slot) = out.get_mut(n) {
                    *slot = code;
                    n += 1;
                }
            }
        }
        n
    }

    #[test]
    fn every_reason_matches_the_documented_table() {
        let mut seen = [0u8; 16];
        let mut rows = 0;
        for line in API_MD.lines() {
            let mut cells = line.split('|').map(str::trim);
            let (Some(""), Some(errno), Some(reasons)) = (cells.next(), cells.next(), cells.next())
            else {
                continue;
            };
            let Some(name) = errno.strip_prefix('`').and_then(|s| s.strip_suffix('`')) else {
                continue;
            };
            let Some(expected) = Errno::ALL.iter().copied().find(|e| e.name() == name) else {
                continue;
            };
            let mut codes = [0u8; 16];
            let n = row_codes(reasons, &mut codes);
            if n == 0 {
                continue;
            }
            rows += 1;
            for &code in codes.iter().take(n) {
                let reason = FailureReason::from_code(code).expect("documented code is a reason");
                assert_eq!(failure_errno(reason), expected, "reason {code}");
                seen[usize::from(code)] += 1;
            }
        }
        assert_eq!(rows, 6, "the table has one row per errno");
        // Every reason 1..=15 is documented exactly once.
        for code in 1..=15u8 {
            assert_eq!(seen[usize::from(code)], 1, "reason {code}");
        }
        assert_eq!(seen[0], 0);
    }

    #[test]
    fn reason_table_by_code() {
        use Errno::*;
        let table = [
            (1, KeyRejected),
            (2, Proto),
            (3, KeyRejected),
            (4, Proto),
            (5, Proto),
            (6, Proto),
            (7, KeyRejected),
            (8, KeyRejected),
            (9, TimedOut),
            (10, ConnReset),
            (11, KeyRejected),
            (12, ConnAborted),
            (13, ConnAborted),
            (14, NetUnreach),
            (15, ConnReset),
        ];
        for (code, errno) in table {
            let reason = FailureReason::from_code(code).expect("a reason");
            assert_eq!(failure_errno(reason), errno, "reason {code}");
        }
        // 16..=19 are the record layer's, not the handshake's.
        assert!(FailureReason::from_code(16).is_none());
        let records = [
            (RecordError::Auth, 16, BadMsg),
            (RecordError::Malformed, 17, BadMsg),
            (RecordError::Truncated, 18, BadMsg),
            (RecordError::Limit, 19, KeyExpired),
        ];
        for (e, code, errno) in records {
            assert_eq!(e.code(), code);
            assert_eq!(record_errno(e), errno, "record reason {code}");
        }
    }

    #[test]
    fn key_not_ready_distinguishes_failure() {
        assert_eq!(key_not_ready(true), Errno::ConnAborted);
        assert_eq!(key_not_ready(false), Errno::NotConn);
    }

    #[test]
    fn codes_match_the_generic_errno_numbers() {
        let table = [
            (Errno::Inval, 22),
            (Errno::Fault, 14),
            (Errno::NoProtoOpt, 92),
            (Errno::IsConn, 106),
            (Errno::NotConn, 107),
            (Errno::ConnAborted, 103),
            (Errno::NoMem, 12),
            (Errno::OpNotSupp, 95),
            (Errno::Busy, 16),
            (Errno::Again, 11),
            (Errno::KeyRejected, 129),
            (Errno::TimedOut, 110),
            (Errno::NetUnreach, 101),
            (Errno::ConnReset, 104),
            (Errno::Proto, 71),
            (Errno::BadMsg, 74),
            (Errno::KeyExpired, 127),
        ];
        for (e, code) in table {
            assert_eq!(e.code(), code, "{}", e.name());
            assert_eq!(Errno::from_code(code), Some(e));
        }
        assert_eq!(Errno::from_code(0), None);
        assert_eq!(Errno::from_code(-22), None);
        assert_eq!(Errno::from_code(4), None); // EINTR: never ours
    }

    #[test]
    fn codes_and_names_are_unique() {
        for (i, a) in Errno::ALL.iter().enumerate() {
            for b in Errno::ALL.iter().skip(i + 1) {
                assert_ne!(a.code(), b.code());
                assert_ne!(a.name(), b.name());
            }
        }
    }
}
