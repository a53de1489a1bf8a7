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
 * tunnel.c: one named tunnel and its state machine (tunsupctl(1) STATES;
 * doc/design.md, "Tunnel states").
 *
 *   stopped -> connecting -> forwarding -> up <-> degraded
 *                 ^                         |
 *                 +------- backoff <--------+ (any failure)
 *
 * Every change of state is a row of tunnel_moves[]: an event in a state
 * leads to one state, and that state's enter function is the whole entry
 * action (what must be gone first, then the log line "from -> to (reason)"
 * and the control event, then the timers of the state). An event that has
 * no row in the current state is a bug: it is logged at warn and refused.
 * The machine never gives up: failures lead to backoff, never to exit.
 *
 * The tunnel reaches the session, the forwards, the clock and its timers
 * only through t->ops, and its owner only through t->owner, so that the
 * unit tests drive every transition with fakes (tests/unit/test_tunnel_sm.c).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "forward.h"
#include "log.h"
#include "sshconn.h"
#include "tunnel.h"
#include "util.h"

/* A session up this long resets the backoff (tunsupd.conf(5) RetryMin). */
#define STABLE_AFTER	60.0
/* A check's deadline, or ConnectTimeout if shorter (tunsupd(8)). */
#define CHECK_DEADLINE	3.0

static const char *const tunnel_state_names[TS_COUNT] = {
	"stopped", "connecting", "forwarding", "up", "degraded", "backoff",
};

static const char *const tunnel_event_names[TE_COUNT] = {
	"start", "restart", "retry", "ready", "forwards up",
	"forward refused", "failure", "stop", "switch",
};

struct tunnel_move {
	enum tunnel_state	 from;
	enum tunnel_event	 ev;
	enum tunnel_state	 to;
	int			 quiet;	/* re-entry: no log line, no event */
};

/*
 * The state table: every allowed transition. A quiet row re-enters its
 * state to run its entry action again (a wait over, the next forward retry)
 * and is neither logged nor announced.
 */
static const struct tunnel_move tunnel_moves[] = {
	{ TS_STOPPED,	 TE_START,	 TS_CONNECTING,	0 },
	{ TS_STOPPED,	 TE_RESTART,	 TS_CONNECTING,	0 },
	{ TS_STOPPED,	 TE_STOP,	 TS_STOPPED,	1 },

	{ TS_CONNECTING, TE_RETRY,	 TS_CONNECTING,	1 },
	{ TS_CONNECTING, TE_RESTART,	 TS_CONNECTING,	0 },
	{ TS_CONNECTING, TE_READY,	 TS_FORWARDING,	0 },
	{ TS_CONNECTING, TE_FAIL,	 TS_BACKOFF,	0 },
	{ TS_CONNECTING, TE_STOP,	 TS_STOPPED,	0 },

	{ TS_FORWARDING, TE_FWD_UP,	 TS_UP,		0 },
	{ TS_FORWARDING, TE_FWD_REFUSED, TS_DEGRADED,	0 },
	{ TS_FORWARDING, TE_FAIL,	 TS_BACKOFF,	0 },
	{ TS_FORWARDING, TE_RESTART,	 TS_CONNECTING,	0 },
	{ TS_FORWARDING, TE_STOP,	 TS_STOPPED,	0 },

	{ TS_UP,	 TE_FWD_REFUSED, TS_DEGRADED,	0 },
	{ TS_UP,	 TE_FAIL,	 TS_BACKOFF,	0 },
	{ TS_UP,	 TE_RESTART,	 TS_CONNECTING,	0 },
	{ TS_UP,	 TE_STOP,	 TS_STOPPED,	0 },
	{ TS_UP,	 TE_SWITCH,	 TS_FORWARDING,	0 },

	{ TS_DEGRADED,	 TE_FWD_UP,	 TS_UP,		0 },
	{ TS_DEGRADED,	 TE_FWD_REFUSED, TS_DEGRADED,	1 },
	{ TS_DEGRADED,	 TE_FAIL,	 TS_BACKOFF,	0 },
	{ TS_DEGRADED,	 TE_RESTART,	 TS_CONNECTING,	0 },
	{ TS_DEGRADED,	 TE_STOP,	 TS_STOPPED,	0 },
	{ TS_DEGRADED,	 TE_SWITCH,	 TS_FORWARDING,	0 },

	{ TS_BACKOFF,	 TE_RETRY,	 TS_CONNECTING,	0 },
	{ TS_BACKOFF,	 TE_RESTART,	 TS_CONNECTING,	0 },
	{ TS_BACKOFF,	 TE_STOP,	 TS_STOPPED,	0 },
};

static void	enter_stopped(struct tunnel *, const struct tunnel_move *,
		    const char *);
static void	enter_connecting(struct tunnel *, const struct tunnel_move *,
		    const char *);
static void	enter_forwarding(struct tunnel *, const struct tunnel_move *,
		    const char *);
static void	enter_up(struct tunnel *, const struct tunnel_move *,
		    const char *);
static void	enter_degraded(struct tunnel *, const struct tunnel_move *,
		    const char *);
static void	enter_backoff(struct tunnel *, const struct tunnel_move *,
		    const char *);

/* The entry action of each state, the only code that arms its timers. */
static void (*const tunnel_enter[TS_COUNT])(struct tunnel *,
    const struct tunnel_move *, const char *) = {
	[TS_STOPPED] = enter_stopped,
	[TS_CONNECTING] = enter_connecting,
	[TS_FORWARDING] = enter_forwarding,
	[TS_UP] = enter_up,
	[TS_DEGRADED] = enter_degraded,
	[TS_BACKOFF] = enter_backoff,
};

