// SPDX-License-Identifier: GPL-2.0

//! The record layer (`SMKEX_RECORDS`): once the handshake is complete,
//! every application byte of the connection travels in ChaCha20-Poly1305
//! records keyed from the handshake (Documentation/protocol.md §10). The
//! format, sequence numbers, limits and keys are `smkex_proto::records`'s;
//! this file moves bytes between the application, the records and MPTCP.
//!
//! - `send`: the application's bytes are sealed into records sized to the
//!   room MPTCP's send buffer has, each handed to MPTCP's own sendmsg. A
//!   record MPTCP took only in part is committed (its bytes were counted
//!   as sent): its tail goes out before anything else, from the next call,
//!   `poll` or the socket's work on a short tick, never twice, never lost.
//! - `recv`: MPTCP's bytes are read without waiting into one record buffer
//!   and a record is opened only once whole; only authenticated plaintext
//!   reaches the application. Waits happen outside the record locks, on
//!   the socket's wait queue, with the socket's timeout.
//! - `poll`: readable only when plaintext (or the end, or a failure) is
//!   there, which may mean opening a record; writable only when no tail
//!   waits.
//! - A record that fails authentication, a malformed or truncated stream,
//!   or the end of the sequence space fails the connection for good:
//!   reason in SMKEX_INFO, a counter, the connection reset, and every
//!   later call returns the errno (`EBADMSG`, `EKEYEXPIRED`).
//!
//! Locks: `tx` or `rx`, then `inner` or the socket lock (taken by MPTCP's
//! sendmsg and recvmsg); never the other way round, and never held across
//! a wait.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::{new_mutex, Mutex};
use kernel::time::msecs_to_jiffies;
use smkex_logic::counters::{record_failed, Counter};
use smkex_logic::errno::record_errno;
use smkex_logic::Zeroize;
use smkex_proto::records::{
    Opener, RecordError, RecordKeys, RecordType, Sealer, HEADER_LEN, MAX_PLAINTEXT, MAX_WIRE_LEN, SEQ_LIMIT,
    TAG_LEN,
};
use smkex_proto::Role;
use smkex_uapi::{role, state};

use crate::counters::{count, errno};
use crate::glue::{debug, io, KernelAead, Msg};
use crate::handshake;
use crate::state::SmkexSock;

/// The longest a close() waits for MPTCP to take the last records.
const CLOSE_WAIT_MS: u32 = 10_000;

fn neg(code: u32) -> i32 {
    -(code as i32)
}

type Buf = KBox<[u8; MAX_WIRE_LEN]>;

fn new_buf() -> Result<Buf, i32> {
    KBox::init(kernel::init::zeroed(), GFP_KERNEL).map_err(|_| neg(bindings::ENOMEM))
}

/// The sending direction (under `Records::tx`).
struct Tx {
    sealer: Option<Sealer>,
    buf: Option<Buf>,
    /// `buf[start..end]`: a committed record's tail MPTCP has not taken.
    start: usize,
    end: usize,
    /// Close was sealed: nothing may follow it.
    closed: bool,
}

/// The receiving direction (under `Records::rx`).
struct Rx {
    opener: Option<Opener>,
    buf: Option<Buf>,
    /// `buf[plain_start..plain_end]`: an opened record's plaintext not
    /// read yet.
    plain_start: usize,
    plain_end: usize,
}

/// One socket's record layer; idle (no buffer, no key) until first used.
#[pin_data]
pub(crate) struct Records {
    on: AtomicBool,
    #[pin]
    tx: Mutex<Tx>,
    #[pin]
    rx: Mutex<Rx>,
    /// A tail waits in `tx` (for `poll`, which does not take `tx`).
    tail_pending: AtomicBool,
    /// Plaintext (or the end) waits in `rx`: a receive waiting outside
    /// `rx` for MPTCP's data must also wake for a record `poll` opened.
    plain_ready: AtomicBool,
    sent: AtomicU64,
    received: AtomicU64,
}

impl Records {
    pub(crate) fn new() -> impl PinInit<Records> {
        pin_init!(Records {
            on: AtomicBool::new(false),
            tx <- new_mutex!(Tx { sealer: None, buf: None, start: 0, end: 0, closed: false }),
            rx <- new_mutex!(Rx { opener: None, buf: None, plain_start: 0, plain_end: 0 }),
            tail_pending: AtomicBool::new(false),
            plain_ready: AtomicBool::new(false),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
        })
    }

