// SPDX-License-Identifier: GPL-2.0
/*
 * Taking over one MPTCP socket, the way kTLS does: its sk_prot and
 * sock->ops point at per-family copies of MPTCP's own whose SMKEX-relevant
 * callbacks pass through Rust (smkex_rs_*), so that sockets which never set
 * an SMKEX option never run module code. The first setsockopt(SOL_SMKEX)
 * reaches us through an ftrace hook on mptcp_setsockopt (MPTCP answers
 * ENOPROTOOPT to unknown levels), getsockopt(SOL_SMKEX) on any MPTCP socket
 * through one on mptcp_getsockopt.
 *
 * The ops copies are owned by this module, so every socket that uses them
 * holds a module reference (taken when the ops are swapped, dropped by
 * __sock_release): rmmod is refused while an SMKEX socket exists.
 */
#include <linux/ftrace.h>
#include <linux/in.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "smkex_glue.h"

enum { SMKEX_FAM_V4, SMKEX_FAM_V6, SMKEX_NFAM };

static DEFINE_MUTEX(smkex_prot_lock);
static struct proto *smkex_base_prot[SMKEX_NFAM];
static const struct proto_ops *smkex_base_ops[SMKEX_NFAM];
static struct proto smkex_prot[SMKEX_NFAM];
static struct proto_ops smkex_ops[SMKEX_NFAM];

static int smkex_family(const struct sock *sk)
{
	return sk->sk_family == AF_INET6 ? SMKEX_FAM_V6 : SMKEX_FAM_V4;
}

struct proto *smkex_glue_base(const struct sock *sk)
{
	return smkex_base_prot[smkex_family(sk)];
}

bool smkex_glue_owned(const struct sock *sk)
{
	return READ_ONCE(sk->sk_prot) == &smkex_prot[smkex_family(sk)];
}

void smkex_glue_restore_proto(struct sock *sk)
{
	WRITE_ONCE(sk->sk_prot, smkex_glue_base(sk));
}

int smkex_glue_base_disconnect(struct sock *sk)
{
	return smkex_glue_base(sk)->disconnect(sk, 0);
}

/* ---- the callbacks: MPTCP's, with Rust before or after ---- */

static int smkex_setsockopt(struct sock *sk, int level, int optname, sockptr_t optval,
			    unsigned int optlen)
{
	if (level != SOL_SMKEX)
		return smkex_glue_base(sk)->setsockopt(sk, level, optname, optval, optlen);
	return smkex_rs_setsockopt(sk, optname, &optval, optlen);
}

static int smkex_getsockopt(struct sock *sk, int level, int optname, char __user *optval,
			    int __user *optlen)
{
	if (level != SOL_SMKEX)
		return smkex_glue_base(sk)->getsockopt(sk, level, optname, optval, optlen);
	return smkex_rs_getsockopt(sk, optname, optval, optlen);
}

static int smkex_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len)
{
	int err = smkex_rs_connect_prepare(sk);

	if (err)
		return err;
	err = smkex_glue_base(sk)->connect(sk, uaddr, addr_len);
	smkex_rs_connect_done(sk, err);
	return err;
}

static int smkex_sendmsg(struct sock *sk, struct msghdr *msg, size_t len)
{
	int err = smkex_rs_before_io(sk, true, msg->msg_flags);

	if (err == SMKEX_IO_RECORDS)
		return smkex_rs_record_send(sk, msg, len, msg->msg_flags);
	return err ?: smkex_glue_base(sk)->sendmsg(sk, msg, len);
}

static int smkex_recvmsg(struct sock *sk, struct msghdr *msg, size_t len, int flags,
			 int *addr_len)
{
	int err;

	/* The error queue holds no application data. */
	if (flags & MSG_ERRQUEUE)
		return smkex_glue_base(sk)->recvmsg(sk, msg, len, flags, addr_len);
	err = smkex_rs_before_io(sk, false, flags);
	if (err == SMKEX_IO_RECORDS)
		return smkex_rs_record_recv(sk, msg, len, flags);
	if (err == SMKEX_IO_END)	/* shut down during the handshake */
		return 0;
	return err ?: smkex_glue_base(sk)->recvmsg(sk, msg, len, flags, addr_len);
}

size_t smkex_glue_msg_copy_from(struct msghdr *msg, u8 *buf, size_t len)
{
	return copy_from_iter(buf, len, &msg->msg_iter);
}

size_t smkex_glue_msg_copy_to(struct msghdr *msg, const u8 *buf, size_t len)
{
	return copy_to_iter(buf, len, &msg->msg_iter);
}

static void smkex_shutdown(struct sock *sk, int how)
{
	smkex_glue_base(sk)->shutdown(sk, how);
	smkex_rs_shutdown(sk, how);
}

static int smkex_disconnect(struct sock *sk, int flags)
{
	int err = smkex_glue_base(sk)->disconnect(sk, flags);

	if (!err)
		smkex_rs_disconnected(sk);
	return err;
}

static void smkex_destroy(struct sock *sk)
{
	smkex_rs_destroy(sk);
	smkex_glue_base(sk)->destroy(sk);
}

static void smkex_close(struct sock *sk, long timeout)
{
	struct proto *base = smkex_glue_base(sk);

	smkex_rs_close(sk);
	base->close(sk, timeout);
}

static __poll_t smkex_poll(struct file *file, struct socket *sock, poll_table *wait)
{
	struct sock *sk = sock->sk;

	return smkex_rs_poll(sk, smkex_base_ops[smkex_family(sk)]->poll(file, sock, wait));
}

