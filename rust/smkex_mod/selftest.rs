// SPDX-License-Identifier: GPL-2.0

//! Load-time check of the protocol core as the module uses it (the core's
//! own self-test checks the values against the spec's vectors; this checks
//! the module's build of it with fresh inputs): a client and a server
//! session with random keys run a whole handshake in kernel memory and must
//! agree on the session key, the transcript hash and an exporter output.

use kernel::prelude::*;
use smkex_proto::{Action, Channel, Role, Session, MAX_RECORD_LEN, RANDOM_LEN};

const TIMEOUT_MS: u32 = 10_000;

fn random() -> [u8; RANDOM_LEN] {
    let mut random = [0u8; RANDOM_LEN];
    crate::glue::random_bytes(&mut random);
    random
}

/// Drains `from`'s actions, delivering its records to `to` on the same
/// channel. Returns whether `from` completed.
fn pump(from: &mut Session, to: &mut Session, buf: &mut [u8; MAX_RECORD_LEN]) -> Result<bool> {
    let mut complete = false;
    loop {
        match from.poll(buf) {
            Action::Idle => return Ok(complete),
            Action::Send { channel, len } => {
                to.receive(channel, buf.get(..len).ok_or(EINVAL)?);
            }
            // Each session arms its timer with the timeout it was given.
            Action::ArmTimer { millis } if millis == TIMEOUT_MS => {}
            Action::ArmTimer { millis } => {
                pr_err!("self-test handshake armed {} ms, not {}\n", millis, TIMEOUT_MS);
                return Err(EINVAL);
            }
            Action::Complete => complete = true,
            Action::Fail(reason) => {
                pr_err!("self-test handshake failed with reason {}\n", reason.code());
                return Err(EINVAL);
            }
        }
    }
}

/// Runs the handshake; `Ok` only if both sides completed and agree.
pub(crate) fn random_handshake() -> Result {
    // Boxed: two sessions would take about a kilobyte of the stack.
    let mut client = KBox::new(Session::with_timeout(Role::Client, &random(), TIMEOUT_MS), GFP_KERNEL)?;
    let mut server = KBox::new(Session::with_timeout(Role::Server, &random(), TIMEOUT_MS), GFP_KERNEL)?;
    for channel in [Channel::One, Channel::Two] {
        client.channel_up(channel);
        server.channel_up(channel);
    }
    let mut buf = [0u8; MAX_RECORD_LEN];
    let (mut client_done, mut server_done) = (false, false);
    // Three exchanges suffice (client shares, server shares, Finished).
    for _ in 0..4 {
        client_done |= pump(&mut client, &mut server, &mut buf)?;
        server_done |= pump(&mut server, &mut client, &mut buf)?;
    }
    let (mut client_out, mut server_out) = ([0u8; 32], [1u8; 32]);
    client.export(b"smkex self-test", b"random", &mut client_out).map_err(|_| EINVAL)?;
    server.export(b"smkex self-test", b"random", &mut server_out).map_err(|_| EINVAL)?;
    // Plain comparisons: these are throwaway keys of a self-test.
    let key = client.session_key();
    let agree = client_done
        && server_done
        && key.is_some()
        && key == server.session_key()
        && client.transcript_hash() == server.transcript_hash()
        && client_out == server_out;
    if agree { Ok(()) } else { Err(EINVAL) }
}

/// Hex to bytes at compile time (the vectors below; a bad literal does not
/// compile).
const fn unhex<const N: usize>(s: &str) -> [u8; N] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a hex digit"),
        }
    }
    let s = s.as_bytes();
    assert!(s.len() == 2 * N);
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

/// Tells `opener` that a whole record sits at the start of `buf`, in the
/// pieces it asks for (header, then the rest), as the module reads them.
fn feed(opener: &mut smkex_proto::records::Opener, buf: &[u8]) -> Result<(), smkex_proto::records::RecordError> {
    while !opener.ready() && opener.want() > 0 {
        opener.filled(buf, opener.want())?;
    }
    Ok(())
}

/// Documentation/protocol.md §10's vectors (client to server).
const C2S_KEY: [u8; 32] = unhex("57436fe8208b3a0b7fe52179a5ec099de116af73bde19238d861dacbcdc03248");
const C2S_IV: [u8; 8] = unhex("ce73308e46a1d0d0");
const C2S_SEQ0_DATA: [u8; 32] = unhex("1001001ca43b4a84b8bd72f6fc25df448c04dd66e47d119e72ce7774f631594d");
const C2S_SEQ2_CLOSE: [u8; 20] = unhex("11010010880e85eebdebf7046e6e330a817ed875");

