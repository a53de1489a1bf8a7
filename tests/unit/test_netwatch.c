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
 * test_netwatch.c: what netwatch.c takes for a network change or a resume
 * (tunsupd(8), NETWORK CHANGES): the clock comparison with clocks given, and
 * the routing messages that are changes and the ones that are not, built
 * here byte by byte.
 */
#include "config.h"

#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <string.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "netwatch.h"

/* ---- resume: the boot clock runs on while the monotonic one stands ------ */

Test(resume, first_look_only_remembers)
{
	double	 gap = -1;

	cr_assert_eq(netwatch_slept(&gap, 5000.0, 1000.0), 0);
	cr_assert_eq(gap, 4000.0);
}

Test(resume, clocks_running_together_are_no_resume)
{
	double	 gap = -1;

	netwatch_slept(&gap, 5000.0, 1000.0);
	/* Five seconds of both, with the read of the second clock later. */
	cr_assert_eq(netwatch_slept(&gap, 5005.0002, 1005.0), 0);
	cr_assert_eq(netwatch_slept(&gap, 5010.0, 1010.0001), 0);
}

Test(resume, a_suspend_is_the_gap_grown)
{
	double	 gap = -1;

	netwatch_slept(&gap, 5000.0, 1000.0);
	/* 5 s tick on the monotonic clock, 600 s more on the boot clock. */
	cr_assert_float_eq(netwatch_slept(&gap, 5605.0, 1005.0), 600.0, 1e-9);
	/* Reported once: the next tick is quiet again. */
	cr_assert_eq(netwatch_slept(&gap, 5610.0, 1010.0), 0);
}

Test(resume, shorter_than_the_minimum_is_none)
{
	double	 gap = -1;

	netwatch_slept(&gap, 100.0, 100.0);
	cr_assert_eq(netwatch_slept(&gap, 105.0 + NETWATCH_RESUME_MIN / 2,
	    105.0), 0);
	cr_assert_float_eq(netwatch_slept(&gap, 111.0 + NETWATCH_RESUME_MIN,
	    110.0), NETWATCH_RESUME_MIN + 0.5, 1e-9);
}

/* ---- routing messages ----------------------------------------------------- */

static union {
	struct nlmsghdr	 h;
	char		 b[1024];
} msg;

static void *
msg_start(unsigned short type, size_t body)
{
	memset(&msg, 0, sizeof(msg));
	msg.h.nlmsg_type = type;
	msg.h.nlmsg_len = NLMSG_LENGTH(body);
	return NLMSG_DATA(&msg.h);
}

