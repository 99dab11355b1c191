// SPDX-License-Identifier: GPL-2.0

//! The SOL_SMKEX options (Documentation/api.md). Values are validated by
//! `smkex_logic::options`; every failure gets a precise errno, is counted
//! (`OptInvalid`, `OptFault`, ...) and logged under dynamic debug.

use kernel::bindings;
use kernel::prelude::*;
use kernel::uaccess::{UserPtr, UserSlice};
use smkex_logic::counters::{option_error, Counter};
use smkex_logic::errno::{key_not_ready, Errno};
use smkex_logic::Zeroize;
use smkex_logic::options::{
    self, enable_value, get_len, int_value, timeout_value, too_late, PeerAddrs, EXPORT_SIZE, INFO_SIZE,
    PEER_ADDRS_MAX_BYTES,
};
use smkex_proto::ExportError;
use smkex_uapi::{
    state, SmkexInfo, SMKEX_ENABLE, SMKEX_EXPORT, SMKEX_EXPORT_MAX_CONTEXT, SMKEX_EXPORT_MAX_LABEL, SMKEX_INFO,
    SMKEX_KEY_LEN, SMKEX_PEER_ADDRS, SMKEX_PROTOCOL_VERSION, SMKEX_RECORDS, SMKEX_RECORD_SECRET, SMKEX_SESSION_KEY,
    SMKEX_TIMEOUT_MS,
};

use crate::counters::{count, errno};
use crate::glue::{self, debug, OptVal, Sock};
use crate::state::{Inner, OwnedState, SmkexSock};

/// `TCP_CLOSE`.
const TCP_CLOSE: i32 = 7;

/// Counts and logs a failed request; the return value for the caller.
fn result(sk: Sock, dir: &str, optname: i32, r: Result<(), Errno>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => {
            count(sk, option_error(e));
            debug!("{}sockopt(SOL_SMKEX, {}) failed: {}", dir, optname, -errno(e));
            -errno(e)
        }
    }
}

/// setsockopt(SOL_SMKEX) on a socket taken over.
pub(crate) fn set(sk: Sock, optname: i32, optval: &OptVal, optlen: u32) -> i32 {
    result(sk, "set", optname, set_inner(sk, optname, optval, optlen))
}

fn set_inner(sk: Sock, optname: i32, optval: &OptVal, optlen: u32) -> Result<(), Errno> {
    let _lock = sk.lock();
    let ss = SmkexSock::of(sk).ok_or(Errno::NoProtoOpt)?;
    let mut inner = ss.inner.lock();
    let late = too_late(sk.tcp_state() == TCP_CLOSE, ss.state(), inner.role);
    match optname {
        SMKEX_ENABLE => {
            let on = enable_value(read_int(optval, optlen)?)?;
            if late {
                return Err(Errno::IsConn);
            }
            // An SMKEX socket needs MPTCP's data moves and subflow events watched.
            if on && !inner.hooks_held {
                glue::hooks_get().map_err(|_| Errno::NoMem)?;
                inner.hooks_held = true;
            } else if !on && inner.hooks_held {
                glue::hooks_put();
                inner.hooks_held = false;
            }
            ss.set_enabled(&mut inner, on);
            ss.set_state(&mut inner, if on { state::ENABLED } else { state::OFF });
            // Records ride on the handshake's keys: off with it.
            if !on {
                ss.records.set_on(false);
            }
            Ok(())
        }
        SMKEX_RECORDS => {
            let on = enable_value(read_int(optval, optlen)?)?;
            if late {
                return Err(Errno::IsConn);
            }
            // Keys come from the handshake: SMKEX_ENABLE first.
            if on && !ss.enabled() {
                return Err(Errno::Inval);
            }
            ss.records.set_on(on);
            Ok(())
        }
        SMKEX_PEER_ADDRS => {
            if late {
                return Err(Errno::IsConn);
            }
            let len = optlen as usize;
            PeerAddrs::entries_for_len(len)?;
            let mut bytes = [0u8; PEER_ADDRS_MAX_BYTES];
            let bytes = bytes.get_mut(..len).ok_or(Errno::Inval)?;
            if !bytes.is_empty() {
                optval.read(bytes).map_err(|_| Errno::Fault)?;
            }
            inner.peer_addrs = PeerAddrs::parse(bytes)?;
            Ok(())
        }
        SMKEX_TIMEOUT_MS => {
            let ms = timeout_value(read_int(optval, optlen)?)?;
            if late {
                return Err(Errno::IsConn);
            }
            inner.timeout_ms = ms;
            Ok(())
        }
        // Unknown, and the get-only options.
        _ => Err(Errno::NoProtoOpt),
    }
}

