//! The record layer (Documentation/protocol.md §10) against its spec: the
//! `smkex-record-vectors` block is parsed from the document itself and
//! checked with RustCrypto's ChaCha20-Poly1305 behind the `Aead` trait;
//! then the format's rules (strict headers, tampering, truncation and EOF,
//! replay/reorder/reflection, limits, sticky errors) and property tests of
//! the streaming `Opener` in any split.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "common/aead.rs"]
mod aead;
mod common;

use std::collections::BTreeMap;

use aead::{nonce96, RustCrypto};
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce};
use common::{handshake, hex, spec_block, to_hex, Side};
use hkdf::Hkdf;
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use smkex_proto::records::{
    self, Aead, DirKeys, Direction, Header, Opened, Opener, RecordError, RecordKeys, RecordType,
    Sealer, CLOSE_LEN, DATA_LEN_MAX, DATA_LEN_MIN, HEADER_LEN, IV_LEN, KEY_LEN, MAX_PLAINTEXT,
    MAX_WIRE_LEN, SEQ_LIMIT, TAG_LEN,
};
use smkex_proto::schedule::{KeySchedule, LABEL_RECORD_SECRET};
use smkex_proto::{Channel, Role, Status};

const SPEC: &str = include_str!("../../../Documentation/protocol.md");

// ---------------------------------------------------------------------------
// The document's blocks.

fn vectors() -> BTreeMap<String, String> {
    spec_block(SPEC, "smkex-record-vectors")
}

fn get(v: &BTreeMap<String, String>, name: &str) -> Vec<u8> {
    hex(v
        .get(name)
        .unwrap_or_else(|| panic!("vector {name} missing")))
}

fn get32(v: &BTreeMap<String, String>, name: &str) -> [u8; 32] {
    get(v, name).try_into().expect("32 bytes")
}

fn decimal(v: &BTreeMap<String, String>, name: &str) -> usize {
    v.get(name)
        .unwrap_or_else(|| panic!("vector {name} missing"))
        .parse()
        .expect("decimal")
}

fn random_of(private: [u8; 32], nonce: [u8; 32]) -> [u8; 64] {
    let mut r = [0u8; 64];
    r[..32].copy_from_slice(&private);
    r[32..].copy_from_slice(&nonce);
    r
}

/// The plaintext of c2s seq 1: 16364 bytes, byte i = i mod 251.
fn big_plaintext() -> Vec<u8> {
    (0..MAX_PLAINTEXT).map(|i| (i % 251) as u8).collect()
}

// ---------------------------------------------------------------------------
// Helpers.

/// Seals `pt` as one record of `kind`; returns the wire bytes.
fn seal(sealer: &mut Sealer, kind: RecordType, pt: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; MAX_WIRE_LEN];
    buf[HEADER_LEN..HEADER_LEN + pt.len()].copy_from_slice(pt);
    let n = sealer.seal(&RustCrypto, kind, &mut buf, pt.len()).unwrap();
    assert_eq!(n, pt.len() + HEADER_LEN + TAG_LEN);
    buf.truncate(n);
    buf
}

/// What an `Opener` made of a byte stream.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    /// The records opened, in order.
    opened: Vec<(RecordType, Vec<u8>)>,
    /// The first error, or (with `eof`) the result of `end_of_stream`.
    result: Result<(), RecordError>,
}

/// Feeds `stream` to `op` as a transport would: pieces of at most the next
/// size of `splits` (cycled) and at most `want()`, opening every ready
/// record. Stops at the first error. With `eof`, ends with
/// `end_of_stream()`. Checks the API's invariants on the way.
fn drive(op: &mut Opener, stream: &[u8], splits: &[usize], eof: bool) -> Outcome {
    let mut buf = vec![0u8; MAX_WIRE_LEN];
    let mut opened = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    let failed = loop {
        assert!(op.have() + op.want() <= MAX_WIRE_LEN);
        if op.ready() {
            assert_eq!(op.want(), 0);
            let seq = op.seq();
            match op.open(&RustCrypto, &mut buf) {
                Ok(Opened { kind, len }) => {
                    assert_eq!(op.seq(), seq + 1);
                    assert_eq!(op.have(), 0);
                    assert_eq!(op.is_closed(), kind == RecordType::Close);
                    if kind == RecordType::Close {
                        assert_eq!(len, 0);
                    } else {
                        assert!((1..=MAX_PLAINTEXT).contains(&len));
                    }
                    opened.push((kind, buf[HEADER_LEN..HEADER_LEN + len].to_vec()));
                    continue;
                }
                Err(e) => break e,
            }
        }
        if pos == stream.len() {
            // end_of_stream() reports, but does not fail the opener.
            let end = if eof { op.end_of_stream() } else { Ok(()) };
            return Outcome {
                opened,
                result: end,
            };
        }
        let split = splits[i % splits.len()].max(1);
        i += 1;
        let want = op.want();
        // After a Close want() is 0: deliver what arrives anyway.
        let n = if want == 0 { split } else { split.min(want) }.min(stream.len() - pos);
        let at = op.have();
        buf[at..at + n].copy_from_slice(&stream[pos..pos + n]);
        pos += n;
        if let Err(e) = op.filled(&buf, n) {
            break e;
        }
    };
    assert_sticky(op, failed);
    Outcome {
        opened,
        result: Err(failed),
    }
}

/// Puts the whole record `buf[..len]` in as the API allows: the header,
/// then the rest.
fn fill_record(op: &mut Opener, buf: &[u8], len: usize) {
    op.filled(buf, HEADER_LEN).unwrap();
    op.filled(buf, len - HEADER_LEN).unwrap();
}

/// After an error every call returns it again.
fn assert_sticky(op: &mut Opener, e: RecordError) {
    let mut buf = vec![0u8; MAX_WIRE_LEN];
    assert_eq!(op.error(), Some(e));
    assert_eq!(op.want(), 0);
    assert!(!op.ready());
    assert_eq!(op.filled(&buf, 0), Err(e));
    assert_eq!(op.filled(&buf, 1), Err(e));
    assert_eq!(op.open(&RustCrypto, &mut buf), Err(e));
    assert_eq!(op.end_of_stream(), Err(e));
    assert_eq!(op.error(), Some(e));
}

/// Both sides' record keys for a record secret.
fn keys(secret: &[u8; 32]) -> (RecordKeys, RecordKeys) {
    (
        RecordKeys::derive(secret, Role::Client),
        RecordKeys::derive(secret, Role::Server),
    )
}

