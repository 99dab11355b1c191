// SPDX-License-Identifier: GPL-2.0
/*
 * Cost of setsockopt(SOL_SOCKET, SO_KEEPALIVE) on an MPTCP socket and on a
 * TCP socket, in ns per call (median of batches). Run with and without
 * smkex.ko loaded (bench.sh does both in one VM boot): the module's ftrace
 * hook on mptcp_setsockopt is the only module code a socket that never set
 * an SMKEX option can reach. A benchmark, not a test: it asserts nothing.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define BATCHES 15
#define CALLS 20000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_ns_per_call(int proto)
{
	double batch[BATCHES];
	int fd = socket(AF_INET, SOCK_STREAM, proto), one = 1;

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	for (int b = 0; b < BATCHES; b++) {
		double start = now_ns();

		for (int i = 0; i < CALLS; i++)
			if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one))) {
				perror("setsockopt");
				exit(1);
			}
		batch[b] = (now_ns() - start) / CALLS;
	}
	close(fd);
	qsort(batch, BATCHES, sizeof(batch[0]), cmp);
	return batch[BATCHES / 2];
}

int main(int argc, char **argv)
{
	const char *label = argc > 1 ? argv[1] : "";
	double mptcp = median_ns_per_call(IPPROTO_MPTCP);
	double tcp = median_ns_per_call(IPPROTO_TCP);

	printf("%s mptcp_ns %.0f tcp_ns %.0f\n", label, mptcp, tcp);
	return 0;
}
