/*
 * tunnel.c: one named tunnel and its state machine (SPEC 4, 5).
 *
 *   stopped -> connecting -> forwarding -> up <-> degraded
 *                 ^                         |
 *                 +------- backoff <--------+ (any failure)
 *
 * Every transition goes through tunnel_set_state(), which logs
 * "from -> to (reason)", emits the control event and arms the timers of the
 * new state. It never gives up: failures lead to backoff, never to exit.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "daemon.h"
#include "forward.h"
#include "log.h"
#include "sshconn.h"
#include "tunnel.h"
#include "util.h"

/* A session up this long resets the backoff (SPEC 5). */
#define STABLE_AFTER	60.0
/* Start-up spread so a fleet does not connect in one burst. */
#define START_JITTER	0.5

static const char *const tunnel_state_names[] = {
	"stopped", "connecting", "forwarding", "up", "degraded", "backoff",
};

static void	tunnel_connect(struct tunnel *);
static void	tunnel_teardown(struct tunnel *);
static void	tunnel_eval(struct tunnel *, const char *);
static void	tunnel_retry_cb(struct ev_loop *, ev_timer *, int);
static void	tunnel_stable_cb(struct ev_loop *, ev_timer *, int);
static void	tunnel_alive_cb(struct ev_loop *, ev_timer *, int);
static void	tunnel_alive_arm(struct tunnel *);
static void	tunnel_fwd_retry_cb(struct ev_loop *, ev_timer *, int);

const char *
tunnel_state_name(enum tunnel_state s)
{
	return tunnel_state_names[s];
}

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

static void
tunnel_forwards_new(struct tunnel *t)
{
	size_t	 i;

	t->nforwards = t->spec->nforwards;
	t->forwards = xcalloc(t->nforwards ? t->nforwards : 1,
	    sizeof(*t->forwards));
	for (i = 0; i < t->nforwards; i++)
		t->forwards[i] = forward_new(t, &t->spec->forwards[i],
		    t->daemon->fdlimit);
}

static void
tunnel_forwards_free(struct tunnel *t)
{
	size_t	 i;

	for (i = 0; i < t->nforwards; i++)
		forward_free(t->forwards[i]);
	free(t->forwards);
	t->forwards = NULL;
	t->nforwards = 0;
}

struct tunnel *
tunnel_new(struct daemon *d, struct tunnel_spec *spec)
{
	struct tunnel	*t;

	t = xcalloc(1, sizeof(*t));
	t->daemon = d;
	t->spec = spec;
	t->state = TS_STOPPED;
	t->state_since = now_wall();
	t->rtt_ms = -1;
	ev_timer_init(&t->retry_timer, tunnel_retry_cb, 0., 0.);
	ev_timer_init(&t->stable_timer, tunnel_stable_cb, STABLE_AFTER, 0.);
	ev_timer_init(&t->alive_timer, tunnel_alive_cb, 0., 0.);
	ev_timer_init(&t->fwd_retry_timer, tunnel_fwd_retry_cb, 0., 0.);
	t->retry_timer.data = t->stable_timer.data = t;
	t->alive_timer.data = t->fwd_retry_timer.data = t;
	tunnel_forwards_new(t);
	return t;
}

void
tunnel_free(struct tunnel *t)
{
	if (t == NULL)
		return;
	tunnel_teardown(t);
	ev_timer_stop(t->daemon->loop, &t->retry_timer);
	tunnel_forwards_free(t);
	free(t->last_error);
	tunnel_spec_free(t->spec);
	free(t);
}

/* ---- the one place states change ------------------------------------ */

