//! Exact provenance of handshake bytes: for every byte of the records this
//! side receives, which subflow delivered the copy MPTCP kept (DESIGN.md §2).
//!
//! MPTCP moves one subflow's data into the connection at a time, under the
//! connection's data lock. Bytes in sequence advance the connection's
//! `ack_seq` during that move; the others wait in the out-of-order tree,
//! which is spliced later by code that knows no subflow. After each move
//! the kernel reports what changed ([`OriginMap::moved`]) and this map
//! attributes to the moving subflow the bytes by which `ack_seq` advanced
//! and every out-of-order skb of the handshake range that is new or grew.
//!
//! A byte attributed to two different subflows is a conflict: whichever
//! copy MPTCP kept, two paths delivered it, which a genuine peer never does.
//! Whatever cannot be followed exactly (more subflows or out-of-order skbs
//! than the tables hold, data that moved before tracking began) marks the
//! whole map lost: fail closed.
//!
//! The map is a plain value (arrays only, no references, no allocation):
//! the kernel keeps one per socket and a fixed pool for connections not yet
//! accepted, and copies it from one to the other.

/// Most handshake bytes a map follows: at least the bytes of the records
/// one side receives ([`crate::records::peer_bytes`] with no channel).
pub const MAX_BYTES: usize = 128;
/// Most distinct subflows that may deliver them; a further one makes its
/// bytes conflicts.
pub const MAX_SUBFLOWS: usize = 8;
/// Most out-of-order skbs of the handshake range at once; more mark the
/// map lost.
pub const MAX_OFO: usize = 8;

/// Origin of a byte two subflows delivered (origins 1..=MAX_SUBFLOWS are
/// table indices plus one, 0 is none).
const CONFLICT: u8 = 0xff;

/// `a` is before `b` in the 64-bit data sequence space (the kernel's
/// `before64`), so that comparisons survive wrap-around.
pub const fn before64(a: u64, b: u64) -> bool {
    (a.wrapping_sub(b) as i64) < 0
}

/// `a` is after `b` in the 64-bit data sequence space (`after64`).
pub const fn after64(a: u64, b: u64) -> bool {
    before64(b, a)
}

/// One out-of-order skb as the kernel sees it in the connection's tree,
/// so that the next move can tell new and grown skbs from known ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OfoSkb {
    /// The skb's identity (its address); compared, never dereferenced.
    pub key: usize,
    /// Data sequence number of its first byte.
    pub map_seq: u64,
    /// Data sequence number after its last byte.
    pub end_seq: u64,
}

impl OfoSkb {
    /// An unused slot, for constant initialisation.
    const EMPTY: OfoSkb = OfoSkb {
        key: 0,
        map_seq: 0,
        end_seq: 0,
    };
}

/// Why bytes may not be accepted as coming from a subflow: one variant per
/// verdict of the check, each with the line the module logs for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// Something could not be attributed (the map is lost).
    OriginLost,
    /// The range is not inside the tracked bytes.
    OutOfRange,
    /// A byte of the range was never attributed to any subflow.
    UnknownOrigin,
    /// A byte of the range was delivered by two subflows.
    TwoSubflows,
    /// A byte of the range was delivered by another subflow than asked.
    OtherSubflow,
}

impl Violation {
    /// The reason, for the abort's log line.
    pub const fn why(self) -> &'static str {
        match self {
            Violation::OriginLost => "handshake bytes whose origin could not be followed",
            Violation::OutOfRange => "more handshake bytes than the records hold",
            Violation::UnknownOrigin => "handshake bytes of unknown origin",
            Violation::TwoSubflows => "handshake bytes delivered by two subflows",
            Violation::OtherSubflow => {
                "handshake bytes delivered by another subflow than their channel's"
            }
        }
    }
}

