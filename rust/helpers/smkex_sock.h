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
#include <uapi/linux/smkex.h>

#include "smkex_helpers.h"

struct mptcp_sched_ops;

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

	wait_queue_head_t wait;		/* application calls waiting for the end */

	/* The driver's (handshake.c). */
	struct delayed_work work;
	struct mptcp_sched_ops *saved_sched;
	bool sched_installed;
	bool data_ready_installed;
	bool core_complete;		/* the core said Complete; sends may remain */
	bool reset_pending;		/* failed: the connection still has to be reset */
	u32 pin_id;			/* subflow_id the scheduler may send on, 0: none */
	u32 chan_id[2];			/* subflow_id of channel 1 and 2, 0: not up yet */
	bool timer_armed;
	unsigned long deadline;		/* jiffies */
	struct smkex_out_record out[3];	/* a side sends at most three records */
	u8 out_head, out_count;
	u8 rx[SMKEX_MAX_RECORD_LEN];	/* the record being read */
	u8 rx_len, rx_need, rx_channel;
	u8 records_in;
	u64 consumed[2];		/* record bytes read per channel */
};

#endif
