// SPDX-License-Identifier: GPL-2.0

//! Where MPTCP moves a subflow's data into the connection (the glue's
//! kretprobe on `__mptcp_move_skbs_from_subflow`, always under the msk's
//! data lock), the origin map of the socket (`smkex_logic::provenance`)
//! learns which subflow delivered which of the peer's handshake bytes.
//!
//! A connection of an SMKEX listener moves data before accept() creates
//! its state, and nothing may be allocated where MPTCP moves data: such a
//! connection takes a map from a fixed pool, kept in its `sk_user_data`
//! until accept adopts it or the socket is destroyed. A connection that
//! finds the pool exhausted is refused at accept (AcceptRefusedUntracked).

use core::ffi::c_void;
use core::sync::atomic::{AtomicU64, Ordering};

use smkex_logic::provenance::{OfoSkb, OriginMap, MAX_OFO};
use smkex_logic::records::peer_bytes;
use smkex_proto::Role;

use crate::glue::{DataLock, DataLocked, GlueOfo, Sock};
use crate::state::{OwnedState, SmkexSock};

const POOL_LEN: usize = 512;
const WORDS: usize = POOL_LEN / 64;

static POOL: [DataLocked<OriginMap>; POOL_LEN] = [const { DataLocked::new(OriginMap::new(0)) }; POOL_LEN];
static USED: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];

/// `TCP_LISTEN`.
const TCP_LISTEN: i32 = 10;

/// Is `p` (an `sk_user_data`) a pending map of the pool?
pub(crate) fn is_pending(p: *const c_void) -> bool {
    let start = POOL.as_ptr() as usize;
    let end = start + core::mem::size_of_val(&POOL);
    (start..end).contains(&(p as usize))
}

/// A free slot of the pool, marked used; `None` if all are taken.
fn claim() -> Option<&'static DataLocked<OriginMap>> {
    for (w, word) in USED.iter().enumerate() {
        let mut cur = word.load(Ordering::Relaxed);
        while cur != u64::MAX {
            let bit = (!cur).trailing_zeros() as usize;
            match word.compare_exchange(cur, cur | (1 << bit), Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return POOL.get(w * 64 + bit),
                Err(now) => cur = now,
            }
        }
    }
    None
}

/// Gives a slot back (its socket no longer points at it).
fn release(slot: *const c_void) {
    let index = (slot as usize - POOL.as_ptr() as usize) / core::mem::size_of::<DataLocked<OriginMap>>();
    if let Some(word) = USED.get(index / 64) {
        word.fetch_and(!(1u64 << (index % 64)), Ordering::Release);
    }
}

/// The pending slot `sk_user_data` points at.
fn pending(p: *const c_void) -> Option<&'static DataLocked<OriginMap>> {
    if !is_pending(p) {
        return None;
    }
    let index = (p as usize - POOL.as_ptr() as usize) / core::mem::size_of::<DataLocked<OriginMap>>();
    POOL.get(index)
}

/// A pending slot's map, under its socket's data lock.
fn pending_map<'a>(slot: &'a DataLocked<OriginMap>, lock: &'a mut DataLock) -> &'a mut OriginMap {
    // SAFETY: a claimed slot belongs to the one socket whose sk_user_data
    // points at it, and every access is under that socket's data lock.
    unsafe { slot.get(lock) }
}

/// The move hook's entry: the map to update after this move, or `None`
/// when the socket tracks nothing (any more).
pub(crate) fn move_begin(sk: Sock, lock: &mut DataLock) -> Option<*const c_void> {
    let data = sk.user_data();
    let (map, target): (&mut OriginMap, *const c_void) = if data.is_null() {
        if sk.tcp_state() == TCP_LISTEN {
            return None;
        }
        // A connection of an SMKEX listener, not accepted yet.
        let slot = claim()?;
        let target: *const c_void = core::ptr::from_ref(slot).cast();
        // SAFETY: a pending slot, valid until `release`, which only the
        // socket's destroy, accept or close calls after clearing it.
        unsafe { lock.set_user_data(target.cast_mut()) };
        let map = pending_map(slot, lock);
        *map = OriginMap::new(peer_bytes(Role::Server, None));
        (map, target)
    } else if let Some(slot) = pending(data) {
        (pending_map(slot, lock), data)
    } else {
        let ss = SmkexSock::of(sk)?;
        (ss.prov(lock), data)
    };
    if !map.wants_moves() {
        return None;
    }
    if !map.is_started() {
        let (ack, moved) = (lock.ack_seq(), lock.data_moved());
        // The map was reborrowed from `lock`; take it again.
        let map = lookup(target, sk, lock)?;
        map.start(ack, moved);
    }
    Some(target)
}