/// Which subflow delivered each of the first `limit` bytes of the peer's
/// stream, so that a record can be checked against its channel's subflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginMap {
    /// Bytes attributed from `base`; 0: not tracking.
    limit: u32,
    /// `base` is known (the first move happened).
    started: bool,
    /// Every tracked byte is in sequence: nothing more to attribute.
    done: bool,
    /// Something could not be attributed: every check fails.
    lost: bool,
    /// Used entries of `ids`.
    nids: u8,
    /// Used entries of `ofo`.
    nofo: u8,
    /// Data sequence number of the peer's first byte.
    base: u64,
    /// subflow_id of origin 1..=nids.
    ids: [u32; MAX_SUBFLOWS],
    /// The out-of-order skbs of the handshake range seen after the last move.
    ofo: [OfoSkb; MAX_OFO],
    /// Per byte: 0 none, 1..=nids an entry of `ids`, CONFLICT.
    origin: [u8; MAX_BYTES],
}

impl OriginMap {
    /// A map for the first `limit` bytes of the peer's stream; 0 tracks
    /// nothing. More than [`MAX_BYTES`] cannot be followed: the map is
    /// capped and lost from the start (fail closed).
    pub const fn new(limit: u32) -> OriginMap {
        let cap = MAX_BYTES as u32;
        OriginMap {
            limit: if limit > cap { cap } else { limit },
            started: false,
            done: false,
            lost: limit > cap,
            nids: 0,
            nofo: 0,
            base: 0,
            ids: [0; MAX_SUBFLOWS],
            ofo: [OfoSkb::EMPTY; MAX_OFO],
            origin: [0; MAX_BYTES],
        }
    }

    /// The first move of the connection: the peer's stream starts at
    /// `ack_seq`. If anything moved already (`bytes_received` non-zero or
    /// the out-of-order tree not empty) its origin is unknown: lost.
    pub fn start(&mut self, ack_seq: u64, anything_moved: bool) {
        self.base = ack_seq;
        self.started = true;
        if anything_moved {
            self.lost = true;
        }
    }

    /// Whether [`OriginMap::start`] ran, so the kernel starts a map once.
    pub const fn is_started(&self) -> bool {
        self.started
    }

    /// Whether the map failed closed: every check fails.
    pub const fn is_lost(&self) -> bool {
        self.lost
    }

    /// Whether every tracked byte is in sequence, so that later moves need
    /// not be reported.
    pub const fn is_done(&self) -> bool {
        self.done
    }

    /// Whether the kernel must report moves: tracking and not done yet.
    pub const fn wants_moves(&self) -> bool {
        self.limit != 0 && !self.done
    }

    /// Bytes tracked (the capped `limit`).
    pub const fn limit(&self) -> u32 {
        self.limit
    }

    /// Fail closed from outside, e.g. when the kernel could not follow a
    /// move at all.
    pub fn mark_lost(&mut self) {
        self.lost = true;
    }

    /// The data sequence number after the tracked bytes: the kernel passes
    /// only out-of-order skbs that start before it.
    pub const fn ofo_window_end(&self) -> u64 {
        self.base.wrapping_add(self.limit as u64)
    }

    /// After subflow `subflow_id` moved data into the connection:
    /// `ack_before` and `ack_now` are the connection's `ack_seq` before and
    /// after the move; `ofo` are the out-of-order skbs in tree order that
    /// start before [`OriginMap::ofo_window_end`], at most
    /// `MAX_OFO + 1` of them, and `ofo_truncated` says there were more.
    pub fn moved(
        &mut self,
        ack_before: u64,
        ack_now: u64,
        ofo: &[OfoSkb],
        ofo_truncated: bool,
        subflow_id: u32,
    ) {
        let idx = self.index(subflow_id);
        // Bytes in sequence advance ack_seq only here or from the ofo tree.
        self.mark(ack_before, ack_now, idx);
        self.scan_ofo(ofo, ofo_truncated, idx);
        if !before64(ack_now, self.ofo_window_end()) {
            self.done = true;
        }
    }