static void	tunnel_teardown(struct tunnel *);
static void	tunnel_session_end(struct tunnel *, int);
static void	tunnel_eval(struct tunnel *);
static void	tunnel_forward_notice(void *, struct forward *,
		    enum forward_notice);
static void	tunnel_fail(struct tunnel *, enum tunnel_fail, const char *);
static void	tunnel_alive_arm(struct tunnel *);
static void	tunnel_alive_round(void *);
static void	tunnel_slot_granted(void *);
static void	tunnel_primary_arm(struct tunnel *);

static const struct sshconn_cbs tunnel_conn_cbs;
static const struct sshconn_cbs tunnel_probe_cbs;

const char *
tunnel_state_name(enum tunnel_state s)
{
	return tunnel_state_names[s];
}

const char *
tunnel_event_name(enum tunnel_event ev)
{
	return tunnel_event_names[ev];
}

static const struct tunnel_move *
tunnel_move_find(enum tunnel_state from, enum tunnel_event ev)
{
	size_t	 i;

	for (i = 0; i < sizeof(tunnel_moves) / sizeof(tunnel_moves[0]); i++) {
		if (tunnel_moves[i].from == from && tunnel_moves[i].ev == ev)
			return &tunnel_moves[i];
	}
	return NULL;
}

int
tunnel_next_state(enum tunnel_state from, enum tunnel_event ev)
{
	const struct tunnel_move	*m;

	if ((m = tunnel_move_find(from, ev)) == NULL)
		return -1;
	return (int)m->to;
}

/* ---- backoff ---------------------------------------------------------- */

/*
 * Full-jitter exponential backoff: a delay between min and
 * min(cap, min * 2^attempt), unit in [0, 1) picking the point.
 */
long
tunnel_backoff_ms(long min_ms, long cap_ms, int attempt, double unit)
{
	double	 hi;

	if (cap_ms < min_ms)
		cap_ms = min_ms;
	if (attempt < 0)
		attempt = 0;
	if (attempt > 30)
		attempt = 30;
	hi = (double)min_ms * ldexp(1.0, attempt);
	if (hi > (double)cap_ms)
		hi = (double)cap_ms;
	return min_ms + (long)(unit * (hi - (double)min_ms));
}

long
tunnel_retry_delay(const struct tunnel_spec *spec, enum tunnel_fail kind,
    int attempt, double unit)
{
	/* Refused credentials will not pass soon: no hammering. */
	if (kind == TF_AUTH)
		return spec->retry_max_ms -
		    (long)(unit * spec->retry_max_ms * 0.1);
	return tunnel_backoff_ms(spec->retry_min_ms, kind == TF_NETWORK ?
	    spec->retry_network_max_ms : spec->retry_max_ms, attempt, unit);
}

/* ---- life ------------------------------------------------------------- */

static void
tunnel_forwards_new(struct tunnel *t)
{
	size_t	 i;

	t->fwd_env->spec = t->spec;	/* a reload brings a new one */
	t->nforwards = t->spec->nforwards;
	t->forwards = xcalloc(t->nforwards ? t->nforwards : 1,
	    sizeof(*t->forwards));
	for (i = 0; i < t->nforwards; i++)
		t->forwards[i] = t->ops->fwd_new(t, &t->spec->forwards[i]);
}

static void
tunnel_forwards_free(struct tunnel *t)
{
	size_t	 i;

	for (i = 0; i < t->nforwards; i++)
		t->ops->fwd_free(t->forwards[i]);
	free(t->forwards);
	t->forwards = NULL;
	t->nforwards = 0;
}

struct tunnel *
tunnel_new(struct daemon *d, struct tunnel_spec *spec,
    const struct tunnel_ops *ops, const struct tunnel_owner *owner)
{
	struct tunnel	*t;

	t = xcalloc(1, sizeof(*t));
	t->daemon = d;
	t->ops = ops;
	t->owner = owner;
	t->spec = spec;
	t->state = TS_STOPPED;
	t->state_since = ops->wall();
	t->rtt_ms = -1;
	t->slot.granted = tunnel_slot_granted;
	t->slot.arg = t;
	t->alive.due = tunnel_alive_round;
	t->alive.arg = t;
	t->fwd_env = xcalloc(1, sizeof(*t->fwd_env));
	t->fwd_env->conn = &t->conn;
	t->fwd_env->notice = tunnel_forward_notice;
	t->fwd_env->arg = t;
	tunnel_forwards_new(t);
	return t;
}

void
tunnel_free(struct tunnel *t)
{
	int	 i;

	if (t == NULL)
		return;
	tunnel_teardown(t);
	for (i = 0; i < TT_COUNT; i++)
		t->ops->timer_stop(t, i);
	if (t->ops->hook_free != NULL)
		t->ops->hook_free(t);
	tunnel_forwards_free(t);
	free(t->fwd_env);
	free(t->last_error);
	free(t->check_why);
	tunnel_spec_free(t->spec);
	free(t);
}

static void
tunnel_set_error(struct tunnel *t, const char *err)
{
	free(t->last_error);
	t->last_error = err != NULL ? xstrdup(err) : NULL;
}

/* ---- the one place states change ------------------------------------ */

