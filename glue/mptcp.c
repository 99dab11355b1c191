// SPDX-License-Identifier: GPL-2.0
/*
 * Accessors of the socket and of MPTCP's private structures
 * (net/mptcp/protocol.h, compiled against the exact tree), including the
 * per-connection scheduler that pins the handshake's records to one
 * subflow. Nothing here decides anything: see rust/smkex_mod/.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/module.h>
#include <linux/uio.h>
#include <linux/workqueue.h>
#include <net/dst.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/mptcp.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "protocol.h"	/* net/mptcp: struct mptcp_sock, subflow contexts */
#include "smkex_glue.h"


void smkex_glue_lock(struct sock *sk)
{
	lock_sock(sk);
}

void smkex_glue_unlock(struct sock *sk)
{
	release_sock(sk);
}

void smkex_glue_data_lock(struct sock *sk)
{
	mptcp_data_lock(sk);
}

void smkex_glue_data_unlock(struct sock *sk)
{
	mptcp_data_unlock(sk);
}

/*
 * The pointer stays valid after the RCU section in the contexts the
 * contract names (a state is freed only after close and a grace period).
 */
void *smkex_glue_user_data(const struct sock *sk)
{
	void *data;

	rcu_read_lock();
	data = __rcu_dereference_sk_user_data_with_flags(sk, SK_USER_DATA_NOCOPY);
	rcu_read_unlock();
	return data;
}

void smkex_glue_set_user_data(struct sock *sk, void *data)
{
	__rcu_assign_sk_user_data_with_flags(sk, data, SK_USER_DATA_NOCOPY);
}

int smkex_glue_sk_state(const struct sock *sk)
{
	return inet_sk_state_load(sk);
}

/*
 * TCP Fast Open would put application data in the SYN, before any key.
 * MPTCP keeps TCP_FASTOPEN_CONNECT on the first subflow and copies
 * DEFER_CONNECT to the msk only inside connect().
 */
bool smkex_glue_fastopen_requested(struct sock *sk)
{
	struct sock *first = mptcp_sk(sk)->first;

	return inet_test_bit(DEFER_CONNECT, sk) || (first && tcp_sk(first)->fastopen_connect);
}

long smkex_glue_timeo(struct sock *sk, bool send, bool nonblock)
{
	return send ? sock_sndtimeo(sk, nonblock) : sock_rcvtimeo(sk, nonblock);
}

int smkex_glue_copy_optval(const sockptr_t *optval, void *dst, size_t len)
{
	return copy_from_sockptr(dst, *optval, len) ? -EFAULT : 0;
}

void smkex_glue_work_init(struct delayed_work *work, void (*fn)(struct work_struct *))
{
	INIT_DELAYED_WORK(work, fn);
}

void smkex_glue_work_kick(struct delayed_work *work)
{
	mod_delayed_work(system_wq, work, 0);
}

void smkex_glue_work_queue(struct delayed_work *work, unsigned long delay)
{
	queue_delayed_work(system_wq, work, delay);
}

/* ---- what the connection looks like ---- */

/* The addresses of a subflow, an IPv4-mapped IPv6 address as AF_INET. */
static void smkex_fill_info(struct smkex_channel_info *ci, const struct sock *ssk)
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

void smkex_glue_read_conn(struct sock *sk, struct smkex_glue_conn *conn)
{
	struct mptcp_sock *msk = mptcp_sk(sk);
	struct mptcp_subflow_context *subflow;
	struct sock *first = msk->first;

	memset(conn, 0, sizeof(*conn));
	conn->fallback = __mptcp_check_fallback(msk);
	conn->reset = sk->sk_state == TCP_CLOSE && (!first || inet_sk_state_load(first) == TCP_CLOSE);
	conn->established = sk->sk_state == TCP_ESTABLISHED;
	conn->deny_join_id0 = READ_ONCE(msk->pm.remote_deny_join_id0);
	mptcp_for_each_subflow(msk, subflow) {
		struct sock *ssk = mptcp_subflow_tcp_sock(subflow);
		struct smkex_glue_subflow *s;

		if (conn->n == SMKEX_GLUE_SUBFLOWS) {
			conn->truncated = true;
			break;
		}
		s = &conn->sub[conn->n++];
		s->id = READ_ONCE(subflow->subflow_id);
		s->usable = __mptcp_subflow_active(subflow) &&
			    inet_sk_state_load(ssk) == TCP_ESTABLISHED;
		s->first = ssk == first;
		s->request_join = subflow->request_join;
		s->ifindex = smkex_egress_ifindex(ssk);
		smkex_fill_info(&s->info, ssk);
	}
}

/* ---- the handshake's and the record layer's I/O ---- */

int smkex_glue_send(struct sock *sk, const u8 *buf, size_t len, int flags)
{
	struct msghdr msg = { .msg_flags = flags };
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &kv, 1, len);
	return smkex_glue_base(sk)->sendmsg(sk, &msg, len);
}

int smkex_glue_recv(struct sock *sk, u8 *buf, size_t len, int flags)
{
	struct msghdr msg = {};
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	int addr_len;

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, len);
	return smkex_glue_base(sk)->recvmsg(sk, &msg, len, flags, &addr_len);
}

