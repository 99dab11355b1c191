/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * smkex: the SMKEX key exchange over MPTCP subflows — user API.
 *
 * Applications switch SMKEX on for an MPTCP socket (IPPROTO_MPTCP) with
 * setsockopt(fd, SOL_SMKEX, SMKEX_ENABLE, &one, sizeof(int)) before connect()
 * or listen(), and read the outcome with getsockopt(SOL_SMKEX, ...).
 * Documentation/api.md describes every option and errno.
 */
#ifndef _UAPI_LINUX_SMKEX_H
#define _UAPI_LINUX_SMKEX_H

#include <linux/types.h>

/*
 * Socket level. Far above the kernel's own SOL_* numbers (the highest in
 * 6.12 is SOL_VSOCK, 287) so that it cannot collide with a future one:
 * 0x534b is "SK".
 */
#define SOL_SMKEX		0x534b

/* Options (optname). */
#define SMKEX_ENABLE		1	/* int 0/1, set and get */
#define SMKEX_TIMEOUT_MS	2	/* int, set and get: SMKEX_TIMEOUT_MIN_MS..SMKEX_TIMEOUT_MAX_MS */
#define SMKEX_INFO		3	/* get: struct smkex_info */
#define SMKEX_SESSION_KEY	4	/* get: SMKEX_KEY_LEN bytes, once complete */
#define SMKEX_EXPORT		5	/* get: struct smkex_export in and out, once complete */
#define SMKEX_PEER_ADDRS	6	/* set and get: struct smkex_peer_addr[0..SMKEX_MAX_PEER_ADDRS] */
#define SMKEX_RECORDS		7	/* int 0/1, set and get: the module encrypts the data (record layer) */
#define SMKEX_RECORD_SECRET	8	/* get: SMKEX_KEY_LEN bytes, once complete (keylog-style, for decoders) */

#define SMKEX_TIMEOUT_MIN_MS	100
#define SMKEX_TIMEOUT_MAX_MS	600000

#define SMKEX_KEY_LEN		32
#define SMKEX_HASH_LEN		32
#define SMKEX_PROTOCOL_VERSION	1

/* struct smkex_info.state */
enum smkex_state {
	SMKEX_STATE_OFF = 0,		/* SMKEX not enabled on this socket */
	SMKEX_STATE_ENABLED = 1,	/* enabled, not connected yet */
	SMKEX_STATE_HANDSHAKE = 2,	/* handshake running */
	SMKEX_STATE_COMPLETE = 3,	/* keys available */
	SMKEX_STATE_FAILED = 4,		/* handshake failed: see reason */
};

/* struct smkex_info.role */
enum smkex_role {
	SMKEX_ROLE_NONE = 0,
	SMKEX_ROLE_CLIENT = 1,		/* connect() side */
	SMKEX_ROLE_SERVER = 2,		/* accepted side */
	SMKEX_ROLE_LISTENER = 3,
};

/*
 * struct smkex_info.reason: why a handshake failed. The numbers are the
 * protocol core's (Documentation/protocol.md §6).
 */
enum smkex_reason {
	SMKEX_REASON_NONE = 0,
	SMKEX_REASON_BINDING_HASH_MISMATCH = 1,
	SMKEX_REASON_MALFORMED_RECORD = 2,
	SMKEX_REASON_WRONG_CHANNEL = 3,
	SMKEX_REASON_UNEXPECTED_RECORD = 4,
	SMKEX_REASON_OUT_OF_ORDER_RECORD = 5,
	SMKEX_REASON_DUPLICATE_RECORD = 6,
	SMKEX_REASON_LOW_ORDER_KEY = 7,
	SMKEX_REASON_BAD_FINISHED = 8,
	SMKEX_REASON_TIMEOUT = 9,
	SMKEX_REASON_PEER_CLOSED = 10,
	SMKEX_REASON_CHANNEL_INTEGRITY = 11,
	SMKEX_REASON_LOCAL_ERROR = 12,
	SMKEX_REASON_INTERNAL = 13,
	SMKEX_REASON_NO_INDEPENDENT_PATH = 14,
	SMKEX_REASON_CHANNEL_CLOSED = 15,
	/* The record layer's, after completion (Documentation/protocol.md §10): */
	SMKEX_REASON_RECORD_AUTH = 16,		/* a record failed authentication */
	SMKEX_REASON_RECORD_MALFORMED = 17,	/* a bad record header, or data after Close */
	SMKEX_REASON_RECORD_TRUNCATED = 18,	/* the stream ended inside a record or without Close */
	SMKEX_REASON_RECORD_LIMIT = 19,		/* the sequence space ran out */
};

