// SPDX-License-Identifier: GPL-2.0
/*
 * Taking over one MPTCP socket for SMKEX, the way kTLS does: the socket's
 * sk_prot and sock->ops are pointed at per-family copies of MPTCP's own
 * whose SMKEX-relevant callbacks are ours, so that sockets which never set
 * an SMKEX option never run module code. The first setsockopt(SOL_SMKEX)
 * reaches us through an ftrace hook on mptcp_setsockopt (MPTCP answers
 * ENOPROTOOPT to unknown levels); later calls go through the copies. A
 * getsockopt(SOL_SMKEX) on a socket never taken over is answered through a
 * hook on mptcp_getsockopt, as "SMKEX off", without taking the socket over.
 *
 * Why C: 6.12's kernel crate has no socket abstractions; everything here
 * touches struct sock, sockptr_t or ftrace.
 *
 * Lifetime and unload: the ops copies are owned by this module, so every
 * socket that uses them holds a module reference (taken when the ops are
 * swapped, dropped by __sock_release). rmmod is therefore refused while any
 * SMKEX socket exists. close() restores MPTCP's proto before calling its
 * close, so nothing of ours is reachable from an orphaned socket.
 */
#include <linux/ftrace.h>
#include <linux/in.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/sockptr.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp_states.h>
#include <uapi/linux/smkex.h>

#include "smkex_helpers.h"
#include "smkex_sock.h"

enum { SMKEX_FAM_V4, SMKEX_FAM_V6, SMKEX_NFAM };

/* Per-family copies of MPTCP's proto and proto_ops, built on first use. */
static DEFINE_MUTEX(smkex_prot_lock);
static struct proto *smkex_base_prot[SMKEX_NFAM];
static const struct proto_ops *smkex_base_ops[SMKEX_NFAM];
static struct proto smkex_prot[SMKEX_NFAM];
static struct proto_ops smkex_ops[SMKEX_NFAM];

static int smkex_family(const struct sock *sk)
{
	return sk->sk_family == AF_INET6 ? SMKEX_FAM_V6 : SMKEX_FAM_V4;
}

/*
 * The state stays valid after the RCU section: only close() frees it, and
 * close() never runs concurrently with the socket's other calls.
 */
static struct smkex_sock *smkex_sk(const struct sock *sk)
{
	struct smkex_sock *ss;

	rcu_read_lock();
	ss = smkex_sock_state(sk);
	rcu_read_unlock();
	return ss;
}

struct proto *smkex_base_proto(const struct sock *sk)
{
	return smkex_base_prot[smkex_family(sk)];
}

bool smkex_sock_owned(const struct sock *sk)
{
	return READ_ONCE(sk->sk_prot) == &smkex_prot[smkex_family(sk)];
}

/* Count and log (dynamic debug) a failed SOL_SMKEX request; returns err. */
static int smkex_opt_result(const struct sock *sk, const char *dir, int optname, int err)
{
	enum smkex_stat stat;

	switch (err) {
	case 0:
		return 0;
	case -EINVAL:
		stat = SMKEX_STAT_OPT_INVALID;
		break;
	case -EFAULT:
		stat = SMKEX_STAT_OPT_FAULT;
		break;
	case -ENOPROTOOPT:
		stat = SMKEX_STAT_OPT_UNKNOWN;
		break;
	case -EISCONN:
		stat = SMKEX_STAT_OPT_TOO_LATE;
		break;
	case -ENOTCONN:
	case -ECONNABORTED:
		stat = SMKEX_STAT_KEY_NOT_READY;
		break;
	default:
		stat = SMKEX_STAT_OPT_OTHER;
		break;
	}
	smkex_stat_inc(sock_net(sk), stat);
	pr_debug("smkex: %ssockopt(SOL_SMKEX, %d) failed: %d\n", dir, optname, err);
	return err;
}

/* ---- option handling ---- */

static int smkex_get_int(sockptr_t optval, unsigned int optlen, int *val)
{
	if (optlen != sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(val, optval, sizeof(int)))
		return -EFAULT;
	return 0;
}

/* Options are settable only before connect() or listen(). */
static bool smkex_too_late(const struct sock *sk, const struct smkex_sock *ss)
{
	return sk->sk_state != TCP_CLOSE ||
	       (ss->state != SMKEX_STATE_OFF && ss->state != SMKEX_STATE_ENABLED) ||
	       ss->role == SMKEX_ROLE_LISTENER;
}