static void
tunnel_set_state(struct tunnel *t, enum tunnel_state st, const char *reason)
{
	enum tunnel_state	 from = t->state;
	json_t			*ev;

	if (from == st)
		return;
	t->state = st;
	t->state_since = now_wall();
	if (st == TS_UP)
		t->down_since = 0;
	else if (from == TS_UP || t->down_since == 0)
		t->down_since = t->state_since;
	if (st == TS_BACKOFF || st == TS_STOPPED)
		tlog_info(t, "%s -> %s (%s)", tunnel_state_name(from),
		    tunnel_state_name(st), reason != NULL ? reason : "");
	else
		tlog_info(t, "%s -> %s%s%s%s", tunnel_state_name(from),
		    tunnel_state_name(st), reason != NULL ? " (" : "",
		    reason != NULL ? reason : "", reason != NULL ? ")" : "");

	/* Timers that belong to the session's states. */
	if (st == TS_UP || st == TS_DEGRADED) {
		if (!ev_is_active(&t->stable_timer) && t->up_since == 0) {
			t->up_since = now_mono();
			ev_timer_set(&t->stable_timer, STABLE_AFTER, 0.);
			ev_timer_start(t->daemon->loop, &t->stable_timer);
		}
	}
	if (st != TS_BACKOFF)
		t->retry_at = 0;

	/* "o" steals; json_text() takes any bytes a server or a file gave. */
	ev = json_pack("{s:s, s:s, s:s, s:s, s:o, s:f}", "event", "state",
	    "tunnel", t->spec->name, "from", tunnel_state_name(from),
	    "to", tunnel_state_name(st),
	    "reason", reason != NULL ? json_text(reason) : json_null(),
	    "ts", t->state_since);
	if (ev != NULL)
		daemon_emit(t->daemon, ev);	/* steals ev */
	daemon_tunnels_changed(t->daemon);
}

static void
tunnel_set_error(struct tunnel *t, const char *err)
{
	free(t->last_error);
	t->last_error = err != NULL ? xstrdup(err) : NULL;
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
	struct tunnel	*t = arg;
	size_t		 i;

	daemon_handshake_release(t->daemon, t);
	t->connects++;
	t->fwd_attempt = 0;
	t->alive_last_in = sshconn_in_packets(t->conn);
	t->alive_missed = 0;
	t->last_ok = now_wall();
	tlog_info(t, "session to %s@%s:%d established", t->spec->user,
	    t->spec->hostname, t->spec->port);
	tunnel_set_state(t, TS_FORWARDING, "authenticated");
	if (t->spec->server_alive_interval_ms > 0) {
		tunnel_alive_arm(t);
	}
	for (i = 0; i < t->nforwards && t->conn != NULL; i++)
		forward_session_up(t->forwards[i]);
	if (t->conn != NULL)
		tunnel_eval(t, NULL);
}

static void
tunnel_fail(struct tunnel *t, enum tunnel_fail kind, const char *reason)
{
	long	 delay, cap;
	char	*why;

	/* reason may belong to what the teardown frees (a forward's error). */
	why = xstrdup(reason);
	tunnel_teardown(t);
	t->failures++;
	t->fail_kind = kind;
	tunnel_set_error(t, why);
	tlog_warn(t, "%s", why);
	if (!t->wanted) {
		tunnel_set_state(t, TS_STOPPED, why);
		free(why);
		return;
	}
	t->attempt++;
	switch (kind) {
	case TF_NETWORK:
		cap = t->spec->retry_network_max_ms;
		delay = tunnel_backoff_ms(t->spec->retry_min_ms, cap,
		    t->attempt, rand_unit());
		break;
	case TF_AUTH:
		/* Retrying will not help soon: no hammering. */
		delay = t->spec->retry_max_ms -
		    (long)(rand_unit() * t->spec->retry_max_ms * 0.1);
		break;
	case TF_SESSION:
	default:
		cap = t->spec->retry_max_ms;
		delay = tunnel_backoff_ms(t->spec->retry_min_ms, cap,
		    t->attempt, rand_unit());
		break;
	}
	t->retry_at = now_wall() + delay / 1000.0;
	ev_timer_set(&t->retry_timer, delay / 1000.0, 0.);
	ev_timer_start(t->daemon->loop, &t->retry_timer);
	tunnel_set_state(t, TS_BACKOFF, why);
	free(why);
}

static void
tunnel_conn_dead(void *arg, enum tunnel_fail kind, const char *why)
{
	tunnel_fail(arg, kind, why);
}

static void
tunnel_conn_forwarded(void *arg, const char *addr, int port,
    struct sshconn_fwdmsg *m)
{
	struct tunnel	*t = arg;
	size_t		 i;

	for (i = 0; i < t->nforwards; i++) {
		if (forward_matches(t->forwards[i], addr, port)) {
			forward_incoming(t->forwards[i], m);
			return;
		}
	}
	tlog_warn(t, "server opened a channel for %s:%d, which no forward "
	    "of ours listens on: refused", addr, port);
}

