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
