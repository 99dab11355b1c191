//! Fuzzes the record layer's reader (`smkex_proto::records::Opener`) on
//! arbitrary byte streams fed in arbitrary pieces: no panic, never more
//! than `want()` accepted, errors sticky, a record opens only when its
//! (toy) tag verifies, and the end-of-stream verdict is clean only right
//! after a Close. Then a round trip: whatever the Sealer seals, in any
//! split, the Opener gives back byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smkex_proto::records::{
    Aead, DirKeys, Opener, RecordError, RecordType, Sealer, HEADER_LEN, KEY_LEN, MAX_PLAINTEXT, MAX_WIRE_LEN,
};

/// A stand-in AEAD, NOT secure: XOR with a key- and nonce-derived byte; the
/// tag is that byte repeated, so a random stream rarely authenticates but
/// a sealed one always does.
struct Toy;
impl Toy {
    fn pad(key: &[u8; KEY_LEN], nonce: u64, aad: &[u8]) -> u8 {
        aad.iter().fold(key[0] ^ nonce as u8, |a, b| a.wrapping_add(*b))
    }
}
impl Aead for Toy {
    fn seal(&self, key: &[u8; KEY_LEN], nonce: u64, aad: &[u8], buf: &mut [u8], pt_len: usize) {
        let p = Toy::pad(key, nonce, aad);
        let (text, tag) = buf.split_at_mut(pt_len);
        text.iter_mut().for_each(|b| *b ^= p);
        tag[..16].fill(p);
    }
    fn open(&self, key: &[u8; KEY_LEN], nonce: u64, aad: &[u8], buf: &mut [u8]) -> bool {
        let p = Toy::pad(key, nonce, aad);
        let Some(split) = buf.len().checked_sub(16) else { return false };
        let (text, tag) = buf.split_at_mut(split);
        if tag.iter().any(|&b| b != p) {
            return false;
        }
        text.iter_mut().for_each(|b| *b ^= p);
        true
    }
}

fn keys() -> DirKeys {
    DirKeys::from_parts([0x5a; KEY_LEN], [7; 8])
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut buf = vec![0u8; MAX_WIRE_LEN];
    if mode & 1 == 0 {
        // Arbitrary stream, pieces sized by the stream itself.
        let mut opener = Opener::new(keys(), 1 << 62);
        let mut at = 0;
        let mut sticky: Option<RecordError> = None;
        while at < rest.len() {
            let want = opener.want();
            let piece = (usize::from(rest[at]) % 7 + 1).min(rest.len() - at);
            let have = opener.have();
            let n = piece.min(MAX_WIRE_LEN - have);
            buf[have..have + n].copy_from_slice(&rest[at..at + n]);
            at += n;
            let r = opener.filled(&buf, n);
            if n > want {
                assert!(r.is_err(), "more than want() accepted");
            }
            if let Some(e) = sticky {
                assert_eq!(r, Err(e), "errors are sticky");
            }
            if let Err(e) = r {
                sticky = Some(e);
                continue;
            }
            if opener.ready() {
                match opener.open(&Toy, &mut buf) {
                    Ok(o) => assert!(o.len <= MAX_PLAINTEXT && HEADER_LEN + o.len + 16 <= MAX_WIRE_LEN),
                    Err(e) => sticky = Some(e),
                }
            }
        }
        if opener.end_of_stream().is_ok() {
            assert!(opener.is_closed() && opener.have() == 0 && sticky.is_none());
        }
        return;
    }
    // Round trip: records of the lengths the input names, the stream fed
    // back in pieces the input names.
    let mut sealer = Sealer::new(keys(), 1 << 62);
    let mut wire = Vec::new();
    let mut texts = Vec::new();
    for chunk in rest.chunks(3).take(8) {
        let len = (usize::from(chunk[0]) << 6 | usize::from(*chunk.get(1).unwrap_or(&0))) % MAX_PLAINTEXT + 1;
        let text: Vec<u8> = (0..len).map(|i| (i as u8) ^ chunk[0]).collect();
        buf[HEADER_LEN..HEADER_LEN + len].copy_from_slice(&text);
        let n = sealer.seal(&Toy, RecordType::Data, &mut buf, len).expect("a valid length seals");
        wire.extend_from_slice(&buf[..n]);
        texts.push(text);
    }
    let n = sealer.seal(&Toy, RecordType::Close, &mut buf, 0).expect("Close seals");
    wire.extend_from_slice(&buf[..n]);
    let mut opener = Opener::new(keys(), 1 << 62);
    let (mut at, mut got) = (0, Vec::new());
    let mut step = rest.iter().cycle();
    while at < wire.len() {
        let want = opener.want();
        assert!(want > 0, "a sealed stream never stalls");
        let n = (usize::from(*step.next().unwrap_or(&1)) % 2000 + 1).min(want).min(wire.len() - at);
        let have = opener.have();
        buf[have..have + n].copy_from_slice(&wire[at..at + n]);
        at += n;
        opener.filled(&buf, n).expect("a sealed stream parses");
        if opener.ready() {
            let o = opener.open(&Toy, &mut buf).expect("a sealed record opens");
            if o.kind == RecordType::Data {
                got.push(buf[HEADER_LEN..HEADER_LEN + o.len].to_vec());
            }
        }
    }
    assert!(opener.end_of_stream().is_ok());
    assert_eq!(got, texts);
});
