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
