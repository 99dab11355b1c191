//! The sans-I/O SMKEX v1 state machine for both roles.
//!
//! A [`Session`] is one fixed-size plain value: no references, no heap. The
//! caller feeds events ([`Session::channel_up`], [`Session::receive`],
//! [`Session::timer_expired`], [`Session::peer_closed`]) and then drains
//! [`Session::poll`] until it returns [`Action::Idle`]. See
//! Documentation/protocol.md §5 for the state machine.

use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroize;

use crate::record::{self, RecordType, HASH_LEN, KEY_SHARE_LEN, MAX_RECORD_LEN, NONCE_LEN};
use crate::schedule::{
    self, ExportError, KeySchedule, EXPORTER_SECRET_LEN, RECORD_SECRET_LEN, SESSION_KEY_LEN,
};
use crate::{Channel, FailureReason, Role};

/// Bytes of caller-supplied randomness per session: 32 bytes of X25519
/// private scalar followed by the 32-byte nonce.
pub const RANDOM_LEN: usize = 64;
/// Handshake timeout used by [`Session::new`], in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;

/// What the caller must do next. Returned by [`Session::poll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing to do until the next event.
    Idle,
    /// Send the first `len` bytes of the poll buffer on `channel`, and only
    /// there (never reinjected on another subflow).
    Send {
        /// The channel (subflow) to send on.
        channel: Channel,
        /// Bytes written at the start of the poll buffer.
        len: usize,
    },
    /// Arm the handshake timer; call [`Session::timer_expired`] when it fires.
    ArmTimer {
        /// Timeout from now, in milliseconds.
        millis: u32,
    },
    /// The handshake completed: the secrets are available from
    /// [`Session::session_key`], [`Session::exporter_secret`],
    /// [`Session::record_secret`], [`Session::transcript_hash`] and
    /// [`Session::export`]. Reported once.
    Complete,
    /// The handshake failed; the session is dead. Reported once.
    Fail(FailureReason),
}

/// Where a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The handshake is running.
    Handshaking,
    /// The handshake completed; secrets are available.
    Complete,
    /// The handshake failed with this reason.
    Failed(FailureReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Records still to be exchanged.
    Handshaking,
    /// Client only: h verified and keys derived; the Finished is queued and
    /// the session completes when it has been handed out by `poll`.
    Finishing,
    Complete,
    Failed(FailureReason),
}

/// Reassembly buffer of one channel: the bytes of the record in progress.
#[derive(Clone)]
struct RxBuf {
    buf: [u8; MAX_RECORD_LEN],
    len: usize,
}

impl RxBuf {
    const fn new() -> Self {
        RxBuf {
            buf: [0; MAX_RECORD_LEN],
            len: 0,
        }
    }
}

/// One SMKEX handshake, either role. Fixed size, no references, no heap;
/// secrets are zeroized when it is dropped or fails.
#[derive(Clone)]
pub struct Session {
    role: Role,
    phase: Phase,
    timeout_ms: u32,
    secret: StaticSecret,
    /// X for the client, Y for the server.
    own_share: [u8; KEY_SHARE_LEN],
    /// N_C for the client, N_S for the server.
    own_nonce: [u8; NONCE_LEN],
    /// Y for the client, X for the server.
    peer_share: [u8; KEY_SHARE_LEN],
    /// N_S for the client, N_C for the server.
    peer_nonce: [u8; NONCE_LEN],
    /// Client only: the h received from the server.
    peer_hash: [u8; HASH_LEN],
    /// Z = X25519(own secret, peer share), computed as soon as the peer's
    /// share arrives: off the critical path, as the server's (1) comes
    /// about three RTTs before (2) and the client's (3) before (4). It is
    /// judged (all-zero: LowOrderKey) only where §5 says, once both records
    /// are in, so the failure reasons and their order do not change.
    shared: [u8; 32],
    keys: KeySchedule,
    /// Bit set (RecordType::bit) of records received / queued / sent.
    received: u8,
    pending: u8,
    sent: u8,
    /// Bit 0: channel 1 usable; bit 1: channel 2 usable.
    up: u8,
    timer_pending: bool,
    complete_pending: bool,
    fail_pending: bool,
    rx: [RxBuf; 2],
    bytes_received: [u32; 2],
    bytes_sent: [u32; 2],
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // No secrets in debug output.
        f.debug_struct("Session")
            .field("role", &self.role)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

const fn channel_index(channel: Channel) -> usize {
    match channel {
        Channel::One => 0,
        Channel::Two => 1,
    }
}

const fn channel_bit(channel: Channel) -> u8 {
    match channel {
        Channel::One => 1,
        Channel::Two => 2,
    }
}

impl Session {
    /// A new session for `role` with the handshake timeout
    /// [`DEFAULT_TIMEOUT_MS`]. `random` must be fresh uniformly random
    /// bytes: the first 32 are the X25519 private scalar, the last 32 the
    /// nonce. Computes the key share (one X25519 base-point multiplication,
    /// ~20 µs): call it where crypto is allowed (not in atomic context).
    pub fn new(role: Role, random: &[u8; RANDOM_LEN]) -> Session {
        Session::with_timeout(role, random, DEFAULT_TIMEOUT_MS)
    }

