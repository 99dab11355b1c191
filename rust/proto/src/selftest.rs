//! Known-answer tests of the primitives, run by the kernel module at load
//! time (and by the host tests) to prove the crates compute correctly in the
//! environment they were built for.

use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};

/// Which known-answer test failed. The discriminants are reported by the
/// kernel module in its load message, so they are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SelfTestFailure {
    /// RFC 7748 §6.1 public key or shared secret.
    X25519 = 1,
    /// FIPS 180-2 SHA-256 of "abc".
    Sha256 = 2,
    /// RFC 5869 test case 1 (HKDF-SHA256).
    Hkdf = 3,
}

// RFC 7748 §6.1.
const ALICE_PRIVATE: [u8; 32] =
    hex32(b"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
const ALICE_PUBLIC: [u8; 32] =
    hex32(b"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
const BOB_PUBLIC: [u8; 32] =
    hex32(b"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
const SHARED: [u8; 32] = hex32(b"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

const SHA256_ABC: [u8; 32] =
    hex32(b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

// RFC 5869 A.1.
const HKDF_IKM: [u8; 22] = [0x0b; 22];
const HKDF_SALT: [u8; 13] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const HKDF_INFO: [u8; 10] = [0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9];
// Evaluated at compile time only: an out-of-range index here is a build
// error, never a run-time panic.
#[allow(clippy::indexing_slicing)]
const HKDF_OKM: [u8; 42] = {
    let a = hex32(b"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf");
    let b: [u8; 10] = [0x34, 0x00, 0x72, 0x08, 0xd5, 0xb8, 0x87, 0x18, 0x58, 0x65];
    let mut out = [0u8; 42];
    let mut i = 0;
    while i < 32 {
        out[i] = a[i];
        i += 1;
    }
    while i < 42 {
        out[i] = b[i - 32];
        i += 1;
    }
    out
};

/// Runs every known-answer test; the first failure is returned.
pub fn run() -> Result<(), SelfTestFailure> {
    x25519()?;
    sha256()?;
    hkdf_sha256()
}

fn x25519() -> Result<(), SelfTestFailure> {
    let alice = StaticSecret::from(ALICE_PRIVATE);
    let public = PublicKey::from(&alice);
    let shared = alice.diffie_hellman(&PublicKey::from(BOB_PUBLIC));
    let ok = public.as_bytes().ct_eq(&ALICE_PUBLIC) & shared.as_bytes().ct_eq(&SHARED);
    if bool::from(ok) {
        Ok(())
    } else {
        Err(SelfTestFailure::X25519)
    }
}

fn sha256() -> Result<(), SelfTestFailure> {
    let digest = Sha256::digest(b"abc");
    if bool::from(digest.as_slice().ct_eq(&SHA256_ABC)) {
        Ok(())
    } else {
        Err(SelfTestFailure::Sha256)
    }
}

fn hkdf_sha256() -> Result<(), SelfTestFailure> {
    let mut okm = [0u8; 42];
    Hkdf::<Sha256>::new(Some(&HKDF_SALT), &HKDF_IKM)
        .expand(&HKDF_INFO, &mut okm)
        .map_err(|_| SelfTestFailure::Hkdf)?;
    if bool::from(okm.ct_eq(&HKDF_OKM)) {
        Ok(())
    } else {
        Err(SelfTestFailure::Hkdf)
    }
}

/// Decodes 64 hex digits at compile time (invalid digits fail the build).
/// Only ever evaluated in `const` items, so its indexing and panic are
/// compile-time checks, not run-time panics.
#[allow(clippy::indexing_slicing, clippy::panic)]
const fn hex32(s: &[u8; 64]) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(s[2 * i]) << 4) | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_answers_pass() {
        assert_eq!(super::run(), Ok(()));
    }
}
