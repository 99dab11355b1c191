// SPDX-License-Identifier: GPL-2.0

//! A protocol-core session in kernel memory, through the core's C ABI
//! (`rust/proto-kernel`). The core is a separate Rust crate graph linked as
//! one object, so its types are reached only through `extern "C"`; this
//! wrapper keeps every unsafe call in one place.

use kernel::prelude::*;

/// Largest record, as the core defines it (checked in [`ProtoSession::new`]).
pub(crate) const MAX_RECORD_LEN: usize = 68;
/// Bytes of randomness a session takes: private scalar, then nonce.
pub(crate) const RANDOM_LEN: usize = 64;

/// Room for the core's `Session` (512 bytes in this version); the sizes and
/// alignment are checked against the core's own at run time.
const STORAGE_LEN: usize = 1024;
#[repr(C, align(16))]
struct Storage([u8; STORAGE_LEN]);

/// `smkex_proto::RawAction`.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawAction {
    kind: u8,
    arg: u8,
    value: u32,
}

mod ffi {
    use super::{RawAction, MAX_RECORD_LEN, RANDOM_LEN};

    extern "C" {
        pub(super) fn smkex_proto_session_size() -> usize;
        pub(super) fn smkex_proto_session_align() -> usize;
        pub(super) fn smkex_proto_max_record_len() -> usize;
        pub(super) fn smkex_proto_session_init(
            mem: *mut u8,
            role: u8,
            random: *const [u8; RANDOM_LEN],
            timeout_ms: u32,
        ) -> i32;
        pub(super) fn smkex_proto_session_drop(s: *mut u8);
        pub(super) fn smkex_proto_session_channel_up(s: *mut u8, channel: u8) -> i32;
        pub(super) fn smkex_proto_session_receive(s: *mut u8, channel: u8, data: *const u8, len: usize) -> usize;
        pub(super) fn smkex_proto_session_poll(s: *mut u8, out: *mut [u8; MAX_RECORD_LEN]) -> RawAction;
        pub(super) fn smkex_proto_session_key(s: *const u8, out: *mut [u8; 32]) -> i32;
        pub(super) fn smkex_proto_session_transcript_hash(s: *const u8, out: *mut [u8; 32]) -> i32;
        pub(super) fn smkex_proto_session_export(
            s: *const u8,
            label: *const u8,
            label_len: usize,
            context: *const u8,
            context_len: usize,
            out: *mut u8,
            out_len: usize,
        ) -> i32;
    }
}

/// Protocol roles, with the core's numbers.
#[derive(Clone, Copy)]
#[repr(u8)]
pub(crate) enum Role {
    Client = 1,
    Server = 2,
}

/// What the caller must do next (`smkex_proto::Action`).
pub(crate) enum Action {
    Idle,
    /// Send the first `len` bytes of the poll buffer on `channel` (1 or 2).
    Send { channel: u8, len: usize },
    ArmTimer { millis: u32 },
    Complete,
    /// Failed with this reason code (Documentation/protocol.md §6).
    Fail(u8),
}

/// One handshake's protocol state; its secrets are zeroized on drop.
pub(crate) struct ProtoSession {
    mem: KBox<Storage>,
}

impl ProtoSession {
    pub(crate) fn new(role: Role, random: &[u8; RANDOM_LEN], timeout_ms: u32) -> Result<Self> {
        // SAFETY: these three only return constants of the core.
        let (size, align, max_record) = unsafe {
            (
                ffi::smkex_proto_session_size(),
                ffi::smkex_proto_session_align(),
                ffi::smkex_proto_max_record_len(),
            )
        };
        if size > STORAGE_LEN || align > core::mem::align_of::<Storage>() || max_record != MAX_RECORD_LEN {
            pr_err!("protocol core ABI mismatch: session {size}/{align}, record {max_record}\n");
            return Err(EINVAL);
        }
        let mut mem = KBox::new(Storage([0; STORAGE_LEN]), GFP_KERNEL)?;
        // SAFETY: `mem` is writable, large and aligned enough (checked above)
        // and holds no session yet; `random` is 64 readable bytes.
        let rc = unsafe { ffi::smkex_proto_session_init(mem.0.as_mut_ptr(), role as u8, random, timeout_ms) };
        if rc != 0 {
            return Err(EINVAL);
        }
        Ok(Self { mem })
    }

    fn ptr(&mut self) -> *mut u8 {
        self.mem.0.as_mut_ptr()
    }

    /// Event: channel 1 or 2 can carry data.
    pub(crate) fn channel_up(&mut self, channel: u8) -> Result {
        // SAFETY: `self` holds a live session, borrowed exclusively.
        match unsafe { ffi::smkex_proto_session_channel_up(self.ptr(), channel) } {
            0 => Ok(()),
            _ => Err(EINVAL),
        }
    }

    /// Event: `data` arrived on `channel`; returns the handshake's share.
    pub(crate) fn receive(&mut self, channel: u8, data: &[u8]) -> usize {
        // SAFETY: a live session, borrowed exclusively; `data` is readable.
        unsafe { ffi::smkex_proto_session_receive(self.ptr(), channel, data.as_ptr(), data.len()) }
    }

    /// The next action; a record to send is written to `out`.
    pub(crate) fn poll(&mut self, out: &mut [u8; MAX_RECORD_LEN]) -> Action {
        // SAFETY: a live session, borrowed exclusively; `out` is writable.
        let raw = unsafe { ffi::smkex_proto_session_poll(self.ptr(), out) };
        match raw.kind {
            0 => Action::Idle,
            1 => Action::Send { channel: raw.arg, len: raw.value as usize },
            2 => Action::ArmTimer { millis: raw.value },
            3 => Action::Complete,
            4 => Action::Fail(raw.arg),
            // Not produced by the core; fail closed.
            _ => Action::Fail(13),
        }
    }

    /// The session key, once complete.
    pub(crate) fn session_key(&self) -> Option<[u8; 32]> {
        let mut key = [0u8; 32];
        // SAFETY: a live session; `key` is 32 writable bytes.
        (unsafe { ffi::smkex_proto_session_key(self.mem.0.as_ptr(), &mut key) } == 0).then_some(key)
    }

    /// The transcript hash h, once complete.
    pub(crate) fn transcript_hash(&self) -> Option<[u8; 32]> {
        let mut hash = [0u8; 32];
        // SAFETY: a live session; `hash` is 32 writable bytes.
        (unsafe { ffi::smkex_proto_session_transcript_hash(self.mem.0.as_ptr(), &mut hash) } == 0)
            .then_some(hash)
    }

    /// Exporter output for (label, context) into `out` (at most 255 bytes).
    pub(crate) fn export(&self, label: &[u8], context: &[u8], out: &mut [u8]) -> Result {
        // SAFETY: a live session; each slice's pointer and length match.
        let rc = unsafe {
            ffi::smkex_proto_session_export(
                self.mem.0.as_ptr(),
                label.as_ptr(),
                label.len(),
                context.as_ptr(),
                context.len(),
                out.as_mut_ptr(),
                out.len(),
            )
        };
        if rc == 0 { Ok(()) } else { Err(EINVAL) }
    }
}

impl Drop for ProtoSession {
    fn drop(&mut self) {
        // SAFETY: the session is live and is never used again.
        unsafe { ffi::smkex_proto_session_drop(self.ptr()) };
    }
}
