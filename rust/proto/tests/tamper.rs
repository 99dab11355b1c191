//! Tampering, misrouting and malformed input: every case must fail with the
//! exact reason stated here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{hex, until_server_answered, Side};
use smkex_proto::record::{self, RecordType, HEADER_LEN, VERSION};
use smkex_proto::schedule::binding_hash;
use smkex_proto::{Channel, FailureReason, Role, Status};

use FailureReason::*;

/// The reason a receiver with `role`, on `channel`, in a state where it
/// expects the record type `expected` next, gives when the record's byte at
/// `pos` is XORed with `mask` (header positions only). Body positions are
/// handled by the callers.
fn header_flip_reason(
    role: Role,
    channel: Channel,
    expected: RecordType,
    pos: usize,
    mask: u8,
) -> FailureReason {
    assert!(pos < HEADER_LEN);
    if pos > 0 {
        // Version or length byte: always malformed.
        return MalformedRecord;
    }
    let Some(ty) = RecordType::from_u8(expected as u8 ^ mask) else {
        return MalformedRecord;
    };
    if ty.sender() == role {
        UnexpectedRecord
    } else if ty.channel() != channel {
        WrongChannel
    } else {
        // Another record this side may receive on this channel, but it is
        // not the one expected now.
        assert_eq!(
            ty,
            RecordType::ClientFinished,
            "only the Finished can be that"
        );
        OutOfOrderRecord
    }
}

fn flipped(rec: &[u8], pos: usize, mask: u8) -> Vec<u8> {
    let mut r = rec.to_vec();
    r[pos] ^= mask;
    r
}

/// Masks tried at every body position; every mask is tried at header
/// positions (header failures are immediate and cheap).
const BODY_MASKS: [u8; 3] = [0x01, 0x80, 0xff];

fn masks_for(pos: usize) -> Vec<u8> {
    if pos < HEADER_LEN {
        (1..=255).collect()
    } else {
        BODY_MASKS.to_vec()
    }
}

