//! Benchmark (not a test): the CPU cost of one full SMKEX v1 handshake per
//! side, its components, and one X25519 scalar multiplication by ring (the
//! fastest host X25519 available from crates.io, assembly-backed), in the
//! same run.
//!
//! Run: `cargo run --release -p smkex-proto-bench` (from rust/). To time the
//! exact kernel configuration of curve25519-dalek, add
//! `RUSTFLAGS='--cfg curve25519_dalek_backend="serial"'`. The X25519
//! Montgomery ladder and the basepoint table are serial code on every
//! backend, so the numbers barely differ.
//!
//! Method: each measurement runs a batch of iterations, repeated; the
//! median batch gives the time per operation. Reported in microseconds.

use std::hint::black_box;
use std::time::Instant;

use ring::agreement;
use ring::rand::SystemRandom;
use sha2::{Digest, Sha256};
use smkex_proto::schedule::{binding_hash, KeySchedule};
use smkex_proto::{Action, Channel, Role, Session, MAX_RECORD_LEN, RANDOM_LEN};
use x25519_dalek::{PublicKey, StaticSecret};

const BATCHES: usize = 15;

/// Median time per iteration of `f`, in microseconds, over BATCHES batches
/// of `iters` iterations (after one warm-up batch).
fn time_us(iters: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..iters {
        f();
    }
    let mut samples: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / iters as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[BATCHES / 2]
}

fn drain(s: &mut Session, out: &mut Vec<(Channel, Vec<u8>)>) {
    let mut buf = [0u8; MAX_RECORD_LEN];
    loop {
        match s.poll(&mut buf) {
            Action::Idle => return,
            Action::Send { channel, len } => out.push((channel, buf[..len].to_vec())),
            Action::Fail(r) => panic!("handshake failed: {r:?}"),
            Action::ArmTimer { .. } | Action::Complete => {}
        }
    }
}

/// Sends into a fixed buffer without allocating (the timed path).
fn drain_quiet(s: &mut Session) -> usize {
    let mut buf = [0u8; MAX_RECORD_LEN];
    let mut sent = 0;
    loop {
        match s.poll(&mut buf) {
            Action::Idle => return sent,
            Action::Send { len, .. } => {
                black_box(&buf[..len]);
                sent += 1;
            }
            Action::Fail(r) => panic!("handshake failed: {r:?}"),
            Action::ArmTimer { .. } | Action::Complete => {}
        }
    }
}

