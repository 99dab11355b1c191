// SPDX-License-Identifier: GPL-2.0

//! Load-time check of the protocol core through the C ABI the socket code
//! uses (the core's own self-test checks the values against the spec's
//! vectors; this checks the wiring): a client and a server session with
//! fresh random inputs run a whole handshake in kernel memory and must agree
//! on the session key, the transcript hash and an exporter output.

use kernel::prelude::*;

use crate::session::{Action, ProtoSession, Role, MAX_RECORD_LEN, RANDOM_LEN};

const TIMEOUT_MS: u32 = 10_000;

/// `EPROTO` (not among 6.12's kernel::error::code constants).
fn eproto() -> Error {
    Error::from_errno(-71)
}

fn random() -> [u8; RANDOM_LEN] {
    let mut random = [0u8; RANDOM_LEN];
    // SAFETY: `random` is RANDOM_LEN writable bytes; process context.
    unsafe { kernel::bindings::get_random_bytes(random.as_mut_ptr().cast(), random.len()) };
    random
}

/// Drains `from`'s actions, delivering its records to `to` on the same
/// channel. Returns whether `from` completed.
fn pump(from: &mut ProtoSession, to: &mut ProtoSession, buf: &mut [u8; MAX_RECORD_LEN]) -> Result<bool> {
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
                return Err(eproto());
            }
            Action::Complete => complete = true,
            Action::Fail(reason) => {
                pr_err!("self-test handshake failed with reason {}\n", reason);
                return Err(eproto());
            }
        }
    }
}

/// Runs the handshake; `Ok` only if both sides completed and agree.
pub(crate) fn abi_handshake() -> Result {
    let mut client = ProtoSession::new(Role::Client, &random(), TIMEOUT_MS)?;
    let mut server = ProtoSession::new(Role::Server, &random(), TIMEOUT_MS)?;
    for channel in [1, 2] {
        client.channel_up(channel)?;
        server.channel_up(channel)?;
    }
    let mut buf = [0u8; MAX_RECORD_LEN];
    let (mut client_done, mut server_done) = (false, false);
    // Three exchanges suffice (client shares, server shares, Finished).
    for _ in 0..4 {
        client_done |= pump(&mut client, &mut server, &mut buf)?;
        server_done |= pump(&mut server, &mut client, &mut buf)?;
    }
    let (mut client_out, mut server_out) = ([0u8; 32], [1u8; 32]);
    client.export(b"smkex self-test", b"abi", &mut client_out)?;
    server.export(b"smkex self-test", b"abi", &mut server_out)?;
    // Plain comparisons: these are throwaway keys of a self-test.
    let key = client.session_key();
    let agree = client_done
        && server_done
        && key.is_some()
        && key == server.session_key()
        && client.transcript_hash() == server.transcript_hash()
        && client_out == server_out;
    if agree { Ok(()) } else { Err(eproto()) }
}
