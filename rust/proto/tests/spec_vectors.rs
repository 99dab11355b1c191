//! Checks the test vectors of Documentation/protocol.md §9 against the
//! code: the vectors are parsed from the document itself, so a change to
//! either side without the other fails here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeMap;

use common::{hex, spec_block, to_hex, Side};
use hkdf::Hkdf;
use sha2::Sha256;
use smkex_proto::record::{self, RecordType};
use smkex_proto::schedule::{binding_hash, KeySchedule};
use smkex_proto::{Channel, FailureReason, Role};

const SPEC: &str = include_str!("../../../Documentation/protocol.md");

/// The `name = hex` lines of the fenced block whose info string is
/// `smkex-vectors`. Exactly one such block must exist.
fn vectors() -> BTreeMap<String, Vec<u8>> {
    spec_block(SPEC, "smkex-vectors").into_iter().map(|(name, value)| (name, hex(&value))).collect()
}

fn v32(v: &BTreeMap<String, Vec<u8>>, name: &str) -> [u8; 32] {
    v.get(name)
        .unwrap_or_else(|| panic!("vector {name} missing"))
        .as_slice()
        .try_into()
        .unwrap()
}

fn get<'a>(v: &'a BTreeMap<String, Vec<u8>>, name: &str) -> &'a [u8] {
    v.get(name)
        .unwrap_or_else(|| panic!("vector {name} missing"))
}

fn random_of(private: [u8; 32], nonce: [u8; 32]) -> [u8; 64] {
    let mut r = [0u8; 64];
    r[..32].copy_from_slice(&private);
    r[32..].copy_from_slice(&nonce);
    r
}

#[test]
fn spec_lists_exactly_the_expected_vectors() {
    let names: Vec<String> = vectors().keys().cloned().collect();
    let mut want = vec![
        "client_private",
        "client_nonce",
        "server_private",
        "server_nonce",
        "record_client_key_share",
        "record_client_nonce",
        "record_server_key_share",
        "record_server_nonce_hash",
        "record_client_finished",
        "shared_secret_z",
        "transcript_hash_h",
        "hkdf_prk",
        "session_key",
        "finished_key",
        "exporter_secret",
        "record_secret",
        "client_finished",
        "exporter_label",
        "exporter_context",
        "exporter_output_32",
    ];
    want.sort();
    assert_eq!(names, want);
}

#[test]
fn handshake_reproduces_the_spec_vectors() {
    let v = vectors();
    let n_c = v32(&v, "client_nonce");
    let n_s = v32(&v, "server_nonce");
    let mut c = Side::from_random(Role::Client, &random_of(v32(&v, "client_private"), n_c));
    let mut s = Side::from_random(Role::Server, &random_of(v32(&v, "server_private"), n_s));
    c.up(Channel::One);
    c.up(Channel::Two);
    assert_eq!(
        to_hex(&c.record(Channel::One, 0)),
        to_hex(get(&v, "record_client_key_share"))
    );
    assert_eq!(
        to_hex(&c.record(Channel::Two, 0)),
        to_hex(get(&v, "record_client_nonce"))
    );
    // The server is driven with the document's bytes, not the client's.
    s.recv(Channel::One, get(&v, "record_client_key_share"));
    s.recv(Channel::Two, get(&v, "record_client_nonce"));
    assert_eq!(
        to_hex(&s.record(Channel::One, 0)),
        to_hex(get(&v, "record_server_key_share"))
    );
    assert_eq!(
        to_hex(&s.record(Channel::Two, 0)),
        to_hex(get(&v, "record_server_nonce_hash"))
    );
    c.recv(Channel::One, get(&v, "record_server_key_share"));
    c.recv(Channel::Two, get(&v, "record_server_nonce_hash"));
    assert!(c.complete());
    assert_eq!(
        to_hex(&c.record(Channel::One, 1)),
        to_hex(get(&v, "record_client_finished"))
    );
    s.recv(Channel::One, get(&v, "record_client_finished"));
    assert!(s.complete());

    for side in [&c, &s] {
        assert_eq!(
            side.s.transcript_hash().unwrap(),
            &v32(&v, "transcript_hash_h")
        );
        assert_eq!(side.s.session_key().unwrap(), &v32(&v, "session_key"));
        assert_eq!(
            side.s.exporter_secret().unwrap(),
            &v32(&v, "exporter_secret")
        );
        assert_eq!(side.s.record_secret().unwrap(), &v32(&v, "record_secret"));
        let mut out = [0u8; 32];
        side.s
            .export(
                get(&v, "exporter_label"),
                get(&v, "exporter_context"),
                &mut out,
            )
            .unwrap();
        assert_eq!(out, v32(&v, "exporter_output_32"));
    }
    assert_eq!(get(&v, "exporter_label"), b"EXPORTER-smkex-example");
    assert_eq!(get(&v, "exporter_context"), b"example context");
}