    /// `SMKEX_RECORDS`; fixed once the socket connects or listens.
    pub(crate) fn on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    pub(crate) fn set_on(&self, on: bool) {
        self.on.store(on, Ordering::Release);
    }

    /// Records sealed and opened, for SMKEX_INFO.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.sent.load(Ordering::Relaxed), self.received.load(Ordering::Relaxed))
    }
}

/// Does the record layer carry this socket's data now?
pub(crate) fn active(ss: &SmkexSock) -> bool {
    ss.records.on() && ss.state() == state::COMPLETE
}

// ---- failure ----

/// Fails the connection for good: the reason and errno first, then the
/// state (published last), the counter, the reset. Returns -errno.
fn fail(ss: &SmkexSock, e: RecordError) -> i32 {
    let code = errno(record_errno(e));
    {
        let mut inner = ss.inner.lock();
        if ss.state() == state::COMPLETE {
            inner.reason = e.code();
            ss.set_err(&mut inner, code);
            ss.set_state(&mut inner, state::FAILED);
        }
    }
    count(ss.sk, record_failed(e));
    debug!("record layer failed: reason {}", e.code());
    handshake::reset_and_wake(ss);
    -code
}

/// The errno a call gets once the connection failed (sticky).
fn failed_errno(ss: &SmkexSock) -> i32 {
    -ss.err()
}

// ---- keys and buffers, on first use ----

/// This side's keys for both directions, from the completed session.
fn keys(ss: &SmkexSock) -> Option<RecordKeys> {
    let inner = ss.inner.lock();
    let own = if inner.role == role::CLIENT { Role::Client } else { Role::Server };
    let secret = inner.session.as_ref().and_then(|s| s.record_secret())?;
    Some(RecordKeys::derive(secret, own))
}

fn tx_ready(ss: &SmkexSock, tx: &mut Tx) -> Result<(), i32> {
    if tx.buf.is_none() {
        tx.buf = Some(new_buf()?);
    }
    if tx.sealer.is_none() {
        let k = keys(ss).ok_or_else(|| failed_errno(ss))?;
        tx.sealer = Some(Sealer::new(k.tx, SEQ_LIMIT));
    }
    Ok(())
}

fn rx_ready(ss: &SmkexSock, rx: &mut Rx) -> Result<(), i32> {
    if rx.buf.is_none() {
        rx.buf = Some(new_buf()?);
    }
    if rx.opener.is_none() {
        let k = keys(ss).ok_or_else(|| failed_errno(ss))?;
        rx.opener = Some(Opener::new(k.rx, SEQ_LIMIT));
    }
    Ok(())
}

// ---- sending ----

/// Hands the pending tail to MPTCP without waiting: `Ok(true)` when none
/// is left, `Ok(false)` when MPTCP's buffer is full (the work retries on
/// its tick), or -errno.
fn flush(ss: &SmkexSock, tx: &mut Tx, flags: i32) -> Result<bool, i32> {
    let Tx { buf, start, end, .. } = tx;
    let Some(buf) = buf.as_ref() else {
        return Ok(true);
    };
    while *start < *end {
        let ret = io::send(ss.sk, buf.get(*start..*end).unwrap_or(&[]), io::DONTWAIT | flags);
        if ret == neg(bindings::EAGAIN) || ret == 0 {
            ss.records.tail_pending.store(true, Ordering::Release);
            handshake::queue_tick(ss);
            return Ok(false);
        }
        if ret < 0 {
            return Err(ret);
        }
        *start += ret as usize;
    }
    *start = 0;
    *end = 0;
    // A poller that saw the tail waiting (POLLOUT withheld) must look
    // again: MPTCP wakes writers only when it ran out of room itself.
    if ss.records.tail_pending.swap(false, Ordering::AcqRel) {
        ss.sk.wake_writers();
    }
    Ok(true)
}

