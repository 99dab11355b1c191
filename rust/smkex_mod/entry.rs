// SPDX-License-Identifier: GPL-2.0

//! The functions the C glue calls (glue/smkex_glue.h, "implemented in
//! Rust"): each turns the raw pointers it is given into the safe handles
//! of crate::glue and calls the module's safe code. Every pointer comes
//! from the kernel for the duration of the call.

use core::ffi::{c_char, c_int, c_uint, c_void};

use kernel::bindings;
use kernel::uaccess::UserPtr;
use smkex_logic::counters;

use crate::glue::{DataLock, DelayedWork, Msg, OptVal, Sock, SocketLock};
use crate::state::SmkexSock;
use crate::{handshake, provenance, records, sockopt, socket};

/// # Safety
/// `sk` is a live socket for the duration of the call.
unsafe fn sock<'a>(sk: *mut bindings::sock) -> Option<Sock> {
    // SAFETY: the caller's guarantee.
    unsafe { Sock::from_raw(sk) }
}

#[no_mangle]
extern "C" fn smkex_rs_counter_count() -> c_uint {
    counters::COUNT as c_uint
}

/// # Safety
/// `len` is valid for a write.
#[no_mangle]
unsafe extern "C" fn smkex_rs_counter_name(index: c_uint, len: *mut usize) -> *const c_char {
    match counters::name(index as usize) {
        Some(name) => {
            // SAFETY: the caller guarantees `len` is writable.
            unsafe { *len = name.len() };
            name.as_ptr().cast()
        }
        None => core::ptr::null(),
    }
}

/// # Safety
/// A setsockopt(SOL_SMKEX) call in progress on `sk`; `optval` its sockptr_t.
#[no_mangle]
unsafe extern "C" fn smkex_rs_setsockopt(sk: *mut bindings::sock, optname: c_int, optval: *const c_void, optlen: c_uint) -> c_int {
    // SAFETY: the caller's guarantees.
    let (Some(sk), optval) = (unsafe { sock(sk) }, unsafe { OptVal::from_raw(optval) }) else {
        return -(bindings::EINVAL as c_int);
    };
    sockopt::set(sk, optname, &optval, optlen)
}

/// # Safety
/// As [`smkex_rs_setsockopt`], on an MPTCP socket not taken over yet.
#[no_mangle]
unsafe extern "C" fn smkex_rs_setsockopt_first(
    sk: *mut bindings::sock,
    optname: c_int,
    optval: *const c_void,
    optlen: c_uint,
) -> c_int {
    // SAFETY: the caller's guarantees.
    let (Some(sk), optval) = (unsafe { sock(sk) }, unsafe { OptVal::from_raw(optval) }) else {
        return -(bindings::EINVAL as c_int);
    };
    sockopt::set_first(sk, optname, &optval, optlen)
}

/// # Safety
/// A getsockopt(SOL_SMKEX) call in progress on the MPTCP socket `sk`;
/// `optval` and `optlen` are its user pointers.
#[no_mangle]
unsafe extern "C" fn smkex_rs_getsockopt(sk: *mut bindings::sock, optname: c_int, optval: *mut c_char, optlen: *mut c_int) -> c_int {
    // SAFETY: the caller's guarantee.
    let Some(sk) = (unsafe { sock(sk) }) else {
        return -(bindings::EINVAL as c_int);
    };
    sockopt::get(sk, optname, optval as UserPtr, optlen as UserPtr)
}

/// # Safety
/// proto->connect of `sk` in progress: the socket is locked.
#[no_mangle]
unsafe extern "C" fn smkex_rs_connect_prepare(sk: *mut bindings::sock) -> c_int {
    // SAFETY: the caller's guarantee.
    let Some(sk) = (unsafe { sock(sk) }) else {
        return 0;
    };
    // SAFETY: connect runs with the socket locked.
    let lock = unsafe { SocketLock::held_by_caller(sk) };
    socket::connect_prepare(&lock)
}

