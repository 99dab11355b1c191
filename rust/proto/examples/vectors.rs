//! Prints the test vectors of Documentation/protocol.md §8 from the fixed
//! inputs there (`cargo run -p smkex-proto --example vectors`). The tests
//! check the document against the code; this program is how the document's
//! block was produced.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use hkdf::Hkdf;
use sha2::Sha256;
use smkex_proto::schedule::KeySchedule;
use smkex_proto::{Action, Channel, Role, Session, MAX_RECORD_LEN};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn drain(s: &mut Session, out: &mut Vec<(Channel, Vec<u8>)>) {
    let mut buf = [0u8; MAX_RECORD_LEN];
    loop {
        match s.poll(&mut buf) {
            Action::Idle => return,
            Action::Send { channel, len } => out.push((channel, buf[..len].to_vec())),
            Action::Fail(r) => panic!("failed: {r:?}"),
            _ => {}
        }
    }
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
    let (mut co, mut so) = (Vec::new(), Vec::new());
    c.channel_up(Channel::One);
    c.channel_up(Channel::Two);
    drain(&mut c, &mut co);
    for (ch, r) in &co {
        s.receive(*ch, r);
    }
    drain(&mut s, &mut so);
    for (ch, r) in &so {
        c.receive(*ch, r);
    }
    let before = co.len();
    drain(&mut c, &mut co);
    for (ch, r) in &co[before..] {
        s.receive(*ch, r);
    }
    drain(&mut s, &mut so);
    assert_eq!(c.session_key(), s.session_key());
    let h = *c.transcript_hash().unwrap();
    let z = x25519_dalek::x25519(
        x.clone().try_into().unwrap(),
        so[0].1[4..].try_into().unwrap(),
    );
    let mut salt = n_c.clone();
    salt.extend_from_slice(&n_s);
    let (prk, _) = Hkdf::<Sha256>::extract(Some(&salt), &z);
    let ks = KeySchedule::derive(
        &z,
        &n_c.clone().try_into().unwrap(),
        &n_s.clone().try_into().unwrap(),
        &h,
    )
    .unwrap();
    let mut exp = [0u8; 32];
    c.export(b"EXPORTER-smkex-example", b"example context", &mut exp)
        .unwrap();
    println!("client_private        = {}", hex(&x));
    println!("client_nonce          = {}", hex(&n_c));
    println!("server_private        = {}", hex(&y));
    println!("server_nonce          = {}", hex(&n_s));
    println!("record_client_key_share   = {}", hex(&co[0].1));
    println!("record_client_nonce       = {}", hex(&co[1].1));
    println!("record_server_key_share   = {}", hex(&so[0].1));
    println!("record_server_nonce_hash  = {}", hex(&so[1].1));
    println!("record_client_finished    = {}", hex(&co[2].1));
    println!("shared_secret_z       = {}", hex(&z));
    println!("transcript_hash_h     = {}", hex(&h));
    println!("hkdf_prk              = {}", hex(&prk));
    println!("session_key           = {}", hex(c.session_key().unwrap()));
    println!("finished_key          = {}", hex(&ks.finished_key));
    println!(
        "exporter_secret       = {}",
        hex(c.exporter_secret().unwrap())
    );
    println!(
        "client_finished       = {}",
        hex(&ks.client_finished().unwrap())
    );
    println!("exporter_label        = {}", hex(b"EXPORTER-smkex-example"));
    println!("exporter_context      = {}", hex(b"example context"));
    println!("exporter_output_32    = {}", hex(&exp));
}