/*
 * Take ev in t's state through the table: the new state's entry action runs,
 * and announces the change itself (tunnel_announce) at its point. Returns -1
 * for an event the table does not allow there (a bug: nothing changes).
 */
static int
tunnel_fire(struct tunnel *t, enum tunnel_event ev, const char *reason)
{
	const struct tunnel_move	*m;

	if ((m = tunnel_move_find(t->state, ev)) == NULL) {
		tlog_warn(t, "bug: no transition for %s in state %s (%s): "
		    "refused", tunnel_event_name(ev),
		    tunnel_state_name(t->state), reason != NULL ? reason : "");
		return -1;
	}
	tunnel_enter[m->to](t, m, reason);
	return 0;
}

/* The state changes now: log "from -> to (reason)", emit the event. */
static void
tunnel_announce(struct tunnel *t, const struct tunnel_move *m,
    const char *reason)
{
	json_t	*ev;

	if (m->quiet)
		return;
	t->state = m->to;
	t->state_since = t->ops->wall();
	if (m->to == TS_UP)
		t->down_since = 0;
	else if (m->from == TS_UP || t->down_since == 0)
		t->down_since = t->state_since;
	if (m->to != TS_BACKOFF)
		t->retry_at = 0;
	if (m->to == TS_BACKOFF || m->to == TS_STOPPED)
		tlog_info(t, "%s -> %s (%s)", tunnel_state_name(m->from),
		    tunnel_state_name(m->to), reason != NULL ? reason : "");
	else
		tlog_info(t, "%s -> %s%s%s%s", tunnel_state_name(m->from),
		    tunnel_state_name(m->to), reason != NULL ? " (" : "",
		    reason != NULL ? reason : "", reason != NULL ? ")" : "");

	/* "o" steals; json_text() takes any bytes a server or a file gave. */
	ev = json_pack("{s:s, s:s, s:s, s:s, s:o, s:f}", "event", "state",
	    "tunnel", t->spec->name, "from", tunnel_state_name(m->from),
	    "to", tunnel_state_name(m->to),
	    "reason", reason != NULL ? json_text(reason) : json_null(),
	    "ts", t->state_since);
	if (ev != NULL)
		t->owner->emit(t->daemon, ev);	/* steals ev */
	/* EventCommand and LocalCommand (tunsupd.conf(5)); never waited for. */
	if (t->ops->hook_state != NULL)
		t->ops->hook_state(t, m->from, m->to, reason);
	t->owner->changed(t->daemon);
}

/* stopped: nothing runs; no timer. */
static void
enter_stopped(struct tunnel *t, const struct tunnel_move *m,
    const char *reason)
{
	tunnel_teardown(t);
	t->ops->timer_stop(t, TT_RETRY);
	t->server = 0;		/* a start begins with the primary */
	tunnel_announce(t, m, reason);
}

/*
 * connecting: a session attempt, once a handshake slot is held. Started, it
 * may first wait out the start-up spread (TT_RETRY); without a free slot it
 * waits for one (no timer: the limiter calls back).
 */
static void
enter_connecting(struct tunnel *t, const struct tunnel_move *m,
    const char *reason)
{
	double	 delay = 0;

	/* A restart drops the session; a wait ending keeps the slot. */
	if (m->from != TS_CONNECTING || m->ev == TE_RESTART)
		tunnel_teardown(t);
	t->ops->timer_stop(t, TT_RETRY);
	if (t->conn != NULL)
		return;
	if (m->ev == TE_START)
		delay = t->owner->start_delay(t->daemon);
	if (delay > 0) {
		tunnel_announce(t, m, reason != NULL ? reason : "starting");
		t->ops->timer_start(t, TT_RETRY, delay, 0.);
		return;
	}
	if (!t->owner->slot_acquire(t->daemon, &t->slot)) {
		tunnel_announce(t, m, reason != NULL ? reason :
		    "waiting for a handshake slot");
		return;
	}
	tunnel_announce(t, m, reason);
	t->conn = t->ops->conn_new(t, t->server, &tunnel_conn_cbs);
}

/* "user@host:port" of server n (0 the primary, n the nth FallbackHost). */
static char *
tunnel_server_str(const struct tunnel *t, size_t n)
{
	const struct tunnel_spec	*sp = t->spec;
	const struct jump_hop		*fb;
	char				*s;

	if (n == 0 || n > sp->nfallbacks)
		xasprintf(&s, "%s@%s:%d", sp->user, sp->hostname, sp->port);
	else {
		fb = &sp->fallbacks[n - 1];
		xasprintf(&s, "%s@%s:%d", fb->user != NULL ? fb->user :
		    sp->user, fb->host, fb->port);
	}
	return s;
}

/*
 * forwarding: the session is up; the forwards are requested and the
 * keepalive rounds begin (the daemon's wheel, or TT_ALIVE). A switch back
 * to the primary brings its session along, already authenticated: the
 * fallback's session and the connections through it go only now, the
 * listeners here stay open (tunsupd.conf(5) FallbackHost).
 */
