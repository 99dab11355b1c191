// SPDX-License-Identifier: GPL-2.0

//! The handshake driver: runs one socket's protocol session (the sans-I/O
//! core, `smkex_proto`) over its MPTCP connection.
//! Documentation/kernel-integration.md explains every choice; in short:
//!
//! - One delayed work item per socket does all the work, in process
//!   context. It is queued by events, never by a periodic look: the
//!   connection's data_ready and state_change, subflow established and
//!   closed (the glue's hooks) and the handshake deadline. The one wait
//!   without an event, MPTCP pushing a record into its subflow before the
//!   pin may move, is looked at on a short tick.
//! - Sending: records go through MPTCP's own sendmsg, so that MPTCP builds
//!   the data-sequence mappings, with a per-connection scheduler that puts
//!   data only on the pinned channel's subflow and refuses MPTCP-level
//!   reinjection. The pin moves to the other channel only once everything
//!   queued so far went into its subflow. MPTCP's scheduler is restored
//!   once our last record was DATA_ACKed.
//! - Channels: channel 1 is the MP_CAPABLE subflow; channel 2 the client's
//!   policy decides locally (`smkex_logic::channel`), the server takes the
//!   first join.
//! - Receiving: MPTCP's recvmsg, exactly one record at a time
//!   (`smkex_logic::records`), so that application data after the handshake
//!   stays queued. A record is accepted only if every byte of it was
//!   delivered by its channel's subflow (crate::provenance).
//! - Failure resets the connection (MPTCP fast close) and makes the
//!   application's calls return the errno of its reason.

use kernel::bindings;
use kernel::prelude::*;
use kernel::time::{msecs_to_jiffies, Jiffies, Ktime};
use smkex_logic::channel::{channel2_eligible, Egress, Endpoint};
use smkex_logic::errno::failure_errno;
use smkex_logic::counters::Counter;
use smkex_logic::records::{peer_bytes, RecordReader};
use smkex_logic::Zeroize;
use smkex_proto::{Action, Channel, FailureReason, Role, Session, MAX_RECORD_LEN, RANDOM_LEN};
use smkex_uapi::{role, state, SmkexChannelInfo};

use crate::counters::{count, count_failure, errno};
use crate::glue::{self, debug, io, GlueConn, SocketLock, WorkIdle};
use crate::provenance;
use crate::records;
use crate::state::{Inner, SmkexSock};

/// How often the work looks whether MPTCP pushed a record into its subflow.
fn tick() -> Jiffies {
    msecs_to_jiffies(10).max(1)
}

/// `TCP_CLOSE`.
const TCP_CLOSE: i32 = 7;

/// Rounds of one run: a peer that keeps sending cannot hold the worker.
const ROUNDS: usize = 8;

/// `time_after_eq(a, b)` on jiffies.
fn time_after_eq(a: Jiffies, b: Jiffies) -> bool {
    (a.wrapping_sub(b) as isize) >= 0
}

fn role_name(role: u8) -> &'static str {
    if role == role::CLIENT { "client" } else { "server" }
}

fn channel_index(channel: Channel) -> usize {
    match channel {
        Channel::One => 0,
        Channel::Two => 1,
    }
}

const CHANNELS: [Channel; 2] = [Channel::One, Channel::Two];

/// One record the core asked to send, until MPTCP took all of it.
#[derive(Clone, Copy)]
struct OutRecord {
    channel: Channel,
    len: usize,
    sent: usize,
    buf: [u8; MAX_RECORD_LEN],
}

impl OutRecord {
    const EMPTY: OutRecord = OutRecord { channel: Channel::One, len: 0, sent: 0, buf: [0; MAX_RECORD_LEN] };
}

/// A side sends at most three records.
const OUT_MAX: usize = 3;

/// What only the work item touches.
pub(crate) struct Driver {
    /// The core said Complete; sends may remain.
    core_complete: bool,
    /// Failed: the connection still has to be reset.
    reset_pending: bool,
    /// subflow_id of channel 1 and 2, 0: not up yet.
    chan_id: [u32; 2],
    timer_armed: bool,
    deadline: Jiffies,
    out: [OutRecord; OUT_MAX],
    out_head: usize,
    out_count: usize,
    /// Data sequence number after our last record.
    records_end: u64,
    reader: RecordReader,
}