static const struct sshconn_cbs tunnel_conn_cbs = {
	.ready = tunnel_conn_ready,
	.dead = tunnel_conn_dead,
	.forwarded = tunnel_conn_forwarded,
	.phase = tunnel_conn_phase,
};

/* ---- connect, teardown ----------------------------------------------- */

static void
tunnel_connect(struct tunnel *t)
{
	ev_timer_stop(t->daemon->loop, &t->retry_timer);
	if (t->conn != NULL)
		return;
	if (!daemon_handshake_acquire(t->daemon, t)) {
		tunnel_set_state(t, TS_CONNECTING,
		    "waiting for a handshake slot");
		return;
	}
	tunnel_set_state(t, TS_CONNECTING, NULL);
	t->conn = sshconn_new(t->daemon->loop, t->daemon->resolver, t->spec,
	    &tunnel_conn_cbs, t);
}

void
tunnel_slot_granted(struct tunnel *t)
{
	if (t->wanted && t->conn == NULL && t->state == TS_CONNECTING) {
		t->conn = sshconn_new(t->daemon->loop, t->daemon->resolver,
		    t->spec, &tunnel_conn_cbs, t);
	} else
		daemon_handshake_release(t->daemon, t);
}

/* Close the session and everything that rides on it. */
static void
tunnel_teardown(struct tunnel *t)
{
	struct ev_loop	*loop = t->daemon->loop;
	size_t		 i;

	ev_timer_stop(loop, &t->alive_timer);
	daemon_alive_forget(t->daemon, t);
	ev_timer_stop(loop, &t->fwd_retry_timer);
	if (ev_is_active(&t->stable_timer))
		ev_timer_stop(loop, &t->stable_timer);
	t->up_since = 0;
	for (i = 0; i < t->nforwards; i++)
		forward_session_down(t->forwards[i]);
	daemon_handshake_release(t->daemon, t);
	if (t->conn != NULL) {
		sshconn_free(t->conn);
		t->conn = NULL;
	}
}

static void
tunnel_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tunnel	*t = w->data;

	if (t->wanted)
		tunnel_connect(t);
}

static void
tunnel_stable_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tunnel	*t = w->data;

	/* Up for a minute: the next failure starts from RetryMin again. */
	t->attempt = 0;
}

/* ---- commands -------------------------------------------------------- */

void
tunnel_start(struct tunnel *t)
{
	double	 jitter;

	if (t->wanted && t->state != TS_STOPPED)
		return;
	t->wanted = 1;
	t->attempt = 0;
	if (t->daemon->started + 5 > now_wall() && daemon_tunnel_count(
	    t->daemon) > 1) {
		/* Daemon start-up: spread the fleet's first attempts. */
		jitter = rand_unit() * START_JITTER;
		t->retry_at = now_wall() + jitter;
		ev_timer_set(&t->retry_timer, jitter, 0.);
		ev_timer_start(t->daemon->loop, &t->retry_timer);
		tunnel_set_state(t, TS_CONNECTING, "starting");
		return;
	}
	tunnel_connect(t);
}

void
tunnel_stop(struct tunnel *t, const char *reason)
{
	t->wanted = 0;
	tunnel_teardown(t);
	ev_timer_stop(t->daemon->loop, &t->retry_timer);
	tunnel_set_state(t, TS_STOPPED, reason != NULL ? reason : "stopped");
}

void
tunnel_restart(struct tunnel *t, const char *reason)
{
	tunnel_teardown(t);
	ev_timer_stop(t->daemon->loop, &t->retry_timer);
	t->wanted = 1;
	t->attempt = 0;
	if (t->state != TS_STOPPED)
		tunnel_set_state(t, TS_BACKOFF, reason != NULL ? reason :
		    "restart");
	tunnel_connect(t);
}

void
tunnel_replace_spec(struct tunnel *t, struct tunnel_spec *spec)
{
	int	 was_wanted = t->wanted;

	tunnel_teardown(t);
	tunnel_forwards_free(t);
	tunnel_spec_free(t->spec);
	t->spec = spec;
	tunnel_forwards_new(t);
	if (!spec->enabled) {
		tunnel_stop(t, "disabled by reload");
		return;
	}
	if (was_wanted || t->state == TS_STOPPED)
		tunnel_restart(t, "configuration changed");
}

