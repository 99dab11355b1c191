// SPDX-License-Identifier: GPL-2.0
/*
 * Exact provenance of handshake bytes (DESIGN.md §2): for every byte of the
 * records this side receives, which subflow delivered the copy that MPTCP
 * kept, including subflows that closed since.
 *
 * MPTCP moves one subflow's data into the connection in
 * __mptcp_move_skbs_from_subflow(msk, ssk), always under the msk's data
 * lock: bytes in sequence advance msk->ack_seq at once, the others wait in
 * the out-of-order tree until __mptcp_ofo_queue() (which knows no subflow)
 * splices them. mptcp_hooks.c calls smkex_prov_moved() after each such move
 * on an SMKEX socket; it attributes to that subflow the bytes by which
 * ack_seq advanced during the call and every out-of-order skb of the
 * handshake range that is new or grew. A byte attributed to two different
 * subflows is a conflict: whichever copy MPTCP kept, two paths delivered it,
 * which a genuine peer never does (its records are pinned and MPTCP-level
 * reinjection is refused). Whatever cannot be followed exactly (more
 * subflows or out-of-order skbs than the tables hold, data that moved before
 * tracking began) marks the record lost: fail closed.
 *
 * Everything here runs under the msk's data lock and allocates nothing.
 */
#include <linux/bitmap.h>
#include <linux/rbtree.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <net/mptcp.h>

#include "protocol.h"	/* net/mptcp: struct mptcp_sock, MPTCP_SKB_CB */
#include "smkex_sock.h"

/* Start tracking `limit` bytes (at most SMKEX_PROV_MAX_BYTES); 0 disables. */
void smkex_prov_begin(struct smkex_prov *p, u32 limit)
{
	memset(p, 0, sizeof(*p));
	p->limit = min_t(u32, limit, SMKEX_PROV_MAX_BYTES);
	if (limit > SMKEX_PROV_MAX_BYTES)
		p->lost = true;
}

/*
 * The first move of the connection: the peer's stream starts at ack_seq,
 * unless something moved already (then its origin is unknown).
 */
void smkex_prov_start(struct smkex_prov *p, const struct mptcp_sock *msk)
{
	p->base = READ_ONCE(msk->ack_seq);
	p->started = true;
	if (msk->bytes_received || !RB_EMPTY_ROOT(&msk->out_of_order_queue))
		p->lost = true;
}

/* Origin index of a subflow, 1-based; 0 if the table is full. */
static u8 smkex_prov_index(struct smkex_prov *p, u32 subflow_id)
{
	u8 i;

	for (i = 0; i < p->nids; i++)
		if (p->ids[i] == subflow_id)
			return i + 1;
	if (p->nids == SMKEX_PROV_SUBFLOWS)
		return 0;
	p->ids[p->nids++] = subflow_id;
	return p->nids;
}

/* Bytes [from, to) of the data sequence space came from origin `idx`. */
static void smkex_prov_mark(struct smkex_prov *p, u64 from, u64 to, u8 idx)
{
	u64 end = p->base + p->limit;
	u64 seq;

	if (before64(from, p->base))
		from = p->base;
	if (after64(to, end))
		to = end;
	for (seq = from; before64(seq, to); seq++) {
		u8 *o = &p->origin[seq - p->base];

		if (!idx)
			*o = SMKEX_PROV_CONFLICT;
		else if (!*o)
			*o = idx;
		else if (*o != idx)
			*o = SMKEX_PROV_CONFLICT;
	}
}

/*
 * Out-of-order skbs of the handshake range: those not in the previous
 * snapshot (by identity and start) came from this move, and so did the
 * growth of those that were (MPTCP coalesces into an existing skb).
 */