static void
enter_forwarding(struct tunnel *t, const struct tunnel_move *m,
    const char *reason)
{
	struct sshconn	*primary;
	char		*server;
	size_t		 i;

	if (m->ev == TE_SWITCH) {
		primary = t->probe;
		t->probe = NULL;
		tunnel_session_end(t, 1);
		t->conn = primary;
		t->ops->conn_set_cbs(primary, &tunnel_conn_cbs, t);
		t->server = 0;
	}
	t->owner->slot_release(t->daemon, &t->slot);
	t->connects++;
	t->fwd_attempt = 0;
	t->alive_last_in = t->ops->conn_in_packets(t->conn);
	t->alive_missed = 0;
	t->probe_wait = 0;
	t->last_ok = t->ops->wall();
	server = tunnel_server_str(t, t->server);
	if (t->server > 0)
		tlog_info(t, "session to %s established (FallbackHost %zu)",
		    server, t->server);
	else
		tlog_info(t, "session to %s established", server);
	free(server);
	tunnel_announce(t, m, reason);
	if (t->spec->server_alive_interval_ms > 0)
		tunnel_alive_arm(t);
	for (i = 0; i < t->nforwards && t->conn != NULL; i++)
		t->ops->fwd_session_up(t->forwards[i]);
	if (t->conn != NULL)
		tunnel_eval(t);
}

/* The session's first minute up or degraded ends in a backoff reset. */
static void
tunnel_stable_arm(struct tunnel *t)
{
	if (!t->ops->timer_active(t, TT_STABLE) && t->up_since == 0) {
		t->up_since = t->ops->mono();
		t->ops->timer_start(t, TT_STABLE, STABLE_AFTER, 0.);
	}
}

/* up: every forward established; TT_STABLE runs, TT_FWD_RETRY does not. */
static void
enter_up(struct tunnel *t, const struct tunnel_move *m, const char *reason)
{
	t->ops->timer_stop(t, TT_FWD_RETRY);
	tunnel_set_error(t, NULL);
	tunnel_announce(t, m, reason);
	tunnel_stable_arm(t);
	tunnel_primary_arm(t);
}

/*
 * degraded: as up, and TT_FWD_RETRY retries the refused forwards. Asking
 * again is one request in a live session, as cheap as an attempt to reach
 * an unreachable server: the wait grows up to RetryNetworkMax, so a port a
 * dead session held is taken soon after the server lets it go.
 */
static void
enter_degraded(struct tunnel *t, const struct tunnel_move *m,
    const char *reason)
{
	long	 delay;

	/* Not up: say why, as for every other state that is not up. */
	tunnel_set_error(t, reason);
	tunnel_announce(t, m, reason);
	tunnel_stable_arm(t);
	tunnel_primary_arm(t);
	if (!t->ops->timer_active(t, TT_FWD_RETRY)) {
		t->fwd_attempt++;
		delay = tunnel_retry_delay(t->spec, TF_NETWORK, t->fwd_attempt,
		    t->ops->unit());
		t->ops->timer_start(t, TT_FWD_RETRY, delay / 1000.0, 0.);
	}
}

/*
 * backoff: the session is gone (tunnel_fail counted and named the failure);
 * TT_RETRY brings the next attempt.
 */
static void
enter_backoff(struct tunnel *t, const struct tunnel_move *m,
    const char *reason)
{
	long	 delay;

	tunnel_teardown(t);
	t->attempt++;
	delay = tunnel_retry_delay(t->spec, t->fail_kind, t->attempt,
	    t->ops->unit());
	tunnel_announce(t, m, reason);
	t->retry_at = t->ops->wall() + delay / 1000.0;
	t->ops->timer_start(t, TT_RETRY, delay / 1000.0, 0.);
}

/*
 * Close the session and everything that rides on it; moved: another
 * session takes over at once, so listeners here stay open.
 */
static void
tunnel_session_end(struct tunnel *t, int moved)
{
	size_t	 i;

	t->ops->timer_stop(t, TT_ALIVE);
	t->owner->alive_forget(t->daemon, &t->alive);
	t->ops->timer_stop(t, TT_FWD_RETRY);
	t->ops->timer_stop(t, TT_STABLE);
	t->ops->timer_stop(t, TT_CHECK);
	t->ops->timer_stop(t, TT_PRIMARY);
	if (t->probe != NULL) {
		t->ops->conn_free(t->probe);
		t->probe = NULL;
	}
	t->up_since = 0;
	for (i = 0; i < t->nforwards; i++) {
		if (moved)
			t->ops->fwd_session_moved(t->forwards[i]);
		else
			t->ops->fwd_session_down(t->forwards[i]);
	}
	t->owner->slot_release(t->daemon, &t->slot);
	if (t->conn != NULL) {
		t->ops->conn_free(t->conn);
		t->conn = NULL;
	}
}

static void
tunnel_teardown(struct tunnel *t)
{
	tunnel_session_end(t, 0);
}

/* Up for a minute: the next failure starts from RetryMin again. */
static void
tunnel_stable_fired(struct tunnel *t)
{
	t->attempt = 0;
}

/* backoff's wait, or connecting's start-up spread, is over. */
static void
tunnel_retry_fired(struct tunnel *t)
{
	if (t->wanted)
		tunnel_fire(t, TE_RETRY, NULL);
}

/* A keepalive round not on the wheel: the daemon serves it soon. */
static void
tunnel_alive_fired(struct tunnel *t)
{
	t->owner->alive_due(t->daemon, &t->alive);
}

static void
tunnel_fwd_retry_fired(struct tunnel *t)
{
	size_t	 i;

	for (i = 0; i < t->nforwards && t->conn != NULL; i++)
		t->ops->fwd_retry(t->forwards[i]);
}

static void	tunnel_check_fired(struct tunnel *);

