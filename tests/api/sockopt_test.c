// SPDX-License-Identifier: GPL-2.0
/*
 * The SOL_SMKEX socket-option API (Documentation/api.md), with
 * kselftest_harness.h. Needs smkex.ko loaded (sockopt.sh does that).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/smkex.h>

#include "kselftest_harness.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static int read_sysfs_int(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int module_refcnt(void)
{
	return read_sysfs_int("/sys/module/smkex/refcnt");
}

/* A counter of /proc/net/smkex, or -1. */
static long long smkex_stat(const char *name)
{
	char key[64];
	long long v, found = -1;
	FILE *f = fopen("/proc/net/smkex", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", key, &v) == 2)
		if (!strcmp(key, name))
			found = v;
	fclose(f);
	return found;
}

/*
 * Polls the module's reference count until it equals `want` (MPTCP frees a
 * closed connection's socket from a worker, a little later), for at most
 * ten seconds; returns the last value seen.
 */
static int wait_refcnt(int want)
{
	int seen = module_refcnt();

	for (int i = 0; i < 1000 && seen != want; i++) {
		usleep(10000);
		seen = module_refcnt();
	}
	return seen;
}

static int set_int(int fd, int opt, int val)
{
	return setsockopt(fd, SOL_SMKEX, opt, &val, sizeof(val)) ? -errno : 0;
}

static int get_info(int fd, struct smkex_info *info)
{
	socklen_t len = sizeof(*info);

	memset(info, 0xa5, sizeof(*info));
	return getsockopt(fd, SOL_SMKEX, SMKEX_INFO, info, &len) ? -errno : (int)len;
}

/* Binds fd to loopback, port 0, and listens; the port goes to *port. */
static int listen_on(int fd, int family, unsigned short *port)
{
	struct sockaddr_storage ss = { .ss_family = family };
	socklen_t len = sizeof(ss);

	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	if (bind(fd, (struct sockaddr *)&ss, family == AF_INET ? sizeof(struct sockaddr_in) :
							       sizeof(struct sockaddr_in6)) ||
	    listen(fd, 8) || getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	*port = family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
				    ((struct sockaddr_in6 *)&ss)->sin6_port;
	return 0;
}

/* A listening plain MPTCP socket on loopback; returns its fd, port in *port. */
static int mptcp_listener(int family, unsigned short *port)
{
	int fd = socket(family, SOCK_STREAM, IPPROTO_MPTCP);

	if (fd >= 0 && listen_on(fd, family, port)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_to(int fd, int family, unsigned short port)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = port,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = port,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	if (family == AF_INET)
		return connect(fd, (struct sockaddr *)&a4, sizeof(a4)) ? -errno : 0;
	return connect(fd, (struct sockaddr *)&a6, sizeof(a6)) ? -errno : 0;
}

FIXTURE(mptcp) {
	int fd;
	int family;
};

FIXTURE_VARIANT(mptcp) {
	int family;
};

FIXTURE_VARIANT_ADD(mptcp, ipv4) { .family = AF_INET };
FIXTURE_VARIANT_ADD(mptcp, ipv6) { .family = AF_INET6 };

FIXTURE_SETUP(mptcp)
{
	ASSERT_GE(module_refcnt(), 0) TH_LOG("smkex.ko is not loaded");
	self->family = variant->family;
	self->fd = socket(self->family, SOCK_STREAM, IPPROTO_MPTCP);
	ASSERT_GE(self->fd, 0) TH_LOG("MPTCP socket: %s", strerror(errno));
}

FIXTURE_TEARDOWN(mptcp)
{
	close(self->fd);
}

TEST_F(mptcp, enable_and_read_back)
{
	struct smkex_info info;
	int val = -1;
	socklen_t len = sizeof(val);
	long long attached = smkex_stat("SocketsAttached");

	ASSERT_GE(attached, 0) TH_LOG("no /proc/net/smkex");
	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 1));
	EXPECT_EQ(attached + 1, smkex_stat("SocketsAttached"));
	ASSERT_EQ(0, getsockopt(self->fd, SOL_SMKEX, SMKEX_ENABLE, &val, &len));
	EXPECT_EQ(1, val);
	EXPECT_EQ(sizeof(int), len);
	ASSERT_EQ((int)sizeof(info), get_info(self->fd, &info));
	EXPECT_EQ(SMKEX_STATE_ENABLED, info.state);
	EXPECT_EQ(SMKEX_ROLE_NONE, info.role);
	EXPECT_EQ(SMKEX_PROTOCOL_VERSION, info.version);
	EXPECT_EQ(SMKEX_REASON_NONE, info.reason);
	EXPECT_EQ(read_sysfs_int("/sys/module/smkex/parameters/handshake_timeout_ms"),
		  (int)info.timeout_ms);
	EXPECT_EQ(0, info.duration_us);
	EXPECT_EQ(0, info.channel[0].family);

	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 0));
	ASSERT_EQ((int)sizeof(info), get_info(self->fd, &info));
	EXPECT_EQ(SMKEX_STATE_OFF, info.state);
}

