// SPDX-License-Identifier: GPL-2.0

//! The one layer of `unsafe`: the C glue's contract (glue/smkex_glue.h,
//! mirrored by the `extern` block below) and the small safe wrappers the
//! rest of the module uses: a socket handle, the socket lock and the msk
//! data lock as guards that always release, cells whose contents only the
//! holder of a lock (or the work item) may touch, the delayed work, the
//! counters, dynamic-debug logging and randomness.

use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int, c_uint, c_void};
use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;

use kernel::bindings;
use kernel::prelude::*;
use kernel::time::Jiffies;
use kernel::types::Opaque;
use smkex_uapi::SmkexChannelInfo;

/// `struct smkex_glue_subflow`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct GlueSubflow {
    pub(crate) id: u32,
    pub(crate) usable: bool,
    pub(crate) first: bool,
    pub(crate) request_join: bool,
    pub(crate) ifindex: c_int,
    pub(crate) info: SmkexChannelInfo,
}

/// Entries of [`GlueConn::sub`] (`SMKEX_GLUE_SUBFLOWS`).
pub(crate) const GLUE_SUBFLOWS: usize = 8;

/// `struct smkex_glue_conn`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct GlueConn {
    pub(crate) fallback: bool,
    pub(crate) reset: bool,
    pub(crate) established: bool,
    pub(crate) deny_join_id0: bool,
    pub(crate) n: u8,
    pub(crate) truncated: bool,
    pub(crate) sub: [GlueSubflow; GLUE_SUBFLOWS],
}

impl GlueConn {
    /// The subflows the glue filled in.
    pub(crate) fn subflows(&self) -> &[GlueSubflow] {
        self.sub.get(..usize::from(self.n)).unwrap_or(&[])
    }
}

/// `struct smkex_glue_ofo`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct GlueOfo {
    pub(crate) key: usize,
    pub(crate) map_seq: u64,
    pub(crate) end_seq: u64,
}

mod ffi {
    use super::*;

