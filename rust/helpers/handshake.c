// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake driver: runs one SMKEX socket's protocol session (the Rust
 * core, sans-I/O) over the MPTCP connection. Documentation/kernel-integration.md
 * explains every choice; in short:
 *
 *  - One delayed work item per socket does all the work, in process
 *    context. It is queued by events, never by a periodic look: the
 *    connection's data_ready and state_change (those callbacks only queue
 *    it), subflow established and closed (mptcp_hooks.c) and the handshake
 *    deadline. The one wait without an event, MPTCP pushing a record into
 *    its subflow before the pin may move, is looked at on a short tick.
 *  - Sending: records go through MPTCP's own sendmsg, so that MPTCP builds
 *    the data-sequence mappings, with a per-socket scheduler that puts data
 *    only on the pinned channel's subflow and refuses MPTCP-level
 *    reinjection. The pin moves to the other channel only once everything
 *    queued so far went into its subflow, so no record can leave on the
 *    wrong subflow. MPTCP's default scheduler is restored once our last
 *    record did.
 *  - Channels: channel 1 is the MP_CAPABLE subflow; channel 2 the client's
 *    policy decides locally (channel.c), the server takes the first join.
 *  - Receiving: MPTCP's recvmsg, exactly one record at a time, so that
 *    application data after the handshake stays queued. A record's channel
 *    follows from its type; that every one of its bytes was delivered by
 *    that channel's subflow is checked on exact provenance (provenance.c),
 *    which follows closed and short-lived subflows too.
 *  - Failure resets the connection (MPTCP fast close) and makes the
 *    application's calls return an errno that says why.
 */
#include <linux/errno.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/mptcp.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "protocol.h"	/* net/mptcp: struct mptcp_sock, subflow contexts */
#include "smkex_sock.h"

static_assert(SMKEX_REASON_CHANNEL_CLOSED == SMKEX_REASON_COUNT);

/* How often the work looks whether MPTCP pushed a record into its subflow. */
#define SMKEX_TICK	max(1UL, msecs_to_jiffies(10))

/* Queue the work now (any context). */
static void smkex_hs_kick(struct sock *sk)
{
	struct smkex_sock *ss;

	rcu_read_lock();
	ss = smkex_sock_state(sk);
	if (ss)
		mod_delayed_work(system_wq, &ss->work, 0);
	rcu_read_unlock();
}

/*
 * The record types each role receives and their channels follow from the
 * protocol core's framing (Documentation/protocol.md §2-§3): the server
 * receives types 1, 2 and 5, the client 3 and 4. Bytes the peer sends on
 * `channel` (0: on both).
 */
u32 smkex_hs_peer_bytes(u8 role, u8 channel)
{
	static const u8 server_rx[] = { 1, 2, 5 }, client_rx[] = { 3, 4 };
	const u8 *types = role == SMKEX_ROLE_SERVER ? server_rx : client_rx;
	size_t n = role == SMKEX_ROLE_SERVER ? ARRAY_SIZE(server_rx) : ARRAY_SIZE(client_rx);
	u32 total = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		u8 ch;
		size_t len = smkex_proto_record_framing(types[i], &ch);

		if (!channel || ch == channel)
			total += len;
	}
	return total;
}

/* ---- the per-socket scheduler ---- */

/*
 * Called by MPTCP with the msk owned, or from softirq with the msk data
 * lock held; the scheduler is installed and removed under both, so the
 * socket's state is alive here.
 */
static int smkex_sched_get_subflow(struct mptcp_sock *msk, struct mptcp_sched_data *data)
{
	struct mptcp_subflow_context *subflow;
	struct smkex_sock *ss;
	u32 pin;

	/* Resending a record on another subflow would break the channel binding. */
	if (data->reinject)
		return -EINVAL;
	rcu_read_lock();
	ss = smkex_sock_state((struct sock *)msk);
	pin = ss ? READ_ONCE(ss->pin_id) : 0;
	rcu_read_unlock();
	if (!pin)
		return -EINVAL;
	mptcp_for_each_subflow(msk, subflow) {
		if (READ_ONCE(subflow->subflow_id) != pin)
			continue;
		if (!__mptcp_subflow_active(subflow) ||
		    !sk_stream_memory_free(mptcp_subflow_tcp_sock(subflow)))
			return -EINVAL;
		WRITE_ONCE(subflow->scheduled, true);
		return 0;
	}
	return -EINVAL;
}

/* Never registered: installed on one connection at a time, owner-less. */
static struct mptcp_sched_ops smkex_sched = {
	.get_subflow = smkex_sched_get_subflow,
	.name = "smkex-pinned",
};