/// The map `target` (an `sk_user_data` value of `sk`) stands for.
fn lookup<'a>(target: *const c_void, sk: Sock, lock: &'a mut DataLock) -> Option<&'a mut OriginMap> {
    match pending(target) {
        Some(slot) => Some(pending_map(slot, lock)),
        None => Some(SmkexSock::of(sk)?.prov(lock)),
    }
}

/// The move hook's return: MPTCP moved data of subflow `subflow_id`;
/// `ack_before` was the connection's `ack_seq` on entry.
pub(crate) fn move_end(target: *const c_void, sk: Sock, lock: &mut DataLock, ack_before: u64, subflow_id: u32) {
    let ack_now = lock.ack_seq();
    let mut raw = [GlueOfo::default(); MAX_OFO + 1];
    let Some(map) = lookup(target, sk, lock) else {
        return;
    };
    let end = map.ofo_window_end();
    let (n, truncated) = lock.ofo(end, &mut raw);
    let mut ofo = [OfoSkb::default(); MAX_OFO + 1];
    for (o, r) in ofo.iter_mut().zip(raw.iter()) {
        *o = OfoSkb { key: r.key, map_seq: r.map_seq, end_seq: r.end_seq };
    }
    if let Some(map) = lookup(target, sk, lock) {
        map.moved(ack_before, ack_now, ofo.get(..n).unwrap_or(&[]), truncated, subflow_id);
    }
}

/// accept(): the connection's map moves from the pool into its state, and
/// the state becomes its `sk_user_data`. Without a pending map nothing may
/// have moved yet (else those bytes' origin is unknown, and the map says
/// so). Returns whether the map lost track (AcceptRefusedUntracked).
pub(crate) fn adopt(owned: OwnedState) -> bool {
    let ss = owned.get();
    let mut lock = ss.sk.data_lock();
    let data = ss.sk.user_data();
    let adopted = match pending(data) {
        Some(slot) => {
            let map = pending_map(slot, &mut lock).clone();
            release(data);
            map
        }
        None => {
            let mut map = OriginMap::new(peer_bytes(Role::Server, None));
            map.start(lock.ack_seq(), lock.data_moved());
            map
        }
    };
    let lost = adopted.is_lost();
    *ss.prov(&mut lock) = adopted;
    // SAFETY: the state is published; close takes it out again and frees
    // it after an RCU grace period.
    unsafe { lock.set_user_data(owned.as_user_data()) };
    drop(lock);
    owned.published();
    lost
}

/// A client's map, before its first byte can move.
pub(crate) fn begin_client(ss: &SmkexSock) {
    let mut lock = ss.sk.data_lock();
    *ss.prov(&mut lock) = OriginMap::new(peer_bytes(Role::Client, None));
}

/// A socket destroyed before accept(): its pending map goes back.
pub(crate) fn release_pending(sk: Sock) {
    let lock = sk.data_lock();
    let data = sk.user_data();
    if is_pending(data) {
        // SAFETY: NULL is always a valid sk_user_data.
        unsafe { lock.set_user_data(core::ptr::null_mut()) };
        release(data);
    }
}

/// Gives the socket back to MPTCP without our state (a pending map goes
/// back to the pool) and returns the state. Under the data lock, so that
/// the move hook, which reads sk_prot and then sk_user_data under that
/// lock, never sees our proto without our state (it would claim a map
/// nobody returns).
pub(crate) fn give_back(sk: Sock) -> Option<OwnedState> {
    let lock = sk.data_lock();
    let data = sk.user_data();
    lock.restore_proto();
    // SAFETY: NULL is always a valid sk_user_data.
    unsafe { lock.set_user_data(core::ptr::null_mut()) };
    if is_pending(data) {
        release(data);
    }
    OwnedState::take(data)
}

/// Checks the record at stream offset `off`, `len` bytes, against the
/// subflow of its channel.
pub(crate) fn check(ss: &SmkexSock, off: u32, len: u32, subflow_id: u32) -> Result<(), &'static str> {
    let mut lock = ss.sk.data_lock();
    ss.prov(&mut lock).check(off, len, subflow_id).map_err(|v| v.why())
}