    extern "C" {
        pub(super) fn smkex_glue_init() -> c_int;
        pub(super) fn smkex_glue_exit();
        pub(super) fn smkex_glue_param_timeout_ms() -> c_uint;
        pub(super) fn smkex_glue_param_record_bench_mib() -> c_uint;
        pub(super) fn smkex_glue_count(sk: *const bindings::sock, index: c_uint);
        pub(super) fn smkex_glue_debug(msg: *const c_char, len: usize);
        pub(super) fn smkex_glue_hooks_get() -> c_int;
        pub(super) fn smkex_glue_hooks_put();
        pub(super) fn smkex_glue_attach(sk: *mut bindings::sock, state: *mut c_void) -> c_int;
        pub(super) fn smkex_glue_restore_proto(sk: *mut bindings::sock);
        pub(super) fn smkex_glue_lock(sk: *mut bindings::sock);
        pub(super) fn smkex_glue_unlock(sk: *mut bindings::sock);
        pub(super) fn smkex_glue_data_lock(sk: *mut bindings::sock);
        pub(super) fn smkex_glue_data_unlock(sk: *mut bindings::sock);
        pub(super) fn smkex_glue_user_data(sk: *const bindings::sock) -> *mut c_void;
        pub(super) fn smkex_glue_set_user_data(sk: *mut bindings::sock, data: *mut c_void);
        pub(super) fn smkex_glue_sk_state(sk: *const bindings::sock) -> c_int;
        pub(super) fn smkex_glue_fastopen_requested(sk: *mut bindings::sock) -> bool;
        pub(super) fn smkex_glue_timeo(sk: *mut bindings::sock, send: bool, nonblock: bool) -> i64;
        pub(super) fn smkex_glue_copy_optval(optval: *const c_void, dst: *mut u8, len: usize) -> c_int;
        pub(super) fn smkex_glue_work_init(
            work: *mut bindings::delayed_work,
            func: unsafe extern "C" fn(*mut bindings::work_struct),
        );
        pub(super) fn smkex_glue_work_kick(work: *mut bindings::delayed_work);
        pub(super) fn smkex_glue_work_queue(work: *mut bindings::delayed_work, delay: Jiffies);
        pub(super) fn smkex_glue_read_conn(sk: *mut bindings::sock, conn: *mut GlueConn);
        pub(super) fn smkex_glue_send(sk: *mut bindings::sock, buf: *const u8, len: usize, flags: c_int) -> c_int;
        pub(super) fn smkex_glue_recv(sk: *mut bindings::sock, buf: *mut u8, len: usize, flags: c_int) -> c_int;
        pub(super) fn smkex_glue_wait_data(sk: *mut bindings::sock, timeo: *mut i64, ready: *const bool) -> c_int;
        pub(super) fn smkex_glue_wait_memory(sk: *mut bindings::sock, timeo: *mut i64) -> c_int;
        pub(super) fn smkex_glue_send_room(sk: *const bindings::sock) -> usize;
        pub(super) fn smkex_glue_data_avail(sk: *const bindings::sock) -> u64;
        pub(super) fn smkex_glue_msg_copy_from(msg: *mut c_void, buf: *mut u8, len: usize) -> usize;
        pub(super) fn smkex_glue_msg_copy_to(msg: *mut c_void, buf: *const u8, len: usize) -> usize;
        pub(super) fn smkex_glue_aead_seal(
            buf: *mut u8,
            pt_len: usize,
            ad: *const u8,
            ad_len: usize,
            nonce: u64,
            key: *const u8,
        );
        pub(super) fn smkex_glue_aead_open(
            buf: *mut u8,
            ct_len: usize,
            ad: *const u8,
            ad_len: usize,
            nonce: u64,
            key: *const u8,
        ) -> bool;
        pub(super) fn smkex_glue_nothing_unsent(sk: *mut bindings::sock) -> bool;
        pub(super) fn smkex_glue_write_seq(sk: *mut bindings::sock) -> u64;
        pub(super) fn smkex_glue_acked(sk: *mut bindings::sock, seq: u64) -> bool;
        pub(super) fn smkex_glue_subflow_handshake_done(sk: *mut bindings::sock, id: u32);
        pub(super) fn smkex_glue_sched_pin(sk: *mut bindings::sock) -> *mut c_void;
        pub(super) fn smkex_glue_sched_unpin(sk: *mut bindings::sock, saved: *mut c_void);
        pub(super) fn smkex_glue_sched_linger(sk: *mut bindings::sock, saved: *mut c_void, pin: u32) -> bool;
        pub(super) fn smkex_glue_callbacks_install(sk: *mut bindings::sock) -> bool;
        pub(super) fn smkex_glue_callbacks_restore(sk: *mut bindings::sock);
        pub(super) fn smkex_glue_reset(sk: *mut bindings::sock, err: c_int);
        pub(super) fn smkex_glue_error_report(sk: *mut bindings::sock);
        pub(super) fn smkex_glue_state_change(sk: *mut bindings::sock);
        pub(super) fn smkex_glue_wake_writers(sk: *mut bindings::sock);
        pub(super) fn smkex_glue_wake_readers(sk: *mut bindings::sock);
        pub(super) fn smkex_glue_ack_seq(sk: *const bindings::sock) -> u64;
        pub(super) fn smkex_glue_data_moved(sk: *const bindings::sock) -> bool;
        pub(super) fn smkex_glue_ofo(
            sk: *const bindings::sock,
            end: u64,
            out: *mut GlueOfo,
            max: c_uint,
            truncated: *mut bool,
        ) -> c_uint;
    }
}

/// Brings up the glue (counters, hooks, entry points); undone by [`exit`].
pub(crate) fn init() -> Result {
    // SAFETY: called once, from module init in process context.
    to_result(unsafe { ffi::smkex_glue_init() })
}

/// Takes the glue down; module exit, once no socket of ours is left.
pub(crate) fn exit() {
    // SAFETY: `init` succeeded and every socket of ours is gone (each held a
    // module reference).
    unsafe { ffi::smkex_glue_exit() }
}

/// `0` or a negative errno as a `Result`.
pub(crate) fn to_result(err: c_int) -> Result {
    if err == 0 { Ok(()) } else { Err(Error::from_errno(err)) }
}

/// The `handshake_timeout_ms` module parameter.
/// The `record_bench_mib` module parameter (0: no benchmark at load).
pub(crate) fn param_record_bench_mib() -> u32 {
    // SAFETY: reads a module parameter.
    unsafe { ffi::smkex_glue_param_record_bench_mib() }
}

pub(crate) fn param_timeout_ms() -> u32 {
    // SAFETY: a plain read of a module parameter.
    unsafe { ffi::smkex_glue_param_timeout_ms() }
}

