// SPDX-License-Identifier: GPL-2.0

//! smkex: the SMKEX key exchange (Secure Multipath Key Exchange) run in the
//! kernel across the subflows of an MPTCP connection.
//!
//! At load the module proves that the protocol core's cryptography computes
//! correctly in kernel space (known-answer tests of X25519, SHA-256 and
//! HKDF-SHA256) and refuses to load otherwise.

use kernel::prelude::*;

#[path = "smkex_mod/selftest.rs"]
mod selftest;
#[path = "smkex_mod/session.rs"]
mod session;

module! {
    type: Smkex,
    name: "smkex",
    author: "smkex developers",
    description: "SMKEX: secure multipath key exchange over MPTCP subflows",
    license: "GPL",
}

/// The C ABI of the protocol core object and of the C helpers.
mod ffi {
    extern "C" {
        /// 0 when every known-answer test passes, else the failing test's number.
        pub(crate) fn smkex_proto_selftest() -> u32;
        /// The `handshake_timeout_ms` module parameter.
        pub(crate) fn smkex_param_handshake_timeout_ms() -> u32;
        /// Registers the per-netns counters (/proc/net/smkex); 0 or -errno.
        pub(crate) fn smkex_stats_init() -> i32;
        /// Unregisters the counters.
        pub(crate) fn smkex_stats_exit();
        /// Hooks the first `setsockopt(SOL_SMKEX)` of MPTCP sockets; 0 or -errno.
        pub(crate) fn smkex_sock_init() -> i32;
        /// Removes the hook; called only once no SMKEX socket is left.
        pub(crate) fn smkex_sock_exit();
    }
}

/// Names of the self-test numbers of `smkex_proto::selftest::SelfTestFailure`.
fn selftest_name(failure: u32) -> &'static str {
    match failure {
        1 => "X25519 (RFC 7748 6.1)",
        2 => "SHA-256 (FIPS 180-2 \"abc\")",
        3 => "HKDF-SHA256 (RFC 5869 A.1)",
        4 => "handshake (Documentation/protocol.md §9 vectors)",
        _ => "unknown",
    }
}

/// `ELIBBAD`: what the crypto API returns when an algorithm fails its self-test.
const ELIBBAD: i32 = 80;

struct Smkex;

impl kernel::Module for Smkex {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // SAFETY: the self-test takes no arguments, touches only its own
        // stack and constants, and may sleep-free run in process context.
        let failure = unsafe { ffi::smkex_proto_selftest() };
        if failure != 0 {
            pr_err!(
                "self-test FAILED: test {} {}; refusing to load\n",
                failure,
                selftest_name(failure)
            );
            return Err(Error::from_errno(-ELIBBAD));
        }
        pr_info!("self-test passed: X25519 (RFC 7748), SHA-256, HKDF-SHA256 (RFC 5869), handshake (spec vectors)\n");
        if let Err(e) = selftest::abi_handshake() {
            pr_err!("self-test FAILED: handshake through the core's C ABI: {:?}; refusing to load\n", e);
            return Err(Error::from_errno(-ELIBBAD));
        }
        pr_info!("self-test passed: handshake through the core's C ABI with random keys\n");
        // SAFETY: called once, from module init in process context; undone
        // by `smkex_stats_exit` below or in `drop`.
        let err = unsafe { ffi::smkex_stats_init() };
        if err != 0 {
            return Err(Error::from_errno(err));
        }
        // SAFETY: as above; the counters the hook uses are registered.
        let err = unsafe { ffi::smkex_sock_init() };
        if err != 0 {
            // SAFETY: registered just above; nothing can use them yet.
            unsafe { ffi::smkex_stats_exit() };
            return Err(Error::from_errno(err));
        }
        // SAFETY: a plain read of a module parameter, no preconditions.
        let timeout = unsafe { ffi::smkex_param_handshake_timeout_ms() };
        pr_info!("loaded, default handshake timeout {} ms\n", timeout);
        Ok(Smkex)
    }
}

impl Drop for Smkex {
    fn drop(&mut self) {
        // SAFETY: `init` succeeded, so the hook is registered; the module is
        // unloading, so no socket uses it any more.
        unsafe { ffi::smkex_sock_exit() };
        // SAFETY: registered in `init`; with the hook gone nothing counts.
        unsafe { ffi::smkex_stats_exit() };
        pr_info!("unloaded\n");
    }
}
