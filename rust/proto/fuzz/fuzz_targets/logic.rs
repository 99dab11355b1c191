//! Fuzzes the kernel module's pure decisions (smkex-logic) where they take
//! input an application or a peer controls. Every input drives all three:
//!
//! - `SMKEX_PEER_ADDRS` parsing: the whole input and its longest prefix of
//!   whole entries. Accepted lists re-encode to the same bytes, every
//!   entry is valid and listed; refusals are `EINVAL`.
//! - Record reassembly: the input as the peer's stream, read in chunks
//!   whose sizes come from the input read backwards. Never a byte past a
//!   record, every record is the stream's next bytes with its type's
//!   length and channel, and the offsets add up.
//! - The provenance map, against a reference model written separately
//!   here: the input as operations (byte 0 the limit, byte 1 the base and
//!   whether data moved before start, then opcode bytes mod 5 with
//!   operands):
//!     0 d s     in-sequence move of d % 48 bytes by subflow s % 11
//!     1 k o l s a new out-of-order skb k % 6 at ack + o % 96, l % 24 + 1
//!               bytes, moved by subflow s % 11
//!     2 i g s   out-of-order skb i grows by g % 12 + 1, moved by s % 11
//!     3         the out-of-order tree is spliced (outside any move)
//!     4 o l s   check bytes [o, o + l) for subflow s % 11
//!   At most 64 operations. After every operation each byte's verdict
//!   for its subflow and for another must be the model's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smkex_logic::errno::Errno;
use smkex_logic::options::{
    peer_addr_valid, peer_listed, PeerAddrs, PEER_ADDRS_MAX_BYTES, PEER_ADDR_SIZE,
};
use smkex_logic::provenance::{OfoSkb, OriginMap, Violation, MAX_BYTES, MAX_OFO};
use smkex_logic::records::RecordReader;
use smkex_proto::record::RecordType;
use smkex_proto::Channel;

fuzz_target!(|data: &[u8]| {
    peer_addrs(data);
    let whole = (data.len() / PEER_ADDR_SIZE).min(8) * PEER_ADDR_SIZE;
    peer_addrs(&data[..whole]);
    records(data);
    provenance(data);
});

fn peer_addrs(bytes: &[u8]) {
    match PeerAddrs::parse(bytes) {
        Ok(list) => {
            assert_eq!(list.len() * PEER_ADDR_SIZE, bytes.len());
            assert_eq!(list.byte_len(), bytes.len());
            let mut buf = [0u8; PEER_ADDRS_MAX_BYTES];
            assert_eq!(list.encode(&mut buf), bytes);
            assert_eq!(PeerAddrs::parse(bytes), Ok(list));
            for pa in list.as_slice() {
                assert!(peer_addr_valid(pa));
                // Port 0 stands for the connect port.
                let connect = 0x1234;
                let port = if pa.port == 0 { connect } else { pa.port };
                assert!(peer_listed(&list, pa.family, port, &pa.addr, connect));
            }
        }
        Err(e) => assert_eq!(e, Errno::Inval),
    }
}

fn records(stream: &[u8]) {
    let mut r = RecordReader::new();
    let mut at = 0usize;
    let mut start = 0usize;
    let mut sizes = stream.iter().rev().cycle();
    let mut per_channel = [0usize; 2];
    while at < stream.len() {
        let chunk = usize::from(*sizes.next().unwrap() % 40) + 1;
        let want = r.want();
        assert!(want >= 1, "idle or partial: wants bytes");
        let end = (at + chunk).min(stream.len());
        let took = r.push(&stream[at..end]);
        assert!(took <= want && took <= end - at && took >= 1);
        at += took;
        if let Some((channel, bytes)) = r.record() {
            let expect = match RecordType::from_u8(stream[start]) {
                Some(ty) => (ty.channel(), ty.record_len()),
                None => (Channel::One, 1),
            };
            assert_eq!((channel, bytes.len()), expect);
            assert_eq!(bytes, &stream[start..at]);
            per_channel[channel as usize - 1] += bytes.len();
            assert_eq!(r.want(), 0);
            assert_eq!(r.push(&[0]), 0);
            assert_eq!(r.offset() as usize, start);
            r.take();
            start = at;
            assert_eq!(r.offset() as usize, start);
            assert_eq!(r.consumed(Channel::One) as usize, per_channel[0]);
            assert_eq!(r.consumed(Channel::Two) as usize, per_channel[1]);
        } else {
            assert!(r.want() >= 1);
        }
    }
}

