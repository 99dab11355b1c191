/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The whole contract between the module's C glue (glue/) and its Rust
 * (rust/smkex_mod.rs and rust/smkex_mod/): rust/smkex_mod/glue.rs declares
 * the same functions. The C is only what Rust on 6.12 cannot do: ftrace
 * trampolines and the kretprobe (ftrace_regs and pt_regs are opaque to
 * Rust), the per-family proto/proto_ops tables, accessors of MPTCP's
 * private structures (net/mptcp/protocol.h, the scheduler callback
 * included), the per-netns /proc file, the module parameter and dynamic
 * debug. Every decision is Rust's.
 *
 * Lock order everywhere: the socket lock, then the state's mutex (Rust),
 * then the msk data lock.
 */
#ifndef SMKEX_GLUE_H
#define SMKEX_GLUE_H

#include <linux/sockptr.h>
#include <linux/types.h>
#include <uapi/linux/smkex.h>

struct sock;
struct sockaddr;
struct work_struct;
struct delayed_work;

/* ==== Implemented in Rust, called by the glue ==== */

/* Module-wide. */
unsigned int smkex_rs_counter_count(void);
/* Its name (not NUL-terminated), or NULL past the last. */
const char *smkex_rs_counter_name(unsigned int index, size_t *len);

/*
 * Callbacks of sockets the module took over (takeover.c calls them around
 * MPTCP's own). Same errno conventions as the proto callbacks.
 */
int smkex_rs_setsockopt(struct sock *sk, int optname, const sockptr_t *optval,
			unsigned int optlen);
/* The first SOL_SMKEX setsockopt of a socket not taken over yet. */
int smkex_rs_setsockopt_first(struct sock *sk, int optname, const sockptr_t *optval,
			      unsigned int optlen);
/* Any SOL_SMKEX getsockopt, taken over or not. */
int smkex_rs_getsockopt(struct sock *sk, int optname, char __user *optval, int __user *optlen);
/* Before MPTCP's connect (socket locked): 0 to go on, or -errno. */
int smkex_rs_connect_prepare(struct sock *sk);
/* After MPTCP's connect (socket locked), with its result. */
void smkex_rs_connect_done(struct sock *sk, int err);
/*
 * Before MPTCP's sendmsg/recvmsg: 0 to go on, -errno (held data),
 * SMKEX_IO_END: a receive ends the stream without MPTCP, or
 * SMKEX_IO_RECORDS: the record layer carries the call (smkex_rs_record_*).
 */
#define SMKEX_IO_END		1
#define SMKEX_IO_RECORDS	2
int smkex_rs_before_io(struct sock *sk, bool send, int flags);
struct msghdr;
/* The record layer's sendmsg and recvmsg (unlocked): bytes, or -errno. */
int smkex_rs_record_send(struct sock *sk, struct msghdr *msg, size_t len, int flags);
int smkex_rs_record_recv(struct sock *sk, struct msghdr *msg, size_t len, int flags);
/* Before inet_shutdown (unlocked): a record layer ends its sending with Close. */
void smkex_rs_shutdown_prepare(struct sock *sk, int how);
/* What poll reports, from MPTCP's mask. */
__poll_t smkex_rs_poll(struct sock *sk, __poll_t mask);
/* After MPTCP's listen succeeded (socket unlocked). */
void smkex_rs_listening(struct sock *sk);
/*
 * After MPTCP's accept succeeded: `sk` is the new connection, still ours
 * unless it fell back to TCP (then takeover.c dropped the ops' module
 * reference). Returns 0 or -errno (the accept fails with it).
 */
int smkex_rs_accepted(struct sock *listener, struct sock *sk, bool fell_back);
/*
 * After MPTCP's shutdown (socket locked), `how` RCV_SHUTDOWN and/or
 * SEND_SHUTDOWN: wakes calls held by the handshake.
 */
void smkex_rs_shutdown(struct sock *sk, int how);
/* After MPTCP's disconnect succeeded (socket locked). */
void smkex_rs_disconnected(struct sock *sk);
/* Before MPTCP's destroy: a connection never accepted. */
void smkex_rs_destroy(struct sock *sk);
/* Before MPTCP's close (unlocked): the socket goes back to MPTCP. */
void smkex_rs_close(struct sock *sk);