static void
msg_attr(unsigned short type, const void *data, size_t len)
{
	struct rtattr	*a;

	a = (struct rtattr *)(void *)(msg.b + NLMSG_ALIGN(msg.h.nlmsg_len));
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	msg.h.nlmsg_len = NLMSG_ALIGN(msg.h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void
addr_msg(unsigned short type, int family, const char *addr, int plen,
    int scope, unsigned int flags, const char *label)
{
	struct ifaddrmsg	*ifa;
	unsigned char		 a[16];

	ifa = msg_start(type, sizeof(*ifa));
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_scope = scope;
	ifa->ifa_flags = flags;
	ifa->ifa_index = 4242;
	cr_assert_eq(inet_pton(family, addr, a), 1);
	msg_attr(IFA_ADDRESS, a, family == AF_INET ? 4 : 16);
	if (family == AF_INET)
		msg_attr(IFA_LOCAL, a, 4);
	if (label != NULL)
		msg_attr(IFA_LABEL, label, strlen(label) + 1);
}

static void
route_msg(unsigned short type, int family, const char *dst, int plen,
    unsigned int table, unsigned int flags)
{
	struct rtmsg	*rtm;
	unsigned char	 a[16];

	rtm = msg_start(type, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = plen;
	rtm->rtm_table = table < 256 ? table : RT_TABLE_UNSPEC;
	rtm->rtm_flags = flags;
	rtm->rtm_type = RTN_UNICAST;
	if (dst != NULL) {
		cr_assert_eq(inet_pton(family, dst, a), 1);
		msg_attr(RTA_DST, a, family == AF_INET ? 4 : 16);
	}
	msg_attr(RTA_TABLE, &table, sizeof(table));
}

static void
link_msg(unsigned short type, unsigned int flags, unsigned int change)
{
	struct ifinfomsg	*ifi;

	ifi = msg_start(type, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = 4242;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	msg_attr(IFLA_IFNAME, "wlan0", 6);
}

static char	 why[160];

static void
expect_change(struct netwatch *nw, const char *want)
{
	why[0] = '\0';
	cr_assert_eq(netwatch_describe(nw, &msg.h, why, sizeof(why)), 1,
	    "not a change; wanted %s", want);
	cr_assert_str_eq(why, want);
}

static void
expect_none(struct netwatch *nw, const char *what)
{
	cr_assert_eq(netwatch_describe(nw, &msg.h, why, sizeof(why)), 0,
	    "%s taken for a change: %s", what, why);
}

static void
nop(void *arg, const char *w)
{
}

Test(routing, addresses_coming_and_going)
{
	addr_msg(RTM_NEWADDR, AF_INET, "10.0.0.2", 24, RT_SCOPE_UNIVERSE, 0,
	    "wlan0");
	expect_change(NULL, "address 10.0.0.2/24 on wlan0");
	addr_msg(RTM_DELADDR, AF_INET, "10.0.0.2", 24, RT_SCOPE_UNIVERSE, 0,
	    "wlan0");
	expect_change(NULL, "address 10.0.0.2/24 removed from wlan0");
	addr_msg(RTM_NEWADDR, AF_INET6, "2001:db8::5", 64, RT_SCOPE_UNIVERSE,
	    0, NULL);
	expect_change(NULL, "address 2001:db8::5/64 on interface 4242");
	addr_msg(RTM_NEWADDR, AF_INET6, "fe80::1", 64, RT_SCOPE_LINK, 0, NULL);
	expect_none(NULL, "a link-local address");
	addr_msg(RTM_NEWADDR, AF_INET, "127.0.0.2", 8, RT_SCOPE_HOST, 0, "lo");
	expect_none(NULL, "a loopback address");
}

Test(routing, an_address_refreshed_is_no_news)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct netwatch	*nw = netwatch_new(loop, nop, NULL);

	addr_msg(RTM_NEWADDR, AF_INET6, "2001:db8::5", 64, RT_SCOPE_UNIVERSE,
	    IFA_F_TENTATIVE, NULL);
	expect_change(nw, "address 2001:db8::5/64 on interface 4242");
	/* Duplicate address detection done: the flags change. */
	addr_msg(RTM_NEWADDR, AF_INET6, "2001:db8::5", 64, RT_SCOPE_UNIVERSE,
	    0, NULL);
	expect_change(nw, "address 2001:db8::5/64 on interface 4242");
	/* A router advertisement renews its lifetimes: the same again. */
	expect_none(nw, "a lifetime refresh");
	addr_msg(RTM_DELADDR, AF_INET6, "2001:db8::5", 64, RT_SCOPE_UNIVERSE,
	    0, NULL);
	expect_change(nw, "address 2001:db8::5/64 removed from interface 4242");
	/* Gone and back: news again. */
	addr_msg(RTM_NEWADDR, AF_INET6, "2001:db8::5", 64, RT_SCOPE_UNIVERSE,
	    0, NULL);
	expect_change(nw, "address 2001:db8::5/64 on interface 4242");
	netwatch_free(nw);
	ev_loop_destroy(loop);
}

Test(routing, routes_of_the_main_table)
{
	route_msg(RTM_NEWROUTE, AF_INET, NULL, 0, RT_TABLE_MAIN, 0);
	expect_change(NULL, "default route changed");
	route_msg(RTM_DELROUTE, AF_INET6, NULL, 0, RT_TABLE_MAIN, 0);
	expect_change(NULL, "default route (IPv6) removed");
	route_msg(RTM_NEWROUTE, AF_INET, "10.77.0.0", 24, RT_TABLE_MAIN, 0);
	expect_change(NULL, "route to 10.77.0.0/24 changed");
	route_msg(RTM_NEWROUTE, AF_INET, "10.77.0.2", 32, RT_TABLE_LOCAL, 0);
	expect_none(NULL, "a route of the local table");
	route_msg(RTM_NEWROUTE, AF_INET, "10.0.0.0", 8, 1000, 0);
	expect_none(NULL, "a route of another table");
	route_msg(RTM_NEWROUTE, AF_INET6, "fe80::", 64, RT_TABLE_MAIN, 0);
	expect_none(NULL, "the link-local route");
	route_msg(RTM_NEWROUTE, AF_INET6, "2001:db8::1", 128, RT_TABLE_MAIN,
	    RTM_F_CLONED);
	expect_none(NULL, "a cached route");
}

Test(routing, links_up_and_down)
{
	link_msg(RTM_NEWLINK, IFF_UP | IFF_RUNNING, IFF_RUNNING);
	expect_change(NULL, "link wlan0 up");
	link_msg(RTM_NEWLINK, IFF_UP, IFF_RUNNING);
	expect_change(NULL, "link wlan0 down");
	link_msg(RTM_DELLINK, IFF_UP | IFF_RUNNING, 0);
	expect_change(NULL, "link wlan0 removed");
	link_msg(RTM_NEWLINK, IFF_UP | IFF_RUNNING, 0);
	expect_none(NULL, "a link message that changes neither up nor running");
	link_msg(RTM_NEWLINK, IFF_BROADCAST, ~0U);
	expect_none(NULL, "a new link not in use");
	link_msg(RTM_DELLINK, IFF_BROADCAST, 0);
	expect_none(NULL, "a link removed that was down");
	link_msg(RTM_NEWLINK, IFF_UP | IFF_RUNNING | IFF_LOOPBACK, IFF_UP);
	expect_none(NULL, "loopback");
	msg_start(RTM_NEWNEIGH, 0);
	expect_none(NULL, "a neighbour message");
}

/* ---- bursts: one notice each ----------------------------------------------- */

Test(burst, a_lone_change_waits_for_quiet)
{
	cr_assert_float_eq(netwatch_notice_due(100.0, 100.0, 0),
	    100.0 + NETWATCH_SETTLE, 1e-9);
}

Test(burst, each_change_pushes_the_notice_back_up_to_a_limit)
{
	/* An interface going down: its addresses, then its routes. */
	cr_assert_float_eq(netwatch_notice_due(100.2, 100.0, 0),
	    100.2 + NETWATCH_SETTLE, 1e-9);
	/* Changes that never stop are noticed all the same. */
	cr_assert_float_eq(netwatch_notice_due(100.9, 100.0, 0),
	    100.0 + NETWATCH_BURST_MAX, 1e-9);
	cr_assert_float_eq(netwatch_notice_due(150.0, 100.0, 0),
	    100.0 + NETWATCH_BURST_MAX, 1e-9);
}

Test(burst, notices_are_spaced)
{
	/* The previous notice 1 s ago: this one waits for the spacing. */
	cr_assert_float_eq(netwatch_notice_due(100.0, 100.0, 99.0),
	    99.0 + NETWATCH_SPACING, 1e-9);
	/* Long ago: no wait beyond the quiet. */
	cr_assert_float_eq(netwatch_notice_due(100.0, 100.0, 50.0),
	    100.0 + NETWATCH_SETTLE, 1e-9);
}