/*
 * SMKEX_PEER_ADDRS: whole entries only, each AF_INET (unused bytes zero) or
 * AF_INET6, reserved zero, no unspecified, multicast or broadcast address.
 */
static int smkex_set_peer_addrs(struct smkex_sock *ss, sockptr_t optval, unsigned int optlen)
{
	struct smkex_peer_addr list[SMKEX_MAX_PEER_ADDRS];
	unsigned int i, n = optlen / sizeof(list[0]);

	if (optlen % sizeof(list[0]) || n > SMKEX_MAX_PEER_ADDRS)
		return -EINVAL;
	if (n && copy_from_sockptr(list, optval, optlen))
		return -EFAULT;
	for (i = 0; i < n; i++) {
		const struct smkex_peer_addr *pa = &list[i];

		if (pa->reserved)
			return -EINVAL;
		if (pa->family == AF_INET) {
			__be32 a;

			memcpy(&a, pa->addr, 4);
			if (memchr_inv(pa->addr + 4, 0, 12) || ipv4_is_zeronet(a) ||
			    ipv4_is_multicast(a) || ipv4_is_lbcast(a))
				return -EINVAL;
		} else if (pa->family == AF_INET6) {
			struct in6_addr a;

			memcpy(&a, pa->addr, 16);
			if (ipv6_addr_any(&a) || ipv6_addr_is_multicast(&a))
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	memcpy(ss->peer_addr, list, n * sizeof(list[0]));
	ss->n_peer_addr = n;
	return 0;
}

/* Socket locked and ss->lock held. */
static int smkex_set_locked(struct sock *sk, struct smkex_sock *ss, int optname,
			    sockptr_t optval, unsigned int optlen)
{
	int val, err;

	switch (optname) {
	case SMKEX_ENABLE:
		err = smkex_get_int(optval, optlen, &val);
		if (err)
			return err;
		if (val != 0 && val != 1)
			return -EINVAL;
		if (smkex_too_late(sk, ss))
			return -EISCONN;
		/* An SMKEX socket needs MPTCP's data moves and subflow events watched. */
		if (val && !ss->hooks_held) {
			err = smkex_hooks_get();
			if (err)
				return err;
			ss->hooks_held = true;
		} else if (!val && ss->hooks_held) {
			smkex_hooks_put();
			ss->hooks_held = false;
		}
		ss->enabled = val;
		WRITE_ONCE(ss->state, val ? SMKEX_STATE_ENABLED : SMKEX_STATE_OFF);
		return 0;
	case SMKEX_PEER_ADDRS:
		if (smkex_too_late(sk, ss))
			return -EISCONN;
		return smkex_set_peer_addrs(ss, optval, optlen);
	case SMKEX_TIMEOUT_MS:
		err = smkex_get_int(optval, optlen, &val);
		if (err)
			return err;
		if (val < SMKEX_TIMEOUT_MIN_MS || val > SMKEX_TIMEOUT_MAX_MS)
			return -EINVAL;
		if (smkex_too_late(sk, ss))
			return -EISCONN;
		ss->timeout_ms = val;
		return 0;
	default:
		/* Unknown, and the get-only options. */
		return -ENOPROTOOPT;
	}
}

static int smkex_put(char __user *optval, int __user *optlen, const void *val, int len)
{
	if (put_user(len, optlen))
		return -EFAULT;
	if (copy_to_user(optval, val, len))
		return -EFAULT;
	return 0;
}

/* Errno for the key material of a handshake that is not complete. */
static int smkex_not_ready(const struct smkex_sock *ss)
{
	return ss->state == SMKEX_STATE_FAILED ? -ECONNABORTED : -ENOTCONN;
}

static int smkex_get_session_key(struct smkex_sock *ss, char __user *optval,
				 int __user *optlen, int len)
{
	u8 key[SMKEX_KEY_LEN];
	int err;

	if (len < SMKEX_KEY_LEN)
		return -EINVAL;
	if (ss->state != SMKEX_STATE_COMPLETE || smkex_proto_session_key(ss->session, &key))
		return smkex_not_ready(ss);
	err = smkex_put(optval, optlen, key, SMKEX_KEY_LEN);
	memzero_explicit(key, sizeof(key));
	return err;
}

static int smkex_get_export(struct smkex_sock *ss, char __user *optval, int __user *optlen,
			    int len)
{
	struct smkex_export *ex;
	int err;

	if (len != sizeof(*ex))
		return -EINVAL;
	if (ss->state != SMKEX_STATE_COMPLETE)
		return smkex_not_ready(ss);
	ex = kmalloc(sizeof(*ex), GFP_KERNEL);
	if (!ex)
		return -ENOMEM;
	if (copy_from_user(ex, optval, sizeof(*ex))) {
		err = -EFAULT;
		goto out;
	}
	if (ex->reserved || !ex->out_len) {
		err = -EINVAL;
		goto out;
	}
	switch (smkex_proto_session_export(ss->session, ex->label, ex->label_len, ex->context,
					   ex->context_len, ex->out, ex->out_len)) {
	case 0:
		err = smkex_put(optval, optlen, ex, sizeof(*ex));
		break;
	case 1:		/* not complete */
		err = smkex_not_ready(ss);
		break;
	default:	/* a length the exporter refuses */
		err = -EINVAL;
		break;
	}
out:
	kfree_sensitive(ex);
	return err;
}

static void smkex_fill_info(const struct smkex_sock *ss, struct smkex_info *info)
{
	memset(info, 0, sizeof(*info));
	info->state = ss->state;
	info->role = ss->role;
	info->version = ss->enabled ? SMKEX_PROTOCOL_VERSION : 0;
	info->reason = ss->reason;
	info->timeout_ms = ss->timeout_ms;
	info->duration_us = ss->duration_us;
	memcpy(info->channel, ss->channel, sizeof(info->channel));
	if (ss->state == SMKEX_STATE_COMPLETE)
		smkex_proto_session_transcript_hash(ss->session, &info->transcript_hash);
}

/* ss->lock held (or ss private to the caller). */
static int smkex_get_locked(struct smkex_sock *ss, int optname, char __user *optval,
			    int __user *optlen)
{
	struct smkex_info info;
	int len, val;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;

	switch (optname) {
	case SMKEX_ENABLE:
	case SMKEX_TIMEOUT_MS:
		if (len < sizeof(int))
			return -EINVAL;
		val = optname == SMKEX_ENABLE ? ss->enabled : ss->timeout_ms;
		return smkex_put(optval, optlen, &val, sizeof(int));
	case SMKEX_INFO:
		if (len < SMKEX_INFO_SIZE_V1)
			return -EINVAL;
		smkex_fill_info(ss, &info);
		return smkex_put(optval, optlen, &info, min_t(int, len, sizeof(info)));
	case SMKEX_PEER_ADDRS:
		if (len < ss->n_peer_addr * sizeof(ss->peer_addr[0]))
			return -EINVAL;
		return smkex_put(optval, optlen, ss->peer_addr,
				 ss->n_peer_addr * sizeof(ss->peer_addr[0]));
	case SMKEX_SESSION_KEY:
		return smkex_get_session_key(ss, optval, optlen, len);
	case SMKEX_EXPORT:
		return smkex_get_export(ss, optval, optlen, len);
	default:
		return -ENOPROTOOPT;
	}
}

/* ---- the proto and proto_ops callbacks of SMKEX sockets ---- */

static int smkex_setsockopt(struct sock *sk, int level, int optname, sockptr_t optval,
			    unsigned int optlen)
{
	struct smkex_sock *ss;
	int err;

	if (level != SOL_SMKEX)
		return smkex_base_proto(sk)->setsockopt(sk, level, optname, optval, optlen);
	lock_sock(sk);
	ss = smkex_sk(sk);
	if (ss) {
		mutex_lock(&ss->lock);
		err = smkex_set_locked(sk, ss, optname, optval, optlen);
		mutex_unlock(&ss->lock);
	} else {
		err = -ENOPROTOOPT;
	}
	release_sock(sk);
	return smkex_opt_result(sk, "set", optname, err);
}

/* Not under the socket lock, so that reading never waits for a send. */
static int smkex_getsockopt(struct sock *sk, int level, int optname, char __user *optval,
			    int __user *optlen)
{
	struct smkex_sock *ss;
	int err;

	if (level != SOL_SMKEX)
		return smkex_base_proto(sk)->getsockopt(sk, level, optname, optval, optlen);
	ss = smkex_sk(sk);
	if (ss) {
		mutex_lock(&ss->lock);
		err = smkex_get_locked(ss, optname, optval, optlen);
		mutex_unlock(&ss->lock);
	} else {
		err = -ENOPROTOOPT;
	}
	return smkex_opt_result(sk, "get", optname, err);
}

static struct smkex_sock *smkex_sock_alloc(struct sock *sk)
{
	struct smkex_sock *ss = kzalloc(sizeof(*ss), GFP_KERNEL);

	if (!ss)
		return NULL;
	ss->timeout_ms = smkex_param_handshake_timeout_ms();
	smkex_hs_init(ss, sk);
	return ss;
}

/* Called by __inet_stream_connect with the socket locked. */
static int smkex_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len)
{
	struct smkex_sock *ss = smkex_sk(sk);
	bool run = ss && ss->enabled;
	int err;

	if (run) {
		/* SMKEX runs once per socket: never an unprotected reconnect. */
		if (READ_ONCE(ss->state) != SMKEX_STATE_ENABLED)
			return -EISCONN;
		/* The handshake's SYN data would be unprotected application data. */
		if (smkex_hs_fastopen_requested(sk))
			return -EOPNOTSUPP;
		err = smkex_hs_prepare(sk, ss, SMKEX_ROLE_CLIENT);
		if (err)
			return err;
	}
	err = smkex_base_proto(sk)->connect(sk, uaddr, addr_len);
	if (run && !err)
		smkex_hs_start(sk, ss);
	return err;
}

/*
 * Until the handshake is complete no application byte moves: non-blocking
 * calls get EAGAIN, blocking ones wait (bounded by the socket's timeout),
 * and after a failure every call gets the errno of its reason.
 */
static int smkex_wait_complete(struct sock *sk, bool nonblock, long timeo)
{
	struct smkex_sock *ss = smkex_sk(sk);
	long left;

	if (!ss || !ss->enabled)
		return 0;
	for (;;) {
		/* Pairs with smp_store_release in handshake.c: err is set before. */
		switch (smp_load_acquire(&ss->state)) {
		case SMKEX_STATE_FAILED:
			return -READ_ONCE(ss->err);
		case SMKEX_STATE_HANDSHAKE:
			break;
		default:	/* not connected yet (MPTCP answers), or complete */
			return 0;
		}
		if (nonblock || !timeo)
			return -EAGAIN;
		left = wait_event_interruptible_timeout(ss->wait,
							READ_ONCE(ss->state) != SMKEX_STATE_HANDSHAKE,
							timeo);
		if (left < 0)
			return sock_intr_errno(timeo);
		if (!left)
			return -EAGAIN;
		timeo = left;
	}
}

static int smkex_sendmsg(struct sock *sk, struct msghdr *msg, size_t len)
{
	bool nonblock = msg->msg_flags & MSG_DONTWAIT;
	int err;

	/* Fast Open would put application data in the SYN, before any key. */
	if (msg->msg_flags & MSG_FASTOPEN) {
		struct smkex_sock *ss = smkex_sk(sk);

		if (ss && ss->enabled)
			return -EOPNOTSUPP;
	}
	err = smkex_wait_complete(sk, nonblock, sock_sndtimeo(sk, nonblock));
	if (err)
		return err;
	return smkex_base_proto(sk)->sendmsg(sk, msg, len);
}

static int smkex_recvmsg(struct sock *sk, struct msghdr *msg, size_t len, int flags,
			 int *addr_len)
{
	bool nonblock = flags & MSG_DONTWAIT;
	int err = smkex_wait_complete(sk, nonblock, sock_rcvtimeo(sk, nonblock));

	if (err)
		return err;
	return smkex_base_proto(sk)->recvmsg(sk, msg, len, flags, addr_len);
}

/*
 * Nothing is reported while the handshake runs, not even a reset's error or
 * hangup: the work notices those within a tick, records the reason and then
 * wakes pollers, so that a woken application always finds the outcome in
 * SMKEX_INFO. After a failure, an error.
 */
static __poll_t smkex_poll(struct file *file, struct socket *sock, poll_table *wait)
{
	struct sock *sk = sock->sk;
	__poll_t mask = smkex_base_ops[smkex_family(sk)]->poll(file, sock, wait);
	struct smkex_sock *ss = smkex_sk(sk);

	if (!ss || !ss->enabled)
		return mask;
	switch (smp_load_acquire(&ss->state)) {
	case SMKEX_STATE_HANDSHAKE:
		mask = 0;
		break;
	case SMKEX_STATE_FAILED:
		mask |= EPOLLERR;
		break;
	}
	return mask;
}

/* Called unlocked; MPTCP's listen takes the socket lock itself. */
static int smkex_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	struct smkex_sock *ss = smkex_sk(sk);
	int err = smkex_base_ops[smkex_family(sk)]->listen(sock, backlog);

	/* From now on every accepted connection runs the handshake. */
	if (!err && ss && ss->enabled) {
		mutex_lock(&ss->lock);
		ss->role = SMKEX_ROLE_LISTENER;
		mutex_unlock(&ss->lock);
	}
	return err;
}

