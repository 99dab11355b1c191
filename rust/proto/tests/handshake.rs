//! End-to-end handshakes in memory over two simulated channels, in every
//! delivery order the protocol allows and in several chunkings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{handshake, idx, Side};
use smkex_proto::{
    expected_receive_bytes, expected_send_bytes, Channel, ExportError, Role, Session, Status,
    DEFAULT_TIMEOUT_MS, MAX_EXPORT_LEN,
};

#[derive(Clone, Copy, Debug)]
enum Chunking {
    Whole,
    Bytewise,
    /// Split into pieces of 1, 2, 3, ... bytes.
    Growing,
}

fn deliver(side: &mut Side, ch: Channel, bytes: &[u8], chunking: Chunking) {
    match chunking {
        Chunking::Whole => {
            assert_eq!(side.recv(ch, bytes), bytes.len());
        }
        Chunking::Bytewise => side.recv_bytewise(ch, bytes),
        Chunking::Growing => {
            let mut rest = bytes;
            let mut n = 1;
            while !rest.is_empty() {
                let take = n.min(rest.len());
                let (a, b) = rest.split_at(take);
                assert_eq!(side.recv(ch, a), a.len());
                rest = b;
                n += 1;
            }
        }
    }
}

/// Delivers two records on different channels, either one after the other
/// in the given order, or (interleave) alternating one byte from each.
fn deliver_pair(
    side: &mut Side,
    first: (Channel, &[u8]),
    second: (Channel, &[u8]),
    chunking: Chunking,
    interleave: bool,
) {
    if interleave {
        let (mut a, mut b) = (first.1, second.1);
        while !a.is_empty() || !b.is_empty() {
            if let Some((h, t)) = a.split_first() {
                side.recv(first.0, std::slice::from_ref(h));
                a = t;
            }
            if let Some((h, t)) = b.split_first() {
                side.recv(second.0, std::slice::from_ref(h));
                b = t;
            }
        }
    } else {
        deliver(side, first.0, first.1, chunking);
        deliver(side, second.0, second.1, chunking);
    }
}

/// One handshake with: the order in which the client's channels come up,
/// the order in which the server receives X / N_C, the order in which the
/// client receives Y / N_S‖h, the chunking, and whether the two records
/// of a flight are interleaved byte by byte.
fn run(
    client_ch1_first: bool,
    server_x_first: bool,
    client_y_first: bool,
    chunking: Chunking,
    interleave: bool,
    seeds: (u64, u64),
) -> (Side, Side) {
    let mut c = Side::new(Role::Client, seeds.0);
    let mut s = Side::new(Role::Server, seeds.1);
    assert_eq!(c.timer, Some(DEFAULT_TIMEOUT_MS));
    assert_eq!(s.timer, Some(DEFAULT_TIMEOUT_MS));
    // Nothing is sent before a channel is up.
    assert!(c.sent[0].is_empty() && c.sent[1].is_empty());
    if client_ch1_first {
        c.up(Channel::One);
        assert_eq!(c.sent[idx(Channel::One)].len(), 1);
        assert!(c.sent[idx(Channel::Two)].is_empty());
        c.up(Channel::Two);
    } else {
        c.up(Channel::Two);
        assert_eq!(c.sent[idx(Channel::Two)].len(), 1);
        assert!(c.sent[idx(Channel::One)].is_empty());
        c.up(Channel::One);
    }
    s.up(Channel::One);
    let x = c.record(Channel::One, 0);
    let nc = c.record(Channel::Two, 0);
    let (first, second) = if server_x_first {
        ((Channel::One, &x[..]), (Channel::Two, &nc[..]))
    } else {
        ((Channel::Two, &nc[..]), (Channel::One, &x[..]))
    };
    if interleave {
        deliver_pair(&mut s, first, second, chunking, true);
    } else {
        deliver(&mut s, first.0, first.1, chunking);
        // The server answers only after both client records arrived.
        assert!(
            s.sent[0].is_empty() && s.sent[1].is_empty(),
            "server answered early"
        );
        assert_eq!(s.s.status(), Status::Handshaking);
        deliver(&mut s, second.0, second.1, chunking);
    }
    assert_eq!(s.sent[0].len(), 1, "server sent Y");
    assert_eq!(s.sent[1].len(), 1, "server sent N_S||h");
    assert_eq!(
        s.s.status(),
        Status::Handshaking,
        "server must wait for Finished"
    );
    assert!(s.s.session_key().is_none());
    let y = s.record(Channel::One, 0);
    let nsh = s.record(Channel::Two, 0);
    let (first, second) = if client_y_first {
        ((Channel::One, &y[..]), (Channel::Two, &nsh[..]))
    } else {
        ((Channel::Two, &nsh[..]), (Channel::One, &y[..]))
    };
    if interleave {
        deliver_pair(&mut c, first, second, chunking, true);
    } else {
        deliver(&mut c, first.0, first.1, chunking);
        assert_eq!(c.s.status(), Status::Handshaking);
        assert_eq!(c.sent[0].len(), 1, "no Finished before both server records");
        deliver(&mut c, second.0, second.1, chunking);
    }
    assert_eq!(c.s.status(), Status::Complete, "client");
    assert_eq!(c.completions, 1);
    // The Finished goes on channel 1, before the completion is reported.
    assert_eq!(c.sent[idx(Channel::One)].len(), 2);
    assert_eq!(c.sent[idx(Channel::Two)].len(), 1);
    let fin = c.record(Channel::One, 1);
    deliver(&mut s, Channel::One, &fin, chunking);
    assert_eq!(s.s.status(), Status::Complete, "server");
    assert_eq!(s.completions, 1);
    (c, s)
}

