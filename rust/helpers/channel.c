// SPDX-License-Identifier: GPL-2.0
/*
 * The client's channel-2 policy (DESIGN.md §2, Documentation/protocol.md
 * §7). In MPTCP v1 an attacker on path 1 reads both keys in MP_CAPABLE, so
 * it can forge ADD_ADDR (valid HMAC), set the C flag and steer joins. What
 * the network says about addresses therefore decides nothing here: a
 * subflow may be channel 2 only if
 *  - this host opened it (a join it initiated),
 *  - its remote end is channel 1's (the connect() address and port) or one
 *    the application gave with SMKEX_PEER_ADDRS before connect() (an
 *    address learned only from ADD_ADDR never qualifies), and
 *  - it differs from channel 1 in its egress interface or its remote
 *    address: otherwise it is the same path.
 * The server cannot judge the client's paths; it takes the first join and
 * relies on the client's check and on exact provenance (provenance.c).
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/string.h>
#include <net/dst.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/mptcp.h>
#include <net/sock.h>

#include "protocol.h"	/* net/mptcp: subflow contexts */
#include "smkex_sock.h"

/* The addresses of a subflow, an IPv4-mapped IPv6 address as AF_INET. */
void smkex_channel_fill_info(struct smkex_channel_info *ci, const struct sock *ssk)
{
	const struct inet_sock *inet = inet_sk(ssk);

	memset(ci, 0, sizeof(*ci));
	ci->local_port = inet->inet_sport;
	ci->remote_port = inet->inet_dport;
#if IS_ENABLED(CONFIG_IPV6)
	if (ssk->sk_family == AF_INET6 && !ipv6_addr_v4mapped(&ssk->sk_v6_daddr)) {
		ci->family = AF_INET6;
		memcpy(ci->local_addr, &ssk->sk_v6_rcv_saddr, 16);
		memcpy(ci->remote_addr, &ssk->sk_v6_daddr, 16);
		return;
	}
#endif
	/* inet_saddr/inet_daddr hold the IPv4 address of a v4-mapped socket too. */
	ci->family = AF_INET;
	memcpy(ci->local_addr, &inet->inet_saddr, 4);
	memcpy(ci->remote_addr, &inet->inet_daddr, 4);
}

/* The interface a subflow leaves by: its bound device, else its route's. */
static int smkex_egress_ifindex(struct sock *ssk)
{
	struct dst_entry *dst;
	int ifindex = READ_ONCE(ssk->sk_bound_dev_if);

	if (ifindex)
		return ifindex;
	dst = sk_dst_get(ssk);
	if (!dst)
		return 0;
	ifindex = dst->dev ? dst->dev->ifindex : 0;
	dst_release(dst);
	return ifindex;
}

static bool smkex_same_remote(const struct smkex_channel_info *a,
			      const struct smkex_channel_info *b)
{
	size_t len = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && !memcmp(a->remote_addr, b->remote_addr, len);
}

/* Is the subflow's remote end one the application gave (SMKEX_PEER_ADDRS)? */
static bool smkex_peer_addr_listed(const struct smkex_sock *ss,
				   const struct smkex_channel_info *ci,
				   const struct smkex_channel_info *first)
{
	u8 i;

	for (i = 0; i < ss->n_peer_addr; i++) {
		const struct smkex_peer_addr *pa = &ss->peer_addr[i];
		__be16 port = pa->port ? (__force __be16)pa->port : first->remote_port;
		size_t len = pa->family == AF_INET ? 4 : 16;

		if (pa->family == ci->family && port == ci->remote_port &&
		    !memcmp(pa->addr, ci->remote_addr, len))
			return true;
	}
	return false;
}

/* Socket (the msk) locked; `first` is channel 1's subflow. */
bool smkex_channel2_eligible(const struct smkex_sock *ss, struct sock *first, struct sock *ssk)
{
	struct smkex_channel_info c1, c2;
	bool same_remote;
	int if1, if2;

	if (!first || ssk == first || !mptcp_subflow_ctx(ssk)->request_join)
		return false;
	smkex_channel_fill_info(&c1, first);
	smkex_channel_fill_info(&c2, ssk);
	same_remote = smkex_same_remote(&c1, &c2) && c1.remote_port == c2.remote_port;
	if (!same_remote && !smkex_peer_addr_listed(ss, &c2, &c1))
		return false;
	if (!same_remote)
		return true;	/* another trusted address of the server */
	if1 = smkex_egress_ifindex(first);
	if2 = smkex_egress_ifindex(ssk);
	return if1 && if2 && if1 != if2;
}
