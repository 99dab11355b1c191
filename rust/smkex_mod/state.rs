// SPDX-License-Identifier: GPL-2.0

//! The SMKEX state of one socket. It lives from the first SOL_SMKEX option
//! (or accept) to close(), in the socket's `sk_user_data` (NOCOPY), and is
//! freed after an RCU grace period, since data_ready, the event hooks and
//! the scheduler read it under RCU.
//!
//! Who may touch what:
//! - `inner` (a mutex) guards the protocol session and everything
//!   getsockopt reports; taken after the socket lock, never before it;
//! - `state`, `err` and `enabled` are also readable without it: the state
//!   is stored with release after the rest of an outcome, and read with
//!   acquire;
//! - `driver` only by the work item, or by close once the work is disabled;
//! - `conn` (what the handshake installed on the connection) under the
//!   socket lock;
//! - `prov` (the origin of the peer's handshake bytes) under the msk's data
//!   lock, where MPTCP moves data;
//! - `pin_id` (the subflow records may leave on) by the scheduler, lockless.

use core::ffi::c_void;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU8, Ordering};

use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::{new_condvar, new_mutex, CondVar, Mutex};
use kernel::time::Ktime;
use kernel::types::Opaque;
use smkex_logic::options::PeerAddrs;
use smkex_logic::provenance::OriginMap;
use smkex_proto::Session;
use smkex_uapi::{role, state, SmkexChannelInfo};

use crate::glue::{DataLock, DataLocked, DelayedWork, SavedSched, Sock, SockLocked, WorkOnly};
use crate::handshake::Driver;
use crate::provenance;
use crate::records::Records;

/// What `inner` guards.
pub(crate) struct Inner {
    /// `smkex_role`: none, client, server, listener.
    pub(crate) role: u8,
    /// `smkex_reason` of a failure.
    pub(crate) reason: u8,
    pub(crate) timeout_ms: u32,
    pub(crate) started: Option<Ktime>,
    pub(crate) duration_us: u64,
    /// The subflows of channel 1 and 2, as getsockopt reports them.
    pub(crate) channel: [SmkexChannelInfo; 2],
    /// Microseconds from `started` until each channel was usable (0: not yet).
    pub(crate) channel_up_us: [u64; 2],
    /// From connect()/accept() until close or disconnect.
    pub(crate) session: Option<KBox<Session>>,
    /// Client: trusted remote addresses for channel 2 besides connect()'s.
    pub(crate) peer_addrs: PeerAddrs,
    /// Holds a `glue::hooks_get()` reference.
    pub(crate) hooks_held: bool,
}

/// What the handshake installed on the connection (socket lock).
#[derive(Default)]
pub(crate) struct ConnHooks {
    pub(crate) saved_sched: Option<SavedSched>,
    pub(crate) callbacks: bool,
}

/// The state of one SMKEX socket.
#[pin_data]
pub(crate) struct SmkexSock {
    pub(crate) sk: Sock,
    #[pin]
    pub(crate) inner: Mutex<Inner>,
    /// Application calls waiting for the handshake's end (with `inner`).
    #[pin]
    pub(crate) ended: CondVar,
    state: AtomicU8,
    /// Positive errno of a failed handshake, stored before the state.
    err: AtomicI32,
    enabled: AtomicBool,
    /// What the application shut down (RCV_SHUTDOWN 1, SEND_SHUTDOWN 2);
    /// sk_shutdown also says what the peer's FIN did.
    app_shutdown: AtomicU8,
    /// subflow_id the pinned scheduler may send on, 0: none.
    pub(crate) pin_id: AtomicU32,
    #[pin]
    pub(crate) work: DelayedWork,
    /// The record layer (`SMKEX_RECORDS`): its own locks (records.rs).
    #[pin]
    pub(crate) records: Records,
    pub(crate) driver: WorkOnly<Driver>,
    pub(crate) conn: SockLocked<ConnHooks>,
    prov: DataLocked<OriginMap>,
    rcu: Opaque<bindings::callback_head>,
}

impl SmkexSock {
    /// A new state for `sk`, SMKEX off, with the default timeout.
    pub(crate) fn new(sk: Sock, timeout_ms: u32) -> Result<Pin<KBox<SmkexSock>>> {
        let owner = sk;
        KBox::pin_init(
            pin_init!(SmkexSock {
                sk,
                inner <- new_mutex!(Inner {
                    role: role::NONE,
                    reason: 0,
                    timeout_ms,
                    started: None,
                    duration_us: 0,
                    channel: [SmkexChannelInfo::default(); 2],
                    channel_up_us: [0; 2],
                    session: None,
                    peer_addrs: PeerAddrs::new(),
                    hooks_held: false,
                }),
                ended <- new_condvar!(),
                state: AtomicU8::new(state::OFF),
                err: AtomicI32::new(0),
                enabled: AtomicBool::new(false),
                app_shutdown: AtomicU8::new(0),
                pin_id: AtomicU32::new(0),
                work <- DelayedWork::new(crate::entry::work_fn),
                records <- Records::new(),
                driver: WorkOnly::new(Driver::new()),
                conn: SockLocked::new(owner, ConnHooks::default()),
                prov: DataLocked::new(OriginMap::new(0)),
                rcu: Opaque::uninit(),
            }),
            GFP_KERNEL,
        )
    }