/* Socket locked. */
static void smkex_sched_install(struct sock *sk, struct smkex_sock *ss)
{
	struct mptcp_sock *msk = mptcp_sk(sk);

	mptcp_data_lock(sk);
	ss->saved_sched = msk->sched;
	msk->sched = &smkex_sched;
	mptcp_data_unlock(sk);
	ss->sched_installed = true;
}

/* Socket locked. */
static void smkex_sched_restore(struct sock *sk, struct smkex_sock *ss)
{
	struct mptcp_sock *msk = mptcp_sk(sk);

	if (!ss->sched_installed)
		return;
	mptcp_data_lock(sk);
	msk->sched = ss->saved_sched;
	mptcp_data_unlock(sk);
	ss->sched_installed = false;
	WRITE_ONCE(ss->pin_id, 0);
}

/* ---- data_ready and state_change: only queue the work ---- */

/* Every MPTCP socket has the same ones (sock_def_readable, sock_def_wakeup). */
static void (*smkex_base_data_ready)(struct sock *sk);
static void (*smkex_base_state_change)(struct sock *sk);

static void smkex_data_ready(struct sock *sk)
{
	smkex_hs_kick(sk);
	smkex_base_data_ready(sk);
}

static void smkex_state_change(struct sock *sk)
{
	smkex_hs_kick(sk);
	smkex_base_state_change(sk);
}

/* Socket locked. */
static void smkex_callbacks_install(struct sock *sk, struct smkex_sock *ss)
{
	write_lock_bh(&sk->sk_callback_lock);
	if (!smkex_base_data_ready) {
		smkex_base_data_ready = sk->sk_data_ready;
		smkex_base_state_change = sk->sk_state_change;
	}
	if (sk->sk_data_ready == smkex_base_data_ready &&
	    sk->sk_state_change == smkex_base_state_change) {
		WRITE_ONCE(sk->sk_data_ready, smkex_data_ready);
		WRITE_ONCE(sk->sk_state_change, smkex_state_change);
		ss->callbacks_installed = true;
	}
	write_unlock_bh(&sk->sk_callback_lock);
}

/* Socket locked. */
static void smkex_callbacks_restore(struct sock *sk, struct smkex_sock *ss)
{
	if (!ss->callbacks_installed)
		return;
	write_lock_bh(&sk->sk_callback_lock);
	WRITE_ONCE(sk->sk_data_ready, smkex_base_data_ready);
	WRITE_ONCE(sk->sk_state_change, smkex_base_state_change);
	write_unlock_bh(&sk->sk_callback_lock);
	ss->callbacks_installed = false;
}

/* ---- outcome ---- */

/* The errno the application sees after a failed handshake, by reason. */
static int smkex_reason_errno(u8 reason)
{
	switch (reason) {
	case SMKEX_REASON_BINDING_HASH_MISMATCH:
	case SMKEX_REASON_WRONG_CHANNEL:
	case SMKEX_REASON_LOW_ORDER_KEY:
	case SMKEX_REASON_BAD_FINISHED:
	case SMKEX_REASON_CHANNEL_INTEGRITY:
		return EKEYREJECTED;	/* an active attack on one path */
	case SMKEX_REASON_TIMEOUT:
		return ETIMEDOUT;
	case SMKEX_REASON_NO_INDEPENDENT_PATH:
		return ENETUNREACH;	/* no second path this host trusts */
	case SMKEX_REASON_PEER_CLOSED:
	case SMKEX_REASON_CHANNEL_CLOSED:
		return ECONNRESET;
	case SMKEX_REASON_MALFORMED_RECORD:
	case SMKEX_REASON_UNEXPECTED_RECORD:
	case SMKEX_REASON_OUT_OF_ORDER_RECORD:
	case SMKEX_REASON_DUPLICATE_RECORD:
		return EPROTO;		/* e.g. a peer without SMKEX */
	default:
		return ECONNABORTED;	/* local error, internal */
	}
}

static void smkex_set_duration(struct smkex_sock *ss)
{
	ss->duration_us = ktime_to_us(ktime_sub(ktime_get(), ss->started));
}

/* `lock` held. The connection is reset afterwards by the work (smkex_reset). */
static void smkex_fail_locked(struct smkex_sock *ss, u8 reason)
{
	struct net *net = sock_net(ss->sk);

	if (ss->state != SMKEX_STATE_HANDSHAKE)
		return;
	if (reason < 1 || reason > SMKEX_REASON_COUNT)
		reason = SMKEX_REASON_INTERNAL;
	ss->reason = reason;
	ss->err = smkex_reason_errno(reason);
	smkex_set_duration(ss);
	ss->reset_pending = true;
	/* Pairs with smp_load_acquire in sock.c: err and reason are visible first. */
	smp_store_release(&ss->state, SMKEX_STATE_FAILED);
	smkex_stat_inc(net, SMKEX_STAT_HS_FAILED);
	smkex_stat_inc(net, SMKEX_STAT_FAIL_REASON + reason - 1);
	pr_debug("smkex: %s handshake failed: reason %u, errno %d\n",
		 ss->role == SMKEX_ROLE_CLIENT ? "client" : "server", reason, ss->err);
}

