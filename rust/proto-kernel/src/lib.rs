//! The C ABI through which the kernel module calls the protocol core.
//!
//! Built only for the kernel target (`scripts/build-proto.sh`): a staticlib
//! with its own `core`, from which the build takes the crate's one object.
//! Every exported function is `extern "C"`, takes plain integers and
//! pointers, and never panics on any input.
#![no_std]

/// Runs the known-answer self-test of X25519, SHA-256 and HKDF-SHA256.
/// Returns 0 when all pass, otherwise the number of the first failing test
/// (see `smkex_proto::selftest::SelfTestFailure`).
#[no_mangle]
pub extern "C" fn smkex_proto_selftest() -> u32 {
    match smkex_proto::selftest::run() {
        Ok(()) => 0,
        Err(failure) => failure as u32,
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