impl Driver {
    pub(crate) const fn new() -> Driver {
        Driver {
            core_complete: false,
            reset_pending: false,
            chan_id: [0; 2],
            timer_armed: false,
            deadline: 0,
            out: [OutRecord::EMPTY; OUT_MAX],
            out_head: 0,
            out_count: 0,
            records_end: 0,
            reader: RecordReader::new(),
        }
    }

    fn out_pending(&self, channel: Channel) -> bool {
        self.out.iter().skip(self.out_head).take(self.out_count).any(|o| o.channel == channel)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Records hold key shares and nonces.
        for o in self.out.iter_mut() {
            o.buf.zeroize();
        }
    }
}

// ---- outcome ----

/// Microseconds since the handshake started (0 if it has not).
fn since_start_us(inner: &Inner) -> u64 {
    inner.started.map_or(0, |started| {
        let ns = Ktime::ktime_get().to_ns() - started.to_ns();
        (ns / 1000).max(0) as u64
    })
}

fn set_duration(inner: &mut Inner) {
    inner.duration_us = since_start_us(inner);
}

/// `inner` held. The work resets the connection afterwards.
fn fail_locked(ss: &SmkexSock, inner: &mut Inner, drv: &mut Driver, reason: FailureReason) {
    if ss.state() != state::HANDSHAKE {
        return;
    }
    let err = errno(failure_errno(reason));
    inner.reason = reason.code();
    ss.set_err(inner, err);
    set_duration(inner);
    drv.reset_pending = true;
    // Pairs with the acquire of the held-data calls: err and reason first.
    ss.set_state(inner, state::FAILED);
    count_failure(ss.sk, reason);
    debug!("{} handshake failed: reason {}, errno {}", role_name(inner.role), reason.code(), err);
}

/// `inner` held: the transport saw something the core cannot.
fn abort_locked(ss: &SmkexSock, inner: &mut Inner, reason: FailureReason, why: &str) {
    if ss.state() != state::HANDSHAKE {
        return;
    }
    debug!("aborting handshake: {}", why);
    if let Some(session) = inner.session.as_mut() {
        session.abort(reason);
    }
}

fn abort(ss: &SmkexSock, reason: FailureReason, why: &str) {
    let mut inner = ss.inner.lock();
    abort_locked(ss, &mut inner, reason, why);
}

/// `inner` held; the core said Complete and every record was handed out.
fn complete_locked(ss: &SmkexSock, inner: &mut Inner) {
    if ss.state() != state::HANDSHAKE {
        return;
    }
    set_duration(inner);
    ss.set_state(inner, state::COMPLETE);
    count(ss.sk, Counter::HandshakesCompleted);
    debug!("{} handshake complete in {} us", role_name(inner.role), inner.duration_us);
}

/// Wakes blocked application calls and pollers after the handshake ended.
fn wake(ss: &SmkexSock) {
    ss.ended.notify_all();
    ss.sk.state_change();
}

/// Gives the connection its scheduler and callbacks back (socket locked).
fn detach_locked(ss: &SmkexSock, lock: &mut SocketLock) {
    detach_with(ss, lock, false);
}

/// [`detach_locked`]; with `linger`, a scheduler still pinned stays pinned
/// (without us) until MPTCP destroys the connection.
fn detach_with(ss: &SmkexSock, lock: &mut SocketLock, linger: bool) {
    let conn = ss.conn.get(lock);
    let saved = conn.saved_sched.take();
    let callbacks = core::mem::replace(&mut conn.callbacks, false);
    if let Some(saved) = saved {
        let pin = ss.pin_id.load(core::sync::atomic::Ordering::Relaxed);
        if linger {
            if lock.sched_linger(saved, pin) {
                count(ss.sk, Counter::PinnedAtClose);
            }
        } else {
            lock.sched_unpin(saved);
        }
        ss.pin_id.store(0, core::sync::atomic::Ordering::Relaxed);
    }
    if callbacks {
        lock.callbacks_restore();
    }
}