/* Give an accepted connection of an enabled listener its own handshake. */
static int smkex_accept_start(struct sock *lsk, struct sock *sk)
{
	struct smkex_sock *lss = smkex_sk(lsk);
	struct smkex_sock *ss = smkex_sock_alloc(sk);
	int err;

	if (!ss)
		return -ENOMEM;
	ss->enabled = true;
	ss->state = SMKEX_STATE_ENABLED;
	ss->timeout_ms = lss->timeout_ms;
	err = smkex_hooks_get();
	if (!err) {
		ss->hooks_held = true;
		err = smkex_hs_prepare(sk, ss, SMKEX_ROLE_SERVER);
	}
	if (err) {
		if (ss->hooks_held)
			smkex_hooks_put();
		smkex_hs_free(ss);
		return err;
	}
	lock_sock(sk);
	smkex_hs_adopt_locked(sk, ss);
	/* The pending pool was empty when its data came: the handshake fails closed. */
	if (ss->prov.lost)
		smkex_stat_inc(sock_net(sk), SMKEX_STAT_ACCEPT_UNTRACKED);
	smkex_hs_start(sk, ss);
	release_sock(sk);
	return 0;
}

/* A connection of a listener that did not enable SMKEX is plain MPTCP. */
static void smkex_accept_plain(struct sock *sk)
{
	lock_sock(sk);
	smkex_hs_give_back(sk, smkex_base_proto(sk));
	release_sock(sk);
}