/// The record layer with the kernel's ChaCha20-Poly1305 (lib/crypto):
/// sealing the spec's records gives their bytes (key, nonce layout,
/// sequence numbers and associated data as documented), opening gives the
/// plaintext back, and a record with one bit flipped does not open.
pub(crate) fn records_known_answer() -> Result {
    use smkex_proto::records::{DirKeys, Opener, RecordType, Sealer, SEQ_LIMIT};
    let aead = crate::glue::KernelAead;
    let keys = || DirKeys::from_parts(C2S_KEY, C2S_IV);
    let mut buf: KBox<[u8; smkex_proto::records::MAX_WIRE_LEN]> = KBox::init(kernel::init::zeroed(), GFP_KERNEL)?;
    let text = b"hello, smkex";
    buf[4..4 + text.len()].copy_from_slice(text);
    let n = Sealer::new(keys(), SEQ_LIMIT).seal(&aead, RecordType::Data, buf.as_mut_slice(), text.len());
    if n != Ok(C2S_SEQ0_DATA.len()) || buf[..C2S_SEQ0_DATA.len()] != C2S_SEQ0_DATA {
        pr_err!("record layer self-test: Data record differs from protocol.md\n");
        return Err(EINVAL);
    }
    let n = Sealer::with_seq(keys(), SEQ_LIMIT, 2).seal(&aead, RecordType::Close, buf.as_mut_slice(), 0);
    if n != Ok(C2S_SEQ2_CLOSE.len()) || buf[..C2S_SEQ2_CLOSE.len()] != C2S_SEQ2_CLOSE {
        pr_err!("record layer self-test: Close record differs from protocol.md\n");
        return Err(EINVAL);
    }
    // Open the Data record back, then a copy with one bit flipped.
    for flip in [false, true] {
        buf[..C2S_SEQ0_DATA.len()].copy_from_slice(&C2S_SEQ0_DATA);
        if flip {
            buf[10] ^= 0x20;
        }
        let mut opener = Opener::new(keys(), SEQ_LIMIT);
        let opened = feed(&mut opener, buf.as_slice()).and_then(|()| opener.open(&aead, buf.as_mut_slice()));
        let good = matches!(opened, Ok(o) if o.kind == RecordType::Data && buf[4..4 + o.len] == text[..]);
        if good == flip {
            pr_err!("record layer self-test: opening {} record went wrong\n", if flip { "an altered" } else { "the" });
            return Err(EINVAL);
        }
    }
    Ok(())
}

/// The `record_bench_mib` benchmark: seals `mib` MiB of full records, then
/// opens them, with the kernel AEAD, and logs both rates (MB/s of
/// plaintext) for Documentation/benchmarks.md.
pub(crate) fn records_bench(mib: u32) -> Result {
    use kernel::time::Ktime;
    use smkex_proto::records::{DirKeys, Opener, RecordType, Sealer, MAX_PLAINTEXT, MAX_WIRE_LEN, SEQ_LIMIT};
    let aead = crate::glue::KernelAead;
    let mut buf: KBox<[u8; MAX_WIRE_LEN]> = KBox::init(kernel::init::zeroed(), GFP_KERNEL)?;
    let records = (u64::from(mib) << 20).div_ceil(MAX_PLAINTEXT as u64);
    let bytes = records * MAX_PLAINTEXT as u64;
    let mut sealer = Sealer::new(DirKeys::from_parts(C2S_KEY, C2S_IV), SEQ_LIMIT);
    let mut opener = Opener::new(DirKeys::from_parts(C2S_KEY, C2S_IV), SEQ_LIMIT);
    let (mut seal_ns, mut open_ns) = (0i64, 0i64);
    for _ in 0..records {
        let t0 = Ktime::ktime_get();
        sealer.seal(&aead, RecordType::Data, buf.as_mut_slice(), MAX_PLAINTEXT).map_err(|_| EINVAL)?;
        let t1 = Ktime::ktime_get();
        feed(&mut opener, buf.as_slice()).map_err(|_| EINVAL)?;
        opener.open(&aead, buf.as_mut_slice()).map_err(|_| EINVAL)?;
        let t2 = Ktime::ktime_get();
        seal_ns += t1.to_ns() - t0.to_ns();
        open_ns += t2.to_ns() - t1.to_ns();
    }
    // bytes / ns * 1000 = MB/s.
    let rate = |ns: i64| bytes.saturating_mul(1000) / (ns.max(1) as u64);
    pr_info!(
        "record layer benchmark: {} records of {} bytes: seal {} us ({} MB/s), open {} us ({} MB/s)\n",
        records,
        MAX_PLAINTEXT,
        seal_ns / 1000,
        rate(seal_ns),
        open_ns / 1000,
        rate(open_ns)
    );
    Ok(())
}
