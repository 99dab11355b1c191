//! Validation of the `SOL_SMKEX` socket options (Documentation/api.md,
//! "Options"), from the bytes the application passed.
//!
//! The kernel side copies the user's bytes and asks here whether they are
//! acceptable; all it keeps to itself is the copying (`EFAULT`) and the
//! socket's state. The order of the checks is the module's:
//!
//! - `SMKEX_ENABLE`: [`int_value`], [`enable_value`], then [`too_late`];
//! - `SMKEX_TIMEOUT_MS`: [`int_value`], [`timeout_value`], then [`too_late`];
//! - `SMKEX_PEER_ADDRS`: [`too_late`], [`PeerAddrs::entries_for_len`]
//!   (before copying), then [`PeerAddrs::parse`];
//! - get: [`get_len`] first, then (key material) readiness, then for
//!   `SMKEX_EXPORT` [`export_request`].

use crate::errno::Errno;
use core::mem::size_of;
use smkex_uapi::{
    role, state, SmkexExport, SmkexInfo, SmkexPeerAddr, SMKEX_ENABLE, SMKEX_EXPORT,
    SMKEX_EXPORT_MAX_CONTEXT, SMKEX_EXPORT_MAX_LABEL, SMKEX_EXPORT_MAX_OUT, SMKEX_INFO,
    SMKEX_INFO_SIZE_V1, SMKEX_KEY_LEN, SMKEX_MAX_PEER_ADDRS, SMKEX_PEER_ADDRS, SMKEX_RECORDS, SMKEX_RECORD_SECRET, SMKEX_SESSION_KEY,
    SMKEX_TIMEOUT_MAX_MS, SMKEX_TIMEOUT_MIN_MS, SMKEX_TIMEOUT_MS,
};

/// `AF_INET`, the family of an IPv4 peer address.
pub const AF_INET: u16 = 2;
/// `AF_INET6`, the family of an IPv6 peer address.
pub const AF_INET6: u16 = 10;

/// Bytes of one `struct smkex_peer_addr`: option lengths are multiples.
pub const PEER_ADDR_SIZE: usize = size_of::<SmkexPeerAddr>();
/// Bytes of a full `SMKEX_PEER_ADDRS` list: the most the kernel copies.
pub const PEER_ADDRS_MAX_BYTES: usize = PEER_ADDR_SIZE * SMKEX_MAX_PEER_ADDRS;
/// Bytes of `struct smkex_export`: its option length must be exactly this.
pub const EXPORT_SIZE: usize = size_of::<SmkexExport>();

/// The `int` of `SMKEX_ENABLE` and `SMKEX_TIMEOUT_MS`: exactly
/// `sizeof(int)` bytes in the machine's byte order, else `EINVAL`.
pub fn int_value(bytes: &[u8]) -> Result<i32, Errno> {
    let raw: [u8; 4] = bytes.try_into().map_err(|_| Errno::Inval)?;
    Ok(i32::from_ne_bytes(raw))
}

/// `SMKEX_ENABLE`'s value: 0 or 1 only, so that other values stay free.
pub const fn enable_value(value: i32) -> Result<bool, Errno> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Errno::Inval),
    }
}

/// `SMKEX_TIMEOUT_MS`'s value: inside the documented range, so that a
/// handshake is neither cut short nor held for long.
pub const fn timeout_value(value: i32) -> Result<u32, Errno> {
    if value < SMKEX_TIMEOUT_MIN_MS || value > SMKEX_TIMEOUT_MAX_MS {
        return Err(Errno::Inval);
    }
    // In range, hence positive.
    Ok(value.unsigned_abs())
}

/// Options are settable only before `connect()` or `listen()`: `true`
/// (`EISCONN`) once the socket left the closed state (`socket_closed`:
/// `sk_state == TCP_CLOSE`), a handshake ran, or it listens.
pub const fn too_late(socket_closed: bool, smkex_state: u8, smkex_role: u8) -> bool {
    !socket_closed
        || (smkex_state != state::OFF && smkex_state != state::ENABLED)
        || smkex_role == role::LISTENER
}