/// A c2s stream of Data records with these plaintexts, then (if `close`) a
/// Close; and the opener that reads it (the server's).
fn c2s_stream(secret: &[u8; 32], plaintexts: &[Vec<u8>], close: bool) -> (Vec<u8>, Opener) {
    let (client, server) = keys(secret);
    let mut sealer = Sealer::new(client.tx, SEQ_LIMIT);
    let mut stream = Vec::new();
    for pt in plaintexts {
        stream.extend(seal(&mut sealer, RecordType::Data, pt));
    }
    if close {
        stream.extend(seal(&mut sealer, RecordType::Close, &[]));
    }
    (stream, Opener::new(server.rx, SEQ_LIMIT))
}

fn data(pt: &[u8]) -> (RecordType, Vec<u8>) {
    (RecordType::Data, pt.to_vec())
}

fn close() -> (RecordType, Vec<u8>) {
    (RecordType::Close, Vec::new())
}

const SECRET: [u8; 32] = [0x5a; 32];
const WHOLE: &[usize] = &[usize::MAX];
const BYTEWISE: &[usize] = &[1];

// ---------------------------------------------------------------------------
// The document's vectors.

#[test]
fn spec_lists_exactly_the_expected_record_vectors() {
    let names: Vec<String> = vectors().keys().cloned().collect();
    let mut want = vec![
        "client_private",
        "client_nonce",
        "server_private",
        "server_nonce",
        "transcript_hash_h",
        "hkdf_prk",
        "record_secret",
        "c2s_key",
        "c2s_iv",
        "s2c_key",
        "s2c_iv",
        "c2s_seq2_nonce96",
        "c2s_seq0_plaintext",
        "c2s_seq0_data",
        "c2s_seq1_plaintext_len",
        "c2s_seq1_data_len",
        "c2s_seq1_data_sha256",
        "c2s_seq2_close",
        "s2c_seq0_plaintext",
        "s2c_seq0_data",
        "s2c_seq1_close",
    ];
    want.sort();
    assert_eq!(names, want);
}

/// The inputs are §9's, and so are h, the PRK and the record secret.
#[test]
fn record_vectors_reuse_the_handshake_vectors() {
    let v = vectors();
    let hs = spec_block(SPEC, "smkex-vectors");
    for name in [
        "client_private",
        "client_nonce",
        "server_private",
        "server_nonce",
        "transcript_hash_h",
        "hkdf_prk",
        "record_secret",
    ] {
        assert_eq!(v.get(name), hs.get(name), "{name} differs from §9");
    }
}

/// A handshake driven from the inputs gives both sides the record secret;
/// the key schedule and the `hkdf` crate agree.
#[test]
fn handshake_gives_the_record_secret() {
    let v = vectors();
    let n_c = get32(&v, "client_nonce");
    let n_s = get32(&v, "server_nonce");
    let mut c = Side::from_random(Role::Client, &random_of(get32(&v, "client_private"), n_c));
    let mut s = Side::from_random(Role::Server, &random_of(get32(&v, "server_private"), n_s));
    assert_eq!(c.s.record_secret(), None);
    assert_eq!(s.s.record_secret(), None);
    c.up(Channel::One);
    c.up(Channel::Two);
    s.recv(Channel::One, &c.record(Channel::One, 0));
    s.recv(Channel::Two, &c.record(Channel::Two, 0));
    c.recv(Channel::One, &s.record(Channel::One, 0));
    c.recv(Channel::Two, &s.record(Channel::Two, 0));
    assert!(c.complete());
    // The server holds the keys but is not complete: nothing readable yet.
    assert_eq!(s.s.record_secret(), None);
    assert_eq!(s.s.session_key(), None);
    s.recv(Channel::One, &c.record(Channel::One, 1));
    assert!(s.complete());
    let secret = get32(&v, "record_secret");
    assert_eq!(c.s.record_secret(), Some(&secret));
    assert_eq!(s.s.record_secret(), Some(&secret));
    assert_eq!(
        c.s.transcript_hash().unwrap(),
        &get32(&v, "transcript_hash_h")
    );

    // By the key schedule and by the hkdf crate from the PRK.
    let h = get32(&v, "transcript_hash_h");
    let z = x25519_dalek::x25519(
        get32(&v, "client_private"),
        x25519_dalek::x25519(
            get32(&v, "server_private"),
            x25519_dalek::X25519_BASEPOINT_BYTES,
        ),
    );
    let ks = KeySchedule::derive(&z, &n_c, &n_s, &h).unwrap();
    assert_eq!(ks.record_secret, secret);
    let kdf = Hkdf::<Sha256>::from_prk(&get(&v, "hkdf_prk")).unwrap();
    let mut out = [0u8; 32];
    kdf.expand_multi_info(&[LABEL_RECORD_SECRET, &h], &mut out)
        .unwrap();
    assert_eq!(out, secret);
    // A branch of its own.
    assert_ne!(Some(&secret), c.s.session_key());
    assert_ne!(Some(&secret), c.s.exporter_secret());
}

#[test]
fn record_secret_is_per_handshake_and_gone_after_failure() {
    let (c1, s1, _) = handshake(1, 2);
    let (c2, _, _) = handshake(3, 4);
    assert_eq!(c1.s.record_secret(), s1.s.record_secret());
    assert!(c1.s.record_secret().is_some());
    assert_ne!(c1.s.record_secret(), c2.s.record_secret());
    // A failed session never hands out a record secret.
    let mut c = Side::new(Role::Client, 5);
    c.s.timer_expired();
    c.pump();
    assert!(matches!(c.s.status(), Status::Failed(_)));
    assert_eq!(c.s.record_secret(), None);
}