#[test]
fn key_schedule_reproduces_the_spec_vectors() {
    let v = vectors();
    let x_priv = v32(&v, "client_private");
    let y_priv = v32(&v, "server_private");
    let n_c = v32(&v, "client_nonce");
    let n_s = v32(&v, "server_nonce");
    let x = x25519_dalek::x25519(x_priv, x25519_dalek::X25519_BASEPOINT_BYTES);
    let y = x25519_dalek::x25519(y_priv, x25519_dalek::X25519_BASEPOINT_BYTES);
    let z = x25519_dalek::x25519(x_priv, y);
    assert_eq!(z, x25519_dalek::x25519(y_priv, x));
    assert_eq!(z, v32(&v, "shared_secret_z"));
    let h = binding_hash(&x, &n_c, &y, &n_s);
    assert_eq!(h, v32(&v, "transcript_hash_h"));
    let mut salt = n_c.to_vec();
    salt.extend_from_slice(&n_s);
    let (prk, _) = Hkdf::<Sha256>::extract(Some(&salt), &z);
    assert_eq!(prk.as_slice(), &v32(&v, "hkdf_prk"));
    let ks = KeySchedule::derive(&z, &n_c, &n_s, &h).unwrap();
    assert_eq!(ks.session_key, v32(&v, "session_key"));
    assert_eq!(ks.finished_key, v32(&v, "finished_key"));
    assert_eq!(ks.exporter_secret, v32(&v, "exporter_secret"));
    assert_eq!(ks.record_secret, v32(&v, "record_secret"));
    assert_eq!(ks.client_finished().unwrap(), v32(&v, "client_finished"));
    // The records, by the encoder and by the one-shot parser.
    let nsh: Vec<u8> = n_s.iter().chain(h.iter()).copied().collect();
    let fin = ks.client_finished().unwrap();
    for (ty, body, name) in [
        (
            RecordType::ClientKeyShare,
            &x[..],
            "record_client_key_share",
        ),
        (RecordType::ClientNonce, &n_c[..], "record_client_nonce"),
        (
            RecordType::ServerKeyShare,
            &y[..],
            "record_server_key_share",
        ),
        (
            RecordType::ServerNonceHash,
            &nsh[..],
            "record_server_nonce_hash",
        ),
        (
            RecordType::ClientFinished,
            &fin[..],
            "record_client_finished",
        ),
    ] {
        let mut buf = [0u8; smkex_proto::MAX_RECORD_LEN];
        let n = record::encode(ty, body, &mut buf).unwrap();
        assert_eq!(&buf[..n], get(&v, name), "{name}");
        let (rec, used) = record::parse(get(&v, name)).unwrap().unwrap();
        assert_eq!((rec.ty, rec.body, used), (ty, body, n));
    }
}

/// The failure table of §6 lists every reason with its number and name:
/// the handshake's, then the record layer's (`Record` + the variant).
#[test]
fn spec_failure_table_matches_the_code() {
    let section = SPEC
        .split("## 6. Failure reasons")
        .nth(1)
        .expect("section 6")
        .split("\n## ")
        .next()
        .unwrap();
    let mut rows = Vec::new();
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() >= 4 {
            if let Ok(code) = cells[1].parse::<u8>() {
                rows.push((code, cells[2].trim_matches('`').to_string()));
            }
        }
    }
    let want: Vec<(u8, String)> = FailureReason::ALL
        .iter()
        .map(|r| (r.code(), format!("{r:?}")))
        .chain(
            smkex_proto::records::RecordError::ALL
                .iter()
                .map(|e| (e.code(), format!("Record{e:?}"))),
        )
        .collect();
    assert_eq!(rows, want);
}

/// The labels of §4 are the ones the code uses.
#[test]
fn spec_labels_match_the_code() {
    use smkex_proto::schedule::*;
    for label in [
        LABEL_BINDING_HASH,
        LABEL_SESSION_KEY,
        LABEL_FINISHED_KEY,
        LABEL_EXPORTER_SECRET,
        LABEL_CLIENT_FINISHED,
        LABEL_EXPORTER_OUTPUT,
        LABEL_RECORD_SECRET,
    ] {
        let quoted = format!("`{}`", std::str::from_utf8(label).unwrap());
        assert!(
            SPEC.contains(&quoted),
            "label {quoted} not in the spec's label table"
        );
    }
}