u64 smkex_glue_data_avail(const struct sock *sk)
{
	return mptcp_data_avail(mptcp_sk(sk));
}

static bool smkex_readable(struct sock *sk)
{
	return mptcp_data_avail(mptcp_sk(sk)) || READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
	       inet_sk_state_load(sk) == TCP_CLOSE;
}

int smkex_glue_wait_data(struct sock *sk, long *timeo, const bool *ready)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	int err = 0;

	lock_sock(sk);
	add_wait_queue(sk_sleep(sk), &wait);
	while (!smkex_readable(sk) && !READ_ONCE(*ready)) {
		if (!*timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(*timeo);
			break;
		}
		sk_wait_event(sk, timeo, smkex_readable(sk) || READ_ONCE(*ready), &wait);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	release_sock(sk);
	return err;
}

int smkex_glue_wait_memory(struct sock *sk, long *timeo)
{
	int err;

	lock_sock(sk);
	err = sk_stream_wait_memory(sk, timeo);
	release_sock(sk);
	return err;
}

size_t smkex_glue_send_room(const struct sock *sk)
{
	int room = READ_ONCE(sk->sk_sndbuf) - READ_ONCE(sk->sk_wmem_queued);

	return room > 0 ? room : 0;
}

/*
 * Socket and data lock held: MPTCP moves first_pending only under them, and
 * only the handshake work queues data, so NULL stays NULL until it sends.
 */
bool smkex_glue_nothing_unsent(struct sock *sk)
{
	return !mptcp_send_head(sk);
}

u64 smkex_glue_write_seq(struct sock *sk)
{
	return READ_ONCE(mptcp_sk(sk)->write_seq);
}

bool smkex_glue_acked(struct sock *sk, u64 seq)
{
	return !before64(READ_ONCE(mptcp_sk(sk)->snd_una), seq);
}

void smkex_glue_subflow_handshake_done(struct sock *sk, u32 id)
{
	struct mptcp_subflow_context *subflow;

	mptcp_for_each_subflow(mptcp_sk(sk), subflow) {
		struct sock *ssk = mptcp_subflow_tcp_sock(subflow);
		struct tcp_sock *tp = tcp_sk(ssk);

		if (READ_ONCE(subflow->subflow_id) != id)
			continue;
		/* The subflow lock nests in the msk's, as in MPTCP. */
		tcp_sock_set_quickack(ssk, 1);
		/*
		 * Nagle (Minshall's variant) holds a small segment while the
		 * last small one sent is unacknowledged; a sent record must
		 * not be that one. Only once the record left: an unsent one
		 * is pushed with what follows it anyway.
		 */
		lock_sock(ssk);
		if (tcp_write_queue_empty(ssk))
			tp->snd_sml = tp->snd_una;
		release_sock(ssk);
		return;
	}
}

/* An error not read yet (a refused connect's ECONNREFUSED) stays. */
void smkex_glue_reset(struct sock *sk, int err)
{
	int pending = READ_ONCE(sk->sk_err);

	if (sk->sk_state != TCP_CLOSE)
		smkex_glue_base(sk)->disconnect(sk, 0);
	WRITE_ONCE(sk->sk_err, pending ?: err);
}

void smkex_glue_error_report(struct sock *sk)
{
	sk_error_report(sk);
}

void smkex_glue_state_change(struct sock *sk)
{
	sk->sk_state_change(sk);
}

static void smkex_wake(struct sock *sk, __poll_t events)
{
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, events);
	rcu_read_unlock();
}

