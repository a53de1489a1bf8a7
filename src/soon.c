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
/* soon.c: next-turn callbacks that never wait for an unrelated wake-up. */
#include "config.h"

#include "soon.h"

static void
soon_awake_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	/* Only here so that the loop polls without sleeping. */
}

void
soon_init(struct soon *s, void (*cb)(struct ev_loop *, ev_prepare *, int),
    void *data)
{
	ev_prepare_init(&s->run, cb);
	s->run.data = data;
	ev_idle_init(&s->awake, soon_awake_cb);
	s->awake.data = data;
}

void
soon_start(struct ev_loop *loop, struct soon *s)
{
	ev_prepare_start(loop, &s->run);
	ev_idle_start(loop, &s->awake);
}

void
soon_stop(struct ev_loop *loop, struct soon *s)
{
	ev_prepare_stop(loop, &s->run);
	ev_idle_stop(loop, &s->awake);
}