/// Seals `pt_len` bytes already at `buf[HEADER_LEN..]` (or a Close) and
/// hands the record to MPTCP; the record is committed either way.
fn seal_and_push(ss: &SmkexSock, tx: &mut Tx, kind: RecordType, pt_len: usize, flags: i32) -> Result<bool, i32> {
    let (Some(sealer), Some(buf)) = (tx.sealer.as_mut(), tx.buf.as_mut()) else {
        return Err(neg(bindings::EINVAL));
    };
    let wire = match sealer.seal(&KernelAead, kind, buf.as_mut_slice(), pt_len) {
        Ok(wire) => wire,
        Err(e) => return Err(fail(ss, e)),
    };
    ss.records.sent.fetch_add(1, Ordering::Relaxed);
    count(ss.sk, Counter::RecordsSealed);
    tx.start = 0;
    tx.end = wire;
    flush(ss, tx, flags)
}

/// sendmsg on a socket whose records are active: bytes taken, or -errno.
pub(crate) fn send(ss: &SmkexSock, msg: &mut Msg, len: usize, flags: u32) -> i32 {
    if flags & bindings::MSG_OOB != 0 {
        return neg(bindings::EOPNOTSUPP);
    }
    let nonblock = flags & bindings::MSG_DONTWAIT != 0;
    let nosignal = (flags & bindings::MSG_NOSIGNAL) as i32;
    let mut timeo = ss.sk.timeo(true, nonblock);
    let mut done = 0usize;
    let partial = |done: usize, err: i32| if done > 0 { done as i32 } else { err };
    loop {
        {
            let mut tx = ss.records.tx.lock();
            if ss.state() != state::COMPLETE {
                return partial(done, failed_errno(ss));
            }
            if tx.closed || ss.shut_down(true) {
                return partial(done, neg(bindings::EPIPE));
            }
            if let Err(e) = tx_ready(ss, &mut tx) {
                return partial(done, e);
            }
            let mut blocked = match flush(ss, &mut tx, nosignal) {
                Ok(flushed) => !flushed,
                Err(e) => return partial(done, e),
            };
            while !blocked && done < len {
                // Sized to the room, so that MPTCP takes records whole; at
                // least one byte, so that a refusal (not a guess) blocks.
                let room = io::send_room(ss.sk).saturating_sub(HEADER_LEN + TAG_LEN).max(1);
                let chunk = (len - done).min(MAX_PLAINTEXT).min(room);
                let got = match tx.buf.as_mut().and_then(|b| b.get_mut(HEADER_LEN..HEADER_LEN + chunk)) {
                    Some(dst) => msg.copy_from(dst),
                    None => 0,
                };
                if got == 0 {
                    return partial(done, neg(bindings::EFAULT));
                }
                let pushed = seal_and_push(ss, &mut tx, RecordType::Data, got, nosignal);
                // Sealed means committed: MPTCP has all of it or the tail waits.
                done += got;
                match pushed {
                    Ok(whole) => blocked = !whole,
                    Err(e) => return partial(done, e),
                }
                if got < chunk {
                    // A fault in the application's buffer.
                    return done as i32;
                }
            }
            if done == len {
                return done as i32;
            }
        }
        if timeo == 0 {
            return partial(done, neg(bindings::EAGAIN));
        }
        let ret = io::wait_memory(ss.sk, &mut timeo);
        if ret < 0 {
            return partial(done, ret);
        }
    }
}

/// Pushes the tail and then a Close record, waiting at most `timeo`
/// jiffies for room: the peer then reads a clean end of stream.
fn send_close(ss: &SmkexSock, mut timeo: i64) {
    let mut tx = ss.records.tx.lock();
    if tx.closed || ss.state() != state::COMPLETE || tx_ready(ss, &mut tx).is_err() {
        return;
    }
    let mut close_sealed = false;
    loop {
        let flushed = flush(ss, &mut tx, io::NOSIGNAL);
        match flushed {
            Ok(true) if close_sealed => break,
            Ok(true) => {
                close_sealed = true;
                tx.closed = true;
                if seal_and_push(ss, &mut tx, RecordType::Close, 0, io::NOSIGNAL).unwrap_or(false) {
                    break;
                }
            }
            Ok(false) => {}
            Err(_) => break,
        }
        if timeo == 0 || io::wait_memory(ss.sk, &mut timeo) < 0 {
            debug!("records: Close not sent in time");
            break;
        }
    }
}

