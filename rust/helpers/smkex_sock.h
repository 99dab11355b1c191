/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The state of one SMKEX socket, shared by the takeover and option code
 * (sock.c) and the handshake driver (handshake.c). It lives in the socket's
 * sk_user_data (NOCOPY) from the first SOL_SMKEX option to close().
 *
 * Locking, always in this order: the socket lock, then `lock`. `lock`
 * guards the protocol session and everything getsockopt reports; the
 * driver's fields are touched only by the work item (which never runs
 * concurrently with itself), by the scheduler callback (which reads
 * `pin_id`) and by close() after the work is disabled.
 */
#ifndef SMKEX_SOCK_H
#define SMKEX_SOCK_H

#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/sock.h>
#include <uapi/linux/smkex.h>

#include "smkex_helpers.h"

struct mptcp_sched_ops;
struct mptcp_sock;
struct sock;

/*
 * Which subflow delivered each byte of the records this side receives
 * (provenance.c). Written by the data-move hook under the msk's data lock,
 * read by the driver under the same lock.
 */
#define SMKEX_PROV_MAX_BYTES	128	/* >= the bytes of the records one side receives */
#define SMKEX_PROV_SUBFLOWS	8	/* distinct subflows that may deliver them */
#define SMKEX_PROV_OFO		8	/* out-of-order skbs among them at once */
#define SMKEX_PROV_CONFLICT	0xff	/* origin: two subflows delivered this byte */

struct smkex_prov_ofo {
	const void *skb;		/* identity only, never dereferenced */
	u64 map_seq, end_seq;
};

struct smkex_prov {
	u32 limit;			/* bytes to attribute from `base`; 0: not tracking */
	bool started;			/* `base` is known */
	bool done;			/* every tracked byte is in sequence */
	bool lost;			/* something could not be attributed: fail closed */
	u8 nids, nofo;
	u64 base;			/* data sequence number of the peer's first byte */
	u32 ids[SMKEX_PROV_SUBFLOWS];	/* subflow_id of origin 1..nids */
	struct smkex_prov_ofo ofo[SMKEX_PROV_OFO];	/* out-of-order skbs seen last */
	u8 origin[SMKEX_PROV_MAX_BYTES];	/* per byte: 0 none, 1..nids, CONFLICT */
};

/* provenance.c */
void smkex_prov_begin(struct smkex_prov *p, u32 limit);
void smkex_prov_start(struct smkex_prov *p, const struct mptcp_sock *msk);
void smkex_prov_moved(struct smkex_prov *p, const struct mptcp_sock *msk, u64 ack_before,
		      u32 subflow_id);
/* 0 if bytes [off, off + len) of the stream all came from subflow `id`; else why not. */
const char *smkex_prov_check(const struct smkex_prov *p, u32 off, u32 len, u32 id);
/* Pending records of connections not accepted yet, from a fixed pool. */
struct smkex_prov *smkex_prov_claim(u32 limit);
bool smkex_prov_is_pending(const void *ptr);
void smkex_prov_release(struct smkex_prov *p);

/* One record the core asked to send, until the transport took all of it. */
struct smkex_out_record {
	u8 channel;
	u8 len;
	u8 sent;
	u8 buf[SMKEX_MAX_RECORD_LEN];
};

struct smkex_sock {
	struct sock *sk;
	struct mutex lock;
	struct rcu_head rcu;

	/* Reported by getsockopt; written under `lock`, read with READ_ONCE. */
	bool enabled;
	u8 state;			/* enum smkex_state */
	u8 role;			/* enum smkex_role */
	u8 reason;			/* enum smkex_reason */
	u32 timeout_ms;
	int err;			/* errno a failed handshake reports (positive) */
	ktime_t started;
	u64 duration_us;
	struct smkex_channel_info channel[2];
	void *session;			/* the protocol core's session, from start to close */
	/* Client: trusted remote addresses for channel 2 besides connect()'s. */
	struct smkex_peer_addr peer_addr[SMKEX_MAX_PEER_ADDRS];
	u8 n_peer_addr;
	bool hooks_held;		/* holds a smkex_hooks_get() reference */

	wait_queue_head_t wait;		/* application calls waiting for the end */

	/* The driver's (handshake.c). */
	struct delayed_work work;
	struct mptcp_sched_ops *saved_sched;
	bool sched_installed;
	bool callbacks_installed;	/* data_ready and state_change are ours */
	bool core_complete;		/* the core said Complete; sends may remain */
	bool reset_pending;		/* failed: the connection still has to be reset */
	u32 pin_id;			/* subflow_id the scheduler may send on, 0: none */
	u32 chan_id[2];			/* subflow_id of channel 1 and 2, 0: not up yet */
	bool timer_armed;
	unsigned long deadline;		/* jiffies */
	struct smkex_out_record out[3];	/* a side sends at most three records */
	u8 out_head, out_count;
	u64 records_end;		/* data sequence number after our last record */
	u8 rx[SMKEX_MAX_RECORD_LEN];	/* the record being read */
	u8 rx_len, rx_need, rx_channel;
	u32 rx_off;			/* stream bytes of the records accepted so far */
	u32 consumed[2];		/* record bytes accepted per channel */

	/* Under the msk's data lock (provenance.c). */
	struct smkex_prov prov;
};

/*
 * The SMKEX state of a socket, or NULL: sk_user_data holds either ours or,
 * for a connection not accepted yet, a pending provenance record. Called
 * under RCU or while the socket cannot be closed.
 */
static inline struct smkex_sock *smkex_sock_state(const struct sock *sk)
{
	void *p = __rcu_dereference_sk_user_data_with_flags(sk, SK_USER_DATA_NOCOPY);

	return smkex_prov_is_pending(p) ? NULL : p;
}

/* channel.c: may this subflow be the client's channel 2? */
bool smkex_channel2_eligible(const struct smkex_sock *ss, struct sock *first, struct sock *ssk);
/* Normalised remote address of a subflow (v4-mapped as AF_INET). */
void smkex_channel_fill_info(struct smkex_channel_info *ci, const struct sock *ssk);

#endif