TEST_F(mptcp, enable_wrong_optlen_is_einval)
{
	long long wide = 1, counted = smkex_stat("OptInvalid");
	short narrow = 1;

	EXPECT_EQ(-1, setsockopt(self->fd, SOL_SMKEX, SMKEX_ENABLE, &narrow, sizeof(narrow)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_SMKEX, SMKEX_ENABLE, &wide, sizeof(wide)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_SMKEX, SMKEX_ENABLE, NULL, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(counted + 3, smkex_stat("OptInvalid"));
}

TEST_F(mptcp, enable_out_of_range_is_einval)
{
	EXPECT_EQ(-EINVAL, set_int(self->fd, SMKEX_ENABLE, 2));
	EXPECT_EQ(-EINVAL, set_int(self->fd, SMKEX_ENABLE, -1));
}

TEST_F(mptcp, bad_pointers_are_efault)
{
	socklen_t len = sizeof(struct smkex_info);
	long long counted = smkex_stat("OptFault");

	EXPECT_EQ(-1, setsockopt(self->fd, SOL_SMKEX, SMKEX_ENABLE, (void *)8, sizeof(int)));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 1));
	EXPECT_EQ(-1, getsockopt(self->fd, SOL_SMKEX, SMKEX_INFO, (void *)8, &len));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, getsockopt(self->fd, SOL_SMKEX, SMKEX_INFO, &len, (socklen_t *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(counted + 3, smkex_stat("OptFault"));
}

TEST_F(mptcp, unknown_options_are_enoprotoopt)
{
	int val = 0;
	socklen_t len = sizeof(val);
	long long counted = smkex_stat("OptUnknown");

	EXPECT_EQ(-ENOPROTOOPT, set_int(self->fd, 99, 1));
	EXPECT_EQ(-ENOPROTOOPT, set_int(self->fd, SMKEX_INFO, 1));
	EXPECT_EQ(-ENOPROTOOPT, set_int(self->fd, SMKEX_SESSION_KEY, 1));
	EXPECT_EQ(-1, getsockopt(self->fd, SOL_SMKEX, 99, &val, &len));
	EXPECT_EQ(ENOPROTOOPT, errno);
	EXPECT_EQ(counted + 4, smkex_stat("OptUnknown"));
}

TEST_F(mptcp, timeout_range)
{
	struct smkex_info info;
	int val = 0;
	socklen_t len = sizeof(val);

	EXPECT_EQ(-EINVAL, set_int(self->fd, SMKEX_TIMEOUT_MS, SMKEX_TIMEOUT_MIN_MS - 1));
	EXPECT_EQ(-EINVAL, set_int(self->fd, SMKEX_TIMEOUT_MS, SMKEX_TIMEOUT_MAX_MS + 1));
	EXPECT_EQ(-EINVAL, set_int(self->fd, SMKEX_TIMEOUT_MS, -5));
	EXPECT_EQ(0, set_int(self->fd, SMKEX_TIMEOUT_MS, SMKEX_TIMEOUT_MAX_MS));
	ASSERT_EQ(0, set_int(self->fd, SMKEX_TIMEOUT_MS, SMKEX_TIMEOUT_MIN_MS));
	ASSERT_EQ(0, getsockopt(self->fd, SOL_SMKEX, SMKEX_TIMEOUT_MS, &val, &len));
	EXPECT_EQ(SMKEX_TIMEOUT_MIN_MS, val);
	ASSERT_EQ((int)sizeof(info), get_info(self->fd, &info));
	EXPECT_EQ(SMKEX_TIMEOUT_MIN_MS, info.timeout_ms);
	/* Setting a timeout does not enable SMKEX. */
	EXPECT_EQ(SMKEX_STATE_OFF, info.state);
}

TEST_F(mptcp, info_size_is_versioned)
{
	unsigned char buf[sizeof(struct smkex_info) + 16];
	socklen_t len;

	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 1));
	len = SMKEX_INFO_SIZE_V1 - 1;
	EXPECT_EQ(-1, getsockopt(self->fd, SOL_SMKEX, SMKEX_INFO, buf, &len));
	EXPECT_EQ(EINVAL, errno);
	/* A larger buffer gets the struct the kernel knows, and its size. */
	len = sizeof(buf);
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, getsockopt(self->fd, SOL_SMKEX, SMKEX_INFO, buf, &len));
	EXPECT_EQ(sizeof(struct smkex_info), len);
	EXPECT_EQ(0xa5, buf[sizeof(struct smkex_info)]);
}

