// SPDX-License-Identifier: GPL-2.0
/*
 * What MPTCP does to SMKEX sockets, seen from two kinds of hook:
 *
 *  - a kretprobe on __mptcp_move_skbs_from_subflow(msk, ssk, ...), where
 *    MPTCP moves one subflow's data into the connection, always under the
 *    msk's data lock: Rust attributes the bytes it moved to that subflow;
 *  - ftrace hooks on mptcp_event(type, msk, ssk, gfp) (a subflow
 *    established or closed) and on __mptcp_subflow_fully_established(msk,
 *    ...) (a join may carry data from now on): the handshake work is queued
 *    at once instead of being found by a periodic look.
 *
 * Both return at once for sockets that are not ours. They are armed only
 * while some socket has SMKEX enabled and disarmed a second after the last
 * one went, so that MPTCP sockets pay nothing while no application uses
 * SMKEX. A move the kretprobe misses (no free instance) leaves its bytes
 * without an origin, which fails the handshake: nothing is assumed.
 */
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>
#include <net/mptcp.h>
#include <net/sock.h>
#include <uapi/linux/mptcp.h>

#include "protocol.h"	/* net/mptcp: struct mptcp_sock, subflow contexts */
#include "smkex_glue.h"

struct smkex_move_call {
	struct sock *sk;
	void *map;
	u64 ack_before;
	u32 subflow_id;
};

/* Entry: the caller holds the msk's data lock until after the return. */
static int smkex_move_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 0);
	struct sock *ssk = (struct sock *)regs_get_kernel_argument(regs, 1);
	struct smkex_move_call *call = (struct smkex_move_call *)ri->data;

	if (!smkex_glue_owned(sk))
		return 1;	/* not ours: no return hook */
	rcu_read_lock();
	call->map = smkex_rs_move_begin(sk);
	rcu_read_unlock();
	if (!call->map)
		return 1;
	call->sk = sk;
	call->ack_before = READ_ONCE(mptcp_sk(sk)->ack_seq);
	call->subflow_id = READ_ONCE(mptcp_subflow_ctx(ssk)->subflow_id);
	return 0;
}

static int smkex_move_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct smkex_move_call *call = (struct smkex_move_call *)ri->data;

	smkex_rs_move_end(call->map, call->sk, call->ack_before, call->subflow_id);
	return 0;
}

static struct kretprobe smkex_move_probe = {
	.kp.symbol_name = "__mptcp_move_skbs_from_subflow",
	.kp.flags = KPROBE_FLAG_DISABLED,
	.entry_handler = smkex_move_entry,
	.handler = smkex_move_return,
	.data_size = sizeof(struct smkex_move_call),
	/* Moves run under a per-msk spinlock: a few per CPU at most. */
	.maxactive = 64,
};

static void notrace smkex_event_kick(struct sock *sk)
{
	if (!sk || !smkex_glue_owned(sk))
		return;
	rcu_read_lock();
	smkex_rs_kick(sk);
	rcu_read_unlock();
}

static void notrace smkex_ftrace_event(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	int type = (int)ftrace_regs_get_argument(fregs, 0);

	if (type == MPTCP_EVENT_SUB_ESTABLISHED || type == MPTCP_EVENT_SUB_CLOSED ||
	    type == MPTCP_EVENT_ESTABLISHED)
		smkex_event_kick((struct sock *)ftrace_regs_get_argument(fregs, 1));
}

static void notrace smkex_ftrace_established(unsigned long ip, unsigned long parent_ip,
					     struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	smkex_event_kick((struct sock *)ftrace_regs_get_argument(fregs, 0));
}

static struct smkex_event_hook {
	const char *function;
	struct ftrace_ops ops;
} smkex_event_hooks[] = {
	{ "mptcp_event", { .func = smkex_ftrace_event, .flags = FTRACE_OPS_FL_RECURSION } },
	{ "__mptcp_subflow_fully_established",
	  { .func = smkex_ftrace_established, .flags = FTRACE_OPS_FL_RECURSION } },
};

static void smkex_events_unregister(int count)
{
	while (count-- > 0)
		unregister_ftrace_function(&smkex_event_hooks[count].ops);
}

/* ---- arming ---- */

static DEFINE_MUTEX(smkex_hooks_lock);
static unsigned int smkex_hooks_users;
static bool smkex_hooks_armed;

static int smkex_hooks_arm(void)
{
	int i, err = enable_kretprobe(&smkex_move_probe);

	if (err) {
		pr_err("smkex: cannot arm the data-move probe: %d\n", err);
		return err;
	}
	for (i = 0; i < ARRAY_SIZE(smkex_event_hooks) && !err; i++) {
		err = register_ftrace_function(&smkex_event_hooks[i].ops);
		if (err) {
			pr_err("smkex: cannot hook %s: %d\n", smkex_event_hooks[i].function, err);
			smkex_events_unregister(i);
			disable_kretprobe(&smkex_move_probe);
		}
	}
	return err;
}

static void smkex_hooks_disarm(void)
{
	smkex_events_unregister(ARRAY_SIZE(smkex_event_hooks));
	disable_kretprobe(&smkex_move_probe);
}

static void smkex_hooks_idle(struct work_struct *work)
{
	mutex_lock(&smkex_hooks_lock);
	if (!smkex_hooks_users && smkex_hooks_armed) {
		smkex_hooks_disarm();
		smkex_hooks_armed = false;
	}
	mutex_unlock(&smkex_hooks_lock);
}

static DECLARE_DELAYED_WORK(smkex_hooks_idle_work, smkex_hooks_idle);

int smkex_glue_hooks_get(void)
{
	int err = 0;

	mutex_lock(&smkex_hooks_lock);
	if (!smkex_hooks_armed) {
		err = smkex_hooks_arm();
		smkex_hooks_armed = !err;
	}
	if (!err)
		smkex_hooks_users++;
	mutex_unlock(&smkex_hooks_lock);
	return err;
}

void smkex_glue_hooks_put(void)
{
	mutex_lock(&smkex_hooks_lock);
	if (!--smkex_hooks_users)
		mod_delayed_work(system_wq, &smkex_hooks_idle_work, HZ);
	mutex_unlock(&smkex_hooks_lock);
}

static void smkex_events_free(int count)
{
	while (count-- > 0)
		ftrace_free_filter(&smkex_event_hooks[count].ops);
}

int smkex_hooks_init(void)
{
	int i, err = 0;

	for (i = 0; i < ARRAY_SIZE(smkex_event_hooks); i++) {
		const char *fn = smkex_event_hooks[i].function;

		err = ftrace_set_filter(&smkex_event_hooks[i].ops, (unsigned char *)fn,
					strlen(fn), 1);
		if (err) {
			pr_err("smkex: cannot filter ftrace on %s: %d\n", fn, err);
			smkex_events_free(i + 1);
			return err;
		}
	}
	err = register_kretprobe(&smkex_move_probe);
	if (err) {
		pr_err("smkex: cannot probe __mptcp_move_skbs_from_subflow: %d\n", err);
		smkex_events_free(ARRAY_SIZE(smkex_event_hooks));
	}
	return err;
}

/* Module exit: no SMKEX socket is left (each held a module reference). */
void smkex_hooks_exit(void)
{
	cancel_delayed_work_sync(&smkex_hooks_idle_work);
	if (smkex_hooks_armed)
		smkex_hooks_disarm();
	unregister_kretprobe(&smkex_move_probe);
	smkex_events_free(ARRAY_SIZE(smkex_event_hooks));
}
