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
 * tunnel_io.c: a tunnel's real world: its session (sshconn.c), its forwards
 * (forward.c), the clocks and libev timers on the daemon's loop. The daemon
 * gives every tunnel these ops; the state machine's unit tests give fakes
 * (tests/unit/test_tunnel_sm.c).
 */
#include "config.h"

#include "daemon.h"
#include "forward.h"
#include "hook.h"
#include "sshconn.h"
#include "tunnel.h"
#include "util.h"

static struct sshconn *
io_conn_new(struct tunnel *t, size_t server, const struct sshconn_cbs *cbs)
{
	return sshconn_new(t->daemon->loop, t->daemon->resolver, t->spec,
	    server, cbs, t);
}

static struct forward *
io_fwd_new(struct tunnel *t, const struct fwd_spec *fs)
{
	t->fwd_env->loop = t->daemon->loop;
	t->fwd_env->resolver = t->daemon->resolver;
	/* Its listeners pause with every other one when descriptors run out. */
	t->fwd_env->fdl = t->daemon->fdlimit;
	return forward_new(t->fwd_env, fs);
}

static void
io_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tunnel	*t = w->data;

	tunnel_timer_fired(t, (enum tunnel_timer)(w - t->timers));
}

static void
io_timer_start(struct tunnel *t, enum tunnel_timer which, double after,
    double repeat)
{
	ev_timer	*w = &t->timers[which];

	ev_timer_stop(t->daemon->loop, w);
	ev_timer_init(w, io_timer_cb, after, repeat);
	w->data = t;
	ev_timer_start(t->daemon->loop, w);
}

static void
io_timer_stop(struct tunnel *t, enum tunnel_timer which)
{
	/* A watcher never started is all zeroes: inactive, nothing pending. */
	ev_timer_stop(t->daemon->loop, &t->timers[which]);
}

static int
io_timer_active(struct tunnel *t, enum tunnel_timer which)
{
	return ev_is_active(&t->timers[which]);
}

const struct tunnel_ops tunnel_io_ops = {
	.conn_new = io_conn_new,
	.conn_set_cbs = sshconn_set_cbs,
	.conn_free = sshconn_free,
	.conn_in_packets = sshconn_in_packets,
	.conn_keepalive = sshconn_keepalive,
	.conn_keepalive_pending = sshconn_keepalive_pending,

	.fwd_new = io_fwd_new,
	.fwd_free = forward_free,
	.fwd_session_up = forward_session_up,
	.fwd_session_down = forward_session_down,
	.fwd_cancel = forward_cancel,
	.fwd_session_moved = forward_session_moved,
	.fwd_retry = forward_retry,
	.fwd_probe = forward_probe,
	.fwd_matches = forward_matches,
	.fwd_incoming = forward_incoming,
	.fwd_status = forward_status,

	.wall = now_wall,
	.mono = now_mono,
	.unit = rand_unit,
	.timer_start = io_timer_start,
	.timer_stop = io_timer_stop,
	.timer_active = io_timer_active,

	.hook_state = hook_tunnel_state,
	.hook_free = hook_tunnel_free,
};
