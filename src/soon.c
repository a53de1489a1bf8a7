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
