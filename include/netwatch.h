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
 * netwatch.h: network changes and resumes from suspend, as one notice
 * (tunsupd(8), NETWORK CHANGES). The kernel's routing messages (addresses,
 * routes, links) come in on a netlink socket on the loop; a burst of them is
 * one notice. A resume shows as the boot clock (CLOCK_BOOTTIME, which counts
 * a suspend) running ahead of the monotonic clock (which does not), looked at
 * by a periodic timer.
 */
#ifndef TUNSUP_NETWATCH_H
#define TUNSUP_NETWATCH_H

#include <stddef.h>

#include <ev.h>

struct nlmsghdr;
struct netwatch;

/* The notice: what changed, in words for the log and the tunnels' reasons. */
typedef void	(*netwatch_cb)(void *arg, const char *why);

/*
 * Watch on loop; never keeps the loop alive on its own. Without a netlink
 * socket (a warning says why) resumes are still noticed.
 */
struct netwatch	*netwatch_new(struct ev_loop *, netwatch_cb, void *arg);
void		 netwatch_free(struct netwatch *);

/*
 * A burst of changes is over after NETWATCH_SETTLE s of quiet, or
 * NETWATCH_BURST_MAX s after its first change if it goes on; notices of
 * changes are at least NETWATCH_SPACING s apart.
 */
#define NETWATCH_SETTLE		0.3
#define NETWATCH_BURST_MAX	1.0
#define NETWATCH_SPACING	3.0

/*
 * When the notice of a burst is due (monotonic seconds), a change arriving
 * now: burst is when its first change came, last the previous notice (0:
 * none yet).
 */
double		 netwatch_notice_due(double now, double burst, double last);

/* A resume shorter than this is not one (seconds). */
#define NETWATCH_RESUME_MIN	1.0

/*
 * The resume test, with the clocks given (seconds): the seconds the system
 * slept since the last call if at least NETWATCH_RESUME_MIN, else 0. *gap
 * keeps boot - mono between calls; a negative *gap is the first call.
 */
double		 netwatch_slept(double *gap, double boot, double mono);

/*
 * One routing message: 1 if it is a change worth a check (then its words,
 * e.g. "address 10.0.0.2/24 removed from wlan0", in buf), else 0. An
 * address nw has seen before with the same flags is not (NULL: no memory). Routes of
 * other tables than main (the kernel's local and broadcast ones follow the
 * addresses), link-local and host-scope addresses, and link messages that
 * change neither up nor running are not.
 */
int		 netwatch_describe(struct netwatch *, const struct nlmsghdr *,
		    char *buf, size_t len);

#endif