    /// As [`Session::new`], with the handshake timeout in milliseconds.
    pub fn with_timeout(role: Role, random: &[u8; RANDOM_LEN], timeout_ms: u32) -> Session {
        let (scalar_bytes, nonce_bytes) = random.split_at(32);
        let mut scalar = [0u8; 32];
        scalar.copy_from_slice(scalar_bytes);
        let mut own_nonce = [0u8; NONCE_LEN];
        own_nonce.copy_from_slice(nonce_bytes);
        let secret = StaticSecret::from(scalar);
        scalar.zeroize();
        let own_share = PublicKey::from(&secret).to_bytes();
        let pending = match role {
            // The client's records go out as soon as their channel is up.
            Role::Client => RecordType::ClientKeyShare.bit() | RecordType::ClientNonce.bit(),
            Role::Server => 0,
        };
        Session {
            role,
            phase: Phase::Handshaking,
            timeout_ms,
            secret,
            own_share,
            own_nonce,
            peer_share: [0; KEY_SHARE_LEN],
            peer_nonce: [0; NONCE_LEN],
            peer_hash: [0; HASH_LEN],
            shared: [0; 32],
            keys: KeySchedule::empty(),
            received: 0,
            pending,
            sent: 0,
            up: 0,
            timer_pending: true,
            complete_pending: false,
            fail_pending: false,
            rx: [RxBuf::new(), RxBuf::new()],
            bytes_received: [0; 2],
            bytes_sent: [0; 2],
        }
    }

    /// This session's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The session's status.
    pub fn status(&self) -> Status {
        match self.phase {
            Phase::Handshaking | Phase::Finishing => Status::Handshaking,
            Phase::Complete => Status::Complete,
            Phase::Failed(reason) => Status::Failed(reason),
        }
    }

    fn running(&self) -> bool {
        matches!(self.phase, Phase::Handshaking | Phase::Finishing)
    }

    /// Event: `channel` (its subflow) can carry data. The client's record
    /// for that channel (queued since creation) is handed out by the next
    /// [`Session::poll`]. Data received on a channel also marks it usable.
    pub fn channel_up(&mut self, channel: Channel) {
        self.up |= channel_bit(channel);
    }

    /// Event: the handshake timer expired. Fails an unfinished handshake
    /// with [`FailureReason::Timeout`]; ignored otherwise.
    pub fn timer_expired(&mut self) {
        if self.running() {
            self.fail(FailureReason::Timeout);
        }
    }

    /// Event: the peer closed or reset `channel` (or the connection).
    /// Fails an unfinished handshake with [`FailureReason::PeerClosed`];
    /// ignored otherwise.
    pub fn peer_closed(&mut self, _channel: Channel) {
        if self.running() {
            self.fail(FailureReason::PeerClosed);
        }
    }

    /// Event: the caller detected a failure the core cannot see (e.g.
    /// [`FailureReason::ChannelIntegrity`] from the per-subflow byte
    /// accounting, or [`FailureReason::LocalError`]). Fails an unfinished
    /// handshake with `reason` (zeroizing its secrets, reported once by
    /// `poll`); ignored once the session is complete or failed.
    pub fn abort(&mut self, reason: FailureReason) {
        if self.running() {
            self.fail(reason);
        }
    }