/*
 * do_accept() gave the new socket the listener's ops (ours) and took a
 * reference on their owner (this module). When the connection fell back to
 * TCP, MPTCP replaces the new socket's ops with TCP's (mptcp_stream_accept),
 * so the reference would never be dropped and the module never unload:
 * drop it here. On an enabled listener such a connection cannot run SMKEX
 * and is refused (fail closed); every other one starts its handshake.
 */
static int smkex_accept(struct socket *sock, struct socket *newsock,
			struct proto_accept_arg *arg)
{
	const struct proto_ops *ours = &smkex_ops[smkex_family(sock->sk)];
	struct smkex_sock *lss = smkex_sk(sock->sk);
	bool enabled = lss && lss->enabled;
	int err = smkex_base_ops[smkex_family(sock->sk)]->accept(sock, newsock, arg);

	if (err)
		return err;
	if (READ_ONCE(newsock->ops) != ours) {
		module_put(THIS_MODULE);
		if (!enabled)
			return 0;
		smkex_stat_inc(sock_net(sock->sk), SMKEX_STAT_ACCEPT_FALLBACK);
		pr_debug("smkex: accepted connection fell back to TCP: refused\n");
		return -ECONNABORTED;
	}
	if (!enabled) {
		smkex_accept_plain(newsock->sk);
		return 0;
	}
	return smkex_accept_start(sock->sk, newsock->sk);
}

