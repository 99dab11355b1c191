//! Prints the record-layer test vectors of Documentation/protocol.md §10
//! (`cargo run -p smkex-proto --example record_vectors`), from the fixed
//! handshake inputs of §9, with RustCrypto's ChaCha20-Poly1305 behind the
//! `Aead` trait. The tests (tests/record_vectors.rs) check the document
//! against the code; this program is how the document's block was produced.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../tests/common/aead.rs"]
mod aead;

use aead::{nonce96, RustCrypto};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use smkex_proto::records::{
    DirKeys, Direction, RecordKeys, RecordType, Sealer, HEADER_LEN, MAX_PLAINTEXT, MAX_WIRE_LEN,
    SEQ_LIMIT,
};
use smkex_proto::{Action, Channel, Role, Session, MAX_RECORD_LEN};

/// The plaintext of c2s seq 0.
const C2S_SEQ0: &[u8] = b"hello, smkex";
/// The plaintext of s2c seq 0.
const S2C_SEQ0: &[u8] = b"hello, client";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Delivers every record `from` sends to `to`, on the same channel.
fn shuttle(from: &mut Session, to: &mut Session) {
    let mut buf = [0u8; MAX_RECORD_LEN];
    loop {
        match from.poll(&mut buf) {
            Action::Idle => return,
            Action::Send { channel, len } => {
                to.receive(channel, &buf[..len]);
            }
            Action::Fail(r) => panic!("failed: {r:?}"),
            _ => {}
        }
    }
}

/// Seals one record of `kind` with plaintext `pt`; returns the wire bytes.
fn seal(sealer: &mut Sealer, kind: RecordType, pt: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; MAX_WIRE_LEN];
    buf[HEADER_LEN..HEADER_LEN + pt.len()].copy_from_slice(pt);
    let n = sealer.seal(&RustCrypto, kind, &mut buf, pt.len()).unwrap();
    buf.truncate(n);
    buf
}

fn line(name: &str, value: &str) {
    println!("{name:<24}= {value}");
}

fn main() {
    let x = unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let y = unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    let n_c: Vec<u8> = (0x00..0x20).collect();
    let n_s: Vec<u8> = (0x20..0x40).collect();
    let mut cr = [0u8; 64];
    cr[..32].copy_from_slice(&x);
    cr[32..].copy_from_slice(&n_c);
    let mut sr = [0u8; 64];
    sr[..32].copy_from_slice(&y);
    sr[32..].copy_from_slice(&n_s);
    let mut c = Session::new(Role::Client, &cr);
    let mut s = Session::new(Role::Server, &sr);
    c.channel_up(Channel::One);
    c.channel_up(Channel::Two);
    shuttle(&mut c, &mut s);
    shuttle(&mut s, &mut c);
    shuttle(&mut c, &mut s);
    let secret = *c.record_secret().expect("client complete");
    assert_eq!(Some(&secret), s.record_secret());
    let h = *c.transcript_hash().unwrap();
    let z = x25519_dalek::x25519(
        x.clone().try_into().unwrap(),
        x25519_dalek::x25519(
            y.clone().try_into().unwrap(),
            x25519_dalek::X25519_BASEPOINT_BYTES,
        ),
    );
    let mut salt = n_c.clone();
    salt.extend_from_slice(&n_s);
    let (prk, _) = Hkdf::<Sha256>::extract(Some(&salt), &z);

    let c2s = DirKeys::derive(&secret, Direction::ClientToServer);
    let s2c = DirKeys::derive(&secret, Direction::ServerToClient);
    let client = RecordKeys::derive(&secret, Role::Client);
    let server = RecordKeys::derive(&secret, Role::Server);
    assert_eq!(client.tx.key(), c2s.key());
    assert_eq!(server.tx.key(), s2c.key());

    let mut c2s_sealer = Sealer::new(client.tx, SEQ_LIMIT);
    let c2s0 = seal(&mut c2s_sealer, RecordType::Data, C2S_SEQ0);
    let big: Vec<u8> = (0..MAX_PLAINTEXT).map(|i| (i % 251) as u8).collect();
    let c2s1 = seal(&mut c2s_sealer, RecordType::Data, &big);
    let c2s2 = seal(&mut c2s_sealer, RecordType::Close, &[]);
    let mut s2c_sealer = Sealer::new(server.tx, SEQ_LIMIT);
    let s2c0 = seal(&mut s2c_sealer, RecordType::Data, S2C_SEQ0);
    let s2c1 = seal(&mut s2c_sealer, RecordType::Close, &[]);

    println!("```smkex-record-vectors");
    line("client_private", &hex(&x));
    line("client_nonce", &hex(&n_c));
    line("server_private", &hex(&y));
    line("server_nonce", &hex(&n_s));
    line("transcript_hash_h", &hex(&h));
    line("hkdf_prk", &hex(&prk));
    line("record_secret", &hex(&secret));
    line("c2s_key", &hex(c2s.key()));
    line("c2s_iv", &hex(c2s.iv()));
    line("s2c_key", &hex(s2c.key()));
    line("s2c_iv", &hex(s2c.iv()));
    line("c2s_seq2_nonce96", &hex(&nonce96(c2s.nonce(2))));
    line("c2s_seq0_plaintext", &hex(C2S_SEQ0));
    line("c2s_seq0_data", &hex(&c2s0));
    line("c2s_seq1_plaintext_len", &big.len().to_string());
    line("c2s_seq1_data_len", &c2s1.len().to_string());
    line("c2s_seq1_data_sha256", &hex(&Sha256::digest(&c2s1)));
    line("c2s_seq2_close", &hex(&c2s2));
    line("s2c_seq0_plaintext", &hex(S2C_SEQ0));
    line("s2c_seq0_data", &hex(&s2c0));
    line("s2c_seq1_close", &hex(&s2c1));
    println!("```");
}
