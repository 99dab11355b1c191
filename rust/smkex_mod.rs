// SPDX-License-Identifier: GPL-2.0

//! smkex: the SMKEX key exchange (Secure Multipath Key Exchange) run in the
//! kernel across the subflows of an MPTCP connection.
//!
//! At load the module proves that the protocol core's cryptography computes
//! correctly in kernel space (known-answer tests of X25519, SHA-256 and
//! HKDF-SHA256) and refuses to load otherwise.
//!
//! The protocol core (`smkex_proto`) and the module's pure logic
//! (`smkex_logic`) are rlibs built against this kernel's own `core`
//! (scripts/build-crates.sh) and called directly.

use kernel::prelude::*;
use smkex_proto::selftest::SelfTestFailure;

#[path = "smkex_mod/counters.rs"]
mod counters;
#[path = "smkex_mod/entry.rs"]
mod entry;
#[path = "smkex_mod/glue.rs"]
mod glue;
#[path = "smkex_mod/handshake.rs"]
mod handshake;
#[path = "smkex_mod/provenance.rs"]
mod provenance;
#[path = "smkex_mod/records.rs"]
mod records;
#[path = "smkex_mod/selftest.rs"]
mod selftest;
#[path = "smkex_mod/socket.rs"]
mod socket;
#[path = "smkex_mod/sockopt.rs"]
mod sockopt;
#[path = "smkex_mod/state.rs"]
mod state;

module! {
    type: Smkex,
    name: "smkex",
    author: "smkex developers",
    description: "SMKEX: secure multipath key exchange over MPTCP subflows",
    license: "GPL",
}

/// What each known-answer test of the core checks.
fn selftest_name(failure: SelfTestFailure) -> &'static str {
    match failure {
        SelfTestFailure::X25519 => "X25519 (RFC 7748 6.1)",
        SelfTestFailure::Sha256 => "SHA-256 (FIPS 180-2 \"abc\")",
        SelfTestFailure::Hkdf => "HKDF-SHA256 (RFC 5869 A.1)",
        SelfTestFailure::Handshake => "handshake (Documentation/protocol.md §9 vectors)",
    }
}

/// What the crypto API returns when an algorithm fails its self-test.
fn elibbad() -> Error {
    Error::from_errno(-(kernel::bindings::ELIBBAD as i32))
}

struct Smkex;

impl kernel::Module for Smkex {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if let Err(failure) = smkex_proto::selftest::run() {
            pr_err!(
                "self-test FAILED: test {} {}; refusing to load\n",
                failure as u32,
                selftest_name(failure)
            );
            return Err(elibbad());
        }
        pr_info!("self-test passed: X25519 (RFC 7748), SHA-256, HKDF-SHA256 (RFC 5869), handshake (spec vectors)\n");
        if let Err(e) = selftest::random_handshake() {
            pr_err!("self-test FAILED: handshake with random keys: {:?}; refusing to load\n", e);
            return Err(elibbad());
        }
        pr_info!("self-test passed: handshake with random keys in kernel memory\n");
        if selftest::records_known_answer().is_err() {
            pr_err!("self-test FAILED: record layer (lib/crypto ChaCha20-Poly1305, protocol.md §10 vectors); refusing to load\n");
            return Err(elibbad());
        }
        pr_info!("self-test passed: record layer (ChaCha20-Poly1305, protocol.md §10 vectors)\n");
        let mib = glue::param_record_bench_mib();
        if mib > 0 {
            selftest::records_bench(mib)?;
        }
        glue::init()?;
        pr_info!("loaded, default handshake timeout {} ms\n", glue::param_timeout_ms());
        Ok(Smkex)
    }
}

impl Drop for Smkex {
    fn drop(&mut self) {
        // No socket of ours is left: each held a module reference.
        glue::exit();
        pr_info!("unloaded\n");
    }
}
