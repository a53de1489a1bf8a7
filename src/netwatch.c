/*
 * Copyright (c) 2026 The tunsup authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */
/*
 * netwatch.c: network changes and resumes from suspend, as one notice to
 * the daemon (tunsupd(8), NETWORK CHANGES; doc/design.md).
 *
 * The kernel's routing messages come in on a non-blocking netlink socket
 * (addresses, routes and links, IPv4 and IPv6). Not every message is a
 * change: an IPv6 address's lifetimes refreshed by a router advertisement
 * come as a new address again, so the addresses seen are remembered and one
 * that comes again with the same flags is not news. A burst of changes (an
 * interface going down takes its addresses and routes with it) becomes one
 * notice once it has settled, and two notices are at least NETWATCH_SPACING
 * apart, so that a noisy host does not keep every session busy.
 *
 * A resume from suspend: CLOCK_MONOTONIC stands still while the system
 * sleeps, CLOCK_BOOTTIME does not. Their difference grows only by a
 * suspend; a periodic timer compares it with the one it saw last.
 */
#include "config.h"

#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "netwatch.h"
#include "util.h"

#define NW_TICK		5.0	/* how often the clocks are compared */
#define NW_READS	32	/* datagrams read per loop turn */
#define NW_BUF		32768
#define NW_ADDRS_MAX	256	/* addresses remembered */

struct nw_addr {
	unsigned char	 family;
	unsigned char	 plen;
	unsigned int	 index;
	unsigned int	 flags;
	unsigned char	 addr[16];
};

struct netwatch {
	struct ev_loop	*loop;
	netwatch_cb	 cb;
	void		*arg;

	int		 fd;
	ev_io		 io;
	char		*buf;
	ev_timer	 settle;
	double		 last;		/* monotonic, the last notice */
	double		 burst;		/* monotonic, the burst's first change */
	unsigned int	 pending;	/* changes in this burst */
	char		 why[160];	/* the burst's first change */
	struct nw_addr	*addrs;
	size_t		 naddrs;

	ev_timer	 tick;
	double		 gap;		/* boot - mono, -1 before the first */
};

/* ---- the resume test ---------------------------------------------------- */

double
netwatch_slept(double *gap, double boot, double mono)
{
	double	 now = boot - mono, slept;

	slept = *gap < 0 ? 0 : now - *gap;
	*gap = now;
	return slept >= NETWATCH_RESUME_MIN ? slept : 0;
}

static double
nw_clock(clockid_t id)
{
	struct timespec	 ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
nw_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct netwatch	*nw = w->data;
	double		 slept;
	char		 why[64];

	slept = netwatch_slept(&nw->gap, nw_clock(CLOCK_BOOTTIME),
	    nw_clock(CLOCK_MONOTONIC));
	if (slept == 0)
		return;
	snprintf(why, sizeof(why), "resume from suspend (%.0f s asleep)",
	    slept);
	nw->cb(nw->arg, why);
}

/* ---- routing messages --------------------------------------------------- */

/* The attribute of this type among len bytes at rta, or NULL. */
static const struct rtattr *
nw_attr(const struct rtattr *rta, int len, unsigned short type)
{
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == type)
			return rta;
	}
	return NULL;
}

/* An address attribute in words ("10.0.0.2"), or "?" if it is none. */
static void
nw_ntop(int family, const struct rtattr *a, char *buf, size_t len)
{
	size_t	 want = family == AF_INET ? 4 : 16;

	if (a == NULL || RTA_PAYLOAD(a) < want ||
	    inet_ntop(family, RTA_DATA(a), buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

static void
nw_ifname(unsigned int index, const struct rtattr *name, char *buf,
    size_t len)
{
	char	 ifn[IF_NAMESIZE];

	if (name != NULL && RTA_PAYLOAD(name) > 0)
		snprintf(buf, len, "%.*s", (int)RTA_PAYLOAD(name),
		    (const char *)RTA_DATA(name));
	else if (if_indextoname(index, ifn) != NULL)
		snprintf(buf, len, "%s", ifn);
	else
		snprintf(buf, len, "interface %u", index);
}

/*
 * Remember a, or forget it (gone): 1 if that is news (new, its flags
 * changed, or gone), 0 if a was known as it is (a lifetime refreshed).
 */
static int
nw_addr_seen(struct netwatch *nw, const struct nw_addr *a, int gone)
{
	struct nw_addr	*k;
	size_t		 i;

	for (i = 0; i < nw->naddrs; i++) {
		k = &nw->addrs[i];
		if (k->family != a->family || k->plen != a->plen ||
		    k->index != a->index || memcmp(k->addr, a->addr,
		    sizeof(a->addr)) != 0)
			continue;
		if (gone) {
			*k = nw->addrs[--nw->naddrs];
			return 1;
		}
		if (k->flags == a->flags)
			return 0;
		k->flags = a->flags;
		return 1;
	}
	if (!gone && nw->naddrs < NW_ADDRS_MAX) {
		if (nw->addrs == NULL)
			nw->addrs = xcalloc(NW_ADDRS_MAX, sizeof(*nw->addrs));
		nw->addrs[nw->naddrs++] = *a;
	}
	return 1;
}

static int
nw_describe_addr(struct netwatch *nw, const struct nlmsghdr *h, char *buf,
    size_t len)
{
	const struct ifaddrmsg	*ifa = NLMSG_DATA(h);
	const struct rtattr	*a;
	struct nw_addr		 key;
	char			 addr[INET6_ADDRSTRLEN], ifn[IF_NAMESIZE + 16];
	int			 alen, gone = h->nlmsg_type == RTM_DELADDR;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	/* Loopback and link-local addresses carry no tunnel. */
	if (ifa->ifa_scope >= RT_SCOPE_LINK)
		return 0;
	alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa)));
	if ((a = nw_attr(IFA_RTA(ifa), alen, IFA_LOCAL)) == NULL)
		a = nw_attr(IFA_RTA(ifa), alen, IFA_ADDRESS);
	memset(&key, 0, sizeof(key));
	key.family = ifa->ifa_family;
	key.plen = ifa->ifa_prefixlen;
	key.index = ifa->ifa_index;
	key.flags = ifa->ifa_flags;
	if (a != NULL)
		memcpy(key.addr, RTA_DATA(a), RTA_PAYLOAD(a) < sizeof(key.addr) ?
		    RTA_PAYLOAD(a) : sizeof(key.addr));
	if (nw != NULL && !nw_addr_seen(nw, &key, gone))
		return 0;
	nw_ntop(ifa->ifa_family, a, addr, sizeof(addr));
	nw_ifname(ifa->ifa_index, nw_attr(IFA_RTA(ifa), alen, IFA_LABEL), ifn,
	    sizeof(ifn));
	snprintf(buf, len, "address %s/%u %s %s", addr, ifa->ifa_prefixlen,
	    gone ? "removed from" : "on", ifn);
	return 1;
}