/// Arms MPTCP's hooks for one more SMKEX socket (process context).
pub(crate) fn hooks_get() -> Result {
    // SAFETY: process context; balanced by `hooks_put`.
    to_result(unsafe { ffi::smkex_glue_hooks_get() })
}

/// Gives back a [`hooks_get`].
pub(crate) fn hooks_put() {
    // SAFETY: pairs with a successful `hooks_get`.
    unsafe { ffi::smkex_glue_hooks_put() }
}

/// Fills `buf` with random bytes.
pub(crate) fn random_bytes(buf: &mut [u8]) {
    // SAFETY: `buf` is `buf.len()` writable bytes.
    unsafe { bindings::get_random_bytes(buf.as_mut_ptr().cast(), buf.len()) }
}

/// The kernel's tick counter.
pub(crate) fn jiffies() -> Jiffies {
    // SAFETY: `jiffies` is always readable; the kernel updates it atomically.
    unsafe { core::ptr::read_volatile(&raw const bindings::jiffies) }
}

/// Logs `smkex: <args>` through dynamic debug (6.12's `pr_debug!` is not
/// dynamic debug). Longer messages are cut.
pub(crate) fn debug_args(args: fmt::Arguments<'_>) {
    let mut line = LineBuf { buf: [0; 160], len: 0 };
    // A cut line is still worth logging.
    let _ = fmt::write(&mut line, args);
    // SAFETY: `line.buf` holds `line.len` initialised bytes.
    unsafe { ffi::smkex_glue_debug(line.buf.as_ptr().cast(), line.len) }
}

/// Formats `smkex: ...` into dynamic debug.
macro_rules! debug {
    ($($arg:tt)*) => { $crate::glue::debug_args(format_args!($($arg)*)) };
}
pub(crate) use debug;

struct LineBuf {
    buf: [u8; 160],
    len: usize,
}

impl fmt::Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let n = s.len().min(room);
        if let (Some(dst), Some(src)) = (self.buf.get_mut(self.len..self.len + n), s.as_bytes().get(..n)) {
            dst.copy_from_slice(src);
            self.len += n;
        }
        if n < s.len() { Err(fmt::Error) } else { Ok(()) }
    }
}

/// A socket the kernel handed the module. Invariant: the socket outlives
/// every use of the handle. Handles come from the callbacks MPTCP calls on
/// the socket, and one is kept in a socket's SMKEX state, which close()
/// frees (after stopping its work) before MPTCP's own close.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sock(NonNull<bindings::sock>);

// SAFETY: a `struct sock` is used from any CPU; every access below goes
// through the kernel's own synchronisation (the glue says which).
unsafe impl Send for Sock {}
// SAFETY: as above.
unsafe impl Sync for Sock {}

impl Sock {
    /// # Safety
    /// `sk` is a live socket that outlives every use of the handle.
    pub(crate) unsafe fn from_raw(sk: *mut bindings::sock) -> Option<Sock> {
        NonNull::new(sk).map(Sock)
    }

    fn raw(self) -> *mut bindings::sock {
        self.0.as_ptr()
    }

    /// Takes the socket lock (process context; may sleep).
    pub(crate) fn lock(self) -> SocketLock {
        // SAFETY: a live socket (type invariant); process context.
        unsafe { ffi::smkex_glue_lock(self.raw()) };
        SocketLock { sk: self, release: true }
    }

    /// Takes the msk's data lock (a spinlock, BH off).
    pub(crate) fn data_lock(self) -> DataLock {
        // SAFETY: a live MPTCP socket (type invariant).
        unsafe { ffi::smkex_glue_data_lock(self.raw()) };
        DataLock { sk: self, release: true }
    }

    /// Counts an event in the socket's network namespace.
    pub(crate) fn count(self, index: usize) {
        // SAFETY: a live socket; the glue ignores indexes it has no slot for.
        unsafe { ffi::smkex_glue_count(self.raw(), index as c_uint) }
    }

    /// Its `sk_user_data` (NOCOPY). The caller holds RCU, the data lock or
    /// the socket lock, and only compares or dereferences under the rules
    /// of [`crate::state`].
    pub(crate) fn user_data(self) -> *mut c_void {
        // SAFETY: a live socket.
        unsafe { ffi::smkex_glue_user_data(self.raw()) }
    }

    /// TCP state of the connection (`TCP_CLOSE` = 7, ...).
    pub(crate) fn tcp_state(self) -> i32 {
        // SAFETY: a live socket; an atomic load.
        unsafe { ffi::smkex_glue_sk_state(self.raw()) }
    }

