// SPDX-License-Identifier: GPL-2.0
/*
 * Many SMKEX connections at once, event-driven on both sides: an epoll
 * server and a client with non-blocking sockets. Each side checks that epoll
 * reports a connection readable or writable only once its handshake is
 * complete (SMKEX_INFO says so at that moment), that both ends of each
 * connection derived the same key (the client sends its key's exporter
 * output as the payload, the server compares it with its own and answers
 * with one status byte), and prints one summary line:
 *
 *   concurrent: connections N complete N early_readiness N mismatches N errors N refused N
 *
 * (refused: the server's accept() failed with ECONNABORTED, which an SMKEX
 * listener returns for a connection that fell back to TCP; it counts as
 * one of COUNT, so that the server still ends, and fails the exit status
 * unless --report.)
 *
 *   concurrent server PORT COUNT [--family 4|6] [--plain [--joined]] [--records]
 *   concurrent client ADDR PORT COUNT [--batch N] [--family 4|6] [--plain [--joined]] [--records]
 *
 * The client opens N connections at once (default: all, at most 256), then
 * the next N: --batch 1 makes them one after the other. --plain (both
 * sides) is the same exchange over plain MPTCP, for the benchmarks: no
 * SMKEX, a fixed 32-byte payload instead of the exporter. --joined (both
 * sides, with --plain) is the baseline with the same two subflows as SMKEX:
 * the client closes a connection only once the path manager reported its
 * join established (MPTCP_EVENT_SUB_ESTABLISHED on the "mptcp_pm_events"
 * generic netlink group, CAP_NET_ADMIN, pm_events.c), and the server, after
 * its answer, only at the client's close, so that the join completes on its
 * side too instead of meeting a closed connection. Plain MPTCP otherwise
 * often closes before its join; its client cannot wait for the join before
 * writing, as the path manager joins only once the first data made the
 * connection fully established. --report (both
 * sides, for tests whose network may alter bytes) sends nothing in band:
 * each side prints one line per connection when its handshake ended,
 *
 *   conn PORT complete EXPORTER_HEX | conn PORT failed REASON
 *
 * (PORT: the client's channel-1 port) for the test to compare; the client
 * closes once complete, the server once it sees that close or fails.
 * --records (both sides) switches the record layer on (SMKEX_RECORDS): the
 * exporter and the status byte then travel in records, and a readable
 * event means authenticated plaintext.
 *
 * Exit status 0 only if every connection completed and matched.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/smkex.h>

#include "pm_events.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#define MAX_CONNS 256
#define PROOF_LEN 32
#define DEADLINE_S 600

static int family = AF_INET;
static int plain, joined, report, records;
static int connections, completed, early, mismatches, errors, refused;

struct conn {
	int fd;
	int got;		/* proof bytes received (server) / --joined: answer received (client) */
	int sent;		/* proof bytes sent (client) / --joined: answer sent (server) */
	int done;
	int joined;		/* --joined: its second subflow is established */
	unsigned int token;	/* --joined: its MPTCP token */
	unsigned short port;	/* --report: the client's channel-1 port */
	unsigned char proof[PROOF_LEN];
};

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static int smkex_socket(void)
{
	int one = 1, fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_MPTCP);

	if (fd < 0)
		die("socket");
	if (!plain && setsockopt(fd, SOL_SMKEX, SMKEX_ENABLE, &one, sizeof(one)))
		die("SMKEX_ENABLE");
	if (records && setsockopt(fd, SOL_SMKEX, SMKEX_RECORDS, &one, sizeof(one)))
		die("SMKEX_RECORDS");
	return fd;
}

static int state_of(int fd)
{
	struct smkex_info info;
	socklen_t len = sizeof(info);

	if (getsockopt(fd, SOL_SMKEX, SMKEX_INFO, &info, &len))
		return -1;
	return info.state;
}