/* ---- forwards and liveness ------------------------------------------ */

/* Derive up / forwarding / degraded from the forwards. */
static void
tunnel_eval(struct tunnel *t, const char *why)
{
	struct forward	*f;
	size_t		 i, up = 0, bad = 0;
	long		 delay;
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
	if (bad > 0 && t->spec->exit_on_forward_failure) {
		tunnel_fail(t, TF_SESSION, err);
		return;
	}
	if (up == t->nforwards) {
		ev_timer_stop(t->daemon->loop, &t->fwd_retry_timer);
		tunnel_set_error(t, NULL);
		tunnel_set_state(t, TS_UP, why != NULL ? why :
		    "all forwards established");
	}
	else if (bad > 0) {
		/* Not up: say why, as for every other state that is not up. */
		tunnel_set_error(t, err);
		tunnel_set_state(t, TS_DEGRADED, err);
		if (!ev_is_active(&t->fwd_retry_timer)) {
			t->fwd_attempt++;
			delay = tunnel_backoff_ms(t->spec->retry_min_ms,
			    t->spec->retry_max_ms, t->fwd_attempt,
			    rand_unit());
			ev_timer_set(&t->fwd_retry_timer, delay / 1000.0, 0.);
			ev_timer_start(t->daemon->loop, &t->fwd_retry_timer);
		}
	}
}

void
tunnel_forward_changed(struct tunnel *t, struct forward *f, int changed)
{
	json_t	*ev;

	if (!changed) {
		tunnel_eval(t, NULL);
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
	    "ts", now_wall());
	if (ev != NULL)
		daemon_emit(t->daemon, ev);	/* steals ev */
	tunnel_eval(t, NULL);
}

static void
tunnel_fwd_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tunnel	*t = w->data;
	size_t		 i;

	for (i = 0; i < t->nforwards && t->conn != NULL; i++)
		forward_retry(t->forwards[i]);
}

static void
tunnel_keepalive_cb(void *arg, int result, int bound, double rtt_ms)
{
	struct tunnel	*t = arg;

	if (result == -2)
		return;
	t->rtt_ms = rtt_ms;
	t->last_ok = now_wall();
}

/*
 * Keepalive rounds: whole-second intervals go on the daemon's shared wheel
 * (rounds of many tunnels then share one wake-up; the first round comes up to
 * 1 s early, the interval between rounds stays exact); any other interval
 * keeps a timer of its own.
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
		daemon_alive_schedule(t->daemon, t, ms / 1000);
		return;
	}
	ev_timer_set(&t->alive_timer, ms / 1000.0, ms / 1000.0);
	ev_timer_start(t->daemon->loop, &t->alive_timer);
}

static void
tunnel_alive_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tunnel	*t = w->data;

	daemon_alive_due(t->daemon, t);
}

void
tunnel_alive_round(struct tunnel *t)
{
	uint64_t	 in;
	char		*why;
	size_t		 i;

	if (t->conn == NULL)
		return;
	if (tunnel_alive_on_wheel(t))
		tunnel_alive_arm(t);	/* a timer of its own repeats */
	/* Any packet from the server counts as an answer, as in OpenSSH. */
	in = sshconn_in_packets(t->conn);
	if (in != t->alive_last_in) {
		t->alive_last_in = in;
		t->alive_missed = 0;
		t->last_ok = now_wall();
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
	if (!sshconn_keepalive_pending(t->conn))
		sshconn_keepalive(t->conn, tunnel_keepalive_cb, t);
	if (t->spec->forward_probe) {
		for (i = 0; i < t->nforwards; i++)
			forward_probe(t->forwards[i]);
	}
}

/* ---- status ---------------------------------------------------------- */

json_t *
tunnel_status(struct tunnel *t)
{
	const struct jump_hop	*j;
	json_t			*o, *fwds, *ka, *jumps = NULL;
	char			*hop;
	size_t			 i;
	double			 next = -1;

	fwds = json_array();
	for (i = 0; i < t->nforwards; i++)
		json_array_append_new(fwds, forward_status(t->forwards[i]));
	if (t->state == TS_BACKOFF && t->retry_at > 0) {
		next = t->retry_at - now_wall();
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
			    t->spec->user, j->host, j->port);
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
	return o;
}
