//! Shared helpers of the integration tests: a side that drains its
//! session's actions into per-channel outboxes, and deterministic randomness.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use smkex_proto::{
    Action, Channel, FailureReason, Role, Session, Status, MAX_RECORD_LEN, RANDOM_LEN,
};

/// Decodes hex (whitespace ignored).
pub fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd hex length");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// 64 deterministic "random" bytes for a seed (SplitMix64).
pub fn random(seed: u64) -> [u8; RANDOM_LEN] {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x1234_5678;
    let mut out = [0u8; RANDOM_LEN];
    for chunk in out.chunks_mut(8) {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes());
    }
    out
}

pub fn idx(ch: Channel) -> usize {
    match ch {
        Channel::One => 0,
        Channel::Two => 1,
    }
}

/// One endpoint: its session plus everything it has emitted.
pub struct Side {
    pub s: Session,
    /// Records sent, per channel, in order.
    pub sent: [Vec<Vec<u8>>; 2],
    pub timer: Option<u32>,
    pub completions: usize,
    pub failure: Option<FailureReason>,
    pub failures_reported: usize,
}

impl Side {
    pub fn new(role: Role, seed: u64) -> Side {
        Side::from_random(role, &random(seed))
    }

    pub fn from_random(role: Role, random: &[u8; RANDOM_LEN]) -> Side {
        let mut side = Side {
            s: Session::new(role, random),
            sent: [Vec::new(), Vec::new()],
            timer: None,
            completions: 0,
            failure: None,
            failures_reported: 0,
        };
        side.pump();
        side
    }

    /// Drains `poll` until Idle.
    pub fn pump(&mut self) {
        let mut buf = [0u8; MAX_RECORD_LEN];
        for _ in 0..64 {
            match self.s.poll(&mut buf) {
                Action::Idle => return,
                Action::Send { channel, len } => {
                    assert!(len <= MAX_RECORD_LEN);
                    self.sent[idx(channel)].push(buf[..len].to_vec());
                }
                Action::ArmTimer { millis } => {
                    assert!(self.timer.is_none(), "timer armed twice");
                    self.timer = Some(millis);
                }
                Action::Complete => {
                    self.completions += 1;
                    assert_eq!(self.completions, 1, "completed twice");
                }
                Action::Fail(reason) => {
                    self.failures_reported += 1;
                    assert_eq!(self.failures_reported, 1, "failure reported twice");
                    self.failure = Some(reason);
                }
            }
        }
        panic!("poll never became idle");
    }

    pub fn up(&mut self, ch: Channel) {
        self.s.channel_up(ch);
        self.pump();
    }

    /// Delivers `bytes` in one call; returns the consumed count.
    pub fn recv(&mut self, ch: Channel, bytes: &[u8]) -> usize {
        let n = self.s.receive(ch, bytes);
        assert!(n <= bytes.len());
        self.pump();
        n
    }

    /// Delivers `bytes` one byte per call.
    pub fn recv_bytewise(&mut self, ch: Channel, bytes: &[u8]) {
        for b in bytes {
            self.recv(ch, std::slice::from_ref(b));
        }
    }

    pub fn record(&self, ch: Channel, i: usize) -> Vec<u8> {
        self.sent[idx(ch)][i].clone()
    }

    pub fn complete(&self) -> bool {
        self.s.status() == Status::Complete
    }

    pub fn failed_with(&self) -> Option<FailureReason> {
        match self.s.status() {
            Status::Failed(r) => {
                assert_eq!(self.failure, Some(r), "status and reported failure differ");
                Some(r)
            }
            _ => None,
        }
    }
}

/// The records of a handshake, in the order they are produced.
pub struct Transcript {
    pub client_key_share: Vec<u8>,
    pub client_nonce: Vec<u8>,
    pub server_key_share: Vec<u8>,
    pub server_nonce_hash: Vec<u8>,
    pub client_finished: Vec<u8>,
}

/// Runs a plain handshake to completion, returning both sides and the
/// records.
pub fn handshake(client_seed: u64, server_seed: u64) -> (Side, Side, Transcript) {
    let mut c = Side::new(Role::Client, client_seed);
    let mut s = Side::new(Role::Server, server_seed);
    c.up(Channel::One);
    c.up(Channel::Two);
    s.up(Channel::One);
    s.up(Channel::Two);
    let x = c.record(Channel::One, 0);
    let nc = c.record(Channel::Two, 0);
    s.recv(Channel::One, &x);
    s.recv(Channel::Two, &nc);
    let y = s.record(Channel::One, 0);
    let nsh = s.record(Channel::Two, 0);
    c.recv(Channel::One, &y);
    c.recv(Channel::Two, &nsh);
    assert!(c.complete(), "client did not complete: {:?}", c.s.status());
    let fin = c.record(Channel::One, 1);
    s.recv(Channel::One, &fin);
    assert!(s.complete(), "server did not complete: {:?}", s.s.status());
    let t = Transcript {
        client_key_share: x,
        client_nonce: nc,
        server_key_share: y,
        server_nonce_hash: nsh,
        client_finished: fin,
    };
    (c, s, t)
}

/// Client and server up to the point where the client has received
/// nothing yet but the server has answered (both server records exist).
pub fn until_server_answered(client_seed: u64, server_seed: u64) -> (Side, Side) {
    let mut c = Side::new(Role::Client, client_seed);
    let mut s = Side::new(Role::Server, server_seed);
    c.up(Channel::One);
    c.up(Channel::Two);
    s.up(Channel::One);
    s.up(Channel::Two);
    let x = c.record(Channel::One, 0);
    let nc = c.record(Channel::Two, 0);
    s.recv(Channel::One, &x);
    s.recv(Channel::Two, &nc);
    assert_eq!(s.sent[0].len(), 1);
    assert_eq!(s.sent[1].len(), 1);
    (c, s)
}

/// The `name = value` lines of the one fenced block of `spec` marked `tag`
/// (Documentation/protocol.md's vector blocks); exactly one must exist.
pub fn spec_block(spec: &str, tag: &str) -> std::collections::BTreeMap<String, String> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    let open = format!("```{tag}");
    for line in spec.lines() {
        match &mut current {
            None if line.trim() == open => current = Some(Vec::new()),
            None => {}
            Some(lines) if line.trim() == "```" => {
                blocks.push(std::mem::take(lines));
                current = None;
            }
            Some(lines) => lines.push(line),
        }
    }
    assert!(current.is_none(), "unterminated {tag} block");
    assert_eq!(blocks.len(), 1, "exactly one {tag} block");
    let mut map = std::collections::BTreeMap::new();
    for line in &blocks[0] {
        if line.trim().is_empty() {
            continue;
        }
        let (name, value) = line.split_once('=').expect("name = value");
        let old = map.insert(name.trim().to_string(), value.trim().to_string());
        assert!(old.is_none(), "duplicate vector {name}");
    }
    map
}
