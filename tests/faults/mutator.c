// SPDX-License-Identifier: GPL-2.0
/*
 * A packet mutator on one path, for the fault tests (tests/faults): a fault
 * injector, not an attacker. It takes the TCP packets that an nftables rule
 * queues (NFQUEUE) in a path's forwarding namespace and, for a seeded random
 * share of those that carry payload, applies one fault: flips bits of one
 * payload byte, truncates the payload, duplicates the packet or delays it
 * behind the next one. Whatever it does, every SMKEX connection must either
 * complete with equal keys on both sides or fail closed.
 *
 *   mutator --queue N --seed S --rate P [--max-payload B] [--min-payload B]
 *           [--only flip|truncate|duplicate|reorder|replay]
 *
 * P is the percentage (0..100) of candidate packets mutated: those with a
 * TCP payload of --min-payload (default 1) to --max-payload bytes (default:
 * any size). --only applies that one fault instead of a random one;
 * "replay" (only with --only) is an attacker's move, not a fault: it
 * replaces a packet's payload with the last earlier payload of the same
 * length (of either direction), so the receiver gets old bytes in a new
 * place: a replayed, reordered or reflected piece of a record. The choices
 * come from a PRNG seeded with S, so a run over the same packet sequence
 * makes the same choices. Prints "mutator: ready on queue N" once bound, one
 * line on stderr per mutation, and its counters on SIGTERM/SIGINT.
 *
 * The mutator fixes every checksum it breaks, so TCP accepts what it
 * changed: a flipped byte reaches the receiving stack as data, a truncated
 * segment is a partial loss that the sender retransmits, a duplicate is
 * discarded as old data and a delayed packet arrives out of order.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/netfilter.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
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

#include <libnetfilter_queue/libnetfilter_queue.h>

/* How long a reordered packet waits for a successor before it goes alone. */
#define HOLD_NS (50 * 1000000L)
/* Room for bursts: the kernel drops queued packets beyond these. */
#define QUEUE_MAXLEN 4096
#define RCVBUF_BYTES (4 << 20)

/* The random choice is among the first MUT_RANDOM; replay only by --only. */
enum mutation { MUT_FLIP, MUT_TRUNCATE, MUT_DUPLICATE, MUT_REORDER, MUT_RANDOM, MUT_REPLAY = MUT_RANDOM,
		MUT_COUNT };

static const char *const mutation_name[MUT_COUNT] = {
	"flip", "truncate", "duplicate", "reorder", "replay",
};

/* The last candidate payload, for replay. */
static unsigned char last_payload[65536];
static unsigned int last_len;

/* One parsed IPv4 or IPv6 TCP packet, in the netlink receive buffer. */
struct packet {
	unsigned char *data;
	unsigned int len;	/* whole IP packet */
	int family;
	unsigned int tcp_off;	/* start of the TCP header */
	unsigned int pay_off;	/* start of the TCP payload */
	unsigned int pay_len;
	struct tcphdr *tcp;
};

/* The packet whose verdict is deferred by a reorder; at most one. */
static struct {
	bool active;
	uint32_t id;
	struct timespec deadline;
} held;

static struct {
	unsigned long packets, payload;
	unsigned long done[MUT_COUNT];
	unsigned long dup_send_errors;
} count;

