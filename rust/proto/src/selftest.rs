//! Known-answer tests of the primitives, run by the kernel module at load
//! time (and by the host tests) to prove the crates compute correctly in the
//! environment they were built for.

use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::record::MAX_RECORD_LEN;
use crate::session::{Action, Session, RANDOM_LEN};
use crate::{Channel, Role};

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
    /// A full client/server handshake from the fixed inputs of
    /// Documentation/protocol.md §9 must give its session key and h.
    Handshake = 4,
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

// Documentation/protocol.md §9 (the spec's test vectors).
const BOB_PRIVATE: [u8; 32] = hex32(b"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
const VECTOR_SESSION_KEY: [u8; 32] = hex32(b"9d30dbf5d8194f14b55c2ce3afb91df75dbd94cb005ba32071c43731fbfee4ce");
const VECTOR_TRANSCRIPT_HASH: [u8; 32] = hex32(b"b737c2830a62b97f60ea7b365cc736368275f3faa3b20eb8b26c9d38a6d4fc90");

/// Runs every known-answer test; the first failure is returned.
pub fn run() -> Result<(), SelfTestFailure> {
    x25519()?;
    sha256()?;
    hkdf_sha256()?;
    handshake()
}

/// The spec vector's random input: the private key, then the nonce bytes
/// `first`, `first + 1`, ... (N_C starts at 0x00, N_S at 0x20).
fn vector_random(private: &[u8; 32], first: u8) -> [u8; RANDOM_LEN] {
    let mut random = [0u8; RANDOM_LEN];
    let (key, nonce) = random.split_at_mut(32);
    key.copy_from_slice(private);
    let mut next = first;
    for byte in nonce.iter_mut() {
        *byte = next;
        next = next.wrapping_add(1);
    }
    random
}

/// Drains one side's actions, delivering its records to the peer on the
/// same channel. Returns whether it completed.
fn pump(from: &mut Session, to: &mut Session) -> Result<bool, SelfTestFailure> {
    let mut buf = [0u8; MAX_RECORD_LEN];
    let mut complete = false;
    loop {
        match from.poll(&mut buf) {
            Action::Idle => return Ok(complete),
            Action::Send { channel, len } => {
                let record = buf.get(..len).ok_or(SelfTestFailure::Handshake)?;
                to.receive(channel, record);
            }
            Action::ArmTimer { .. } => {}
            Action::Complete => complete = true,
            Action::Fail(_) => return Err(SelfTestFailure::Handshake),
        }
    }
}

/// Client and server run the whole handshake in memory from the spec's fixed
/// inputs; both must complete with the spec's session key and h.
fn handshake() -> Result<(), SelfTestFailure> {
    let mut client = Session::new(Role::Client, &vector_random(&ALICE_PRIVATE, 0x00));
    let mut server = Session::new(Role::Server, &vector_random(&BOB_PRIVATE, 0x20));
    for channel in [Channel::One, Channel::Two] {
        client.channel_up(channel);
        server.channel_up(channel);
    }
    let (mut client_done, mut server_done) = (false, false);
    // Three exchanges suffice (client shares, server shares, Finished).
    for _ in 0..4 {
        client_done |= pump(&mut client, &mut server)?;
        server_done |= pump(&mut server, &mut client)?;
    }
    let (Some(ck), Some(sk), Some(h)) = (client.session_key(), server.session_key(), client.transcript_hash()) else {
        return Err(SelfTestFailure::Handshake);
    };
    let ok = ck.ct_eq(&VECTOR_SESSION_KEY) & sk.ct_eq(&VECTOR_SESSION_KEY) & h.ct_eq(&VECTOR_TRANSCRIPT_HASH);
    if client_done && server_done && bool::from(ok) {
        Ok(())
    } else {
        Err(SelfTestFailure::Handshake)
    }
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
