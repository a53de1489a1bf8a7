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
 * fdlimit.h: running out of descriptors without spinning.
 *
 * When accept() fails for want of descriptors (EMFILE, ENFILE) or of kernel
 * memory (ENOBUFS, ENOMEM), the connection stays in the listener's queue and
 * the socket stays readable: a level-triggered watcher would call accept()
 * again at once, for ever. The shortage is the whole process's, so every
 * listener (forward listeners of every kind, the control socket) registers
 * here, and the first such failure on any of them pauses them all. A timer
 * resumes them FDLIMIT_PAUSE seconds later; a failure then pauses them again,
 * within the same episode. An episode logs one warning when it starts and one
 * line when it ends (no shortage for FDLIMIT_PAUSE after a resume).
 *
 * A few spare descriptors are held back so that the control socket can take a
 * client during an episode: tunsupctl still gets its answer.
 */
#ifndef TUNSUP_FDLIMIT_H
#define TUNSUP_FDLIMIT_H

#include <sys/queue.h>

#include <ev.h>

#define FDLIMIT_PAUSE	1.0	/* seconds every listener rests */

struct fdlimit;

/* One listener's place, embedded in the listener beside its watcher. */
struct fdlimit_listener {
	TAILQ_ENTRY(fdlimit_listener) entry;
	struct fdlimit		*fl;	/* NULL while not registered */
	ev_io			*io;
};

/* Raise the soft RLIMIT_NOFILE to the hard limit (once, at start). */
void		 fdlimit_raise(void);

struct fdlimit	*fdlimit_new(struct ev_loop *);
void		 fdlimit_free(struct fdlimit *);

/*
 * Register a listener's accept watcher (initialised, not started) and start
 * it, unless an episode holds the listeners paused: then its end starts it.
 * The watcher must stay where it is until fdlimit_unwatch().
 */
void		 fdlimit_watch(struct fdlimit *, struct fdlimit_listener *,
		    ev_io *);
/* Stop the watcher and forget it; a no-op for one never registered. */
void		 fdlimit_unwatch(struct fdlimit_listener *);
/* Registered (its watcher running, or paused with the others). */
int		 fdlimit_watching(const struct fdlimit_listener *);

/* Is this accept() errno a shortage of descriptors or memory? */
int		 fdlimit_shortage(int err);
/*
 * accept() on l failed with err. A shortage pauses every listener and
 * returns 1 (the caller stops accepting); anything else returns 0, errno
 * untouched.
 */
int		 fdlimit_accept_failed(struct fdlimit_listener *l, int err);
/* Give up one spare descriptor for an accept that must not wait: 1 if one. */
int		 fdlimit_spare(struct fdlimit *);

#endif