    /// May bytes `[off, off + len)` of the peer's stream (offsets from its
    /// first byte) be accepted as coming from subflow `subflow_id`?
    pub fn check(&self, off: u32, len: u32, subflow_id: u32) -> Result<(), Violation> {
        if self.lost {
            return Err(Violation::OriginLost);
        }
        // off <= limit, so limit - off cannot wrap.
        if off > self.limit || len > self.limit - off {
            return Err(Violation::OutOfRange);
        }
        let start = off as usize;
        let bytes = self
            .origin
            .get(start..start.saturating_add(len as usize))
            .ok_or(Violation::OutOfRange)?;
        for &o in bytes {
            match o {
                0 => return Err(Violation::UnknownOrigin),
                CONFLICT => return Err(Violation::TwoSubflows),
                _ => {
                    let entry = self.ids.get(usize::from(o.wrapping_sub(1)));
                    if o > self.nids || entry != Some(&subflow_id) {
                        return Err(Violation::OtherSubflow);
                    }
                }
            }
        }
        Ok(())
    }

    /// Origin index of a subflow, 1-based; 0 if the table is full (its
    /// bytes then become conflicts).
    fn index(&mut self, subflow_id: u32) -> u8 {
        let known = usize::from(self.nids);
        if let Some(i) = self.ids.iter().take(known).position(|&id| id == subflow_id) {
            // i < MAX_SUBFLOWS, so i + 1 fits.
            return u8::try_from(i.saturating_add(1)).unwrap_or(0);
        }
        match self.ids.get_mut(known) {
            Some(slot) => {
                *slot = subflow_id;
                self.nids = self.nids.saturating_add(1);
                self.nids
            }
            None => 0,
        }
    }

    /// Bytes `[from, to)` of the data sequence space came from origin
    /// `idx` (0: a subflow the table could not hold).
    fn mark(&mut self, from: u64, to: u64, idx: u8) {
        let end = self.ofo_window_end();
        let from = if before64(from, self.base) {
            self.base
        } else {
            from
        };
        let to = if after64(to, end) { end } else { to };
        let limit = self.limit as usize;
        let mut seq = from;
        while before64(seq, to) {
            let off = seq.wrapping_sub(self.base);
            let slot = usize::try_from(off)
                .ok()
                .filter(|&o| o < limit)
                .and_then(|o| self.origin.get_mut(o));
            let Some(o) = slot else {
                // Only sequence numbers 2^62 apart get here: fail closed.
                self.lost = true;
                return;
            };
            *o = if idx == 0 || (*o != 0 && *o != idx) {
                CONFLICT
            } else {
                idx
            };
            seq = seq.wrapping_add(1);
        }
    }