/* The exporter output both ends must agree on. */
static int proof_of(int fd, unsigned char *out)
{
	static const char label[] = "smkex concurrent test";
	struct smkex_export ex;
	socklen_t len = sizeof(ex);

	if (plain) {
		memset(out, 'p', PROOF_LEN);
		return 0;
	}
	memset(&ex, 0, sizeof(ex));
	memcpy(ex.label, label, sizeof(label) - 1);
	ex.label_len = sizeof(label) - 1;
	ex.out_len = PROOF_LEN;
	if (getsockopt(fd, SOL_SMKEX, SMKEX_EXPORT, &ex, &len))
		return -1;
	memcpy(out, ex.out, PROOF_LEN);
	return 0;
}

/*
 * --report: this side's outcome, named by the client's channel-1 port as
 * SMKEX_INFO knows it (a server socket reset before its accept has no peer
 * address any more), else as seen at connect or accept (`port`).
 */
static void report_outcome(int fd, unsigned short port, int server_side)
{
	struct smkex_info info;
	socklen_t len = sizeof(info);
	unsigned char ex[PROOF_LEN];

	if (getsockopt(fd, SOL_SMKEX, SMKEX_INFO, &info, &len)) {
		errors++;
		return;
	}
	if (info.channel[0].family)
		port = ntohs(server_side ? info.channel[0].remote_port : info.channel[0].local_port);
	if (info.state == SMKEX_STATE_COMPLETE && !proof_of(fd, ex)) {
		printf("conn %u complete ", port);
		for (int i = 0; i < PROOF_LEN; i++)
			printf("%02x", ex[i]);
		printf("\n");
		completed++;
	} else {
		/* Failed closed: the key must be unreadable. */
		printf("conn %u failed %u%s\n", port, info.reason,
		       proof_of(fd, ex) ? "" : " key-readable");
	}
}

static unsigned short port_of(int fd, int peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (peer ? getpeername(fd, (void *)&ss, &len) : getsockname(fd, (void *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * --report: an event on a connection. While the handshake runs the module
 * reports nothing, so an event then is early readiness; otherwise the
 * outcome is printed and the connection ends (the server waits for the
 * client's close after completing).
 */
static int report_event(struct conn *c, int server_side)
{
	int state = state_of(c->fd);
	char byte;

	if (state == SMKEX_STATE_HANDSHAKE) {
		early++;
		return 1;
	}
	if (server_side && state == SMKEX_STATE_COMPLETE && recv(c->fd, &byte, 1, 0) != 0)
		return errno == EAGAIN ? 0 : 1;
	report_outcome(c->fd, c->port, server_side);
	return 1;
}

/* epoll said the connection is ready: its handshake must be complete. */
static int check_ready(struct conn *c, unsigned int events)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		errors++;
		return -1;
	}
	if (!plain && state_of(c->fd) != SMKEX_STATE_COMPLETE) {
		early++;
		return -1;
	}
	return 0;
}

static void finish(struct conn *c, int epfd, int ok)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->done = 1;
	if (ok)
		completed++;
}

static void server(int port, int count)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct epoll_event ev, evs[64];
	struct conn *conns = calloc(count, sizeof(*conns));
	int lfd = smkex_socket(), epfd = epoll_create1(0), accepted = 0, finished = 0, one = 1;
	time_t deadline = time(NULL) + DEADLINE_S;

	if (!conns)
		die("calloc");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6 ? bind(lfd, (void *)&a6, sizeof(a6)) : bind(lfd, (void *)&a4, sizeof(a4)))
		die("bind");
	if (listen(lfd, MAX_CONNS))
		die("listen");
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	printf("listening: %d\n", port);
	fflush(stdout);
	while (finished < count && time(NULL) < deadline) {
		int n = epoll_wait(epfd, evs, 64, 1000);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (!c) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

				/*
				 * An SMKEX listener refuses a connection that
				 * fell back to TCP: it is over, and counted.
				 */
				if (fd < 0 && errno == ECONNABORTED && !plain && accepted < count) {
					accepted++;
					refused++;
					finished++;
					continue;
				}
				if (fd < 0 || accepted >= count) {
					if (fd >= 0)
						close(fd);
					continue;
				}
				c = &conns[accepted++];
				c->fd = fd;
				c->port = port_of(fd, 1);
				connections++;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			if (c->done)
				continue;
			if (report) {
				if (report_event(c, 1)) {
					finish(c, epfd, 0);
					finished++;
				}
				continue;
			}
			if (c->sent) {
				/* --joined: answered; the client's close (EOF) ends it. */
				char byte;
				ssize_t r = recv(c->fd, &byte, 1, 0);

				if (r < 0 && errno == EAGAIN)
					continue;
				if (r)
					errors++;
				finish(c, epfd, !r);
				finished++;
				continue;
			}
			if (check_ready(c, evs[i].events)) {
				finish(c, epfd, 0);
				finished++;
				continue;
			}
			ssize_t r = recv(c->fd, c->proof + c->got, PROOF_LEN - c->got, 0);

			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				errors++;
				finish(c, epfd, 0);
				finished++;
				continue;
			}
			c->got += r;
			if (c->got < PROOF_LEN)
				continue;
			unsigned char mine[PROOF_LEN];
			char status = 'y';

			if (proof_of(c->fd, mine) || memcmp(mine, c->proof, PROOF_LEN)) {
				mismatches++;
				status = 'n';
			}
			if (send(c->fd, &status, 1, 0) != 1) {
				errors++;
			} else if (joined && status == 'y') {
				c->sent = 1;
				continue;
			}
			finish(c, epfd, status == 'y');
			finished++;
		}
	}
}

