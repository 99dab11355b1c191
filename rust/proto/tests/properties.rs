//! Property tests: arbitrary events and byte streams, in arbitrary chunking
//! and interleaving, never panic and always end in completion or a defined
//! failure; valid transcripts in any chunking complete with equal keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{handshake, Side, Transcript};
use proptest::prelude::*;
use smkex_proto::{Channel, FailureReason, Role, Status};

#[derive(Debug, Clone)]
enum Event {
    Up(bool),
    /// Raw bytes on channel 1 (false) or 2 (true).
    Data(bool, Vec<u8>),
    /// A genuine record of the peer (index into its records), sent on a
    /// chosen channel, starting at a chosen offset, in chunks of `chunk`.
    Record(usize, bool, usize, usize),
    Timer,
    Close,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        3 => any::<bool>().prop_map(Event::Up),
        2 => (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..80)).prop_map(|(c, d)| Event::Data(c, d)),
        8 => (0usize..3, any::<bool>(), 0usize..70, 1usize..70).prop_map(|(i, c, o, k)| Event::Record(i, c, o, k)),
        1 => Just(Event::Timer),
        1 => Just(Event::Close),
    ]
}

fn ch(two: bool) -> Channel {
    if two {
        Channel::Two
    } else {
        Channel::One
    }
}

/// Records a side with `role` may receive, from the reference handshake
/// (client seed 1, server seed 2), with their channel.
fn peer_records(role: Role, t: &Transcript) -> Vec<(Channel, Vec<u8>)> {
    match role {
        Role::Server => vec![
            (Channel::One, t.client_key_share.clone()),
            (Channel::Two, t.client_nonce.clone()),
            (Channel::One, t.client_finished.clone()),
        ],
        Role::Client => vec![
            (Channel::One, t.server_key_share.clone()),
            (Channel::Two, t.server_nonce_hash.clone()),
            (Channel::One, t.server_nonce_hash.clone()),
        ],
    }
}

fn feed(side: &mut Side, channel: Channel, bytes: &[u8]) {
    let before = side.s.status();
    let consumed = side.recv(channel, bytes);
    assert!(consumed <= bytes.len());
    match before {
        Status::Handshaking => {}
        _ => assert_eq!(consumed, 0, "a finished session consumes nothing"),
    }
    if let Status::Failed(_) = side.s.status() {
        if before == Status::Handshaking {
            assert!(consumed >= 1);
        }
    }
}

fn run_events(role: Role, events: &[Event], t: &Transcript) -> Side {
    let seed = match role {
        Role::Client => 1,
        Role::Server => 2,
    };
    let mut side = Side::new(role, seed);
    let records = peer_records(role, t);
    for e in events {
        match e {
            Event::Up(c) => side.up(ch(*c)),
            Event::Data(c, d) => feed(&mut side, ch(*c), d),
            Event::Record(i, c, offset, chunk) => {
                let (natural, rec) = &records[*i];
                // Mostly the record's own channel, sometimes the other one.
                let channel = if *c && *offset % 5 == 0 {
                    natural.other()
                } else {
                    *natural
                };
                let start = if *offset < 60 { 0 } else { offset % rec.len() };
                for piece in rec[start..].chunks(*chunk) {
                    feed(&mut side, channel, piece);
                }
            }
            Event::Timer => {
                side.s.timer_expired();
                side.pump();
            }
            Event::Close => {
                side.s.peer_closed(Channel::One);
                side.pump();
            }
        }
        check_invariants(&side);
    }
    // Whatever happened, the timer ends it: completion or a defined failure.
    side.s.timer_expired();
    side.pump();
    match side.s.status() {
        Status::Complete => {
            assert_eq!(side.completions, 1);
            assert!(side.failure.is_none());
            assert!(side.s.session_key().is_some());
        }
        Status::Failed(r) => {
            assert!(FailureReason::ALL.contains(&r));
            assert_eq!(FailureReason::from_code(r.code()), Some(r));
            assert_eq!(side.failure, Some(r));
            assert_eq!(side.failures_reported, 1);
            assert!(side.s.session_key().is_none());
            let mut out = [0u8; 8];
            assert!(side.s.export(b"x", b"", &mut out).is_err());
        }
        Status::Handshaking => panic!("timer left the session handshaking"),
    }
    side
}

fn check_invariants(side: &Side) {
    match side.s.status() {
        Status::Complete => assert!(side.s.session_key().is_some()),
        _ => assert!(side.s.session_key().is_none()),
    }
    assert!(side.completions <= 1);
    assert!(side.failures_reported <= 1);
    // Never more bytes sent on a channel than a handshake has.
    for c in [Channel::One, Channel::Two] {
        assert!(
            side.s.bytes_sent(c) as usize <= smkex_proto::expected_send_bytes(side.s.role(), c)
        );
    }
}

/// 512 cases per property, or PROPTEST_CASES for longer runs.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