/* `lock` held: the transport saw something the core cannot (reason 10/11/12). */
static void smkex_abort_locked(struct smkex_sock *ss, u8 reason, const char *why)
{
	if (ss->state != SMKEX_STATE_HANDSHAKE)
		return;
	pr_debug("smkex: aborting handshake: %s\n", why);
	smkex_proto_session_abort(ss->session, reason);
}

static void smkex_abort(struct smkex_sock *ss, u8 reason, const char *why)
{
	mutex_lock(&ss->lock);
	smkex_abort_locked(ss, reason, why);
	mutex_unlock(&ss->lock);
}

/* `lock` held; the core said Complete and every record has been handed out. */
static void smkex_complete_locked(struct smkex_sock *ss)
{
	if (ss->state != SMKEX_STATE_HANDSHAKE)
		return;
	smkex_set_duration(ss);
	/* Pairs with smp_load_acquire in sock.c. */
	smp_store_release(&ss->state, SMKEX_STATE_COMPLETE);
	smkex_stat_inc(sock_net(ss->sk), SMKEX_STAT_HS_COMPLETED);
	pr_debug("smkex: %s handshake complete in %llu us\n",
		 ss->role == SMKEX_ROLE_CLIENT ? "client" : "server", ss->duration_us);
}

/* Wake blocked application calls and pollers after the handshake ended. */
static void smkex_wake(struct sock *sk, struct smkex_sock *ss)
{
	wake_up_all(&ss->wait);
	sk->sk_state_change(sk);
}

/* Reset a failed connection: MPTCP fast close, and the error for pollers. */
static void smkex_reset(struct sock *sk, struct smkex_sock *ss)
{
	lock_sock(sk);
	smkex_sched_restore(sk, ss);
	smkex_callbacks_restore(sk, ss);
	if (sk->sk_state != TCP_CLOSE)
		smkex_base_proto(sk)->disconnect(sk, 0);
	WRITE_ONCE(sk->sk_err, ss->err);
	release_sock(sk);
	sk_error_report(sk);
}

/* ---- the core's actions ---- */

/* `lock` held: take every action the core has ready. */
static void smkex_drain_actions_locked(struct smkex_sock *ss)
{
	u8 record[SMKEX_MAX_RECORD_LEN];
	struct smkex_raw_action act;
	int guard;

	for (guard = 0; guard < 16 && ss->state == SMKEX_STATE_HANDSHAKE; guard++) {
		act = smkex_proto_session_poll(ss->session, &record);
		switch (act.kind) {
		case SMKEX_ACT_IDLE:
			goto out;
		case SMKEX_ACT_SEND: {
			struct smkex_out_record *o;

			if (ss->out_head + ss->out_count >= ARRAY_SIZE(ss->out) ||
			    act.value > SMKEX_MAX_RECORD_LEN || (act.arg != 1 && act.arg != 2)) {
				smkex_abort_locked(ss, SMKEX_REASON_INTERNAL, "bad send action");
				break;
			}
			o = &ss->out[ss->out_head + ss->out_count++];
			o->channel = act.arg;
			o->len = act.value;
			o->sent = 0;
			memcpy(o->buf, record, act.value);
			break;
		}
		case SMKEX_ACT_ARM_TIMER:
			/* +1: a partial jiffy has passed already; never fire early. */
			ss->deadline = jiffies + msecs_to_jiffies(act.value) + 1;
			ss->timer_armed = true;
			break;
		case SMKEX_ACT_COMPLETE:
			ss->core_complete = true;
			break;
		case SMKEX_ACT_FAIL:
			smkex_fail_locked(ss, act.arg);
			break;
		default:
			smkex_abort_locked(ss, SMKEX_REASON_INTERNAL, "unknown action");
			break;
		}
	}
out:
	memzero_explicit(record, sizeof(record));
	if (ss->core_complete && !ss->out_count)
		smkex_complete_locked(ss);
}

/* ---- what the transport looks like now ---- */

struct smkex_transport {
	bool closed;		/* reset, closed or fell back: no handshake possible */
	const char *closed_why;
	u8 closed_reason;
	bool deny_join;		/* client: the peer forbids joins to its only trusted address */
	u32 chan_id[2];		/* subflow_id of each channel if it can carry data */
	bool chan_gone[2];	/* a latched channel's subflow can no longer carry data */
	struct smkex_channel_info info[2];
};