/// The four keys and IVs, by `DirKeys`/`RecordKeys` and by the `hkdf` crate.
#[test]
fn record_keys_reproduce_the_spec_vectors() {
    let v = vectors();
    let secret = get32(&v, "record_secret");
    let kdf = Hkdf::<Sha256>::from_prk(&secret).unwrap();
    for (dir, key_name, iv_name, label_key, label_iv) in [
        (
            Direction::ClientToServer,
            "c2s_key",
            "c2s_iv",
            "smkex v1 c2s record key",
            "smkex v1 c2s record iv",
        ),
        (
            Direction::ServerToClient,
            "s2c_key",
            "s2c_iv",
            "smkex v1 s2c record key",
            "smkex v1 s2c record iv",
        ),
    ] {
        let keys = DirKeys::derive(&secret, dir);
        assert_eq!(keys.key().as_slice(), get(&v, key_name), "{key_name}");
        assert_eq!(keys.iv().as_slice(), get(&v, iv_name), "{iv_name}");
        assert_eq!(dir.labels(), (label_key.as_bytes(), label_iv.as_bytes()));
        let mut key = [0u8; KEY_LEN];
        let mut iv = [0u8; IV_LEN];
        kdf.expand(label_key.as_bytes(), &mut key).unwrap();
        kdf.expand(label_iv.as_bytes(), &mut iv).unwrap();
        assert_eq!(keys.key(), &key);
        assert_eq!(keys.iv(), &iv);
    }
    let (client, server) = keys(&secret);
    assert_eq!(client.tx.key().as_slice(), get(&v, "c2s_key"));
    assert_eq!(client.tx.iv().as_slice(), get(&v, "c2s_iv"));
    assert_eq!(client.rx.key().as_slice(), get(&v, "s2c_key"));
    assert_eq!(client.rx.iv().as_slice(), get(&v, "s2c_iv"));
    assert_eq!(server.tx.key().as_slice(), get(&v, "s2c_key"));
    assert_eq!(server.rx.key().as_slice(), get(&v, "c2s_key"));
    assert_eq!(server.rx.iv().as_slice(), get(&v, "c2s_iv"));
    // The nonce layout: 00000000 ‖ LE64(LE64⁻¹(iv) ^ seq).
    let iv = u64::from_le_bytes(client.tx.iv().to_owned());
    assert_eq!(client.tx.nonce(0), iv);
    assert_eq!(client.tx.nonce(2), iv ^ 2);
    assert_eq!(
        nonce96(client.tx.nonce(2)).as_slice(),
        get(&v, "c2s_seq2_nonce96")
    );
}

/// The sealers reproduce every record of the document.
#[test]
fn sealers_reproduce_the_spec_records() {
    let v = vectors();
    let (client, server) = keys(&get32(&v, "record_secret"));
    let mut c2s = Sealer::new(client.tx, SEQ_LIMIT);
    let c2s0_pt = get(&v, "c2s_seq0_plaintext");
    assert_eq!(c2s0_pt, b"hello, smkex");
    assert_eq!(
        seal(&mut c2s, RecordType::Data, &c2s0_pt),
        get(&v, "c2s_seq0_data")
    );
    let big = big_plaintext();
    assert_eq!(big.len(), decimal(&v, "c2s_seq1_plaintext_len"));
    let c2s1 = seal(&mut c2s, RecordType::Data, &big);
    assert_eq!(c2s1.len(), decimal(&v, "c2s_seq1_data_len"));
    assert_eq!(c2s1.len(), MAX_WIRE_LEN);
    assert_eq!(
        Sha256::digest(&c2s1).as_slice(),
        get(&v, "c2s_seq1_data_sha256")
    );
    assert_eq!(&c2s1[..HEADER_LEN], &[0x10, 0x01, 0x3f, 0xfc]);
    assert_eq!(
        seal(&mut c2s, RecordType::Close, &[]),
        get(&v, "c2s_seq2_close")
    );
    assert_eq!(c2s.seq(), 3);

    let mut s2c = Sealer::new(server.tx, SEQ_LIMIT);
    let s2c0_pt = get(&v, "s2c_seq0_plaintext");
    assert_eq!(
        seal(&mut s2c, RecordType::Data, &s2c0_pt),
        get(&v, "s2c_seq0_data")
    );
    assert_eq!(
        seal(&mut s2c, RecordType::Close, &[]),
        get(&v, "s2c_seq1_close")
    );
    assert_eq!(s2c.seq(), 2);
}

/// The openers read the document's records, whole and byte by byte, and
/// end cleanly.
#[test]
fn openers_read_the_spec_records() {
    let v = vectors();
    let secret = get32(&v, "record_secret");
    let mut c2s_stream = get(&v, "c2s_seq0_data");
    let (client, _) = keys(&secret);
    let mut sealer = Sealer::with_seq(client.tx, SEQ_LIMIT, 1);
    let c2s1 = seal(&mut sealer, RecordType::Data, &big_plaintext());
    c2s_stream.extend(&c2s1);
    c2s_stream.extend(get(&v, "c2s_seq2_close"));
    let mut s2c_stream = get(&v, "s2c_seq0_data");
    s2c_stream.extend(get(&v, "s2c_seq1_close"));
    for splits in [WHOLE, BYTEWISE, &[3, 1000, 7]] {
        let (client, server) = keys(&secret);
        let mut op = Opener::new(server.rx, SEQ_LIMIT);
        let out = drive(&mut op, &c2s_stream, splits, true);
        assert_eq!(
            out,
            Outcome {
                opened: vec![
                    data(&get(&v, "c2s_seq0_plaintext")),
                    data(&big_plaintext()),
                    close()
                ],
                result: Ok(()),
            }
        );
        assert!(op.is_closed());
        assert_eq!(op.seq(), 3);
        let mut op = Opener::new(client.rx, SEQ_LIMIT);
        let out = drive(&mut op, &s2c_stream, splits, true);
        assert_eq!(
            out,
            Outcome {
                opened: vec![data(&get(&v, "s2c_seq0_plaintext")), close()],
                result: Ok(()),
            }
        );
    }
}

/// The labels of §10 are the ones the code uses, and §10 states the
/// constants.
#[test]
fn spec_states_the_record_constants() {
    for label in [
        records::LABEL_C2S_KEY,
        records::LABEL_C2S_IV,
        records::LABEL_S2C_KEY,
        records::LABEL_S2C_IV,
        LABEL_RECORD_SECRET,
    ] {
        let label = std::str::from_utf8(label).unwrap();
        assert!(
            SPEC.contains(&format!("`{label}`")),
            "label {label} not in §4"
        );
        assert!(
            SPEC.contains(&format!("\"{label}\"")),
            "label {label} not in a derivation"
        );
    }
    let section = SPEC
        .split("## 10. Record layer")
        .nth(1)
        .expect("section 10");
    for fact in [
        "`0x10` Data, `0x11` Close",
        "Data: 17..=16380; Close: exactly 16",
        "The largest record is 16384 bytes",
        "plaintext 16364",
        "seq ≥ 2^62",
        "00 00 00 00 ‖ LE64(LE64⁻¹(iv) ⊕ seq)",
    ] {
        assert!(section.contains(fact), "§10 does not say {fact:?}");
    }
    assert_eq!(MAX_WIRE_LEN, 16384);
    assert_eq!(MAX_PLAINTEXT, 16364);
    assert_eq!((DATA_LEN_MIN, DATA_LEN_MAX, CLOSE_LEN), (17, 16380, 16));
    assert_eq!(SEQ_LIMIT, 1 << 62);
    assert_eq!(
        (RecordType::Data as u8, RecordType::Close as u8),
        (0x10, 0x11)
    );
    assert_eq!(records::VERSION, 1);
}