static int
nw_describe_route(const struct nlmsghdr *h, char *buf, size_t len)
{
	const struct rtmsg	*rtm = NLMSG_DATA(h);
	const struct rtattr	*a;
	char			 dst[INET6_ADDRSTRLEN];
	unsigned int		 table;
	int			 alen;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)) ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
	    (rtm->rtm_flags & RTM_F_CLONED))
		return 0;
	alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*rtm)));
	table = rtm->rtm_table;
	if ((a = nw_attr(RTM_RTA(rtm), alen, RTA_TABLE)) != NULL &&
	    RTA_PAYLOAD(a) >= sizeof(table))
		memcpy(&table, RTA_DATA(a), sizeof(table));
	if (table != RT_TABLE_MAIN)
		return 0;
	a = nw_attr(RTM_RTA(rtm), alen, RTA_DST);
	/* fe80::/64 comes and goes with every interface. */
	if (rtm->rtm_family == AF_INET6 && a != NULL && RTA_PAYLOAD(a) >= 2 &&
	    ((const unsigned char *)RTA_DATA(a))[0] == 0xfe &&
	    (((const unsigned char *)RTA_DATA(a))[1] & 0xc0) == 0x80)
		return 0;
	if (rtm->rtm_dst_len == 0)
		snprintf(dst, sizeof(dst), "default");
	else
		nw_ntop(rtm->rtm_family, a, dst, sizeof(dst));
	if (rtm->rtm_dst_len == 0)
		snprintf(buf, len, "%s route%s %s", dst,
		    rtm->rtm_family == AF_INET6 ? " (IPv6)" : "",
		    h->nlmsg_type == RTM_DELROUTE ? "removed" : "changed");
	else
		snprintf(buf, len, "route to %s/%u %s", dst, rtm->rtm_dst_len,
		    h->nlmsg_type == RTM_DELROUTE ? "removed" : "changed");
	return 1;
}

static int
nw_describe_link(const struct nlmsghdr *h, char *buf, size_t len)
{
	const struct ifinfomsg	*ifi = NLMSG_DATA(h);
	char			 ifn[IF_NAMESIZE + 16];
	int			 alen, up;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) ||
	    (ifi->ifi_flags & IFF_LOOPBACK))
		return 0;
	up = (ifi->ifi_flags & (IFF_UP | IFF_RUNNING)) ==
	    (IFF_UP | IFF_RUNNING);
	if (h->nlmsg_type == RTM_DELLINK) {
		if (!up)
			return 0;	/* it carried nothing */
	} else if (ifi->ifi_change == ~0U) {
		if (!up)
			return 0;	/* a new link, not yet in use */
	} else if ((ifi->ifi_change & (IFF_UP | IFF_RUNNING)) == 0)
		return 0;		/* statistics, names, addresses */
	alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	nw_ifname((unsigned int)ifi->ifi_index, nw_attr(IFLA_RTA(ifi), alen,
	    IFLA_IFNAME), ifn, sizeof(ifn));
	snprintf(buf, len, "link %s %s", ifn,
	    h->nlmsg_type == RTM_DELLINK ? "removed" : up ? "up" : "down");
	return 1;
}

