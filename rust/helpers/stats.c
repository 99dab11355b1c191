// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace counters, readable as /proc/net/smkex ("Name value"
 * lines, like /proc/net/netstat). Every rejected request is counted here by
 * reason (and logged with pr_debug, under dynamic debug), so an operator can
 * see why SMKEX refused something without turning on any tracing.
 */
#include <linux/atomic.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "smkex_helpers.h"

static const char *const smkex_stat_names[SMKEX_STAT_COUNT] = {
	[SMKEX_STAT_SOCKETS_ATTACHED] = "SocketsAttached",
	[SMKEX_STAT_OPT_INVALID] = "OptInvalid",
	[SMKEX_STAT_OPT_FAULT] = "OptFault",
	[SMKEX_STAT_OPT_UNKNOWN] = "OptUnknown",
	[SMKEX_STAT_OPT_TOO_LATE] = "OptTooLate",
	[SMKEX_STAT_KEY_NOT_READY] = "KeyNotReady",
	[SMKEX_STAT_OPT_OTHER] = "OptOtherError",
	[SMKEX_STAT_HS_STARTED] = "HandshakesStarted",
	[SMKEX_STAT_HS_COMPLETED] = "HandshakesCompleted",
	[SMKEX_STAT_HS_FAILED] = "HandshakesFailed",
	[SMKEX_STAT_ACCEPT_FALLBACK] = "AcceptRefusedTcpFallback",
	[SMKEX_STAT_START_FAILED] = "HandshakeStartFailed",
	[SMKEX_STAT_ACCEPT_UNTRACKED] = "AcceptRefusedUntracked",
	/* the protocol's reason names (Documentation/protocol.md §6) */
	[SMKEX_STAT_FAIL_REASON + 0] = "FailedBindingHashMismatch",
	[SMKEX_STAT_FAIL_REASON + 1] = "FailedMalformedRecord",
	[SMKEX_STAT_FAIL_REASON + 2] = "FailedWrongChannel",
	[SMKEX_STAT_FAIL_REASON + 3] = "FailedUnexpectedRecord",
	[SMKEX_STAT_FAIL_REASON + 4] = "FailedOutOfOrderRecord",
	[SMKEX_STAT_FAIL_REASON + 5] = "FailedDuplicateRecord",
	[SMKEX_STAT_FAIL_REASON + 6] = "FailedLowOrderKey",
	[SMKEX_STAT_FAIL_REASON + 7] = "FailedBadFinished",
	[SMKEX_STAT_FAIL_REASON + 8] = "FailedTimeout",
	[SMKEX_STAT_FAIL_REASON + 9] = "FailedPeerClosed",
	[SMKEX_STAT_FAIL_REASON + 10] = "FailedChannelIntegrity",
	[SMKEX_STAT_FAIL_REASON + 11] = "FailedLocalError",
	[SMKEX_STAT_FAIL_REASON + 12] = "FailedInternal",
	[SMKEX_STAT_FAIL_REASON + 13] = "FailedNoIndependentPath",
	[SMKEX_STAT_FAIL_REASON + 14] = "FailedChannelClosed",
};

struct smkex_net {
	atomic64_t stats[SMKEX_STAT_COUNT];
};

static unsigned int smkex_net_id;

void smkex_stat_inc(const struct net *net, enum smkex_stat stat)
{
	struct smkex_net *sn = net_generic(net, smkex_net_id);

	atomic64_inc(&sn->stats[stat]);
}

static int smkex_stats_show(struct seq_file *seq, void *v)
{
	struct smkex_net *sn = net_generic(seq_file_single_net(seq), smkex_net_id);
	int i;

	for (i = 0; i < SMKEX_STAT_COUNT; i++)
		seq_printf(seq, "%s %lld\n", smkex_stat_names[i], atomic64_read(&sn->stats[i]));
	return 0;
}

static int __net_init smkex_net_init(struct net *net)
{
	if (!proc_create_net_single("smkex", 0444, net->proc_net, smkex_stats_show, NULL))
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

int smkex_stats_init(void)
{
	return register_pernet_subsys(&smkex_net_ops);
}

void smkex_stats_exit(void)
{
	unregister_pernet_subsys(&smkex_net_ops);
}
