// SPDX-License-Identifier: GPL-2.0
/*
 * close() at random points of the SMKEX handshake, on either side, many
 * times: the client opens connections (non-blocking connect, so a close can
 * come before the SYN-ACK) and closes each after a random delay; the server
 * accepts and closes each accepted connection after its own random delay.
 * Just before each close it reads SMKEX_INFO, so the summary shows that the
 * closes really fell before, during and after the handshake:
 *
 *   closer: connections N before_handshake N in_handshake N complete N failed N errors N
 *
 *   closer server PORT SEED MAX_DELAY_MS IDLE_S   (ends after IDLE_S without a connection)
 *   closer client ADDR PORT COUNT SEED MAX_DELAY_MS
 *
 * Delays are drawn from a seeded generator, so a run can be repeated.
 * Exit status 0 unless a system call failed unexpectedly (errors > 0).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/smkex.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#define MAX_OPEN 64

static uint64_t rng_state;
static unsigned int max_delay_ms;
static int connections, before, during, complete, failed, errors;

/* splitmix64: small, seeded, good enough to spread delays. */
static uint64_t next_random(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static unsigned int random_delay_ms(void)
{
	/* A quarter close at once: the handshake's first steps get their share. */
	if (next_random() % 4 == 0)
		return 0;
	return next_random() % (max_delay_ms + 1);
}

static void error(const char *what)
{
	fprintf(stderr, "closer: %s: %s\n", what, strerror(errno));
	errors++;
}

/* Classifies the connection by its SMKEX state, then closes it. */
static void close_counted(int fd)
{
	struct smkex_info info;
	socklen_t len = sizeof(info);

	if (getsockopt(fd, SOL_SMKEX, SMKEX_INFO, &info, &len)) {
		error("SMKEX_INFO");
	} else {
		switch (info.state) {
		case SMKEX_STATE_ENABLED:
			before++;
			break;
		case SMKEX_STATE_HANDSHAKE:
			during++;
			break;
		case SMKEX_STATE_COMPLETE:
			complete++;
			break;
		case SMKEX_STATE_FAILED:
			failed++;
			break;
		default:
			fprintf(stderr, "closer: unexpected state %u\n", info.state);
			errors++;
		}
	}
	close(fd);
	connections++;
}

static int smkex_socket(int family)
{
	int one = 1, fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_MPTCP);

	if (fd < 0) {
		error("socket");
		return -1;
	}
	if (setsockopt(fd, SOL_SMKEX, SMKEX_ENABLE, &one, sizeof(one))) {
		error("SMKEX_ENABLE");
		close(fd);
		return -1;
	}
	return fd;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int client(const char *addr, int port, int count)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *a6 = (void *)&ss;
	struct sockaddr_in *a4 = (void *)&ss;
	socklen_t alen;
	int family;

	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		family = a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		alen = sizeof(*a4);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		family = a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		alen = sizeof(*a6);
	} else {
		fprintf(stderr, "closer: bad address %s\n", addr);
		return 2;
	}
	for (int i = 0; i < count; i++) {
		int fd = smkex_socket(family);

		if (fd < 0)
			continue;
		if (connect(fd, (void *)&ss, alen) && errno != EINPROGRESS)
			error("connect");
		sleep_ms(random_delay_ms());
		close_counted(fd);
	}
	return 0;
}

/* Accepts until IDLE_S pass without a connection; each accepted socket is
 * closed at its own random deadline. */
static int server(int port, int idle_s)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct { int fd; long long at; } open_fds[MAX_OPEN];
	int lfd = smkex_socket(AF_INET6), one = 1, nopen = 0;
	long long last = now_ms();

	if (lfd < 0)
		return 2;
	/* One IPv6 listener takes IPv4 too (v4-mapped). */
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (void *)&a6, sizeof(a6)) || listen(lfd, MAX_OPEN)) {
		error("bind/listen");
		return 2;
	}
	printf("listening: %d\n", port);
	fflush(stdout);
	while (nopen || now_ms() - last < idle_s * 1000LL) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		long long next = last + idle_s * 1000LL, t = now_ms();

		for (int i = 0; i < nopen; i++)
			if (open_fds[i].at < next)
				next = open_fds[i].at;
		poll(&p, nopen < MAX_OPEN ? 1 : 0, next > t ? (int)(next - t) : 0);
		if (p.revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

			if (fd >= 0) {
				open_fds[nopen].fd = fd;
				open_fds[nopen].at = now_ms() + random_delay_ms();
				nopen++;
				last = now_ms();
			} else if (errno != EAGAIN && errno != ECONNABORTED) {
				error("accept");
			}
		}
		for (int i = 0; i < nopen; i++) {
			if (open_fds[i].at > now_ms())
				continue;
			close_counted(open_fds[i].fd);
			open_fds[i--] = open_fds[--nopen];
		}
	}
	close(lfd);
	return 0;
}

static int parse(const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || end == s || *end || *out < min || *out > max ? -1 : 0;
}

int main(int argc, char **argv)
{
	long port, count, seed, delay, idle;
	int rc;

	if (argc == 6 && !strcmp(argv[1], "server") && !parse(argv[2], 1, 65535, &port) &&
	    !parse(argv[3], 0, 1L << 30, &seed) && !parse(argv[4], 0, 60000, &delay) &&
	    !parse(argv[5], 1, 3600, &idle)) {
		rng_state = seed;
		max_delay_ms = delay;
		rc = server(port, idle);
	} else if (argc == 7 && !strcmp(argv[1], "client") && !parse(argv[3], 1, 65535, &port) &&
		   !parse(argv[4], 1, 1000000, &count) && !parse(argv[5], 0, 1L << 30, &seed) &&
		   !parse(argv[6], 0, 60000, &delay)) {
		rng_state = seed;
		max_delay_ms = delay;
		rc = client(argv[2], port, count);
	} else {
		fprintf(stderr, "usage: closer server PORT SEED MAX_DELAY_MS IDLE_S\n"
				"       closer client ADDR PORT COUNT SEED MAX_DELAY_MS\n");
		return 2;
	}
	printf("closer: connections %d before_handshake %d in_handshake %d complete %d failed %d errors %d\n",
	       connections, before, during, complete, failed, errors);
	return rc ? rc : errors ? 1 : 0;
}
