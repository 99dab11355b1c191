// SPDX-License-Identifier: GPL-2.0
/*
 * An active attacker on one path, for the VM tests: takes the TCP packets
 * that an nftables rule queues (NFQUEUE) in a forwarding namespace, looks for
 * a byte pattern in their payload (e.g. an SMKEX key-share record header),
 * flips one bit of the byte at an offset from each match, fixes the TCP
 * checksum and reinjects the packet. On SIGTERM/SIGINT it prints how many
 * matches it rewrote, so a test can assert that the attack really happened.
 *
 *   attacker --queue N --match HEX --offset K
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/netfilter.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnetfilter_queue/libnetfilter_queue_ipv4.h>
#include <libnetfilter_queue/libnetfilter_queue_ipv6.h>
#include <libnetfilter_queue/libnetfilter_queue_tcp.h>
#include <libnetfilter_queue/pktbuff.h>

static unsigned char pattern[64];
static size_t pattern_len;
static size_t flip_offset;
static unsigned long rewritten, packets;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_hex(const char *hex)
{
	size_t n = strlen(hex);

	if (n == 0 || n % 2 || n / 2 > sizeof(pattern))
		return -1;
	for (size_t i = 0; i < n / 2; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &pattern[i]) != 1)
			return -1;
	pattern_len = n / 2;
	return 0;
}

/* Flips a bit at every match whose target byte is in this payload. */
static unsigned int rewrite(unsigned char *payload, unsigned int len)
{
	unsigned int count = 0;

	for (unsigned int i = 0; i + pattern_len <= len; i++) {
		if (memcmp(payload + i, pattern, pattern_len) || i + flip_offset >= len)
			continue;
		payload[i + flip_offset] ^= 0x01;
		count++;
	}
	return count;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	unsigned char *raw;
	int len = nfq_get_payload(nfa, &raw);
	uint32_t id = ph ? ntohl(ph->packet_id) : 0;
	struct pkt_buff *pkt;
	struct tcphdr *tcph;
	unsigned int count = 0;
	int family;

	(void)msg;
	(void)data;
	packets++;
	if (len <= 0)
		return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
	family = (raw[0] >> 4) == 6 ? AF_INET6 : AF_INET;
	pkt = pktb_alloc(family, raw, len, 0);
	if (!pkt)
		return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
	if (family == AF_INET) {
		struct iphdr *iph = nfq_ip_get_hdr(pkt);

		if (iph && iph->protocol == IPPROTO_TCP && !nfq_ip_set_transport_header(pkt, iph) &&
		    (tcph = nfq_tcp_get_hdr(pkt))) {
			count = rewrite(nfq_tcp_get_payload(tcph, pkt), nfq_tcp_get_payload_len(tcph, pkt));
			if (count)
				nfq_tcp_compute_checksum_ipv4(tcph, iph);
		}
	} else {
		struct ip6_hdr *ip6h = nfq_ip6_get_hdr(pkt);

		if (ip6h && !nfq_ip6_set_transport_header(pkt, ip6h, IPPROTO_TCP) &&
		    (tcph = nfq_tcp_get_hdr(pkt))) {
			count = rewrite(nfq_tcp_get_payload(tcph, pkt), nfq_tcp_get_payload_len(tcph, pkt));
			if (count)
				nfq_tcp_compute_checksum_ipv6(tcph, ip6h);
		}
	}
	rewritten += count;
	if (count) {
		fprintf(stderr, "attacker: rewrote %u match(es) in packet %lu\n", count, packets);
		len = nfq_set_verdict(qh, id, NF_ACCEPT, pktb_len(pkt), pktb_data(pkt));
	} else {
		len = nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
	}
	pktb_free(pkt);
	return len;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "match", required_argument, NULL, 'm' },
		{ "offset", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	char buf[65536] __attribute__((aligned));
	int queue = -1, fd, opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			queue = atoi(optarg);
			break;
		case 'm':
			if (parse_hex(optarg)) {
				fprintf(stderr, "attacker: bad --match %s\n", optarg);
				return 2;
			}
			break;
		case 'o':
			flip_offset = strtoul(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	if (queue < 0 || !pattern_len) {
		fprintf(stderr, "usage: attacker --queue N --match HEX --offset K\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	h = nfq_open();
	if (!h || nfq_bind_pf(h, AF_INET) < 0) {
		perror("attacker: nfq_open");
		return 1;
	}
	qh = nfq_create_queue(h, queue, on_packet, NULL);
	if (!qh || nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff) < 0) {
		perror("attacker: nfq_create_queue");
		return 1;
	}
	fd = nfq_fd(h);
	printf("attacker: ready on queue %d\n", queue);
	fflush(stdout);
	while (!stop) {
		int n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS)
				continue;
			perror("attacker: recv");
			break;
		}
		nfq_handle_packet(h, buf, n);
	}
	nfq_destroy_queue(qh);
	nfq_close(h);
	printf("attacker: packets %lu rewritten %lu\n", packets, rewritten);
	return 0;
}