    /// Event: `data` arrived on `channel`, in any split. Returns how many
    /// bytes belong to the handshake: all of them while the handshake runs
    /// (or up to and including the byte that failed it); after the server
    /// accepts the Finished, the rest of `data` is application data and is
    /// not consumed. Returns 0 once the session is complete or failed.
    pub fn receive(&mut self, channel: Channel, data: &[u8]) -> usize {
        if self.running() {
            // Data on a channel proves the channel exists.
            self.up |= channel_bit(channel);
        }
        let mut consumed = 0;
        for &byte in data {
            if !self.running() {
                break;
            }
            consumed += 1;
            let idx = channel_index(channel);
            if let Some(count) = self.bytes_received.get_mut(idx) {
                *count = count.saturating_add(1);
            }
            if let Err(reason) = self.push_byte(channel, byte) {
                self.fail(reason);
            }
        }
        consumed
    }

    /// Handshake bytes received on `channel` so far (counted up to and
    /// including a failing byte).
    pub fn bytes_received(&self, channel: Channel) -> u32 {
        self.bytes_received
            .get(channel_index(channel))
            .copied()
            .unwrap_or(0)
    }

    /// Handshake bytes handed out for sending on `channel` so far.
    pub fn bytes_sent(&self, channel: Channel) -> u32 {
        self.bytes_sent
            .get(channel_index(channel))
            .copied()
            .unwrap_or(0)
    }

    /// The next action. Call repeatedly after every event until it returns
    /// [`Action::Idle`]. For [`Action::Send`], the record is written to the
    /// start of `out`.
    pub fn poll(&mut self, out: &mut [u8; MAX_RECORD_LEN]) -> Action {
        if let Phase::Failed(reason) = self.phase {
            if self.fail_pending {
                self.fail_pending = false;
                return Action::Fail(reason);
            }
            return Action::Idle;
        }
        if self.timer_pending {
            self.timer_pending = false;
            return Action::ArmTimer {
                millis: self.timeout_ms,
            };
        }
        for ty in RecordType::ALL {
            if self.pending & ty.bit() != 0 && self.up & channel_bit(ty.channel()) != 0 {
                return match self.emit(ty, out) {
                    Ok(len) => Action::Send {
                        channel: ty.channel(),
                        len,
                    },
                    Err(reason) => {
                        out.zeroize();
                        self.fail(reason);
                        self.fail_pending = false;
                        Action::Fail(reason)
                    }
                };
            }
        }
        if self.phase == Phase::Finishing && self.pending == 0 {
            self.phase = Phase::Complete;
            self.complete_pending = true;
        }
        if self.complete_pending {
            self.complete_pending = false;
            return Action::Complete;
        }
        Action::Idle
    }

    fn emit(
        &mut self,
        ty: RecordType,
        out: &mut [u8; MAX_RECORD_LEN],
    ) -> Result<usize, FailureReason> {
        let mut body = [0u8; MAX_RECORD_LEN];
        let body_len = ty.body_len();
        {
            let dst = body.get_mut(..body_len).ok_or(FailureReason::Internal)?;
            match ty {
                RecordType::ClientKeyShare | RecordType::ServerKeyShare => {
                    dst.copy_from_slice(&self.own_share)
                }
                RecordType::ClientNonce => dst.copy_from_slice(&self.own_nonce),
                RecordType::ServerNonceHash => {
                    let (n, h) = dst.split_at_mut(NONCE_LEN);
                    n.copy_from_slice(&self.own_nonce);
                    h.copy_from_slice(&self.keys.transcript_hash);
                }
                RecordType::ClientFinished => {
                    let mut mac = self.keys.client_finished().ok_or(FailureReason::Internal)?;
                    dst.copy_from_slice(&mac);
                    mac.zeroize();
                }
            }
        }
        let result = record::encode(
            ty,
            body.get(..body_len).ok_or(FailureReason::Internal)?,
            out,
        );
        body.zeroize();
        let len = result?;
        self.pending &= !ty.bit();
        self.sent |= ty.bit();
        if let Some(count) = self.bytes_sent.get_mut(channel_index(ty.channel())) {
            *count = count.saturating_add(len as u32);
        }
        Ok(len)
    }