/* connect(AF_UNSPEC), or connect() failing: the SMKEX session ends with it. */
static int smkex_disconnect(struct sock *sk, int flags)
{
	struct smkex_sock *ss = smkex_sk(sk);
	int err = smkex_base_proto(sk)->disconnect(sk, flags);

	if (!err && ss && ss->enabled)
		smkex_hs_disconnect_locked(sk, ss);
	return err;
}

/* A connection destroyed before accept(): its pending record goes back. */
static void smkex_destroy(struct sock *sk)
{
	smkex_hs_release_pending(sk);
	smkex_base_proto(sk)->destroy(sk);
}

/* Give the socket back to MPTCP, then let MPTCP close it. */
static void smkex_close(struct sock *sk, long timeout)
{
	struct proto *base = smkex_base_proto(sk);
	struct smkex_sock *ss = smkex_sk(sk);

	/* Unlocked: the work takes the socket lock. */
	if (ss)
		smkex_hs_stop(ss);
	lock_sock(sk);
	if (ss)
		smkex_hs_detach_locked(sk, ss);
	/* A pending record is left if accept() failed after MPTCP's. */
	smkex_hs_give_back(sk, base);
	release_sock(sk);
	/* Freed after an RCU grace period: data_ready may still be reading it. */
	if (ss) {
		if (ss->hooks_held)
			smkex_hooks_put();
		smkex_hs_free(ss);
	}
	base->close(sk, timeout);
}

