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
 * daemon_sched.h: the records a tunnel keeps in the daemon's two
 * schedulers, the handshake limiter and the keepalive wheel (daemon.c). A
 * scheduler links these records and calls back through them; it never sees
 * the tunnel. (Not "sched.h": that name would hide the system's.)
 */
#ifndef TUNSUP_DAEMON_SCHED_H
#define TUNSUP_DAEMON_SCHED_H

#include <sys/queue.h>

/* A place in the handshake limiter: held, waiting, or neither. */
struct hs_ticket {
	TAILQ_ENTRY(hs_ticket)	 entry;		/* the limiter's wait queue */
	int			 waiting;
	int			 held;
	/* A slot is held now (it was waiting). */
	void			(*granted)(void *arg);
	void			*arg;
};
TAILQ_HEAD(hs_queue, hs_ticket);

/* Where a keepalive round waits. */
enum {
	ALIVE_OFF = 0,
	ALIVE_WHEEL,		/* a slot of the wheel */
	ALIVE_DUE,		/* the queue of rounds to serve now */
};

/* One owner's next keepalive round. */
struct alive_round {
	TAILQ_ENTRY(alive_round) entry;		/* a wheel slot or the due queue */
	int			 where;		/* ALIVE_OFF, _WHEEL, _DUE */
	long			 at;		/* monotonic second, on the wheel */
	/* The round is served now (taken off every list first). */
	void			(*due)(void *arg);
	void			*arg;
};
TAILQ_HEAD(alive_list, alive_round);

#endif