/*
 * On a fallback, up or degraded: every RetryMax a session to the primary is
 * tried beside the working one; once it is authenticated the tunnel moves
 * over (TE_SWITCH). A failed try changes nothing.
 */
static void
tunnel_primary_arm(struct tunnel *t)
{
	double	 every = t->spec->retry_max_ms / 1000.0;

	if (t->server > 0 && !t->ops->timer_active(t, TT_PRIMARY))
		t->ops->timer_start(t, TT_PRIMARY, every, every);
}

static void
tunnel_primary_fired(struct tunnel *t)
{
	/* A try still under way (ConnectTimeout above RetryMax) goes on. */
	if (t->probe == NULL && t->server > 0 && t->conn != NULL)
		t->probe = t->ops->conn_new(t, 0, &tunnel_probe_cbs);
}

static void (*const tunnel_timer_fns[TT_COUNT])(struct tunnel *) = {
	[TT_RETRY] = tunnel_retry_fired,
	[TT_STABLE] = tunnel_stable_fired,
	[TT_ALIVE] = tunnel_alive_fired,
	[TT_FWD_RETRY] = tunnel_fwd_retry_fired,
	[TT_CHECK] = tunnel_check_fired,
	[TT_PRIMARY] = tunnel_primary_fired,
};

void
tunnel_timer_fired(struct tunnel *t, enum tunnel_timer which)
{
	tunnel_timer_fns[which](t);
}

/* A handshake slot is ours now (the limiter's callback). */
static void
tunnel_slot_granted(void *arg)
{
	struct tunnel	*t = arg;

	if (t->wanted && t->conn == NULL && t->state == TS_CONNECTING)
		tunnel_fire(t, TE_RETRY, NULL);
	else
		t->owner->slot_release(t->daemon, &t->slot);
}

/* ---- session callbacks ----------------------------------------------- */

static void
tunnel_conn_phase(void *arg, const char *phase)
{
	struct tunnel	*t = arg;

	tlog_debug(t, "connecting: %s", phase);
}

static void
tunnel_conn_ready(void *arg)
{
	tunnel_fire(arg, TE_READY, "authenticated");
}

static void
tunnel_fail(struct tunnel *t, enum tunnel_fail kind, const char *reason)
{
	char	*why, *server;

	t->failures++;
	t->fail_kind = kind;
	if (t->state == TS_CONNECTING && t->server > 0) {
		/* Which server failed; reason may be freed by the teardown. */
		server = tunnel_server_str(t, t->server);
		xasprintf(&why, "FallbackHost %zu %s: %s", t->server, server,
		    reason);
		free(server);
	} else
		why = xstrdup(reason);
	/*
	 * The primary not reached (DNS, TCP, the handshake's timeout), or an
	 * attempt on a fallback failed in any way: the next attempt goes to
	 * the next server of the list. The primary's refused credentials or
	 * host key, a lost session, a refused forward do not move the tunnel
	 * (tunsupd.conf(5) FallbackHost).
	 */
	if (t->state == TS_CONNECTING && t->spec->nfallbacks > 0 &&
	    (kind == TF_NETWORK || t->server > 0))
		t->server = (t->server + 1) % (t->spec->nfallbacks + 1);
	tunnel_set_error(t, why);
	tlog_warn(t, "%s", why);
	tunnel_fire(t, t->wanted ? TE_FAIL : TE_STOP, why);
	free(why);
}

static void
tunnel_conn_dead(void *arg, enum sshconn_fail why_kind, const char *why)
{
	static const enum tunnel_fail kinds[] = {
		[SCF_NETWORK] = TF_NETWORK,
		[SCF_SESSION] = TF_SESSION,
		[SCF_AUTH] = TF_AUTH,
	};

	tunnel_fail(arg, kinds[why_kind], why);
}

static void
tunnel_conn_forwarded(void *arg, const char *addr, int port,
    struct sshconn_fwdmsg *m)
{
	struct tunnel	*t = arg;
	size_t		 i;

	for (i = 0; i < t->nforwards; i++) {
		if (t->ops->fwd_matches(t->forwards[i], addr, port)) {
			t->ops->fwd_incoming(t->forwards[i], m);
			return;
		}
	}
	if (port == -1)
		tlog_warn(t, "server opened a channel for the socket %s, which "
		    "no forward of ours listens on: refused", addr);
	else
		tlog_warn(t, "server opened a channel for %s:%d, which no "
		    "forward of ours listens on: refused", addr, port);
}

static const struct sshconn_cbs tunnel_conn_cbs = {
	.ready = tunnel_conn_ready,
	.dead = tunnel_conn_dead,
	.forwarded = tunnel_conn_forwarded,
	.phase = tunnel_conn_phase,
};

/* The primary answers again: the tunnel moves over to this session. */
static void
tunnel_probe_ready(void *arg)
{
	struct tunnel	*t = arg;
	char		*primary;

	primary = tunnel_server_str(t, 0);
	tlog_info(t, "primary server %s answers again: leaving FallbackHost "
	    "%zu", primary, t->server);
	free(primary);
	tunnel_fire(t, TE_SWITCH, "back to the primary server");
}

static void
tunnel_probe_dead(void *arg, enum sshconn_fail why_kind, const char *why)
{
	struct tunnel	*t = arg;

	if (why_kind == SCF_NETWORK)
		tlog_debug(t, "primary server still unreachable: %s", why);
	else
		tlog_warn(t, "primary server: %s (staying on FallbackHost "
		    "%zu)", why, t->server);
	t->ops->conn_free(t->probe);
	t->probe = NULL;
}