/// Whether `optname` can be set at all (the others, and the get-only
/// ones, are `ENOPROTOOPT`).
pub const fn settable(optname: i32) -> bool {
    matches!(optname, SMKEX_ENABLE | SMKEX_TIMEOUT_MS | SMKEX_PEER_ADDRS | SMKEX_RECORDS)
}

/// Whether one peer address may be trusted for channel 2: a known family,
/// `reserved` zero, and a unicast address (an IPv4 one with its 12 unused
/// bytes zero, not in 0.0.0.0/8, 224.0.0.0/4 or 255.255.255.255; an IPv6
/// one not `::` nor in ff00::/8).
pub fn peer_addr_valid(pa: &SmkexPeerAddr) -> bool {
    if pa.reserved != 0 {
        return false;
    }
    match pa.family {
        AF_INET => {
            let [a, b, c, d, rest @ ..] = pa.addr;
            let zeronet = a == 0;
            let multicast = a & 0xf0 == 0xe0;
            let broadcast = [a, b, c, d] == [0xff; 4];
            rest.iter().all(|&x| x == 0) && !zeronet && !multicast && !broadcast
        }
        AF_INET6 => {
            let any = pa.addr.iter().all(|&x| x == 0);
            let multicast = pa.addr.first() == Some(&0xff);
            !any && !multicast
        }
        _ => false,
    }
}

/// The client's trusted server addresses for channel 2
/// (`SMKEX_PEER_ADDRS`), kept in the socket without allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddrs {
    /// The entries; those past `n` are zero.
    list: [SmkexPeerAddr; SMKEX_MAX_PEER_ADDRS],
    /// Entries in use.
    n: u8,
}

impl Default for PeerAddrs {
    fn default() -> Self {
        PeerAddrs::new()
    }
}

impl PeerAddrs {
    /// No address: only `connect()`'s own may carry channel 2.
    pub const fn new() -> PeerAddrs {
        const ZERO: SmkexPeerAddr = SmkexPeerAddr {
            family: 0,
            port: 0,
            reserved: 0,
            addr: [0; 16],
        };
        PeerAddrs {
            list: [ZERO; SMKEX_MAX_PEER_ADDRS],
            n: 0,
        }
    }

    /// How many entries an option of `optlen` bytes holds, checked before
    /// the kernel copies it: whole entries only, at most
    /// [`SMKEX_MAX_PEER_ADDRS`], else `EINVAL`.
    pub const fn entries_for_len(optlen: usize) -> Result<usize, Errno> {
        if !optlen.is_multiple_of(PEER_ADDR_SIZE) || optlen / PEER_ADDR_SIZE > SMKEX_MAX_PEER_ADDRS
        {
            return Err(Errno::Inval);
        }
        Ok(optlen / PEER_ADDR_SIZE)
    }

    /// The list an application set, from its bytes (`struct
    /// smkex_peer_addr` in the machine's layout): `EINVAL` for a length
    /// [`PeerAddrs::entries_for_len`] refuses or any entry
    /// [`peer_addr_valid`] refuses. Empty bytes clear the list.
    pub fn parse(bytes: &[u8]) -> Result<PeerAddrs, Errno> {
        Self::entries_for_len(bytes.len())?;
        let mut out = PeerAddrs::new();
        for (slot, chunk) in out.list.iter_mut().zip(bytes.chunks_exact(PEER_ADDR_SIZE)) {
            let pa = decode_peer_addr(chunk).ok_or(Errno::Inval)?;
            if !peer_addr_valid(&pa) {
                return Err(Errno::Inval);
            }
            *slot = pa;
            out.n = out.n.saturating_add(1);
        }
        Ok(out)
    }

    /// The entries in use.
    pub fn as_slice(&self) -> &[SmkexPeerAddr] {
        self.list.get(..usize::from(self.n)).unwrap_or(&[])
    }

    /// Number of entries.
    pub const fn len(&self) -> usize {
        self.n as usize
    }