#[test]
fn record_errors_are_reasons_16_to_19() {
    let codes: Vec<u8> = RecordError::ALL.iter().map(|e| e.code()).collect();
    assert_eq!(codes, [16, 17, 18, 19]);
    for e in RecordError::ALL {
        assert_eq!(RecordError::from_code(e.code()), Some(e));
        assert!(e.name().starts_with("record-"));
        // Disjoint from the handshake's reasons.
        assert_eq!(smkex_proto::FailureReason::from_code(e.code()), None);
    }
    assert_eq!(RecordError::from_code(15), None);
    assert_eq!(RecordError::from_code(20), None);
}

// ---------------------------------------------------------------------------
// The AEAD convention.

/// RFC 8439 Appendix A.5 through the same `Aead` impl: nonce
/// 00000000 01 02 .. 08 is the 64-bit value 0x0807060504030201.
#[test]
fn rfc8439_a5_through_the_aead_trait() {
    let key: [u8; 32] = hex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0")
        .try_into()
        .unwrap();
    let nonce = 0x0807_0605_0403_0201u64;
    assert_eq!(nonce96(nonce).as_slice(), hex("000000000102030405060708"));
    let aad = hex("f33388860000000000004e91");
    let pt = "Internet-Drafts are draft documents valid for a maximum of six months and may be \
              updated, replaced, or obsoleted by other documents at any time. It is inappropriate \
              to use Internet-Drafts as reference material or to cite them other than as \
              /\u{201c}work in progress./\u{201d}"
        .as_bytes();
    assert_eq!(pt.len(), 265);
    let ct = hex(
        "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e382d26b0\
         bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855\
         9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c767b804d46a59b5216cde7a4e9\
         9040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a\
         0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130\
         305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b",
    );
    let tag = hex("eead9d67890cbb22392336fea1851f38");
    let mut buf = pt.to_vec();
    buf.resize(pt.len() + TAG_LEN, 0);
    RustCrypto.seal(&key, nonce, &aad, &mut buf, pt.len());
    assert_eq!(to_hex(&buf[..pt.len()]), to_hex(&ct));
    assert_eq!(to_hex(&buf[pt.len()..]), to_hex(&tag));
    let sealed = buf.clone();
    assert!(RustCrypto.open(&key, nonce, &aad, &mut buf));
    assert_eq!(&buf[..pt.len()], pt);
    // Another nonce, AAD or key does not open it.
    for (k, n, a) in [
        (key, nonce ^ 1, aad.clone()),
        (key, nonce.swap_bytes(), aad.clone()),
        (key, nonce, hex("f33388860000000000004e90")),
        ([0u8; 32], nonce, aad.clone()),
    ] {
        let mut b = sealed.clone();
        assert!(!RustCrypto.open(&k, n, &a, &mut b));
    }
    let mut short = vec![0u8; TAG_LEN - 1];
    assert!(!RustCrypto.open(&key, nonce, &aad, &mut short));
}

/// The sealer's record is exactly RFC 8439 with AAD = header and the
/// nonce of §10, as an outside decoder computes it.
#[test]
fn a_record_is_plain_rfc8439() {
    let key = [7u8; 32];
    let iv = [1, 2, 3, 4, 5, 6, 7, 0x80];
    for seq in [0u64, 1, 2, 255, 256, 1 << 32, SEQ_LIMIT - 1] {
        let mut sealer = Sealer::with_seq(DirKeys::from_parts(key, iv), SEQ_LIMIT, seq);
        let record = seal(&mut sealer, RecordType::Data, b"abc");
        let n = u64::from_le_bytes(iv) ^ seq;
        let mut want = b"abc".to_vec();
        let tag = ChaCha20Poly1305::new(Key::from_slice(&key))
            .encrypt_in_place_detached(Nonce::from_slice(&nonce96(n)), &[0x10, 1, 0, 19], &mut want)
            .unwrap();
        want.extend_from_slice(&tag);
        assert_eq!(&record[..HEADER_LEN], &[0x10, 1, 0, 19]);
        assert_eq!(&record[HEADER_LEN..], &want[..], "seq {seq}");
    }
}

// ---------------------------------------------------------------------------
// Header rules.

/// Every type, version and length: accepted exactly in range, and refused
/// at the earliest byte that decides.
#[test]
fn headers_are_strict_and_decided_early() {
    for t in 0..=255u8 {
        let r = Header::check_prefix(&[t]);
        match t {
            0x10 | 0x11 => assert_eq!(r, Ok(None)),
            _ => assert_eq!(r, Err(RecordError::Malformed), "type {t:#x}"),
        }
    }
    for version in 0..=255u8 {
        let r = Header::check_prefix(&[0x10, version]);
        assert_eq!(r.is_ok(), version == 1);
    }
    for (kind, min, max) in [
        (RecordType::Data, 17u16, 16380u16),
        (RecordType::Close, 16, 16),
    ] {
        for high in 0..=255u8 {
            let any = (min..=max).any(|l| l >> 8 == u16::from(high));
            assert_eq!(
                Header::check_prefix(&[kind as u8, 1, high]).is_ok(),
                any,
                "{kind:?} high {high:#x}"
            );
        }
        for len in 0..=u16::MAX {
            let bytes = [kind as u8, 1, (len >> 8) as u8, len as u8];
            let legal = (min..=max).contains(&len);
            match Header::parse(&bytes) {
                Ok(h) => {
                    assert!(legal);
                    assert_eq!(h, Header { kind, len });
                    assert_eq!(h.encode(), bytes);
                    assert_eq!(h.wire_len(), 4 + len as usize);
                }
                Err(e) => {
                    assert!(!legal, "{kind:?} {len}");
                    assert_eq!(e, RecordError::Malformed);
                }
            }
        }
    }
}