    /// Did the application ask for TCP Fast Open (socket locked)?
    pub(crate) fn fastopen_requested(self, _lock: &SocketLock) -> bool {
        // SAFETY: a live socket, locked by the caller.
        unsafe { ffi::smkex_glue_fastopen_requested(self.raw()) }
    }

    /// The socket's send or receive timeout in jiffies (0 when non-blocking).
    pub(crate) fn timeo(self, send: bool, nonblock: bool) -> i64 {
        // SAFETY: a live socket; plain reads.
        unsafe { ffi::smkex_glue_timeo(self.raw(), send, nonblock) }
    }

    /// Takes the socket over with `state` as its SMKEX state: `Ok(true)`
    /// done, `Ok(false)` it already was (by a concurrent call), or the
    /// negative errno why not.
    ///
    /// # Safety
    /// `state` stays valid until the socket is given back and an RCU grace
    /// period passed.
    pub(crate) unsafe fn attach(self, state: *mut c_void) -> core::result::Result<bool, c_int> {
        // SAFETY: a live socket; the caller's guarantee for `state`.
        match unsafe { ffi::smkex_glue_attach(self.raw(), state) } {
            0 => Ok(true),
            1 => Ok(false),
            err => Err(err),
        }
    }

    /// Runs MPTCP's connection-level error report (after a reset).
    pub(crate) fn error_report(self) {
        // SAFETY: a live socket; process context, unlocked.
        unsafe { ffi::smkex_glue_error_report(self.raw()) }
    }

    /// Wakes pollers through `sk_state_change`.
    pub(crate) fn state_change(self) {
        // SAFETY: a live socket.
        unsafe { ffi::smkex_glue_state_change(self.raw()) }
    }

    /// Wakes pollers and waiters for `POLLOUT`.
    pub(crate) fn wake_writers(self) {
        // SAFETY: a live socket; any context.
        unsafe { ffi::smkex_glue_wake_writers(self.raw()) }
    }

    /// Wakes pollers and waiters for `POLLIN`.
    pub(crate) fn wake_readers(self) {
        // SAFETY: a live socket; any context.
        unsafe { ffi::smkex_glue_wake_readers(self.raw()) }
    }
}

/// The socket lock, held until dropped.
pub(crate) struct SocketLock {
    sk: Sock,
    release: bool,
}

impl SocketLock {
    /// The socket lock the caller of a proto callback holds (connect,
    /// disconnect): used, not released.
    ///
    /// # Safety
    /// The socket is locked by the caller for as long as the guard lives.
    pub(crate) unsafe fn held_by_caller(sk: Sock) -> SocketLock {
        SocketLock { sk, release: false }
    }

    /// The locked socket.
    pub(crate) fn sock(&self) -> Sock {
        self.sk
    }

    /// What the connection looks like now.
    pub(crate) fn read_conn(&self) -> GlueConn {
        let mut conn = GlueConn::default();
        // SAFETY: the socket is locked; `conn` is writable.
        unsafe { ffi::smkex_glue_read_conn(self.sk.raw(), &mut conn) };
        conn
    }

    /// Is everything up to `seq` DATA_ACKed?
    pub(crate) fn acked(&self, seq: u64) -> bool {
        // SAFETY: the socket is locked.
        unsafe { ffi::smkex_glue_acked(self.sk.raw(), seq) }
    }

    /// The handshake is over on subflow `id` (if it is still there): it
    /// sends the ACK it holds back for its delayed-ACK timer now, as
    /// `TCP_QUICKACK` would, and its last record, once sent, no longer
    /// holds back the application's next small write under Nagle.
    pub(crate) fn subflow_handshake_done(&self, id: u32) {
        // SAFETY: the socket is locked, so its subflow list is stable; the
        // glue takes the subflow's lock, which nests in it.
        unsafe { ffi::smkex_glue_subflow_handshake_done(self.sk.raw(), id) }
    }

    /// Puts the pinned scheduler in; returns MPTCP's for [`Self::sched_unpin`].
    pub(crate) fn sched_pin(&self) -> SavedSched {
        // SAFETY: the socket is locked; the glue takes the data lock.
        SavedSched(unsafe { ffi::smkex_glue_sched_pin(self.sk.raw()) })
    }

