/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C helpers' functions called from Rust (rust/smkex_mod.rs declares the
 * same signatures in its `ffi` module) and from the protocol core object.
 */
#ifndef SMKEX_HELPERS_H
#define SMKEX_HELPERS_H

#include <linux/compiler.h>

struct net;

/* module_params.c: the handshake_timeout_ms module parameter. */
unsigned int smkex_param_handshake_timeout_ms(void);

/* proto_panic.c: the protocol core's panic handler lands here. */
void __noreturn smkex_proto_panic(void);

/* sock.c: the setsockopt hook and the per-socket takeover. */
int smkex_sock_init(void);
void smkex_sock_exit(void);

/* stats.c: per-netns counters in /proc/net/smkex. */
enum smkex_stat {
	SMKEX_STAT_SOCKETS_ATTACHED,	/* sockets taken over by the module */
	SMKEX_STAT_OPT_INVALID,		/* option rejected: EINVAL */
	SMKEX_STAT_OPT_FAULT,		/* option rejected: EFAULT */
	SMKEX_STAT_OPT_UNKNOWN,		/* option rejected: ENOPROTOOPT */
	SMKEX_STAT_OPT_TOO_LATE,	/* option rejected: EISCONN */
	SMKEX_STAT_KEY_NOT_READY,	/* key or export asked before completion */
	SMKEX_STAT_CONNECT_REFUSED,	/* enabled connect(): no handshake yet */
	SMKEX_STAT_LISTEN_REFUSED,	/* enabled listen(): no handshake yet */
	SMKEX_STAT_OPT_OTHER,		/* option failed otherwise (ENOMEM, EBUSY, ...) */
	SMKEX_STAT_COUNT
};
void smkex_stat_inc(const struct net *net, enum smkex_stat stat);
int smkex_stats_init(void);
void smkex_stats_exit(void);

#endif