/* Can this subflow carry handshake records now? */
static bool smkex_subflow_usable(struct mptcp_subflow_context *subflow)
{
	return __mptcp_subflow_active(subflow) &&
	       inet_sk_state_load(mptcp_subflow_tcp_sock(subflow)) == TCP_ESTABLISHED;
}

/*
 * Socket locked. Channel 1 is the MP_CAPABLE subflow (msk->first); channel
 * 2, once latched, the subflow with that subflow_id; before that, the first
 * subflow the role's policy accepts (client: channel.c; server: any join).
 */
static void smkex_read_transport_locked(struct sock *sk, struct smkex_sock *ss,
					struct smkex_transport *t)
{
	struct mptcp_sock *msk = mptcp_sk(sk);
	struct mptcp_subflow_context *subflow;
	struct sock *first = msk->first;
	int k;

	memset(t, 0, sizeof(*t));
	if (__mptcp_check_fallback(msk)) {
		/* A one-path attacker can strip MP_CAPABLE: fail closed. */
		t->closed = true;
		t->closed_reason = SMKEX_REASON_CHANNEL_INTEGRITY;
		t->closed_why = "the connection fell back to plain TCP";
		return;
	}
	/*
	 * A reset. A FIN is seen by recvmsg (end of stream) only after every
	 * byte before it, so a peer that completes, sends and closes at once
	 * still has its Finished read.
	 */
	if (sk->sk_state == TCP_CLOSE && (!first || inet_sk_state_load(first) == TCP_CLOSE)) {
		t->closed = true;
		t->closed_reason = SMKEX_REASON_PEER_CLOSED;
		t->closed_why = "the connection was reset";
		return;
	}
	t->deny_join = ss->role == SMKEX_ROLE_CLIENT && !ss->n_peer_addr &&
		       READ_ONCE(msk->pm.remote_deny_join_id0);
	mptcp_for_each_subflow(msk, subflow) {
		struct sock *ssk = mptcp_subflow_tcp_sock(subflow);
		u32 id = READ_ONCE(subflow->subflow_id);

		if (!smkex_subflow_usable(subflow))
			continue;
		if (ssk == first)
			k = sk->sk_state == TCP_ESTABLISHED ? 0 : -1;
		else if (ss->chan_id[1])
			k = id == ss->chan_id[1] ? 1 : -1;
		else if (!t->chan_id[1] &&
			 (ss->role == SMKEX_ROLE_SERVER || smkex_channel2_eligible(ss, first, ssk)))
			k = 1;
		else
			k = -1;
		if (k < 0)
			continue;
		t->chan_id[k] = id;
		smkex_channel_fill_info(&t->info[k], ssk);
	}
	for (k = 0; k < 2; k++)
		t->chan_gone[k] = ss->chan_id[k] && t->chan_id[k] != ss->chan_id[k];
}

static void smkex_read_transport(struct sock *sk, struct smkex_sock *ss, struct smkex_transport *t)
{
	lock_sock(sk);
	smkex_read_transport_locked(sk, ss, t);
	release_sock(sk);
}

/* ---- I/O through MPTCP's own sendmsg and recvmsg ---- */

/*
 * Hand queued records to MPTCP, in order. Returns true if bytes went out.
 * A record for the other channel waits until MPTCP has pushed everything
 * before it into its subflow (nothing pending at the MPTCP level), so that
 * moving the pin cannot move queued bytes: what a subflow holds, only that
 * subflow's TCP retransmits, and MPTCP-level reinjection is refused. (Not
 * DATA_ACKed: a peer may answer with an ADD_ADDR echo, which carries no
 * DATA_ACK, and then send nothing until our next record.)
 */
static bool smkex_send_queued(struct sock *sk, struct smkex_sock *ss,
			      const struct smkex_transport *t)
{
	bool progress = false;

	while (ss->out_count) {
		struct smkex_out_record *o = &ss->out[ss->out_head];
		u32 id = t->chan_id[o->channel - 1];
		struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
		struct kvec kv;
		int ret;

		if (!id)
			break;
		if (READ_ONCE(ss->pin_id) != id) {
			/* Only this work queues data, so NULL stays NULL until we send. */
			if (mptcp_send_head(sk))
				break;
			WRITE_ONCE(ss->pin_id, id);
		}
		kv.iov_base = o->buf + o->sent;
		kv.iov_len = o->len - o->sent;
		iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &kv, 1, kv.iov_len);
		ret = smkex_base_proto(sk)->sendmsg(sk, &msg, kv.iov_len);
		if (ret == -EAGAIN || ret == 0)
			break;
		if (ret < 0) {
			smkex_abort(ss, SMKEX_REASON_LOCAL_ERROR, "sending a record failed");
			break;
		}
		progress = true;
		pr_debug("smkex: sent %d bytes of record %u on channel %u (subflow %u)\n", ret,
			 o->buf[0], o->channel, id);
		o->sent += ret;
		if (o->sent < o->len)
			continue;
		memzero_explicit(o, sizeof(*o));
		ss->out_head++;
		ss->out_count--;
		/* Nothing but our records was queued: they end here. */
		ss->records_end = READ_ONCE(mptcp_sk(sk)->write_seq);
	}
	if (!ss->out_count)
		ss->out_head = 0;
	return progress;
}