int
netwatch_describe(struct netwatch *nw, const struct nlmsghdr *h, char *buf,
    size_t len)
{
	switch (h->nlmsg_type) {
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return nw_describe_addr(nw, h, buf, len);
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		return nw_describe_route(h, buf, len);
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return nw_describe_link(h, buf, len);
	default:
		return 0;
	}
}

/* ---- bursts into notices ------------------------------------------------ */

static void
nw_settle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct netwatch	*nw = w->data;
	char		 why[256];

	if (nw->pending > 1)
		snprintf(why, sizeof(why), "network change: %s, and %u more",
		    nw->why, nw->pending - 1);
	else
		snprintf(why, sizeof(why), "network change: %s", nw->why);
	nw->pending = 0;
	nw->last = now_mono();
	nw->cb(nw->arg, why);
}

double
netwatch_notice_due(double now, double burst, double last)
{
	double	 due = now + NETWATCH_SETTLE;

	if (due > burst + NETWATCH_BURST_MAX)
		due = burst + NETWATCH_BURST_MAX;
	if (last > 0 && due < last + NETWATCH_SPACING)
		due = last + NETWATCH_SPACING;
	return due;
}

/* A change: the notice is (re)scheduled for netwatch_notice_due(). */
static void
nw_change(struct netwatch *nw, const char *why)
{
	double	 now = now_mono(), due;

	log_debug("netlink: %s", why);
	if (nw->pending++ == 0) {
		snprintf(nw->why, sizeof(nw->why), "%s", why);
		nw->burst = now;
	}
	due = netwatch_notice_due(now, nw->burst, nw->last);
	ev_timer_stop(nw->loop, &nw->settle);
	ev_timer_set(&nw->settle, due > now ? due - now : 0., 0.);
	ev_timer_start(nw->loop, &nw->settle);
}

static void
nw_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct netwatch		*nw = w->data;
	struct sockaddr_nl	 sa;
	struct iovec		 iov;
	struct msghdr		 mh;
	struct nlmsghdr		*h;
	char			 why[160];
	ssize_t			 n;
	int			 i, len;

	for (i = 0; i < NW_READS; i++) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = nw->buf;
		iov.iov_len = NW_BUF;
		mh.msg_name = &sa;
		mh.msg_namelen = sizeof(sa);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if ((n = recvmsg(nw->fd, &mh, 0)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == ENOBUFS) {
				/* The kernel had more to say than we read. */
				nw_change(nw, "routing messages lost");
				continue;
			}
			log_warn("netlink: %s: network changes are no longer "
			    "watched", strerror(errno));
			ev_ref(loop);
			ev_io_stop(loop, w);
			return;
		}
		/* Only the kernel speaks on these groups. */
		if (mh.msg_namelen != sizeof(sa) || sa.nl_pid != 0)
			continue;
		if (mh.msg_flags & MSG_TRUNC) {
			nw_change(nw, "a routing message too long to read");
			continue;
		}
		h = (struct nlmsghdr *)(void *)nw->buf;
		len = (int)n;	/* NLMSG_NEXT may take it below 0 */
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (netwatch_describe(nw, h, why, sizeof(why)))
				nw_change(nw, why);
		}
	}
}

/* ---- life --------------------------------------------------------------- */

static int
nw_open(void)
{
	struct sockaddr_nl	 sa;
	int			 fd, saved;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
	    RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

struct netwatch *
netwatch_new(struct ev_loop *loop, netwatch_cb cb, void *arg)
{
	struct netwatch	*nw;

	nw = xcalloc(1, sizeof(*nw));
	nw->loop = loop;
	nw->cb = cb;
	nw->arg = arg;
	nw->gap = -1;
	ev_timer_init(&nw->settle, nw_settle_cb, NETWATCH_SETTLE, 0.);
	nw->settle.data = nw;
	/* Neither keeps the loop alive: the sessions and listeners do. */
	if ((nw->fd = nw_open()) == -1)
		log_warn("netlink: %s: network changes are not watched (a "
		    "resume from suspend still is)", strerror(errno));
	else {
		nw->buf = xmalloc(NW_BUF);
		ev_io_init(&nw->io, nw_read_cb, nw->fd, EV_READ);
		nw->io.data = nw;
		ev_io_start(loop, &nw->io);
		ev_unref(loop);
	}
	(void)netwatch_slept(&nw->gap, nw_clock(CLOCK_BOOTTIME),
	    nw_clock(CLOCK_MONOTONIC));
	ev_timer_init(&nw->tick, nw_tick_cb, NW_TICK, NW_TICK);
	nw->tick.data = nw;
	ev_timer_start(loop, &nw->tick);
	ev_unref(loop);
	return nw;
}

void
netwatch_free(struct netwatch *nw)
{
	if (nw == NULL)
		return;
	if (ev_is_active(&nw->io)) {
		ev_ref(nw->loop);
		ev_io_stop(nw->loop, &nw->io);
	}
	if (ev_is_active(&nw->tick)) {
		ev_ref(nw->loop);
		ev_timer_stop(nw->loop, &nw->tick);
	}
	ev_timer_stop(nw->loop, &nw->settle);
	if (nw->fd != -1)
		close(nw->fd);
	free(nw->buf);
	free(nw->addrs);
	free(nw);
}
