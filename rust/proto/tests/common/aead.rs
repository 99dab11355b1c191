//! The record layer's `Aead` over RustCrypto's `chacha20poly1305` (an
//! implementation independent of the kernel's `lib/crypto`), shared by
//! tests/record_vectors.rs and examples/record_vectors.rs (included there
//! with `#[path]`).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce, Tag};
use smkex_proto::records::{Aead, KEY_LEN, TAG_LEN};

/// ChaCha20-Poly1305 (RFC 8439) from RustCrypto.
pub struct RustCrypto;

/// The RFC 8439 96-bit nonce of a 64-bit record nonce, as Linux
/// `lib/crypto` builds it: `00 00 00 00 ‖ LE64(nonce)`.
pub fn nonce96(nonce: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&nonce.to_le_bytes());
    n
}

impl Aead for RustCrypto {
    fn seal(&self, key: &[u8; KEY_LEN], nonce: u64, aad: &[u8], buf: &mut [u8], pt_len: usize) {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
        let (pt, rest) = buf.split_at_mut(pt_len);
        let tag = cipher
            .encrypt_in_place_detached(Nonce::from_slice(&nonce96(nonce)), aad, pt)
            .expect("encrypt");
        rest[..TAG_LEN].copy_from_slice(&tag);
    }

    fn open(&self, key: &[u8; KEY_LEN], nonce: u64, aad: &[u8], buf: &mut [u8]) -> bool {
        let Some(ct_len) = buf.len().checked_sub(TAG_LEN) else {
            return false;
        };
        let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
        let (ct, tag) = buf.split_at_mut(ct_len);
        let tag = *Tag::from_slice(tag);
        cipher
            .decrypt_in_place_detached(Nonce::from_slice(&nonce96(nonce)), aad, ct, &tag)
            .is_ok()
    }
}
