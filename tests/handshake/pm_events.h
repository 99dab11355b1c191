/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The MPTCP path manager's events, for concurrent --joined: just enough
 * generic netlink to hear when a connection's join is established.
 */
#ifndef PM_EVENTS_H
#define PM_EVENTS_H

/* A non-blocking netlink socket subscribed to "mptcp_pm_events"; exits on error. */
int pm_events_open(void);

/* The MPTCP token of connection `fd` (MPTCP_INFO); exits on error. */
unsigned int pm_token_of(int fd);

/*
 * Reads every pending event of `nlfd` and calls `joined` with the token of
 * each MPTCP_EVENT_SUB_ESTABLISHED. Exits if events were lost (ENOBUFS).
 */
void pm_events_read(int nlfd, void (*joined)(unsigned int token, void *arg), void *arg);

#endif
