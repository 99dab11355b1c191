//! Cutting the peer's stream into records, one at a time.
//!
//! The transport reads the handshake with MPTCP's own `recvmsg` and must
//! never read past the last record: what follows belongs to the
//! application. So it reads exactly [`RecordReader::want`] bytes at a time:
//! first the type byte, which gives the record's length and channel, then
//! the rest of that record. A whole record stays held until the transport
//! handed it to the core ([`RecordReader::take`]); it may have to wait for
//! its channel's subflow to come up.

use smkex_proto::record::{expected_receive_bytes, RecordType};
use smkex_proto::{Channel, Role, MAX_RECORD_LEN};
use zeroize::Zeroize;

/// Handshake bytes the peer of a side with `role` sends on `channel`, or on
/// both channels for `None`: the bytes the provenance map must follow, and
/// what a channel still owes while its subflow is gone.
pub const fn peer_bytes(role: Role, channel: Option<Channel>) -> u32 {
    let bytes = match channel {
        Some(c) => expected_receive_bytes(role, c),
        None => expected_receive_bytes(role, Channel::One)
            .saturating_add(expected_receive_bytes(role, Channel::Two)),
    };
    // At most a few hundred bytes.
    bytes as u32
}

/// The record being read from the peer's stream and where it stands in it.
///
/// The buffer holds key shares and nonces: [`RecordReader::take`] and drop
/// zeroize it.
pub struct RecordReader {
    /// The record's bytes so far.
    buf: [u8; MAX_RECORD_LEN],
    /// Bytes of `buf` filled.
    len: usize,
    /// The record's length once its type byte is in; 1 while reading the
    /// type byte; 0 when idle.
    need: usize,
    /// The channel the record's type travels on.
    channel: Channel,
    /// Stream offset of the record's first byte: the bytes taken before.
    offset: u32,
    /// Bytes taken per channel (index: channel - 1).
    consumed: [u32; 2],
}

/// Everything but the bytes, which may be secret.
impl core::fmt::Debug for RecordReader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RecordReader")
            .field("len", &self.len)
            .field("need", &self.need)
            .field("channel", &self.channel)
            .field("offset", &self.offset)
            .field("consumed", &self.consumed)
            .finish_non_exhaustive()
    }
}

impl Default for RecordReader {
    fn default() -> Self {
        RecordReader::new()
    }
}

impl RecordReader {
    /// An idle reader at the start of the peer's stream.
    pub const fn new() -> RecordReader {
        RecordReader {
            buf: [0; MAX_RECORD_LEN],
            len: 0,
            need: 0,
            channel: Channel::One,
            offset: 0,
            consumed: [0; 2],
        }
    }

    /// How many bytes to read next: 1 (the type byte) when idle, else the
    /// rest of the record; 0 while a whole record is held.
    pub const fn want(&self) -> usize {
        if self.need == 0 {
            1
        } else {
            self.need.saturating_sub(self.len)
        }
    }

    /// Takes at most [`RecordReader::want`] bytes (as that was before the
    /// call) from the front of `data`; returns how many it took. The type
    /// byte decides the record's length and channel; a byte that is no
    /// record type is a whole one-byte record on channel 1, so that the
    /// core rejects it.
    pub fn push(&mut self, data: &[u8]) -> usize {
        let n = self.want().min(data.len());
        if n == 0 {
            return 0;
        }
        let end = self.len.saturating_add(n);
        let (Some(dst), Some(src)) = (self.buf.get_mut(self.len..end), data.get(..n)) else {
            return 0;
        };
        dst.copy_from_slice(src);
        if self.need == 0 {
            self.need = 1;
        }
        self.len = end;
        if self.len == 1 && self.need == 1 {
            match self.buf.first().copied().and_then(RecordType::from_u8) {
                Some(ty) => {
                    self.channel = ty.channel();
                    self.need = ty.record_len();
                }
                None => self.channel = Channel::One,
            }
        }
        n
    }

