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
 * fdlimit.c: the descriptor limit, and one pause of every listener while the
 * process is out of descriptors (see fdlimit.h and tunsupd(8)).
 */
#include "config.h"

#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdlimit.h"
#include "log.h"
#include "util.h"

#define FDLIMIT_SPARES	2	/* held back for the control socket */

enum fdlimit_state {
	FDL_NORMAL = 0,
	FDL_PAUSED,		/* every listener stopped until the timer */
	FDL_RESUMED,		/* listening again; the timer ends the episode */
};

struct fdlimit {
	struct ev_loop		*loop;
	TAILQ_HEAD(, fdlimit_listener) listeners;
	enum fdlimit_state	 state;
	ev_timer		 timer;		/* repeats FDLIMIT_PAUSE */
	double			 since;		/* monotonic: the episode began */
	unsigned long		 pauses;	/* accepts put off in it */
	int			 spare[FDLIMIT_SPARES];
};

static void	fdlimit_timer_cb(struct ev_loop *, ev_timer *, int);

/* "1024", or "unlimited". */
static void
fdlimit_str(rlim_t v, char *buf, size_t len)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, len, "unlimited");
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

void
fdlimit_raise(void)
{
	struct rlimit	 rl;
	rlim_t		 was;
	char		 cur[32], max[32];

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		log_debug("open files limit: getrlimit: %s", strerror(errno));
		return;
	}
	was = rl.rlim_cur;
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			fdlimit_str(was, cur, sizeof(cur));
			log_debug("open files limit: cannot raise %s to the "
			    "hard limit: %s", cur, strerror(errno));
			return;
		}
	}
	fdlimit_str(was, cur, sizeof(cur));
	fdlimit_str(rl.rlim_max, max, sizeof(max));
	log_debug("open files limit: %s (soft limit was %s)", max, cur);
}

/* Hold spare descriptors again, as far as there are any. */
static void
fdlimit_refill(struct fdlimit *fl)
{
	size_t	 i;

	for (i = 0; i < FDLIMIT_SPARES; i++) {
		if (fl->spare[i] != -1)
			continue;
		if ((fl->spare[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) ==
		    -1)
			break;
	}
}

struct fdlimit *
fdlimit_new(struct ev_loop *loop)
{
	struct fdlimit	*fl;
	size_t		 i;

	fl = xcalloc(1, sizeof(*fl));
	fl->loop = loop;
	TAILQ_INIT(&fl->listeners);
	for (i = 0; i < FDLIMIT_SPARES; i++)
		fl->spare[i] = -1;
	fdlimit_refill(fl);
	/*
	 * Repeating, (re)armed by ev_timer_again: a one-shot timer that has
	 * fired and is started again without ev_timer_set keeps its spent
	 * delay and fires at once (libev's ev_timer_remaining).
	 */
	ev_timer_init(&fl->timer, fdlimit_timer_cb, 0., FDLIMIT_PAUSE);
	fl->timer.data = fl;
	return fl;
}

void
fdlimit_free(struct fdlimit *fl)
{
	struct fdlimit_listener	*l;
	size_t			 i;

	if (fl == NULL)
		return;
	while ((l = TAILQ_FIRST(&fl->listeners)) != NULL)
		fdlimit_unwatch(l);
	ev_timer_stop(fl->loop, &fl->timer);
	for (i = 0; i < FDLIMIT_SPARES; i++) {
		if (fl->spare[i] != -1)
			close(fl->spare[i]);
	}
	free(fl);
}

static void
fdlimit_end(struct fdlimit *fl)
{
	ev_timer_stop(fl->loop, &fl->timer);
	fl->state = FDL_NORMAL;
	log_info("accepting again after %.1f s short of descriptors "
	    "(accepts put off %lu times)", now_mono() - fl->since,
	    fl->pauses);
}

void
fdlimit_watch(struct fdlimit *fl, struct fdlimit_listener *l, ev_io *io)
{
	l->fl = fl;
	l->io = io;
	TAILQ_INSERT_TAIL(&fl->listeners, l, entry);
	if (fl->state != FDL_PAUSED)
		ev_io_start(fl->loop, io);
}

void
fdlimit_unwatch(struct fdlimit_listener *l)
{
	struct fdlimit	*fl = l->fl;

	if (fl == NULL)
		return;
	ev_io_stop(fl->loop, l->io);
	TAILQ_REMOVE(&fl->listeners, l, entry);
	l->fl = NULL;
	/* Nothing left to resume: the timer must not keep the loop alive. */
	if (TAILQ_EMPTY(&fl->listeners) && fl->state != FDL_NORMAL)
		fdlimit_end(fl);
}

int
fdlimit_watching(const struct fdlimit_listener *l)
{
	return l->fl != NULL;
}

int
fdlimit_shortage(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM;
}

int
fdlimit_accept_failed(struct fdlimit_listener *l, int err)
{
	struct fdlimit		*fl = l->fl;
	struct fdlimit_listener	*o;
	struct rlimit		 rl;
	char			 lim[32] = "?";

	if (!fdlimit_shortage(err))
		return 0;
	if (fl->state == FDL_PAUSED)
		return 1;	/* another accept of the same turn */
	if (fl->state == FDL_NORMAL) {
		fl->since = now_mono();
		fl->pauses = 0;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
			fdlimit_str(rl.rlim_cur, lim, sizeof(lim));
		log_warn("accept: %s (open files limit %s): not accepting "
		    "on any listener for %.0f s at a time until descriptors "
		    "are free", strerror(err), lim, FDLIMIT_PAUSE);
	}
	fl->state = FDL_PAUSED;
	fl->pauses++;
	TAILQ_FOREACH(o, &fl->listeners, entry)
		ev_io_stop(fl->loop, o->io);
	ev_timer_again(fl->loop, &fl->timer);
	return 1;
}

int
fdlimit_spare(struct fdlimit *fl)
{
	size_t	 i;

	for (i = 0; i < FDLIMIT_SPARES; i++) {
		if (fl->spare[i] != -1) {
			close(fl->spare[i]);
			fl->spare[i] = -1;
			return 1;
		}
	}
	return 0;
}

static void
fdlimit_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fdlimit		*fl = w->data;
	struct fdlimit_listener	*l;

	if (fl->state == FDL_RESUMED) {
		fdlimit_end(fl);
		return;
	}
	/* Spares first: descriptors freed since go to them, then to clients. */
	fdlimit_refill(fl);
	fl->state = FDL_RESUMED;
	TAILQ_FOREACH(l, &fl->listeners, entry)
		ev_io_start(loop, l->io);
}