/// The opener refuses a bad header at the byte that decides, even when
/// the bytes come one at a time.
#[test]
fn opener_refuses_bad_headers_at_the_first_bad_byte() {
    for (bytes, at) in [
        (&[0x01u8, 1, 0, 32][..], 0),    // a handshake type
        (&[0x12, 1, 0, 32][..], 0),      // unknown
        (&[0x10, 2, 0, 32][..], 1),      // version
        (&[0x10, 0, 0, 32][..], 1),      // version
        (&[0x10, 1, 0x40, 0][..], 2),    // Data ≥ 16384
        (&[0x10, 1, 0x3f, 0xfd][..], 3), // 16381
        (&[0x10, 1, 0, 16][..], 3),      // Data of 0 bytes
        (&[0x10, 1, 0, 0][..], 3),
        (&[0x11, 1, 1, 0][..], 2),  // Close of 256
        (&[0x11, 1, 0, 17][..], 3), // Close with a byte
        (&[0x11, 1, 0, 0][..], 3),
    ] {
        let (_, server) = keys(&SECRET);
        let mut op = Opener::new(server.rx, SEQ_LIMIT);
        let mut buf = vec![0u8; MAX_WIRE_LEN];
        for (i, &b) in bytes.iter().enumerate() {
            buf[i] = b;
            let r = op.filled(&buf, 1);
            if i < at {
                assert_eq!(r, Ok(()), "{bytes:02x?} byte {i}");
            } else {
                assert_eq!(r, Err(RecordError::Malformed), "{bytes:02x?} byte {i}");
                break;
            }
        }
        assert_sticky(&mut op, RecordError::Malformed);
    }
    // Plaintext from a peer without records fails at once.
    let (stream, mut op) = (
        b"GET / HTTP/1.1\r\n".to_vec(),
        Opener::new(keys(&SECRET).1.rx, SEQ_LIMIT),
    );
    let out = drive(&mut op, &stream, BYTEWISE, true);
    assert_eq!(out.result, Err(RecordError::Malformed));
    assert_eq!(op.have(), 1);
}

// ---------------------------------------------------------------------------
// The sealer's rules.

#[test]
fn sealer_checks_sizes_without_consuming_a_seq() {
    let (client, server) = keys(&SECRET);
    let mut sealer = Sealer::new(client.tx, SEQ_LIMIT);
    let mut buf = vec![0u8; MAX_WIRE_LEN + 10];
    let malformed = Err(RecordError::Malformed);
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Data, &mut buf, 0),
        malformed
    );
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Data, &mut buf, MAX_PLAINTEXT + 1),
        malformed
    );
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Data, &mut buf, usize::MAX),
        malformed
    );
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Close, &mut buf, 1),
        malformed
    );
    // The buffer must hold the whole record.
    let mut short = vec![0u8; 5 + HEADER_LEN + TAG_LEN - 1];
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Data, &mut short, 5),
        malformed
    );
    let mut short = vec![0u8; HEADER_LEN + TAG_LEN - 1];
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Close, &mut short, 0),
        malformed
    );
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Close, &mut [], 0),
        malformed
    );
    assert_eq!(sealer.seq(), 0);
    // Exact fits work, and nothing past the record is written.
    let mut exact = vec![0xee; 5 + HEADER_LEN + TAG_LEN + 3];
    exact[HEADER_LEN..HEADER_LEN + 5].copy_from_slice(b"12345");
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Data, &mut exact, 5),
        Ok(25)
    );
    assert_eq!(&exact[25..], &[0xee; 3]);
    let mut max = vec![0u8; MAX_WIRE_LEN];
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Data, &mut max, MAX_PLAINTEXT),
        Ok(MAX_WIRE_LEN)
    );
    let mut close_buf = vec![0u8; HEADER_LEN + TAG_LEN];
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Close, &mut close_buf, 0),
        Ok(20)
    );
    assert_eq!(sealer.seq(), 3);
    let mut stream = exact[..25].to_vec();
    stream.extend(&max);
    stream.extend(&close_buf);
    let out = drive(
        &mut Opener::new(server.rx, SEQ_LIMIT),
        &stream,
        &[4096],
        true,
    );
    assert_eq!(
        out,
        Outcome {
            opened: vec![data(b"12345"), data(&[0u8; MAX_PLAINTEXT]), close()],
            result: Ok(()),
        }
    );
}

// ---------------------------------------------------------------------------
// Tampering, truncation, reordering.

/// Every bit of the header, body and tag of a small record (and of a
/// Close): never opened; Auth or Malformed once enough bytes follow, and
/// Truncated at most when the stream ends first.
#[test]
fn tamper_matrix_every_bit() {
    let v = vectors();
    let secret = get32(&v, "record_secret");
    let (client, _) = keys(&secret);
    let mut sealer = Sealer::with_seq(client.tx, SEQ_LIMIT, 1);
    let filler = seal(&mut sealer, RecordType::Data, &big_plaintext());
    let mut total = 0;
    for (name, seq) in [("c2s_seq0_data", 0u64), ("c2s_seq2_close", 2)] {
        let record = get(&v, name);
        for bit in 0..record.len() * 8 {
            let mut tampered = record.clone();
            tampered[bit / 8] ^= 1 << (bit % 8);
            // Followed by enough bytes to complete any length.
            let mut stream = tampered.clone();
            stream.extend(&filler);
            let (_, server) = keys(&secret);
            let mut op = Opener::with_seq(server.rx, SEQ_LIMIT, seq);
            let out = drive(&mut op, &stream, &[7, 100, 3000], true);
            assert!(out.opened.is_empty(), "{name} bit {bit} opened");
            if bit < HEADER_LEN * 8 {
                assert!(
                    matches!(out.result, Err(RecordError::Malformed | RecordError::Auth)),
                    "{name} bit {bit}: {:?}",
                    out.result
                );
            } else {
                assert_eq!(out.result, Err(RecordError::Auth), "{name} bit {bit}");
            }
            // The tampered record alone, then EOF.
            let (_, server) = keys(&secret);
            let mut op = Opener::with_seq(server.rx, SEQ_LIMIT, seq);
            let out = drive(&mut op, &tampered, WHOLE, true);
            assert!(out.opened.is_empty());
            assert!(out.result.is_err(), "{name} bit {bit}");
            total += 1;
        }
    }
    assert_eq!(total, (32 + 20) * 8);
}