/// A connection the record layer failed: reset, then waiters and pollers.
pub(crate) fn reset_and_wake(ss: &SmkexSock) {
    reset(ss);
    wake(ss);
}

/// Runs the work on the short tick (the record layer's pending tail).
pub(crate) fn queue_tick(ss: &SmkexSock) {
    ss.work.queue(tick());
}

/// Resets a failed connection: MPTCP fast close, and the error for pollers.
fn reset(ss: &SmkexSock) {
    let mut lock = ss.sk.lock();
    detach_locked(ss, &mut lock);
    lock.reset(ss.err());
    drop(lock);
    ss.sk.error_report();
}

// ---- the core's actions ----

/// `inner` held: takes every action the core has ready.
fn drain_locked(ss: &SmkexSock, inner: &mut Inner, drv: &mut Driver) {
    let mut record = [0u8; MAX_RECORD_LEN];
    for _ in 0..16 {
        if ss.state() != state::HANDSHAKE {
            break;
        }
        let Some(session) = inner.session.as_mut() else {
            break;
        };
        match session.poll(&mut record) {
            Action::Idle => break,
            Action::Send { channel, len } => {
                let slot = drv.out_head + drv.out_count;
                match (drv.out.get_mut(slot), record.get(..len)) {
                    (Some(o), Some(bytes)) => {
                        o.channel = channel;
                        o.len = len;
                        o.sent = 0;
                        if let Some(dst) = o.buf.get_mut(..len) {
                            dst.copy_from_slice(bytes);
                        }
                        drv.out_count += 1;
                    }
                    _ => abort_locked(ss, inner, FailureReason::Internal, "bad send action"),
                }
            }
            Action::ArmTimer { millis } => {
                // +1: a partial jiffy has passed already; never fire early.
                drv.deadline = glue::jiffies().wrapping_add(msecs_to_jiffies(millis)).wrapping_add(1);
                drv.timer_armed = true;
            }
            Action::Complete => drv.core_complete = true,
            Action::Fail(reason) => fail_locked(ss, inner, drv, reason),
        }
    }
    record.zeroize();
    if drv.core_complete && drv.out_count == 0 {
        complete_locked(ss, inner);
    }
}

// ---- what the transport looks like now ----

