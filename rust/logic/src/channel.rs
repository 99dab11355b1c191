//! The client's channel-2 policy (DESIGN.md §2, Documentation/protocol.md
//! §7): which subflow may carry the nonces and the binding hash.
//!
//! In MPTCP v1 an attacker on path 1 reads both keys in MP_CAPABLE, so it
//! can forge ADD_ADDR, set the C flag and steer joins. What the network
//! says about addresses therefore decides nothing: a subflow may be
//! channel 2 only if
//!  - this host opened it (a join it initiated),
//!  - its remote end is channel 1's (the `connect()` address and port) or
//!    one the application gave with `SMKEX_PEER_ADDRS` before `connect()`,
//!  - and, towards channel 1's remote end, it leaves by another interface
//!    than channel 1 (otherwise it is the same path).
//!
//! The server cannot judge the client's paths; it takes the first join.

use crate::options::{peer_listed, PeerAddrs, AF_INET, AF_INET6};

/// The remote end of a subflow, normalised so that an IPv4-mapped IPv6
/// peer compares equal to the same IPv4 peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// `AF_INET` or `AF_INET6`.
    pub family: u16,
    /// Remote port as stored (network byte order).
    pub remote_port_be: u16,
    /// Remote address; IPv4 in the first 4 bytes, the rest zero.
    pub remote_addr: [u8; 16],
}

impl Endpoint {
    /// An IPv4 remote end (address as on the wire).
    pub const fn v4(remote_port_be: u16, addr: [u8; 4]) -> Endpoint {
        let [a, b, c, d] = addr;
        Endpoint {
            family: AF_INET,
            remote_port_be,
            remote_addr: [a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        }
    }

    /// An IPv6 remote end; an IPv4-mapped address (`::ffff:a.b.c.d`)
    /// becomes the IPv4 one, as the kernel reports such a socket.
    pub const fn v6(remote_port_be: u16, addr: [u8; 16]) -> Endpoint {
        match addr {
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d] => {
                Endpoint::v4(remote_port_be, [a, b, c, d])
            }
            _ => Endpoint {
                family: AF_INET6,
                remote_port_be,
                remote_addr: addr,
            },
        }
    }

    /// Same family, address and port: the same remote end.
    pub fn same_remote(&self, other: &Endpoint) -> bool {
        let len = if self.family == AF_INET { 4 } else { 16 };
        self.family == other.family
            && self.remote_addr.get(..len) == other.remote_addr.get(..len)
            && self.remote_port_be == other.remote_port_be
    }
}

/// The interfaces two subflows leave by (bound device, else route); 0 when
/// unknown, which never counts as different.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Egress {
    /// Channel 1's subflow.
    pub first: i32,
    /// The candidate.
    pub candidate: i32,
}