/// Truncation and EOF: the stream ends cleanly only right after a Close.
#[test]
fn end_of_stream_rules() {
    let pts = vec![b"first".to_vec(), b"second record".to_vec()];
    let (stream, _) = c2s_stream(&SECRET, &pts, true);
    let close_at = stream.len() - (HEADER_LEN + TAG_LEN);
    // Every prefix: Ok only when whole; otherwise Truncated, with the
    // records before the cut opened.
    for cut in 0..=stream.len() {
        let (_, mut op) = c2s_stream(&SECRET, &pts, true);
        let out = drive(&mut op, &stream[..cut], &[9], true);
        if cut == stream.len() {
            assert_eq!(out.result, Ok(()));
            assert_eq!(
                out.opened,
                vec![data(b"first"), data(b"second record"), close()]
            );
        } else {
            assert_eq!(out.result, Err(RecordError::Truncated), "cut at {cut}");
            let whole = [25, 25 + 33, close_at + 20]
                .iter()
                .filter(|&&end| end <= cut)
                .count();
            assert_eq!(out.opened.len(), whole, "cut at {cut}");
        }
    }
    // An empty stream, and data without a Close, are truncated.
    let (_, mut op) = c2s_stream(&SECRET, &[], false);
    assert_eq!(op.end_of_stream(), Err(RecordError::Truncated));
    assert_eq!(op.error(), None, "end_of_stream does not fail the opener");
    let out = drive(&mut op, &[], WHOLE, true);
    assert_eq!(out.result, Err(RecordError::Truncated));
    let (s, mut op) = c2s_stream(&SECRET, &pts, false);
    assert_eq!(
        drive(&mut op, &s, WHOLE, true).result,
        Err(RecordError::Truncated)
    );
    // A whole record not yet opened at EOF counts as truncated.
    let (s, mut op) = c2s_stream(&SECRET, &[b"x".to_vec()], false);
    let mut buf = vec![0u8; MAX_WIRE_LEN];
    buf[..s.len()].copy_from_slice(&s);
    fill_record(&mut op, &buf, s.len());
    assert!(op.ready());
    assert_eq!(op.end_of_stream(), Err(RecordError::Truncated));
    // Just a Close: clean.
    let (s, mut op) = c2s_stream(&SECRET, &[], true);
    assert_eq!(drive(&mut op, &s, BYTEWISE, true).opened, vec![close()]);
    assert_eq!(op.end_of_stream(), Ok(()));
}

/// Anything after a Close is Malformed: a byte, a record, another Close.
#[test]
fn bytes_after_close_are_malformed() {
    let (client, _) = keys(&SECRET);
    let mut sealer = Sealer::new(client.tx, SEQ_LIMIT);
    let mut stream = seal(&mut sealer, RecordType::Close, &[]);
    let after_data = seal(&mut sealer, RecordType::Data, b"late");
    let after_close = seal(&mut sealer, RecordType::Close, &[]);
    for tail in [vec![0u8], vec![0x10], after_data, after_close] {
        let mut s = stream.clone();
        s.extend(&tail);
        for splits in [WHOLE, BYTEWISE] {
            let (_, server) = keys(&SECRET);
            let mut op = Opener::new(server.rx, SEQ_LIMIT);
            let out = drive(&mut op, &s, splits, true);
            assert_eq!(out.opened, vec![close()]);
            assert_eq!(out.result, Err(RecordError::Malformed));
            assert!(op.is_closed());
        }
    }
    // Zero bytes after a Close are nothing.
    let (_, server) = keys(&SECRET);
    let mut op = Opener::new(server.rx, SEQ_LIMIT);
    drive(&mut op, &stream, WHOLE, false);
    assert_eq!(op.want(), 0);
    assert_eq!(op.filled(&[], 0), Ok(()));
    assert_eq!(op.end_of_stream(), Ok(()));
    // Opening again after the Close is a contract violation.
    let mut buf = vec![0u8; MAX_WIRE_LEN];
    assert_eq!(op.open(&RustCrypto, &mut buf), Err(RecordError::Malformed));
    stream.clear();
}

/// Reordered, replayed, deleted, reflected records, and records under the
/// other direction's or another connection's keys: Auth.
#[test]
fn reorder_replay_delete_reflect_fail_auth() {
    let (client, server) = keys(&SECRET);
    let mut c2s = Sealer::new(client.tx, SEQ_LIMIT);
    let a = seal(&mut c2s, RecordType::Data, b"record zero");
    let b = seal(&mut c2s, RecordType::Data, b"record one!!");
    let c = seal(&mut c2s, RecordType::Close, &[]);
    let mut s2c = Sealer::new(server.tx, SEQ_LIMIT);
    let s0 = seal(&mut s2c, RecordType::Data, b"record zero");
    let s1 = seal(&mut s2c, RecordType::Close, &[]);
    let server_rx = || keys(&SECRET).1.rx;
    let client_rx = || keys(&SECRET).0.rx;
    let cat = |parts: &[&Vec<u8>]| {
        parts
            .iter()
            .flat_map(|p| p.iter().copied())
            .collect::<Vec<u8>>()
    };
    let cases: Vec<(&str, DirKeys, Vec<u8>, usize)> = vec![
        ("swapped", server_rx(), cat(&[&b, &a, &c]), 0),
        ("replayed", server_rx(), cat(&[&a, &a, &b, &c]), 1),
        ("deleted", server_rx(), cat(&[&b, &c]), 0),
        ("deleted close", server_rx(), cat(&[&a, &b]), 2), // Truncated, below
        ("close early", server_rx(), cat(&[&a, &c]), 1),
        ("reflected to its sender", client_rx(), cat(&[&a]), 0),
        (
            "the other direction's record",
            server_rx(),
            cat(&[&s0, &s1]),
            0,
        ),
        (
            "the other direction's close",
            server_rx(),
            cat(&[&a, &b, &s1]),
            2,
        ),
        (
            "wrong-direction keys",
            DirKeys::derive(&SECRET, Direction::ServerToClient),
            cat(&[&a]),
            0,
        ),
        (
            "another connection's keys",
            keys(&[0xa5; 32]).1.rx,
            cat(&[&a]),
            0,
        ),
    ];
    for (name, rx, stream, opened) in cases {
        for splits in [WHOLE, &[5][..]] {
            let mut op = Opener::new(DirKeys::from_parts(*rx.key(), *rx.iv()), SEQ_LIMIT);
            let out = drive(&mut op, &stream, splits, true);
            assert_eq!(out.opened.len(), opened, "{name}");
            let want = if name == "deleted close" {
                Err(RecordError::Truncated)
            } else {
                Err(RecordError::Auth)
            };
            assert_eq!(out.result, want, "{name}");
        }
    }
}

/// A failed record's bytes are wiped from the buffer (no unauthenticated
/// plaintext can be read by mistake).
#[test]
fn auth_failure_wipes_the_record() {
    let (stream, mut op) = c2s_stream(&SECRET, &[b"secret plaintext".to_vec()], false);
    let mut tampered = stream.clone();
    tampered[10] ^= 0x80;
    let mut buf = vec![0u8; MAX_WIRE_LEN];
    buf[..tampered.len()].copy_from_slice(&tampered);
    fill_record(&mut op, &buf, tampered.len());
    assert_eq!(op.open(&RustCrypto, &mut buf), Err(RecordError::Auth));
    assert!(buf[HEADER_LEN..tampered.len()].iter().all(|&b| b == 0));
    assert_eq!(op.seq(), 0);
}

// ---------------------------------------------------------------------------
// API contract and sticky errors.

