// SPDX-License-Identifier: GPL-2.0
/*
 * A bounded fuzzer of the SOL_SMKEX API from user space, run in the VM
 * (Documentation/api.md is the contract). Several threads share a pool of
 * MPTCP sockets in every state the module knows (fresh, enabled, connected
 * with a handshake running on loopback, listening, accepted, closed and
 * replaced) and call, at random: setsockopt and getsockopt at SOL_SMKEX with
 * random option names, lengths and values, through valid, NULL, unmapped and
 * page-straddling pointers; connect, listen, accept, shutdown, send, recv
 * and close. Every SOL_SMKEX call must fail, if it fails, with an errno the
 * API documents; anything else is reported. The kernel side (no splat, no
 * leak) is judged by the VM console.
 *
 *   sockopt_fuzz SECONDS THREADS SEED
 *
 * Prints TAP: the calls made, the errnos seen, and whether every errno was
 * a documented one. Exit status 0 only then.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/smkex.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define POOL 16

static int pool[POOL];
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned short listen_port;	/* a plain MPTCP listener for connects */
static unsigned char *unmapped;		/* a page that is not mapped */
static unsigned char *edge;		/* the last bytes of a mapped page before an unmapped one */
static time_t deadline;
static atomic_long calls, smkex_calls, smkex_ok, bad_errnos;
static atomic_long errno_seen[256];

static unsigned int next(unsigned int *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* What the API documents for a failing SOL_SMKEX call (api.md). */
static int documented(int e)
{
	switch (e) {
	case EINVAL: case EFAULT: case ENOPROTOOPT: case EISCONN: case ENOTCONN:
	case ECONNABORTED: case ENOMEM: case EBUSY: case EOPNOTSUPP:
		return 1;
	}
	return 0;
}

static void note_smkex(int ret)
{
	atomic_fetch_add(&smkex_calls, 1);
	/* Another thread closed the descriptor under us: not the module's. */
	if (ret == 0)
		atomic_fetch_add(&smkex_ok, 1);
	if (ret == 0 || errno == EBADF || errno == ENOTSOCK)
		return;
	atomic_fetch_add(&errno_seen[errno & 255], 1);
	if (!documented(errno)) {
		atomic_fetch_add(&bad_errnos, 1);
		fprintf(stderr, "# undocumented errno %d (%s)\n", errno, strerror(errno));
	}
}

static void *pointer(unsigned int *s, unsigned char *buf, size_t len)
{
	switch (next(s) % 8) {
	case 0:
		return NULL;
	case 1:
		return unmapped;
	case 2:
		return edge + 4096 - (next(s) % 16);	/* runs into the unmapped page */
	default:
		if (len)
			buf[next(s) % len] = next(s);
		return buf;
	}
}

static int take(unsigned int *s)
{
	int fd;

	pthread_mutex_lock(&pool_lock);
	fd = pool[next(s) % POOL];
	pthread_mutex_unlock(&pool_lock);
	return fd;
}

/* Close a pool socket and put a fresh MPTCP socket in its place. */
static void replace(unsigned int *s)
{
	int i = next(s) % POOL, fd = socket(next(s) % 2 ? AF_INET : AF_INET6, SOCK_STREAM,
					    IPPROTO_MPTCP);
	int old;

	if (fd < 0)
		return;
	pthread_mutex_lock(&pool_lock);
	old = pool[i];
	pool[i] = fd;
	pthread_mutex_unlock(&pool_lock);
	usleep(next(s) % 2000);	/* let other threads use it a little longer */
	close(old);
}

static void one_call(unsigned int *s)
{
	unsigned char buf[1024];
	int fd = take(s), optname = (int)(next(s) % 10) - 2, ret;
	int val;

	memset(buf, 0, sizeof(buf));
	switch (next(s) % 12) {
	case 0: case 1: case 2: {	/* setsockopt with anything */
		size_t n = next(s) % 5 ? next(s) % 200 : next(s);
		void *p = pointer(s, buf, sizeof(buf));

		if (p == buf && n > sizeof(buf))
			n = sizeof(buf);
		ret = setsockopt(fd, SOL_SMKEX, optname, p, n);
		note_smkex(ret);
		break;
	}
	case 3: case 4: {		/* the options that matter, with plausible values */
		val = next(s) % 4 ? (int)(next(s) % 3) : (int)next(s);
		ret = setsockopt(fd, SOL_SMKEX, next(s) % 2 ? SMKEX_ENABLE : SMKEX_TIMEOUT_MS,
				 &val, sizeof(val));
		note_smkex(ret);
		break;
	}
	case 5: case 6: case 7: {	/* getsockopt with anything */
		socklen_t *lp = (socklen_t *)pointer(s, buf + 900, 4);
		void *p = pointer(s, buf, 800);

		if (lp == (socklen_t *)(buf + 900))
			*lp = next(s) % 4 ? next(s) % 900 : next(s);
		if (p == buf && lp == (socklen_t *)(buf + 900) && *lp > 800)
			*lp = 800;
		ret = getsockopt(fd, SOL_SMKEX, optname, p, lp);
		note_smkex(ret);
		break;
	}
	case 8: {			/* connect (a handshake on loopback) or listen */
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = listen_port,
					   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
		struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = listen_port,
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		fcntl(fd, F_SETFL, O_NONBLOCK);
		if (next(s) % 4 == 0)
			listen(fd, 4);
		else if (connect(fd, (struct sockaddr *)&a4, sizeof(a4)))
			connect(fd, (struct sockaddr *)&a6, sizeof(a6));
		break;
	}
	case 9:				/* application I/O and shutdown */
		if (next(s) % 2)
			send(fd, buf, next(s) % 64, MSG_DONTWAIT | MSG_NOSIGNAL);
		else if (next(s) % 2)
			recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		else
			shutdown(fd, next(s) % 3);
		break;
	case 10: {			/* accept whatever a listener has */
		int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK);

		if (c >= 0)
			close(c);
		break;
	}
	default:
		replace(s);
		break;
	}
	atomic_fetch_add(&calls, 1);
}