    /// Gives MPTCP its scheduler back.
    pub(crate) fn sched_unpin(&self, saved: SavedSched) {
        // SAFETY: the socket is locked; `saved` came from `sched_pin` on it.
        unsafe { ffi::smkex_glue_sched_unpin(self.sk.raw(), saved.0) }
    }

    /// At close: keeps data on subflow `pin`, without reinjection, until
    /// MPTCP destroys the connection, instead of giving MPTCP its scheduler
    /// back; if the glue cannot, gives it back and returns false.
    pub(crate) fn sched_linger(&self, saved: SavedSched, pin: u32) -> bool {
        // SAFETY: the socket is locked; `saved` came from `sched_pin` on it.
        let lingers = unsafe { ffi::smkex_glue_sched_linger(self.sk.raw(), saved.0, pin) };
        if !lingers {
            self.sched_unpin(saved);
        }
        lingers
    }

    /// Makes data_ready and state_change queue the work too; false if the
    /// socket's callbacks are not MPTCP's (someone else wrapped them).
    pub(crate) fn callbacks_install(&self) -> bool {
        // SAFETY: the socket is locked.
        unsafe { ffi::smkex_glue_callbacks_install(self.sk.raw()) }
    }

    /// Undoes a successful [`Self::callbacks_install`].
    pub(crate) fn callbacks_restore(&self) {
        // SAFETY: the socket is locked.
        unsafe { ffi::smkex_glue_callbacks_restore(self.sk.raw()) }
    }

    /// MPTCP fast close unless closed already, and the error pollers see.
    pub(crate) fn reset(&self, err: i32) {
        // SAFETY: the socket is locked.
        unsafe { ffi::smkex_glue_reset(self.sk.raw(), err) }
    }
}

impl Drop for SocketLock {
    fn drop(&mut self) {
        if self.release {
            // SAFETY: taken in `Sock::lock`, released once here.
            unsafe { ffi::smkex_glue_unlock(self.sk.raw()) }
        }
    }
}

/// MPTCP's scheduler of a connection while ours is in.
pub(crate) struct SavedSched(*mut c_void);

// SAFETY: a pointer to MPTCP's static scheduler ops, only handed back.
unsafe impl Send for SavedSched {}

/// The msk data lock, held until dropped (or held by MPTCP around a hook).
pub(crate) struct DataLock {
    sk: Sock,
    release: bool,
}

impl DataLock {
    /// The data lock MPTCP holds while it calls the data-move hook.
    ///
    /// # Safety
    /// The caller runs inside MPTCP's `__mptcp_move_skbs_from_subflow` on
    /// `sk`, which holds that lock throughout.
    pub(crate) unsafe fn held_by_mptcp(sk: Sock) -> DataLock {
        DataLock { sk, release: false }
    }

    /// Everything queued so far went into a subflow (the socket lock is
    /// held too: see the glue).
    pub(crate) fn nothing_unsent(&self) -> bool {
        // SAFETY: the data lock is held.
        unsafe { ffi::smkex_glue_nothing_unsent(self.sk.raw()) }
    }

    /// The socket whose data lock this is.
    pub(crate) fn sock(&self) -> Sock {
        self.sk
    }

    /// The connection's `ack_seq`.
    pub(crate) fn ack_seq(&self) -> u64 {
        // SAFETY: the data lock is held.
        unsafe { ffi::smkex_glue_ack_seq(self.sk.raw()) }
    }

    /// Has any data moved into the connection yet?
    pub(crate) fn data_moved(&self) -> bool {
        // SAFETY: the data lock is held.
        unsafe { ffi::smkex_glue_data_moved(self.sk.raw()) }
    }

    /// The out-of-order skbs that start before `end`, in order, into `out`;
    /// the count and whether there were more.
    pub(crate) fn ofo(&self, end: u64, out: &mut [GlueOfo]) -> (usize, bool) {
        let mut truncated = false;
        let max = out.len().min(c_uint::MAX as usize) as c_uint;
        // SAFETY: the data lock is held; `out` has `max` writable entries.
        let n = unsafe { ffi::smkex_glue_ofo(self.sk.raw(), end, out.as_mut_ptr(), max, &mut truncated) };
        (n as usize, truncated)
    }

    /// Replaces `sk_user_data`.
    ///
    /// # Safety
    /// `data` is NULL, a pending provenance record or a live SMKEX state
    /// (see [`crate::state`]), valid until replaced and an RCU grace period.
    pub(crate) unsafe fn set_user_data(&self, data: *mut c_void) {
        // SAFETY: the data lock is held; the caller's guarantee for `data`.
        unsafe { ffi::smkex_glue_set_user_data(self.sk.raw(), data) }
    }