#[test]
fn more_than_want_is_malformed_and_sticky() {
    let (stream, _) = c2s_stream(&SECRET, &[vec![1u8; 40]], true);
    // At every position of the stream, n = want() + 1 fails.
    for pos in 0..stream.len() {
        let (_, mut op) = c2s_stream(&SECRET, &[vec![1u8; 40]], true);
        let out = drive(&mut op, &stream[..pos], WHOLE, false);
        assert_eq!(out.result, Ok(()));
        let mut buf = vec![0u8; MAX_WIRE_LEN];
        let n = op.want() + 1;
        assert_eq!(op.filled(&buf, n), Err(RecordError::Malformed), "at {pos}");
        assert_sticky(&mut op, RecordError::Malformed);
        // Even a well-formed continuation is refused now.
        assert_eq!(op.filled(&buf, 0), Err(RecordError::Malformed));
        buf.clear();
    }
    // A buffer shorter than have + n.
    let (_, mut op) = c2s_stream(&SECRET, &[], false);
    assert_eq!(op.filled(&[0x10, 1], 3), Err(RecordError::Malformed));
    // open when not ready, or with a buffer shorter than the record.
    let (_, mut op) = c2s_stream(&SECRET, &[], false);
    let mut buf = vec![0u8; MAX_WIRE_LEN];
    assert_eq!(op.open(&RustCrypto, &mut buf), Err(RecordError::Malformed));
    assert_sticky(&mut op, RecordError::Malformed);
    let (s, mut op) = c2s_stream(&SECRET, &[vec![9u8; 100]], false);
    buf[..s.len()].copy_from_slice(&s);
    fill_record(&mut op, &buf, s.len());
    assert_eq!(
        op.open(&RustCrypto, &mut buf[..s.len() - 1]),
        Err(RecordError::Malformed)
    );
    assert_sticky(&mut op, RecordError::Malformed);
}

#[test]
fn want_and_have_walk_through_a_record() {
    let (s, mut op) = c2s_stream(&SECRET, &[vec![3u8; 10]], false);
    let mut buf = vec![0u8; MAX_WIRE_LEN];
    assert_eq!((op.have(), op.want(), op.ready()), (0, 4, false));
    buf[..2].copy_from_slice(&s[..2]);
    op.filled(&buf, 2).unwrap();
    assert_eq!((op.have(), op.want()), (2, 2));
    buf[2..4].copy_from_slice(&s[2..4]);
    op.filled(&buf, 2).unwrap();
    assert_eq!((op.have(), op.want()), (4, 26));
    buf[4..30].copy_from_slice(&s[4..30]);
    op.filled(&buf, 26).unwrap();
    assert_eq!((op.have(), op.want(), op.ready()), (30, 0, true));
    assert_eq!(
        op.open(&RustCrypto, &mut buf),
        Ok(Opened {
            kind: RecordType::Data,
            len: 10
        })
    );
    assert_eq!(&buf[4..14], &[3u8; 10]);
    assert_eq!(
        (op.have(), op.want(), op.ready(), op.seq()),
        (0, 4, false, 1)
    );
}

// ---------------------------------------------------------------------------
// Limits.

#[test]
fn small_limit_stops_seal_and_open() {
    let (client, server) = keys(&SECRET);
    let mut sealer = Sealer::new(client.tx, 2);
    assert_eq!(sealer.limit(), 2);
    let mut stream = seal(&mut sealer, RecordType::Data, b"a");
    stream.extend(seal(&mut sealer, RecordType::Data, b"b"));
    let mut buf = vec![0u8; MAX_WIRE_LEN];
    for kind in [RecordType::Data, RecordType::Close, RecordType::Data] {
        let pt = usize::from(kind == RecordType::Data);
        assert_eq!(
            sealer.seal(&RustCrypto, kind, &mut buf, pt),
            Err(RecordError::Limit)
        );
        assert_eq!(sealer.seq(), 2);
    }
    // Size errors still take precedence (they are the caller's bug).
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Data, &mut buf, 0),
        Err(RecordError::Malformed)
    );
    // The third record (sealed without the limit) is refused by an opener
    // with limit 2, before it is opened.
    let mut free = Sealer::with_seq(keys(&SECRET).0.tx, SEQ_LIMIT, 2);
    stream.extend(seal(&mut free, RecordType::Close, &[]));
    let mut op = Opener::new(server.rx, 2);
    let out = drive(&mut op, &stream, &[3], true);
    assert_eq!(out.opened, vec![data(b"a"), data(b"b")]);
    assert_eq!(out.result, Err(RecordError::Limit));
    assert_eq!(op.seq(), 2);
    // Limit 0: nothing at all.
    let mut sealer = Sealer::new(keys(&SECRET).0.tx, 0);
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Close, &mut buf, 0),
        Err(RecordError::Limit)
    );
    let (s, _) = c2s_stream(&SECRET, &[], true);
    let mut op = Opener::new(keys(&SECRET).1.rx, 0);
    assert_eq!(
        drive(&mut op, &s, WHOLE, true).result,
        Err(RecordError::Limit)
    );
}

#[test]
fn limit_is_clamped_to_2_pow_62() {
    for limit in [SEQ_LIMIT, SEQ_LIMIT + 1, u64::MAX] {
        assert_eq!(Sealer::new(keys(&SECRET).0.tx, limit).limit(), SEQ_LIMIT);
        assert_eq!(Opener::new(keys(&SECRET).1.rx, limit).limit(), SEQ_LIMIT);
    }
    assert_eq!(Sealer::new(keys(&SECRET).0.tx, 5).limit(), 5);
    assert_eq!(Opener::new(keys(&SECRET).1.rx, 5).limit(), 5);
}

