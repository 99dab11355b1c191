// SPDX-License-Identifier: GPL-2.0
/*
 * The MPTCP path manager's events (pm_events.h): the "mptcp_pm" generic
 * netlink family's "mptcp_pm_events" group, which needs CAP_NET_ADMIN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <linux/netlink.h>

#include "pm_events.h"

#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif
/* include/uapi/linux/mptcp.h and mptcp_pm.h of 6.12, absent from older headers. */
#define PM_FAMILY "mptcp_pm"
#define PM_EVENTS_GROUP "mptcp_pm_events"

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static int genl_request(int fd, void *buf, size_t size, const char *family)
{
	struct {
		struct nlmsghdr nh;
		struct genlmsghdr gh;
		struct nlattr na;
		char name[GENL_NAMSIZ];
	} req = {
		.nh = { .nlmsg_type = GENL_ID_CTRL, .nlmsg_flags = NLM_F_REQUEST },
		.gh = { .cmd = CTRL_CMD_GETFAMILY, .version = 1 },
		.na = { .nla_type = CTRL_ATTR_FAMILY_NAME, .nla_len = NLA_HDRLEN + strlen(family) + 1 },
	};

	strcpy(req.name, family);
	req.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(req.na.nla_len);
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0)
		return -1;
	return recv(fd, buf, size, 0);
}

/* Each well-formed attribute `a` of the `len` bytes at `start`. */
#define nla_for_each(a, start, len, rest)                                                   \
	for (a = (const void *)(start), rest = (len);                                       \
	     rest >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rest;          \
	     rest -= NLA_ALIGN(a->nla_len), a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len)))
#define nla_value(a) ((const char *)(a) + NLA_HDRLEN)
#define nla_value_len(a) ((a)->nla_len - NLA_HDRLEN)
/* A generic netlink message's attributes. */
#define genl_attrs(nh) ((const char *)NLMSG_DATA(nh) + GENL_HDRLEN)
#define genl_attrs_len(nh) ((int)(nh)->nlmsg_len - (int)NLMSG_LENGTH(GENL_HDRLEN))

/* The id of multicast group `group` in a CTRL_CMD_NEWFAMILY reply, or -1. */
static int genl_group_id(const char *buf, int len, const char *group)
{
	const struct nlmsghdr *nh = (const void *)buf;
	const struct nlattr *a, *g, *f;
	int rest, grest, frest;

	if (len < (int)NLMSG_LENGTH(GENL_HDRLEN) || !NLMSG_OK(nh, len) || nh->nlmsg_type == NLMSG_ERROR)
		return -1;
	nla_for_each(a, genl_attrs(nh), genl_attrs_len(nh), rest) {
		if ((a->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		nla_for_each(g, nla_value(a), nla_value_len(a), grest) {
			int id = -1, match = 0;

			nla_for_each(f, nla_value(g), nla_value_len(g), frest) {
				if (f->nla_type == CTRL_ATTR_MCAST_GRP_ID && nla_value_len(f) >= 4)
					memcpy(&id, nla_value(f), 4);
				else if (f->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
					match = !strncmp(nla_value(f), group, nla_value_len(f));
			}
			if (match)
				return id;
		}
	}
	return -1;
}

/* A non-blocking socket subscribed to the path manager's events. */
int pm_events_open(void)
{
	char buf[4096];
	int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC), len, group, nonblocking = 1;

	if (fd < 0)
		die("netlink socket");
	len = genl_request(fd, buf, sizeof(buf), PM_FAMILY);
	group = genl_group_id(buf, len, PM_EVENTS_GROUP);
	if (group < 0) {
		fprintf(stderr, "no %s group in %s\n", PM_EVENTS_GROUP, PM_FAMILY);
		exit(2);
	}
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)))
		die("NETLINK_ADD_MEMBERSHIP");
	ioctl(fd, FIONBIO, &nonblocking);
	/* Room for a burst of 256 joins' events (a lost one would stall a connection). */
	len = 1 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &len, sizeof(len));
	return fd;
}

unsigned int pm_token_of(int fd)
{
	struct mptcp_info info;
	socklen_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (getsockopt(fd, SOL_MPTCP, MPTCP_INFO, &info, &len))
		die("MPTCP_INFO");
	return info.mptcpi_token;
}

void pm_events_read(int nlfd, void (*joined)(unsigned int token, void *arg), void *arg)
{
	char buf[8192];
	ssize_t len;

	while ((len = recv(nlfd, buf, sizeof(buf), 0)) > 0) {
		for (struct nlmsghdr *nh = (void *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			const struct genlmsghdr *gh = NLMSG_DATA(nh);
			const struct nlattr *a;
			unsigned int token = 0;
			int rest;

			if (nh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN) || gh->cmd != MPTCP_EVENT_SUB_ESTABLISHED)
				continue;
			nla_for_each(a, genl_attrs(nh), genl_attrs_len(nh), rest)
				if (a->nla_type == MPTCP_ATTR_TOKEN && nla_value_len(a) >= 4)
					memcpy(&token, nla_value(a), 4);
			joined(token, arg);
		}
	}
	if (len < 0 && errno == ENOBUFS) {
		fprintf(stderr, "path manager events lost\n");
		exit(2);
	}
}