    /// Gives the socket back to MPTCP's proto.
    pub(crate) fn restore_proto(&self) {
        // SAFETY: the data lock is held, so the data-move hook never sees
        // our proto without our state.
        unsafe { ffi::smkex_glue_restore_proto(self.sk.raw()) }
    }
}

impl Drop for DataLock {
    fn drop(&mut self) {
        if self.release {
            // SAFETY: taken in `Sock::data_lock`, released once here.
            unsafe { ffi::smkex_glue_data_unlock(self.sk.raw()) }
        }
    }
}

/// The handshake's I/O through MPTCP's own sendmsg and recvmsg. Called by
/// the work only, without the socket lock (MPTCP takes it).
pub(crate) mod io {
    use super::*;
    use core::sync::atomic::AtomicBool;

    /// `MSG_DONTWAIT`: a call that never waits.
    pub(crate) const DONTWAIT: i32 = bindings::MSG_DONTWAIT as i32;
    /// `MSG_NOSIGNAL`: no SIGPIPE.
    pub(crate) const NOSIGNAL: i32 = bindings::MSG_NOSIGNAL as i32;

    /// Hands `buf` to MPTCP; bytes taken or a negative errno (`-EAGAIN`).
    pub(crate) fn send(sk: Sock, buf: &[u8], flags: i32) -> i32 {
        // SAFETY: a live socket, unlocked; `buf` is readable.
        unsafe { ffi::smkex_glue_send(sk.raw(), buf.as_ptr(), buf.len(), flags) }
    }

    /// Reads at most `buf.len()` bytes; count, 0 at end of stream, or -errno.
    pub(crate) fn recv(sk: Sock, buf: &mut [u8], flags: i32) -> i32 {
        // SAFETY: a live socket, unlocked; `buf` is writable.
        unsafe { ffi::smkex_glue_recv(sk.raw(), buf.as_mut_ptr(), buf.len(), flags) }
    }

    /// Waits (unlocked) until MPTCP has data to read, an error, the end
    /// of the stream, or `ready` (plaintext another call opened): 0, or
    /// -errno (`-EAGAIN` when `timeo` ran out).
    pub(crate) fn wait_data(sk: Sock, timeo: &mut i64, ready: &AtomicBool) -> i32 {
        // SAFETY: a live socket, unlocked; `timeo` is writable; `ready`
        // outlives the call and the glue only reads it (READ_ONCE), as
        // an AtomicBool has the layout of a bool.
        unsafe { ffi::smkex_glue_wait_data(sk.raw(), timeo, ready.as_ptr()) }
    }

    /// Waits (unlocked) until MPTCP's send buffer has room: 0 or -errno.
    pub(crate) fn wait_memory(sk: Sock, timeo: &mut i64) -> i32 {
        // SAFETY: a live socket, unlocked; `timeo` is writable.
        unsafe { ffi::smkex_glue_wait_memory(sk.raw(), timeo) }
    }

    /// Bytes MPTCP's send buffer takes before a send would wait.
    pub(crate) fn send_room(sk: Sock) -> usize {
        // SAFETY: a live socket; lockless reads.
        unsafe { ffi::smkex_glue_send_room(sk.raw()) }
    }

    /// Bytes MPTCP holds for the application to read.
    pub(crate) fn data_avail(sk: Sock) -> u64 {
        // SAFETY: a live socket; lockless reads.
        unsafe { ffi::smkex_glue_data_avail(sk.raw()) }
    }

    /// MPTCP's next data sequence number to send.
    pub(crate) fn write_seq(sk: Sock) -> u64 {
        // SAFETY: a live socket; an atomic read.
        unsafe { ffi::smkex_glue_write_seq(sk.raw()) }
    }
}

/// The application's buffers of one sendmsg/recvmsg call (its `msghdr`).
pub(crate) struct Msg(*mut c_void);

impl Msg {
    /// # Safety
    /// `p` is the `struct msghdr` of the sendmsg or recvmsg call in
    /// progress, which outlives the `Msg`.
    pub(crate) unsafe fn from_raw(p: *mut c_void) -> Msg {
        Msg(p)
    }