/* --joined: marks the connection with `token` joined, and ends it if its answer came already. */
struct joined_ctx {
	struct conn *conns;
	int count, epfd, ended;
};

static void on_joined(unsigned int token, void *arg)
{
	struct joined_ctx *j = arg;

	for (int i = 0; i < j->count; i++) {
		struct conn *c = &j->conns[i];

		if (c->done || c->joined || c->token != token)
			continue;
		c->joined = 1;
		if (c->got) {
			finish(c, j->epfd, 1);
			j->ended++;
		}
	}
}

/* `count` connections at once. */
static void client_batch(const struct sockaddr *a, socklen_t alen, int count, time_t deadline)
{
	struct epoll_event ev, evs[64];
	static struct conn conns[MAX_CONNS];
	static int nlfd = -1;
	int epfd = epoll_create1(0), finished = 0;

	memset(conns, 0, sizeof(conns));
	if (joined) {
		if (nlfd < 0)
			nlfd = pm_events_open();
		ev.events = EPOLLIN;
		ev.data.ptr = NULL;
		epoll_ctl(epfd, EPOLL_CTL_ADD, nlfd, &ev);
	}
	for (int i = 0; i < count; i++) {
		struct conn *c = &conns[i];

		c->fd = smkex_socket();
		if (connect(c->fd, a, alen) && errno != EINPROGRESS)
			die("connect");
		c->port = port_of(c->fd, 0);
		if (joined)
			c->token = pm_token_of(c->fd);
		connections++;
		/* Writable only once connected and keyed. */
		ev.events = EPOLLOUT;
		ev.data.ptr = c;
		epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
	}
	while (finished < count && time(NULL) < deadline) {
		int n = epoll_wait(epfd, evs, 64, 1000);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (!c) {
				struct joined_ctx j = { .conns = conns, .count = count, .epfd = epfd };

				pm_events_read(nlfd, on_joined, &j);
				finished += j.ended;
				continue;
			}
			if (c->done)
				continue;
			if (report) {
				if (report_event(c, 0)) {
					finish(c, epfd, 0);
					finished++;
				}
				continue;
			}
			if (check_ready(c, evs[i].events)) {
				finish(c, epfd, 0);
				finished++;
				continue;
			}
			if (c->sent < PROOF_LEN) {
				if (!c->sent && proof_of(c->fd, c->proof)) {
					errors++;
					finish(c, epfd, 0);
					finished++;
					continue;
				}
				ssize_t w = send(c->fd, c->proof + c->sent, PROOF_LEN - c->sent,
						 MSG_NOSIGNAL);

				if (w > 0)
					c->sent += w;
				if (c->sent == PROOF_LEN) {
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
				}
				continue;
			}
			char status;
			ssize_t r = recv(c->fd, &status, 1, 0);

			if (r < 0 && errno == EAGAIN)
				continue;
			if (r != 1 || status != 'y') {
				if (r == 1)
					mismatches++;
				else
					errors++;
				finish(c, epfd, 0);
			} else if (joined && !c->joined) {
				/* Answered before its join: quiet until the join's event. */
				c->got = 1;
				ev.events = 0;
				ev.data.ptr = c;
				epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
				continue;
			} else {
				finish(c, epfd, 1);
			}
			finished++;
		}
	}
	close(epfd);
}