fn main() {
    let client_random = [0x5au8; RANDOM_LEN];
    let server_random = [0xa5u8; RANDOM_LEN];

    // One genuine handshake, recorded, so that each side can be replayed
    // alone against the other's records.
    let mut c = Session::new(Role::Client, &client_random);
    let mut s = Session::new(Role::Server, &server_random);
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
    drain(&mut c, &mut co);
    s.receive(co[2].0, &co[2].1);
    assert_eq!(c.session_key().unwrap(), s.session_key().unwrap());

    let client_side = || {
        let mut c = Session::new(Role::Client, black_box(&client_random));
        c.channel_up(Channel::One);
        c.channel_up(Channel::Two);
        drain_quiet(&mut c);
        c.receive(so[0].0, &so[0].1);
        c.receive(so[1].0, &so[1].1);
        drain_quiet(&mut c);
        assert!(c.session_key().is_some());
        black_box(c.session_key());
    };
    let server_side = || {
        let mut s = Session::new(Role::Server, black_box(&server_random));
        s.receive(co[0].0, &co[0].1);
        s.receive(co[1].0, &co[1].1);
        drain_quiet(&mut s);
        s.receive(co[2].0, &co[2].1);
        drain_quiet(&mut s);
        assert!(s.session_key().is_some());
        black_box(s.session_key());
    };

    // Components.
    let scalar = [0x42u8; 32];
    let secret = StaticSecret::from(scalar);
    let peer = PublicKey::from(&StaticSecret::from([0x24u8; 32]));
    let (x, y, n_c, n_s) = ([1u8; 32], [2u8; 32], [3u8; 32], [4u8; 32]);
    let z = *secret.diffie_hellman(&peer).as_bytes();
    let h = binding_hash(&x, &n_c, &y, &n_s);
    let ks = KeySchedule::derive(&z, &n_c, &n_s, &h).unwrap();

    let keygen = time_us(2000, || {
        black_box(PublicKey::from(&StaticSecret::from(black_box(scalar))));
    });
    let keygen_ladder = time_us(500, || {
        black_box(x25519_dalek::x25519(
            black_box(scalar),
            x25519_dalek::X25519_BASEPOINT_BYTES,
        ));
    });
    let dh = time_us(500, || {
        black_box(secret.diffie_hellman(black_box(&peer)));
    });
    let hash = time_us(20000, || {
        black_box(binding_hash(black_box(&x), &n_c, &y, &n_s));
    });
    let hkdf = time_us(5000, || {
        black_box(KeySchedule::derive(black_box(&z), &n_c, &n_s, &h));
    });
    let finished = time_us(20000, || {
        black_box(ks.client_finished());
    });
    let sha_block = time_us(20000, || {
        black_box(Sha256::digest(black_box([0u8; 55])));
    });

    let client = time_us(300, client_side);
    let server = time_us(300, server_side);

    // ring: one X25519 scalar multiplication with a variable base (the DH),
    // and one with the base point (key generation). agree_ephemeral consumes
    // its key, so each iteration also generates one (random bytes only); that
    // cost is measured alone and subtracted.
    let rng = SystemRandom::new();
    let peer_ring = agreement::UnparsedPublicKey::new(&agreement::X25519, peer.as_bytes().to_vec());
    let ring_generate = time_us(5000, || {
        black_box(agreement::EphemeralPrivateKey::generate(&agreement::X25519, &rng).unwrap());
    });
    let ring_generate_and_dh = time_us(500, || {
        let k = agreement::EphemeralPrivateKey::generate(&agreement::X25519, &rng).unwrap();
        black_box(agreement::agree_ephemeral(k, &peer_ring, |z| z[0]).unwrap());
    });
    let ring_generate_and_keygen = time_us(2000, || {
        let k = agreement::EphemeralPrivateKey::generate(&agreement::X25519, &rng).unwrap();
        black_box(k.compute_public_key().unwrap());
    });
    let ring_dh = ring_generate_and_dh - ring_generate;
    let ring_keygen = ring_generate_and_keygen - ring_generate;

    println!(
        "smkex-proto handshake cost (median of {BATCHES} batches, microseconds per operation)"
    );
    println!("(Session is {} bytes)", std::mem::size_of::<Session>());
    println!();
    println!(
        "full handshake, client side   {client:8.1} us   (keygen, DH, h, HKDF, Finished, records)"
    );
    println!("full handshake, server side   {server:8.1} us   (keygen, DH, h, HKDF, Finished check, records)");
    println!();
    println!("components (curve25519-dalek serial field arithmetic, sha2 force-soft):");
    println!("  keygen x*B (precomputed table) {keygen:8.2} us");
    println!("  keygen x*B (Montgomery ladder) {keygen_ladder:8.2} us   (cost without precomputed-tables)");
    println!("  X25519 DH  x*Y                 {dh:8.2} us");
    println!("  binding hash h (SHA-256, 149 B){hash:8.2} us");
    println!("  HKDF extract + 3 expands       {hkdf:8.2} us");
    println!("  Finished HMAC-SHA256           {finished:8.2} us");
    println!("  SHA-256 of one block           {sha_block:8.2} us");
    println!();
    println!("ring 0.17 X25519 (assembly), same run:");
    println!("  scalar mult, variable base     {ring_dh:8.2} us   (generate+agree {ring_generate_and_dh:.2} - generate {ring_generate:.2})");
    println!("  scalar mult, base point        {ring_keygen:8.2} us");
    println!();
    println!("ratios:");
    println!("  dalek DH / ring DH             {:8.2}", dh / ring_dh);
    println!(
        "  dalek keygen / ring keygen     {:8.2}",
        keygen / ring_keygen
    );
    println!("  client handshake / ring DH     {:8.2}", client / ring_dh);
    println!("  server handshake / ring DH     {:8.2}", server / ring_dh);
}