fn reference() -> Transcript {
    handshake(1, 2).2
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_events_at_the_server(events in proptest::collection::vec(event(), 0..24)) {
        run_events(Role::Server, &events, &reference());
    }

    #[test]
    fn arbitrary_events_at_the_client(events in proptest::collection::vec(event(), 0..24)) {
        run_events(Role::Client, &events, &reference());
    }

    #[test]
    fn arbitrary_bytes_on_both_channels(
        up in any::<(bool, bool)>(),
        chunks in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..100)), 0..10),
        server in any::<bool>(),
    ) {
        let role = if server { Role::Server } else { Role::Client };
        let mut events = vec![Event::Up(up.0), Event::Up(up.1)];
        events.extend(chunks.into_iter().map(|(c, d)| Event::Data(c, d)));
        let side = run_events(role, &events, &reference());
        // Random bytes cannot complete a handshake.
        prop_assert!(matches!(side.s.status(), Status::Failed(_)));
    }

    /// A genuine transcript, split at arbitrary points and with the two
    /// channels interleaved arbitrarily, completes with equal keys.
    #[test]
    fn valid_transcript_in_any_chunking_completes(
        seeds in (any::<u64>(), any::<u64>()),
        cuts in proptest::collection::vec(1usize..40, 1..40),
        order in proptest::collection::vec(any::<bool>(), 1..40),
    ) {
        let mut c = Side::new(Role::Client, seeds.0);
        let mut s = Side::new(Role::Server, seeds.1);
        c.up(Channel::One);
        c.up(Channel::Two);
        let to_server = [c.record(Channel::One, 0), c.record(Channel::Two, 0)];
        deliver_interleaved(&mut s, &to_server, &cuts, &order);
        prop_assert_eq!(s.sent[0].len(), 1);
        let to_client = [s.record(Channel::One, 0), s.record(Channel::Two, 0)];
        deliver_interleaved(&mut c, &to_client, &cuts, &order);
        prop_assert!(c.complete());
        let fin = c.record(Channel::One, 1);
        for piece in fin.chunks(cuts[0]) {
            s.recv(Channel::One, piece);
        }
        prop_assert!(s.complete());
        prop_assert_eq!(c.s.session_key(), s.s.session_key());
        prop_assert_eq!(c.s.exporter_secret(), s.s.exporter_secret());
    }

    /// One arbitrary byte changed anywhere in a genuine transcript: some
    /// side fails, and the two sides never complete with different keys.
    #[test]
    fn any_single_byte_change_is_detected(which in 0usize..5, pos in 0usize..68, xor in 1u8..=255) {
        let (_, _, t) = handshake(1, 2);
        let mut recs = [t.client_key_share, t.client_nonce, t.server_key_share, t.server_nonce_hash, t.client_finished];
        let r = &mut recs[which];
        let p = pos % r.len();
        r[p] ^= xor;
        let mut c = Side::new(Role::Client, 1);
        let mut s = Side::new(Role::Server, 2);
        c.up(Channel::One);
        c.up(Channel::Two);
        s.recv(Channel::One, &recs[0]);
        s.recv(Channel::Two, &recs[1]);
        // The server's answer as it really is, unless it is the tampered one.
        let y = if which == 2 { recs[2].clone() } else { s.sent[0].first().cloned().unwrap_or_default() };
        let nsh = if which == 3 { recs[3].clone() } else { s.sent[1].first().cloned().unwrap_or_default() };
        c.recv(Channel::One, &y);
        c.recv(Channel::Two, &nsh);
        let fin = if which == 4 { recs[4].clone() } else { c.sent[0].get(1).cloned().unwrap_or_default() };
        s.recv(Channel::One, &fin);
        prop_assert!(c.failed_with().is_some() || s.failed_with().is_some(), "tamper went unnoticed");
        prop_assert!(!(c.complete() && s.complete()));
    }
}

/// The event sequence of a genuine handshake for `role`, records cut in
/// pieces of `chunk` bytes.
fn valid_events(role: Role, chunk: usize) -> Vec<Event> {
    let mut v = vec![
        Event::Up(false),
        Event::Up(true),
        Event::Record(0, false, 0, chunk),
        Event::Record(1, false, 0, chunk),
    ];
    if role == Role::Server {
        v.push(Event::Record(2, false, 0, chunk));
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// A genuine event sequence with up to three arbitrary events inserted
    /// (or none): reaches completion, or a defined failure, never a panic.
    #[test]
    fn perturbed_genuine_sequences(
        server in any::<bool>(),
        chunk in 1usize..70,
        inserts in proptest::collection::vec((0usize..6, event()), 0..4),
    ) {
        let role = if server { Role::Server } else { Role::Client };
        let mut events = valid_events(role, chunk);
        let unperturbed = inserts.is_empty();
        for (at, e) in inserts {
            let at = at.min(events.len());
            events.insert(at, e);
        }
        let side = run_events(role, &events, &reference());
        if unperturbed {
            prop_assert_eq!(side.s.status(), Status::Complete);
        }
    }
}

/// Delivers two records (channel 1 and channel 2) in pieces whose sizes
/// come from `cuts`, choosing the channel of each piece from `order`.
fn deliver_interleaved(side: &mut Side, recs: &[Vec<u8>; 2], cuts: &[usize], order: &[bool]) {
    let mut rest = [&recs[0][..], &recs[1][..]];
    let mut i = 0;
    while !rest[0].is_empty() || !rest[1].is_empty() {
        let mut k = usize::from(order[i % order.len()]);
        if rest[k].is_empty() {
            k = 1 - k;
        }
        let n = cuts[i % cuts.len()].min(rest[k].len());
        let (a, b) = rest[k].split_at(n);
        side.recv(if k == 0 { Channel::One } else { Channel::Two }, a);
        rest[k] = b;
        i += 1;
    }
}
