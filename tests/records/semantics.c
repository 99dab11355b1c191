// SPDX-License-Identifier: GPL-2.0
/*
 * What an application sees on a socket with the record layer on
 * (SMKEX_RECORDS), call by call, as TAP: one side is the server, the other
 * the client, over the two-path topology (records.sh starts both).
 *
 *   semantics server PORT | semantics client ADDR PORT
 *
 * The client writes, the server checks (and the other way round), with
 * pauses so that each step sees what it tests:
 *   MSG_PEEK shows what the next recv returns; MSG_WAITALL waits for a
 *   message sent in two records; a receive timeout (SO_RCVTIMEO) ends in
 *   EAGAIN; a non-blocking recv with nothing there is EAGAIN and poll does
 *   not report POLLIN; MSG_OOB is EOPNOTSUPP; sendfile() of a file arrives
 *   intact; after the peer's shutdown(SHUT_WR) recv returns 0 (its Close);
 *   SMKEX_INFO counts the records.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/smkex.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#define FILE_BYTES 100000

static int n, failed;

static void check(int ok, const char *what)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++n, what);
	if (!ok)
		failed++;
	fflush(stdout);
}

static void die(const char *what)
{
	printf("# %s: %s\nBail out!\n", what, strerror(errno));
	exit(1);
}

static int records_socket(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);

	if (fd < 0 || setsockopt(fd, SOL_SMKEX, SMKEX_ENABLE, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SMKEX, SMKEX_RECORDS, &one, sizeof(one)))
		die("socket with SMKEX_RECORDS");
	return fd;
}

/* recv exactly len bytes (blocking). */
static int recv_all(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = recv(fd, buf + got, len - got, 0);

		if (r <= 0)
			return -1;
		got += r;
	}
	return 0;
}

static unsigned char file_byte(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

static void server(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, lfd = records_socket(), fd;
	char buf[FILE_BYTES], peek[5];
	struct timeval tv = { .tv_usec = 200000 };
	struct pollfd p;
	ssize_t r;
	size_t i;
	int ok;

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1))
		die("bind/listen");
	printf("listening\n");
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept");
	printf("TAP version 13\n1..9\n");

	r = recv(fd, peek, sizeof(peek), MSG_PEEK);
	ok = r == 5 && !memcmp(peek, "hello", 5);
	r = recv(fd, buf, 5, 0);
	check(ok && r == 5 && !memcmp(buf, "hello", 5), "MSG_PEEK shows the bytes the next recv returns");

	r = recv(fd, buf, 8, MSG_WAITALL);
	check(r == 8 && !memcmp(buf, "abcdefgh", 8), "MSG_WAITALL waits for 8 bytes sent in two records 300 ms apart");

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = recv(fd, buf, 1, 0);
	check(r == -1 && errno == EAGAIN, "SO_RCVTIMEO: a recv with nothing coming ends in EAGAIN");
	tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	r = recv(fd, buf, 1, MSG_DONTWAIT);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	check(r == -1 && errno == EAGAIN && poll(&p, 1, 0) == 0,
	      "non-blocking recv with nothing there: EAGAIN, and poll reports no POLLIN");

	/* The client now sends "ping" after 300 ms: poll wakes for it. */
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	ok = poll(&p, 1, 5000) == 1 && (p.revents & POLLIN);
	r = recv(fd, buf, 4, MSG_DONTWAIT);
	check(ok && r == 4 && !memcmp(buf, "ping", 4), "poll reports POLLIN once a record's plaintext is there");

	ok = !recv_all(fd, buf, FILE_BYTES);
	for (i = 0; ok && i < FILE_BYTES; i++)
		ok = (unsigned char)buf[i] == file_byte(i);
	check(ok, "sendfile() of a 100000-byte file arrives intact");

	r = recv(fd, buf, 1, 0);
	check(r == 0, "after the peer's shutdown(SHUT_WR), recv returns 0 (its Close record)");

	r = send(fd, "bye", 3, 0);
	check(r == 3, "the other direction still works after the peer's SHUT_WR");

	{
		struct smkex_info info;
		socklen_t len = sizeof(info);

		ok = !getsockopt(fd, SOL_SMKEX, SMKEX_INFO, &info, &len) && len == sizeof(info) &&
		     info.records == 1 && info.records_received >= 6 && info.records_sent >= 1;
		printf("# server: records sent %llu received %llu\n", (unsigned long long)info.records_sent,
		       (unsigned long long)info.records_received);
		check(ok, "SMKEX_INFO: records on, records counted both ways");
	}
	close(fd);
	close(lfd);
}

static void client(const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = records_socket(), file;
	char buf[FILE_BYTES], path[] = "/tmp/smkex-semantics-XXXXXX";
	off_t off = 0;
	ssize_t r;
	size_t i;

	inet_pton(AF_INET, addr, &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	printf("TAP version 13\n1..3\n");
	send(fd, "hello", 5, 0);
	send(fd, "abc", 3, 0);
	usleep(300000);
	send(fd, "defgh", 5, 0);
	usleep(600000);	/* the server's timeout and non-blocking steps */
	r = send(fd, "x", 1, MSG_OOB);
	check(r == -1 && errno == EOPNOTSUPP, "MSG_OOB is refused with EOPNOTSUPP");
	usleep(300000);
	send(fd, "ping", 4, 0);

	for (i = 0; i < FILE_BYTES; i++)
		buf[i] = (char)file_byte(i);
	file = mkstemp(path);
	if (file < 0 || write(file, buf, FILE_BYTES) != FILE_BYTES)
		die("temporary file");
	unlink(path);
	while (off < FILE_BYTES) {
		r = sendfile(fd, file, &off, FILE_BYTES - off);
		if (r <= 0)
			break;
	}
	check(off == FILE_BYTES, "sendfile() from a file to the socket sends it all");
	close(file);
	shutdown(fd, SHUT_WR);
	r = recv(fd, buf, sizeof(buf), MSG_WAITALL);
	check(r == 3 && !memcmp(buf, "bye", 3), "the server's answer after our SHUT_WR arrives, then its end");
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		server(atoi(argv[2]));
	else if (argc == 4 && !strcmp(argv[1], "client"))
		client(argv[2], atoi(argv[3]));
	else {
		fprintf(stderr, "usage: semantics server PORT | semantics client ADDR PORT\n");
		return 2;
	}
	return failed ? 1 : 0;
}