    /// Out-of-order skbs of the handshake range: those not in the previous
    /// snapshot (by identity and start) came from this move, and so did the
    /// growth of those that were (MPTCP coalesces into an existing skb).
    fn scan_ofo(&mut self, ofo: &[OfoSkb], truncated: bool, idx: u8) {
        let end = self.ofo_window_end();
        let mut now = [OfoSkb::EMPTY; MAX_OFO];
        let mut n = 0usize;
        for skb in ofo {
            if !before64(skb.map_seq, end) {
                break;
            }
            let from = self
                .ofo
                .iter()
                .take(usize::from(self.nofo))
                .find(|seen| seen.key == skb.key && seen.map_seq == skb.map_seq)
                .map_or(skb.map_seq, |seen| seen.end_seq);
            if before64(from, skb.end_seq) {
                self.mark(from, skb.end_seq, idx);
            }
            let Some(slot) = now.get_mut(n) else {
                self.lost = true;
                break;
            };
            *slot = *skb;
            n = n.saturating_add(1);
        }
        if truncated {
            // The kernel saw more skbs than it could pass: they cannot be
            // followed; the snapshot overflowing above fails closed the same way.
            self.lost = true;
        }
        self.ofo = now;
        self.nofo = u8::try_from(n).unwrap_or(u8::MAX);
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    const BASE: u64 = 1000;

    fn started(limit: u32, base: u64) -> OriginMap {
        let mut m = OriginMap::new(limit);
        assert!(!m.is_started());
        m.start(base, false);
        assert!(m.is_started());
        m
    }

    fn skb(key: usize, map_seq: u64, end_seq: u64) -> OfoSkb {
        OfoSkb {
            key,
            map_seq,
            end_seq,
        }
    }

    #[test]
    fn new_caps_and_loses_oversized_limits() {
        let m = OriginMap::new(108);
        assert_eq!(m.limit(), 108);
        assert!(!m.is_lost());
        assert!(m.wants_moves());
        let m = OriginMap::new(MAX_BYTES as u32);
        assert!(!m.is_lost());
        let m = OriginMap::new(MAX_BYTES as u32 + 1);
        assert_eq!(m.limit(), MAX_BYTES as u32);
        assert!(m.is_lost());
        assert_eq!(m.check(0, 1, 1), Err(Violation::OriginLost));
        // 0 tracks nothing.
        assert!(!OriginMap::new(0).wants_moves());
    }

    #[test]
    fn in_sequence_bytes_go_to_the_moving_subflow() {
        let mut m = started(108, BASE);
        assert_eq!(m.ofo_window_end(), BASE + 108);
        m.moved(BASE, BASE + 36, &[], false, 7);
        assert_eq!(m.check(0, 36, 7), Ok(()));
        assert_eq!(m.check(0, 36, 8), Err(Violation::OtherSubflow));
        assert_eq!(m.check(35, 2, 7), Err(Violation::UnknownOrigin));
        assert!(!m.is_done());
        m.moved(BASE + 36, BASE + 108, &[], false, 9);
        assert_eq!(m.check(36, 72, 9), Ok(()));
        assert_eq!(m.check(0, 36, 7), Ok(()));
        assert_eq!(m.check(30, 10, 7), Err(Violation::OtherSubflow));
        assert!(m.is_done());
        assert!(!m.wants_moves());
        assert!(!m.is_lost());
    }

    #[test]
    fn a_move_without_progress_attributes_nothing() {
        let mut m = started(108, BASE);
        m.moved(BASE, BASE, &[], false, 1);
        assert_eq!(m.check(0, 1, 1), Err(Violation::UnknownOrigin));
        assert_eq!(m.check(0, 0, 1), Ok(()));
    }

    #[test]
    fn bytes_outside_the_window_are_ignored() {
        let mut m = started(10, BASE);
        // Starts before base (clamped) and runs past the end (clamped).
        m.moved(BASE - 5, BASE + 50, &[], false, 3);
        assert_eq!(m.check(0, 10, 3), Ok(()));
        assert!(m.is_done());
        assert!(!m.is_lost());
    }

    #[test]
    fn same_subflow_twice_is_no_conflict() {
        let mut m = started(108, BASE);
        m.moved(BASE, BASE + 10, &[skb(1, BASE + 20, BASE + 30)], false, 4);
        // The same skb again, unchanged, and more in sequence.
        m.moved(
            BASE + 10,
            BASE + 20,
            &[skb(1, BASE + 20, BASE + 30)],
            false,
            4,
        );
        assert_eq!(m.check(0, 30, 4), Ok(()));
    }

    #[test]
    fn two_subflows_delivering_a_byte_conflict() {
        let mut m = started(108, BASE);
        m.moved(BASE, BASE, &[skb(0xa, BASE + 10, BASE + 20)], false, 1);
        assert_eq!(m.check(10, 10, 1), Ok(()));
        // Subflow 2 delivers an overlapping copy, kept as another skb.
        m.moved(
            BASE,
            BASE,
            &[
                skb(0xa, BASE + 10, BASE + 20),
                skb(0xb, BASE + 15, BASE + 25),
            ],
            false,
            2,
        );
        assert_eq!(m.check(10, 5, 1), Ok(()));
        assert_eq!(m.check(10, 10, 1), Err(Violation::TwoSubflows));
        assert_eq!(m.check(15, 5, 2), Err(Violation::TwoSubflows));
        assert_eq!(m.check(20, 5, 2), Ok(()));
        // In sequence over bytes another subflow delivered out of order.
        let mut m = started(108, BASE);
        m.moved(BASE, BASE, &[skb(0xa, BASE + 10, BASE + 20)], false, 1);
        m.moved(BASE, BASE + 20, &[], false, 2);
        assert_eq!(m.check(0, 10, 2), Ok(()));
        assert_eq!(m.check(10, 1, 2), Err(Violation::TwoSubflows));
        assert_eq!(m.check(10, 1, 1), Err(Violation::TwoSubflows));
    }

    #[test]
    fn new_and_grown_ofo_skbs() {
        let mut m = started(108, BASE);
        // Subflow 3: a new out-of-order skb.
        m.moved(BASE, BASE, &[skb(0x100, BASE + 36, BASE + 50)], false, 3);
        assert_eq!(m.check(36, 14, 3), Ok(()));
        assert_eq!(m.check(50, 1, 3), Err(Violation::UnknownOrigin));
        // Subflow 4: the same skb grew (coalesced); only the growth is its.
        m.moved(BASE, BASE, &[skb(0x100, BASE + 36, BASE + 60)], false, 4);
        assert_eq!(m.check(36, 14, 3), Ok(()));
        assert_eq!(m.check(50, 10, 4), Ok(()));
        // Same identity at another start counts as a new skb: all of it is
        // subflow 5's, which conflicts with what 3 and 4 delivered.
        m.moved(BASE, BASE, &[skb(0x100, BASE + 40, BASE + 60)], false, 5);
        assert_eq!(m.check(36, 4, 3), Ok(()));
        assert_eq!(m.check(40, 1, 3), Err(Violation::TwoSubflows));
        assert_eq!(m.check(55, 1, 4), Err(Violation::TwoSubflows));
        // After the splice (outside any move), subflow 1 fills the hole and
        // the next move starts at the spliced ack_seq.
        m.moved(BASE, BASE + 36, &[], false, 1);
        assert_eq!(m.check(0, 36, 1), Ok(()));
        assert!(!m.is_lost());
    }

    #[test]
    fn ofo_skbs_at_or_past_the_window_end_stop_the_scan() {
        let mut m = started(20, BASE);
        m.moved(
            BASE,
            BASE,
            &[
                skb(1, BASE + 5, BASE + 25),
                skb(2, BASE + 20, BASE + 30),
                skb(3, BASE + 2, BASE + 4),
            ],
            false,
            6,
        );
        // The first is clamped to the window; the third is never reached.
        assert_eq!(m.check(5, 15, 6), Ok(()));
        assert_eq!(m.check(2, 1, 6), Err(Violation::UnknownOrigin));
    }

    #[test]
    fn too_many_ofo_skbs_lose_the_map() {
        let mut m = started(108, BASE);
        let mut list = [OfoSkb::default(); MAX_OFO + 1];
        for (i, s) in list.iter_mut().enumerate() {
            let at = BASE + 2 + 4 * i as u64;
            *s = skb(i + 1, at, at + 2);
        }
        m.moved(BASE, BASE, &list[..MAX_OFO], false, 1);
        assert!(!m.is_lost());
        assert_eq!(m.check(2, 2, 1), Ok(()));
        m.moved(BASE, BASE, &list, false, 1);
        assert!(m.is_lost());
        assert_eq!(m.check(2, 2, 1), Err(Violation::OriginLost));

        // The kernel had more than it could pass.
        let mut m = started(108, BASE);
        m.moved(BASE, BASE, &list[..2], true, 1);
        assert!(m.is_lost());
    }

    #[test]
    fn a_full_subflow_table_makes_conflicts() {
        let mut m = started(108, BASE);
        for id in 0..MAX_SUBFLOWS as u64 {
            m.moved(BASE + id, BASE + id + 1, &[], false, 100 + id as u32);
        }
        for id in 0..MAX_SUBFLOWS as u32 {
            assert_eq!(m.check(id, 1, 100 + id), Ok(()));
        }
        // A ninth subflow cannot be recorded: its bytes are conflicts.
        let nine = MAX_SUBFLOWS as u64;
        m.moved(BASE + nine, BASE + nine + 4, &[], false, 999);
        assert_eq!(m.check(nine as u32, 1, 999), Err(Violation::TwoSubflows));
        // A known subflow still gets its bytes.
        m.moved(BASE + nine + 4, BASE + nine + 8, &[], false, 101);
        assert_eq!(m.check(nine as u32 + 4, 4, 101), Ok(()));
        assert!(!m.is_lost());
    }

    #[test]
    fn check_range_limits() {
        let mut m = started(36, BASE);
        m.moved(BASE, BASE + 36, &[], false, 1);
        assert_eq!(m.check(0, 36, 1), Ok(()));
        assert_eq!(m.check(36, 0, 1), Ok(()));
        assert_eq!(m.check(0, 37, 1), Err(Violation::OutOfRange));
        assert_eq!(m.check(37, 0, 1), Err(Violation::OutOfRange));
        assert_eq!(m.check(30, 7, 1), Err(Violation::OutOfRange));
        assert_eq!(m.check(1, u32::MAX, 1), Err(Violation::OutOfRange));
        assert_eq!(m.check(u32::MAX, u32::MAX, 1), Err(Violation::OutOfRange));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let base = u64::MAX - 10;
        let mut m = started(40, base);
        assert_eq!(m.ofo_window_end(), 29);
        m.moved(base, base.wrapping_add(20), &[], false, 1);
        assert_eq!(m.check(0, 20, 1), Ok(()));
        // An ofo skb across nothing but the wrapped part.
        m.moved(
            base.wrapping_add(20),
            base.wrapping_add(20),
            &[skb(5, 15, 29)],
            false,
            2,
        );
        assert_eq!(m.check(26, 14, 2), Ok(()));
        assert_eq!(m.check(20, 6, 2), Err(Violation::UnknownOrigin));
        assert!(!m.is_done());
        m.moved(base.wrapping_add(20), 29, &[], false, 1);
        assert_eq!(m.check(20, 6, 1), Ok(()));
        assert_eq!(m.check(26, 1, 1), Err(Violation::TwoSubflows));
        assert!(m.is_done());
        assert!(before64(u64::MAX, 0));
        assert!(after64(0, u64::MAX));
        assert!(!before64(5, 5));
    }

    #[test]
    fn start_after_data_moved_is_lost() {
        let mut m = OriginMap::new(108);
        m.start(BASE, true);
        assert!(m.is_started());
        assert!(m.is_lost());
        m.moved(BASE, BASE + 36, &[], false, 1);
        assert_eq!(m.check(0, 36, 1), Err(Violation::OriginLost));
    }

    #[test]
    fn mark_lost_is_sticky() {
        let mut m = started(108, BASE);
        m.moved(BASE, BASE + 36, &[], false, 1);
        m.mark_lost();
        m.moved(BASE + 36, BASE + 72, &[], false, 1);
        assert!(m.is_lost());
        assert_eq!(m.check(0, 1, 1), Err(Violation::OriginLost));
    }

    #[test]
    fn sequence_numbers_far_apart_fail_closed() {
        // Not possible on a real connection; must neither panic nor write
        // outside the map.
        let mut m = started(108, 0);
        m.moved(1 << 62, (1 << 63) + (1 << 62) - 1, &[], false, 1);
        assert!(m.is_lost());
    }

    #[test]
    fn copies_are_independent_values() {
        let mut a = started(108, BASE);
        a.moved(BASE, BASE + 10, &[], false, 1);
        let mut b = a.clone();
        b.mark_lost();
        assert!(!a.is_lost());
        assert_eq!(a.check(0, 10, 1), Ok(()));
        assert_ne!(a, b);
    }

    #[test]
    fn why_strings_are_the_c_modules() {
        assert_eq!(
            Violation::OriginLost.why(),
            "handshake bytes whose origin could not be followed"
        );
        assert_eq!(
            Violation::OutOfRange.why(),
            "more handshake bytes than the records hold"
        );
        assert_eq!(
            Violation::UnknownOrigin.why(),
            "handshake bytes of unknown origin"
        );
        assert_eq!(
            Violation::TwoSubflows.why(),
            "handshake bytes delivered by two subflows"
        );
        assert_eq!(
            Violation::OtherSubflow.why(),
            "handshake bytes delivered by another subflow than their channel's"
        );
    }

    #[test]
    fn limit_covers_what_either_side_receives() {
        use smkex_proto::Role;
        for role in [Role::Client, Role::Server] {
            let need = crate::records::peer_bytes(role, None);
            assert!(need as usize <= MAX_BYTES);
            assert!(!OriginMap::new(need).is_lost());
        }
    }
}