/// Reads operands; zeros once the input is exhausted.
struct Input<'a>(std::slice::Iter<'a, u8>);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        self.0.next().copied().unwrap_or(0)
    }
}

/// The reference: the C module's algorithm in offsets from `base`, with
/// plain vectors (all sequence numbers here stay within 2^20 of `base`).
struct Model {
    limit: i64,
    base: u64,
    lost: bool,
    done: bool,
    ids: Vec<u32>,
    origin: Vec<Option<Origin>>,
    seen: Vec<OfoSkb>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Origin {
    Subflow(u32),
    Conflict,
}

impl Model {
    fn rel(&self, seq: u64) -> i64 {
        seq.wrapping_sub(self.base) as i64
    }

    fn mark(&mut self, from: u64, to: u64, id: Option<u32>) {
        let from = self.rel(from).max(0);
        let to = self.rel(to).min(self.limit);
        for off in from..to.max(from) {
            let o = &mut self.origin[off as usize];
            *o = match (*o, id) {
                (_, None) => Some(Origin::Conflict),
                (None, Some(id)) => Some(Origin::Subflow(id)),
                (Some(Origin::Subflow(old)), Some(id)) if old == id => *o,
                _ => Some(Origin::Conflict),
            };
        }
    }

    fn moved(&mut self, before: u64, now: u64, ofo: &[OfoSkb], truncated: bool, id: u32) {
        let id = if self.ids.contains(&id) {
            Some(id)
        } else if self.ids.len() < 8 {
            self.ids.push(id);
            Some(id)
        } else {
            None
        };
        self.mark(before, now, id);
        let mut snapshot = Vec::new();
        for skb in ofo {
            if self.rel(skb.map_seq) >= self.limit {
                break;
            }
            let from = self
                .seen
                .iter()
                .find(|s| s.key == skb.key && s.map_seq == skb.map_seq)
                .map_or(skb.map_seq, |s| s.end_seq);
            if self.rel(from) < self.rel(skb.end_seq) {
                self.mark(from, skb.end_seq, id);
            }
            if snapshot.len() == MAX_OFO {
                self.lost = true;
                break;
            }
            snapshot.push(*skb);
        }
        if truncated {
            self.lost = true;
        }
        self.seen = snapshot;
        if self.rel(now) >= self.limit {
            self.done = true;
        }
    }

