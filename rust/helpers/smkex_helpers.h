/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C helpers' functions called from Rust (rust/smkex_mod.rs declares the
 * same signatures in its `ffi` module) and from the protocol core object.
 */
#ifndef SMKEX_HELPERS_H
#define SMKEX_HELPERS_H

#include <linux/compiler.h>
#include <linux/types.h>

/* enum smkex_reason: 1..SMKEX_REASON_COUNT (include/uapi/linux/smkex.h) */
#define SMKEX_REASON_COUNT 15

struct net;
struct sock;
struct proto;

/* module_params.c: the handshake_timeout_ms module parameter. */
unsigned int smkex_param_handshake_timeout_ms(void);

/* proto_panic.c: the protocol core's panic handler lands here. */
void __noreturn smkex_proto_panic(void);

/* sock.c: the setsockopt hook and the per-socket takeover. */
int smkex_sock_init(void);
/* MPTCP's own proto for the socket's family, which ours wraps. */
struct proto *smkex_base_proto(const struct sock *sk);
/* Is this socket's sk_prot one of ours (taken over, or a child of a listener that is)? */
bool smkex_sock_owned(const struct sock *sk);
void smkex_sock_exit(void);

/* mptcp_hooks.c: MPTCP's data moves and subflow events, watched for SMKEX sockets. */
int smkex_hooks_init(void);
void smkex_hooks_exit(void);
/* Armed while at least one socket has SMKEX enabled (process context). */
int smkex_hooks_get(void);
void smkex_hooks_put(void);

/* stats.c: per-netns counters in /proc/net/smkex. */
enum smkex_stat {
	SMKEX_STAT_SOCKETS_ATTACHED,	/* sockets taken over by the module */
	SMKEX_STAT_OPT_INVALID,		/* option rejected: EINVAL */
	SMKEX_STAT_OPT_FAULT,		/* option rejected: EFAULT */
	SMKEX_STAT_OPT_UNKNOWN,		/* option rejected: ENOPROTOOPT */
	SMKEX_STAT_OPT_TOO_LATE,	/* option rejected: EISCONN */
	SMKEX_STAT_KEY_NOT_READY,	/* key or export asked before completion */
	SMKEX_STAT_OPT_OTHER,		/* option failed otherwise (ENOMEM, EBUSY, ...) */
	SMKEX_STAT_HS_STARTED,		/* handshakes started (both roles) */
	SMKEX_STAT_HS_COMPLETED,	/* handshakes completed */
	SMKEX_STAT_HS_FAILED,		/* handshakes failed, any reason */
	SMKEX_STAT_ACCEPT_FALLBACK,	/* accepted connection refused: fell back to TCP */
	SMKEX_STAT_START_FAILED,	/* handshake could not start (ENOMEM) */
	SMKEX_STAT_ACCEPT_UNTRACKED,	/* accepted connection refused: data moved untracked */
	/* failures by reason: SMKEX_STAT_FAIL_REASON + (reason - 1) */
	SMKEX_STAT_FAIL_REASON,
	SMKEX_STAT_COUNT = SMKEX_STAT_FAIL_REASON + SMKEX_REASON_COUNT
};
void smkex_stat_inc(const struct net *net, enum smkex_stat stat);
int smkex_stats_init(void);
void smkex_stats_exit(void);


/* handshake.c, called by sock.c */
struct sock;
struct proto;
struct smkex_sock;
void smkex_hs_init(struct smkex_sock *ss, struct sock *sk);
int smkex_hs_prepare(struct sock *sk, struct smkex_sock *ss, u8 role);
void smkex_hs_start(struct sock *sk, struct smkex_sock *ss);
void smkex_hs_stop(struct smkex_sock *ss);
void smkex_hs_detach_locked(struct sock *sk, struct smkex_sock *ss);
void smkex_hs_free(struct smkex_sock *ss);
void smkex_hs_adopt_locked(struct sock *sk, struct smkex_sock *ss);
void smkex_hs_release_pending(struct sock *sk);
void smkex_hs_give_back(struct sock *sk, struct proto *base);
bool smkex_hs_fastopen_requested(struct sock *sk);
void smkex_hs_disconnect_locked(struct sock *sk, struct smkex_sock *ss);
u32 smkex_hs_peer_bytes(u8 role, u8 channel);
int smkex_hs_check_session(void);

/* The protocol core's C ABI (rust/proto-kernel). */
struct smkex_raw_action {
	u8 kind;	/* enum smkex_action_kind */
	u8 arg;		/* Send: channel; Fail: reason */
	u32 value;	/* Send: length; ArmTimer: milliseconds */
};
enum smkex_action_kind {
	SMKEX_ACT_IDLE = 0,
	SMKEX_ACT_SEND = 1,
	SMKEX_ACT_ARM_TIMER = 2,
	SMKEX_ACT_COMPLETE = 3,
	SMKEX_ACT_FAIL = 4,
};
#define SMKEX_RANDOM_LEN 64
#define SMKEX_MAX_RECORD_LEN 68
size_t smkex_proto_session_size(void);
size_t smkex_proto_session_align(void);
size_t smkex_proto_max_record_len(void);
size_t smkex_proto_record_framing(u8 type_byte, u8 *channel);
int smkex_proto_session_init(void *mem, u8 role, const u8 (*random)[SMKEX_RANDOM_LEN],
			     u32 timeout_ms);
void smkex_proto_session_drop(void *s);
int smkex_proto_session_channel_up(void *s, u8 channel);
size_t smkex_proto_session_receive(void *s, u8 channel, const u8 *data, size_t len);
void smkex_proto_session_timer_expired(void *s);
int smkex_proto_session_abort(void *s, u8 reason);
struct smkex_raw_action smkex_proto_session_poll(void *s, u8 (*out)[SMKEX_MAX_RECORD_LEN]);
int smkex_proto_session_key(const void *s, u8 (*out)[32]);
int smkex_proto_session_transcript_hash(const void *s, u8 (*out)[32]);
int smkex_proto_session_export(const void *s, const u8 *label, size_t label_len,
			       const u8 *context, size_t context_len, u8 *out, size_t out_len);

#endif