TEST_F(mptcp, keys_before_completion_are_enotconn)
{
	unsigned char key[SMKEX_KEY_LEN];
	struct smkex_export exp = { .label_len = 1, .out_len = 16 };
	socklen_t len = sizeof(key);
	long long counted = smkex_stat("KeyNotReady");

	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 1));
	EXPECT_EQ(-1, getsockopt(self->fd, SOL_SMKEX, SMKEX_SESSION_KEY, key, &len));
	EXPECT_EQ(ENOTCONN, errno);
	len = sizeof(exp);
	EXPECT_EQ(-1, getsockopt(self->fd, SOL_SMKEX, SMKEX_EXPORT, &exp, &len));
	EXPECT_EQ(ENOTCONN, errno);
	EXPECT_EQ(counted + 2, smkex_stat("KeyNotReady"));
}

TEST_F(mptcp, other_levels_pass_through)
{
	int one = 1, val = 0;
	socklen_t len = sizeof(val);

	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 1));
	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	ASSERT_EQ(0, getsockopt(self->fd, SOL_SOCKET, SO_REUSEADDR, &val, &len));
	EXPECT_EQ(1, val);
	ASSERT_EQ(0, setsockopt(self->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	val = 0;
	ASSERT_EQ(0, getsockopt(self->fd, IPPROTO_TCP, TCP_NODELAY, &val, &len));
	EXPECT_EQ(1, val);
}

TEST_F(mptcp, enable_after_connect_is_eisconn)
{
	unsigned short port;
	int lfd = mptcp_listener(self->family, &port);

	ASSERT_GE(lfd, 0);
	long long counted = smkex_stat("OptTooLate");

	ASSERT_EQ(0, connect_to(self->fd, self->family, port));
	EXPECT_EQ(-EISCONN, set_int(self->fd, SMKEX_ENABLE, 1));
	EXPECT_EQ(counted + 1, smkex_stat("OptTooLate"));
	close(lfd);
}

/*
 * On loopback there is no second path, so an enabled client's handshake
 * runs until its timeout: meanwhile no byte moves (EAGAIN, no POLLIN or
 * POLLOUT), the key is not ready, and options are too late; then every
 * call reports ENETUNREACH and SMKEX_INFO the no-independent-path reason
 * (distinct from a timeout: channel 2 never came up).
 */
TEST_F(mptcp, handshake_without_second_path_holds_data_then_fails)
{
	unsigned short port;
	int lfd = mptcp_listener(self->family, &port);
	long long no_path = smkex_stat("FailedNoIndependentPath");
	long long timeouts = smkex_stat("FailedTimeout");
	unsigned char key[SMKEX_KEY_LEN];
	socklen_t len = sizeof(key);
	struct smkex_info info;
	struct pollfd p = { .fd = self->fd, .events = POLLIN | POLLOUT };
	char byte = 'x';

	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 1));
	ASSERT_EQ(0, set_int(self->fd, SMKEX_TIMEOUT_MS, 1500));
	ASSERT_EQ(0, connect_to(self->fd, self->family, port));

	ASSERT_EQ(sizeof(info), get_info(self->fd, &info));
	EXPECT_EQ(SMKEX_STATE_HANDSHAKE, info.state);
	EXPECT_EQ(SMKEX_ROLE_CLIENT, info.role);
	EXPECT_EQ(-1, send(self->fd, &byte, 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, recv(self->fd, &byte, 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, poll(&p, 1, 0));
	EXPECT_EQ(-1, getsockopt(self->fd, SOL_SMKEX, SMKEX_SESSION_KEY, key, &len));
	EXPECT_EQ(ENOTCONN, errno);
	EXPECT_EQ(-EISCONN, set_int(self->fd, SMKEX_TIMEOUT_MS, 1000));

	/* Blocking: returns when the handshake fails. */
	EXPECT_EQ(-1, recv(self->fd, &byte, 1, 0));
	EXPECT_EQ(ENETUNREACH, errno);
	EXPECT_EQ(-1, send(self->fd, &byte, 1, MSG_NOSIGNAL));
	EXPECT_EQ(ENETUNREACH, errno);
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_TRUE(p.revents & POLLERR);
	ASSERT_EQ(sizeof(info), get_info(self->fd, &info));
	EXPECT_EQ(SMKEX_STATE_FAILED, info.state);
	EXPECT_EQ(SMKEX_REASON_NO_INDEPENDENT_PATH, info.reason);
	EXPECT_GE(info.duration_us, 1500000);
	EXPECT_LT(info.duration_us, 60000000);
	EXPECT_NE(0, info.channel[0].family);	/* channel 1 was up */
	EXPECT_EQ(0, info.channel[1].family);	/* channel 2 never */
	EXPECT_EQ(-1, getsockopt(self->fd, SOL_SMKEX, SMKEX_SESSION_KEY, key, &len));
	EXPECT_EQ(ECONNABORTED, errno);
	EXPECT_EQ(no_path + 1, smkex_stat("FailedNoIndependentPath"));
	EXPECT_EQ(timeouts, smkex_stat("FailedTimeout"));
	close(lfd);
}

static void *shut_down_reading(void *fd)
{
	usleep(300 * 1000);
	shutdown(*(int *)fd, SHUT_RD);
	return NULL;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

/*
 * shutdown(SHUT_RD) while a receive waits for the handshake (no second
 * path on loopback, so it would wait for the 20 s timeout) ends that
 * receive at once with end of stream, and no handshake byte reaches the
 * application; the handshake, which can no longer read its records, fails
 * as a local error.
 */
TEST_F(mptcp, shutdown_wakes_a_receive_held_by_the_handshake)
{
	unsigned short port;
	int lfd = mptcp_listener(self->family, &port);
	struct smkex_info info;
	struct timespec start;
	pthread_t thread;
	char byte = 'x';
	double waited;
	int i;

	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 1));
	ASSERT_EQ(0, set_int(self->fd, SMKEX_TIMEOUT_MS, 20000));
	ASSERT_EQ(0, connect_to(self->fd, self->family, port));
	ASSERT_EQ(0, pthread_create(&thread, NULL, shut_down_reading, &self->fd));
	clock_gettime(CLOCK_MONOTONIC, &start);
	EXPECT_EQ(0, recv(self->fd, &byte, 1, 0)) TH_LOG("%s", strerror(errno));
	waited = seconds_since(&start);
	pthread_join(thread, NULL);
	EXPECT_GE(waited, 0.2);	/* it really waited for the shutdown */
	EXPECT_LT(waited, 10.0);	/* and not for the handshake's end */
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(sizeof(info), get_info(self->fd, &info));
		if (info.state != SMKEX_STATE_HANDSHAKE)
			break;
		usleep(50 * 1000);
	}
	EXPECT_EQ(SMKEX_STATE_FAILED, info.state);
	EXPECT_EQ(SMKEX_REASON_LOCAL_ERROR, info.reason);
	EXPECT_EQ(-1, recv(self->fd, &byte, 1, MSG_DONTWAIT));
	EXPECT_EQ(ECONNABORTED, errno);
	close(lfd);
}