/// May the client take `candidate` as channel 2? `first` is channel 1's
/// subflow (`None` before it exists); `candidate_is_first` when the
/// candidate is that very subflow; `request_join` when this host opened
/// it; `peers` what the application listed with `SMKEX_PEER_ADDRS`.
pub fn channel2_eligible(
    first: Option<&Endpoint>,
    candidate: &Endpoint,
    candidate_is_first: bool,
    request_join: bool,
    egress: Egress,
    peers: &PeerAddrs,
) -> bool {
    let Some(first) = first else {
        return false;
    };
    if candidate_is_first || !request_join {
        return false;
    }
    if !first.same_remote(candidate) {
        // Another address of the server: trusted only if listed.
        return peer_listed(
            peers,
            candidate.family,
            candidate.remote_port_be,
            &candidate.remote_addr,
            first.remote_port_be,
        );
    }
    // The connect() address again: only over another interface.
    egress.first != 0 && egress.candidate != 0 && egress.first != egress.candidate
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
    use smkex_uapi::SmkexPeerAddr;

    const PORT: u16 = 7000u16.to_be();
    const SERVER4: [u8; 4] = [10, 1, 2, 1];
    const OTHER4: [u8; 4] = [10, 9, 2, 1];
    const SERVER6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const OTHER6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const TWO_IFS: Egress = Egress {
        first: 2,
        candidate: 3,
    };
    const ONE_IF: Egress = Egress {
        first: 2,
        candidate: 2,
    };

    fn peers(list: &[SmkexPeerAddr]) -> PeerAddrs {
        let mut bytes = [0u8; crate::options::PEER_ADDRS_MAX_BYTES];
        for (i, pa) in list.iter().enumerate() {
            let c = &mut bytes[i * 24..(i + 1) * 24];
            c[0..2].copy_from_slice(&pa.family.to_ne_bytes());
            c[2..4].copy_from_slice(&pa.port.to_ne_bytes());
            c[4..8].copy_from_slice(&pa.reserved.to_ne_bytes());
            c[8..24].copy_from_slice(&pa.addr);
        }
        PeerAddrs::parse(&bytes[..list.len() * 24]).unwrap()
    }

    fn listed(e: &Endpoint, port_be: u16) -> SmkexPeerAddr {
        SmkexPeerAddr {
            family: e.family,
            port: port_be,
            reserved: 0,
            addr: e.remote_addr,
        }
    }

    fn eligible(first: &Endpoint, cand: &Endpoint, egress: Egress, p: &PeerAddrs) -> bool {
        channel2_eligible(Some(first), cand, false, true, egress, p)
    }

    #[test]
    fn only_joins_this_host_opened_and_never_channel_1_itself() {
        let first = Endpoint::v4(PORT, SERVER4);
        let none = PeerAddrs::new();
        assert!(eligible(&first, &first, TWO_IFS, &none));
        assert!(!channel2_eligible(
            Some(&first),
            &first,
            false,
            false,
            TWO_IFS,
            &none
        ));
        assert!(!channel2_eligible(
            Some(&first),
            &first,
            true,
            true,
            TWO_IFS,
            &none
        ));
        assert!(!channel2_eligible(
            None, &first, false, true, TWO_IFS, &none
        ));
    }

    #[test]
    fn same_remote_needs_two_known_different_interfaces() {
        for first in [Endpoint::v4(PORT, SERVER4), Endpoint::v6(PORT, SERVER6)] {
            let none = PeerAddrs::new();
            assert!(eligible(&first, &first, TWO_IFS, &none));
            assert!(!eligible(&first, &first, ONE_IF, &none));
            assert!(!eligible(
                &first,
                &first,
                Egress {
                    first: 0,
                    candidate: 3
                },
                &none
            ));
            assert!(!eligible(
                &first,
                &first,
                Egress {
                    first: 2,
                    candidate: 0
                },
                &none
            ));
            assert!(!eligible(
                &first,
                &first,
                Egress {
                    first: 0,
                    candidate: 0
                },
                &none
            ));
            // Listing the connect() address changes nothing about the path.
            let p = peers(&[listed(&first, 0)]);
            assert!(!eligible(&first, &first, ONE_IF, &p));
        }
    }

    #[test]
    fn another_remote_must_be_listed() {
        let cases = [
            (Endpoint::v4(PORT, SERVER4), Endpoint::v4(PORT, OTHER4)),
            (Endpoint::v6(PORT, SERVER6), Endpoint::v6(PORT, OTHER6)),
        ];
        for (first, cand) in cases {
            // An ADD_ADDR-announced address alone never qualifies.
            assert!(!eligible(&first, &cand, TWO_IFS, &PeerAddrs::new()));
            // Listed (port 0: the connect port): eligible, even on one
            // interface, since the remote address differs.
            let p = peers(&[listed(&cand, 0)]);
            assert!(eligible(&first, &cand, TWO_IFS, &p));
            assert!(eligible(&first, &cand, ONE_IF, &p));
            assert!(eligible(
                &first,
                &cand,
                Egress {
                    first: 0,
                    candidate: 0
                },
                &p
            ));
            // Listed with another port than the subflow's.
            let p = peers(&[listed(&cand, 7001u16.to_be())]);
            assert!(!eligible(&first, &cand, TWO_IFS, &p));
            let moved = Endpoint {
                remote_port_be: 7001u16.to_be(),
                ..cand
            };
            assert!(eligible(&first, &moved, TWO_IFS, &p));
        }
    }

    #[test]
    fn same_address_other_port_is_another_remote() {
        let first = Endpoint::v4(PORT, SERVER4);
        let cand = Endpoint {
            remote_port_be: 8000u16.to_be(),
            ..first
        };
        assert!(!first.same_remote(&cand));
        assert!(!eligible(&first, &cand, TWO_IFS, &PeerAddrs::new()));
        let p = peers(&[listed(&cand, 8000u16.to_be())]);
        assert!(eligible(&first, &cand, ONE_IF, &p));
    }

    #[test]
    fn families_never_mix() {
        let first = Endpoint::v4(PORT, SERVER4);
        let mut addr = [0u8; 16];
        addr[..4].copy_from_slice(&SERVER4);
        let cand = Endpoint {
            family: AF_INET6,
            remote_port_be: PORT,
            remote_addr: addr,
        };
        assert!(!first.same_remote(&cand));
        assert!(!eligible(&first, &cand, TWO_IFS, &PeerAddrs::new()));
        // An IPv4 entry does not list an IPv6 subflow with the same bytes.
        let p = peers(&[listed(&first, 0)]);
        assert!(!eligible(&first, &cand, TWO_IFS, &p));
    }

    #[test]
    fn v4_mapped_addresses_normalise() {
        let mut mapped = [0u8; 16];
        mapped[10] = 0xff;
        mapped[11] = 0xff;
        mapped[12..].copy_from_slice(&SERVER4);
        let a = Endpoint::v6(PORT, mapped);
        assert_eq!(a, Endpoint::v4(PORT, SERVER4));
        assert_eq!(a.family, AF_INET);
        assert!(a.same_remote(&Endpoint::v4(PORT, SERVER4)));
        // Only ::ffff:0:0/96 is mapped.
        mapped[10] = 0;
        assert_eq!(Endpoint::v6(PORT, mapped).family, AF_INET6);
    }
}