static unsigned int rate;
static unsigned long max_payload = ~0UL;
static unsigned long min_payload = 1;
static int only_mutation = -1;
static uint64_t rng_state;
static int raw4 = -1, raw6 = -1;
static struct nfq_q_handle *queue_handle;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* splitmix64: small, seedable with any value, the same on every libc. */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* One's complement sum of big-endian 16-bit words, as RFC 1071 adds them. */
static uint32_t csum_add(uint32_t sum, const unsigned char *p, unsigned int len)
{
	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
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

static void fix_ipv4_checksum(struct packet *p)
{
	struct iphdr *iph = (struct iphdr *)p->data;

	iph->check = 0;
	iph->check = htons(csum_fold(csum_add(0, p->data, iph->ihl * 4)));
}

/*
 * Computed here rather than with the nfq_tcp_compute_checksum_*() helpers
 * so that it covers IPv6 extension headers and a shortened packet the same
 * way on every libnetfilter_queue version.
 */
static void fix_tcp_checksum(struct packet *p)
{
	unsigned int tcp_len = p->len - p->tcp_off;
	/* Pseudo-header: protocol and length (below 64 KiB: no jumbograms). */
	uint32_t sum = IPPROTO_TCP + tcp_len;

	if (p->family == AF_INET) {
		struct iphdr *iph = (struct iphdr *)p->data;

		sum = csum_add(sum, (unsigned char *)&iph->saddr, 8);
	} else {
		struct ip6_hdr *ip6h = (struct ip6_hdr *)p->data;

		sum = csum_add(sum, (unsigned char *)&ip6h->ip6_src, 32);
	}
	p->tcp->check = 0;
	p->tcp->check = htons(csum_fold(csum_add(sum, p->data + p->tcp_off, tcp_len)));
}

/* Unfragmented IPv4 carrying TCP, whose header claims all the bytes we got. */
static bool parse_ipv4(struct packet *p)
{
	struct iphdr *iph = (struct iphdr *)p->data;

	if (p->len < sizeof(*iph) || iph->ihl < 5 || iph->ihl * 4U > p->len)
		return false;
	if (ntohs(iph->tot_len) != p->len || iph->protocol != IPPROTO_TCP)
		return false;
	if (iph->frag_off & htons(IP_MF | IP_OFFMASK))
		return false;
	p->family = AF_INET;
	p->tcp_off = iph->ihl * 4;
	return true;
}

/* IPv6 carrying TCP, possibly after hop-by-hop, routing or destination options. */
static bool parse_ipv6(struct packet *p)
{
	struct ip6_hdr *ip6h = (struct ip6_hdr *)p->data;
	unsigned int off = sizeof(*ip6h);
	uint8_t next;

	if (p->len < sizeof(*ip6h) || sizeof(*ip6h) + ntohs(ip6h->ip6_plen) != p->len)
		return false;
	next = ip6h->ip6_nxt;
	while (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS) {
		if (off + 8 > p->len)
			return false;
		next = p->data[off];
		off += (p->data[off + 1] + 1) * 8;
	}
	if (next != IPPROTO_TCP)
		return false;
	p->family = AF_INET6;
	p->tcp_off = off;
	return true;
}

static bool parse_packet(struct packet *p, unsigned char *data, int len)
{
	unsigned int doff;

	if (len < 1)
		return false;
	memset(p, 0, sizeof(*p));
	p->data = data;
	p->len = len;
	if (!((data[0] >> 4) == 4 ? parse_ipv4(p) : (data[0] >> 4) == 6 && parse_ipv6(p)))
		return false;
	if (p->tcp_off + sizeof(struct tcphdr) > p->len)
		return false;
	p->tcp = (struct tcphdr *)(data + p->tcp_off);
	doff = p->tcp->doff * 4;
	if (doff < sizeof(struct tcphdr) || p->tcp_off + doff > p->len)
		return false;
	p->pay_off = p->tcp_off + doff;
	p->pay_len = p->len - p->pay_off;
	return true;
}

static void log_mutation(const struct packet *p, enum mutation m, const char *detail)
{
	fprintf(stderr, "mutator: %s payload %u ports %u->%u%s\n", mutation_name[m],
		p->pay_len, ntohs(p->tcp->source), ntohs(p->tcp->dest), detail);
}

static void flip(struct packet *p, uint64_t r_pos, uint64_t r_mask)
{
	unsigned int pos = r_pos % p->pay_len;
	unsigned char mask = 1 + r_mask % 255;
	char detail[48];

	p->data[p->pay_off + pos] ^= mask;
	fix_tcp_checksum(p);
	snprintf(detail, sizeof(detail), " offset %u mask 0x%02x", pos, mask);
	log_mutation(p, MUT_FLIP, detail);
}

/*
 * Remembers this payload; when `chosen`, first puts the last earlier one of
 * the same length (if it differs) in its place.
 */
static void replay(struct packet *p, bool chosen)
{
	static unsigned char original[sizeof(last_payload)];
	unsigned char *pay = p->data + p->pay_off;
	unsigned int len = p->pay_len;

	if (len > sizeof(last_payload))
		return;
	memcpy(original, pay, len);
	if (chosen && last_len == len && memcmp(last_payload, pay, len)) {
		memcpy(pay, last_payload, len);
		fix_tcp_checksum(p);
		count.done[MUT_REPLAY]++;
		log_mutation(p, MUT_REPLAY, "");
	}
	memcpy(last_payload, original, len);
	last_len = len;
}

/*
 * Shortens the IP packet itself. A FIN is cleared with the tail: left in
 * place it would claim the stream ends where the cut is, and the receiver
 * would then discard the retransmitted tail, which is not a fault TCP can
 * recover from; without it the cut is a plain partial loss.
 */
static void truncate_payload(struct packet *p, uint64_t r_len)
{
	unsigned int keep = r_len % p->pay_len;
	char detail[48];

	snprintf(detail, sizeof(detail), " to %u%s", keep, p->tcp->fin ? " (FIN cleared)" : "");
	log_mutation(p, MUT_TRUNCATE, detail);
	p->len = p->pay_off + keep;
	p->pay_len = keep;
	p->tcp->fin = 0;
	if (p->family == AF_INET) {
		((struct iphdr *)p->data)->tot_len = htons(p->len);
		fix_ipv4_checksum(p);
	} else {
		((struct ip6_hdr *)p->data)->ip6_plen = htons(p->len - sizeof(struct ip6_hdr));
	}
	fix_tcp_checksum(p);
}

/*
 * Sends a copy from this namespace: it leaves through the output path, not
 * the forward hook, so it is not queued again. Called after the original's
 * verdict so the copy normally trails it.
 */
static void send_copy(const struct packet *p)
{
	ssize_t n = -1;

	if (p->family == AF_INET && raw4 >= 0) {
		struct sockaddr_in to = { .sin_family = AF_INET };

		to.sin_addr.s_addr = ((const struct iphdr *)p->data)->daddr;
		n = sendto(raw4, p->data, p->len, 0, (struct sockaddr *)&to, sizeof(to));
	} else if (p->family == AF_INET6 && raw6 >= 0) {
		struct sockaddr_in6 to = { .sin6_family = AF_INET6 };

		to.sin6_addr = ((const struct ip6_hdr *)p->data)->ip6_dst;
		n = sendto(raw6, p->data, p->len, 0, (struct sockaddr *)&to, sizeof(to));
	}
	if (n != (ssize_t)p->len) {
		count.dup_send_errors++;
		fprintf(stderr, "mutator: duplicate not sent: %s\n",
			n < 0 ? strerror(errno) : "short write");
	}
}

static void release_held(void)
{
	if (!held.active)
		return;
	held.active = false;
	nfq_set_verdict(queue_handle, held.id, NF_ACCEPT, 0, NULL);
}

static void hold(uint32_t id)
{
	held.active = true;
	held.id = id;
	clock_gettime(CLOCK_MONOTONIC, &held.deadline);
	held.deadline.tv_nsec += HOLD_NS;
	if (held.deadline.tv_nsec >= 1000000000L) {
		held.deadline.tv_sec++;
		held.deadline.tv_nsec -= 1000000000L;
	}
}

/*
 * Decides and applies the fate of one candidate packet and issues its
 * verdict, unless it is held. Every candidate consumes the same five PRNG
 * values whatever happens, so a choice that depends on timing (whether a
 * packet is already held) does not shift the choices for later packets.
 */
static void mutate(struct packet *p, uint32_t id)
{
	uint64_t r_rate = rng_next(), r_mut = rng_next(), r_alt = rng_next();
	uint64_t r_a = rng_next(), r_b = rng_next();
	enum mutation m;

	if (only_mutation == MUT_REPLAY) {
		replay(p, r_rate % 100 < rate);
		nfq_set_verdict(queue_handle, id, NF_ACCEPT, p->len, p->data);
		return;
	}
	if (r_rate % 100 >= rate) {
		nfq_set_verdict(queue_handle, id, NF_ACCEPT, 0, NULL);
		return;
	}
	m = only_mutation >= 0 ? (enum mutation)only_mutation : r_mut % MUT_RANDOM;
	if (m == MUT_REORDER && held.active)
		m = r_alt % (MUT_RANDOM - 1);
	count.done[m]++;
	switch (m) {
	case MUT_FLIP:
		flip(p, r_a, r_b);
		nfq_set_verdict(queue_handle, id, NF_ACCEPT, p->len, p->data);
		break;
	case MUT_TRUNCATE:
		truncate_payload(p, r_a);
		nfq_set_verdict(queue_handle, id, NF_ACCEPT, p->len, p->data);
		break;
	case MUT_DUPLICATE:
		log_mutation(p, m, "");
		nfq_set_verdict(queue_handle, id, NF_ACCEPT, 0, NULL);
		send_copy(p);
		break;
	default:
		log_mutation(p, m, " (held)");
		hold(id);
		break;
	}
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	uint32_t id = ph ? ntohl(ph->packet_id) : 0;
	bool was_held = held.active;
	unsigned char *raw;
	int len = nfq_get_payload(nfa, &raw);
	struct packet p;

	(void)qh;
	(void)msg;
	(void)data;
	count.packets++;
	/* The packet is modified in place: the receive buffer is ours. */
	if (parse_packet(&p, raw, len) && p.pay_len >= min_payload && p.pay_len <= max_payload) {
		count.payload++;
		mutate(&p, id);
	} else {
		nfq_set_verdict(queue_handle, id, NF_ACCEPT, 0, NULL);
	}
	/* A packet held before this one goes right after this one's verdict. */
	if (was_held)
		release_held();
	return 0;
}

static bool hold_expired(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > held.deadline.tv_sec ||
	       (now.tv_sec == held.deadline.tv_sec && now.tv_nsec >= held.deadline.tv_nsec);
}

/* Time left until the held packet's deadline, for ppoll(). */
static struct timespec hold_remaining(void)
{
	struct timespec now, left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left.tv_sec = held.deadline.tv_sec - now.tv_sec;
	left.tv_nsec = held.deadline.tv_nsec - now.tv_nsec;
	if (left.tv_nsec < 0) {
		left.tv_sec--;
		left.tv_nsec += 1000000000L;
	}
	if (left.tv_sec < 0)
		left.tv_sec = left.tv_nsec = 0;
	return left;
}

/*
 * SIGTERM and SIGINT are blocked except inside ppoll(), so a signal cannot
 * slip in between the check of stop and an unbounded wait.
 */
static void run(struct nfq_handle *h, const sigset_t *waitmask)
{
	static char buf[65536 + 4096] __attribute__((aligned));
	struct pollfd pfd = { .fd = nfq_fd(h), .events = POLLIN };

	while (!stop) {
		struct timespec left;
		int n;

		if (held.active)
			left = hold_remaining();
		n = ppoll(&pfd, 1, held.active ? &left : NULL, waitmask);
		if (n < 0 && errno != EINTR) {
			perror("mutator: poll");
			break;
		}
		if (n > 0) {
			n = recv(pfd.fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0) {
				nfq_handle_packet(h, buf, n);
			} else if (n < 0 && errno == ENOBUFS) {
				/* The kernel dropped packets it could not queue to us. */
				fprintf(stderr, "mutator: netlink overrun, packets were dropped\n");
			} else if (n < 0 && errno != EINTR && errno != EAGAIN) {
				perror("mutator: recv");
				break;
			}
		}
		if (held.active && hold_expired())
			release_held();
	}
	release_held();
}

static int open_raw(int family)
{
	int one = 1;
	int fd = socket(family, SOCK_RAW, IPPROTO_RAW);

	/* IPPROTO_RAW implies a header included for both families; say so for IPv4. */
	if (fd >= 0 && family == AF_INET &&
	    setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Decimal only, whole string, no sign, at most max. */
static bool parse_num(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end && *out <= max;
}

static int usage(void)
{
	fprintf(stderr, "usage: mutator --queue N --seed S --rate P [--max-payload B]\n"
			"  N: 0..65535, S: 0..2^64-1, P: 0..100 (percent), B: bytes\n");
	return 2;
}

static int parse_args(int argc, char **argv, unsigned int *queue)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "seed", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "max-payload", required_argument, NULL, 'm' },
		{ "min-payload", required_argument, NULL, 'n' },
		{ "only", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_queue = false, have_seed = false, have_rate = false;
	unsigned long long v;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			if (!parse_num(optarg, 65535, &v))
				return -1;
			*queue = v;
			have_queue = true;
			break;
		case 's':
			if (!parse_num(optarg, UINT64_MAX, &v))
				return -1;
			rng_state = v;
			have_seed = true;
			break;
		case 'r':
			if (!parse_num(optarg, 100, &v))
				return -1;
			rate = v;
			have_rate = true;
			break;
		case 'm':
			if (!parse_num(optarg, ~0UL, &v))
				return -1;
			max_payload = v;
			break;
		case 'n':
			if (!parse_num(optarg, ~0UL, &v) || v == 0)
				return -1;
			min_payload = v;
			break;
		case 'o':
			for (only_mutation = MUT_COUNT - 1; only_mutation >= 0; only_mutation--)
				if (!strcmp(optarg, mutation_name[only_mutation]))
					break;
			if (only_mutation < 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || !have_queue || !have_seed || !have_rate)
		return -1;
	return 0;
}

static void print_counters(void)
{
	printf("mutator: packets %lu payload %lu flipped %lu truncated %lu duplicated %lu reordered %lu replayed %lu dup_send_errors %lu\n",
	       count.packets, count.payload, count.done[MUT_FLIP], count.done[MUT_TRUNCATE],
	       count.done[MUT_DUPLICATE], count.done[MUT_REORDER], count.done[MUT_REPLAY],
	       count.dup_send_errors);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, waitmask;
	struct nfq_handle *h;
	unsigned int queue = 0;

	if (parse_args(argc, argv, &queue))
		return usage();

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	raw4 = open_raw(AF_INET);
	if (raw4 < 0) {
		perror("mutator: raw IPv4 socket");
		return 1;
	}
	raw6 = open_raw(AF_INET6);
	if (raw6 < 0)	/* e.g. IPv6 disabled: its duplicates count as send errors */
		perror("mutator: raw IPv6 socket");

	h = nfq_open();
	if (!h) {
		perror("mutator: nfq_open");
		return 1;
	}
	/* No-ops since Linux 3.8; older kernels need them, failures are harmless. */
	nfq_bind_pf(h, AF_INET);
	nfq_bind_pf(h, AF_INET6);
	queue_handle = nfq_create_queue(h, queue, on_packet, NULL);
	if (!queue_handle || nfq_set_mode(queue_handle, NFQNL_COPY_PACKET, 0xffff) < 0) {
		perror("mutator: nfq_create_queue");
		return 1;
	}
	if (nfq_set_queue_maxlen(queue_handle, QUEUE_MAXLEN) < 0)
		perror("mutator: nfq_set_queue_maxlen");
	nfnl_rcvbufsiz(nfq_nfnlh(h), RCVBUF_BYTES);

	printf("mutator: ready on queue %u\n", queue);
	fflush(stdout);
	run(h, &waitmask);

	nfq_destroy_queue(queue_handle);
	nfq_close(h);
	print_counters();
	return 0;
}