    /// Whether no address was given (then a peer's C flag ends the
    /// handshake: its only trusted address forbids joins).
    pub const fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Bytes the list takes in `getsockopt`.
    pub const fn byte_len(&self) -> usize {
        (self.n as usize).saturating_mul(PEER_ADDR_SIZE)
    }

    /// The list as `getsockopt` returns it (the layout [`PeerAddrs::parse`]
    /// reads), written into `buf`; returns the bytes written.
    pub fn encode<'a>(&self, buf: &'a mut [u8; PEER_ADDRS_MAX_BYTES]) -> &'a [u8] {
        *buf = [0; PEER_ADDRS_MAX_BYTES];
        for (pa, chunk) in self
            .as_slice()
            .iter()
            .zip(buf.chunks_exact_mut(PEER_ADDR_SIZE))
        {
            let fields = pa
                .family
                .to_ne_bytes()
                .into_iter()
                .chain(pa.port.to_ne_bytes())
                .chain(pa.reserved.to_ne_bytes())
                .chain(pa.addr);
            for (dst, src) in chunk.iter_mut().zip(fields) {
                *dst = src;
            }
        }
        let len = self.byte_len();
        buf.get(..len).unwrap_or(&[])
    }
}

/// One `struct smkex_peer_addr` from its bytes (family, port as stored,
/// reserved, address), or `None` if `chunk` is not exactly one.
fn decode_peer_addr(chunk: &[u8]) -> Option<SmkexPeerAddr> {
    let (family, rest) = chunk.split_first_chunk::<2>()?;
    let (port, rest) = rest.split_first_chunk::<2>()?;
    let (reserved, rest) = rest.split_first_chunk::<4>()?;
    let addr: [u8; 16] = rest.try_into().ok()?;
    Some(SmkexPeerAddr {
        family: u16::from_ne_bytes(*family),
        // Network byte order in memory, kept as stored.
        port: u16::from_ne_bytes(*port),
        reserved: u32::from_ne_bytes(*reserved),
        addr,
    })
}

/// Is a subflow's remote end one the application listed? `family`,
/// `remote_port_be` and `remote_addr` are the subflow's (normalised: IPv4
/// in the first 4 bytes, rest zero); an entry's port 0 stands for the
/// `connect()` port `connect_port_be`. Ports as stored (network order).
pub fn peer_listed(
    list: &PeerAddrs,
    family: u16,
    remote_port_be: u16,
    remote_addr: &[u8; 16],
    connect_port_be: u16,
) -> bool {
    list.as_slice().iter().any(|pa| {
        let port = if pa.port != 0 {
            pa.port
        } else {
            connect_port_be
        };
        let len = if pa.family == AF_INET { 4 } else { 16 };
        pa.family == family
            && port == remote_port_be
            && pa.addr.get(..len) == remote_addr.get(..len)
    })
}

/// The length checks of a `getsockopt(SOL_SMKEX)` with buffer length
/// `len`, before anything else: `EINVAL` for a negative length or one too
/// small for the option, `ENOPROTOOPT` for an unknown option. On success,
/// the bytes the option writes back (and stores in `optlen`).
/// `n_peer_addrs` is the number of entries `SMKEX_PEER_ADDRS` returns.
pub fn get_len(optname: i32, len: i32, n_peer_addrs: usize) -> Result<usize, Errno> {
    let len = usize::try_from(len).map_err(|_| Errno::Inval)?;
    let (min, reply) = match optname {
        SMKEX_ENABLE | SMKEX_TIMEOUT_MS | SMKEX_RECORDS => (size_of::<i32>(), size_of::<i32>()),
        SMKEX_INFO => (SMKEX_INFO_SIZE_V1, len.min(size_of::<SmkexInfo>())),
        SMKEX_PEER_ADDRS => {
            let list = n_peer_addrs.saturating_mul(PEER_ADDR_SIZE);
            (list, list)
        }
        SMKEX_SESSION_KEY | SMKEX_RECORD_SECRET => (SMKEX_KEY_LEN, SMKEX_KEY_LEN),
        SMKEX_EXPORT => {
            if len != EXPORT_SIZE {
                return Err(Errno::Inval);
            }
            (EXPORT_SIZE, EXPORT_SIZE)
        }
        _ => return Err(Errno::NoProtoOpt),
    };
    if len < min {
        return Err(Errno::Inval);
    }
    Ok(reply)
}

