//! The C ABI through which the kernel module calls the protocol core.
//!
//! Built only for the kernel target (`scripts/build-proto.sh`): a staticlib
//! with its own `core`, from which the build takes the crate's one object.
//! Every exported function is `extern "C"` and never panics on any input.
//!
//! A session lives in memory the caller allocates (at least
//! `smkex_proto_session_size()` bytes, aligned to
//! `smkex_proto_session_align()`), is set up by `smkex_proto_session_init`
//! and must be ended by `smkex_proto_session_drop`, which zeroizes its
//! secrets. The caller serialises all calls on one session.
#![no_std]

use core::mem::{align_of, size_of};
use core::ptr;

use smkex_proto::record::RecordType;
use smkex_proto::{Channel, FailureReason, RawAction, Role, Session, MAX_RECORD_LEN, RANDOM_LEN};

/// Runs the known-answer self-test of X25519, SHA-256 and HKDF-SHA256 and a
/// full in-memory handshake from the specification's vectors. Returns 0
/// when all pass, otherwise the number of the first failing test
/// (see `smkex_proto::selftest::SelfTestFailure`).
#[no_mangle]
pub extern "C" fn smkex_proto_selftest() -> u32 {
    match smkex_proto::selftest::run() {
        Ok(()) => 0,
        Err(failure) => failure as u32,
    }
}

/// Bytes a session needs.
#[no_mangle]
pub extern "C" fn smkex_proto_session_size() -> usize {
    size_of::<Session>()
}

/// Alignment a session needs.
#[no_mangle]
pub extern "C" fn smkex_proto_session_align() -> usize {
    align_of::<Session>()
}

/// Largest record, the size of the buffer `smkex_proto_session_poll` fills.
#[no_mangle]
pub extern "C" fn smkex_proto_max_record_len() -> usize {
    MAX_RECORD_LEN
}

/// Framing for a transport that reads one record at a time: the full length
/// of a record whose first (type) byte is `type_byte`, and in `channel` the
/// channel (1 or 2) it is pinned to. Returns 0 for a type the protocol does
/// not have (`channel` untouched); the core rejects such a byte itself.
///
/// # Safety
/// `channel` is valid for a write of one byte.
#[no_mangle]
pub unsafe extern "C" fn smkex_proto_record_framing(type_byte: u8, channel: *mut u8) -> usize {
    let Some(ty) = RecordType::from_u8(type_byte) else {
        return 0;
    };
    // SAFETY: the caller guarantees one writable byte at `channel`.
    unsafe { *channel = ty.channel() as u8 };
    ty.record_len()
}

/// Sets up a session in `mem` for `role` (1 client, 2 server) from 64 fresh
/// random bytes, with the handshake timeout in milliseconds. Returns 0, or
/// -1 for an unknown role (nothing written).
///
/// # Safety
/// `mem` is valid for writes of `smkex_proto_session_size()` bytes, aligned
/// to `smkex_proto_session_align()`, and holds no live session; `random`
/// points to 64 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn smkex_proto_session_init(
    mem: *mut Session,
    role: u8,
    random: *const [u8; RANDOM_LEN],
    timeout_ms: u32,
) -> i32 {
    let Some(role) = Role::from_u8(role) else {
        return -1;
    };
    // SAFETY: the caller guarantees `random` is readable and `mem` is valid,
    // aligned and free for a new session.
    unsafe { ptr::write(mem, Session::with_timeout(role, &*random, timeout_ms)) };
    0
}

/// Ends a session: its secrets are zeroized.
///
/// # Safety
/// `s` holds a live session (from `smkex_proto_session_init`), not used
/// again afterwards.
#[no_mangle]
pub unsafe extern "C" fn smkex_proto_session_drop(s: *mut Session) {
    // SAFETY: the caller guarantees a live session that is never used again.
    unsafe { ptr::drop_in_place(s) };
}

/// Event: channel 1 or 2 can carry data. Returns 0, or -1 for a bad channel.
///
/// # Safety
/// `s` holds a live session.
#[no_mangle]
pub unsafe extern "C" fn smkex_proto_session_channel_up(s: *mut Session, channel: u8) -> i32 {
    let Some(channel) = Channel::from_u8(channel) else {
        return -1;
    };
    // SAFETY: the caller guarantees a live session and exclusive access.
    unsafe { (*s).channel_up(channel) };
    0
}

