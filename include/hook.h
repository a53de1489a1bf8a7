/*
 * hook.h: the commands a tunnel runs on its own events (tunsupd.conf(5)
 * EventCommand, LocalCommand): at most one of each running per tunnel, the
 * state changes that come meanwhile coalesced into one run.
 */
#ifndef TUNSUP_HOOK_H
#define TUNSUP_HOOK_H

#include "tunnel.h"

/*
 * t's state changed from from to to (an announced change): run its
 * EventCommand, and on a new session (to forwarding) its LocalCommand if
 * PermitLocalCommand allows it.
 */
void	hook_tunnel_state(struct tunnel *, enum tunnel_state from,
	    enum tunnel_state to, const char *reason);
/* t goes: what runs is let go (its time limit holds), what waits dropped. */
void	hook_tunnel_free(struct tunnel *);

#endif