    /// The whole record held, with the channel its type travels on.
    pub fn record(&self) -> Option<(Channel, &[u8])> {
        if self.need == 0 || self.len != self.need {
            return None;
        }
        self.buf.get(..self.len).map(|bytes| (self.channel, bytes))
    }

    /// Stream offset of the held record's first byte (for the provenance
    /// check), i.e. the bytes of all records taken before it.
    pub const fn offset(&self) -> u32 {
        self.offset
    }

    /// Bytes of the records taken on `channel` so far, to compare with what
    /// the peer owes on it ([`peer_bytes`]).
    pub const fn consumed(&self, channel: Channel) -> u32 {
        match channel {
            Channel::One => self.consumed[0],
            Channel::Two => self.consumed[1],
        }
    }

    /// Forgets the held record once the core had it (or it was refused),
    /// counting its bytes, and overwrites the buffer with zeros. A partial
    /// record is forgotten uncounted (the stream is out of step then, which
    /// only a failed handshake does).
    pub fn take(&mut self) {
        if let Some((channel, bytes)) = self.record() {
            let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            self.offset = self.offset.saturating_add(len);
            let slot = match channel {
                Channel::One => &mut self.consumed[0],
                Channel::Two => &mut self.consumed[1],
            };
            *slot = slot.saturating_add(len);
        }
        self.clear();
    }

    /// Overwrites the buffer with zeros and goes idle.
    fn clear(&mut self) {
        self.buf.zeroize();
        self.len = 0;
        self.need = 0;
        self.channel = Channel::One;
    }
}

