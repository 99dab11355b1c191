//! The SMKEX v1 key schedule: binding hash, HKDF-SHA256 derivations, the
//! client Finished MAC, the exporter and the record secret.
//! Documentation/protocol.md §4 (the record keys expanded from the record
//! secret: §10 and [`crate::records`]).

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::record::{HASH_LEN, KEY_SHARE_LEN, NONCE_LEN};

/// Domain label prefixed to the binding-hash input.
pub const LABEL_BINDING_HASH: &[u8] = b"smkex v1 binding hash";
/// HKDF-Expand info prefix of the session key (followed by h).
pub const LABEL_SESSION_KEY: &[u8] = b"smkex v1 session key";
/// HKDF-Expand info prefix of the Finished key (followed by h).
pub const LABEL_FINISHED_KEY: &[u8] = b"smkex v1 finished key";
/// HKDF-Expand info prefix of the exporter secret (followed by h).
pub const LABEL_EXPORTER_SECRET: &[u8] = b"smkex v1 exporter secret";
/// HMAC input prefix of the client Finished (followed by h).
pub const LABEL_CLIENT_FINISHED: &[u8] = b"smkex v1 client finished";
/// HKDF-Expand info prefix of exporter outputs.
pub const LABEL_EXPORTER_OUTPUT: &[u8] = b"smkex v1 exporter output";
/// HKDF-Expand info prefix of the record secret (followed by h): the root
/// of the record layer's keys ([`crate::records::RecordKeys`]), a branch
/// of its own so that the kernel's record keys are unrelated to the session
/// key and to every exporter output an application may use itself.
pub const LABEL_RECORD_SECRET: &[u8] = b"smkex v1 record secret";

/// Bytes of the session key.
pub const SESSION_KEY_LEN: usize = 32;
/// Bytes of the exporter secret.
pub const EXPORTER_SECRET_LEN: usize = 32;
/// Bytes of the record secret.
pub const RECORD_SECRET_LEN: usize = 32;
/// Largest exporter output, in bytes.
pub const MAX_EXPORT_LEN: usize = 255;
/// Longest exporter label, in bytes.
pub const MAX_EXPORT_LABEL_LEN: usize = 255;

/// Why an export was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExportError {
    /// The handshake has not completed (or failed).
    NotComplete = 1,
    /// More than [`MAX_EXPORT_LEN`] bytes were requested.
    TooLong = 2,
    /// The label is longer than [`MAX_EXPORT_LABEL_LEN`] bytes.
    LabelTooLong = 3,
}

/// h = SHA-256(LABEL_BINDING_HASH ‖ X ‖ N_C ‖ Y ‖ N_S).
pub fn binding_hash(
    x: &[u8; KEY_SHARE_LEN],
    n_c: &[u8; NONCE_LEN],
    y: &[u8; KEY_SHARE_LEN],
    n_s: &[u8; NONCE_LEN],
) -> [u8; HASH_LEN] {
    let mut hash = Sha256::new();
    hash.update(LABEL_BINDING_HASH);
    hash.update(x);
    hash.update(n_c);
    hash.update(y);
    hash.update(n_s);
    hash.finalize().into()
}

/// The secrets derived from one handshake. Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct KeySchedule {
    /// The session key handed to the application / kernel.
    pub session_key: [u8; SESSION_KEY_LEN],
    /// The key of the client Finished MAC.
    pub finished_key: [u8; 32],
    /// The exporter secret (PRK of [`export`]).
    pub exporter_secret: [u8; EXPORTER_SECRET_LEN],
    /// The record secret (PRK of the record layer's per-direction keys and
    /// IVs, [`crate::records::RecordKeys::derive`]).
    pub record_secret: [u8; RECORD_SECRET_LEN],
    /// The binding hash h.
    pub transcript_hash: [u8; HASH_LEN],
}

impl KeySchedule {
    /// An all-zero schedule (the state before derivation).
    pub const fn empty() -> Self {
        KeySchedule {
            session_key: [0; SESSION_KEY_LEN],
            finished_key: [0; 32],
            exporter_secret: [0; EXPORTER_SECRET_LEN],
            record_secret: [0; RECORD_SECRET_LEN],
            transcript_hash: [0; HASH_LEN],
        }
    }

    /// PRK = HKDF-Extract(salt = N_C ‖ N_S, IKM = Z), then one
    /// HKDF-Expand per secret with info = label ‖ h. Returns `None` only if
    /// HKDF refuses a length (it cannot for these fixed lengths).
    pub fn derive(
        z: &[u8; 32],
        n_c: &[u8; NONCE_LEN],
        n_s: &[u8; NONCE_LEN],
        h: &[u8; HASH_LEN],
    ) -> Option<Self> {
        let mut salt = [0u8; NONCE_LEN * 2];
        let (a, b) = salt.split_at_mut(NONCE_LEN);
        a.copy_from_slice(n_c);
        b.copy_from_slice(n_s);
        let kdf = Hkdf::<Sha256>::new(Some(&salt), z);
        let mut ks = KeySchedule::empty();
        ks.transcript_hash = *h;
        let ok = kdf
            .expand_multi_info(&[LABEL_SESSION_KEY, h], &mut ks.session_key)
            .is_ok()
            && kdf
                .expand_multi_info(&[LABEL_FINISHED_KEY, h], &mut ks.finished_key)
                .is_ok()
            && kdf
                .expand_multi_info(&[LABEL_EXPORTER_SECRET, h], &mut ks.exporter_secret)
                .is_ok()
            && kdf
                .expand_multi_info(&[LABEL_RECORD_SECRET, h], &mut ks.record_secret)
                .is_ok();
        if ok {
            Some(ks)
        } else {
            None
        }
    }

    /// Finished = HMAC-SHA256(finished_key, LABEL_CLIENT_FINISHED ‖ h).
    pub fn client_finished(&self) -> Option<[u8; 32]> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.finished_key).ok()?;
        mac.update(LABEL_CLIENT_FINISHED);
        mac.update(&self.transcript_hash);
        Some(mac.finalize().into_bytes().into())
    }

    /// Constant-time check of a received Finished.
    pub fn verify_client_finished(&self, received: &[u8]) -> bool {
        match self.client_finished() {
            Some(mut expected) => {
                let ok = bool::from(expected.as_slice().ct_eq(received));
                expected.zeroize();
                ok
            }
            None => false,
        }
    }
}

/// The exporter: fills `out` (at most [`MAX_EXPORT_LEN`] bytes) with
/// HKDF-Expand(PRK = exporter_secret, info = LABEL_EXPORTER_OUTPUT ‖
/// u8(len(out)) ‖ u8(len(label)) ‖ label ‖ SHA-256(context), len(out)).
pub fn export(
    exporter_secret: &[u8; EXPORTER_SECRET_LEN],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), ExportError> {
    let out_len = u8::try_from(out.len()).map_err(|_| ExportError::TooLong)?;
    let label_len = u8::try_from(label.len()).map_err(|_| ExportError::LabelTooLong)?;
    let context_hash: [u8; 32] = Sha256::digest(context).into();
    // A 32-byte PRK is always accepted and 255 bytes is far below the HKDF
    // limit of 255 * 32, so neither error below can occur; they are mapped
    // rather than unwrapped.
    let kdf = Hkdf::<Sha256>::from_prk(exporter_secret).map_err(|_| ExportError::NotComplete)?;
    kdf.expand_multi_info(
        &[
            LABEL_EXPORTER_OUTPUT,
            &[out_len],
            &[label_len],
            label,
            &context_hash,
        ],
        out,
    )
    .map_err(|_| ExportError::TooLong)
}
