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
 * soon.h: run a callback at the start of the next loop turn, without the loop
 * first sleeping in poll for an unrelated event.
 *
 * An ev_prepare alone runs before the next poll only when started from an I/O
 * or timer callback; started from another prepare callback it waits for the
 * poll after that, which on an idle daemon is the next timer. The ev_idle
 * beside it keeps that poll from sleeping while the prepare is pending.
 */
#ifndef TUNSUP_SOON_H
#define TUNSUP_SOON_H

#include <ev.h>

struct soon {
	ev_prepare	 run;	/* the callback: w->data is the owner */
	ev_idle		 awake;
};

void	soon_init(struct soon *, void (*)(struct ev_loop *, ev_prepare *, int),
	    void *);
void	soon_start(struct ev_loop *, struct soon *);
/* Both watchers: the callback calls it once its work is done. */
void	soon_stop(struct ev_loop *, struct soon *);

#endif