/*
 * A whole record is in rx: check that its channel's subflow delivered every
 * byte of it, then feed the core. Returns false if it must wait (its
 * channel is not latched yet: the event of its subflow queues the work).
 */
static bool smkex_deliver_record(struct sock *sk, struct smkex_sock *ss)
{
	u32 id = ss->chan_id[ss->rx_channel - 1];
	const char *violation;

	if (!id) {
		pr_debug("smkex: record %u: channel %u not up yet\n", ss->rx[0], ss->rx_channel);
		return false;
	}
	mptcp_data_lock(sk);
	violation = smkex_prov_check(&ss->prov, ss->rx_off, ss->rx_len, id);
	mptcp_data_unlock(sk);
	pr_debug("smkex: received record %u on channel %u (%u bytes)\n", ss->rx[0], ss->rx_channel,
		 ss->rx_len);
	if (violation) {
		smkex_abort(ss, SMKEX_REASON_CHANNEL_INTEGRITY, violation);
	} else {
		mutex_lock(&ss->lock);
		if (ss->state == SMKEX_STATE_HANDSHAKE)
			smkex_proto_session_receive(ss->session, ss->rx_channel, ss->rx, ss->rx_len);
		mutex_unlock(&ss->lock);
	}
	ss->rx_off += ss->rx_len;
	ss->consumed[ss->rx_channel - 1] += ss->rx_len;
	memzero_explicit(ss->rx, sizeof(ss->rx));
	ss->rx_len = 0;
	ss->rx_need = 0;
	return true;
}

/*
 * Read at most the rest of the current record. Returns true if bytes were
 * read. Never reads past a record: what follows the handshake belongs to
 * the application.
 */
static bool smkex_receive(struct sock *sk, struct smkex_sock *ss)
{
	struct msghdr msg = {};
	struct kvec kv;
	int addr_len, ret;
	u8 channel;
	size_t len;

	if (ss->rx_need && ss->rx_len == ss->rx_need)	/* waiting for its channel */
		return smkex_deliver_record(sk, ss);
	if (!ss->rx_need)
		ss->rx_need = 1;	/* the type byte tells the record's length */
	kv.iov_base = ss->rx + ss->rx_len;
	kv.iov_len = ss->rx_need - ss->rx_len;
	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, kv.iov_len);
	ret = smkex_base_proto(sk)->recvmsg(sk, &msg, kv.iov_len, MSG_DONTWAIT, &addr_len);
	if (ret == -EAGAIN)
		return false;
	if (ret <= 0) {
		smkex_abort(ss, SMKEX_REASON_PEER_CLOSED,
			    ret ? "reading a record failed" : "the peer closed");
		return false;
	}
	ss->rx_len += ret;
	if (ss->rx_len == 1 && ss->rx_need == 1) {
		len = smkex_proto_record_framing(ss->rx[0], &channel);
		if (len) {
			ss->rx_channel = channel;
			ss->rx_need = len;
			return true;
		}
		/* Not a record type: let the core reject the byte. */
		ss->rx_channel = 1;
	}
	if (ss->rx_len < ss->rx_need)
		return true;
	smkex_deliver_record(sk, ss);
	return true;
}

/* ---- the work ---- */

/* Is a record for `channel` still waiting to be handed to its subflow? */
static bool smkex_out_pending(const struct smkex_sock *ss, u8 channel)
{
	u8 i;

	for (i = ss->out_head; i < ss->out_head + ss->out_count; i++)
		if (ss->out[i].channel == channel)
			return true;
	return false;
}

/* `lock` held: the deadline passed. */
static void smkex_deadline_locked(struct smkex_sock *ss)
{
	ss->timer_armed = false;
	if (!ss->chan_id[1])
		smkex_abort_locked(ss, SMKEX_REASON_NO_INDEPENDENT_PATH,
				   "no subflow this host trusts as channel 2 came up in time");
	else
		smkex_proto_session_timer_expired(ss->session);
}