fn read_int(optval: &OptVal, optlen: u32) -> Result<i32, Errno> {
    if optlen as usize != core::mem::size_of::<i32>() {
        return Err(Errno::Inval);
    }
    let mut bytes = [0u8; 4];
    optval.read(&mut bytes).map_err(|_| Errno::Fault)?;
    int_value(&bytes)
}

/// The first setsockopt(SOL_SMKEX) of a socket: takes it over, then sets.
pub(crate) fn set_first(sk: Sock, optname: i32, optval: &OptVal, optlen: u32) -> i32 {
    let ss = match SmkexSock::new(sk, glue::param_timeout_ms()) {
        Ok(ss) => ss,
        Err(_) => return result(sk, "set", optname, Err(Errno::NoMem)),
    };
    let owned = OwnedState::new(ss);
    match attach(sk, &owned) {
        Ok(true) => {
            owned.published();
            count(sk, Counter::SocketsAttached);
        }
        // Dropping `owned` frees it: it was never published.
        Ok(false) => {}
        Err(e) => return result(sk, "set", optname, Err(e)),
    }
    set(sk, optname, optval, optlen)
}

/// Takes the socket over (glue): `Ok(false)` if a concurrent call did.
fn attach(sk: Sock, owned: &OwnedState) -> Result<bool, Errno> {
    match owned.attach(sk) {
        Ok(done) => Ok(done),
        Err(e) if e == -(bindings::EISCONN as i32) => Err(Errno::IsConn),
        Err(e) if e == -(bindings::EBUSY as i32) => Err(Errno::Busy),
        // Not an MPTCP socket, or MPTCP's proto is not the one we copied.
        Err(_) => Err(Errno::OpNotSupp),
    }
}

/// getsockopt(SOL_SMKEX), taken over or not. Not under the socket lock, so
/// that reading never waits for a send.
pub(crate) fn get(sk: Sock, optname: i32, optval: UserPtr, optlen: UserPtr) -> i32 {
    let r = match SmkexSock::of(sk) {
        Some(ss) => {
            let inner = ss.inner.lock();
            get_from(Some(ss), Some(&inner), optname, optval, optlen)
        }
        // Never taken over: "SMKEX off" with the default timeout.
        None => get_from(None, None, optname, optval, optlen),
    };
    result(sk, "get", optname, r)
}

fn put(optval: UserPtr, optlen: UserPtr, bytes: &[u8]) -> Result<(), Errno> {
    let len = i32::try_from(bytes.len()).map_err(|_| Errno::Inval)?;
    UserSlice::new(optlen, 4).writer().write(&len).map_err(|_| Errno::Fault)?;
    UserSlice::new(optval, bytes.len()).writer().write_slice(bytes).map_err(|_| Errno::Fault)
}