    /// Copies the application's next bytes into `dst`: how many (fewer
    /// after a fault).
    pub(crate) fn copy_from(&mut self, dst: &mut [u8]) -> usize {
        // SAFETY: the call's msghdr (see from_raw); `dst` is writable.
        unsafe { ffi::smkex_glue_msg_copy_from(self.0, dst.as_mut_ptr(), dst.len()) }
    }

    /// Copies `src` to the application's buffers: how many (fewer after a
    /// fault).
    pub(crate) fn copy_to(&mut self, src: &[u8]) -> usize {
        // SAFETY: the call's msghdr (see from_raw); `src` is readable.
        unsafe { ffi::smkex_glue_msg_copy_to(self.0, src.as_ptr(), src.len()) }
    }
}

/// The kernel's ChaCha20-Poly1305 (lib/crypto) for the record layer.
pub(crate) struct KernelAead;

impl smkex_proto::records::Aead for KernelAead {
    fn seal(&self, key: &[u8; 32], nonce: u64, aad: &[u8], buf: &mut [u8], pt_len: usize) {
        // The tag follows the text: the caller sized `buf`; never overrun
        // it, and never let the plaintext out unsealed.
        if pt_len.checked_add(16).is_none_or(|end| end > buf.len()) {
            buf.fill(0);
            return;
        }
        // SAFETY: `buf` holds pt_len + 16 writable bytes (checked above),
        // `aad` and `key` are readable; the library works in place.
        unsafe { ffi::smkex_glue_aead_seal(buf.as_mut_ptr(), pt_len, aad.as_ptr(), aad.len(), nonce, key.as_ptr()) }
    }

    fn open(&self, key: &[u8; 32], nonce: u64, aad: &[u8], buf: &mut [u8]) -> bool {
        // SAFETY: `buf` is writable for its length (text and tag), `aad`
        // and `key` readable; the library checks the tag before decrypting.
        unsafe { ffi::smkex_glue_aead_open(buf.as_mut_ptr(), buf.len(), aad.as_ptr(), aad.len(), nonce, key.as_ptr()) }
    }
}

/// An option value from setsockopt (a `sockptr_t`, user or kernel memory).
pub(crate) struct OptVal(*const c_void);

impl OptVal {
    /// # Safety
    /// `p` points to the `sockptr_t` of the setsockopt call in progress.
    pub(crate) unsafe fn from_raw(p: *const c_void) -> OptVal {
        OptVal(p)
    }

    /// Copies the first `dst.len()` bytes of the value.
    pub(crate) fn read(&self, dst: &mut [u8]) -> Result {
        // SAFETY: `self.0` is the call's sockptr_t; `dst` is writable. The
        // glue copies from user or kernel memory as the sockptr_t says.
        to_result(unsafe { ffi::smkex_glue_copy_optval(self.0, dst.as_mut_ptr(), dst.len()) })
    }
}

/// A value only the holder of the socket lock may touch.
pub(crate) struct SockLocked<T> {
    sk: Sock,
    value: UnsafeCell<T>,
}

// SAFETY: access is serialised by the socket lock (see `get`).
unsafe impl<T: Send> Sync for SockLocked<T> {}

impl<T> SockLocked<T> {
    pub(crate) const fn new(sk: Sock, value: T) -> Self {
        Self { sk, value: UnsafeCell::new(value) }
    }

    /// The value, while `lock` (this socket's) is held.
    pub(crate) fn get<'a>(&'a self, lock: &'a mut SocketLock) -> &'a mut T {
        assert!(lock.sk == self.sk, "smkex: a socket lock of another socket");
        // SAFETY: the socket lock is held and borrowed exclusively for 'a,
        // and every access goes through this method.
        unsafe { &mut *self.value.get() }
    }
}

/// A value only the holder of the msk's data lock may touch.
pub(crate) struct DataLocked<T> {
    value: UnsafeCell<T>,
}

// SAFETY: access is serialised by the data lock (see `get`).
unsafe impl<T: Send> Sync for DataLocked<T> {}

impl<T> DataLocked<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self { value: UnsafeCell::new(value) }
    }

    /// The value, while the data lock of the socket it belongs to is held.
    ///
    /// # Safety
    /// `lock` is the data lock of the socket whose `sk_user_data` leads to
    /// this value (its SMKEX state, or a pending record it holds).
    pub(crate) unsafe fn get<'a>(&'a self, _lock: &'a mut DataLock) -> &'a mut T {
        // SAFETY: that data lock serialises every access, and it is
        // borrowed exclusively for 'a (the caller's guarantee).
        unsafe { &mut *self.value.get() }
    }
}

