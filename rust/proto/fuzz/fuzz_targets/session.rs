//! Fuzzes the state machine of either role with an arbitrary sequence of
//! events: channel up, raw bytes on either channel, genuine peer records
//! (possibly on the wrong channel, in any chunking, with one byte flipped),
//! timer, close. Checks the API invariants after every event and that the
//! session always ends in completion or a defined failure.
//!
//! Input: byte 0 bit 0 = role (0 client, 1 server); then operations, each
//! an opcode byte (mod 8) and its operands:
//!   0 / 1     channel 1 / 2 up
//!   2 / 3     raw bytes on channel 1 / 2: length byte (mod 80), bytes
//!   4 b       genuine peer record b % 3, on the other channel if b & 0x80,
//!             in chunks of ((b >> 2) & 0x1f) + 1 bytes
//!   5         timer expired
//!   6         peer closed
//!   7 b p x   as 4, with byte p (mod length) XORed with x
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use smkex_proto::{
    expected_send_bytes, Action, Channel, FailureReason, Role, Session, Status, MAX_RECORD_LEN,
    RANDOM_LEN,
};

const CLIENT_RANDOM: [u8; RANDOM_LEN] = [0x11; RANDOM_LEN];
const SERVER_RANDOM: [u8; RANDOM_LEN] = [0x22; RANDOM_LEN];

struct Reference {
    /// What a server receives: X (1), N_C (2), Finished (1).
    to_server: [(Channel, Vec<u8>); 3],
    /// What a client receives: Y (1), N_S‖h (2), and Y again.
    to_client: [(Channel, Vec<u8>); 3],
}

fn drain(s: &mut Session, out: &mut Vec<(Channel, Vec<u8>)>) -> Option<FailureReason> {
    let mut buf = [0u8; MAX_RECORD_LEN];
    loop {
        match s.poll(&mut buf) {
            Action::Idle => return None,
            Action::Send { channel, len } => out.push((channel, buf[..len].to_vec())),
            Action::Fail(r) => return Some(r),
            Action::ArmTimer { .. } | Action::Complete => {}
        }
    }
}

/// The genuine handshake between the two fixed randoms.
fn reference() -> &'static Reference {
    static R: OnceLock<Reference> = OnceLock::new();
    R.get_or_init(|| {
        let mut c = Session::new(Role::Client, &CLIENT_RANDOM);
        let mut s = Session::new(Role::Server, &SERVER_RANDOM);
        let (mut co, mut so) = (Vec::new(), Vec::new());
        c.channel_up(Channel::One);
        c.channel_up(Channel::Two);
        drain(&mut c, &mut co);
        for (ch, r) in &co {
            s.receive(*ch, r);
        }
        drain(&mut s, &mut so);
        for (ch, r) in &so {
            c.receive(*ch, r);
        }
        drain(&mut c, &mut co);
        assert_eq!(c.status(), Status::Complete);
        Reference {
            to_server: [co[0].clone(), co[1].clone(), co[2].clone()],
            to_client: [so[0].clone(), so[1].clone(), so[0].clone()],
        }
    })
}

/// Takes the next input byte.
fn next(rest: &mut &[u8]) -> Option<u8> {
    let (&b, r) = rest.split_first()?;
    *rest = r;
    Some(b)
}

struct Driver {
    s: Session,
    completions: u32,
    failures: u32,
    timers: u32,
    sent: [usize; 2],
}

impl Driver {
    fn pump(&mut self) {
        let mut buf = [0u8; MAX_RECORD_LEN];
        for _ in 0..16 {
            match self.s.poll(&mut buf) {
                Action::Idle => return self.check(),
                Action::Send { channel, len } => {
                    assert!(len > 0 && len <= MAX_RECORD_LEN);
                    self.sent[channel as usize - 1] += len;
                }
                Action::ArmTimer { .. } => self.timers += 1,
                Action::Complete => self.completions += 1,
                Action::Fail(_) => self.failures += 1,
            }
        }
        panic!("poll did not go idle");
    }

    fn check(&self) {
        assert!(self.completions <= 1 && self.failures <= 1 && self.timers <= 1);
        assert!(self.completions + self.failures <= 1);
        let role = self.s.role();
        for ch in [Channel::One, Channel::Two] {
            assert!(self.sent[ch as usize - 1] <= expected_send_bytes(role, ch));
            assert_eq!(self.sent[ch as usize - 1], self.s.bytes_sent(ch) as usize);
        }
        match self.s.status() {
            Status::Complete => {
                assert_eq!(self.completions, 1);
                assert!(self.s.session_key().is_some());
                for ch in [Channel::One, Channel::Two] {
                    assert_eq!(self.sent[ch as usize - 1], expected_send_bytes(role, ch));
                }
            }
            Status::Failed(r) => {
                assert_eq!(self.failures, 1);
                assert_eq!(FailureReason::from_code(r.code()), Some(r));
                assert!(self.s.session_key().is_none());
            }
            Status::Handshaking => assert!(self.s.session_key().is_none()),
        }
    }

    fn receive(&mut self, ch: Channel, bytes: &[u8]) {
        let before = self.s.status();
        let n = self.s.receive(ch, bytes);
        assert!(n <= bytes.len());
        if before != Status::Handshaking {
            assert_eq!(n, 0);
        } else if self.s.status() == Status::Handshaking {
            assert_eq!(n, bytes.len());
        }
        self.pump();
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let role = if first & 1 == 0 {
        Role::Client
    } else {
        Role::Server
    };
    let random = if role == Role::Client {
        CLIENT_RANDOM
    } else {
        SERVER_RANDOM
    };
    let reference = reference();
    let records = if role == Role::Client {
        &reference.to_client
    } else {
        &reference.to_server
    };
    let mut d = Driver {
        s: Session::new(role, &random),
        completions: 0,
        failures: 0,
        timers: 0,
        sent: [0; 2],
    };
    d.pump();
    while let Some(op) = next(&mut rest) {
        match op % 8 {
            0 => d.s.channel_up(Channel::One),
            1 => d.s.channel_up(Channel::Two),
            2 | 3 => {
                let ch = if op % 8 == 2 {
                    Channel::One
                } else {
                    Channel::Two
                };
                let len = usize::from(next(&mut rest).unwrap_or(0) % 80).min(rest.len());
                let (bytes, r) = rest.split_at(len);
                rest = r;
                d.receive(ch, bytes);
            }
            4 | 7 => {
                let b = next(&mut rest).unwrap_or(0);
                let (natural, rec) = &records[usize::from(b % 3)];
                let mut rec = rec.clone();
                if op % 8 == 7 {
                    let p = usize::from(next(&mut rest).unwrap_or(0)) % rec.len();
                    rec[p] ^= next(&mut rest).unwrap_or(1);
                }
                let ch = if b & 0x80 != 0 {
                    natural.other()
                } else {
                    *natural
                };
                let chunk = usize::from((b >> 2) & 0x1f) + 1;
                for piece in rec.chunks(chunk) {
                    d.receive(ch, piece);
                }
            }
            5 => d.s.timer_expired(),
            _ => d.s.peer_closed(Channel::One),
        }
        d.pump();
    }
    d.s.timer_expired();
    d.pump();
    assert_ne!(d.s.status(), Status::Handshaking);
    let mut out = [0u8; 16];
    assert_eq!(
        d.s.export(b"l", b"c", &mut out).is_ok(),
        d.s.status() == Status::Complete
    );
});
