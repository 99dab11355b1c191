// SPDX-License-Identifier: GPL-2.0
/*
 * What the 6.12 `module!` macro and kernel crate do not offer: the module
 * parameter and version, the per-netns counters in /proc/net/smkex (their
 * names and order are Rust's: smkex_rs_counter_name), dynamic debug, and
 * the order in which the glue's hooks come up and go.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "smkex_glue.h"

MODULE_VERSION("0.1.0");

static_assert(sizeof(struct smkex_info) >= SMKEX_INFO_SIZE_V1);

static unsigned int handshake_timeout_ms = 10000;

/* Reject out-of-range values with -EINVAL at insmod and on sysfs writes. */
static int timeout_param_set(const char *val, const struct kernel_param *kp)
{
	unsigned int ms;
	int err = kstrtouint(val, 0, &ms);

	if (err)
		return err;
	if (ms < SMKEX_TIMEOUT_MIN_MS || ms > SMKEX_TIMEOUT_MAX_MS)
		return -EINVAL;
	WRITE_ONCE(handshake_timeout_ms, ms);
	return 0;
}

static const struct kernel_param_ops timeout_param_ops = {
	.set = timeout_param_set,
	.get = param_get_uint,
};

module_param_cb(handshake_timeout_ms, &timeout_param_ops, &handshake_timeout_ms, 0644);
__MODULE_PARM_TYPE(handshake_timeout_ms, "uint");
MODULE_PARM_DESC(handshake_timeout_ms,
		 "Default bound on a whole handshake in ms for sockets that do not set SMKEX_TIMEOUT_MS (100..600000, default 10000)");

unsigned int smkex_glue_param_timeout_ms(void)
{
	return READ_ONCE(handshake_timeout_ms);
}

/* A benchmark, off by default: tests/bench/transfer.sh sets it. */
static unsigned int record_bench_mib;
module_param(record_bench_mib, uint, 0444);
MODULE_PARM_DESC(record_bench_mib,
		 "At load, seal and open this many MiB of 16 KiB records and log the rates (benchmark; default 0: off)");

unsigned int smkex_glue_param_record_bench_mib(void)
{
	return record_bench_mib;
}

void smkex_glue_debug(const char *msg, size_t len)
{
	pr_debug("smkex: %.*s\n", (int)len, msg);
}

/* ---- counters ---- */

#define SMKEX_COUNTERS_MAX 64

struct smkex_net {
	atomic64_t count[SMKEX_COUNTERS_MAX];
};

static unsigned int smkex_net_id;

void smkex_glue_count(const struct sock *sk, unsigned int index)
{
	struct smkex_net *sn = net_generic(sock_net(sk), smkex_net_id);

	if (index < SMKEX_COUNTERS_MAX)
		atomic64_inc(&sn->count[index]);
}

static int smkex_counters_show(struct seq_file *seq, void *v)
{
	struct smkex_net *sn = net_generic(seq_file_single_net(seq), smkex_net_id);
	unsigned int i, n = smkex_rs_counter_count();
	const char *name;
	size_t len;

	for (i = 0; i < n && (name = smkex_rs_counter_name(i, &len)); i++)
		seq_printf(seq, "%.*s %lld\n", (int)len, name, atomic64_read(&sn->count[i]));
	return 0;
}

static int __net_init smkex_net_init(struct net *net)
{
	if (!proc_create_net_single("smkex", 0444, net->proc_net, smkex_counters_show, NULL))
		return -ENOMEM;
	return 0;
}

static void __net_exit smkex_net_exit(struct net *net)
{
	remove_proc_entry("smkex", net->proc_net);
}

static struct pernet_operations smkex_net_ops = {
	.init = smkex_net_init,
	.exit = smkex_net_exit,
	.id = &smkex_net_id,
	.size = sizeof(struct smkex_net),
};

/* ---- the glue's order ---- */

int smkex_glue_init(void)
{
	int err;

	if (smkex_rs_counter_count() > SMKEX_COUNTERS_MAX)
		return -ELIBBAD;
	err = register_pernet_subsys(&smkex_net_ops);
	if (err)
		return err;
	err = smkex_hooks_init();
	if (err)
		goto out_net;
	err = smkex_takeover_init();
	if (err)
		goto out_hooks;
	return 0;
out_hooks:
	smkex_hooks_exit();
out_net:
	unregister_pernet_subsys(&smkex_net_ops);
	return err;
}

/*
 * Module exit runs only when no socket holds a reference. Unregistering
 * ftrace waits (RCU tasks) until no task is still inside a hook or the tail
 * of an entry after its module_put.
 */
void smkex_glue_exit(void)
{
	smkex_takeover_exit(-1);
	smkex_hooks_exit();
	unregister_pernet_subsys(&smkex_net_ops);
}
