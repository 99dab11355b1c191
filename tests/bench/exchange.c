// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake's floor as this network realizes it: SMKEX's message
 * pattern after channel 2 came up, without SMKEX. Per round the client opens
 * two plain TCP connections to the server, A by the default route (path 1)
 * and B bound to DEV2 (path 2), sends 36 bytes on A as soon as it is
 * connected (record 1), lets both settle, then times, like the client's
 * `duration_us - channel_up_us[1]`:
 *   36 bytes on B (record 2); 36 back on A (record 3) and 68 on B (record 4);
 *   36 on A (record 5), the last send returned.
 * Sizes are the records' (Documentation/protocol.md). No crypto, no MPTCP:
 * what is left of SMKEX's time above this is SMKEX's own. Prints one line
 * per round, "exchange_us N", for tests/bench/handshake.sh.
 *   exchange server PORT COUNT
 *   exchange client ADDR PORT COUNT DEV2
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { REC1 = 36, REC2 = 36, REC3 = 36, REC4 = 68, REC5 = 36, SETTLE_MS = 100 };

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Each message starts with its record's number, as a record starts with its type. */
static void send_all(int fd, int len, char record)
{
	char buf[REC4] = { record };
	int off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, 0);

		if (n <= 0)
			die("send");
		off += n;
	}
}

/* Returns the message's record number. */
static char recv_all(int fd, int len)
{
	char buf[REC4];
	int off = 0;

	while (off < len) {
		ssize_t n = recv(fd, buf + off, len - off, 0);

		if (n < 0)
			die("recv");
		if (n == 0) {
			fprintf(stderr, "recv: peer closed after %d of %d bytes\n", off, len);
			exit(1);
		}
		off += n;
	}
	return buf[0];
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void expect(char got, char record)
{
	if (got != record) {
		fprintf(stderr, "expected record %d, got %d\n", record, got);
		exit(1);
	}
}

static int parse_int(const char *s, int lo, int hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "bad number '%s' (%d..%d)\n", s, lo, hi);
		exit(2);
	}
	return (int)v;
}

static void server(int port, int count)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, lfd, round;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_REUSEADDR");
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 4))
		die("bind/listen");
	for (round = 0; round < count; round++) {
		int x = accept(lfd, NULL, NULL);
		int y = accept(lfd, NULL, NULL);
		struct pollfd pfd[2] = { { .fd = x, .events = POLLIN }, { .fd = y, .events = POLLIN } };
		int a, b, first;

		if (x < 0 || y < 0)
			die("accept");
		/* Accept order follows the two paths' timing: record 1 says which is A. */
		if (poll(pfd, 2, -1) < 0)
			die("poll");
		first = (pfd[0].revents & POLLIN) ? x : y;
		switch (recv_all(first, REC1)) {
		case 1:
			a = first;
			b = first == x ? y : x;
			expect(recv_all(b, REC2), 2);
			break;
		case 2:
			b = first;
			a = first == x ? y : x;
			expect(recv_all(a, REC1), 1);
			break;
		default:
			fprintf(stderr, "unexpected first message\n");
			exit(1);
		}
		send_all(a, REC3, 3);
		send_all(b, REC4, 4);
		expect(recv_all(a, REC5), 5);
		close(a);
		close(b);
	}
	close(lfd);
}

static int connect_to(const char *addr, int port, const char *dev)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "bad IPv4 address '%s'\n", addr);
		exit(2);
	}
	if (dev && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, strlen(dev)))
		die("SO_BINDTODEVICE");
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die("connect");
	return fd;
}

static void client(const char *addr, int port, int count, const char *dev2)
{
	struct timespec settle = { 0, SETTLE_MS * 1000000L };
	int round;

	for (round = 0; round < count; round++) {
		int a = connect_to(addr, port, NULL), b;
		long long t0, t1;

		send_all(a, REC1, 1);
		b = connect_to(addr, port, dev2);

		/* Both ends established and B's third ACK delivered (RTTs up to
		 * 200 ms), as SMKEX's channel 2 is when channel_up_us counts.
		 */
		nanosleep(&settle, NULL);
		t0 = now_us();
		send_all(b, REC2, 2);
		expect(recv_all(a, REC3), 3);
		expect(recv_all(b, REC4), 4);
		send_all(a, REC5, 5);
		t1 = now_us();
		printf("exchange_us %lld\n", t1 - t0);
		fflush(stdout);
		close(a);
		close(b);
	}
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "server")) {
		server(parse_int(argv[2], 1, 65535), parse_int(argv[3], 1, 1000000));
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "client")) {
		client(argv[2], parse_int(argv[3], 1, 65535), parse_int(argv[4], 1, 1000000), argv[5]);
		return 0;
	}
	fprintf(stderr, "usage: exchange server PORT COUNT\n"
			"       exchange client ADDR PORT COUNT DEV2\n");
	return 2;
}