/* One round: events in, actions out, I/O. Returns true if it made progress. */
static bool smkex_step(struct sock *sk, struct smkex_sock *ss)
{
	struct smkex_transport t;
	bool progress = false;
	int k;

	smkex_read_transport(sk, ss, &t);
	mutex_lock(&ss->lock);
	if (ss->state == SMKEX_STATE_HANDSHAKE) {
		if (t.closed)
			smkex_abort_locked(ss, t.closed_reason, t.closed_why);
		if (t.deny_join)
			smkex_abort_locked(ss, SMKEX_REASON_NO_INDEPENDENT_PATH,
					   "the peer forbids joins to its address (C flag)");
		if (ss->timer_armed && time_after_eq(jiffies, ss->deadline))
			smkex_deadline_locked(ss);
		for (k = 0; k < 2; k++) {
			if (ss->chan_id[k] || !t.chan_id[k])
				continue;
			ss->chan_id[k] = t.chan_id[k];
			ss->channel[k] = t.info[k];
			pr_debug("smkex: channel %d up (subflow %u)\n", k + 1, t.chan_id[k]);
			smkex_proto_session_channel_up(ss->session, k + 1);
		}
		smkex_drain_actions_locked(ss);
	}
	mutex_unlock(&ss->lock);

	if (ss->state == SMKEX_STATE_FAILED)
		return false;
	if (ss->out_count && smkex_send_queued(sk, ss, &t))
		progress = true;
	if (ss->state == SMKEX_STATE_HANDSHAKE && !ss->core_complete && smkex_receive(sk, ss))
		progress = true;
	if (ss->core_complete && ss->state == SMKEX_STATE_HANDSHAKE) {
		mutex_lock(&ss->lock);
		smkex_drain_actions_locked(ss);
		mutex_unlock(&ss->lock);
	}
	/*
	 * Nothing more to read now: a channel whose subflow went away while
	 * the peer still owes records on it, or we still have one to send on
	 * it, fails the handshake at once.
	 */
	if (!progress && ss->state == SMKEX_STATE_HANDSHAKE) {
		mutex_lock(&ss->lock);
		for (k = 0; k < 2; k++)
			if (t.chan_gone[k] &&
			    (ss->consumed[k] < smkex_hs_peer_bytes(ss->role, k + 1) ||
			     smkex_out_pending(ss, k + 1)))
				smkex_abort_locked(ss, SMKEX_REASON_CHANNEL_CLOSED,
						   "a channel's subflow closed before its records passed");
		smkex_drain_actions_locked(ss);
		mutex_unlock(&ss->lock);
	}
	return progress;
}

/*
 * After completion: give MPTCP its scheduler back once the peer DATA_ACKed
 * our last record. Before that MPTCP could reinject an unacknowledged
 * record on another subflow (its retransmission timer), which the pinned
 * scheduler refuses. A DATA_ACK can be missing for good (a peer's ACK that
 * carried an ADD_ADDR echo instead, and nothing to send after it): at the
 * handshake's deadline the scheduler comes back regardless, so that no
 * connection is polled for its lifetime.
 */
static bool smkex_finish(struct sock *sk, struct smkex_sock *ss)
{
	bool done;

	lock_sock(sk);
	done = sk->sk_state == TCP_CLOSE ||
	       !before64(READ_ONCE(mptcp_sk(sk)->snd_una), ss->records_end) ||
	       time_after_eq(jiffies, ss->deadline);
	if (done) {
		smkex_sched_restore(sk, ss);
		smkex_callbacks_restore(sk, ss);
	}
	release_sock(sk);
	return done;
}

/*
 * When the work must run again by itself: at once after a full batch, on
 * the tick while records wait to be handed to their subflow, else at the
 * deadline. Everything else queues it (events). queue_ (not mod_) so that
 * an event that queued it meanwhile is never postponed.
 */
static void smkex_rearm(struct smkex_sock *ss, bool busy)
{
	unsigned long delay = MAX_JIFFY_OFFSET;

	if (busy)
		delay = 0;
	else if (ss->out_count)
		delay = SMKEX_TICK;
	else if (ss->timer_armed)
		delay = time_after(ss->deadline, jiffies) ? ss->deadline - jiffies : 0;
	if (delay != MAX_JIFFY_OFFSET)
		queue_delayed_work(system_wq, &ss->work, delay);
}