impl Drop for RecordReader {
    fn drop(&mut self) {
        self.clear();
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
    use smkex_proto::record::encode;

    fn record_of(ty: RecordType, fill: u8) -> ([u8; MAX_RECORD_LEN], usize) {
        let body = [fill; MAX_RECORD_LEN];
        let mut out = [0u8; MAX_RECORD_LEN];
        let n = encode(ty, &body[..ty.body_len()], &mut out).unwrap();
        (out, n)
    }

    #[test]
    fn byte_by_byte_every_type() {
        for ty in RecordType::ALL {
            let (bytes, n) = record_of(ty, 0x5a);
            let mut r = RecordReader::new();
            assert_eq!(r.want(), 1);
            for (i, b) in bytes[..n].iter().enumerate() {
                assert!(r.record().is_none(), "{ty:?} whole after {i} bytes");
                assert_eq!(r.want(), if i == 0 { 1 } else { n - i });
                assert_eq!(r.push(core::slice::from_ref(b)), 1);
            }
            let (channel, got) = r.record().expect("whole");
            assert_eq!(channel, ty.channel());
            assert_eq!(got, &bytes[..n]);
            assert_eq!(r.want(), 0);
            assert_eq!(r.push(&[1, 2, 3]), 0, "nothing past the record");
        }
    }

    #[test]
    fn type_byte_then_the_rest_in_one_read() {
        let (bytes, n) = record_of(RecordType::ServerNonceHash, 7);
        let mut stream = [0u8; 2 * MAX_RECORD_LEN];
        stream[..n].copy_from_slice(&bytes[..n]);
        stream[n] = RecordType::ClientFinished as u8;
        let mut r = RecordReader::new();
        // Only the type byte, even though more is offered.
        assert_eq!(r.push(&stream), 1);
        assert_eq!(r.want(), n - 1);
        assert_eq!(r.push(&stream[1..]), n - 1);
        assert_eq!(
            r.record().map(|(c, b)| (c, b.len())),
            Some((Channel::Two, n))
        );
    }

    #[test]
    fn unknown_type_is_a_one_byte_record_on_channel_one() {
        for byte in [0u8, 6, 0x80, 0xff] {
            let mut r = RecordReader::new();
            assert_eq!(r.push(&[byte, 1, 4, 0]), 1);
            assert_eq!(r.record(), Some((Channel::One, &[byte][..])));
            assert_eq!(r.want(), 0);
            r.take();
            assert_eq!(r.offset(), 1);
            assert_eq!(r.consumed(Channel::One), 1);
        }
    }

    #[test]
    fn a_record_is_held_until_taken() {
        let (bytes, n) = record_of(RecordType::ClientNonce, 9);
        let mut r = RecordReader::new();
        assert_eq!(r.push(&bytes[..1]), 1);
        assert_eq!(r.push(&bytes[1..n]), n - 1);
        for _ in 0..3 {
            assert_eq!(r.push(&[1]), 0);
            assert_eq!(
                r.record().map(|(c, b)| (c, b.len())),
                Some((Channel::Two, n))
            );
        }
        assert_eq!(r.offset(), 0);
        r.take();
        assert!(r.record().is_none());
        assert_eq!(r.want(), 1);
        assert_eq!(r.offset(), n as u32);
        assert_eq!(r.consumed(Channel::Two), n as u32);
        assert_eq!(r.consumed(Channel::One), 0);
        // The next record starts where this one ended.
        let (next, m) = record_of(RecordType::ClientFinished, 3);
        assert_eq!(r.push(&next[..m]), 1);
        assert_eq!(r.push(&next[1..m]), m - 1);
        r.take();
        assert_eq!(r.offset(), (n + m) as u32);
        assert_eq!(r.consumed(Channel::One), m as u32);
    }

    #[test]
    fn take_zeroes_and_partial_take_is_uncounted() {
        let (bytes, n) = record_of(RecordType::ClientKeyShare, 0xee);
        let mut r = RecordReader::new();
        r.push(&bytes[..1]);
        r.push(&bytes[1..n - 1]);
        assert!(r.record().is_none());
        r.take();
        assert_eq!(r.offset(), 0);
        assert_eq!(r.consumed(Channel::One), 0);
        assert!(r.buf.iter().all(|&b| b == 0));
        assert_eq!(r.want(), 1);
        r.push(&bytes[..1]);
        r.push(&bytes[1..n]);
        r.take();
        assert!(r.buf.iter().all(|&b| b == 0));
    }

    #[test]
    fn want_never_exceeds_the_record() {
        for ty in RecordType::ALL {
            let (bytes, n) = record_of(ty, 1);
            for chunk in 1..=n {
                let mut r = RecordReader::new();
                let mut at = 0;
                let mut read = 0;
                while r.record().is_none() {
                    let w = r.want();
                    assert!(
                        w >= 1 && at + w <= n,
                        "{ty:?} chunk {chunk}: want {w} at {at}"
                    );
                    let took = r.push(&bytes[at..(at + chunk).min(n)]);
                    assert!(took <= w && took >= 1);
                    at += took;
                    read += 1;
                }
                assert_eq!(at, n);
                assert!(read >= 2, "the type byte is always read alone");
            }
        }
    }

    #[test]
    fn empty_push_changes_nothing() {
        let mut r = RecordReader::new();
        assert_eq!(r.push(&[]), 0);
        assert_eq!(r.want(), 1);
        assert!(r.record().is_none());
    }

    #[test]
    fn peer_bytes_per_role_and_channel() {
        assert_eq!(peer_bytes(Role::Server, Some(Channel::One)), 72);
        assert_eq!(peer_bytes(Role::Server, Some(Channel::Two)), 36);
        assert_eq!(peer_bytes(Role::Server, None), 108);
        assert_eq!(peer_bytes(Role::Client, Some(Channel::One)), 36);
        assert_eq!(peer_bytes(Role::Client, Some(Channel::Two)), 68);
        assert_eq!(peer_bytes(Role::Client, None), 104);
        // The same from the record types each side receives.
        for role in [Role::Client, Role::Server] {
            for channel in [None, Some(Channel::One), Some(Channel::Two)] {
                let sum: usize = RecordType::ALL
                    .iter()
                    .filter(|t| t.sender() == role.peer())
                    .filter(|t| channel.is_none_or(|c| t.channel() == c))
                    .map(|t| t.record_len())
                    .sum();
                assert_eq!(
                    peer_bytes(role, channel) as usize,
                    sum,
                    "{role:?} {channel:?}"
                );
            }
        }
    }
}