/*
 * A non-blocking connect to a port nobody listens on: the handshake fails
 * (peer closed), poll reports the error, and SO_ERROR is the refusal
 * (ECONNREFUSED), not the reset the module would have written over it.
 */
TEST_F(mptcp, refused_connect_reports_econnrefused)
{
	unsigned short port;
	int lfd = mptcp_listener(self->family, &port);
	struct pollfd p = { .fd = self->fd, .events = POLLOUT };
	int err = 0, i;
	socklen_t len = sizeof(err);

	ASSERT_GE(lfd, 0);
	close(lfd);	/* the port is free again: a SYN to it is refused */
	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 1));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-EINPROGRESS, connect_to(self->fd, self->family, port));
	for (i = 0; i < 100 && !(p.revents & POLLERR); i++)
		poll(&p, 1, 100);
	EXPECT_TRUE(p.revents & POLLERR);
	ASSERT_EQ(0, getsockopt(self->fd, SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(ECONNREFUSED, err) TH_LOG("SO_ERROR %s", strerror(err));
}

/*
 * connect(AF_UNSPEC) ends the SMKEX session for good: state failed (local
 * error), no key, and a later connect() is refused instead of giving a new
 * connection that SMKEX did not protect.
 */
TEST_F(mptcp, disconnect_ends_smkex_for_good)
{
	unsigned short port;
	int lfd = mptcp_listener(self->family, &port);
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	unsigned char key[SMKEX_KEY_LEN];
	socklen_t len = sizeof(key);
	struct smkex_info info;

	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 1));
	ASSERT_EQ(0, connect_to(self->fd, self->family, port));
	ASSERT_EQ(sizeof(info), get_info(self->fd, &info));
	ASSERT_EQ(SMKEX_STATE_HANDSHAKE, info.state);
	ASSERT_EQ(0, connect(self->fd, &unspec, sizeof(unspec))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(sizeof(info), get_info(self->fd, &info));
	EXPECT_EQ(SMKEX_STATE_FAILED, info.state);
	EXPECT_EQ(SMKEX_REASON_LOCAL_ERROR, info.reason);
	EXPECT_EQ(-1, getsockopt(self->fd, SOL_SMKEX, SMKEX_SESSION_KEY, key, &len));
	EXPECT_EQ(ECONNABORTED, errno);
	EXPECT_EQ(-EISCONN, connect_to(self->fd, self->family, port));
	close(lfd);
}