/* No forwards ride on it: a server's open is refused (no forwarded cb). */
static const struct sshconn_cbs tunnel_probe_cbs = {
	.ready = tunnel_probe_ready,
	.dead = tunnel_probe_dead,
};

/* ---- commands -------------------------------------------------------- */

void
tunnel_start(struct tunnel *t)
{
	if (t->wanted && t->state != TS_STOPPED)
		return;
	t->wanted = 1;
	t->attempt = 0;
	t->server = 0;
	tunnel_fire(t, TE_START, NULL);
}

void
tunnel_stop(struct tunnel *t, const char *reason)
{
	t->wanted = 0;
	tunnel_fire(t, TE_STOP, reason != NULL ? reason : "stopped");
}

void
tunnel_restart(struct tunnel *t, const char *reason)
{
	t->wanted = 1;
	t->attempt = 0;
	t->server = 0;
	tunnel_fire(t, TE_RESTART, reason != NULL ? reason : "restart");
}

/*
 * spec differs from t's only in its forwards: the session stays. A forward
 * of both keeps its connections (it now points into spec); one that is gone
 * is cancelled on the server and closed; a new one is listened for or asked
 * for in the live session. A changed forward is one gone and one new.
 */
static void
tunnel_forwards_swap(struct tunnel *t, struct tunnel_spec *spec)
{
	struct forward	**nf;
	char		 *fresh;
	size_t		  i, j, nold = t->nforwards;
	int		  live = t->conn != NULL && (t->state == TS_FORWARDING ||
			    t->state == TS_UP || t->state == TS_DEGRADED);

	nf = xcalloc(spec->nforwards ? spec->nforwards : 1, sizeof(*nf));
	fresh = xcalloc(spec->nforwards ? spec->nforwards : 1, 1);
	for (j = 0; j < spec->nforwards; j++) {
		for (i = 0; i < nold; i++) {
			if (t->forwards[i] != NULL && fwd_spec_equal(
			    t->forwards[i]->spec, &spec->forwards[j]))
				break;
		}
		if (i == nold)
			continue;
		nf[j] = t->forwards[i];
		nf[j]->spec = &spec->forwards[j];
		t->forwards[i] = NULL;
	}
	for (i = 0; i < nold; i++) {
		if (t->forwards[i] == NULL)
			continue;
		tlog_info(t, "forward %s%s%s: removed", t->forwards[i]->spec->
		    listen_str, t->forwards[i]->spec->target_str != NULL ?
		    " to " : "", t->forwards[i]->spec->target_str != NULL ?
		    t->forwards[i]->spec->target_str : "");
		if (live)
			t->ops->fwd_cancel(t->forwards[i]);
		t->ops->fwd_free(t->forwards[i]);
	}
	free(t->forwards);
	tunnel_spec_free(t->spec);
	t->spec = spec;
	t->fwd_env->spec = spec;
	for (j = 0; j < spec->nforwards; j++) {
		if (nf[j] == NULL) {
			nf[j] = t->ops->fwd_new(t, &spec->forwards[j]);
			fresh[j] = 1;
			tlog_info(t, "forward %s%s%s: added",
			    spec->forwards[j].listen_str,
			    spec->forwards[j].target_str != NULL ? " to " : "",
			    spec->forwards[j].target_str != NULL ?
			    spec->forwards[j].target_str : "");
		}
	}
	t->forwards = nf;
	t->nforwards = spec->nforwards;
	/* Every forward is in place before any answers (tunnel_eval). */
	for (j = 0; live && j < t->nforwards && t->conn != NULL; j++) {
		if (fresh[j])
			t->ops->fwd_session_up(t->forwards[j]);
	}
	free(fresh);
	if (live && t->conn != NULL)
		tunnel_eval(t);
}

int
tunnel_replace_spec(struct tunnel *t, struct tunnel_spec *spec)
{
	if (tunnel_spec_session_equal(t->spec, spec)) {
		tunnel_forwards_swap(t, spec);
		return 1;
	}
	/* The forwards belong to the spec: the session goes with them. */
	tunnel_teardown(t);
	tunnel_forwards_free(t);
	tunnel_spec_free(t->spec);
	t->spec = spec;
	tunnel_forwards_new(t);
	if (!spec->enabled)
		tunnel_stop(t, "disabled by reload");
	else
		tunnel_restart(t, "configuration changed");
	return 0;
}

/* ---- forwards and liveness ------------------------------------------ */

/* Derive up / forwarding / degraded from the forwards. */
static void
tunnel_eval(struct tunnel *t)
{
	struct forward	*f;
	size_t		 i, up = 0, bad = 0;
	const char	*err = NULL;

	if (t->conn == NULL ||
	    (t->state != TS_FORWARDING && t->state != TS_UP &&
	    t->state != TS_DEGRADED))
		return;
	for (i = 0; i < t->nforwards; i++) {
		f = t->forwards[i];
		if (f->state == FWD_UP)
			up++;
		else if (f->error != NULL) {
			bad++;
			err = f->error;
		}
	}
	if (bad > 0 && t->spec->exit_on_forward_failure)
		tunnel_fail(t, TF_SESSION, err);
	else if (up == t->nforwards) {
		if (t->state != TS_UP)
			tunnel_fire(t, TE_FWD_UP, "all forwards established");
	} else if (bad > 0)
		tunnel_fire(t, TE_FWD_REFUSED, err);
}