/// Before inet_shutdown: SHUT_WR (1) or SHUT_RDWR (2) ends our records.
pub(crate) fn shutdown_prepare(ss: &SmkexSock, how: i32) {
    if (how == 1 || how == 2) && active(ss) {
        send_close(ss, ss.sk.timeo(true, false));
    }
}

/// close(): a Close record ends the stream (bounded wait), then the keys
/// and any plaintext are erased.
pub(crate) fn close(ss: &SmkexSock) {
    if !ss.records.on() {
        return;
    }
    if ss.state() == state::COMPLETE {
        let bound = msecs_to_jiffies(CLOSE_WAIT_MS) as i64;
        send_close(ss, ss.sk.timeo(true, false).min(bound));
    }
    let mut tx = ss.records.tx.lock();
    tx.sealer = None;
    if let Some(buf) = tx.buf.as_mut() {
        buf.zeroize();
    }
    drop(tx);
    let mut rx = ss.records.rx.lock();
    rx.opener = None;
    if let Some(buf) = rx.buf.as_mut() {
        buf.zeroize();
    }
    rx.plain_start = 0;
    rx.plain_end = 0;
}

/// From the work's tick: a tail MPTCP could not take before.
pub(crate) fn flush_from_work(ss: &SmkexSock) {
    if !ss.records.tail_pending.load(Ordering::Acquire) || !active(ss) {
        return;
    }
    let mut tx = ss.records.tx.lock();
    let _ = flush(ss, &mut tx, io::NOSIGNAL);
}

// ---- receiving ----

/// What reading MPTCP without waiting gave.
enum Pump {
    /// Plaintext is waiting in `rx`.
    Plain,
    /// The peer's Close was opened, or the application shut reading down:
    /// end of stream.
    End,
    /// Nothing more to read now.
    Empty,
    /// -errno: the connection failed or MPTCP reported an error.
    Err(i32),
}

/// Reads MPTCP until a record opens or nothing is left.
fn pump(ss: &SmkexSock, rx: &mut Rx) -> Pump {
    let Rx { opener, buf, plain_start, plain_end } = rx;
    let (Some(opener), Some(buf)) = (opener.as_mut(), buf.as_mut()) else {
        return Pump::Err(neg(bindings::EINVAL));
    };
    if opener.error().is_some() {
        return Pump::Err(failed_errno(ss));
    }
    if opener.is_closed() {
        // Anything after the peer's Close is an attack or a broken peer.
        let mut byte = [0u8; 1];
        if io::recv(ss.sk, &mut byte, io::DONTWAIT) > 0 {
            return Pump::Err(fail(ss, RecordError::Malformed));
        }
        return Pump::End;
    }
    loop {
        if opener.ready() {
            return match opener.open(&KernelAead, buf.as_mut_slice()) {
                Ok(opened) => {
                    ss.records.received.fetch_add(1, Ordering::Relaxed);
                    count(ss.sk, Counter::RecordsOpened);
                    ss.records.plain_ready.store(true, Ordering::Release);
                    if opened.kind == RecordType::Close {
                        return Pump::End;
                    }
                    *plain_start = HEADER_LEN;
                    *plain_end = HEADER_LEN + opened.len;
                    Pump::Plain
                }
                Err(e) => Pump::Err(fail(ss, e)),
            };
        }
        let have = opener.have();
        let want = opener.want();
        let Some(dst) = buf.get_mut(have..have + want) else {
            return Pump::Err(fail(ss, RecordError::Malformed));
        };
        let ret = io::recv(ss.sk, dst, io::DONTWAIT);
        if ret == neg(bindings::EAGAIN) {
            return Pump::Empty;
        }
        if ret == 0 {
            // The application's own SHUT_RD ends the stream quietly.
            if ss.shut_down(false) {
                return Pump::End;
            }
            return match opener.end_of_stream() {
                Ok(()) => Pump::End,
                Err(e) => Pump::Err(fail(ss, e)),
            };
        }
        if ret < 0 {
            return Pump::Err(ret);
        }
        if let Err(e) = opener.filled(buf.as_slice(), ret as usize) {
            return Pump::Err(fail(ss, e));
        }
    }
}