/// A delayed work item whose function is `func`. Cancelled for good by
/// [`DelayedWork::disable`] (close), and on drop as a last guard.
#[pin_data(PinnedDrop)]
pub(crate) struct DelayedWork {
    #[pin]
    work: Opaque<bindings::delayed_work>,
}

impl DelayedWork {
    pub(crate) fn new(func: unsafe extern "C" fn(*mut bindings::work_struct)) -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is the pinned, uninitialised work; the glue
            // initialises it (INIT_DELAYED_WORK) before it can be queued.
            work <- Opaque::ffi_init(move |slot| unsafe { ffi::smkex_glue_work_init(slot, func) }),
        })
    }

    fn raw(&self) -> *mut bindings::delayed_work {
        self.work.get()
    }

    /// Runs it as soon as possible (any context).
    pub(crate) fn kick(&self) {
        // SAFETY: initialised in `new`; any context.
        unsafe { ffi::smkex_glue_work_kick(self.raw()) }
    }

    /// Runs it in `delay` jiffies, unless it is queued already.
    pub(crate) fn queue(&self, delay: Jiffies) {
        // SAFETY: initialised in `new`.
        unsafe { ffi::smkex_glue_work_queue(self.raw(), delay) }
    }

    /// Cancels it and waits until it is not running; it never runs again.
    /// Process context. The token lets the caller touch the work's data.
    pub(crate) fn disable(&self) -> WorkIdle<'_> {
        // SAFETY: initialised in `new`; process context (may sleep).
        unsafe { bindings::disable_delayed_work_sync(self.raw()) };
        WorkIdle(PhantomData)
    }

    /// The `T` whose `DelayedWork` at `offset` runs `work` now.
    ///
    /// # Safety
    /// `work` is the `work_struct` of the `DelayedWork` at byte `offset` of
    /// a live `T`, and that work runs now: it does not run concurrently
    /// with itself, and whoever frees the `T` disables the work first.
    pub(crate) unsafe fn running<'a, T>(work: *mut bindings::work_struct, offset: usize) -> (&'a T, WorkIdle<'a>) {
        // A delayed_work starts with its work_struct.
        let offset = offset + core::mem::offset_of!(DelayedWork, work);
        // SAFETY: the caller's guarantee about where `work` lives.
        let t = unsafe { &*work.cast::<u8>().sub(offset).cast::<T>() };
        (t, WorkIdle(PhantomData))
    }
}

#[pinned_drop]
impl PinnedDrop for DelayedWork {
    fn drop(self: Pin<&mut Self>) {
        // The owner disabled it synchronously already (close); drop may run
        // from an RCU callback, so only the non-sleeping form here.
        // SAFETY: initialised in `new`.
        unsafe { bindings::disable_delayed_work(self.raw()) };
    }
}

/// Proof that a work item cannot run concurrently with the holder: it is
/// the running work item itself, or it was disabled.
pub(crate) struct WorkIdle<'a>(PhantomData<&'a ()>);

/// A value only the work item touches (or anyone once it is disabled).
pub(crate) struct WorkOnly<T> {
    value: UnsafeCell<T>,
}

// SAFETY: access needs a `WorkIdle` token of the owner's work (see `get`).
unsafe impl<T: Send> Sync for WorkOnly<T> {}

impl<T> WorkOnly<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self { value: UnsafeCell::new(value) }
    }

    /// The value; `idle` must come from the work item of the same state.
    pub(crate) fn get<'a>(&'a self, _idle: &'a mut WorkIdle<'_>) -> &'a mut T {
        // SAFETY: the token proves that no other context runs the work, and
        // it is borrowed exclusively for 'a. The one state per work item
        // holds both the work and this value (crate::state).
        unsafe { &mut *self.value.get() }
    }
}

/// Frees `ptr`'s box after an RCU grace period (any context).
///
/// # Safety
/// `head` is an `rcu_head` inside the allocation of `ptr`, which came from
/// `KBox::into_raw` and is not used after this call except by RCU readers
/// that started before it; `free` turns `head` back into that box.
pub(crate) unsafe fn free_after_rcu(head: *mut bindings::callback_head, free: unsafe extern "C" fn(*mut bindings::callback_head)) {
    // SAFETY: the caller's guarantees.
    unsafe { bindings::call_rcu(head, Some(free)) }
}