/* Events (any context; RCU held by the caller). */
void smkex_rs_kick(struct sock *sk);
/* The data-move probe, under the msk's data lock: NULL if not tracked. */
void *smkex_rs_move_begin(struct sock *sk);
void smkex_rs_move_end(void *map, struct sock *sk, u64 ack_before, u32 subflow_id);
/* The pinned scheduler: the subflow_id records may go out on, 0 none. */
u32 smkex_rs_pin(struct sock *sk);

/* ==== Implemented in the glue, called by Rust ==== */

/* module.c */
int smkex_glue_init(void);
void smkex_glue_exit(void);
unsigned int smkex_glue_param_timeout_ms(void);
unsigned int smkex_glue_param_record_bench_mib(void);
void smkex_glue_count(const struct sock *sk, unsigned int index);
/* Dynamic debug: "smkex: <msg>". */
void smkex_glue_debug(const char *msg, size_t len);

/* hooks.c: armed while some socket has SMKEX enabled (process context). */
int smkex_glue_hooks_get(void);
void smkex_glue_hooks_put(void);

/* takeover.c */
/* 0 taken over with `state` as its SMKEX state; 1 it already was; -errno. */
int smkex_glue_attach(struct sock *sk, void *state);
/* Data lock held: MPTCP's own proto again. */
void smkex_glue_restore_proto(struct sock *sk);
/* MPTCP's own disconnect (socket locked). */
int smkex_glue_base_disconnect(struct sock *sk);

/* mptcp.c: the socket and its lock. */
void smkex_glue_lock(struct sock *sk);
void smkex_glue_unlock(struct sock *sk);
void smkex_glue_data_lock(struct sock *sk);
void smkex_glue_data_unlock(struct sock *sk);
/*
 * sk_user_data (NOCOPY). Valid while the caller runs in a callback of the
 * socket other than close, in its work, or under RCU or the data lock.
 */
void *smkex_glue_user_data(const struct sock *sk);
/* Under the data lock. */
void smkex_glue_set_user_data(struct sock *sk, void *data);
int smkex_glue_sk_state(const struct sock *sk);
bool smkex_glue_fastopen_requested(struct sock *sk);
/* The socket's send or receive timeout (jiffies; 0 when non-blocking). */
long smkex_glue_timeo(struct sock *sk, bool send, bool nonblock);
/* copy_from_sockptr: 0 or -EFAULT. */
int smkex_glue_copy_optval(const sockptr_t *optval, void *dst, size_t len);
/* The work item: a delayed work whose function is smkex_rs_work. */
void smkex_glue_work_init(struct delayed_work *work, void (*fn)(struct work_struct *));
/* Run it now (any context) / in `delay` jiffies unless queued already. */
void smkex_glue_work_kick(struct delayed_work *work);
void smkex_glue_work_queue(struct delayed_work *work, unsigned long delay);

/* mptcp.c: what the connection looks like (socket locked). */
#define SMKEX_GLUE_SUBFLOWS 8
struct smkex_glue_subflow {
	u32 id;			/* subflow_id */
	bool usable;		/* active and established: can carry data */
	bool first;		/* the MP_CAPABLE subflow (channel 1's) */
	bool request_join;	/* a join this host opened */
	int ifindex;		/* egress interface: bound device, else route's; 0 unknown */
	struct smkex_channel_info info;	/* addresses, v4-mapped as AF_INET */
};
struct smkex_glue_conn {
	bool fallback;		/* MPTCP fell back to plain TCP */
	bool reset;		/* the connection and its first subflow are closed */
	bool established;	/* the msk is TCP_ESTABLISHED */
	bool deny_join_id0;	/* the peer's C flag */
	u8 n;			/* entries of sub[] */
	bool truncated;		/* more subflows than sub[] holds */
	struct smkex_glue_subflow sub[SMKEX_GLUE_SUBFLOWS];
};
void smkex_glue_read_conn(struct sock *sk, struct smkex_glue_conn *conn);

/*
 * mptcp.c: the handshake's and the record layer's I/O, through MPTCP's own
 * sendmsg and recvmsg; `flags` MSG_DONTWAIT or 0 (the socket's timeouts).
 */
