// SPDX-License-Identifier: GPL-2.0

//! The per-netns counters of /proc/net/smkex (their list is
//! `smkex_logic::counters`; the glue keeps the values) and the errnos the
//! module returns, mapped from `smkex_logic::errno::Errno` to the kernel's
//! own codes by an exhaustive match.

use kernel::bindings;
use smkex_logic::counters::{self, Counter};
use smkex_logic::errno::Errno;
use smkex_proto::FailureReason;

use crate::glue::Sock;

/// Counts `counter` in the socket's namespace.
pub(crate) fn count(sk: Sock, counter: Counter) {
    sk.count(counter.index());
}

/// Counts a failed handshake: the total and its reason.
pub(crate) fn count_failure(sk: Sock, reason: FailureReason) {
    count(sk, Counter::HandshakesFailed);
    sk.count(counters::failed(reason));
}

/// The positive errno of `e`.
pub(crate) fn errno(e: Errno) -> i32 {
    let code = match e {
        Errno::Inval => bindings::EINVAL,
        Errno::Fault => bindings::EFAULT,
        Errno::NoProtoOpt => bindings::ENOPROTOOPT,
        Errno::IsConn => bindings::EISCONN,
        Errno::NotConn => bindings::ENOTCONN,
        Errno::ConnAborted => bindings::ECONNABORTED,
        Errno::NoMem => bindings::ENOMEM,
        Errno::OpNotSupp => bindings::EOPNOTSUPP,
        Errno::Busy => bindings::EBUSY,
        Errno::Again => bindings::EAGAIN,
        Errno::KeyRejected => bindings::EKEYREJECTED,
        Errno::TimedOut => bindings::ETIMEDOUT,
        Errno::NetUnreach => bindings::ENETUNREACH,
        Errno::ConnReset => bindings::ECONNRESET,
        Errno::Proto => bindings::EPROTO,
        Errno::BadMsg => bindings::EBADMSG,
        Errno::KeyExpired => bindings::EKEYEXPIRED,
    };
    code as i32
}