/// # Safety
/// As [`smkex_rs_connect_prepare`].
#[no_mangle]
unsafe extern "C" fn smkex_rs_connect_done(sk: *mut bindings::sock, err: c_int) {
    // SAFETY: the caller's guarantee.
    if let Some(sk) = unsafe { sock(sk) } {
        // SAFETY: connect runs with the socket locked.
        let mut lock = unsafe { SocketLock::held_by_caller(sk) };
        socket::connect_done(&mut lock, err);
    }
}

/// # Safety
/// proto->sendmsg or recvmsg of `sk` in progress.
#[no_mangle]
unsafe extern "C" fn smkex_rs_before_io(sk: *mut bindings::sock, send: bool, flags: c_int) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { sock(sk) }.map_or(0, |sk| socket::before_io(sk, send, flags as u32))
}

/// # Safety
/// proto->sendmsg of `sk` in progress (unlocked), `msg` its msghdr, after
/// `smkex_rs_before_io` said the record layer carries it.
#[no_mangle]
unsafe extern "C" fn smkex_rs_record_send(sk: *mut bindings::sock, msg: *mut c_void, len: usize, flags: c_int) -> c_int {
    // SAFETY: the caller's guarantee.
    let Some(ss) = unsafe { sock(sk) }.and_then(SmkexSock::of) else {
        return -(bindings::EINVAL as c_int);
    };
    // SAFETY: the call's msghdr, alive for the call.
    let mut msg = unsafe { Msg::from_raw(msg) };
    records::send(ss, &mut msg, len, flags as u32)
}

/// # Safety
/// As `smkex_rs_record_send`, for proto->recvmsg.
#[no_mangle]
unsafe extern "C" fn smkex_rs_record_recv(sk: *mut bindings::sock, msg: *mut c_void, len: usize, flags: c_int) -> c_int {
    // SAFETY: the caller's guarantee.
    let Some(ss) = unsafe { sock(sk) }.and_then(SmkexSock::of) else {
        return -(bindings::EINVAL as c_int);
    };
    // SAFETY: the call's msghdr, alive for the call.
    let mut msg = unsafe { Msg::from_raw(msg) };
    records::recv(ss, &mut msg, len, flags as u32)
}

/// # Safety
/// proto_ops->shutdown of `sk` about to run (unlocked).
#[no_mangle]
unsafe extern "C" fn smkex_rs_shutdown_prepare(sk: *mut bindings::sock, how: c_int) {
    // SAFETY: the caller's guarantee.
    if let Some(ss) = unsafe { sock(sk) }.and_then(SmkexSock::of) {
        records::shutdown_prepare(ss, how);
    }
}

/// # Safety
/// proto_ops->poll of `sk` in progress.
#[no_mangle]
unsafe extern "C" fn smkex_rs_poll(sk: *mut bindings::sock, mask: c_uint) -> c_uint {
    // SAFETY: the caller's guarantee.
    unsafe { sock(sk) }.map_or(mask, |sk| socket::poll(sk, mask))
}

/// # Safety
/// proto_ops->listen of `sk` just succeeded.
#[no_mangle]
unsafe extern "C" fn smkex_rs_listening(sk: *mut bindings::sock) {
    // SAFETY: the caller's guarantee.
    if let Some(sk) = unsafe { sock(sk) } {
        socket::listening(sk);
    }
}

/// # Safety
/// proto_ops->accept on `listener` just returned the new socket `sk`.
#[no_mangle]
unsafe extern "C" fn smkex_rs_accepted(listener: *mut bindings::sock, sk: *mut bindings::sock, fell_back: bool) -> c_int {
    // SAFETY: the caller's guarantee.
    match unsafe { (sock(listener), sock(sk)) } {
        (Some(listener), Some(sk)) => socket::accepted(listener, sk, fell_back),
        _ => -(bindings::EINVAL as c_int),
    }
}

/// # Safety
/// proto->shutdown of `sk` just ran.
#[no_mangle]
unsafe extern "C" fn smkex_rs_shutdown(sk: *mut bindings::sock, how: c_int) {
    // SAFETY: the caller's guarantee.
    if let Some(sk) = unsafe { sock(sk) } {
        socket::shutdown(sk, how as u8);
    }
}