/* inet_shutdown locks the socket; a Close record must be sent before. */
static int smkex_ops_shutdown(struct socket *sock, int how)
{
	smkex_rs_shutdown_prepare(sock->sk, how);
	return smkex_base_ops[smkex_family(sock->sk)]->shutdown(sock, how);
}

static int smkex_listen(struct socket *sock, int backlog)
{
	int err = smkex_base_ops[smkex_family(sock->sk)]->listen(sock, backlog);

	if (!err)
		smkex_rs_listening(sock->sk);
	return err;
}

/*
 * do_accept() gave the new socket the listener's ops (ours) and took a
 * reference on their owner. A connection that fell back to TCP gets TCP's
 * ops from MPTCP (mptcp_stream_accept), so that reference would never be
 * dropped: drop it here.
 */
static int smkex_accept(struct socket *sock, struct socket *newsock,
			struct proto_accept_arg *arg)
{
	int fam = smkex_family(sock->sk);
	int err = smkex_base_ops[fam]->accept(sock, newsock, arg);
	bool fell_back;

	if (err)
		return err;
	fell_back = READ_ONCE(newsock->ops) != &smkex_ops[fam];
	if (fell_back)
		module_put(THIS_MODULE);
	return smkex_rs_accepted(sock->sk, newsock->sk, fell_back);
}

/* ---- taking a socket over ---- */

/* The family's copies, from the first socket's MPTCP proto and ops. */
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
	smkex_prot[fam].shutdown = smkex_shutdown;
	smkex_prot[fam].destroy = smkex_destroy;
	smkex_ops[fam] = *base_ops;
	smkex_ops[fam].owner = THIS_MODULE;
	smkex_ops[fam].listen = smkex_listen;
	smkex_ops[fam].accept = smkex_accept;
	smkex_ops[fam].poll = smkex_poll;
	smkex_ops[fam].shutdown = smkex_ops_shutdown;
	smkex_base_ops[fam] = base_ops;
	/* Readers check smkex_base_prot only under this mutex or after attach. */
	smkex_base_prot[fam] = base;
out:
	mutex_unlock(&smkex_prot_lock);
	return err;
}

int smkex_glue_attach(struct sock *sk, void *state)
{
	int fam = smkex_family(sk);
	int err;

	if (sk->sk_protocol != IPPROTO_MPTCP || !sk->sk_socket)
		return -EOPNOTSUPP;
	err = smkex_build_prot(sk, fam);
	if (err)
		return err;
	lock_sock(sk);
	if (smkex_glue_owned(sk))
		err = 1;	/* a concurrent first setsockopt took it over */
	else if (sk->sk_state != TCP_CLOSE)
		err = -EISCONN;
	else if (sk->sk_prot != smkex_base_prot[fam] || sk->sk_user_data)
		err = -EBUSY;
	if (!err) {
		write_lock_bh(&sk->sk_callback_lock);
		__rcu_assign_sk_user_data_with_flags(sk, state, SK_USER_DATA_NOCOPY);
		__module_get(THIS_MODULE);	/* dropped by __sock_release via ops->owner */
		WRITE_ONCE(sk->sk_socket->ops, &smkex_ops[fam]);
		WRITE_ONCE(sk->sk_prot, &smkex_prot[fam]);
		write_unlock_bh(&sk->sk_callback_lock);
	}
	release_sock(sk);
	return err;
}

/* ---- entries: SOL_SMKEX calls on MPTCP sockets not taken over ---- */

/* Same prototype as mptcp_setsockopt; the hook took a module reference. */
static int smkex_setsockopt_entry(struct sock *sk, int level, int optname, sockptr_t optval,
				  unsigned int optlen)
{
	int err = smkex_rs_setsockopt_first(sk, optname, &optval, optlen);

	module_put(THIS_MODULE);
	return err;
}

/* Same prototype as mptcp_getsockopt. */
static int smkex_getsockopt_entry(struct sock *sk, int level, int optname, char __user *optval,
				  int __user *optlen)
{
	int err = smkex_rs_getsockopt(sk, optname, optval, optlen);

	module_put(THIS_MODULE);
	return err;
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

static struct smkex_entry_hook {
	const char *function;
	struct ftrace_ops ops;
} smkex_entry_hooks[] = {
	{ "mptcp_setsockopt", { .func = smkex_ftrace_setsockopt, .flags = SMKEX_FTRACE_FLAGS } },
	{ "mptcp_getsockopt", { .func = smkex_ftrace_getsockopt, .flags = SMKEX_FTRACE_FLAGS } },
};

void smkex_takeover_exit(int count)
{
	if (count < 0)
		count = ARRAY_SIZE(smkex_entry_hooks);
	while (count-- > 0) {
		unregister_ftrace_function(&smkex_entry_hooks[count].ops);
		ftrace_free_filter(&smkex_entry_hooks[count].ops);
	}
}

int smkex_takeover_init(void)
{
	int i, err = 0;

	for (i = 0; i < ARRAY_SIZE(smkex_entry_hooks) && !err; i++) {
		struct smkex_entry_hook *hook = &smkex_entry_hooks[i];

		err = ftrace_set_filter(&hook->ops, (unsigned char *)hook->function,
					strlen(hook->function), 1);
		if (!err) {
			err = register_ftrace_function(&hook->ops);
			if (err)
				ftrace_free_filter(&hook->ops);
		}
		if (err) {
			pr_err("smkex: cannot hook %s: %d\n", hook->function, err);
			smkex_takeover_exit(i);
		}
	}
	return err;
}
