//! What an application call does while the handshake runs: until it is
//! complete no application byte moves (Documentation/api.md, "Application
//! data during the handshake"), and after a failure every call reports the
//! failure's errno (sticky).

use crate::errno::Errno;
use smkex_uapi::state;

/// `EPOLLERR`: the bit `poll` adds after a failed handshake.
pub const EPOLLERR: u32 = 0x0008;

/// The verdict for one `send`/`recv`-like call on an SMKEX socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Not held: hand the call to MPTCP (SMKEX off, not connected yet, or
    /// the handshake completed).
    Pass,
    /// The handshake runs and the call may not wait: `EAGAIN`.
    WouldBlock,
    /// The handshake runs: wait until its state changes (bounded by the
    /// socket's timeout), then ask again. A wait that times out is
    /// `EAGAIN`, a signal the kernel's interrupted errno.
    Wait,
    /// The handshake failed: return this errno.
    Fail(Errno),
    /// The handshake runs and the application shut this direction down: a
    /// receive ends the stream (0) without a handshake byte reaching the
    /// application; a send goes to MPTCP, which refuses it (`EPIPE`).
    ShutDown,
}

/// The verdict for a call on a socket whose SMKEX is `enabled` and in
/// `smkex_state`; `nonblock_or_no_timeout` for `MSG_DONTWAIT`, a
/// non-blocking socket or a zero timeout; `shut_down` when the call's
/// direction was shut down (`shutdown()`); `failed_errno` is what the
/// failure recorded (read after the state, which is published last).
pub const fn on_call(
    enabled: bool,
    smkex_state: u8,
    nonblock_or_no_timeout: bool,
    shut_down: bool,
    failed_errno: Errno,
) -> Held {
    if !enabled {
        return Held::Pass;
    }
    match smkex_state {
        state::FAILED => Held::Fail(failed_errno),
        state::HANDSHAKE if shut_down => Held::ShutDown,
        state::HANDSHAKE if nonblock_or_no_timeout => Held::WouldBlock,
        state::HANDSHAKE => Held::Wait,
        // Not connected yet (MPTCP answers), or complete.
        _ => Held::Pass,
    }
}

/// The `poll` mask of an SMKEX socket from MPTCP's `base_mask`: nothing
/// while the handshake runs (not even a reset's error: the module records
/// the reason first, then wakes pollers), an error once it failed.
pub const fn poll_mask(enabled: bool, smkex_state: u8, base_mask: u32) -> u32 {
    if !enabled {
        return base_mask;
    }
    match smkex_state {
        state::HANDSHAKE => 0,
        state::FAILED => base_mask | EPOLLERR,
        _ => base_mask,
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

    const ALL_STATES: [u8; 6] = [
        state::OFF,
        state::ENABLED,
        state::HANDSHAKE,
        state::COMPLETE,
        state::FAILED,
        200,
    ];

    #[test]
    fn disabled_sockets_are_never_held() {
        for s in ALL_STATES {
            for nb in [false, true] {
                assert_eq!(on_call(false, s, nb, false, Errno::TimedOut), Held::Pass);
            }
            assert_eq!(poll_mask(false, s, 0x45), 0x45);
        }
    }

    #[test]
    fn calls_during_the_handshake() {
        assert_eq!(
            on_call(true, state::HANDSHAKE, true, false, Errno::Proto),
            Held::WouldBlock
        );
        assert_eq!(
            on_call(true, state::HANDSHAKE, false, false, Errno::Proto),
            Held::Wait
        );
    }

    #[test]
    fn a_shut_down_direction_is_not_held() {
        for nb in [false, true] {
            assert_eq!(
                on_call(true, state::HANDSHAKE, nb, true, Errno::Proto),
                Held::ShutDown
            );
        }
        // Disabled sockets and finished handshakes are MPTCP's to answer.
        assert_eq!(on_call(false, state::HANDSHAKE, false, true, Errno::Proto), Held::Pass);
        assert_eq!(on_call(true, state::COMPLETE, false, true, Errno::Proto), Held::Pass);
    }

    #[test]
    fn calls_after_failure_report_its_errno() {
        for e in [Errno::KeyRejected, Errno::ConnReset, Errno::ConnAborted] {
            for nb in [false, true] {
                assert_eq!(on_call(true, state::FAILED, nb, nb, e), Held::Fail(e));
            }
        }
    }

    #[test]
    fn other_states_pass() {
        for s in [state::OFF, state::ENABLED, state::COMPLETE, 200] {
            for nb in [false, true] {
                assert_eq!(on_call(true, s, nb, nb, Errno::Proto), Held::Pass, "state {s}");
            }
        }
    }

    #[test]
    fn poll_masks() {
        const POLLIN_OUT: u32 = 0x0001 | 0x0004;
        const POLLHUP: u32 = 0x0010;
        assert_eq!(
            poll_mask(true, state::HANDSHAKE, POLLIN_OUT | POLLHUP | EPOLLERR),
            0
        );
        assert_eq!(poll_mask(true, state::FAILED, POLLHUP), POLLHUP | EPOLLERR);
        assert_eq!(
            poll_mask(true, state::FAILED, 0),
            0x0008,
            "the kernel's EPOLLERR"
        );
        assert_eq!(poll_mask(true, state::COMPLETE, POLLIN_OUT), POLLIN_OUT);
        assert_eq!(poll_mask(true, state::ENABLED, POLLHUP), POLLHUP);
    }
}