/* Build the family's copies from the first socket's MPTCP proto and ops. */
static int smkex_build_prot(struct sock *sk, int fam)
{
	struct proto *base = READ_ONCE(sk->sk_prot);
	const struct proto_ops *base_ops = READ_ONCE(sk->sk_socket->ops);
	int err = 0;

	mutex_lock(&smkex_prot_lock);
	if (smkex_base_prot[fam]) {
		if (smkex_base_prot[fam] != base || smkex_base_ops[fam] != base_ops)
			err = -EOPNOTSUPP;
		goto out;
	}
	smkex_prot[fam] = *base;
	smkex_prot[fam].owner = THIS_MODULE;
	smkex_prot[fam].setsockopt = smkex_setsockopt;
	smkex_prot[fam].getsockopt = smkex_getsockopt;
	smkex_prot[fam].connect = smkex_connect;
	smkex_prot[fam].sendmsg = smkex_sendmsg;
	smkex_prot[fam].recvmsg = smkex_recvmsg;
	smkex_prot[fam].close = smkex_close;
	smkex_prot[fam].disconnect = smkex_disconnect;
	smkex_prot[fam].destroy = smkex_destroy;
	smkex_ops[fam] = *base_ops;
	smkex_ops[fam].owner = THIS_MODULE;
	smkex_ops[fam].listen = smkex_listen;
	smkex_ops[fam].accept = smkex_accept;
	smkex_ops[fam].poll = smkex_poll;
	smkex_base_ops[fam] = base_ops;
	/* Readers check smkex_base_prot only under this mutex or after attach. */
	smkex_base_prot[fam] = base;
out:
	mutex_unlock(&smkex_prot_lock);
	return err;
}

/* Point the socket at our copies. */
static int smkex_attach(struct sock *sk)
{
	int fam = smkex_family(sk);
	struct smkex_sock *ss;
	int err;

	if (sk->sk_protocol != IPPROTO_MPTCP || !sk->sk_socket)
		return -EOPNOTSUPP;
	err = smkex_build_prot(sk, fam);
	if (err)
		return err;
	ss = smkex_sock_alloc(sk);
	if (!ss)
		return -ENOMEM;

	lock_sock(sk);
	if (smkex_sock_owned(sk)) {
		/* A concurrent first setsockopt attached it already. */
		err = 0;
		goto out_free;
	}
	if (sk->sk_state != TCP_CLOSE) {
		err = -EISCONN;
		goto out_free;
	}
	if (sk->sk_prot != smkex_base_prot[fam] || sk->sk_user_data) {
		err = -EBUSY;
		goto out_free;
	}
	write_lock_bh(&sk->sk_callback_lock);
	__rcu_assign_sk_user_data_with_flags(sk, ss, SK_USER_DATA_NOCOPY);
	__module_get(THIS_MODULE);	/* dropped by __sock_release via ops->owner */
	WRITE_ONCE(sk->sk_socket->ops, &smkex_ops[fam]);
	WRITE_ONCE(sk->sk_prot, &smkex_prot[fam]);
	write_unlock_bh(&sk->sk_callback_lock);
	release_sock(sk);
	smkex_stat_inc(sock_net(sk), SMKEX_STAT_SOCKETS_ATTACHED);
	return 0;

out_free:
	release_sock(sk);
	smkex_hs_free(ss);
	return err;
}

/* ---- entries: SOL_SMKEX calls on MPTCP sockets the module does not own ---- */