/// Flipping any byte of the server's channel-1 record (Y) on its way to the
/// client: a header byte fails with the reason of `header_flip_reason`
/// (malformed for version/length, and for the type byte malformed /
/// unexpected / wrong channel depending on the new type), any body byte
/// fails with BindingHashMismatch. Both delivery orders.
#[test]
fn flipping_any_byte_of_server_key_share_fails_client() {
    let (c0, s) = until_server_answered(1, 2);
    let y = s.record(Channel::One, 0);
    let nsh = s.record(Channel::Two, 0);
    let mut cases = 0;
    for pos in 0..y.len() {
        for mask in masks_for(pos) {
            let want = if pos < HEADER_LEN {
                header_flip_reason(
                    Role::Client,
                    Channel::One,
                    RecordType::ServerKeyShare,
                    pos,
                    mask,
                )
            } else {
                BindingHashMismatch
            };
            for y_first in [true, false] {
                let mut c = Side {
                    s: c0.s.clone(),
                    sent: c0.sent.clone(),
                    timer: c0.timer,
                    completions: 0,
                    failure: None,
                    failures_reported: 0,
                };
                if y_first {
                    c.recv(Channel::One, &flipped(&y, pos, mask));
                    c.recv(Channel::Two, &nsh);
                } else {
                    c.recv(Channel::Two, &nsh);
                    c.recv(Channel::One, &flipped(&y, pos, mask));
                }
                assert_eq!(
                    c.failed_with(),
                    Some(want),
                    "pos {pos} mask {mask:#04x} y_first {y_first}"
                );
                assert!(c.s.session_key().is_none());
                assert_eq!(c.sent[0].len(), 1, "no Finished after a failure");
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 2 * (4 * 255 + 32 * 3));
}

/// Flipping any byte of the client's channel-1 record (X) on its way to the
/// server: a header byte makes the server fail (reason as stated by
/// `header_flip_reason`); any body byte is accepted by the server, whose h
/// then covers the forged X, and the client fails with
/// BindingHashMismatch.
#[test]
fn flipping_any_byte_of_client_key_share_fails() {
    let mut c0 = Side::new(Role::Client, 1);
    c0.up(Channel::One);
    c0.up(Channel::Two);
    let x = c0.record(Channel::One, 0);
    let nc = c0.record(Channel::Two, 0);
    let mut body_cases = 0;
    for pos in 0..x.len() {
        for mask in masks_for(pos) {
            let mut s = Side::new(Role::Server, 2);
            s.recv(Channel::Two, &nc);
            s.recv(Channel::One, &flipped(&x, pos, mask));
            if pos < HEADER_LEN {
                let want = header_flip_reason(
                    Role::Server,
                    Channel::One,
                    RecordType::ClientKeyShare,
                    pos,
                    mask,
                );
                assert_eq!(s.failed_with(), Some(want), "pos {pos} mask {mask:#04x}");
                continue;
            }
            assert_eq!(
                s.s.status(),
                Status::Handshaking,
                "pos {pos} mask {mask:#04x}"
            );
            let mut c = Side {
                s: c0.s.clone(),
                sent: c0.sent.clone(),
                timer: c0.timer,
                completions: 0,
                failure: None,
                failures_reported: 0,
            };
            c.recv(Channel::One, &s.record(Channel::One, 0));
            c.recv(Channel::Two, &s.record(Channel::Two, 0));
            assert_eq!(
                c.failed_with(),
                Some(BindingHashMismatch),
                "pos {pos} mask {mask:#04x}"
            );
            body_cases += 1;
        }
    }
    assert_eq!(body_cases, 32 * 3);
}

/// Any tamper of the channel-2 records fails: N_C body → client
/// BindingHashMismatch; N_S or h body → client BindingHashMismatch; header
/// bytes → immediate failure at the receiver.
#[test]
fn any_channel_2_tamper_fails() {
    // N_C on its way to the server.
    let mut c0 = Side::new(Role::Client, 1);
    c0.up(Channel::One);
    c0.up(Channel::Two);
    let x = c0.record(Channel::One, 0);
    let nc = c0.record(Channel::Two, 0);
    for pos in 0..nc.len() {
        for mask in masks_for(pos) {
            let mut s = Side::new(Role::Server, 2);
            s.recv(Channel::One, &x);
            s.recv(Channel::Two, &flipped(&nc, pos, mask));
            if pos < HEADER_LEN {
                let want = header_flip_reason(
                    Role::Server,
                    Channel::Two,
                    RecordType::ClientNonce,
                    pos,
                    mask,
                );
                assert_eq!(
                    s.failed_with(),
                    Some(want),
                    "N_C pos {pos} mask {mask:#04x}"
                );
                continue;
            }
            let mut c = Side {
                s: c0.s.clone(),
                sent: c0.sent.clone(),
                timer: c0.timer,
                completions: 0,
                failure: None,
                failures_reported: 0,
            };
            c.recv(Channel::Two, &s.record(Channel::Two, 0));
            c.recv(Channel::One, &s.record(Channel::One, 0));
            assert_eq!(
                c.failed_with(),
                Some(BindingHashMismatch),
                "N_C pos {pos} mask {mask:#04x}"
            );
        }
    }
    // N_S ‖ h on its way to the client.
    let (c0, s) = until_server_answered(1, 2);
    let y = s.record(Channel::One, 0);
    let nsh = s.record(Channel::Two, 0);
    for pos in 0..nsh.len() {
        for mask in masks_for(pos) {
            let mut c = Side {
                s: c0.s.clone(),
                sent: c0.sent.clone(),
                timer: c0.timer,
                completions: 0,
                failure: None,
                failures_reported: 0,
            };
            c.recv(Channel::One, &y);
            c.recv(Channel::Two, &flipped(&nsh, pos, mask));
            let want = if pos < HEADER_LEN {
                header_flip_reason(
                    Role::Client,
                    Channel::Two,
                    RecordType::ServerNonceHash,
                    pos,
                    mask,
                )
            } else {
                BindingHashMismatch
            };
            assert_eq!(
                c.failed_with(),
                Some(want),
                "N_S||h pos {pos} mask {mask:#04x}"
            );
        }
    }
}

#[test]
fn flipping_any_byte_of_finished_fails_server() {
    let (mut c, s0) = until_server_answered(1, 2);
    c.recv(Channel::One, &s0.record(Channel::One, 0));
    c.recv(Channel::Two, &s0.record(Channel::Two, 0));
    let fin = c.record(Channel::One, 1);
    for pos in 0..fin.len() {
        for mask in masks_for(pos) {
            let mut s = Side {
                s: s0.s.clone(),
                sent: s0.sent.clone(),
                timer: s0.timer,
                completions: 0,
                failure: None,
                failures_reported: 0,
            };
            s.recv(Channel::One, &flipped(&fin, pos, mask));
            let want = if pos == 0 {
                // The expected record is the Finished; the others this side
                // receives on channel 1 (X) is a duplicate.
                match RecordType::from_u8(RecordType::ClientFinished as u8 ^ mask) {
                    None => MalformedRecord,
                    Some(RecordType::ClientKeyShare) => DuplicateRecord,
                    Some(RecordType::ClientNonce) => WrongChannel,
                    Some(_) => UnexpectedRecord,
                }
            } else if pos < HEADER_LEN {
                MalformedRecord
            } else {
                BadFinished
            };
            assert_eq!(s.failed_with(), Some(want), "pos {pos} mask {mask:#04x}");
            assert!(s.s.session_key().is_none());
        }
    }
}

#[test]
fn forged_finished_fails() {
    let (mut c, mut s) = until_server_answered(1, 2);
    c.recv(Channel::One, &s.record(Channel::One, 0));
    c.recv(Channel::Two, &s.record(Channel::Two, 0));
    let mut forged = [0u8; 36];
    record::encode(RecordType::ClientFinished, &[0x5a; 32], &mut forged).unwrap();
    s.recv(Channel::One, &forged);
    assert_eq!(s.failed_with(), Some(BadFinished));
    // A Finished made by another client session (different keys) fails too.
    let (mut c2, mut s2) = until_server_answered(3, 2);
    c2.recv(Channel::One, &s2.record(Channel::One, 0));
    c2.recv(Channel::Two, &s2.record(Channel::Two, 0));
    let (_, mut s3) = until_server_answered(1, 2);
    s3.recv(Channel::One, &c2.record(Channel::One, 1));
    assert_eq!(s3.failed_with(), Some(BadFinished));
    s2.recv(Channel::One, &c.record(Channel::One, 1));
    assert_eq!(s2.failed_with(), Some(BadFinished));
}

#[test]
fn record_on_the_wrong_channel_fails() {
    let mut c = Side::new(Role::Client, 1);
    c.up(Channel::One);
    c.up(Channel::Two);
    let x = c.record(Channel::One, 0);
    let nc = c.record(Channel::Two, 0);
    let mut s = Side::new(Role::Server, 2);
    s.recv(Channel::Two, &x);
    assert_eq!(s.failed_with(), Some(WrongChannel), "X on channel 2");
    let mut s = Side::new(Role::Server, 2);
    s.recv(Channel::One, &nc);
    assert_eq!(s.failed_with(), Some(WrongChannel), "N_C on channel 1");

    let (c0, s0) = until_server_answered(1, 2);
    let y = s0.record(Channel::One, 0);
    let nsh = s0.record(Channel::Two, 0);
    let mut c = Side {
        s: c0.s.clone(),
        sent: c0.sent.clone(),
        timer: None,
        completions: 0,
        failure: None,
        failures_reported: 0,
    };
    c.recv(Channel::Two, &y);
    assert_eq!(c.failed_with(), Some(WrongChannel), "Y on channel 2");
    let mut c = Side {
        s: c0.s.clone(),
        sent: c0.sent.clone(),
        timer: None,
        completions: 0,
        failure: None,
        failures_reported: 0,
    };
    c.recv(Channel::One, &nsh);
    assert_eq!(c.failed_with(), Some(WrongChannel), "N_S||h on channel 1");

    let mut c = Side {
        s: c0.s.clone(),
        sent: c0.sent.clone(),
        timer: None,
        completions: 0,
        failure: None,
        failures_reported: 0,
    };
    c.recv(Channel::One, &y);
    c.recv(Channel::Two, &nsh);
    let fin = c.record(Channel::One, 1);
    let mut s = Side {
        s: s0.s.clone(),
        sent: s0.sent.clone(),
        timer: None,
        completions: 0,
        failure: None,
        failures_reported: 0,
    };
    s.recv(Channel::Two, &fin);
    assert_eq!(s.failed_with(), Some(WrongChannel), "Finished on channel 2");
}

#[test]
fn reflected_records_are_unexpected() {
    let mut c = Side::new(Role::Client, 1);
    c.up(Channel::One);
    c.up(Channel::Two);
    let x = c.record(Channel::One, 0);
    c.recv(Channel::One, &x);
    assert_eq!(c.failed_with(), Some(UnexpectedRecord));
    let (_, s) = until_server_answered(1, 2);
    let mut s2 = Side::new(Role::Server, 9);
    s2.recv(Channel::One, &s.record(Channel::One, 0));
    assert_eq!(s2.failed_with(), Some(UnexpectedRecord));
}

#[test]
fn truncated_records_fail() {
    // A record cut short and never completed: the timer (or a close) ends
    // the handshake.
    let (c0, s0) = until_server_answered(1, 2);
    let y = s0.record(Channel::One, 0);
    let nsh = s0.record(Channel::Two, 0);
    for cut in [1, 3, 4, 20, 35] {
        let mut c = Side {
            s: c0.s.clone(),
            sent: c0.sent.clone(),
            timer: None,
            completions: 0,
            failure: None,
            failures_reported: 0,
        };
        c.recv(Channel::Two, &nsh);
        assert_eq!(c.recv(Channel::One, &y[..cut]), cut);
        assert_eq!(c.s.status(), Status::Handshaking);
        c.s.timer_expired();
        c.pump();
        assert_eq!(c.failed_with(), Some(Timeout), "cut {cut}");
        let mut c = Side {
            s: c0.s.clone(),
            sent: c0.sent.clone(),
            timer: None,
            completions: 0,
            failure: None,
            failures_reported: 0,
        };
        c.recv(Channel::One, &y[..cut]);
        c.s.peer_closed(Channel::One);
        c.pump();
        assert_eq!(c.failed_with(), Some(PeerClosed), "cut {cut}");
    }
    // A record whose length field says it is short.
    let mut short = y[..y.len() - 1].to_vec();
    short[3] = 31;
    let mut c = Side {
        s: c0.s.clone(),
        sent: c0.sent.clone(),
        timer: None,
        completions: 0,
        failure: None,
        failures_reported: 0,
    };
    assert_eq!(c.recv(Channel::One, &short), 4, "fails at the length byte");
    assert_eq!(c.failed_with(), Some(MalformedRecord));
    // A truncated N_S‖h followed by the start of something else: the
    // bytes are taken as its body and h does not match.
    let mut c = Side {
        s: c0.s.clone(),
        sent: c0.sent.clone(),
        timer: None,
        completions: 0,
        failure: None,
        failures_reported: 0,
    };
    c.recv(Channel::One, &y);
    c.recv(Channel::Two, &nsh[..40]);
    c.recv(Channel::Two, &nsh[..28]);
    assert_eq!(c.failed_with(), Some(BindingHashMismatch));
}

#[test]
fn oversized_records_and_trailing_bytes_fail() {
    let (c0, s0) = until_server_answered(1, 2);
    let y = s0.record(Channel::One, 0);
    let nsh = s0.record(Channel::Two, 0);
    // Length field too large.
    for len in [33u16, 64, 68, 0x0100, 0xffff] {
        let mut big = y.clone();
        big[2..4].copy_from_slice(&len.to_be_bytes());
        big.extend_from_slice(&[0u8; 40]);
        let mut c = Side {
            s: c0.s.clone(),
            sent: c0.sent.clone(),
            timer: None,
            completions: 0,
            failure: None,
            failures_reported: 0,
        };
        let consumed = c.recv(Channel::One, &big);
        assert!(consumed <= HEADER_LEN, "stops at the header");
        assert_eq!(c.failed_with(), Some(MalformedRecord), "len {len}");
    }
    // Bytes after the only record a channel carries, in the same call or
    // later: a new "record" whose type byte decides the reason.
    for (extra, want) in [
        (0x03u8, DuplicateRecord),
        (0x00, MalformedRecord),
        (0x04, WrongChannel),
        (0x01, UnexpectedRecord),
    ] {
        for same_call in [true, false] {
            let mut c = Side {
                s: c0.s.clone(),
                sent: c0.sent.clone(),
                timer: None,
                completions: 0,
                failure: None,
                failures_reported: 0,
            };
            if same_call {
                let mut v = y.clone();
                v.push(extra);
                assert_eq!(c.recv(Channel::One, &v), v.len());
            } else {
                c.recv(Channel::One, &y);
                c.recv(Channel::One, &[extra]);
            }
            assert_eq!(c.failed_with(), Some(want), "extra {extra:#04x}");
        }
    }
    // Trailing bytes in the call that delivers the client's last record:
    // the server cannot have sent anything more, so this fails too.
    let mut c = Side {
        s: c0.s.clone(),
        sent: c0.sent.clone(),
        timer: None,
        completions: 0,
        failure: None,
        failures_reported: 0,
    };
    c.recv(Channel::One, &y);
    let mut v = nsh.clone();
    v.push(0x04);
    c.recv(Channel::Two, &v);
    assert_eq!(c.failed_with(), Some(DuplicateRecord));
    assert_eq!(c.sent[0].len(), 1, "no Finished sent");
    // Server: data after N_C on channel 2.
    let mut cl = Side::new(Role::Client, 1);
    cl.up(Channel::One);
    cl.up(Channel::Two);
    let mut s = Side::new(Role::Server, 2);
    let mut v = cl.record(Channel::Two, 0);
    v.push(0x02);
    s.recv(Channel::Two, &v);
    assert_eq!(s.failed_with(), Some(DuplicateRecord));
}

#[test]
fn unknown_type_and_wrong_version_fail() {
    for ty in [0u8, 6, 7, 0x80, 0xff] {
        let mut s = Side::new(Role::Server, 2);
        assert_eq!(s.recv(Channel::One, &[ty, VERSION, 0, 32]), 1);
        assert_eq!(s.failed_with(), Some(MalformedRecord), "type {ty}");
    }
    for version in [0u8, 2, 0x81, 0xff] {
        let mut s = Side::new(Role::Server, 2);
        assert_eq!(s.recv(Channel::One, &[1, version, 0, 32]), 2);
        assert_eq!(s.failed_with(), Some(MalformedRecord), "version {version}");
        assert_eq!(record::parse(&[1, version, 0, 32]), Err(MalformedRecord));
    }
    assert_eq!(record::parse(&[9]), Err(MalformedRecord));
    assert_eq!(record::parse(&[1, 1, 0]), Ok(None));
    assert_eq!(record::parse(&[1, 1, 0, 31]), Err(MalformedRecord));
}

#[test]
fn duplicate_records_fail() {
    let mut c = Side::new(Role::Client, 1);
    c.up(Channel::One);
    c.up(Channel::Two);
    let x = c.record(Channel::One, 0);
    let nc = c.record(Channel::Two, 0);
    let mut s = Side::new(Role::Server, 2);
    s.recv(Channel::One, &x);
    s.recv(Channel::One, &x);
    assert_eq!(s.failed_with(), Some(DuplicateRecord), "X twice");
    let mut s = Side::new(Role::Server, 2);
    s.recv(Channel::Two, &nc);
    s.recv(Channel::Two, &nc);
    assert_eq!(s.failed_with(), Some(DuplicateRecord), "N_C twice");
    // X twice after the server answered.
    let (_, mut s) = until_server_answered(1, 2);
    s.recv(Channel::One, &x);
    assert_eq!(s.failed_with(), Some(DuplicateRecord));
    // Y twice at the client.
    let (mut c, s) = until_server_answered(1, 2);
    let y = s.record(Channel::One, 0);
    c.recv(Channel::One, &y);
    c.recv(Channel::One, &y);
    assert_eq!(c.failed_with(), Some(DuplicateRecord));
    // Finished twice: the second copy arrives after completion and is
    // application data from the core's point of view (not consumed).
    let (mut c, mut s) = until_server_answered(1, 2);
    c.recv(Channel::One, &s.record(Channel::One, 0));
    c.recv(Channel::Two, &s.record(Channel::Two, 0));
    let fin = c.record(Channel::One, 1);
    s.recv(Channel::One, &fin);
    assert_eq!(s.recv(Channel::One, &fin), 0);
    assert!(s.complete());
}

#[test]
fn out_of_order_records_fail() {
    // The Finished before the server has answered.
    let (mut c, mut s) = until_server_answered(1, 2);
    c.recv(Channel::One, &s.record(Channel::One, 0));
    c.recv(Channel::Two, &s.record(Channel::Two, 0));
    let fin = c.record(Channel::One, 1);
    let mut s2 = Side::new(Role::Server, 2);
    s2.recv(Channel::One, &fin);
    assert_eq!(s2.failed_with(), Some(OutOfOrderRecord), "Finished first");
    let mut s2 = Side::new(Role::Server, 2);
    s2.recv(Channel::One, &c.record(Channel::One, 0));
    s2.recv(Channel::One, &fin);
    assert_eq!(
        s2.failed_with(),
        Some(OutOfOrderRecord),
        "Finished before N_C"
    );
    // A server record before the client sent both of its records.
    let mut c = Side::new(Role::Client, 1);
    c.up(Channel::One);
    c.recv(Channel::One, &s.record(Channel::One, 0));
    assert_eq!(
        c.failed_with(),
        Some(OutOfOrderRecord),
        "Y before N_C was sent"
    );
    let mut c = Side::new(Role::Client, 1);
    c.recv(Channel::Two, &s.record(Channel::Two, 0));
    assert_eq!(
        c.failed_with(),
        Some(OutOfOrderRecord),
        "N_S||h before anything"
    );
    s.recv(Channel::One, &fin);
    assert!(s.complete());
}

/// Low-order u-coordinates (RFC 7748 §7 and the curve's 8-torsion): 0, 1,
/// the two points of order 8, p-1, p, p+1, and the same with the unused top
/// bit set.
fn low_order_points() -> Vec<[u8; 32]> {
    let base = [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];
    let mut out = Vec::new();
    for b in base {
        let mut p: [u8; 32] = hex(b).try_into().unwrap();
        out.push(p);
        p[31] |= 0x80;
        out.push(p);
    }
    out
}

/// A low-order Y with an h that does not match: the binding hash is checked
/// first (§5), so the client reports BindingHashMismatch, in both delivery
/// orders, although its Z was computed (and is all-zero) when (3) arrived.
#[test]
fn low_order_server_key_share_with_wrong_hash_is_a_binding_mismatch() {
    for p in low_order_points() {
        for y_first in [true, false] {
            let mut c = Side::new(Role::Client, 1);
            c.up(Channel::One);
            c.up(Channel::Two);
            let mut y = [0u8; 36];
            record::encode(RecordType::ServerKeyShare, &p, &mut y).unwrap();
            let mut nsh = [0u8; 68];
            record::encode(RecordType::ServerNonceHash, &[9u8; 64], &mut nsh).unwrap();
            if y_first {
                c.recv(Channel::One, &y);
                c.recv(Channel::Two, &nsh);
            } else {
                c.recv(Channel::Two, &nsh);
                c.recv(Channel::One, &y);
            }
            assert_eq!(
                c.failed_with(),
                Some(BindingHashMismatch),
                "{}",
                common::to_hex(&p)
            );
            assert_eq!(c.sent[0].len(), 1, "no Finished");
        }
    }
}

#[test]
fn low_order_client_key_share_fails_server() {
    for p in low_order_points() {
        let mut rec = [0u8; 36];
        record::encode(RecordType::ClientKeyShare, &p, &mut rec).unwrap();
        let mut s = Side::new(Role::Server, 2);
        s.recv(Channel::One, &rec);
        // Z is computed when X arrives but judged only once both records
        // are in (§5): a low-order X alone does not end the handshake.
        assert_eq!(s.s.status(), Status::Handshaking, "{}", common::to_hex(&p));
        s.recv(Channel::Two, &[2, 1, 0, 32]);
        s.recv(Channel::Two, &[7; 32]);
        assert_eq!(s.failed_with(), Some(LowOrderKey), "{}", common::to_hex(&p));
        assert!(s.sent[0].is_empty() && s.sent[1].is_empty(), "nothing sent");
    }
}

/// An attacker on both paths sends a low-order Y with a consistent h: the
/// client's h check passes and the all-zero Z is rejected.
#[test]
fn low_order_server_key_share_fails_client() {
    for p in low_order_points() {
        let mut c = Side::new(Role::Client, 1);
        c.up(Channel::One);
        c.up(Channel::Two);
        let x: [u8; 32] = c.record(Channel::One, 0)[4..].try_into().unwrap();
        let n_c: [u8; 32] = c.record(Channel::Two, 0)[4..].try_into().unwrap();
        let n_s = [9u8; 32];
        let h = binding_hash(&x, &n_c, &p, &n_s);
        let mut y = [0u8; 36];
        record::encode(RecordType::ServerKeyShare, &p, &mut y).unwrap();
        let mut body = n_s.to_vec();
        body.extend_from_slice(&h);
        let mut nsh = [0u8; 68];
        record::encode(RecordType::ServerNonceHash, &body, &mut nsh).unwrap();
        c.recv(Channel::One, &y);
        c.recv(Channel::Two, &nsh);
        assert_eq!(c.failed_with(), Some(LowOrderKey), "{}", common::to_hex(&p));
        assert_eq!(c.sent[0].len(), 1, "no Finished");
    }
}

#[test]
fn timer_fails_a_handshake_lacking_channel_2() {
    let mut c = Side::new(Role::Client, 1);
    c.up(Channel::One);
    let mut s = Side::new(Role::Server, 2);
    s.up(Channel::One);
    s.recv(Channel::One, &c.record(Channel::One, 0));
    assert!(s.sent[0].is_empty(), "server waits for channel 2");
    s.s.timer_expired();
    s.pump();
    assert_eq!(s.failed_with(), Some(Timeout));
    c.s.timer_expired();
    c.pump();
    assert_eq!(c.failed_with(), Some(Timeout));
    // The client's N_C was never sent (channel 2 never came up).
    assert!(c.sent[1].is_empty());
}

#[test]
fn timer_and_close_fail_at_every_stage_before_completion() {
    // Server waiting for the Finished.
    let (_, mut s) = until_server_answered(1, 2);
    s.s.timer_expired();
    s.pump();
    assert_eq!(s.failed_with(), Some(Timeout));
    let (_, mut s) = until_server_answered(1, 2);
    s.s.peer_closed(Channel::Two);
    s.pump();
    assert_eq!(s.failed_with(), Some(PeerClosed));
    // Client that verified h but has not handed out the Finished yet.
    let (c0, s0) = until_server_answered(1, 2);
    let mut cs = c0.s.clone();
    cs.receive(Channel::One, &s0.record(Channel::One, 0));
    cs.receive(Channel::Two, &s0.record(Channel::Two, 0));
    cs.peer_closed(Channel::One);
    let mut buf = [0u8; smkex_proto::MAX_RECORD_LEN];
    assert_eq!(cs.poll(&mut buf), smkex_proto::Action::Fail(PeerClosed));
    assert_eq!(cs.poll(&mut buf), smkex_proto::Action::Idle);
    assert_eq!(
        cs.receive(Channel::One, &[1, 2, 3]),
        0,
        "a failed session consumes nothing"
    );
    assert!(cs.session_key().is_none());
}

#[test]
fn failure_reason_numbers_are_stable() {
    let expected = [
        (BindingHashMismatch, 1),
        (MalformedRecord, 2),
        (WrongChannel, 3),
        (UnexpectedRecord, 4),
        (OutOfOrderRecord, 5),
        (DuplicateRecord, 6),
        (LowOrderKey, 7),
        (BadFinished, 8),
        (Timeout, 9),
        (PeerClosed, 10),
        (ChannelIntegrity, 11),
        (LocalError, 12),
        (Internal, 13),
        (NoIndependentPath, 14),
        (ChannelClosed, 15),
    ];
    assert_eq!(FailureReason::ALL.len(), expected.len());
    for ((r, n), all) in expected.iter().zip(FailureReason::ALL) {
        assert_eq!(r.code(), *n);
        assert_eq!(*r as u8, *n);
        assert_eq!(all, *r);
        assert_eq!(FailureReason::from_code(*n), Some(*r));
    }
    assert_eq!(FailureReason::from_code(0), None);
    assert_eq!(FailureReason::from_code(16), None);
    assert_eq!(FailureReason::from_code(255), None);
}

#[test]
fn abort_fails_an_unfinished_handshake_only() {
    let (_, mut s) = until_server_answered(1, 2);
    s.s.abort(ChannelIntegrity);
    s.pump();
    assert_eq!(s.failed_with(), Some(ChannelIntegrity));
    // A later abort does not change the reason.
    s.s.abort(LocalError);
    s.pump();
    assert_eq!(s.failed_with(), Some(ChannelIntegrity));
    assert_eq!(s.failures_reported, 1);
    let (mut c, _, _) = common::handshake(1, 2);
    c.s.abort(ChannelIntegrity);
    c.pump();
    assert!(c.complete(), "abort after completion is ignored");
}