    /// Whether this side may receive `ty` now; errors say why not.
    fn check_acceptable(&self, ty: RecordType, channel: Channel) -> Result<(), FailureReason> {
        if ty.sender() == self.role {
            return Err(FailureReason::UnexpectedRecord);
        }
        if ty.channel() != channel {
            return Err(FailureReason::WrongChannel);
        }
        if self.received & ty.bit() != 0 {
            return Err(FailureReason::DuplicateRecord);
        }
        let ready = match ty {
            // The server answers only after both client records, so a
            // server record before the client sent both is out of order.
            RecordType::ServerKeyShare | RecordType::ServerNonceHash => {
                let both = RecordType::ClientKeyShare.bit() | RecordType::ClientNonce.bit();
                self.sent & both == both
            }
            RecordType::ClientKeyShare | RecordType::ClientNonce => true,
            RecordType::ClientFinished => {
                let both = RecordType::ServerKeyShare.bit() | RecordType::ServerNonceHash.bit();
                self.sent & both == both
            }
        };
        if ready {
            Ok(())
        } else {
            Err(FailureReason::OutOfOrderRecord)
        }
    }

    fn push_byte(&mut self, channel: Channel, byte: u8) -> Result<(), FailureReason> {
        let idx = channel_index(channel);
        let rx = self.rx.get_mut(idx).ok_or(FailureReason::Internal)?;
        let pos = rx.len;
        *rx.buf.get_mut(pos).ok_or(FailureReason::Internal)? = byte;
        rx.len = pos + 1;
        let filled = rx.buf.get(..rx.len).ok_or(FailureReason::Internal)?;
        let ty = record::check_header_prefix(filled)?.ok_or(FailureReason::Internal)?;
        if pos == 0 {
            self.check_acceptable(ty, channel)?;
        }
        let rx = self.rx.get_mut(idx).ok_or(FailureReason::Internal)?;
        if rx.len < ty.record_len() {
            return Ok(());
        }
        let mut body = [0u8; MAX_RECORD_LEN];
        let body_len = ty.body_len();
        body.get_mut(..body_len)
            .ok_or(FailureReason::Internal)?
            .copy_from_slice(
                rx.buf
                    .get(record::HEADER_LEN..ty.record_len())
                    .ok_or(FailureReason::Internal)?,
            );
        rx.buf.zeroize();
        rx.len = 0;
        self.received |= ty.bit();
        let result = self.on_record(ty, body.get(..body_len).ok_or(FailureReason::Internal)?);
        body.zeroize();
        result
    }

    fn on_record(&mut self, ty: RecordType, body: &[u8]) -> Result<(), FailureReason> {
        match ty {
            RecordType::ClientKeyShare | RecordType::ServerKeyShare => {
                copy_exact(&mut self.peer_share, body)?;
                self.shared = *self
                    .secret
                    .diffie_hellman(&PublicKey::from(self.peer_share))
                    .as_bytes();
            }
            RecordType::ClientNonce => copy_exact(&mut self.peer_nonce, body)?,
            RecordType::ServerNonceHash => {
                let (n, h) = body
                    .split_at_checked(NONCE_LEN)
                    .ok_or(FailureReason::Internal)?;
                copy_exact(&mut self.peer_nonce, n)?;
                copy_exact(&mut self.peer_hash, h)?;
            }
            RecordType::ClientFinished => {
                return if self.keys.verify_client_finished(body) {
                    self.phase = Phase::Complete;
                    self.complete_pending = true;
                    Ok(())
                } else {
                    Err(FailureReason::BadFinished)
                };
            }
        }
        match self.role {
            Role::Server => {
                let both = RecordType::ClientKeyShare.bit() | RecordType::ClientNonce.bit();
                if self.received & both == both {
                    self.server_respond()?;
                }
            }
            Role::Client => {
                let both = RecordType::ServerKeyShare.bit() | RecordType::ServerNonceHash.bit();
                if self.received & both == both {
                    self.client_finish()?;
                }
            }
        }
        Ok(())
    }

    /// Z, computed when the peer's share arrived; all-zero Z fails.
    fn shared_secret(&self) -> Result<[u8; 32], FailureReason> {
        if bool::from(self.shared.ct_eq(&[0u8; 32])) {
            return Err(FailureReason::LowOrderKey);
        }
        Ok(self.shared)
    }