#[derive(Default)]
struct Transport {
    closed: Option<(FailureReason, &'static str)>,
    /// Client: the peer forbids joins to its only trusted address.
    deny_join: bool,
    /// subflow_id of each channel if it can carry data.
    chan_id: [u32; 2],
    /// A latched channel's subflow can no longer carry data.
    chan_gone: [bool; 2],
    info: [SmkexChannelInfo; 2],
}

fn endpoint(info: &SmkexChannelInfo) -> Endpoint {
    Endpoint { family: info.family, remote_port_be: info.remote_port, remote_addr: info.remote_addr }
}

/// Channel 1 is the MP_CAPABLE subflow; channel 2, once latched, the
/// subflow with that id; before that, the first subflow the role's policy
/// accepts (client: `smkex_logic::channel`; server: any join).
fn read_transport(ss: &SmkexSock, drv: &Driver) -> Transport {
    let lock = ss.sk.lock();
    let conn: GlueConn = lock.read_conn();
    let inner = ss.inner.lock();
    let mut t = Transport::default();
    if conn.fallback {
        // A one-path attacker can strip MP_CAPABLE: fail closed.
        t.closed = Some((FailureReason::ChannelIntegrity, "the connection fell back to plain TCP"));
        return t;
    }
    // A reset. A FIN is seen by recvmsg (end of stream) only after every
    // byte before it, so a peer that completes, sends and closes at once
    // still has its Finished read.
    if conn.reset {
        t.closed = Some((FailureReason::PeerClosed, "the connection was reset"));
        return t;
    }
    let client = inner.role == role::CLIENT;
    t.deny_join = client && inner.peer_addrs.is_empty() && conn.deny_join_id0;
    let first = conn.subflows().iter().find(|s| s.first);
    let first_end = first.map(|s| endpoint(&s.info));
    for s in conn.subflows().iter().filter(|s| s.usable) {
        let k = if s.first {
            if !conn.established {
                continue;
            }
            0
        } else if drv.chan_id[1] != 0 {
            if s.id != drv.chan_id[1] {
                continue;
            }
            1
        } else if t.chan_id[1] == 0
            && (!client
                || channel2_eligible(
                    first_end.as_ref(),
                    &endpoint(&s.info),
                    false,
                    s.request_join,
                    Egress { first: first.map_or(0, |f| f.ifindex), candidate: s.ifindex },
                    &inner.peer_addrs,
                ))
        {
            1
        } else {
            continue;
        };
        t.chan_id[k] = s.id;
        t.info[k] = s.info;
    }
    for k in 0..2 {
        t.chan_gone[k] = drv.chan_id[k] != 0 && t.chan_id[k] != drv.chan_id[k];
    }
    t
}

// ---- I/O through MPTCP's own sendmsg and recvmsg ----

/// Hands queued records to MPTCP, in order; true if bytes went out. A
/// record for the other channel waits until MPTCP pushed everything before
/// it into its subflow, so that moving the pin cannot move queued bytes:
/// what a subflow holds only that subflow's TCP retransmits, and
/// MPTCP-level reinjection is refused. (Not DATA_ACKed: a peer may answer
/// with an ADD_ADDR echo, which carries no DATA_ACK, and then send nothing
/// until our next record.)
fn send_queued(ss: &SmkexSock, drv: &mut Driver, t: &Transport) -> bool {
    let mut progress = false;
    while drv.out_count > 0 {
        let head = drv.out_head;
        let Some(o) = drv.out.get_mut(head) else {
            break;
        };
        let id = t.chan_id[channel_index(o.channel)];
        if id == 0 {
            break;
        }
        if ss.pin_id.load(core::sync::atomic::Ordering::Relaxed) != id && !repin(ss, id) {
            break;
        }
        let ret = io::send(ss.sk, o.buf.get(o.sent..o.len).unwrap_or(&[]), io::DONTWAIT | io::NOSIGNAL);
        if ret == -(bindings::EAGAIN as i32) || ret == 0 {
            break;
        }
        if ret < 0 {
            abort(ss, FailureReason::LocalError, "sending a record failed");
            break;
        }
        progress = true;
        debug!("sent {} bytes of record {} on channel {} (subflow {})", ret, o.buf[0], o.channel as u8, id);
        o.sent += ret as usize;
        if o.sent < o.len {
            continue;
        }
        o.buf.zeroize();
        *o = OutRecord::EMPTY;
        drv.out_head += 1;
        drv.out_count -= 1;
        // Nothing but our records was queued: they end here.
        drv.records_end = io::write_seq(ss.sk);
    }
    if drv.out_count == 0 {
        drv.out_head = 0;
    }
    progress
}

/// Moves the pin to subflow `id` if MPTCP holds nothing unsent. The look
/// and the move happen under the socket lock and the data lock, under which
/// MPTCP pushes pending data (as the socket's owner, and from its subflows'
/// softirq), so that no queued byte can follow the pin to the other subflow.
fn repin(ss: &SmkexSock, id: u32) -> bool {
    let _lock = ss.sk.lock();
    let data = ss.sk.data_lock();
    let empty = data.nothing_unsent();
    if empty {
        ss.pin_id.store(id, core::sync::atomic::Ordering::Relaxed);
    }
    empty
}

/// A whole record is held: checks that its channel's subflow delivered
/// every byte of it, then feeds the core. False if it must wait (its
/// channel is not latched yet: the event of its subflow queues the work).
fn deliver_record(ss: &SmkexSock, drv: &mut Driver) -> bool {
    let Some((channel, bytes)) = drv.reader.record() else {
        return false;
    };
    let ty = bytes.first().copied().unwrap_or(0);
    let id = drv.chan_id[channel_index(channel)];
    if id == 0 {
        debug!("record {}: channel {} not up yet", ty, channel as u8);
        return false;
    }
    let len = bytes.len() as u32;
    let verdict = provenance::check(ss, drv.reader.offset(), len, id);
    debug!("received record {} on channel {} ({} bytes)", ty, channel as u8, len);
    match verdict {
        Err(why) => abort(ss, FailureReason::ChannelIntegrity, why),
        Ok(()) => {
            let mut inner = ss.inner.lock();
            if ss.state() == state::HANDSHAKE {
                if let Some(session) = inner.session.as_mut() {
                    session.receive(channel, bytes);
                }
            }
        }
    }
    drv.reader.take();
    true
}

/// Reads at most the rest of the current record; true if bytes were read.
/// Never reads past a record: what follows belongs to the application.
fn receive(ss: &SmkexSock, drv: &mut Driver) -> bool {
    if drv.reader.record().is_some() {
        // Waiting for its channel.
        return deliver_record(ss, drv);
    }
    let mut buf = [0u8; MAX_RECORD_LEN];
    let want = drv.reader.want().min(MAX_RECORD_LEN);
    let ret = io::recv(ss.sk, buf.get_mut(..want).unwrap_or(&mut []), io::DONTWAIT);
    if ret == -(bindings::EAGAIN as i32) {
        return false;
    }
    if ret <= 0 {
        let (reason, why) = if ret != 0 {
            (FailureReason::PeerClosed, "reading a record failed")
        } else if ss.shut_down(false) {
            // shutdown(SHUT_RD): the records can no longer be read.
            (FailureReason::LocalError, "the application shut the socket down for reading")
        } else {
            (FailureReason::PeerClosed, "the peer closed")
        };
        abort(ss, reason, why);
        return false;
    }
    drv.reader.push(buf.get(..ret as usize).unwrap_or(&[]));
    buf.zeroize();
    if drv.reader.record().is_some() {
        deliver_record(ss, drv);
    }
    true
}

// ---- the work ----

/// `inner` held: the deadline passed.
fn deadline_locked(ss: &SmkexSock, inner: &mut Inner, drv: &mut Driver) {
    drv.timer_armed = false;
    if drv.chan_id[1] == 0 {
        abort_locked(
            ss,
            inner,
            FailureReason::NoIndependentPath,
            "no subflow this host trusts as channel 2 came up in time",
        );
    } else if let Some(session) = inner.session.as_mut() {
        session.timer_expired();
    }
}

/// One round: events in, actions out, I/O. True if it made progress.
fn step(ss: &SmkexSock, drv: &mut Driver) -> bool {
    let t = read_transport(ss, drv);
    {
        let mut inner = ss.inner.lock();
        if ss.state() == state::HANDSHAKE {
            if let Some((reason, why)) = t.closed {
                abort_locked(ss, &mut inner, reason, why);
            }
            if t.deny_join {
                abort_locked(
                    ss,
                    &mut inner,
                    FailureReason::NoIndependentPath,
                    "the peer forbids joins to its address (C flag)",
                );
            }
            if drv.timer_armed && time_after_eq(glue::jiffies(), drv.deadline) {
                deadline_locked(ss, &mut inner, drv);
            }
            for (k, channel) in CHANNELS.into_iter().enumerate() {
                if drv.chan_id[k] != 0 || t.chan_id[k] == 0 {
                    continue;
                }
                drv.chan_id[k] = t.chan_id[k];
                inner.channel[k] = t.info[k];
                // At least 1, so that "usable at once" differs from "never".
                inner.channel_up_us[k] = since_start_us(&inner).max(1);
                debug!("channel {} up (subflow {})", k + 1, t.chan_id[k]);
                if let Some(session) = inner.session.as_mut() {
                    session.channel_up(channel);
                }
            }
            drain_locked(ss, &mut inner, drv);
        }
    }
    if ss.state() == state::FAILED {
        return false;
    }
    let mut progress = false;
    if drv.out_count > 0 && send_queued(ss, drv, &t) {
        progress = true;
    }
    if ss.state() == state::HANDSHAKE && !drv.core_complete && receive(ss, drv) {
        progress = true;
    }
    if drv.core_complete && ss.state() == state::HANDSHAKE {
        let mut inner = ss.inner.lock();
        drain_locked(ss, &mut inner, drv);
    }
    // Nothing more to read now: a channel whose subflow went away while the
    // peer still owes records on it, or we still have one to send on it,
    // fails the handshake at once.
    if !progress && ss.state() == state::HANDSHAKE {
        let mut inner = ss.inner.lock();
        let own = if inner.role == role::CLIENT { Role::Client } else { Role::Server };
        for (k, channel) in CHANNELS.into_iter().enumerate() {
            if t.chan_gone[k]
                && (drv.reader.consumed(channel) < peer_bytes(own, Some(channel)) || drv.out_pending(channel))
            {
                abort_locked(
                    ss,
                    &mut inner,
                    FailureReason::ChannelClosed,
                    "a channel's subflow closed before its records passed",
                );
            }
        }
        drain_locked(ss, &mut inner, drv);
    }
    progress
}

/// After completion: gives MPTCP its scheduler back once the peer
/// DATA_ACKed our last record. Before that MPTCP could reinject an
/// unacknowledged record on another subflow, which the pinned scheduler
/// refuses. A DATA_ACK can be missing for good (a peer's ACK that carried
/// an ADD_ADDR echo instead, and nothing to send after it): at the
/// handshake's deadline the scheduler comes back regardless.
fn finish(ss: &SmkexSock, drv: &Driver) -> bool {
    let mut lock = ss.sk.lock();
    let installed = ss.conn.get(&mut lock).saved_sched.is_some();
    let done = !installed
        || ss.sk.tcp_state() == TCP_CLOSE
        || lock.acked(drv.records_end)
        || time_after_eq(glue::jiffies(), drv.deadline);
    if done {
        detach_locked(ss, &mut lock);
    }
    done
}

/// At completion, on the handshake's subflows:
/// - they acknowledge what they hold at once. Having just sent a record
///   right after receiving one, each looks interactive to TCP, which then
///   delays its ACK (40 ms or more) hoping to piggyback it; the server sends
///   nothing after the last record, so the client's scheduler stayed pinned
///   until that timer.
/// - Nagle no longer waits for the ACK of our last record before the
///   application's first small write: a record is ours, not one of the
///   application's small writes that Nagle exists to coalesce, and waiting
///   cost the client's first write one RTT.
fn end_on_subflows(ss: &SmkexSock, drv: &Driver) {
    let lock = ss.sk.lock();
    for id in drv.chan_id.into_iter().filter(|&id| id != 0) {
        lock.subflow_handshake_done(id);
    }
}

/// When the work must run again by itself: at once after a full batch, on
/// the tick while records wait to be handed to their subflow, else at the
/// deadline. Events queue it otherwise. `queue` (not `kick`) so that an
/// event that queued it meanwhile is never postponed.
fn rearm(ss: &SmkexSock, drv: &Driver, busy: bool) {
    if busy {
        ss.work.queue(0);
    } else if drv.out_count > 0 {
        ss.work.queue(tick());
    } else if drv.timer_armed {
        let now = glue::jiffies();
        let left = if time_after_eq(now, drv.deadline) { 0 } else { drv.deadline.wrapping_sub(now) };
        ss.work.queue(left);
    }
}

/// One run of the work item (crate::entry::work_fn).
pub(crate) fn run(ss: &SmkexSock, idle: &mut WorkIdle<'_>) {
    let drv = ss.driver.get(idle);
    let before = ss.state();
    let mut rounds = 0;
    while rounds < ROUNDS && ss.state() == state::HANDSHAKE {
        rounds += 1;
        if !step(ss, drv) {
            break;
        }
    }
    match ss.state() {
        state::HANDSHAKE => rearm(ss, drv, rounds == ROUNDS),
        state::FAILED => {
            if drv.reset_pending {
                drv.reset_pending = false;
                reset(ss);
                wake(ss);
            }
        }
        state::COMPLETE => {
            if before == state::HANDSHAKE {
                end_on_subflows(ss, drv);
                wake(ss);
            }
            records::flush_from_work(ss);
            if !finish(ss, drv) {
                ss.work.queue(tick());
            }
        }
        _ => {}
    }
}

// ---- life cycle ----

/// Before the connection starts: the session for `role` with fresh
/// randomness. The only step that can fail (ENOMEM), so that connect()
/// fails before any packet leaves.
pub(crate) fn prepare(ss: &SmkexSock, own: Role) -> Result {
    let mut random = [0u8; RANDOM_LEN];
    glue::random_bytes(&mut random);
    let timeout_ms = ss.inner.lock().timeout_ms;
    let session = KBox::new(Session::with_timeout(own, &random, timeout_ms), GFP_KERNEL);
    random.zeroize();
    let Ok(session) = session else {
        count(ss.sk, Counter::HandshakeStartFailed);
        return Err(ENOMEM);
    };
    {
        let mut inner = ss.inner.lock();
        // A connect() that failed after preparing left one behind.
        inner.session = Some(session);
        inner.role = match own {
            Role::Client => role::CLIENT,
            Role::Server => role::SERVER,
        };
    }
    // No data has moved on a client yet; a server adopts its map (accept).
    if own == Role::Client {
        provenance::begin_client(ss);
    }
    Ok(())
}

/// Socket locked, session prepared, the connection just started (client:
/// connect() sent the SYN; server: accept() returned it).
pub(crate) fn start(ss: &SmkexSock, lock: &mut SocketLock) {
    let (own, timeout_ms) = {
        let mut inner = ss.inner.lock();
        inner.started = Some(Ktime::ktime_get());
        ss.set_state(&mut inner, state::HANDSHAKE);
        (inner.role, inner.timeout_ms)
    };
    let saved = lock.sched_pin();
    let callbacks = lock.callbacks_install();
    let conn = ss.conn.get(lock);
    conn.saved_sched = Some(saved);
    conn.callbacks = callbacks;
    count(ss.sk, Counter::HandshakesStarted);
    debug!("{} handshake started, timeout {} ms", role_name(own), timeout_ms);
    ss.work.kick();
}

/// connect(AF_UNSPEC) or a failed connect, socket locked, after MPTCP's
/// disconnect: a handshake that ran belongs to the old connection. It ends
/// for good (failed, local error, key material erased), so that the socket
/// can never carry a new connection that SMKEX did not protect while
/// SMKEX_INFO still described the old one; connect() then refuses.
pub(crate) fn disconnect_locked(ss: &SmkexSock, lock: &mut SocketLock) {
    detach_locked(ss, lock);
    {
        let mut inner = ss.inner.lock();
        let now = ss.state();
        if now == state::HANDSHAKE || now == state::COMPLETE {
            inner.reason = FailureReason::LocalError.code();
            ss.set_err(&mut inner, bindings::ECONNABORTED as i32);
            if now == state::HANDSHAKE {
                set_duration(&mut inner);
                count_failure(ss.sk, FailureReason::LocalError);
            }
            ss.set_state(&mut inner, state::FAILED);
        }
        inner.session = None;
    }
    ss.ended.notify_all();
}

/// close(): the work stops for good and nothing of ours stays on the
/// connection but, after completion, the pinned scheduler while the peer
/// has not DATA_ACKed our last record. MPTCP's own would reinject that
/// record on another subflow once its retransmission timer fires (loss,
/// or just a slow ACK), and the peer, whose handshake may still wait for
/// it, would fail on its provenance. During the handshake the peer fails
/// anyway. Unlocked on entry (the work takes the socket lock).
pub(crate) fn stop(ss: &SmkexSock) {
    let mut idle = ss.work.disable();
    // Records and the partial one hold secrets: erased now, not at free.
    *ss.driver.get(&mut idle) = Driver::new();
    let mut lock = ss.sk.lock();
    detach_with(ss, &mut lock, ss.state() == state::COMPLETE);
}