/// `SMKEX_EXPORT`'s request as far as the module checks it: `reserved`
/// zero and at least one output byte, else `EINVAL`. The label and context
/// lengths are the exporter's to refuse.
pub const fn export_request(ex: &SmkexExport) -> Result<(), Errno> {
    if ex.reserved != 0 || ex.out_len == 0 {
        return Err(Errno::Inval);
    }
    Ok(())
}

/// A `struct smkex_export` from the application's bytes (every field is a
/// byte, so the layout is the order of the fields).
pub fn export_decode(bytes: &[u8; EXPORT_SIZE]) -> SmkexExport {
    let [label_len, context_len, out_len, reserved, rest @ ..] = *bytes;
    let mut ex = SmkexExport {
        label_len,
        context_len,
        out_len,
        reserved,
        label: [0; SMKEX_EXPORT_MAX_LABEL],
        context: [0; SMKEX_EXPORT_MAX_CONTEXT],
        out: [0; SMKEX_EXPORT_MAX_OUT],
    };
    let fields = ex
        .label
        .iter_mut()
        .chain(ex.context.iter_mut())
        .chain(ex.out.iter_mut());
    for (dst, src) in fields.zip(rest) {
        *dst = src;
    }
    ex
}

/// The bytes of a `struct smkex_export`, to write the answer back.
pub fn export_encode(ex: &SmkexExport, out: &mut [u8; EXPORT_SIZE]) {
    let head = [ex.label_len, ex.context_len, ex.out_len, ex.reserved];
    let fields = head
        .iter()
        .chain(&ex.label)
        .chain(&ex.context)
        .chain(&ex.out);
    for (dst, src) in out.iter_mut().zip(fields) {
        *dst = *src;
    }
}

/// Bytes of a `struct smkex_info`.
pub const INFO_SIZE: usize = size_of::<SmkexInfo>();

/// The bytes of a `struct smkex_info`, in its C layout (native endian;
/// ports and addresses are in network order already).
pub fn info_encode(info: &SmkexInfo, out: &mut [u8; INFO_SIZE]) {
    let mut w = Writer { out: out.as_mut_slice(), at: 0 };
    w.put(&[info.state, info.role, info.version, info.reason]);
    w.put(&info.timeout_ms.to_ne_bytes());
    w.put(&info.duration_us.to_ne_bytes());
    for ch in &info.channel {
        w.put(&ch.family.to_ne_bytes());
        w.put(&ch.local_port.to_ne_bytes());
        w.put(&ch.remote_port.to_ne_bytes());
        w.put(&ch.reserved.to_ne_bytes());
        w.put(&ch.local_addr);
        w.put(&ch.remote_addr);
    }
    w.put(&info.transcript_hash);
    for us in info.channel_up_us {
        w.put(&us.to_ne_bytes());
    }
    w.put(&[info.records]);
    w.put(&info.reserved2);
    w.put(&info.records_sent.to_ne_bytes());
    w.put(&info.records_received.to_ne_bytes());
}