/* `count` connections, `batch` at once (1: one after the other). */
static void client(const char *addr, int port, int count, int batch)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	time_t deadline = time(NULL) + DEADLINE_S;

	if ((family == AF_INET6 ? inet_pton(AF_INET6, addr, &a6.sin6_addr) :
				  inet_pton(AF_INET, addr, &a4.sin_addr)) != 1)
		die("address");
	for (int done = 0; done < count && time(NULL) < deadline; done += batch) {
		int n = count - done < batch ? count - done : batch;

		if (family == AF_INET6)
			client_batch((struct sockaddr *)&a6, sizeof(a6), n, deadline);
		else
			client_batch((struct sockaddr *)&a4, sizeof(a4), n, deadline);
	}
}

int main(int argc, char **argv)
{
	int rest = 0, batch = 0, args = argc;

	/* Options at the end: --family 4|6, --batch N, --plain, --joined, --report, --records. */
	while (args >= 2 && (!strcmp(argv[args - 1], "--plain") || !strcmp(argv[args - 1], "--report") ||
			     !strcmp(argv[args - 1], "--records") || !strcmp(argv[args - 1], "--joined"))) {
		if (!strcmp(argv[args - 1], "--plain"))
			plain = 1;
		else if (!strcmp(argv[args - 1], "--joined"))
			joined = 1;
		else if (!strcmp(argv[args - 1], "--records"))
			records = 1;
		else
			report = 1;
		args--;
	}
	while (args >= 3 && argv[args - 2][0] == '-') {
		if (!strcmp(argv[args - 2], "--family") && !strcmp(argv[args - 1], "6"))
			family = AF_INET6;
		else if (!strcmp(argv[args - 2], "--batch"))
			batch = atoi(argv[args - 1]);
		args -= 2;
	}
	if (joined && !plain) {
		fprintf(stderr, "--joined is for --plain connections\n");
		return 2;
	}
	if (args == 4 && !strcmp(argv[1], "server") && atoi(argv[3]) > 0) {
		server(atoi(argv[2]), atoi(argv[3]));
		rest = atoi(argv[3]);
	} else if (args == 5 && !strcmp(argv[1], "client") && atoi(argv[4]) > 0) {
		rest = atoi(argv[4]);
		if (!batch)
			batch = rest;
		if (batch < 1 || batch > MAX_CONNS)
			batch = MAX_CONNS;
		client(argv[2], atoi(argv[3]), rest, batch);
	} else {
		fprintf(stderr, "usage: concurrent server PORT COUNT [--family 4|6] [--plain [--joined]|--report] [--records]\n"
				"       concurrent client ADDR PORT COUNT [--batch N] [--family 4|6] [--plain [--joined]|--report] [--records]\n");
		return 2;
	}
	printf("concurrent: connections %d complete %d early_readiness %d mismatches %d errors %d refused %d\n",
	       connections, completed, early, mismatches, errors, refused);
	if (report)	/* failed handshakes are expected; the test judges the lines */
		return !early && !errors ? 0 : 1;
	return completed == rest && !early && !mismatches && !errors ? 0 : 1;
}