fn check_agree(c: &Side, s: &Side) {
    assert_eq!(c.s.session_key(), s.s.session_key());
    assert_eq!(c.s.exporter_secret(), s.s.exporter_secret());
    assert_eq!(c.s.transcript_hash(), s.s.transcript_hash());
    assert!(c.s.session_key().is_some());
    let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
    c.s.export(b"EXPORTER-test", b"ctx", &mut a).unwrap();
    s.s.export(b"EXPORTER-test", b"ctx", &mut b).unwrap();
    assert_eq!(a, b);
    for ch in [Channel::One, Channel::Two] {
        for (side, role) in [(c, Role::Client), (s, Role::Server)] {
            assert_eq!(
                side.s.bytes_received(ch) as usize,
                expected_receive_bytes(role, ch),
                "{role:?} {ch:?} received"
            );
            assert_eq!(
                side.s.bytes_sent(ch) as usize,
                expected_send_bytes(role, ch),
                "{role:?} {ch:?} sent"
            );
            let sent: usize = side.sent[idx(ch)].iter().map(Vec::len).sum();
            assert_eq!(sent, expected_send_bytes(role, ch));
        }
    }
}

#[test]
fn every_delivery_order_and_chunking_completes_with_equal_keys() {
    let mut runs = 0;
    let mut keys = std::collections::HashSet::new();
    for client_ch1_first in [true, false] {
        for server_x_first in [true, false] {
            for client_y_first in [true, false] {
                for chunking in [Chunking::Whole, Chunking::Bytewise, Chunking::Growing] {
                    let (c, s) = run(
                        client_ch1_first,
                        server_x_first,
                        client_y_first,
                        chunking,
                        false,
                        (1, 2),
                    );
                    check_agree(&c, &s);
                    keys.insert(*c.s.session_key().unwrap());
                    runs += 1;
                }
                let (c, s) = run(
                    client_ch1_first,
                    server_x_first,
                    client_y_first,
                    Chunking::Bytewise,
                    true,
                    (1, 2),
                );
                check_agree(&c, &s);
                keys.insert(*c.s.session_key().unwrap());
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 32);
    // Same inputs, same keys, whatever the order.
    assert_eq!(keys.len(), 1);
}

#[test]
fn different_randomness_gives_different_keys() {
    let mut session_keys = std::collections::HashSet::new();
    let mut exports = std::collections::HashSet::new();
    let mut hashes = std::collections::HashSet::new();
    for (a, b) in [(1, 2), (3, 2), (1, 4), (5, 6), (7, 8)] {
        let (c, s, _) = handshake(a, b);
        check_agree(&c, &s);
        session_keys.insert(*c.s.session_key().unwrap());
        hashes.insert(*c.s.transcript_hash().unwrap());
        let mut out = [0u8; 32];
        c.s.export(b"l", b"", &mut out).unwrap();
        exports.insert(out);
    }
    assert_eq!(session_keys.len(), 5);
    assert_eq!(hashes.len(), 5);
    assert_eq!(exports.len(), 5);
}

#[test]
fn session_key_exporter_secret_and_finished_key_are_distinct() {
    let (c, _, t) = handshake(11, 12);
    let sk = *c.s.session_key().unwrap();
    let es = *c.s.exporter_secret().unwrap();
    let h = *c.s.transcript_hash().unwrap();
    assert_ne!(sk, es);
    assert_ne!(sk, h);
    assert_ne!(&t.client_finished[4..], &sk[..]);
}

#[test]
fn exporter_rules() {
    let mut fresh = Session::new(Role::Client, &common::random(1));
    let mut out = [0u8; 16];
    assert_eq!(
        fresh.export(b"x", b"", &mut out),
        Err(ExportError::NotComplete)
    );
    let mut buf = [0u8; smkex_proto::MAX_RECORD_LEN];
    let _ = fresh.poll(&mut buf);
    let (c, _, _) = handshake(1, 2);
    let mut big = [0u8; MAX_EXPORT_LEN + 1];
    assert_eq!(c.s.export(b"x", b"", &mut big), Err(ExportError::TooLong));
    assert_eq!(
        c.s.export(&[b'a'; 256], b"", &mut out),
        Err(ExportError::LabelTooLong)
    );
    let mut max = [0u8; MAX_EXPORT_LEN];
    c.s.export(b"x", b"", &mut max).unwrap();
    assert!(max.iter().any(|&b| b != 0));
    c.s.export(b"x", b"", &mut []).unwrap();
    // Label, context and length all separate outputs.
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    let mut d = [0u8; 31];
    c.s.export(b"x", b"c1", &mut a).unwrap();
    c.s.export(b"x", b"c2", &mut b).unwrap();
    assert_ne!(a, b);
    c.s.export(b"y", b"c1", &mut b).unwrap();
    assert_ne!(a, b);
    c.s.export(b"x", b"c1", &mut d).unwrap();
    assert_ne!(&a[..31], &d[..]);
}

#[test]
fn server_leaves_application_data_after_finished_unconsumed() {
    let (mut c, mut s) = common::until_server_answered(1, 2);
    c.recv(Channel::One, &s.record(Channel::One, 0));
    c.recv(Channel::Two, &s.record(Channel::Two, 0));
    let mut fin = c.record(Channel::One, 1);
    fin.extend_from_slice(b"hello");
    assert_eq!(s.recv(Channel::One, &fin), fin.len() - 5);
    assert!(s.complete());
    // Once complete, nothing more is consumed and events are ignored.
    assert_eq!(s.recv(Channel::One, b"more"), 0);
    s.s.timer_expired();
    s.s.peer_closed(Channel::One);
    s.pump();
    assert!(s.complete());
    assert_eq!(s.completions, 1);
}

#[test]
fn completion_then_timer_and_close_are_ignored() {
    let (mut c, _, _) = handshake(1, 2);
    c.s.timer_expired();
    c.s.peer_closed(Channel::Two);
    c.pump();
    assert_eq!(c.s.status(), Status::Complete);
}

#[test]
fn session_is_small_and_plain() {
    let size = core::mem::size_of::<Session>();
    assert!(size <= 1024, "Session is {size} bytes");
    fn is_static<T: 'static + Send + Sync>() {}
    is_static::<Session>();
}