/// recvmsg on a socket whose records are active: bytes, 0 at the end of
/// the stream, or -errno. `MSG_PEEK` looks at the current record only;
/// `MSG_TRUNC` discards; `MSG_WAITALL` waits for `len` bytes.
pub(crate) fn recv(ss: &SmkexSock, msg: &mut Msg, len: usize, flags: u32) -> i32 {
    if flags & bindings::MSG_OOB != 0 {
        return neg(bindings::EOPNOTSUPP);
    }
    let nonblock = flags & bindings::MSG_DONTWAIT != 0;
    let peek = flags & bindings::MSG_PEEK != 0;
    let trunc = flags & bindings::MSG_TRUNC != 0;
    let waitall = flags & bindings::MSG_WAITALL != 0 && !peek;
    let mut timeo = ss.sk.timeo(false, nonblock);
    let mut copied = 0usize;
    let partial = |copied: usize, err: i32| if copied > 0 { copied as i32 } else { err };
    loop {
        {
            let mut rx = ss.records.rx.lock();
            if ss.state() != state::COMPLETE {
                return partial(copied, failed_errno(ss));
            }
            if let Err(e) = rx_ready(ss, &mut rx) {
                return partial(copied, e);
            }
            loop {
                if rx.plain_start < rx.plain_end && copied < len {
                    let n = (len - copied).min(rx.plain_end - rx.plain_start);
                    let (start, end) = (rx.plain_start, rx.plain_start + n);
                    let c = if trunc {
                        n
                    } else {
                        rx.buf.as_ref().and_then(|b| b.get(start..end)).map_or(0, |src| msg.copy_to(src))
                    };
                    if c == 0 {
                        return partial(copied, neg(bindings::EFAULT));
                    }
                    if !peek {
                        rx.plain_start += c;
                        if rx.plain_start == rx.plain_end {
                            ss.records.plain_ready.store(false, Ordering::Release);
                            if let Some(p) = rx.buf.as_mut().and_then(|b| b.get_mut(HEADER_LEN..end)) {
                                p.zeroize();
                            }
                        }
                    }
                    copied += c;
                }
                if copied == len || peek && copied > 0 || !waitall && copied > 0 {
                    return copied as i32;
                }
                match pump(ss, &mut rx) {
                    Pump::Plain => continue,
                    Pump::End => return copied as i32,
                    Pump::Empty => break,
                    Pump::Err(e) => return partial(copied, e),
                }
            }
        }
        if timeo == 0 {
            return partial(copied, neg(bindings::EAGAIN));
        }
        let ret = io::wait_data(ss.sk, &mut timeo, &ss.records.plain_ready);
        if ret < 0 {
            return partial(copied, ret);
        }
    }
}

/// `EPOLLIN | EPOLLRDNORM` and `EPOLLOUT | EPOLLWRNORM`.
const POLL_IN: u32 = 0x0001 | 0x0040;
const POLL_OUT: u32 = 0x0004 | 0x0100;

/// The poll mask of a socket whose records are active, from MPTCP's:
/// readable only if plaintext, the end or a failure is there (opening a
/// record if MPTCP holds one); writable only if no tail waits.
pub(crate) fn poll(ss: &SmkexSock, mask: u32) -> u32 {
    let mut mask = mask;
    if ss.records.tail_pending.load(Ordering::Acquire) {
        mask &= !POLL_OUT;
    }
    let readable = {
        let mut rx = ss.records.rx.lock();
        if rx.plain_start < rx.plain_end || rx.opener.as_ref().is_some_and(|o| o.is_closed()) {
            true
        } else if io::data_avail(ss.sk) > 0 || mask & POLL_IN != 0 {
            match rx_ready(ss, &mut rx) {
                Ok(()) => match pump(ss, &mut rx) {
                    Pump::Empty => false,
                    // A receive waiting outside `rx` would not see it.
                    Pump::Plain | Pump::End => {
                        ss.sk.wake_readers();
                        true
                    }
                    Pump::Err(_) => true,
                },
                Err(_) => true,
            }
        } else {
            false
        }
    };
    if !readable {
        mask &= !POLL_IN;
    }
    mask
}