static void smkex_prov_scan_ofo(struct smkex_prov *p, const struct mptcp_sock *msk, u8 idx)
{
	struct smkex_prov_ofo now[SMKEX_PROV_OFO];
	u64 end = p->base + p->limit;
	struct rb_node *node;
	u8 n = 0, i;

	for (node = rb_first(&msk->out_of_order_queue); node; node = rb_next(node)) {
		const struct sk_buff *skb = rb_to_skb(node);
		u64 map_seq = MPTCP_SKB_CB(skb)->map_seq;
		u64 end_seq = MPTCP_SKB_CB(skb)->end_seq;
		u64 from = map_seq;

		if (!before64(map_seq, end))
			break;
		for (i = 0; i < p->nofo; i++) {
			if (p->ofo[i].skb == skb && p->ofo[i].map_seq == map_seq) {
				from = p->ofo[i].end_seq;
				break;
			}
		}
		if (before64(from, end_seq))
			smkex_prov_mark(p, from, end_seq, idx);
		if (n == SMKEX_PROV_OFO) {
			p->lost = true;
			break;
		}
		now[n].skb = skb;
		now[n].map_seq = map_seq;
		now[n].end_seq = end_seq;
		n++;
	}
	memcpy(p->ofo, now, n * sizeof(now[0]));
	p->nofo = n;
}

/* After subflow `subflow_id` moved data into msk; ack_before: ack_seq on entry. */
void smkex_prov_moved(struct smkex_prov *p, const struct mptcp_sock *msk, u64 ack_before,
		      u32 subflow_id)
{
	u8 idx = smkex_prov_index(p, subflow_id);
	u64 ack = READ_ONCE(msk->ack_seq);

	/* Bytes in sequence advance ack_seq only here or from the ofo tree. */
	smkex_prov_mark(p, ack_before, ack, idx);
	smkex_prov_scan_ofo(p, msk, idx);
	if (!before64(ack, p->base + p->limit))
		p->done = true;
}

/*
 * May bytes [off, off + len) of the peer's stream (offsets from its first
 * byte) be accepted as coming from subflow `id`? NULL if so, else why not.
 */
const char *smkex_prov_check(const struct smkex_prov *p, u32 off, u32 len, u32 id)
{
	u32 i;

	if (p->lost)
		return "handshake bytes whose origin could not be followed";
	if (off > p->limit || len > p->limit - off)
		return "more handshake bytes than the records hold";
	for (i = off; i < off + len; i++) {
		u8 o = p->origin[i];

		if (!o)
			return "handshake bytes of unknown origin";
		if (o == SMKEX_PROV_CONFLICT)
			return "handshake bytes delivered by two subflows";
		if (p->ids[o - 1] != id)
			return "handshake bytes delivered by another subflow than their channel's";
	}
	return NULL;
}

/*
 * Connections of an SMKEX listener have data before accept() creates their
 * SMKEX state, and nothing may be allocated where MPTCP moves data: their
 * records come from a fixed pool. A connection that finds it empty is
 * refused at accept (AcceptRefusedUntracked).
 */
#define SMKEX_PENDING_MAX 512
static struct smkex_prov smkex_pending[SMKEX_PENDING_MAX];
static DECLARE_BITMAP(smkex_pending_used, SMKEX_PENDING_MAX);
static DEFINE_SPINLOCK(smkex_pending_lock);

bool smkex_prov_is_pending(const void *ptr)
{
	return ptr >= (const void *)smkex_pending &&
	       ptr < (const void *)(smkex_pending + SMKEX_PENDING_MAX);
}

/* Under a msk's data lock (BH off). NULL if the pool is exhausted. */
struct smkex_prov *smkex_prov_claim(u32 limit)
{
	unsigned long i;

	spin_lock(&smkex_pending_lock);
	i = find_first_zero_bit(smkex_pending_used, SMKEX_PENDING_MAX);
	if (i < SMKEX_PENDING_MAX)
		__set_bit(i, smkex_pending_used);
	spin_unlock(&smkex_pending_lock);
	if (i >= SMKEX_PENDING_MAX)
		return NULL;
	smkex_prov_begin(&smkex_pending[i], limit);
	return &smkex_pending[i];
}

/* Under the owning msk's data lock, after it stopped pointing at `p`. */
void smkex_prov_release(struct smkex_prov *p)
{
	unsigned long i = p - smkex_pending;

	spin_lock(&smkex_pending_lock);
	__clear_bit(i, smkex_pending_used);
	spin_unlock(&smkex_pending_lock);
}