static void smkex_hs_work(struct work_struct *work)
{
	struct smkex_sock *ss = container_of(to_delayed_work(work), struct smkex_sock, work);
	struct sock *sk = ss->sk;
	u8 state_before = ss->state;
	int rounds;

	/* Bounded: a peer that keeps sending cannot hold this worker. */
	for (rounds = 0; rounds < 8 && ss->state == SMKEX_STATE_HANDSHAKE; rounds++)
		if (!smkex_step(sk, ss))
			break;

	switch (ss->state) {
	case SMKEX_STATE_HANDSHAKE:
		smkex_rearm(ss, rounds == 8);
		return;
	case SMKEX_STATE_FAILED:
		if (ss->reset_pending) {
			ss->reset_pending = false;
			smkex_reset(sk, ss);
			smkex_wake(sk, ss);
		}
		return;
	case SMKEX_STATE_COMPLETE:
		if (state_before == SMKEX_STATE_HANDSHAKE)
			smkex_wake(sk, ss);
		if (ss->sched_installed && !smkex_finish(sk, ss))
			queue_delayed_work(system_wq, &ss->work, SMKEX_TICK);
		return;
	}
}

/* ---- life cycle, called by sock.c ---- */

/* At attach: the socket's state starts with no handshake. */
void smkex_hs_init(struct smkex_sock *ss, struct sock *sk)
{
	ss->sk = sk;
	mutex_init(&ss->lock);
	init_waitqueue_head(&ss->wait);
	INIT_DELAYED_WORK(&ss->work, smkex_hs_work);
}

/* At module load: the session must fit the memory kmalloc gives. */
int smkex_hs_check_session(void)
{
	if (smkex_proto_session_align() > ARCH_KMALLOC_MINALIGN ||
	    smkex_proto_max_record_len() != SMKEX_MAX_RECORD_LEN) {
		pr_err("smkex: protocol core ABI mismatch\n");
		return -ELIBBAD;
	}
	return 0;
}

/*
 * Before the connection starts: the session for `role` (SMKEX_ROLE_CLIENT
 * or SMKEX_ROLE_SERVER, numbered as in the core), with fresh randomness.
 * The only step that can fail (-ENOMEM), so that connect() fails before
 * any packet leaves.
 */
int smkex_hs_prepare(struct sock *sk, struct smkex_sock *ss, u8 role)
{
	u8 random[SMKEX_RANDOM_LEN];
	void *session;

	session = kzalloc(smkex_proto_session_size(), GFP_KERNEL);
	if (!session) {
		smkex_stat_inc(sock_net(sk), SMKEX_STAT_START_FAILED);
		return -ENOMEM;
	}
	get_random_bytes(random, sizeof(random));
	mutex_lock(&ss->lock);
	/* A connect() that failed after preparing left one behind. */
	if (ss->session) {
		smkex_proto_session_drop(ss->session);
		kfree_sensitive(ss->session);
	}
	smkex_proto_session_init(session, role, &random, ss->timeout_ms);
	ss->session = session;
	ss->role = role;
	mutex_unlock(&ss->lock);
	memzero_explicit(random, sizeof(random));
	/* No data has moved on a client yet; a server adopts its record (accept). */
	if (role == SMKEX_ROLE_CLIENT) {
		mptcp_data_lock(sk);
		smkex_prov_begin(&ss->prov, smkex_hs_peer_bytes(role, 0));
		mptcp_data_unlock(sk);
	}
	return 0;
}

/*
 * accept(), socket locked: the new connection's provenance record moves from
 * the pending pool into ss, and ss becomes the socket's state. Without a
 * pending record nothing may have moved yet (else the origin of those bytes
 * is unknown and the record says so).
 */
void smkex_hs_adopt_locked(struct sock *sk, struct smkex_sock *ss)
{
	void *data;

	rcu_read_lock();
	mptcp_data_lock(sk);
	data = __rcu_dereference_sk_user_data_with_flags(sk, SK_USER_DATA_NOCOPY);
	if (smkex_prov_is_pending(data)) {
		ss->prov = *(struct smkex_prov *)data;
		smkex_prov_release(data);
	} else {
		smkex_prov_begin(&ss->prov, smkex_hs_peer_bytes(SMKEX_ROLE_SERVER, 0));
		smkex_prov_start(&ss->prov, mptcp_sk(sk));
	}
	__rcu_assign_sk_user_data_with_flags(sk, ss, SK_USER_DATA_NOCOPY);
	mptcp_data_unlock(sk);
	rcu_read_unlock();
}

/* The socket is going away unaccepted: give its pending record back. */
void smkex_hs_release_pending(struct sock *sk)
{
	void *data;

	rcu_read_lock();
	mptcp_data_lock(sk);
	data = __rcu_dereference_sk_user_data_with_flags(sk, SK_USER_DATA_NOCOPY);
	if (smkex_prov_is_pending(data)) {
		__rcu_assign_sk_user_data_with_flags(sk, NULL, SK_USER_DATA_NOCOPY);
		smkex_prov_release(data);
	}
	mptcp_data_unlock(sk);
	rcu_read_unlock();
}