    fn server_respond(&mut self) -> Result<(), FailureReason> {
        let mut z = self.shared_secret()?;
        let h = schedule::binding_hash(
            &self.peer_share,
            &self.peer_nonce,
            &self.own_share,
            &self.own_nonce,
        );
        let keys = KeySchedule::derive(&z, &self.peer_nonce, &self.own_nonce, &h);
        z.zeroize();
        self.shared.zeroize();
        self.keys = keys.ok_or(FailureReason::Internal)?;
        self.pending |= RecordType::ServerKeyShare.bit() | RecordType::ServerNonceHash.bit();
        Ok(())
    }

    fn client_finish(&mut self) -> Result<(), FailureReason> {
        let h = schedule::binding_hash(
            &self.own_share,
            &self.own_nonce,
            &self.peer_share,
            &self.peer_nonce,
        );
        if !bool::from(h.ct_eq(&self.peer_hash)) {
            return Err(FailureReason::BindingHashMismatch);
        }
        let mut z = self.shared_secret()?;
        let keys = KeySchedule::derive(&z, &self.own_nonce, &self.peer_nonce, &h);
        z.zeroize();
        self.shared.zeroize();
        self.keys = keys.ok_or(FailureReason::Internal)?;
        self.pending |= RecordType::ClientFinished.bit();
        self.phase = Phase::Finishing;
        Ok(())
    }

    fn fail(&mut self, reason: FailureReason) {
        self.phase = Phase::Failed(reason);
        self.fail_pending = true;
        self.pending = 0;
        self.timer_pending = false;
        self.complete_pending = false;
        self.keys.zeroize();
        self.shared.zeroize();
        for rx in self.rx.iter_mut() {
            rx.buf.zeroize();
            rx.len = 0;
        }
    }

    fn complete_keys(&self) -> Option<&KeySchedule> {
        match self.phase {
            Phase::Complete => Some(&self.keys),
            _ => None,
        }
    }

    /// The 32-byte session key, once complete.
    pub fn session_key(&self) -> Option<&[u8; SESSION_KEY_LEN]> {
        self.complete_keys().map(|k| &k.session_key)
    }

    /// The 32-byte exporter secret, once complete.
    pub fn exporter_secret(&self) -> Option<&[u8; EXPORTER_SECRET_LEN]> {
        self.complete_keys().map(|k| &k.exporter_secret)
    }

    /// The 32-byte record secret, once complete (exactly when
    /// [`Session::session_key`] is available): the input of
    /// [`crate::records::RecordKeys::derive`], and what the get-only socket
    /// option `SMKEX_RECORD_SECRET` hands to outside decoders.
    pub fn record_secret(&self) -> Option<&[u8; RECORD_SECRET_LEN]> {
        self.complete_keys().map(|k| &k.record_secret)
    }

    /// The transcript (binding) hash h, once complete.
    pub fn transcript_hash(&self) -> Option<&[u8; HASH_LEN]> {
        self.complete_keys().map(|k| &k.transcript_hash)
    }

    /// This side's key share (X or Y); public.
    pub fn own_key_share(&self) -> &[u8; KEY_SHARE_LEN] {
        &self.own_share
    }

    /// Exporter: fills `out` (0..=255 bytes) with keying material for
    /// (`label`, `context`). Fails before completion, for more than 255
    /// bytes, or for a label longer than 255 bytes.
    pub fn export(&self, label: &[u8], context: &[u8], out: &mut [u8]) -> Result<(), ExportError> {
        let keys = self.complete_keys().ok_or(ExportError::NotComplete)?;
        schedule::export(&keys.exporter_secret, label, context, out)
    }
}

fn copy_exact(dst: &mut [u8], src: &[u8]) -> Result<(), FailureReason> {
    if dst.len() != src.len() {
        return Err(FailureReason::Internal);
    }
    dst.copy_from_slice(src);
    Ok(())
}

impl Drop for Session {
    fn drop(&mut self) {
        // `secret` (StaticSecret) and `keys` (KeySchedule) zeroize
        // themselves; the rest is wiped here.
        self.own_nonce.zeroize();
        self.peer_nonce.zeroize();
        self.peer_share.zeroize();
        self.peer_hash.zeroize();
        self.shared.zeroize();
        for rx in self.rx.iter_mut() {
            rx.buf.zeroize();
        }
    }
}