int smkex_glue_send(struct sock *sk, const u8 *buf, size_t len, int flags);
int smkex_glue_recv(struct sock *sk, u8 *buf, size_t len, int flags);
/*
 * Unlocked: wait until MPTCP has data to read (or an error, end of stream,
 * close, or *ready: another call opened a record), or until send memory is
 * free, as TCP's receive and send do:
 * 0, -EAGAIN when *timeo ran out, the interrupted errno on a signal,
 * -EPIPE (send side shut down or failed). *timeo is decremented.
 */
int smkex_glue_wait_data(struct sock *sk, long *timeo, const bool *ready);
int smkex_glue_wait_memory(struct sock *sk, long *timeo);
/* Bytes MPTCP's send buffer takes before a send would wait (lockless). */
size_t smkex_glue_send_room(const struct sock *sk);
/* Bytes MPTCP holds for the application to read (lockless). */
u64 smkex_glue_data_avail(const struct sock *sk);
/* Socket and data lock held: nothing queued at the MPTCP level (all pushed into subflows). */
bool smkex_glue_nothing_unsent(struct sock *sk);
u64 smkex_glue_write_seq(struct sock *sk);
/* Everything up to `seq` is DATA_ACKed (socket locked). */
bool smkex_glue_acked(struct sock *sk, u64 seq);
/*
 * Socket locked, at completion: subflow `id` acknowledges what it received
 * now (TCP_QUICKACK), and a record it sent no longer holds back the next
 * small write under Nagle.
 */
void smkex_glue_subflow_handshake_done(struct sock *sk, u32 id);
/* Socket locked: the pinned scheduler in, and MPTCP's back (`saved`). */
void *smkex_glue_sched_pin(struct sock *sk);
void smkex_glue_sched_unpin(struct sock *sk, void *saved);
/*
 * Socket locked, at close(): instead of `saved`, a scheduler that keeps
 * data on subflow `pin` and refuses reinjection until MPTCP destroys the
 * connection; false if it cannot (then unpin).
 */
bool smkex_glue_sched_linger(struct sock *sk, void *saved, u32 pin);
/* Socket locked: data_ready and state_change queue the work too. */
bool smkex_glue_callbacks_install(struct sock *sk);
void smkex_glue_callbacks_restore(struct sock *sk);
/* Socket locked: MPTCP fast close unless closed, and the error pollers see. */
void smkex_glue_reset(struct sock *sk, int err);
void smkex_glue_error_report(struct sock *sk);
void smkex_glue_state_change(struct sock *sk);
/* Wakes pollers and waiters for POLLOUT (the record layer's tail went out). */
void smkex_glue_wake_writers(struct sock *sk);
/* Wakes pollers and waiters for POLLIN (poll opened a record). */
void smkex_glue_wake_readers(struct sock *sk);

/* mptcp.c: provenance, under the data lock. */
u64 smkex_glue_ack_seq(const struct sock *sk);
/* Data moved into the connection already (in sequence or out of order). */
bool smkex_glue_data_moved(const struct sock *sk);
struct smkex_glue_ofo {
	unsigned long key;	/* the skb's identity, never dereferenced */
	u64 map_seq, end_seq;
};
/* The out-of-order skbs that start before `end`, in order; at most `max`. */
unsigned int smkex_glue_ofo(const struct sock *sk, u64 end, struct smkex_glue_ofo *out,
			    unsigned int max, bool *truncated);

/* takeover.c: the application's buffers (copy_from_iter / copy_to_iter). */
size_t smkex_glue_msg_copy_from(struct msghdr *msg, u8 *buf, size_t len);
size_t smkex_glue_msg_copy_to(struct msghdr *msg, const u8 *buf, size_t len);

/* crypto.c: ChaCha20-Poly1305 in place; buf holds text then the 16-byte tag. */
void smkex_glue_aead_seal(u8 *buf, size_t pt_len, const u8 *ad, size_t ad_len, u64 nonce,
			  const u8 *key);
bool smkex_glue_aead_open(u8 *buf, size_t ct_len, const u8 *ad, size_t ad_len, u64 nonce,
			  const u8 *key);

/* ==== Between the glue's own files ==== */

struct proto;
struct proto *smkex_glue_base(const struct sock *sk);
/* Is its sk_prot one of ours (taken over, or a child of a listener that is)? */
bool smkex_glue_owned(const struct sock *sk);
int smkex_takeover_init(void);
void smkex_takeover_exit(int count);	/* count < 0: all */
int smkex_hooks_init(void);
void smkex_hooks_exit(void);

#endif