/*
 * The server refused a channel open of a local or dynamic forward: the
 * client got an end, the session and the forward's listener are fine. Say
 * so in the log and to subscribers; the forward counts them.
 */
static void
tunnel_forward_refused(struct tunnel *t, struct forward *f)
{
	json_t	*ev;

	tlog_warn(t, "forward %s: the server refused a channel%s%s: %s "
	    "(%lu in a row)", f->spec->listen_str,
	    f->spec->target_str != NULL ? " to " : "",
	    f->spec->target_str != NULL ? f->spec->target_str : "",
	    f->refusal, f->refused_in_row);
	ev = json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:f}", "event",
	    "open_refused", "tunnel", t->spec->name,
	    "listen", json_text(f->spec->listen_str),
	    "target", f->spec->target_str != NULL ?
	    json_text(f->spec->target_str) : json_null(),
	    "refusal", json_text(f->refusal),
	    "in_row", (json_int_t)f->refused_in_row,
	    "ts", t->ops->wall());
	if (ev != NULL)
		t->owner->emit(t->daemon, ev);	/* steals ev */
}

/*
 * A forward's one notice: a listen the server took (the forward retries
 * start over), or the forward evaluated again; if it changed, log and emit
 * the event. Either way t is evaluated again (which re-arms the retry of
 * refused forwards).
 */
static void
tunnel_forward_notice(void *arg, struct forward *f, enum forward_notice what)
{
	struct tunnel	*t = arg;
	json_t		*ev;

	if (what == FWD_NOTICE_LISTENING) {
		t->fwd_attempt = 0;
		return;
	}
	if (what == FWD_NOTICE_SAME) {
		tunnel_eval(t);
		return;
	}
	if (what == FWD_NOTICE_REFUSED) {
		tunnel_forward_refused(t, f);
		return;
	}
	if (f->error != NULL)
		tlog_warn(t, "forward %s: %s: %s", f->spec->listen_str,
		    forward_state_name(f->state), f->error);
	else
		tlog_info(t, "forward %s: %s", f->spec->listen_str,
		    forward_state_name(f->state));
	ev = json_pack("{s:s, s:s, s:o, s:s, s:o, s:f}", "event", "forward",
	    "tunnel", t->spec->name, "listen", json_text(f->spec->listen_str),
	    "state", forward_state_name(f->state),
	    "error", f->error != NULL ? json_text(f->error) : json_null(),
	    "ts", t->ops->wall());
	if (ev != NULL)
		t->owner->emit(t->daemon, ev);	/* steals ev */
	tunnel_eval(t);
}

static void
tunnel_keepalive_cb(void *arg, int result, int bound, double rtt_ms)
{
	struct tunnel	*t = arg;

	if (result == -2)
		return;
	t->rtt_ms = rtt_ms;
	t->last_ok = t->ops->wall();
}

/*
 * Keepalive rounds: whole-second intervals go on the daemon's shared wheel
 * (rounds of many tunnels then share one wake-up; the first round comes up to
 * 1 s early, the interval between rounds stays exact); any other interval
 * keeps a timer of its own, TT_ALIVE.
 */
static int
tunnel_alive_on_wheel(const struct tunnel *t)
{
	return t->spec->server_alive_interval_ms % 1000 == 0;
}

static void
tunnel_alive_arm(struct tunnel *t)
{
	long	 ms = t->spec->server_alive_interval_ms;

	if (tunnel_alive_on_wheel(t)) {
		t->owner->alive_schedule(t->daemon, &t->alive, ms / 1000);
		return;
	}
	t->ops->timer_start(t, TT_ALIVE, ms / 1000.0, ms / 1000.0);
}

/*
 * Forwards are probed every this many keepalive rounds: ForwardProbeInterval
 * rounded up to whole rounds, at least one (tunsupd.conf(5)).
 */
static long
tunnel_probe_rounds(const struct tunnel *t)
{
	long	 ka = t->spec->server_alive_interval_ms;
	long	 pi = t->spec->forward_probe_interval_ms;

	if (ka <= 0 || pi <= ka)
		return 1;
	return (pi + ka - 1) / ka;
}

/* One keepalive round (tunsupd.conf(5) ServerAliveInterval), when due. */
static void
tunnel_alive_round(void *arg)
{
	struct tunnel	*t = arg;
	uint64_t	 in;
	char		*why;
	size_t		 i;

	if (t->conn == NULL)
		return;
	if (tunnel_alive_on_wheel(t))
		tunnel_alive_arm(t);	/* a timer of its own repeats */
	/* Any packet from the server counts as an answer, as in OpenSSH. */
	in = t->ops->conn_in_packets(t->conn);
	if (in != t->alive_last_in) {
		t->alive_last_in = in;
		t->alive_missed = 0;
		t->last_ok = t->ops->wall();
	} else if (++t->alive_missed >= t->spec->server_alive_count_max) {
		xasprintf(&why, "no answer from the server for %.0f s "
		    "(ServerAliveInterval %.0f s x ServerAliveCountMax %d)",
		    t->alive_missed * t->spec->server_alive_interval_ms /
		    1000.0, t->spec->server_alive_interval_ms / 1000.0,
		    t->spec->server_alive_count_max);
		tunnel_fail(t, TF_NETWORK, why);
		free(why);
		return;
	}
	if (!t->ops->conn_keepalive_pending(t->conn))
		t->ops->conn_keepalive(t->conn, tunnel_keepalive_cb, t);
	if (t->spec->forward_probe && t->probe_wait-- <= 0) {
		t->probe_wait = tunnel_probe_rounds(t) - 1;
		for (i = 0; i < t->nforwards; i++)
			t->ops->fwd_probe(t->forwards[i]);
	}
}