/// Writes fields one after the other; what does not fit is dropped (the
/// layout test below checks that everything fits exactly).
struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.at.saturating_add(bytes.len());
        if let Some(dst) = self.out.get_mut(self.at..end) {
            dst.copy_from_slice(bytes);
        }
        self.at = end;
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

    fn v4(a: [u8; 4], port: u16) -> SmkexPeerAddr {
        let mut addr = [0; 16];
        addr[..4].copy_from_slice(&a);
        SmkexPeerAddr {
            family: AF_INET,
            port: port.to_be(),
            reserved: 0,
            addr,
        }
    }

    fn v6(addr: [u8; 16], port: u16) -> SmkexPeerAddr {
        SmkexPeerAddr {
            family: AF_INET6,
            port: port.to_be(),
            reserved: 0,
            addr,
        }
    }

    fn bytes_of(list: &[SmkexPeerAddr]) -> ([u8; 2 * PEER_ADDRS_MAX_BYTES], usize) {
        let mut out = [0u8; 2 * PEER_ADDRS_MAX_BYTES];
        for (i, pa) in list.iter().enumerate() {
            let c = &mut out[i * PEER_ADDR_SIZE..(i + 1) * PEER_ADDR_SIZE];
            c[0..2].copy_from_slice(&pa.family.to_ne_bytes());
            c[2..4].copy_from_slice(&pa.port.to_ne_bytes());
            c[4..8].copy_from_slice(&pa.reserved.to_ne_bytes());
            c[8..24].copy_from_slice(&pa.addr);
        }
        (out, list.len() * PEER_ADDR_SIZE)
    }

    const V6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

    #[test]
    fn int_value_needs_exactly_four_bytes() {
        assert_eq!(int_value(&7i32.to_ne_bytes()), Ok(7));
        assert_eq!(int_value(&(-1i32).to_ne_bytes()), Ok(-1));
        assert_eq!(int_value(&[]), Err(Errno::Inval));
        assert_eq!(int_value(&[1, 0, 0]), Err(Errno::Inval));
        assert_eq!(int_value(&[1, 0, 0, 0, 0]), Err(Errno::Inval));
        assert_eq!(int_value(&[0; 8]), Err(Errno::Inval));
    }

    #[test]
    fn enable_and_timeout_ranges() {
        assert_eq!(enable_value(0), Ok(false));
        assert_eq!(enable_value(1), Ok(true));
        assert_eq!(enable_value(2), Err(Errno::Inval));
        assert_eq!(enable_value(-1), Err(Errno::Inval));
        assert_eq!(timeout_value(100), Ok(100));
        assert_eq!(timeout_value(600_000), Ok(600_000));
        assert_eq!(timeout_value(99), Err(Errno::Inval));
        assert_eq!(timeout_value(600_001), Err(Errno::Inval));
        assert_eq!(timeout_value(0), Err(Errno::Inval));
        assert_eq!(timeout_value(i32::MIN), Err(Errno::Inval));
        assert_eq!(timeout_value(i32::MAX), Err(Errno::Inval));
    }

    #[test]
    fn too_late_after_connect_listen_or_a_handshake() {
        assert!(!too_late(true, state::OFF, role::NONE));
        assert!(!too_late(true, state::ENABLED, role::NONE));
        assert!(!too_late(true, state::ENABLED, role::CLIENT));
        assert!(too_late(false, state::OFF, role::NONE));
        assert!(too_late(true, state::HANDSHAKE, role::CLIENT));
        assert!(too_late(true, state::COMPLETE, role::CLIENT));
        assert!(too_late(true, state::FAILED, role::CLIENT));
        assert!(too_late(true, state::ENABLED, role::LISTENER));
    }

    #[test]
    fn settable_options() {
        assert!(settable(SMKEX_ENABLE));
        assert!(settable(SMKEX_TIMEOUT_MS));
        assert!(settable(SMKEX_PEER_ADDRS));
        assert!(!settable(SMKEX_INFO));
        assert!(!settable(SMKEX_SESSION_KEY));
        assert!(!settable(SMKEX_EXPORT));
        assert!(settable(SMKEX_RECORDS));
        assert!(!settable(SMKEX_RECORD_SECRET));
        assert!(!settable(0));
        assert!(!settable(8));
        assert!(!settable(9));
    }

    #[test]
    fn peer_addrs_accepts_and_round_trips() {
        let list = [v4([10, 1, 2, 1], 0), v6(V6, 7000), v4([192, 0, 2, 9], 443)];
        let (bytes, n) = bytes_of(&list);
        let parsed = PeerAddrs::parse(&bytes[..n]).unwrap();
        assert_eq!(parsed.as_slice(), &list);
        assert_eq!(parsed.len(), 3);
        assert!(!parsed.is_empty());
        assert_eq!(parsed.byte_len(), n);
        let mut buf = [0xaa; PEER_ADDRS_MAX_BYTES];
        assert_eq!(parsed.encode(&mut buf), &bytes[..n]);
        // Network byte order port, as stored.
        assert_eq!(
            &bytes[PEER_ADDR_SIZE + 2..PEER_ADDR_SIZE + 4],
            &7000u16.to_be_bytes()
        );
        // Empty clears; eight is the most.
        let empty = PeerAddrs::parse(&[]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.encode(&mut buf), &[] as &[u8]);
        let eight = [v4([10, 0, 0, 1], 1); 8];
        let (bytes, n) = bytes_of(&eight);
        assert_eq!(PeerAddrs::parse(&bytes[..n]).unwrap().len(), 8);
    }

    #[test]
    fn peer_addrs_lengths() {
        assert_eq!(PEER_ADDR_SIZE, 24);
        assert_eq!(PeerAddrs::entries_for_len(0), Ok(0));
        assert_eq!(PeerAddrs::entries_for_len(24), Ok(1));
        assert_eq!(PeerAddrs::entries_for_len(192), Ok(8));
        assert_eq!(PeerAddrs::entries_for_len(216), Err(Errno::Inval));
        assert_eq!(PeerAddrs::entries_for_len(23), Err(Errno::Inval));
        assert_eq!(PeerAddrs::entries_for_len(25), Err(Errno::Inval));
        assert_eq!(PeerAddrs::entries_for_len(usize::MAX), Err(Errno::Inval));
        let nine = [v4([10, 0, 0, 1], 1); 9];
        let (bytes, n) = bytes_of(&nine);
        assert_eq!(PeerAddrs::parse(&bytes[..n]), Err(Errno::Inval));
        let (bytes, _) = bytes_of(&nine[..1]);
        assert_eq!(PeerAddrs::parse(&bytes[..23]), Err(Errno::Inval));
        assert_eq!(PeerAddrs::parse(&bytes[..25]), Err(Errno::Inval));
    }

    #[test]
    fn peer_addrs_refuses_bad_entries() {
        let good = v4([10, 1, 2, 1], 0);
        let mut bad = [
            v4([0, 1, 2, 3], 0),                                        // 0.0.0.0/8
            v4([0, 0, 0, 0], 0),                                        // unspecified
            v4([224, 0, 0, 1], 0),                                      // multicast
            v4([239, 255, 255, 255], 0),                                // multicast
            v4([255, 255, 255, 255], 0),                                // broadcast
            v6([0; 16], 0),                                             // ::
            v6([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 0), // multicast
            SmkexPeerAddr { family: 0, ..good },
            SmkexPeerAddr { family: 1, ..good },
            SmkexPeerAddr { family: 3, ..good },
            SmkexPeerAddr {
                reserved: 1,
                ..good
            },
            good,
        ];
        // Bytes after an IPv4 address.
        bad[11].addr[4] = 1;
        for (i, pa) in bad.iter().enumerate() {
            assert!(!peer_addr_valid(pa), "entry {i}");
            // Refused anywhere in the list.
            let (bytes, n) = bytes_of(&[good, *pa]);
            assert_eq!(
                PeerAddrs::parse(&bytes[..n]),
                Err(Errno::Inval),
                "entry {i}"
            );
        }
        // Just inside the refused ranges.
        assert!(peer_addr_valid(&v4([1, 0, 0, 0], 0)));
        assert!(peer_addr_valid(&v4([223, 255, 255, 255], 0)));
        assert!(peer_addr_valid(&v4([240, 0, 0, 1], 0)));
        assert!(peer_addr_valid(&v4([255, 255, 255, 254], 0)));
        assert!(peer_addr_valid(&v6(
            [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            0
        )));
        let mut loopback = [0; 16];
        loopback[15] = 1;
        assert!(peer_addr_valid(&v6(loopback, 0)));
    }

    #[test]
    fn listed_addresses_and_the_connect_port() {
        let list = [v4([10, 1, 2, 1], 0), v6(V6, 7001)];
        let (bytes, n) = bytes_of(&list);
        let peers = PeerAddrs::parse(&bytes[..n]).unwrap();
        let mut a4 = [0; 16];
        a4[..4].copy_from_slice(&[10, 1, 2, 1]);
        let p = |x: u16| x.to_be();
        // Port 0: the connect port.
        assert!(peer_listed(&peers, AF_INET, p(7000), &a4, p(7000)));
        assert!(!peer_listed(&peers, AF_INET, p(7001), &a4, p(7000)));
        // Family must match.
        assert!(!peer_listed(&peers, AF_INET6, p(7000), &a4, p(7000)));
        // An explicit port is exact.
        assert!(peer_listed(&peers, AF_INET6, p(7001), &V6, p(7000)));
        assert!(!peer_listed(&peers, AF_INET6, p(7000), &V6, p(7000)));
        // Other addresses.
        let mut other = V6;
        other[15] = 2;
        assert!(!peer_listed(&peers, AF_INET6, p(7001), &other, p(7000)));
        let mut a4b = a4;
        a4b[3] = 2;
        assert!(!peer_listed(&peers, AF_INET, p(7000), &a4b, p(7000)));
        assert!(!peer_listed(
            &PeerAddrs::new(),
            AF_INET,
            p(7000),
            &a4,
            p(7000)
        ));
    }

    #[test]
    fn get_lengths() {
        use smkex_uapi::SMKEX_INFO_SIZE_V1 as V1;
        assert_eq!(get_len(SMKEX_ENABLE, 4, 0), Ok(4));
        assert_eq!(get_len(SMKEX_ENABLE, 100, 0), Ok(4));
        assert_eq!(get_len(SMKEX_ENABLE, 3, 0), Err(Errno::Inval));
        assert_eq!(get_len(SMKEX_TIMEOUT_MS, 3, 0), Err(Errno::Inval));
        assert_eq!(get_len(SMKEX_RECORDS, 4, 0), Ok(4));
        assert_eq!(get_len(SMKEX_RECORDS, 2, 0), Err(Errno::Inval));
        assert_eq!(get_len(SMKEX_RECORD_SECRET, 32, 0), Ok(32));
        assert_eq!(get_len(SMKEX_RECORD_SECRET, 31, 0), Err(Errno::Inval));
        assert_eq!(get_len(SMKEX_INFO, V1 as i32, 0), Ok(V1));
        // Between version 1 and the whole struct: what the caller asked.
        assert_eq!(get_len(SMKEX_INFO, V1 as i32 + 8, 0), Ok(V1 + 8));
        assert_eq!(get_len(SMKEX_INFO, V1 as i32 + 50, 0), Ok(INFO_SIZE));
        assert_eq!(get_len(SMKEX_INFO, V1 as i32 - 1, 0), Err(Errno::Inval));
        assert_eq!(get_len(SMKEX_PEER_ADDRS, 0, 0), Ok(0));
        assert_eq!(get_len(SMKEX_PEER_ADDRS, 48, 2), Ok(48));
        assert_eq!(get_len(SMKEX_PEER_ADDRS, 1000, 2), Ok(48));
        assert_eq!(get_len(SMKEX_PEER_ADDRS, 47, 2), Err(Errno::Inval));
        assert_eq!(get_len(SMKEX_SESSION_KEY, 32, 0), Ok(32));
        assert_eq!(get_len(SMKEX_SESSION_KEY, 64, 0), Ok(32));
        assert_eq!(get_len(SMKEX_SESSION_KEY, 31, 0), Err(Errno::Inval));
        assert_eq!(
            get_len(SMKEX_EXPORT, EXPORT_SIZE as i32, 0),
            Ok(EXPORT_SIZE)
        );
        assert_eq!(
            get_len(SMKEX_EXPORT, EXPORT_SIZE as i32 + 1, 0),
            Err(Errno::Inval)
        );
        assert_eq!(
            get_len(SMKEX_EXPORT, EXPORT_SIZE as i32 - 1, 0),
            Err(Errno::Inval)
        );
        assert_eq!(get_len(99, 4, 0), Err(Errno::NoProtoOpt));
        // A negative length is EINVAL before the option is looked at.
        assert_eq!(get_len(99, -1, 0), Err(Errno::Inval));
        assert_eq!(get_len(SMKEX_ENABLE, i32::MIN, 0), Err(Errno::Inval));
        assert_eq!(EXPORT_SIZE, 4 + 3 * 255);
    }

    #[test]
    fn export_requests() {
        let mut raw = [0u8; EXPORT_SIZE];
        raw[0] = 5; // label_len
        raw[1] = 2; // context_len
        raw[2] = 32; // out_len
        raw[4] = b'l';
        raw[4 + 255] = b'c';
        raw[4 + 510 + 31] = 0x77;
        let ex = export_decode(&raw);
        assert_eq!(
            (ex.label_len, ex.context_len, ex.out_len, ex.reserved),
            (5, 2, 32, 0)
        );
        assert_eq!(ex.label[0], b'l');
        assert_eq!(ex.context[0], b'c');
        assert_eq!(ex.out[31], 0x77);
        assert_eq!(export_request(&ex), Ok(()));
        let mut back = [0xffu8; EXPORT_SIZE];
        export_encode(&ex, &mut back);
        assert_eq!(back, raw);

        assert_eq!(
            export_request(&SmkexExport { out_len: 0, ..ex }),
            Err(Errno::Inval)
        );
        assert_eq!(
            export_request(&SmkexExport { reserved: 1, ..ex }),
            Err(Errno::Inval)
        );
        // Label and context lengths are not ours to refuse.
        assert_eq!(
            export_request(&SmkexExport {
                label_len: 255,
                context_len: 255,
                ..ex
            }),
            Ok(())
        );
    }

    #[test]
    fn info_encode_matches_the_c_layout() {
        let mut info = SmkexInfo {
            state: 3,
            role: 1,
            version: 1,
            reason: 0,
            timeout_ms: 0x0102_0304,
            duration_us: 0x1122_3344_5566_7788,
            ..SmkexInfo::default()
        };
        info.channel[1].family = AF_INET6;
        info.channel[1].remote_port = 0xabcd;
        info.channel[1].remote_addr[15] = 0x99;
        info.transcript_hash[31] = 0x77;
        info.channel_up_us = [0x0a0b, 0x0c0d_0e0f];
        info.records = 1;
        info.records_sent = 0x0102;
        info.records_received = 0x0304_0506;
        let mut out = [0u8; INFO_SIZE];
        info_encode(&info, &mut out);
        // Version 1's 128 bytes, then the appended channel times and records.
        assert_eq!(INFO_SIZE, 168);
        assert_eq!(&out[..4], &[3, 1, 1, 0]);
        assert_eq!(&out[4..8], &0x0102_0304u32.to_ne_bytes());
        assert_eq!(&out[8..16], &0x1122_3344_5566_7788u64.to_ne_bytes());
        // channel[1] starts after channel[0] (40 bytes) at 16 + 40.
        assert_eq!(&out[56..58], &AF_INET6.to_ne_bytes());
        assert_eq!(&out[60..62], &0xabcdu16.to_ne_bytes());
        assert_eq!(out[56 + 8 + 16 + 15], 0x99);
        assert_eq!(out[127], 0x77);
        assert_eq!(&out[128..136], &0x0a0bu64.to_ne_bytes());
        assert_eq!(&out[136..144], &0x0c0d_0e0fu64.to_ne_bytes());
        assert_eq!(out[144], 1);
        assert_eq!(&out[152..160], &0x0102u64.to_ne_bytes());
        assert_eq!(&out[160..168], &0x0304_0506u64.to_ne_bytes());
        // state, role, version; timeout; duration; family; port; address;
        // hash; the two channel times; records and the two counts.
        assert_eq!(out.iter().filter(|&&b| b != 0).count(), 3 + 4 + 8 + 1 + 2 + 1 + 1 + 2 + 4 + 1 + 2 + 4);
    }
}