/*
 * Where the ftrace hook sends mptcp_setsockopt calls with level SOL_SMKEX:
 * the first SMKEX option takes the socket over. Same prototype as
 * mptcp_setsockopt. The hook took a module reference.
 */
static int smkex_setsockopt_entry(struct sock *sk, int level, int optname, sockptr_t optval,
				  unsigned int optlen)
{
	int err = smkex_attach(sk);

	if (err)
		smkex_opt_result(sk, "set", optname, err);
	else
		err = smkex_setsockopt(sk, level, optname, optval, optlen);
	module_put(THIS_MODULE);
	return err;
}

/*
 * Where the hook sends mptcp_getsockopt calls with level SOL_SMKEX: a socket
 * that never set an SMKEX option reads as SMKEX off (with the default
 * timeout), without being taken over. Same prototype as mptcp_getsockopt.
 */
static int smkex_getsockopt_entry(struct sock *sk, int level, int optname, char __user *optval,
				  int __user *optlen)
{
	/* What an attached socket that never enabled SMKEX reports. */
	struct smkex_sock *off = smkex_sock_alloc(sk);
	int err = -ENOMEM;

	if (off) {
		err = smkex_get_locked(off, optname, optval, optlen);
		smkex_hs_free(off);
	}
	module_put(THIS_MODULE);
	return smkex_opt_result(sk, "get", optname, err);
}

/* Both MPTCP entry points take (sk, level, ...): argument 1 is the level. */
static void notrace smkex_ftrace_redirect(struct ftrace_regs *fregs, unsigned long entry)
{
	if ((int)ftrace_regs_get_argument(fregs, 1) != SOL_SMKEX)
		return;
	/* While the module is going away, MPTCP answers for the level itself. */
	if (!try_module_get(THIS_MODULE))
		return;
	ftrace_regs_set_instruction_pointer(fregs, entry);
}

static void notrace smkex_ftrace_setsockopt(unsigned long ip, unsigned long parent_ip,
					    struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	smkex_ftrace_redirect(fregs, (unsigned long)smkex_setsockopt_entry);
}

static void notrace smkex_ftrace_getsockopt(unsigned long ip, unsigned long parent_ip,
					    struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	smkex_ftrace_redirect(fregs, (unsigned long)smkex_getsockopt_entry);
}

#ifdef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
#define SMKEX_FTRACE_FLAGS FTRACE_OPS_FL_IPMODIFY
#else
#define SMKEX_FTRACE_FLAGS (FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_SAVE_REGS)
#endif

static struct smkex_hook {
	const char *function;
	struct ftrace_ops ops;
} smkex_hooks[] = {
	{ "mptcp_setsockopt", { .func = smkex_ftrace_setsockopt, .flags = SMKEX_FTRACE_FLAGS } },
	{ "mptcp_getsockopt", { .func = smkex_ftrace_getsockopt, .flags = SMKEX_FTRACE_FLAGS } },
};

static void smkex_unhook(int count)
{
	while (count-- > 0) {
		unregister_ftrace_function(&smkex_hooks[count].ops);
		ftrace_free_filter(&smkex_hooks[count].ops);
	}
}

int smkex_sock_init(void)
{
	int i, err;

	err = smkex_hs_check_session();
	if (err)
		return err;
	err = smkex_hooks_init();
	if (err)
		return err;

	for (i = 0; i < ARRAY_SIZE(smkex_hooks); i++) {
		struct smkex_hook *hook = &smkex_hooks[i];

		err = ftrace_set_filter(&hook->ops, (unsigned char *)hook->function,
					strlen(hook->function), 1);
		if (err) {
			pr_err("smkex: cannot filter ftrace on %s: %d\n", hook->function, err);
			break;
		}
		err = register_ftrace_function(&hook->ops);
		if (err) {
			pr_err("smkex: cannot hook %s: %d\n", hook->function, err);
			ftrace_free_filter(&hook->ops);
			break;
		}
	}
	if (err) {
		smkex_unhook(i);
		smkex_hooks_exit();
	}
	return err;
}

/*
 * Module exit runs only when no socket holds a reference. Unregistering waits
 * (RCU tasks) until no task is still inside a hook or the tail of an entry
 * after its module_put.
 */
void smkex_sock_exit(void)
{
	smkex_unhook(ARRAY_SIZE(smkex_hooks));
	smkex_hooks_exit();
}