/* As sk_stream_write_space, without its own look at the send room. */
void smkex_glue_wake_writers(struct sock *sk)
{
	smkex_wake(sk, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
}

void smkex_glue_wake_readers(struct sock *sk)
{
	smkex_wake(sk, EPOLLIN | EPOLLRDNORM);
}

/* ---- the pinned scheduler ---- */

/*
 * Puts data only on subflow `pin` and refuses MPTCP-level reinjection:
 * resending a record on another subflow would break the channel binding.
 * Called by MPTCP with the msk owned, or from softirq with its data lock
 * held.
 */
static int smkex_sched_pick(struct mptcp_sock *msk, struct mptcp_sched_data *data, u32 pin)
{
	struct mptcp_subflow_context *subflow;

	if (data->reinject || !pin)
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

/* Installed and removed under the socket and data locks: the state is alive. */
static int smkex_sched_get_subflow(struct mptcp_sock *msk, struct mptcp_sched_data *data)
{
	u32 pin;

	rcu_read_lock();
	pin = smkex_rs_pin((struct sock *)msk);
	rcu_read_unlock();
	return smkex_sched_pick(msk, data, pin);
}

/* Never registered: installed on one connection at a time, owner-less. */
static struct mptcp_sched_ops smkex_sched = {
	.get_subflow = smkex_sched_get_subflow,
	.name = "smkex-pinned",
};

/*
 * After close(), while the peer has not acknowledged our last record: the
 * state is gone, so the pin is the ops' place in this array (subflow_id
 * index + 1). MPTCP keeps them until it destroys the connection, then
 * drops the module reference they hold (mptcp_release_sched).
 */
#define SMKEX_LINGER_PINS 8
static int smkex_linger_get_subflow(struct mptcp_sock *msk, struct mptcp_sched_data *data);
static struct mptcp_sched_ops smkex_linger[SMKEX_LINGER_PINS] = {
	[0 ... SMKEX_LINGER_PINS - 1] = {
		.get_subflow = smkex_linger_get_subflow,
		.name = "smkex-linger",
		.owner = THIS_MODULE,
	},
};

static int smkex_linger_get_subflow(struct mptcp_sock *msk, struct mptcp_sched_data *data)
{
	return smkex_sched_pick(msk, data, msk->sched - smkex_linger + 1);
}

void *smkex_glue_sched_pin(struct sock *sk)
{
	struct mptcp_sock *msk = mptcp_sk(sk);
	void *saved;

	mptcp_data_lock(sk);
	saved = msk->sched;
	msk->sched = &smkex_sched;
	mptcp_data_unlock(sk);
	return saved;
}

void smkex_glue_sched_unpin(struct sock *sk, void *saved)
{
	mptcp_data_lock(sk);
	mptcp_sk(sk)->sched = saved;
	mptcp_data_unlock(sk);
}

bool smkex_glue_sched_linger(struct sock *sk, void *saved, u32 pin)
{
	struct mptcp_sched_ops *mptcp_own = saved;

	if (!pin || pin > SMKEX_LINGER_PINS)
		return false;
#ifdef BPF_MODULE_OWNER
	/* A BPF scheduler's reference is not a module's: give it back instead. */
	if (mptcp_own->owner == BPF_MODULE_OWNER)
		return false;
#endif
	__module_get(THIS_MODULE);	/* the socket holds one: cannot fail */
	mptcp_data_lock(sk);
	mptcp_sk(sk)->sched = &smkex_linger[pin - 1];
	mptcp_data_unlock(sk);
	/* The reference mptcp_init_sched took on MPTCP's own scheduler. */
	module_put(mptcp_own->owner);
	return true;
}

/* ---- data_ready and state_change: only queue the work ---- */

/* Every MPTCP socket has the same ones (sock_def_readable, sock_def_wakeup). */
static void (*smkex_base_data_ready)(struct sock *sk);
static void (*smkex_base_state_change)(struct sock *sk);

static void smkex_data_ready(struct sock *sk)
{
	rcu_read_lock();
	smkex_rs_kick(sk);
	rcu_read_unlock();
	smkex_base_data_ready(sk);
}

static void smkex_state_change(struct sock *sk)
{
	rcu_read_lock();
	smkex_rs_kick(sk);
	rcu_read_unlock();
	smkex_base_state_change(sk);
}

bool smkex_glue_callbacks_install(struct sock *sk)
{
	bool installed = false;

	write_lock_bh(&sk->sk_callback_lock);
	if (!smkex_base_data_ready) {
		smkex_base_data_ready = sk->sk_data_ready;
		smkex_base_state_change = sk->sk_state_change;
	}
	if (sk->sk_data_ready == smkex_base_data_ready &&
	    sk->sk_state_change == smkex_base_state_change) {
		WRITE_ONCE(sk->sk_data_ready, smkex_data_ready);
		WRITE_ONCE(sk->sk_state_change, smkex_state_change);
		installed = true;
	}
	write_unlock_bh(&sk->sk_callback_lock);
	return installed;
}

void smkex_glue_callbacks_restore(struct sock *sk)
{
	write_lock_bh(&sk->sk_callback_lock);
	WRITE_ONCE(sk->sk_data_ready, smkex_base_data_ready);
	WRITE_ONCE(sk->sk_state_change, smkex_base_state_change);
	write_unlock_bh(&sk->sk_callback_lock);
}

/* ---- provenance: where MPTCP moves data (under the data lock) ---- */

u64 smkex_glue_ack_seq(const struct sock *sk)
{
	return READ_ONCE(mptcp_sk(sk)->ack_seq);
}

bool smkex_glue_data_moved(const struct sock *sk)
{
	const struct mptcp_sock *msk = mptcp_sk(sk);

	return msk->bytes_received || !RB_EMPTY_ROOT(&msk->out_of_order_queue);
}

unsigned int smkex_glue_ofo(const struct sock *sk, u64 end, struct smkex_glue_ofo *out,
			    unsigned int max, bool *truncated)
{
	const struct mptcp_sock *msk = mptcp_sk(sk);
	struct rb_node *node;
	unsigned int n = 0;

	*truncated = false;
	for (node = rb_first(&msk->out_of_order_queue); node; node = rb_next(node)) {
		const struct sk_buff *skb = rb_to_skb(node);

		if (!before64(MPTCP_SKB_CB(skb)->map_seq, end))
			break;
		if (n == max) {
			*truncated = true;
			break;
		}
		out[n].key = (unsigned long)skb;
		out[n].map_seq = MPTCP_SKB_CB(skb)->map_seq;
		out[n].end_seq = MPTCP_SKB_CB(skb)->end_seq;
		n++;
	}
	return n;
}