/// Event: `len` bytes arrived on `channel`. Returns how many belong to the
/// handshake (see `Session::receive`); 0 for a bad channel.
///
/// # Safety
/// `s` holds a live session; `data` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn smkex_proto_session_receive(
    s: *mut Session,
    channel: u8,
    data: *const u8,
    len: usize,
) -> usize {
    let Some(channel) = Channel::from_u8(channel) else {
        return 0;
    };
    // SAFETY: the caller guarantees `len` readable bytes at `data`.
    let data = unsafe { core::slice::from_raw_parts(data, len) };
    // SAFETY: the caller guarantees a live session and exclusive access.
    unsafe { (*s).receive(channel, data) }
}

/// Event: the handshake timer expired.
///
/// # Safety
/// `s` holds a live session.
#[no_mangle]
pub unsafe extern "C" fn smkex_proto_session_timer_expired(s: *mut Session) {
    // SAFETY: the caller guarantees a live session and exclusive access.
    unsafe { (*s).timer_expired() };
}

/// Event: the transport failed the handshake with `reason` (a failure
/// reason code, e.g. 11 channel integrity). Returns 0, or -1 for an unknown
/// code (the session is then failed as internal error: fail closed).
///
/// # Safety
/// `s` holds a live session.
#[no_mangle]
pub unsafe extern "C" fn smkex_proto_session_abort(s: *mut Session, reason: u8) -> i32 {
    let (reason, ret) = match FailureReason::from_code(reason) {
        Some(reason) => (reason, 0),
        None => (FailureReason::Internal, -1),
    };
    // SAFETY: the caller guarantees a live session and exclusive access.
    unsafe { (*s).abort(reason) };
    ret
}

/// The next action; a record to send is written to `out`.
///
/// # Safety
/// `s` holds a live session; `out` is valid for writes of
/// `smkex_proto_max_record_len()` bytes.
#[no_mangle]
pub unsafe extern "C" fn smkex_proto_session_poll(
    s: *mut Session,
    out: *mut [u8; MAX_RECORD_LEN],
) -> RawAction {
    // SAFETY: the caller guarantees a live session, exclusive access and a
    // writable record buffer.
    unsafe { (*s).poll(&mut *out).to_raw() }
}

/// Copies the 32-byte session key to `out`. Returns 0, or -1 before
/// completion (nothing written).
///
/// # Safety
/// `s` holds a live session; `out` is valid for writes of 32 bytes.
#[no_mangle]
pub unsafe extern "C" fn smkex_proto_session_key(s: *const Session, out: *mut [u8; 32]) -> i32 {
    // SAFETY: the caller guarantees a live session.
    match unsafe { (*s).session_key() } {
        Some(key) => {
            // SAFETY: the caller guarantees 32 writable bytes at `out`.
            unsafe { *out = *key };
            0
        }
        None => -1,
    }
}

/// Copies the 32-byte transcript hash h to `out`. Returns 0, or -1 before
/// completion (nothing written).
///
/// # Safety
/// `s` holds a live session; `out` is valid for writes of 32 bytes.
#[no_mangle]
pub unsafe extern "C" fn smkex_proto_session_transcript_hash(
    s: *const Session,
    out: *mut [u8; 32],
) -> i32 {
    // SAFETY: the caller guarantees a live session.
    match unsafe { (*s).transcript_hash() } {
        Some(hash) => {
            // SAFETY: the caller guarantees 32 writable bytes at `out`.
            unsafe { *out = *hash };
            0
        }
        None => -1,
    }
}

/// Derives `out_len` (0..=255) bytes of exporter output for a label and a
/// context. Returns 0, or the `ExportError` number (1 not complete, 2 too
/// long, 3 label too long).
///
/// # Safety
/// `s` holds a live session; `label`, `context` and `out` point to
/// `label_len`, `context_len` and `out_len` valid bytes.
#[no_mangle]
pub unsafe extern "C" fn smkex_proto_session_export(
    s: *const Session,
    label: *const u8,
    label_len: usize,
    context: *const u8,
    context_len: usize,
    out: *mut u8,
    out_len: usize,
) -> i32 {
    // SAFETY: the caller guarantees the three buffers' lengths.
    let (label, context, out) = unsafe {
        (
            core::slice::from_raw_parts(label, label_len),
            core::slice::from_raw_parts(context, context_len),
            core::slice::from_raw_parts_mut(out, out_len),
        )
    };
    // SAFETY: the caller guarantees a live session.
    match unsafe { (*s).export(label, context, out) } {
        Ok(()) => 0,
        Err(e) => e as i32,
    }
}

extern "C" {
    /// Provided by the module's C helper: reports the panic and BUG()s.
    fn smkex_proto_panic() -> !;
}

// No input can reach a panic (the core denies unwrap, expect, indexing and
// explicit panics); this handler exists because `core` requires one, and it
// stops the kernel thread loudly rather than continuing in a broken state.
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: smkex_proto_panic takes no arguments and never returns.
    unsafe { smkex_proto_panic() }
}