/// The last two sequence numbers below 2^62 work on both sides with the
/// right nonces; 2^62 itself is refused, never wrapped.
#[test]
fn sequence_numbers_up_to_2_pow_62() {
    let iv = [0xff; 8];
    let key = [0x42; 32];
    let k = || DirKeys::from_parts(key, iv);
    assert_eq!(k().nonce(SEQ_LIMIT - 1), u64::MAX ^ (SEQ_LIMIT - 1));
    assert_eq!(k().nonce(SEQ_LIMIT - 1), 0xc000_0000_0000_0000);
    let mut sealer = Sealer::with_seq(k(), u64::MAX, SEQ_LIMIT - 2);
    let mut stream = seal(&mut sealer, RecordType::Data, b"penultimate");
    stream.extend(seal(&mut sealer, RecordType::Close, &[]));
    assert_eq!(sealer.seq(), SEQ_LIMIT);
    let mut buf = vec![0u8; MAX_WIRE_LEN];
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Data, &mut buf, 1),
        Err(RecordError::Limit)
    );
    assert_eq!(sealer.seq(), SEQ_LIMIT);
    let mut op = Opener::with_seq(k(), u64::MAX, SEQ_LIMIT - 2);
    let out = drive(&mut op, &stream, WHOLE, true);
    assert_eq!(out.opened, vec![data(b"penultimate"), close()]);
    assert_eq!(out.result, Ok(()));
    assert_eq!(op.seq(), SEQ_LIMIT);
    // The last record decrypts with the nonce an outside decoder computes.
    let last = &stream[stream.len() - 20..];
    let mut body = last[HEADER_LEN..].to_vec();
    assert!(RustCrypto.open(
        &key,
        u64::from_le_bytes(iv) ^ (SEQ_LIMIT - 1),
        &last[..4],
        &mut body
    ));
    // A record at seq 2^62 (made by hand) is refused with Limit, not Auth.
    let mut rec = vec![0x10, 1, 0, 17, 0x61];
    rec.resize(21, 0);
    RustCrypto.seal(
        &key,
        u64::from_le_bytes(iv) ^ SEQ_LIMIT,
        &[0x10, 1, 0, 17],
        &mut rec[4..],
        1,
    );
    let mut op = Opener::with_seq(k(), SEQ_LIMIT, SEQ_LIMIT);
    assert_eq!(
        drive(&mut op, &rec, WHOLE, true).result,
        Err(RecordError::Limit)
    );
    // Far beyond: no overflow anywhere.
    let mut sealer = Sealer::with_seq(k(), u64::MAX, u64::MAX);
    assert_eq!(
        sealer.seal(&RustCrypto, RecordType::Close, &mut buf, 0),
        Err(RecordError::Limit)
    );
    let mut op = Opener::with_seq(k(), u64::MAX, u64::MAX);
    assert_eq!(
        drive(&mut op, &rec, BYTEWISE, true).result,
        Err(RecordError::Limit)
    );
}

// ---------------------------------------------------------------------------
// Properties.

fn plaintexts() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 1..600), 0..8)
}

proptest! {
    /// Any sequence of records, with or without a Close, fed in any split,
    /// round-trips; the end is clean exactly with a Close.
    #[test]
    fn any_records_in_any_split_round_trip(
        secret in any::<[u8; 32]>(),
        pts in plaintexts(),
        with_close in any::<bool>(),
        splits in prop::collection::vec(1usize..700, 1..16),
    ) {
        let (stream, mut op) = c2s_stream(&secret, &pts, with_close);
        let out = drive(&mut op, &stream, &splits, true);
        let mut want: Vec<(RecordType, Vec<u8>)> = pts.iter().map(|p| data(p)).collect();
        if with_close {
            want.push(close());
        }
        prop_assert_eq!(out.opened, want);
        prop_assert_eq!(out.result, if with_close { Ok(()) } else { Err(RecordError::Truncated) });
        prop_assert_eq!(op.seq(), pts.len() as u64 + u64::from(with_close));
    }

    /// Records of every size up to the largest, in any split.
    #[test]
    fn large_records_round_trip(
        lens in prop::collection::vec(1usize..=MAX_PLAINTEXT, 1..3),
        splits in prop::collection::vec(1usize..20000, 1..8),
    ) {
        let pts: Vec<Vec<u8>> = lens.iter().map(|&n| (0..n).map(|i| i as u8).collect()).collect();
        let (stream, mut op) = c2s_stream(&SECRET, &pts, true);
        let out = drive(&mut op, &stream, &splits, true);
        prop_assert_eq!(out.opened.len(), pts.len() + 1);
        prop_assert_eq!(out.result, Ok(()));
    }

    /// One changed byte anywhere in a stream: the records before it open,
    /// the changed one never does, and the stream fails.
    #[test]
    fn one_changed_byte_fails_the_stream(
        pts in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..100), 1..5),
        pos in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        splits in prop::collection::vec(1usize..200, 1..8),
    ) {
        let (mut stream, mut op) = c2s_stream(&SECRET, &pts, true);
        let at = pos.index(stream.len());
        stream[at] ^= xor;
        // The record the byte belongs to.
        let mut end = 0;
        let mut hit = pts.len();
        for (i, p) in pts.iter().enumerate() {
            end += p.len() + 20;
            if at < end {
                hit = i;
                break;
            }
        }
        let out = drive(&mut op, &stream, &splits, true);
        prop_assert!(out.result.is_err());
        prop_assert!(out.opened.len() <= hit);
        for (i, (kind, p)) in out.opened.iter().enumerate() {
            prop_assert_eq!(*kind, RecordType::Data);
            prop_assert_eq!(p, &pts[i]);
        }
    }

    /// Random bytes never open, never panic, and fail with a record error.
    #[test]
    fn random_bytes_never_open(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        splits in prop::collection::vec(1usize..50, 1..8),
    ) {
        let (_, mut op) = c2s_stream(&SECRET, &[], false);
        let out = drive(&mut op, &bytes, &splits, true);
        prop_assert!(out.opened.is_empty());
        prop_assert!(out.result.is_err());
    }

    /// Random bytes behind a valid header (the worst case for a forger
    /// without the key) never open.
    #[test]
    fn forged_records_never_open(body in prop::collection::vec(any::<u8>(), 17..200), close_kind in any::<bool>()) {
        let (_, mut op) = c2s_stream(&SECRET, &[], false);
        let (kind, body) = if close_kind { (0x11, &body[..16]) } else { (0x10, &body[..]) };
        let mut rec = vec![kind, 1];
        rec.extend((body.len() as u16).to_be_bytes());
        rec.extend(body);
        let out = drive(&mut op, &rec, WHOLE, true);
        prop_assert!(out.opened.is_empty());
        prop_assert_eq!(out.result, Err(RecordError::Auth));
    }

    /// n > want() is Malformed wherever the opener is.
    #[test]
    fn more_than_wanted_fails_anywhere(
        pts in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..50), 1..4),
        pos in any::<prop::sample::Index>(),
        extra in 1usize..100,
    ) {
        let (stream, mut op) = c2s_stream(&SECRET, &pts, false);
        let cut = pos.index(stream.len());
        drive(&mut op, &stream[..cut], &[13], false);
        let buf = vec![0u8; 2 * MAX_WIRE_LEN];
        let n = op.want() + extra;
        prop_assert_eq!(op.filled(&buf, n), Err(RecordError::Malformed));
        assert_sticky(&mut op, RecordError::Malformed);
    }
}