static void *worker(void *arg)
{
	unsigned int s = (unsigned int)(unsigned long)arg;

	while (time(NULL) < deadline)
		one_call(&s);
	return NULL;
}

/* A plain MPTCP listener that accepts and closes, so connects get somewhere. */
static void *acceptor(void *arg)
{
	int lfd = *(int *)arg;

	while (time(NULL) < deadline) {
		int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

		if (c >= 0)
			close(c);
		else
			usleep(1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 20, threads = argc > 2 ? atoi(argv[2]) : 4;
	unsigned int seed = argc > 3 ? (unsigned int)atoi(argv[3]) : 1;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t alen = sizeof(a);
	pthread_t t[64], acc;
	unsigned char *pages;
	long total_errnos = 0;
	int lfd, i, n = 0;

	if (threads < 1 || threads > 64 || seconds < 1) {
		fprintf(stderr, "usage: %s SECONDS THREADS(1..64) SEED\n", argv[0]);
		return 2;
	}
	pages = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED || munmap(pages + 4096, 4096))
		return 2;
	edge = pages;
	unmapped = pages + 4096;
	lfd = socket(AF_INET6, SOCK_STREAM, IPPROTO_MPTCP);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 64) ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) || fcntl(lfd, F_SETFL, O_NONBLOCK))
		return 2;
	listen_port = a.sin6_port;
	for (i = 0; i < POOL; i++)
		pool[i] = socket(i % 2 ? AF_INET : AF_INET6, SOCK_STREAM, IPPROTO_MPTCP);
	deadline = time(NULL) + seconds;
	pthread_create(&acc, NULL, acceptor, &lfd);
	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(unsigned long)(seed * 7919u + i));
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	pthread_join(acc, NULL);
	for (i = 0; i < POOL; i++)
		close(pool[i]);
	close(lfd);

	printf("TAP version 13\n1..5\n");
	printf("# %ld calls, %ld at SOL_SMKEX, %d threads, %d s, seed %u\n",
	       atomic_load(&calls), atomic_load(&smkex_calls), threads, seconds, seed);
	for (i = 0; i < 256; i++) {
		long c = atomic_load(&errno_seen[i]);

		if (c) {
			printf("# errno %d (%s): %ld\n", i, strerror(i), c);
			total_errnos += c;
		}
	}
	printf("%sok %d - the fuzzer made SOL_SMKEX calls (%ld)\n",
	       atomic_load(&smkex_calls) > 1000 ? "" : "not ", ++n, atomic_load(&smkex_calls));
	/* Without the module, MPTCP would refuse every one of them. */
	printf("%sok %d - the module answered: calls that succeeded (%ld)\n",
	       atomic_load(&smkex_ok) > 100 ? "" : "not ", ++n, atomic_load(&smkex_ok));
	printf("%sok %d - hostile input was refused (%ld errors)\n",
	       total_errnos > 100 ? "" : "not ", ++n, total_errnos);
	printf("%sok %d - every failure had a documented errno (%ld did not)\n",
	       atomic_load(&bad_errnos) ? "not " : "", ++n, atomic_load(&bad_errnos));
	return atomic_load(&bad_errnos) || atomic_load(&smkex_calls) <= 1000 ||
	       atomic_load(&smkex_ok) <= 100 || total_errnos <= 100;
}
