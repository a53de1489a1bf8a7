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