/*
 * Socket locked: give the socket back to MPTCP's proto `base`, without our
 * state (a pending record goes back to the pool). Under the data lock, so
 * that the data-move hook, which reads sk_prot and then sk_user_data under
 * that lock, never sees our proto without our state (it would claim a
 * pending record nobody returns).
 */
void smkex_hs_give_back(struct sock *sk, struct proto *base)
{
	void *data;

	rcu_read_lock();
	mptcp_data_lock(sk);
	data = __rcu_dereference_sk_user_data_with_flags(sk, SK_USER_DATA_NOCOPY);
	if (smkex_prov_is_pending(data))
		smkex_prov_release(data);
	WRITE_ONCE(sk->sk_prot, base);
	__rcu_assign_sk_user_data_with_flags(sk, NULL, SK_USER_DATA_NOCOPY);
	mptcp_data_unlock(sk);
	rcu_read_unlock();
}

/*
 * connect(), socket locked: TCP Fast Open would put application data in
 * the SYN, before any key. MPTCP keeps TCP_FASTOPEN_CONNECT on the first
 * subflow and copies DEFER_CONNECT to the msk only inside connect().
 */
bool smkex_hs_fastopen_requested(struct sock *sk)
{
	struct sock *first = mptcp_sk(sk)->first;

	return inet_test_bit(DEFER_CONNECT, sk) || (first && tcp_sk(first)->fastopen_connect);
}

/*
 * connect(AF_UNSPEC) or a failed connect, socket locked, after MPTCP's
 * disconnect: a handshake that ran belongs to the old connection. It ends
 * for good (failed, local error, key material erased), so that the socket
 * can never carry a new connection that SMKEX did not protect while
 * SMKEX_INFO still described the old one; connect() then refuses.
 */
void smkex_hs_disconnect_locked(struct sock *sk, struct smkex_sock *ss)
{
	smkex_sched_restore(sk, ss);
	smkex_callbacks_restore(sk, ss);
	mutex_lock(&ss->lock);
	if (ss->state == SMKEX_STATE_HANDSHAKE || ss->state == SMKEX_STATE_COMPLETE) {
		bool complete = ss->state == SMKEX_STATE_COMPLETE;

		ss->reason = SMKEX_REASON_LOCAL_ERROR;
		ss->err = ECONNABORTED;
		ss->reset_pending = false;
		if (!complete) {
			smkex_set_duration(ss);
			smkex_stat_inc(sock_net(sk), SMKEX_STAT_HS_FAILED);
			smkex_stat_inc(sock_net(sk), SMKEX_STAT_FAIL_REASON + SMKEX_REASON_LOCAL_ERROR - 1);
		}
		smp_store_release(&ss->state, SMKEX_STATE_FAILED);
	}
	if (ss->session) {
		smkex_proto_session_drop(ss->session);
		kfree_sensitive(ss->session);
		ss->session = NULL;
	}
	mutex_unlock(&ss->lock);
	wake_up_all(&ss->wait);
}

/*
 * Socket locked, session prepared, the connection just started (client:
 * connect() sent the SYN; server: accept() returned it).
 */
void smkex_hs_start(struct sock *sk, struct smkex_sock *ss)
{
	mutex_lock(&ss->lock);
	ss->started = ktime_get();
	WRITE_ONCE(ss->state, SMKEX_STATE_HANDSHAKE);
	mutex_unlock(&ss->lock);
	smkex_sched_install(sk, ss);
	smkex_callbacks_install(sk, ss);
	smkex_stat_inc(sock_net(sk), SMKEX_STAT_HS_STARTED);
	pr_debug("smkex: %s handshake started, timeout %u ms\n",
		 ss->role == SMKEX_ROLE_CLIENT ? "client" : "server", ss->timeout_ms);
	mod_delayed_work(system_wq, &ss->work, 0);
}

/* close(), unlocked: after this the work never runs again. */
void smkex_hs_stop(struct smkex_sock *ss)
{
	disable_delayed_work_sync(&ss->work);
}

/* close(), socket locked, work stopped: nothing of ours stays on the msk. */
void smkex_hs_detach_locked(struct sock *sk, struct smkex_sock *ss)
{
	smkex_sched_restore(sk, ss);
	smkex_callbacks_restore(sk, ss);
}

/* close(), last: the session's secrets are zeroized. */
void smkex_hs_free(struct smkex_sock *ss)
{
	if (ss->session) {
		smkex_proto_session_drop(ss->session);
		kfree_sensitive(ss->session);
	}
	memzero_explicit(ss->out, sizeof(ss->out));
	memzero_explicit(ss->rx, sizeof(ss->rx));
	kfree_rcu(ss, rcu);
}