/// # Safety
/// proto->disconnect of `sk` just succeeded: the socket is locked.
#[no_mangle]
unsafe extern "C" fn smkex_rs_disconnected(sk: *mut bindings::sock) {
    // SAFETY: the caller's guarantee.
    if let Some(sk) = unsafe { sock(sk) } {
        // SAFETY: disconnect runs with the socket locked.
        let mut lock = unsafe { SocketLock::held_by_caller(sk) };
        socket::disconnected(&mut lock);
    }
}

/// # Safety
/// proto->destroy of `sk` in progress.
#[no_mangle]
unsafe extern "C" fn smkex_rs_destroy(sk: *mut bindings::sock) {
    // SAFETY: the caller's guarantee.
    if let Some(sk) = unsafe { sock(sk) } {
        socket::destroy(sk);
    }
}

/// # Safety
/// proto->close of `sk` in progress, unlocked.
#[no_mangle]
unsafe extern "C" fn smkex_rs_close(sk: *mut bindings::sock) {
    // SAFETY: the caller's guarantee.
    if let Some(sk) = unsafe { sock(sk) } {
        socket::close(sk);
    }
}

/// # Safety
/// `sk` is an MPTCP socket of ours; RCU is held (any context).
#[no_mangle]
unsafe extern "C" fn smkex_rs_kick(sk: *mut bindings::sock) {
    // SAFETY: the caller's guarantee.
    if let Some(ss) = unsafe { sock(sk) }.and_then(SmkexSock::of) {
        ss.work.kick();
    }
}

/// # Safety
/// Inside MPTCP's `__mptcp_move_skbs_from_subflow` on `sk` (its data lock
/// held), RCU held.
#[no_mangle]
unsafe extern "C" fn smkex_rs_move_begin(sk: *mut bindings::sock) -> *mut c_void {
    // SAFETY: the caller's guarantee.
    let Some(sk) = (unsafe { sock(sk) }) else {
        return core::ptr::null_mut();
    };
    // SAFETY: MPTCP holds the data lock around the hook.
    let mut lock = unsafe { DataLock::held_by_mptcp(sk) };
    provenance::move_begin(sk, &mut lock).map_or(core::ptr::null_mut(), |p| p.cast_mut())
}

/// # Safety
/// As [`smkex_rs_move_begin`], on its return; `map` is what it returned.
#[no_mangle]
unsafe extern "C" fn smkex_rs_move_end(map: *mut c_void, sk: *mut bindings::sock, ack_before: u64, subflow_id: u32) {
    // SAFETY: the caller's guarantee.
    if let Some(sk) = unsafe { sock(sk) } {
        // SAFETY: MPTCP holds the data lock around the hook.
        let mut lock = unsafe { DataLock::held_by_mptcp(sk) };
        provenance::move_end(map, sk, &mut lock, ack_before, subflow_id);
    }
}

/// The work item's function (each state's `DelayedWork`).
///
/// # Safety
/// Called by the workqueue for the `work` of a live state.
pub(crate) unsafe extern "C" fn work_fn(work: *mut bindings::work_struct) {
    // SAFETY: the workqueue runs the work of a live state (close disables
    // it before freeing the state), and never concurrently with itself.
    let (ss, mut idle) = unsafe { DelayedWork::running::<SmkexSock>(work, core::mem::offset_of!(SmkexSock, work)) };
    handshake::run(ss, &mut idle);
}

/// # Safety
/// `sk` is an MPTCP socket with our scheduler; RCU held (any context).
#[no_mangle]
unsafe extern "C" fn smkex_rs_pin(sk: *mut bindings::sock) -> u32 {
    // SAFETY: the caller's guarantee.
    unsafe { sock(sk) }
        .and_then(SmkexSock::of)
        .map_or(0, |ss| ss.pin_id.load(core::sync::atomic::Ordering::Relaxed))
}