fn get_from(
    ss: Option<&SmkexSock>,
    inner: Option<&Inner>,
    optname: i32,
    optval: UserPtr,
    optlen: UserPtr,
) -> Result<(), Errno> {
    let len: i32 = UserSlice::new(optlen, 4).reader().read().map_err(|_| Errno::Fault)?;
    let smkex_state = ss.map_or(state::OFF, |ss| ss.state());
    let enabled = ss.is_some_and(|ss| ss.enabled());
    let n_peers = inner.map_or(0, |i| i.peer_addrs.len());
    let reply = get_len(optname, len, n_peers)?;
    let not_ready = || key_not_ready(smkex_state == state::FAILED);
    match optname {
        SMKEX_ENABLE | SMKEX_TIMEOUT_MS | SMKEX_RECORDS => {
            let val = match optname {
                SMKEX_ENABLE => i32::from(enabled),
                SMKEX_RECORDS => i32::from(ss.is_some_and(|ss| ss.records.on())),
                _ => inner.map_or(glue::param_timeout_ms(), |i| i.timeout_ms) as i32,
            };
            put(optval, optlen, &val.to_ne_bytes())
        }
        SMKEX_INFO => {
            let mut info = SmkexInfo { state: smkex_state, version: if enabled { SMKEX_PROTOCOL_VERSION } else { 0 }, ..SmkexInfo::default() };
            info.timeout_ms = glue::param_timeout_ms();
            if let Some(i) = inner {
                info.role = i.role;
                info.reason = i.reason;
                info.timeout_ms = i.timeout_ms;
                info.duration_us = i.duration_us;
                info.channel = i.channel;
                info.channel_up_us = i.channel_up_us;
                if smkex_state == state::COMPLETE {
                    if let Some(h) = i.session.as_ref().and_then(|s| s.transcript_hash()) {
                        info.transcript_hash = *h;
                    }
                }
            }
            if let Some(ss) = ss {
                info.records = u8::from(ss.records.on());
                (info.records_sent, info.records_received) = ss.records.counts();
            }
            let mut bytes = [0u8; INFO_SIZE];
            options::info_encode(&info, &mut bytes);
            put(optval, optlen, bytes.get(..reply).ok_or(Errno::Inval)?)
        }
        SMKEX_PEER_ADDRS => {
            let mut bytes = [0u8; PEER_ADDRS_MAX_BYTES];
            let list = match inner {
                Some(i) => i.peer_addrs.encode(&mut bytes),
                None => &[],
            };
            put(optval, optlen, list)
        }
        SMKEX_SESSION_KEY | SMKEX_RECORD_SECRET => {
            let session = inner.filter(|_| smkex_state == state::COMPLETE).and_then(|i| i.session.as_ref());
            let key = if optname == SMKEX_SESSION_KEY {
                session.and_then(|s| s.session_key())
            } else {
                session.and_then(|s| s.record_secret())
            }
            .ok_or_else(not_ready)?;
            let mut copy = [0u8; SMKEX_KEY_LEN];
            copy.copy_from_slice(key);
            let r = put(optval, optlen, &copy);
            copy.zeroize();
            r
        }
        SMKEX_EXPORT => {
            if smkex_state != state::COMPLETE {
                return Err(not_ready());
            }
            let session = inner.and_then(|i| i.session.as_ref()).ok_or_else(not_ready)?;
            export(session, optval, optlen)
        }
        _ => Err(Errno::NoProtoOpt),
    }
}

/// SMKEX_EXPORT: the request in the application's struct smkex_export,
/// answered in place. On the heap: the struct is three-quarters of a page.
fn export(session: &smkex_proto::Session, optval: UserPtr, optlen: UserPtr) -> Result<(), Errno> {
    let mut buf: KBox<[u8; EXPORT_SIZE]> =
        KBox::init(kernel::init::zeroed(), GFP_KERNEL).map_err(|_| Errno::NoMem)?;
    let r = export_in(session, &mut buf, optval, optlen);
    // Exporter output is key material.
    buf.zeroize();
    r
}

fn export_in(
    session: &smkex_proto::Session,
    buf: &mut [u8; EXPORT_SIZE],
    optval: UserPtr,
    optlen: UserPtr,
) -> Result<(), Errno> {
    UserSlice::new(optval, EXPORT_SIZE).reader().read_slice(buf.as_mut_slice()).map_err(|_| Errno::Fault)?;
    let [label_len, context_len, out_len, reserved, ..] = *buf;
    if reserved != 0 || out_len == 0 {
        return Err(Errno::Inval);
    }
    let (head, out) = buf.split_at_mut(4 + SMKEX_EXPORT_MAX_LABEL + SMKEX_EXPORT_MAX_CONTEXT);
    let label = head.get(4..4 + usize::from(label_len)).ok_or(Errno::Inval)?;
    let context_at = 4 + SMKEX_EXPORT_MAX_LABEL;
    let context = head.get(context_at..context_at + usize::from(context_len)).ok_or(Errno::Inval)?;
    let out = out.get_mut(..usize::from(out_len)).ok_or(Errno::Inval)?;
    match session.export(label, context, out) {
        Ok(()) => put(optval, optlen, buf.as_slice()),
        Err(ExportError::NotComplete) => Err(key_not_ready(false)),
        Err(ExportError::TooLong | ExportError::LabelTooLong) => Err(Errno::Inval),
    }
}