    /// The state of `sk`, if the module attached one. Valid while the
    /// caller runs in a callback of the socket other than close (close
    /// never runs concurrently with them), in its work item, or under RCU.
    pub(crate) fn of<'a>(sk: Sock) -> Option<&'a SmkexSock> {
        let p = sk.user_data();
        if p.is_null() || provenance::is_pending(p) {
            return None;
        }
        let state = p.cast::<SmkexSock>();
        // SAFETY: sk_user_data of a socket the module owns is NULL, a pending map (excluded above) or a published `OwnedState`, freed only by `OwnedState::free` after close and an RCU grace period; the caller's context keeps it alive (see above).
        let state = unsafe { &*state };
        Some(state)
    }

    pub(crate) fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    /// Publishes a new state; whatever the outcome wrote before is visible
    /// to whoever reads this state (with acquire).
    pub(crate) fn set_state(&self, _inner: &mut Inner, new: u8) {
        self.state.store(new, Ordering::Release);
    }

    /// Positive errno of a failed handshake (read after the state).
    pub(crate) fn err(&self) -> i32 {
        self.err.load(Ordering::Relaxed)
    }

    pub(crate) fn set_err(&self, _inner: &mut Inner, err: i32) {
        self.err.store(err, Ordering::Relaxed);
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    pub(crate) fn set_enabled(&self, _inner: &mut Inner, on: bool) {
        self.enabled.store(on, Ordering::Release);
    }

    /// Records the application's shutdown(), `how` as the proto sees it.
    pub(crate) fn note_shutdown(&self, how: u8) {
        self.app_shutdown.fetch_or(how & 3, Ordering::Release);
    }

    /// Did the application shut the socket down for sending (or receiving)?
    pub(crate) fn shut_down(&self, send: bool) -> bool {
        self.app_shutdown.load(Ordering::Acquire) & if send { 2 } else { 1 } != 0
    }

    /// The origin map of the peer's handshake bytes.
    pub(crate) fn prov<'a>(&'a self, lock: &'a mut DataLock) -> &'a mut OriginMap {
        assert!(lock.sock() == self.sk, "smkex: the data lock of another socket");
        // SAFETY: the data lock of this state's own socket is held and
        // borrowed exclusively for 'a.
        unsafe { self.prov.get(lock) }
    }
}

/// A state the caller owns, at a fixed address: before it is published
/// in `sk_user_data` (dropping it then frees it at once), or after it was
/// taken out again (then [`OwnedState::free`] frees it after RCU readers).
pub(crate) struct OwnedState(NonNull<SmkexSock>);

impl OwnedState {
    pub(crate) fn new(b: Pin<KBox<SmkexSock>>) -> OwnedState {
        // SAFETY: the state is never moved out of: it goes back into the
        // same pinned box when freed.
        let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(b) });
        // SAFETY: a box is never NULL.
        OwnedState(unsafe { NonNull::new_unchecked(raw) })
    }

    pub(crate) fn get(&self) -> &SmkexSock {
        // SAFETY: owned, so live.
        unsafe { self.0.as_ref() }
    }

    /// The value `sk_user_data` holds once published.
    pub(crate) fn as_user_data(&self) -> *mut c_void {
        self.0.as_ptr().cast()
    }

    /// Takes `sk` over with this state (glue): `Ok(true)` done (then
    /// [`Self::published`]), `Ok(false)` a concurrent call did, or the
    /// negative errno why not.
    pub(crate) fn attach(&self, sk: Sock) -> core::result::Result<bool, core::ffi::c_int> {
        // SAFETY: on success the state is published; close takes it out of
        // sk_user_data again and frees it after an RCU grace period.
        unsafe { sk.attach(self.as_user_data()) }
    }

    /// Published: `sk_user_data` owns it now, until [`Self::take`].
    pub(crate) fn published(self) {
        core::mem::forget(self);
    }

    /// Takes the state out of a socket whose `sk_user_data` the caller just
    /// cleared under the data lock (`data` is the value it held).
    pub(crate) fn take(data: *mut c_void) -> Option<OwnedState> {
        if provenance::is_pending(data) {
            return None;
        }
        // Whoever clears sk_user_data under the data lock owns what it held.
        NonNull::new(data.cast::<SmkexSock>()).map(OwnedState)
    }

    /// Frees it after an RCU grace period: data_ready, the hooks and the
    /// scheduler may still be reading it. Its work must be disabled.
    pub(crate) fn free(self) {
        let ss = self.0.as_ptr();
        core::mem::forget(self);
        // SAFETY: `ss` is live and no longer reachable but by RCU readers;
        // `rcu_free` turns the head back into the box after them.
        unsafe {
            let head = Opaque::raw_get(core::ptr::addr_of!((*ss).rcu));
            crate::glue::free_after_rcu(head, rcu_free);
        }
    }
}

impl Drop for OwnedState {
    fn drop(&mut self) {
        // SAFETY: never published, or taken back: nothing else reaches it.
        drop(unsafe { KBox::from_raw(self.0.as_ptr()) });
    }
}

/// The RCU callback of [`OwnedState::free`].
unsafe extern "C" fn rcu_free(head: *mut bindings::callback_head) {
    let offset = core::mem::offset_of!(SmkexSock, rcu);
    // SAFETY: `head` is the `rcu` field of an `OwnedState`'s box (see
    // `free`), which nothing can reach any more.
    drop(unsafe { KBox::from_raw(head.cast::<u8>().sub(offset).cast::<SmkexSock>()) });
}