/* TCP Fast Open would put application data in the SYN: refused. */
TEST_F(mptcp, fastopen_connect_is_refused)
{
	unsigned short port;
	int lfd = mptcp_listener(self->family, &port), one = 1;

	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 1));
	ASSERT_EQ(0, setsockopt(self->fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one)));
	EXPECT_EQ(-EOPNOTSUPP, connect_to(self->fd, self->family, port));
	close(lfd);
}

static struct smkex_peer_addr peer4(unsigned int a, unsigned short port)
{
	struct smkex_peer_addr p = { .family = AF_INET, .port = htons(port) };
	unsigned int be = htonl(a);

	memcpy(p.addr, &be, 4);
	return p;
}

TEST_F(mptcp, peer_addrs_set_and_read_back)
{
	struct smkex_peer_addr in[2] = { peer4(0x0a020201, 0), peer4(0x0a030301, 7000) };
	struct smkex_peer_addr out[SMKEX_MAX_PEER_ADDRS];
	socklen_t len = sizeof(out);

	in[1].family = AF_INET6;
	memset(in[1].addr, 0, 16);
	in[1].addr[0] = 0xfd;
	in[1].addr[15] = 1;
	ASSERT_EQ(0, setsockopt(self->fd, SOL_SMKEX, SMKEX_PEER_ADDRS, in, sizeof(in)));
	ASSERT_EQ(0, getsockopt(self->fd, SOL_SMKEX, SMKEX_PEER_ADDRS, out, &len));
	EXPECT_EQ(sizeof(in), len);
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	/* An empty list clears it. */
	ASSERT_EQ(0, setsockopt(self->fd, SOL_SMKEX, SMKEX_PEER_ADDRS, NULL, 0));
	len = sizeof(out);
	ASSERT_EQ(0, getsockopt(self->fd, SOL_SMKEX, SMKEX_PEER_ADDRS, out, &len));
	EXPECT_EQ(0, len);
}

