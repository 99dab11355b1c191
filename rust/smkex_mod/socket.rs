// SPDX-License-Identifier: GPL-2.0

//! What the module does in the proto callbacks of a socket it took over
//! (glue/takeover.c calls MPTCP's own around these): starting the
//! handshake at connect() and accept(), holding application data until it
//! is complete, and giving the socket back at close().

use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::CondVarTimeoutResult;
use smkex_logic::counters::Counter;
use smkex_logic::held::{on_call, poll_mask, Held};
use smkex_logic::errno::Errno;
use smkex_proto::Role;
use smkex_uapi::{role, state};

use crate::counters::count;
use crate::glue::{self, debug, Sock, SocketLock};
use crate::handshake;
use crate::provenance;
use crate::records;
use crate::state::{OwnedState, SmkexSock};

fn neg(code: u32) -> i32 {
    -(code as i32)
}

/// Before MPTCP's connect, socket locked: 0 to go on, or -errno.
pub(crate) fn connect_prepare(lock: &SocketLock) -> i32 {
    let sk = lock.sock();
    let Some(ss) = SmkexSock::of(sk).filter(|ss| ss.enabled()) else {
        return 0;
    };
    // SMKEX runs once per socket: never an unprotected reconnect.
    if ss.state() != state::ENABLED {
        return neg(bindings::EISCONN);
    }
    // The handshake's SYN data would be unprotected application data.
    if sk.fastopen_requested(lock) {
        return neg(bindings::EOPNOTSUPP);
    }
    match handshake::prepare(ss, Role::Client) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// After MPTCP's connect, socket locked: the handshake starts if it went.
pub(crate) fn connect_done(lock: &mut SocketLock, err: i32) {
    let Some(ss) = SmkexSock::of(lock.sock()).filter(|ss| ss.enabled()) else {
        return;
    };
    if err == 0 && ss.state() == state::ENABLED {
        handshake::start(ss, lock);
    }
}

/// What `before_io` returns for a receive that ends the stream at once
/// (`SMKEX_IO_END`).
pub(crate) const END_OF_STREAM: i32 = 1;
/// What `before_io` returns when the record layer carries the call
/// (`SMKEX_IO_RECORDS`).
pub(crate) const RECORDS: i32 = 2;

/// Until the handshake is complete no application byte moves: non-blocking
/// calls get EAGAIN, blocking ones wait (bounded by the socket's timeout),
/// and after a failure every call gets the errno of its reason. 0: hand
/// the call to MPTCP; [`END_OF_STREAM`]: return 0 without MPTCP (the
/// receive side was shut down during the handshake, whose bytes MPTCP
/// would otherwise hand out); negative: that errno.
pub(crate) fn before_io(sk: Sock, send: bool, flags: u32) -> i32 {
    let Some(ss) = SmkexSock::of(sk) else {
        return 0;
    };
    // Fast Open would put application data in the SYN, before any key.
    if send && flags & bindings::MSG_FASTOPEN != 0 && ss.enabled() {
        return neg(bindings::EOPNOTSUPP);
    }
    let nonblock = flags & bindings::MSG_DONTWAIT != 0;
    let mut timeo = sk.timeo(send, nonblock);
    let mut woken_after_shutdown = false;
    loop {
        // A call the application's own shutdown woke ends as after that
        // shutdown, even if the handshake it stops has failed meanwhile:
        // the answer must not depend on which of the two ran first.
        let held = if woken_after_shutdown {
            Held::ShutDown
        } else {
            on_call(ss.enabled(), ss.state(), nonblock || timeo == 0, ss.shut_down(send), Errno::ConnAborted)
        };
        match held {
            Held::Pass if records::active(ss) => return RECORDS,
            Held::Pass => return 0,
            Held::WouldBlock => return neg(bindings::EAGAIN),
            // The errno the outcome stored before publishing the state.
            Held::Fail(_) => return -ss.err(),
            // MPTCP refuses a send after SHUT_WR itself.
            Held::ShutDown if send => return 0,
            Held::ShutDown => return END_OF_STREAM,
            Held::Wait => {}
        }
        let mut inner = ss.inner.lock();
        // Under the mutex, so that neither the outcome nor a shutdown can
        // slip between this look and the wait (both notify after taking it).
        if ss.state() != state::HANDSHAKE || ss.shut_down(send) {
            continue;
        }
        match ss.ended.wait_interruptible_timeout(&mut inner, timeo as _) {
            CondVarTimeoutResult::Timeout => return neg(bindings::EAGAIN),
            CondVarTimeoutResult::Signal { .. } => {
                // sock_intr_errno(): restart a call without a timeout.
                return if timeo == i64::MAX { neg(bindings::ERESTARTSYS) } else { neg(bindings::EINTR) };
            }
            CondVarTimeoutResult::Woken { jiffies } => timeo = jiffies as i64,
        }
        woken_after_shutdown = ss.shut_down(send);
    }
}

/// After MPTCP's shutdown (`how`: RCV_SHUTDOWN 1, SEND_SHUTDOWN 2): calls
/// waiting for the handshake look again.
pub(crate) fn shutdown(sk: Sock, how: u8) {
    if let Some(ss) = SmkexSock::of(sk) {
        ss.note_shutdown(how);
        // Taking the mutex orders this after a waiter's look (see before_io).
        drop(ss.inner.lock());
        ss.ended.notify_all();
    }
}

/// Nothing is reported while the handshake runs, not even a reset's error
/// or hangup: the work records the reason first and then wakes pollers, so
/// that a woken application always finds the outcome in SMKEX_INFO.
pub(crate) fn poll(sk: Sock, mask: u32) -> u32 {
    match SmkexSock::of(sk) {
        Some(ss) if ss.enabled() && records::active(ss) => records::poll(ss, mask),
        Some(ss) => poll_mask(ss.enabled(), ss.state(), mask),
        None => mask,
    }
}

/// After MPTCP's listen: every accepted connection runs the handshake.
pub(crate) fn listening(sk: Sock) {
    if let Some(ss) = SmkexSock::of(sk).filter(|ss| ss.enabled()) {
        ss.inner.lock().role = role::LISTENER;
    }
}

/// After MPTCP's accept: an enabled listener's connection gets its own
/// handshake, or is refused if it fell back to TCP (fail closed); a
/// disabled listener's is plain MPTCP.
pub(crate) fn accepted(listener: Sock, sk: Sock, fell_back: bool) -> i32 {
    let lss = SmkexSock::of(listener).filter(|ss| ss.enabled());
    if fell_back {
        let Some(_) = lss else {
            return 0;
        };
        count(listener, Counter::AcceptRefusedTcpFallback);
        debug!("accepted connection fell back to TCP: refused");
        return neg(bindings::ECONNABORTED);
    }
    let Some(lss) = lss else {
        let lock = sk.lock();
        // A plain connection holds no state: nothing to free.
        drop(provenance::give_back(sk));
        drop(lock);
        return 0;
    };
    let timeout_ms = lss.inner.lock().timeout_ms;
    match accept_start(sk, timeout_ms, lss.records.on()) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

fn accept_start(sk: Sock, timeout_ms: u32, records: bool) -> Result {
    let owned = OwnedState::new(SmkexSock::new(sk, timeout_ms)?);
    let ss = owned.get();
    ss.records.set_on(records);
    {
        let mut inner = ss.inner.lock();
        ss.set_enabled(&mut inner, true);
        ss.set_state(&mut inner, state::ENABLED);
    }
    glue::hooks_get()?;
    ss.inner.lock().hooks_held = true;
    if let Err(e) = handshake::prepare(ss, Role::Server) {
        glue::hooks_put();
        return Err(e);
    }
    let mut lock = sk.lock();
    // From here the socket owns the state (close frees it).
    if provenance::adopt(owned) {
        // The pending pool was empty when its data came: fails closed.
        count(sk, Counter::AcceptRefusedUntracked);
    }
    // The application has not seen the socket yet: the state is ours.
    if let Some(ss) = SmkexSock::of(sk) {
        handshake::start(ss, &mut lock);
    }
    Ok(())
}

/// After MPTCP's disconnect (socket locked): the SMKEX session ends with it.
pub(crate) fn disconnected(lock: &mut SocketLock) {
    if let Some(ss) = SmkexSock::of(lock.sock()).filter(|ss| ss.enabled()) {
        handshake::disconnect_locked(ss, lock);
    }
}

/// A connection destroyed before accept(): its pending map goes back.
pub(crate) fn destroy(sk: Sock) {
    provenance::release_pending(sk);
}

/// Before MPTCP's close: the work stops, the socket goes back to MPTCP and
/// the state is freed after an RCU grace period.
pub(crate) fn close(sk: Sock) {
    let hooks_held = SmkexSock::of(sk).is_some_and(|ss| {
        // Before the work stops: a tail it would retry goes out with Close.
        records::close(ss);
        handshake::stop(ss);
        // The work is stopped: a handshake still running ends here.
        if ss.state() == state::HANDSHAKE {
            count(sk, Counter::HandshakesClosed);
        }
        ss.inner.lock().hooks_held
    });
    let lock = sk.lock();
    let owned = provenance::give_back(sk);
    drop(lock);
    if hooks_held {
        glue::hooks_put();
    }
    if let Some(owned) = owned {
        owned.free();
    }
}