/* ---- checks ---------------------------------------------------------- */

static double
tunnel_check_deadline(const struct tunnel *t)
{
	double	 ct = t->spec->connect_timeout_ms / 1000.0;

	return ct > 0 && ct < CHECK_DEADLINE ? ct : CHECK_DEADLINE;
}

/*
 * Check the session now (tunsupd(8), NETWORK CHANGES). As for a keepalive
 * round any packet from the server counts as the answer; a check under way
 * keeps its deadline. A tunnel in backoff does not wait for its retry: a
 * network change is the moment to try again. An attempt under way is left
 * to ConnectTimeout.
 */
enum tunnel_check
tunnel_check_now(struct tunnel *t, const char *why)
{
	if (t->state == TS_BACKOFF) {
		tunnel_fire(t, TE_RETRY, why);
		return TCHECK_RETRY;
	}
	if (t->conn == NULL || (t->state != TS_FORWARDING &&
	    t->state != TS_UP && t->state != TS_DEGRADED))
		return TCHECK_NONE;
	if (t->ops->timer_active(t, TT_CHECK))
		return TCHECK_SESSION;
	free(t->check_why);
	t->check_why = xstrdup(why);
	t->check_in = t->ops->conn_in_packets(t->conn);
	if (!t->ops->conn_keepalive_pending(t->conn))
		t->ops->conn_keepalive(t->conn, tunnel_keepalive_cb, t);
	tlog_debug(t, "checking the session (%s)", why);
	t->ops->timer_start(t, TT_CHECK, tunnel_check_deadline(t), 0.);
	return TCHECK_SESSION;
}

/* The check's deadline: lost without a packet since, and retried at once. */
static void
tunnel_check_fired(struct tunnel *t)
{
	char	*why;

	if (t->conn == NULL)
		return;
	if (t->ops->conn_in_packets(t->conn) != t->check_in) {
		t->last_ok = t->ops->wall();
		tlog_debug(t, "the session answered the check (%s)",
		    t->check_why);
		return;
	}
	xasprintf(&why, "no answer from the server within %.1f s of a check "
	    "(%s)", tunnel_check_deadline(t), t->check_why);
	tunnel_fail(t, TF_NETWORK, why);
	free(why);
	if (t->state == TS_BACKOFF)
		tunnel_fire(t, TE_RETRY, "reconnecting at once after a check");
}

/* ---- status ---------------------------------------------------------- */

json_t *
tunnel_status(struct tunnel *t)
{
	const struct jump_hop	*j;
	json_t			*o, *fwds, *ka, *jumps = NULL;
	char			*hop, *server;
	size_t			 i;
	double			 next = -1;

	fwds = json_array();
	for (i = 0; i < t->nforwards; i++)
		json_array_append_new(fwds, t->ops->fwd_status(t->forwards[i]));
	if (t->state == TS_BACKOFF && t->retry_at > 0) {
		next = t->retry_at - t->ops->wall();
		if (next < 0)
			next = 0;
	}
	ka = json_pack("{s:f, s:i, s:o, s:o}",
	    "interval_s", t->spec->server_alive_interval_ms / 1000.0,
	    "count_max", t->spec->server_alive_count_max,
	    "rtt_ms", t->rtt_ms >= 0 ? json_real(t->rtt_ms) : json_null(),
	    "last_ok", t->last_ok > 0 ? json_real(t->last_ok) : json_null());
	if (t->spec->njumps > 0) {
		jumps = json_array();
		for (i = 0; i < t->spec->njumps; i++) {
			j = &t->spec->jumps[i];
			xasprintf(&hop, "%s@%s:%d", j->user != NULL ? j->user :
			    local_user(), j->host, j->port);
			json_array_append_new(jumps, json_text(hop));
			free(hop);
		}
	}
	/* "o" steals each reference. */
	o = json_pack("{s:s, s:s, s:f, s:o, s:i, s:o, s:I, s:I, s:o, s:o, "
	    "s:o, s:o}",
	    "name", t->spec->name,
	    "state", tunnel_state_name(t->state),
	    "state_since", t->state_since,
	    "host", json_text(t->spec->hostname),
	    "port", t->spec->port,
	    "user", json_text(t->spec->user != NULL ? t->spec->user : ""),
	    "connects", (json_int_t)t->connects,
	    "failures", (json_int_t)t->failures,
	    "last_error", t->last_error != NULL ? json_text(t->last_error) :
	    json_null(),
	    "next_retry_s", next >= 0 ? json_real(next) : json_null(),
	    "keepalive", ka,
	    "forwards", fwds);
	/* Since when not up (null while up): for monitoring grace periods. */
	json_object_set_new(o, "down_since", t->state != TS_UP &&
	    t->down_since > 0 ? json_real(t->down_since) : json_null());
	if (jumps != NULL)
		json_object_set_new(o, "jumps", jumps);	/* steals */
	/* The session's server (or the attempt's): 0 the primary. */
	server = tunnel_server_str(t, t->server);
	json_object_set_new(o, "server", json_text(server));	/* steals */
	json_object_set_new(o, "fallback", json_integer((json_int_t)t->server));
	free(server);
	return o;
}