TEST_F(mptcp, peer_addrs_strictly_parsed)
{
	struct smkex_peer_addr list[SMKEX_MAX_PEER_ADDRS + 1];
	long long invalid = smkex_stat("OptInvalid"), fault = smkex_stat("OptFault");
	int i;

	for (i = 0; i <= SMKEX_MAX_PEER_ADDRS; i++)
		list[i] = peer4(0x0a020201 + i, 0);
	/* Too many, a partial entry. */
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_SMKEX, SMKEX_PEER_ADDRS, list, sizeof(list)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_SMKEX, SMKEX_PEER_ADDRS, list, sizeof(list[0]) - 1));
	EXPECT_EQ(EINVAL, errno);
	/* Unknown family, reserved set, junk after an IPv4 address, unspecified, multicast. */
	list[0].family = AF_UNIX;
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_SMKEX, SMKEX_PEER_ADDRS, list, sizeof(list[0])));
	EXPECT_EQ(EINVAL, errno);
	list[0] = peer4(0x0a020201, 0);
	list[0].reserved = 1;
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_SMKEX, SMKEX_PEER_ADDRS, list, sizeof(list[0])));
	EXPECT_EQ(EINVAL, errno);
	list[0] = peer4(0x0a020201, 0);
	list[0].addr[9] = 1;
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_SMKEX, SMKEX_PEER_ADDRS, list, sizeof(list[0])));
	EXPECT_EQ(EINVAL, errno);
	list[0] = peer4(0, 0);
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_SMKEX, SMKEX_PEER_ADDRS, list, sizeof(list[0])));
	EXPECT_EQ(EINVAL, errno);
	list[0] = peer4(0xe0000001, 0);
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_SMKEX, SMKEX_PEER_ADDRS, list, sizeof(list[0])));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(invalid + 7, smkex_stat("OptInvalid"));
	/* A bad pointer. */
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_SMKEX, SMKEX_PEER_ADDRS, (void *)8, sizeof(list[0])));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(fault + 1, smkex_stat("OptFault"));
}

TEST_F(mptcp, peer_addrs_after_connect_is_eisconn)
{
	unsigned short port;
	int lfd = mptcp_listener(self->family, &port);
	struct smkex_peer_addr p = peer4(0x0a020201, 0);

	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 1));
	ASSERT_EQ(0, connect_to(self->fd, self->family, port));
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_SMKEX, SMKEX_PEER_ADDRS, &p, sizeof(p)));
	EXPECT_EQ(EISCONN, errno);
	close(lfd);
}

/* A disabled socket (enabled, then disabled again) is plain MPTCP. */
TEST_F(mptcp, disabled_again_connects_as_plain_mptcp)
{
	unsigned short port;
	int lfd = mptcp_listener(self->family, &port);
	long long started = smkex_stat("HandshakesStarted");
	struct smkex_info info;

	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 1));
	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 0));
	EXPECT_EQ(0, connect_to(self->fd, self->family, port));
	EXPECT_EQ(1, send(self->fd, "x", 1, 0));
	ASSERT_EQ(sizeof(info), get_info(self->fd, &info));
	EXPECT_EQ(SMKEX_STATE_OFF, info.state);
	EXPECT_EQ(started, smkex_stat("HandshakesStarted"));
	close(lfd);
}