/* One channel's subflow: addresses in network byte order. */
struct smkex_channel_info {
	__u16	family;			/* AF_INET, AF_INET6, or 0 if none yet */
	__u16	local_port;
	__u16	remote_port;
	__u16	reserved;
	__u8	local_addr[16];		/* IPv4: first 4 bytes */
	__u8	remote_addr[16];
};

/*
 * SMKEX_INFO. Versioned by size: the kernel fills min(optlen, sizeof) bytes
 * and writes that length back to optlen; optlen below SMKEX_INFO_SIZE_V1 is
 * EINVAL. New fields are only ever appended.
 */
struct smkex_info {
	__u8	state;			/* enum smkex_state */
	__u8	role;			/* enum smkex_role */
	__u8	version;		/* SMKEX_PROTOCOL_VERSION once enabled */
	__u8	reason;			/* enum smkex_reason */
	__u32	timeout_ms;		/* handshake bound in force */
	__u64	duration_us;		/* handshake duration, 0 until it ends */
	struct smkex_channel_info channel[2];	/* [0]: channel 1, [1]: channel 2 */
	__u8	transcript_hash[SMKEX_HASH_LEN];	/* h, once complete */
	/* Appended after version 1: */
	__u64	channel_up_us[2];	/* when each channel became usable, from the start; 0 until then */
	__u8	records;		/* SMKEX_RECORDS in force */
	__u8	reserved2[7];
	__u64	records_sent;		/* records sealed and handed to MPTCP, Close included */
	__u64	records_received;	/* records authenticated, Close included */
};
/* The first version's size, fixed: the struct only grows by appending. */
#define SMKEX_INFO_SIZE_V1	128

/*
 * SMKEX_PEER_ADDRS: other addresses of the same server that the application
 * trusts (e.g. from its own configuration), set before connect(). The
 * client's channel 2 must be a subflow to the connect() address or to one of
 * these, never to an address learned only from the network (ADD_ADDR).
 * optlen is a multiple of sizeof(struct smkex_peer_addr), at most
 * SMKEX_MAX_PEER_ADDRS of them; 0 clears the list.
 */
#define SMKEX_MAX_PEER_ADDRS	8
struct smkex_peer_addr {
	__u16	family;			/* AF_INET or AF_INET6 */
	__u16	port;			/* network byte order; 0: the connect() port */
	__u32	reserved;		/* must be 0 */
	__u8	addr[16];		/* IPv4: first 4 bytes, the rest 0 */
};

/* SMKEX_EXPORT: label and context in, out_len bytes of key material out. */
#define SMKEX_EXPORT_MAX_LABEL	255
#define SMKEX_EXPORT_MAX_CONTEXT 255
#define SMKEX_EXPORT_MAX_OUT	255
struct smkex_export {
	__u8	label_len;
	__u8	context_len;
	__u8	out_len;
	__u8	reserved;		/* must be 0 */
	__u8	label[SMKEX_EXPORT_MAX_LABEL];
	__u8	context[SMKEX_EXPORT_MAX_CONTEXT];
	__u8	out[SMKEX_EXPORT_MAX_OUT];
};

#endif /* _UAPI_LINUX_SMKEX_H */