    fn check(&self, off: u32, len: u32, id: u32) -> Result<(), Violation> {
        if self.lost {
            return Err(Violation::OriginLost);
        }
        let (off, len) = (i64::from(off), i64::from(len));
        if off + len > self.limit {
            return Err(Violation::OutOfRange);
        }
        for o in &self.origin[off as usize..(off + len) as usize] {
            match o {
                None => return Err(Violation::UnknownOrigin),
                Some(Origin::Conflict) => return Err(Violation::TwoSubflows),
                Some(Origin::Subflow(s)) if *s != id => return Err(Violation::OtherSubflow),
                Some(Origin::Subflow(_)) => {}
            }
        }
        Ok(())
    }
}

fn provenance(data: &[u8]) {
    let mut input = Input(data.iter());
    let limit = u32::from(input.byte());
    let how = input.byte();
    let base = match how % 4 {
        0 => 0,
        1 => 1_000,
        2 => u64::MAX - 40, // wraps inside the window
        _ => (1 << 63) - 30,
    };
    let anything_moved = how & 0x80 != 0;

    let mut m = OriginMap::new(limit);
    let mut model = Model {
        limit: i64::from(limit.min(MAX_BYTES as u32)),
        base,
        lost: limit > MAX_BYTES as u32,
        done: false,
        ids: Vec::new(),
        origin: vec![None; MAX_BYTES],
        seen: Vec::new(),
    };
    m.start(base, anything_moved);
    model.lost |= anything_moved;
    assert_eq!(
        m.ofo_window_end(),
        base.wrapping_add(u64::from(model.limit as u32))
    );

    let mut ack = base;
    // The connection's out-of-order tree: (key, map_seq, end_seq), sorted.
    let mut tree: Vec<OfoSkb> = Vec::new();
    let mut ops = 0;
    while input.0.len() > 0 && ops < 64 {
        ops += 1;
        let op = input.byte() % 5;
        let mut mover = None;
        let before = ack;
        match op {
            0 => {
                let d = u64::from(input.byte() % 48);
                ack = ack.wrapping_add(d);
                mover = Some(u32::from(input.byte() % 11));
            }
            1 => {
                let key = usize::from(input.byte() % 6);
                let map_seq = ack.wrapping_add(u64::from(input.byte() % 96));
                let end_seq = map_seq.wrapping_add(u64::from(input.byte() % 24) + 1);
                // A key names one skb at a time.
                tree.retain(|s| s.key != key);
                tree.push(OfoSkb {
                    key,
                    map_seq,
                    end_seq,
                });
                tree.sort_by_key(|s| s.map_seq.wrapping_sub(base));
                mover = Some(u32::from(input.byte() % 11));
            }
            2 => {
                let i = usize::from(input.byte());
                let g = u64::from(input.byte() % 12) + 1;
                if !tree.is_empty() {
                    let n = tree.len();
                    let s = &mut tree[i % n];
                    s.end_seq = s.end_seq.wrapping_add(g);
                }
                mover = Some(u32::from(input.byte() % 11));
            }
            3 => {
                // Splice what is now in sequence; no subflow is known.
                tree.retain(|s| {
                    let starts_in = s.map_seq.wrapping_sub(base) <= ack.wrapping_sub(base);
                    if starts_in && s.end_seq.wrapping_sub(base) > ack.wrapping_sub(base) {
                        ack = s.end_seq;
                    }
                    !starts_in
                });
            }
            _ => {
                let off = u32::from(input.byte());
                let len = u32::from(input.byte() % 64);
                let id = u32::from(input.byte() % 11);
                assert_eq!(m.check(off, len, id), model.check(off, len, id));
            }
        }
        if let Some(id) = mover {
            if !m.wants_moves() {
                // The kernel stops reporting once done or not tracking.
                continue;
            }
            let end = m.ofo_window_end();
            let window: Vec<OfoSkb> = tree
                .iter()
                .copied()
                .filter(|s| (s.map_seq.wrapping_sub(end) as i64) < 0)
                .collect();
            let passed = &window[..window.len().min(MAX_OFO + 1)];
            let truncated = window.len() > passed.len();
            m.moved(before, ack, passed, truncated, id);
            model.moved(before, ack, passed, truncated, id);
        }
        assert_eq!(m.is_lost(), model.lost);
        assert_eq!(m.is_done(), model.done);
        // Each byte for the subflow the model says delivered it and for
        // one that did not (ids 0..11 are the only ones used).
        for off in 0..=MAX_BYTES as u32 {
            let owner = match model.origin.get(off as usize) {
                Some(Some(Origin::Subflow(id))) => *id,
                _ => 0,
            };
            for id in [owner, (owner + 1) % 11] {
                assert_eq!(
                    m.check(off, 1, id),
                    model.check(off, 1, id),
                    "byte {off} id {id}"
                );
            }
        }
    }
}