TEST_F(mptcp, socket_pins_module_until_closed)
{
	int before = module_refcnt();

	ASSERT_EQ(0, set_int(self->fd, SMKEX_ENABLE, 1));
	EXPECT_EQ(before + 1, module_refcnt());
	EXPECT_EQ(-1, syscall(SYS_delete_module, "smkex", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(self->fd);
	self->fd = socket(self->family, SOCK_STREAM, IPPROTO_MPTCP);
	EXPECT_EQ(before, module_refcnt());
}

/*
 * A listener taken over by an option but not enabled accepts both MPTCP
 * and plain TCP clients. An accepted MPTCP connection pins the module twice
 * (its socket uses the module's ops, its cloned sock the module's proto); a
 * TCP fallback gets TCP's ops and must pin nothing. All is released after
 * close.
 */
TEST_F(mptcp, attached_listener_accepts_and_unpins)
{
	unsigned short port;
	int listening, client, child;

	ASSERT_EQ(0, set_int(self->fd, SMKEX_TIMEOUT_MS, 1000));
	ASSERT_EQ(0, listen_on(self->fd, self->family, &port));
	listening = module_refcnt();

	client = socket(self->family, SOCK_STREAM, IPPROTO_MPTCP);
	ASSERT_EQ(0, connect_to(client, self->family, port));
	child = accept(self->fd, NULL, NULL);
	ASSERT_GE(child, 0);
	EXPECT_EQ(listening + 2, module_refcnt());
	close(child);
	close(client);
	EXPECT_EQ(listening, wait_refcnt(listening));

	client = socket(self->family, SOCK_STREAM, IPPROTO_TCP);
	ASSERT_EQ(0, connect_to(client, self->family, port));
	child = accept(self->fd, NULL, NULL);
	ASSERT_GE(child, 0);
	EXPECT_EQ(listening, module_refcnt());
	close(child);
	close(client);
	EXPECT_EQ(listening, wait_refcnt(listening));
}

TEST_F(mptcp, never_enabled_socket_reads_as_off)
{
	struct smkex_info info;
	unsigned char key[SMKEX_KEY_LEN];
	int val = -1, refcnt = module_refcnt();
	long long attached = smkex_stat("SocketsAttached");
	socklen_t len = sizeof(val);

	/* No SMKEX option was set: the socket reads as SMKEX off... */
	ASSERT_EQ((int)sizeof(info), get_info(self->fd, &info));
	EXPECT_EQ(SMKEX_STATE_OFF, info.state);
	EXPECT_EQ(0, info.version);
	EXPECT_EQ(read_sysfs_int("/sys/module/smkex/parameters/handshake_timeout_ms"),
		  (int)info.timeout_ms);
	ASSERT_EQ(0, getsockopt(self->fd, SOL_SMKEX, SMKEX_ENABLE, &val, &len));
	EXPECT_EQ(0, val);
	len = sizeof(key);
	EXPECT_EQ(-1, getsockopt(self->fd, SOL_SMKEX, SMKEX_SESSION_KEY, key, &len));
	EXPECT_EQ(ENOTCONN, errno);
	len = sizeof(val);
	EXPECT_EQ(-1, getsockopt(self->fd, SOL_SMKEX, 99, &val, &len));
	EXPECT_EQ(ENOPROTOOPT, errno);
	/* ...and reading does not take it over. */
	EXPECT_EQ(refcnt, module_refcnt());
	EXPECT_EQ(attached, smkex_stat("SocketsAttached"));
}

/*
 * An IPv6 SMKEX listener that accepts an IPv4 client (a v4-mapped
 * connection) reports channel 1 as AF_INET with the IPv4 addresses, as
 * the IPv4 subflows of channel 2 are: one family for one kind of address.
 */
TEST(v4_mapped_channel_reported_as_inet)
{
	int lfd = socket(AF_INET6, SOCK_STREAM, IPPROTO_MPTCP), client, child, i;
	struct smkex_info info;
	unsigned short port;
	unsigned int loopback = htonl(INADDR_LOOPBACK);
	struct sockaddr_in6 any = { .sin6_family = AF_INET6 };
	socklen_t len = sizeof(any);

	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, set_int(lfd, SMKEX_ENABLE, 1));
	ASSERT_EQ(0, set_int(lfd, SMKEX_TIMEOUT_MS, 1000));
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&any, sizeof(any)));
	ASSERT_EQ(0, listen(lfd, 8));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&any, &len));
	port = any.sin6_port;
	client = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	ASSERT_GE(client, 0);
	ASSERT_EQ(0, set_int(client, SMKEX_ENABLE, 1));
	ASSERT_EQ(0, set_int(client, SMKEX_TIMEOUT_MS, 1000));
	ASSERT_EQ(0, connect_to(client, AF_INET, port));
	child = accept(lfd, NULL, NULL);
	ASSERT_GE(child, 0);
	/* Channel 1 is known once the work has run for the accepted socket. */
	for (i = 0; i < 100; i++) {
		ASSERT_EQ((int)sizeof(info), get_info(child, &info));
		if (info.channel[0].family)
			break;
		usleep(10 * 1000);
	}
	EXPECT_EQ(SMKEX_ROLE_SERVER, info.role);
	EXPECT_EQ(AF_INET, info.channel[0].family);
	EXPECT_EQ(0, memcmp(info.channel[0].local_addr, &loopback, 4));
	EXPECT_EQ(0, memcmp(info.channel[0].remote_addr, &loopback, 4));
	EXPECT_EQ(port, info.channel[0].local_port);
	close(child);
	close(client);
	close(lfd);
}

TEST(plain_tcp_is_untouched)
{
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	struct smkex_info info;

	ASSERT_GE(fd, 0);
	/* TCP's own answers to an unknown level. */
	EXPECT_EQ(-ENOPROTOOPT, set_int(fd, SMKEX_ENABLE, 1));
	EXPECT_EQ(-EOPNOTSUPP, get_info(fd, &info));
	close(fd);
}

TEST_HARNESS_MAIN
