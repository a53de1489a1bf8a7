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
 * Unit tests of the tunnel state machine (tunnel.c) with a fake session,
 * fake forwards, a fake clock and fake timers: every row of the state table,
 * the backoff of each kind of failure, the stable-timer reset, keepalive
 * rounds, the handshake limiter and the start-up spread. Nothing here opens
 * a socket: tests/integration/unit_offline.sh runs it inside `unshare -n`.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cfg.h"
#include "daemon.h"
#include "forward.h"
#include "log.h"
#include "sshconn.h"
#include "tunnel.h"
#include "util.h"
#include "unit.h"

#define MAXT	4

/* ---- the fake clock and timers ---------------------------------------- */

#define WALL0	1.7e9		/* the fake wall clock at mono 0 */

static double	 fake_now;	/* monotonic seconds */
static double	 fake_unit;	/* what rand_unit() would have drawn */

struct fake_timer {
	int	 active;
	double	 due;
	double	 repeat;
	double	 after;		/* as last started */
	int	 starts;
};

struct fake_tunnel {
	struct tunnel		*t;
	struct fake_timer	 timers[TT_COUNT];
};
static struct fake_tunnel	 ft[MAXT];

static double fake_wall(void) { return WALL0 + fake_now; }
static double fake_mono(void) { return fake_now; }
static double fake_rand(void) { return fake_unit; }

static struct fake_timer *
timer_of(struct tunnel *t, enum tunnel_timer which)
{
	int	 i;

	for (i = 0; i < MAXT; i++) {
		if (ft[i].t == t)
			return &ft[i].timers[which];
	}
	cr_assert_fail("a timer of an unknown tunnel");
	return NULL;
}

static void
fake_timer_start(struct tunnel *t, enum tunnel_timer which, double after,
    double repeat)
{
	struct fake_timer	*tm = timer_of(t, which);

	tm->active = 1;
	tm->after = after;
	tm->due = fake_now + after;
	tm->repeat = repeat;
	tm->starts++;
}

static void
fake_timer_stop(struct tunnel *t, enum tunnel_timer which)
{
	timer_of(t, which)->active = 0;
}

static int
fake_timer_active(struct tunnel *t, enum tunnel_timer which)
{
	return timer_of(t, which)->active;
}

/* ---- the fake session ------------------------------------------------- */

struct fake_conn {
	struct tunnel			*t;
	const struct sshconn_cbs	*cbs;
	size_t				 server;	/* 0 primary, n fallback */
	uint64_t			 in;		/* packets "received" */
	int				 ka_pending;
	int				 keepalives;	/* sent */
	void				(*ka_cb)(void *, int, int, double);
	void				*ka_arg;
};

static int	 conns_opened, conns_freed;

static struct sshconn *
fake_conn_new(struct tunnel *t, size_t server,
    const struct sshconn_cbs *cbs)
{
	struct fake_conn	*c = xcalloc(1, sizeof(*c));

	c->t = t;
	c->cbs = cbs;
	c->server = server;
	conns_opened++;
	return (struct sshconn *)c;
}

static void
fake_conn_set_cbs(struct sshconn *sc, const struct sshconn_cbs *cbs,
    void *arg)
{
	((struct fake_conn *)sc)->cbs = cbs;
}

static void
fake_conn_free(struct sshconn *sc)
{
	conns_freed++;
	free(sc);
}

static uint64_t
fake_conn_in_packets(struct sshconn *sc)
{
	return ((struct fake_conn *)sc)->in;
}

static void
fake_conn_keepalive(struct sshconn *sc, void (*cb)(void *, int, int, double),
    void *arg)
{
	struct fake_conn	*c = (struct fake_conn *)sc;

	c->ka_pending = 1;
	c->keepalives++;
	c->ka_cb = cb;
	c->ka_arg = arg;
}

static int
fake_conn_keepalive_pending(struct sshconn *sc)
{
	return ((struct fake_conn *)sc)->ka_pending;
}

static struct fake_conn *
conn(struct tunnel *t)
{
	cr_assert_not_null(t->conn, "%s has no session", t->spec->name);
	return (struct fake_conn *)t->conn;
}

/* What the session reports, as sshconn.c would. */
static void
session_ready(struct tunnel *t)
{
	struct fake_conn	*c = conn(t);

	c->cbs->ready(t);
}

static void
session_dead(struct tunnel *t, enum sshconn_fail kind, const char *why)
{
	struct fake_conn	*c = conn(t);

	c->cbs->dead(t, kind, why);
}

/* ---- the fake forwards ------------------------------------------------ */

enum fwd_answer {
	FA_WAIT = 0,	/* no answer yet */
	FA_UP,		/* established at once */
	FA_REFUSE,	/* refused by the server at once */
};

struct fake_fwd {
	struct forward	 f;		/* first: the tunnel sees this */
	int		 ups, downs, moves, retries, probes, incoming;
};

static int	 fwds_cancelled;	/* fwd_cancel calls */

static enum fwd_answer	 fwd_answer;	/* for every session_up and retry */

static struct forward *
fake_fwd_new(struct tunnel *t, const struct fwd_spec *fs)
{
	struct fake_fwd	*ff = xcalloc(1, sizeof(*ff));

	ff->f.env = t->fwd_env;
	ff->f.spec = fs;
	ff->f.state = FWD_PENDING;
	return &ff->f;
}

static void
fake_fwd_free(struct forward *f)
{
	free(f->error);
	free(f);
}

/* As forward.c's forward_set: change, then tell the tunnel. */
static void
fwd_set(struct forward *f, enum forward_state st, const char *err)
{
	int	 changed;

	changed = f->state != st || (err == NULL) != (f->error == NULL) ||
	    (err != NULL && strcmp(err, f->error) != 0);
	f->state = st;
	free(f->error);
	f->error = err != NULL ? xstrdup(err) : NULL;
	f->env->notice(f->env->arg, f, changed ? FWD_NOTICE_CHANGED :
	    FWD_NOTICE_SAME);
}

static void
fake_fwd_answer(struct forward *f)
{
	if (fwd_answer == FA_UP)
		fwd_set(f, FWD_UP, NULL);
	else if (fwd_answer == FA_REFUSE)
		fwd_set(f, FWD_PENDING, "server refused to listen");
}

static void
fake_fwd_session_up(struct forward *f)
{
	((struct fake_fwd *)f)->ups++;
	fake_fwd_answer(f);
}

static void
fake_fwd_session_down(struct forward *f)
{
	((struct fake_fwd *)f)->downs++;
	f->state = FWD_PENDING;
	free(f->error);
	f->error = NULL;
}

/* A listener here stays (fake forwards stand for local ones). */
static void
fake_fwd_session_moved(struct forward *f)
{
	((struct fake_fwd *)f)->moves++;
}

static void
fake_fwd_cancel(struct forward *f)
{
	fwds_cancelled++;
	fake_fwd_session_down(f);
}

static void
fake_fwd_retry(struct forward *f)
{
	((struct fake_fwd *)f)->retries++;
	if (f->state != FWD_UP)
		fake_fwd_answer(f);
}

static void
fake_fwd_probe(struct forward *f)
{
	((struct fake_fwd *)f)->probes++;
}

static int
fake_fwd_matches(struct forward *f, const char *addr, int port)
{
	return f->spec->listen.port == port;
}

static void
fake_fwd_incoming(struct forward *f, struct sshconn_fwdmsg *m)
{
	((struct fake_fwd *)f)->incoming++;
}

static json_t *
fake_fwd_status(struct forward *f)
{
	return json_pack("{s:s}", "state", forward_state_name(f->state));
}

static struct fake_fwd *
fwd(struct tunnel *t, size_t i)
{
	cr_assert(i < t->nforwards);
	return (struct fake_fwd *)t->forwards[i];
}

static const struct tunnel_ops fake_ops = {
	.conn_new = fake_conn_new,
	.conn_set_cbs = fake_conn_set_cbs,
	.conn_free = fake_conn_free,
	.conn_in_packets = fake_conn_in_packets,
	.conn_keepalive = fake_conn_keepalive,
	.conn_keepalive_pending = fake_conn_keepalive_pending,
	.fwd_new = fake_fwd_new,
	.fwd_free = fake_fwd_free,
	.fwd_session_up = fake_fwd_session_up,
	.fwd_session_down = fake_fwd_session_down,
	.fwd_cancel = fake_fwd_cancel,
	.fwd_session_moved = fake_fwd_session_moved,
	.fwd_retry = fake_fwd_retry,
	.fwd_probe = fake_fwd_probe,
	.fwd_matches = fake_fwd_matches,
	.fwd_incoming = fake_fwd_incoming,
	.fwd_status = fake_fwd_status,
	.wall = fake_wall,
	.mono = fake_mono,
	.unit = fake_rand,
	.timer_start = fake_timer_start,
	.timer_stop = fake_timer_stop,
	.timer_active = fake_timer_active,
};

/* ---- the fake owner: events, the real limiter, a fake wheel ------------ */

/*
 * The handshake limiter is the daemon's own (it touches only these fields
 * of the daemon); the keepalive wheel is a list of rounds on the fake clock.
 */
static struct daemon	 fake_daemon;
static json_t		*events;	/* every event emitted, in order */
static int		 changes;
static double		 start_delay_s;
static struct alive_round *rounds[MAXT];

static void
fake_emit(struct daemon *d, json_t *ev)
{
	json_array_append_new(events, ev);	/* steals ev */
}

static void
fake_changed(struct daemon *d)
{
	changes++;
}

static void
fake_round_add(struct alive_round *r)
{
	int	 i;

	for (i = 0; i < MAXT; i++) {
		if (rounds[i] == r)
			return;
	}
	for (i = 0; i < MAXT; i++) {
		if (rounds[i] == NULL) {
			rounds[i] = r;
			return;
		}
	}
	cr_assert_fail("too many keepalive rounds");
}

static void
fake_alive_schedule(struct daemon *d, struct alive_round *r, long seconds)
{
	fake_round_add(r);
	r->where = ALIVE_WHEEL;
	r->at = (long)floor(fake_now) + (seconds > 0 ? seconds : 1);
}

static void
fake_alive_due(struct daemon *d, struct alive_round *r)
{
	fake_round_add(r);
	r->where = ALIVE_DUE;
}

static void
fake_alive_forget(struct daemon *d, struct alive_round *r)
{
	r->where = ALIVE_OFF;
}

static double
fake_start_delay(struct daemon *d)
{
	return start_delay_s;
}

static const struct tunnel_owner fake_owner = {
	.emit = fake_emit,
	.changed = fake_changed,
	.slot_acquire = daemon_handshake_acquire,
	.slot_release = daemon_handshake_release,
	.alive_schedule = fake_alive_schedule,
	.alive_due = fake_alive_due,
	.alive_forget = fake_alive_forget,
	.start_delay = fake_start_delay,
};

/*
 * Let dt seconds pass: timers expire in the order of their deadlines, rounds
 * due are served at once (the daemon serves them in the next loop turn).
 */
static void
advance(double dt)
{
	struct fake_timer	*tm;
	struct alive_round	*r;
	double			 end = fake_now + dt, best;
	int			 i, w, bt = -1, bw = -1, br = -1;

	for (;;) {
		for (i = 0; i < MAXT; i++) {
			r = rounds[i];
			if (r != NULL && r->where == ALIVE_DUE) {
				r->where = ALIVE_OFF;
				r->due(r->arg);
				i = -1;		/* rescan: it may schedule */
			}
		}
		best = end + 1;
		br = -1;
		bt = -1;
		for (i = 0; i < MAXT; i++) {
			if (ft[i].t == NULL)
				continue;
			for (w = 0; w < TT_COUNT; w++) {
				tm = &ft[i].timers[w];
				if (tm->active && tm->due <= end &&
				    tm->due < best) {
					best = tm->due;
					bt = i;
					bw = w;
				}
			}
		}
		for (i = 0; i < MAXT; i++) {
			r = rounds[i];
			if (r != NULL && r->where == ALIVE_WHEEL &&
			    (double)r->at <= end && (double)r->at < best) {
				best = (double)r->at;
				br = i;
			}
		}
		if (bt == -1 && br == -1)
			break;
		if (best > fake_now)
			fake_now = best;
		if (br != -1) {
			rounds[br]->where = ALIVE_DUE;
			continue;
		}
		tm = &ft[bt].timers[bw];
		if (tm->repeat > 0)
			tm->due += tm->repeat;
		else
			tm->active = 0;
		tunnel_timer_fired(ft[bt].t, bw);
	}
	fake_now = end;
}

/* ---- logs --------------------------------------------------------------- */

static char	 logbuf[32768];
static int	 bugs;		/* transitions the table refused */

static void
capture(enum log_level level, const char *msg, void *arg)
{
	if (strstr(msg, "bug: no transition") != NULL)
		bugs++;
	if (strlen(logbuf) + strlen(msg) + 2 < sizeof(logbuf)) {
		strcat(logbuf, msg);
		strcat(logbuf, "\n");
	}
}

/* ---- fixture ------------------------------------------------------------ */

static void
setup(void)
{
	memset(ft, 0, sizeof(ft));
	memset(rounds, 0, sizeof(rounds));
	memset(&fake_daemon, 0, sizeof(fake_daemon));
	TAILQ_INIT(&fake_daemon.handshake_wait);
	fake_daemon.handshakes_max = 8;
	fake_now = 1000;
	fake_unit = 0.5;
	start_delay_s = 0;
	fwd_answer = FA_UP;
	conns_opened = conns_freed = 0;
	fwds_cancelled = 0;
	changes = 0;
	events = json_array();
	logbuf[0] = '\0';
	bugs = 0;
	log_register(capture, NULL);
}

static void
teardown(void)
{
	int	 i, expect_bugs = bugs;

	for (i = 0; i < MAXT; i++) {
		if (ft[i].t != NULL)
			tunnel_free(ft[i].t);
		ft[i].t = NULL;
	}
	cr_expect_eq(fake_daemon.handshakes, 0, "slots still held");
	cr_expect(TAILQ_EMPTY(&fake_daemon.handshake_wait));
	cr_expect_eq(conns_opened, conns_freed, "sessions opened %d, freed %d",
	    conns_opened, conns_freed);
	cr_expect_eq(bugs, expect_bugs);
	json_decref(events);
	log_register(NULL, NULL);
}

TestSuite(sm, .init = setup, .fini = teardown);

static struct tunnel_spec *
spec_of(const char *text)
{
	struct tunnel_spec	*spec;
	struct cfg		*c;

	c = unit_cfg("t.conf", text);
	spec = cfg_take_tunnel(c, 0);
	cfg_free(c);
	return spec;
}

#define BASE	"RetryMin 1s\nRetryMax 60s\nRetryNetworkMax 5s\n" \
		"Tunnel a\n HostName h\n User u\n IdentityAgent none\n"

static struct tunnel *
mk(const char *text)
{
	struct tunnel	*t;
	int		 i;

	for (i = 0; i < MAXT && ft[i].t != NULL; i++)
		;
	cr_assert(i < MAXT);
	t = tunnel_new(&fake_daemon, spec_of(text), &fake_ops, &fake_owner);
	ft[i].t = t;
	return t;
}

/* The n-th state event from the end (0: the last), or NULL. */
static json_t *
state_event(int back)
{
	size_t	 i = json_array_size(events);
	json_t	*ev;

	while (i-- > 0) {
		ev = json_array_get(events, i);
		if (strcmp(json_string_value(json_object_get(ev, "event")),
		    "state") != 0)
			continue;
		if (back-- == 0)
			return ev;
	}
	return NULL;
}

static size_t
nstate_events(void)
{
	size_t	 i, n = 0;

	for (i = 0; i < json_array_size(events); i++) {
		if (strcmp(json_string_value(json_object_get(
		    json_array_get(events, i), "event")), "state") == 0)
			n++;
	}
	return n;
}

/* The last state event was from -> to, with this reason (NULL: none). */
static void
assert_moved(const char *from, const char *to, const char *reason)
{
	json_t	*ev = state_event(0), *r;

	cr_assert_not_null(ev, "no state event");
	cr_assert_str_eq(json_string_value(json_object_get(ev, "from")), from);
	cr_assert_str_eq(json_string_value(json_object_get(ev, "to")), to);
	r = json_object_get(ev, "reason");
	if (reason == NULL)
		cr_assert(json_is_null(r), "reason %s",
		    json_string_value(r));
	else
		cr_assert_str_eq(json_string_value(r), reason);
}

static void
assert_state(struct tunnel *t, enum tunnel_state st)
{
	cr_assert_eq(t->state, st, "state %s, expected %s",
	    tunnel_state_name(t->state), tunnel_state_name(st));
}

/* Drive t from stopped into st. */
static void
drive_to(struct tunnel *t, enum tunnel_state st)
{
	tunnel_start(t);
	if (st == TS_CONNECTING)
		return;
	if (st == TS_BACKOFF) {
		session_dead(t, SCF_NETWORK, "connect to h port 22: "
		    "Connection refused");
		return;
	}
	fwd_answer = st == TS_FORWARDING ? FA_WAIT : st == TS_DEGRADED ?
	    FA_REFUSE : FA_UP;
	session_ready(t);
	assert_state(t, st);
}

/* ---- the table ---------------------------------------------------------- */

Test(sm, table_rows)
{
	static const struct {
		enum tunnel_state	 from;
		enum tunnel_event	 ev;
		int			 to;
	} want[] = {
		{ TS_STOPPED, TE_START, TS_CONNECTING },
		{ TS_STOPPED, TE_RESTART, TS_CONNECTING },
		{ TS_STOPPED, TE_STOP, TS_STOPPED },
		{ TS_STOPPED, TE_READY, -1 },
		{ TS_STOPPED, TE_FAIL, -1 },
		{ TS_STOPPED, TE_RETRY, -1 },
		{ TS_CONNECTING, TE_START, -1 },
		{ TS_CONNECTING, TE_RETRY, TS_CONNECTING },
		{ TS_CONNECTING, TE_READY, TS_FORWARDING },
		{ TS_CONNECTING, TE_FAIL, TS_BACKOFF },
		{ TS_CONNECTING, TE_FWD_UP, -1 },
		{ TS_FORWARDING, TE_FWD_UP, TS_UP },
		{ TS_FORWARDING, TE_FWD_REFUSED, TS_DEGRADED },
		{ TS_FORWARDING, TE_READY, -1 },
		{ TS_UP, TE_FWD_UP, -1 },
		{ TS_UP, TE_FWD_REFUSED, TS_DEGRADED },
		{ TS_UP, TE_RETRY, -1 },
		{ TS_DEGRADED, TE_FWD_UP, TS_UP },
		{ TS_DEGRADED, TE_FWD_REFUSED, TS_DEGRADED },
		{ TS_BACKOFF, TE_RETRY, TS_CONNECTING },
		{ TS_BACKOFF, TE_FAIL, -1 },
		{ TS_BACKOFF, TE_READY, -1 },
		{ TS_BACKOFF, TE_FWD_REFUSED, -1 },
	};
	size_t	 i;
	int	 s;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_eq(tunnel_next_state(want[i].from, want[i].ev),
		    want[i].to, "%s in %s", tunnel_event_name(want[i].ev),
		    tunnel_state_name(want[i].from));
	/* Every state can be stopped and restarted. */
	for (s = 0; s < TS_COUNT; s++) {
		cr_expect_eq(tunnel_next_state(s, TE_STOP), TS_STOPPED);
		cr_expect_eq(tunnel_next_state(s, TE_RESTART), TS_CONNECTING);
	}
	/* Only a working session moves back to the primary. */
	for (s = 0; s < TS_COUNT; s++)
		cr_expect_eq(tunnel_next_state(s, TE_SWITCH),
		    s == TS_UP || s == TS_DEGRADED ? TS_FORWARDING : -1);
	/* Every state with a session can fail into backoff. */
	for (s = TS_CONNECTING; s <= TS_DEGRADED; s++)
		cr_expect_eq(tunnel_next_state(s, TE_FAIL), TS_BACKOFF);
}

Test(sm, event_outside_the_table_is_refused_and_logged)
{
	struct tunnel			*t = mk(BASE);
	const struct sshconn_cbs	*cbs;

	drive_to(t, TS_CONNECTING);
	cbs = conn(t)->cbs;
	session_dead(t, SCF_NETWORK, "refused");
	assert_state(t, TS_BACKOFF);
	/* A stale session's "ready" in backoff: not in the table. */
	cbs->ready(t);
	assert_state(t, TS_BACKOFF);
	cr_assert_eq(bugs, 1);
	cr_assert_not_null(strstr(logbuf, "tunnel a: bug: no transition for "
	    "ready in state backoff (authenticated): refused"), "%s", logbuf);
	cr_assert_eq(t->connects, 0);
	bugs = 0;
}

/* ---- connecting ----------------------------------------------------------- */

Test(sm, start_connects_at_once)
{
	struct tunnel	*t = mk(BASE);

	tunnel_start(t);
	assert_state(t, TS_CONNECTING);
	assert_moved("stopped", "connecting", NULL);
	cr_assert_eq(conns_opened, 1);
	cr_assert(t->slot.held);
	cr_assert_eq(fake_daemon.handshakes, 1);
	cr_assert_not_null(strstr(logbuf, "tunnel a: stopped -> connecting\n"),
	    "%s", logbuf);
	/* Already running: start is a no-op. */
	tunnel_start(t);
	cr_assert_eq(conns_opened, 1);
	cr_assert_eq(nstate_events(), 1);
}

Test(sm, connect_ok_without_forwards_is_up)
{
	struct tunnel	*t = mk(BASE);

	tunnel_start(t);
	session_ready(t);
	assert_state(t, TS_UP);
	cr_assert_eq(nstate_events(), 3);
	cr_assert_str_eq(json_string_value(json_object_get(state_event(1),
	    "to")), "forwarding");
	cr_assert_str_eq(json_string_value(json_object_get(state_event(1),
	    "reason")), "authenticated");
	assert_moved("forwarding", "up", "all forwards established");
	cr_assert_eq(t->connects, 1);
	cr_assert_eq(t->down_since, 0);
	/* The slot is free once authenticated. */
	cr_assert(!t->slot.held);
	cr_assert_eq(fake_daemon.handshakes, 0);
	cr_assert_not_null(strstr(logbuf, "session to u@h:22 established"));
}

Test(sm, connect_ok_forwards_pending_then_up)
{
	struct tunnel	*t = mk(BASE " LocalForward 7001 127.0.0.1:9\n"
	    " RemoteForward 7002 127.0.0.1:9\n");

	fwd_answer = FA_WAIT;
	tunnel_start(t);
	session_ready(t);
	assert_state(t, TS_FORWARDING);
	cr_assert_eq(fwd(t, 0)->ups, 1);
	cr_assert_eq(fwd(t, 1)->ups, 1);
	fwd_set(t->forwards[0], FWD_UP, NULL);
	assert_state(t, TS_FORWARDING);
	fwd_set(t->forwards[1], FWD_UP, NULL);
	assert_state(t, TS_UP);
	assert_moved("forwarding", "up", "all forwards established");
}

Test(sm, connect_refused_goes_to_network_backoff)
{
	struct tunnel	*t = mk(BASE);
	json_t		*st;

	tunnel_start(t);
	fake_unit = 0.999;
	session_dead(t, SCF_NETWORK, "connect to h port 22: Connection refused");
	assert_state(t, TS_BACKOFF);
	assert_moved("connecting", "backoff",
	    "connect to h port 22: Connection refused");
	cr_assert_null(t->conn);
	cr_assert_eq(conns_freed, 1);
	cr_assert_eq(t->failures, 1);
	cr_assert_eq(t->attempt, 1);
	cr_assert_eq(t->fail_kind, TF_NETWORK);
	cr_assert_str_eq(t->last_error,
	    "connect to h port 22: Connection refused");
	cr_assert_eq(fake_daemon.handshakes, 0);
	/* attempt 1: between RetryMin and twice it. */
	cr_assert(timer_of(t, TT_RETRY)->active);
	cr_assert(fabs(timer_of(t, TT_RETRY)->after - 1.998) < 0.0011,
	    "after %f", timer_of(t, TT_RETRY)->after);
	st = tunnel_status(t);
	cr_assert(fabs(json_real_value(json_object_get(st, "next_retry_s")) -
	    1.998) < 0.0011);
	cr_assert_str_eq(json_string_value(json_object_get(st, "last_error")),
	    "connect to h port 22: Connection refused");
	cr_assert(json_real_value(json_object_get(st, "down_since")) > 0);
	json_decref(st);
	cr_assert_not_null(strstr(logbuf, "tunnel a: connect to h port 22: "
	    "Connection refused\ntunnel a: connecting -> backoff (connect to "
	    "h port 22: Connection refused)\n"), "%s", logbuf);
}

Test(sm, connect_timeout_is_retried_when_the_wait_is_over)
{
	struct tunnel	*t = mk(BASE);
	double		 after;

	tunnel_start(t);
	session_dead(t, SCF_NETWORK, "timeout connecting to h port 22");
	after = timer_of(t, TT_RETRY)->after;
	advance(after - 0.01);
	assert_state(t, TS_BACKOFF);
	cr_assert_eq(conns_opened, 1);
	advance(0.02);
	assert_state(t, TS_CONNECTING);
	assert_moved("backoff", "connecting", NULL);
	cr_assert_eq(conns_opened, 2);
	cr_assert(!timer_of(t, TT_RETRY)->active);
	/* Since when down: the first failure, not the new attempt. */
	cr_assert(fabs(t->down_since - (WALL0 + 1000)) < 1e-6);
	session_dead(t, SCF_NETWORK, "timeout connecting to h port 22");
	cr_assert_eq(t->failures, 2);
	cr_assert_eq(t->attempt, 2);
}

Test(sm, network_backoff_stops_at_retry_network_max)
{
	struct tunnel	*t = mk(BASE);
	int		 i;

	fake_unit = 0.999999;
	tunnel_start(t);
	for (i = 0; i < 8; i++) {
		session_dead(t, SCF_NETWORK, "refused");
		cr_assert(timer_of(t, TT_RETRY)->after <= 5.0);
		advance(timer_of(t, TT_RETRY)->after);
		assert_state(t, TS_CONNECTING);
	}
	session_dead(t, SCF_NETWORK, "refused");
	cr_assert(timer_of(t, TT_RETRY)->after > 4.99);
}

Test(sm, auth_refused_retries_at_retry_max)
{
	struct tunnel	*t = mk(BASE);

	tunnel_start(t);
	fake_unit = 0;
	session_dead(t, SCF_AUTH, "authentication refused: publickey");
	assert_state(t, TS_BACKOFF);
	cr_assert_eq(t->fail_kind, TF_AUTH);
	/* The first failure already waits RetryMax (less up to 10 %). */
	cr_assert(fabs(timer_of(t, TT_RETRY)->after - 60.0) < 1e-9);
	advance(60);
	assert_state(t, TS_CONNECTING);
	fake_unit = 0.999;
	session_dead(t, SCF_AUTH, "authentication refused: publickey");
	cr_assert(timer_of(t, TT_RETRY)->after >= 54.0);
	cr_assert_eq(t->failures, 2);
}

Test(sm, host_key_changed_is_an_auth_failure)
{
	struct tunnel	*t = mk(BASE);
	json_t		*st;

	tunnel_start(t);
	fake_unit = 0.5;
	session_dead(t, SCF_AUTH, "host key for h changed: possible attack");
	assert_state(t, TS_BACKOFF);
	cr_assert(fabs(timer_of(t, TT_RETRY)->after - 57.0) < 1e-9);
	st = tunnel_status(t);
	cr_assert_not_null(strstr(json_string_value(json_object_get(st,
	    "last_error")), "host key"));
	json_decref(st);
	cr_assert_eq(t->connects, 0);
}

Test(sm, session_lost_backs_off_up_to_retry_max)
{
	struct tunnel	*t = mk(BASE);

	drive_to(t, TS_UP);
	fake_now += 10;
	fake_unit = 0.999999;
	t->attempt = 10;
	session_dead(t, SCF_SESSION, "session lost: connection reset");
	assert_state(t, TS_BACKOFF);
	assert_moved("up", "backoff", "session lost: connection reset");
	cr_assert(timer_of(t, TT_RETRY)->after > 59.9);
	cr_assert(timer_of(t, TT_RETRY)->after <= 60.0);
	/* Down since it left up; every session timer is gone. */
	cr_assert(fabs(t->down_since - (WALL0 + 1010)) < 1e-6);
	cr_assert(!timer_of(t, TT_STABLE)->active);
	cr_assert(!timer_of(t, TT_FWD_RETRY)->active);
	cr_assert_eq(t->alive.where, ALIVE_OFF);
}

/* ---- forwards: degraded and back, ExitOnForwardFailure ------------------ */

#define FWDS	BASE " LocalForward 7001 127.0.0.1:9\n" \
		" RemoteForward 7002 127.0.0.1:9\n"

Test(sm, forward_refused_degraded_then_up_in_the_same_session)
{
	struct tunnel	*t = mk(FWDS);
	struct sshconn	*c;
	json_t		*st;

	drive_to(t, TS_DEGRADED);
	c = t->conn;
	assert_moved("forwarding", "degraded", "server refused to listen");
	cr_assert_str_eq(t->last_error, "server refused to listen");
	cr_assert(timer_of(t, TT_FWD_RETRY)->active);
	cr_assert(timer_of(t, TT_STABLE)->active);
	st = tunnel_status(t);
	cr_assert(json_real_value(json_object_get(st, "down_since")) > 0);
	json_decref(st);
	/* The retry brings the forwards up: up, same session. */
	fwd_answer = FA_UP;
	advance(timer_of(t, TT_FWD_RETRY)->after);
	cr_assert_eq(fwd(t, 0)->retries, 1);
	assert_state(t, TS_UP);
	assert_moved("degraded", "up", "all forwards established");
	cr_assert_eq(t->conn, c);
	cr_assert_eq(conns_opened, 1);
	cr_assert_eq(t->connects, 1);
	cr_assert_null(t->last_error);
	cr_assert(!timer_of(t, TT_FWD_RETRY)->active);
	cr_assert_eq(t->down_since, 0);
}

Test(sm, forward_retries_back_off_quietly_while_degraded)
{
	struct tunnel	*t = mk(FWDS);
	size_t		 n;
	double		 a1, a2;

	fake_unit = 0.999999;
	drive_to(t, TS_DEGRADED);
	n = nstate_events();
	cr_assert_eq(t->fwd_attempt, 1);
	a1 = timer_of(t, TT_FWD_RETRY)->after;
	advance(a1);
	/* Refused again: the same state, no event, a longer wait. */
	assert_state(t, TS_DEGRADED);
	cr_assert_eq(nstate_events(), n);
	cr_assert_eq(t->fwd_attempt, 2);
	a2 = timer_of(t, TT_FWD_RETRY)->after;
	cr_assert(a2 > a1, "%f then %f", a1, a2);
	cr_assert(a2 <= 4.0);
	cr_assert_eq(timer_of(t, TT_FWD_RETRY)->starts, 2);
}

/*
 * Asking again costs one request in a live session: the wait between asks
 * stops growing at RetryNetworkMax (5 s here), not RetryMax (60 s), so a
 * port freed by the server is taken within seconds (tunsupd.conf(5)).
 */
Test(sm, forward_retries_wait_at_most_retry_network_max)
{
	struct tunnel	*t = mk(FWDS);
	int		 i;

	fake_unit = 0.999999;
	drive_to(t, TS_DEGRADED);
	for (i = 0; i < 8; i++) {
		cr_assert(timer_of(t, TT_FWD_RETRY)->after <= 5.0,
		    "ask %d waits %f s", i + 1,
		    timer_of(t, TT_FWD_RETRY)->after);
		advance(timer_of(t, TT_FWD_RETRY)->after);
		assert_state(t, TS_DEGRADED);
	}
	cr_assert_eq(t->fwd_attempt, 9);
	cr_assert(timer_of(t, TT_FWD_RETRY)->after > 4.9);
}

Test(sm, up_to_degraded_when_a_forward_fails)
{
	struct tunnel	*t = mk(FWDS);

	drive_to(t, TS_UP);
	fwd_set(t->forwards[1], FWD_PENDING, "probe failed: no answer");
	assert_state(t, TS_DEGRADED);
	assert_moved("up", "degraded", "probe failed: no answer");
	cr_assert(timer_of(t, TT_FWD_RETRY)->active);
	/* Down since now; the session's stable timer goes on. */
	cr_assert(fabs(t->down_since - fake_wall()) < 1e-6);
	cr_assert_eq(timer_of(t, TT_STABLE)->starts, 1);
}

Test(sm, forwarding_to_degraded_to_backoff_on_session_loss)
{
	struct tunnel	*t = mk(FWDS);

	int		 downs;

	drive_to(t, TS_DEGRADED);
	downs = fwd(t, 0)->downs;
	session_dead(t, SCF_SESSION, "session lost");
	assert_state(t, TS_BACKOFF);
	assert_moved("degraded", "backoff", "session lost");
	cr_assert(!timer_of(t, TT_FWD_RETRY)->active);
	cr_assert_eq(fwd(t, 0)->downs, downs + 1);
	cr_assert_null(t->conn);
}

Test(sm, forwarding_fails_into_backoff)
{
	struct tunnel	*t = mk(FWDS);

	drive_to(t, TS_FORWARDING);
	session_dead(t, SCF_SESSION, "session lost");
	assert_moved("forwarding", "backoff", "session lost");
}

Test(sm, exit_on_forward_failure_tears_the_session_down)
{
	struct tunnel	*t = mk(FWDS " ExitOnForwardFailure yes\n");

	tunnel_start(t);
	fwd_answer = FA_REFUSE;
	session_ready(t);
	assert_state(t, TS_BACKOFF);
	assert_moved("forwarding", "backoff", "server refused to listen");
	cr_assert_eq(t->fail_kind, TF_SESSION);
	cr_assert_eq(t->failures, 1);
	cr_assert_null(t->conn);
	cr_assert_eq(conns_freed, 1);
	cr_assert(timer_of(t, TT_RETRY)->active);
	cr_assert(!timer_of(t, TT_FWD_RETRY)->active);
	/* Never degraded. */
	cr_assert_null(strstr(logbuf, "degraded"), "%s", logbuf);
}

Test(sm, exit_on_forward_failure_from_up)
{
	struct tunnel	*t = mk(FWDS " ExitOnForwardFailure yes\n");

	drive_to(t, TS_UP);
	fwd_set(t->forwards[0], FWD_FAILED, "cannot listen on 7001");
	assert_moved("up", "backoff", "cannot listen on 7001");
	cr_assert_str_eq(t->last_error, "cannot listen on 7001");
}

Test(sm, forwarded_channel_goes_to_its_forward)
{
	struct tunnel	*t = mk(FWDS);

	drive_to(t, TS_UP);
	conn(t)->cbs->forwarded(t, "127.0.0.1", 7002, NULL);
	cr_assert_eq(fwd(t, 1)->incoming, 1);
	cr_assert_eq(fwd(t, 0)->incoming, 0);
	conn(t)->cbs->forwarded(t, "127.0.0.1", 7999, NULL);
	cr_assert_not_null(strstr(logbuf, "server opened a channel for "
	    "127.0.0.1:7999, which no forward of ours listens on: refused"));
}

/* ---- keepalive ------------------------------------------------------------ */

#define ALIVE	BASE " ServerAliveInterval 10\n ServerAliveCountMax 3\n"

Test(sm, keepalive_missed_count_max_times_backs_off)
{
	struct tunnel	*t = mk(ALIVE);

	drive_to(t, TS_UP);
	cr_assert_eq(t->alive.where, ALIVE_WHEEL);
	advance(10);
	cr_assert_eq(t->alive_missed, 1);
	cr_assert_eq(conn(t)->keepalives, 1);
	advance(10);
	cr_assert_eq(t->alive_missed, 2);
	/* One keepalive outstanding at a time. */
	cr_assert_eq(conn(t)->keepalives, 1);
	assert_state(t, TS_UP);
	advance(10);
	assert_state(t, TS_BACKOFF);
	assert_moved("up", "backoff", "no answer from the server for 30 s "
	    "(ServerAliveInterval 10 s x ServerAliveCountMax 3)");
	cr_assert_eq(t->fail_kind, TF_NETWORK);
	cr_assert_eq(t->alive.where, ALIVE_OFF);
	/* At most RetryNetworkMax. */
	cr_assert(timer_of(t, TT_RETRY)->after <= 5.0);
}

Test(sm, keepalive_any_packet_is_an_answer)
{
	struct tunnel	*t = mk(ALIVE);
	json_t		*st;

	drive_to(t, TS_UP);
	advance(10);
	advance(10);
	cr_assert_eq(t->alive_missed, 2);
	conn(t)->in += 3;
	advance(10);
	cr_assert_eq(t->alive_missed, 0);
	cr_assert(fabs(t->last_ok - fake_wall()) < 1e-6);
	/* The reply to the keepalive gives the round trip. */
	conn(t)->ka_pending = 0;
	conn(t)->ka_cb(conn(t)->ka_arg, 0, 0, 12.5);
	st = tunnel_status(t);
	cr_assert(fabs(json_real_value(json_object_get(json_object_get(st,
	    "keepalive"), "rtt_ms")) - 12.5) < 1e-9);
	json_decref(st);
	advance(30);
	assert_state(t, TS_BACKOFF);
}

Test(sm, keepalive_round_probes_the_forwards)
{
	struct tunnel	*t = mk(FWDS " ServerAliveInterval 5\n");
	struct tunnel	*u = mk("Tunnel b\n HostName h\n IdentityAgent none\n"
	    " ServerAliveInterval 5\n ForwardProbe no\n"
	    " RemoteForward 7003 127.0.0.1:9\n");

	drive_to(t, TS_UP);
	drive_to(u, TS_UP);
	advance(5);
	cr_assert_eq(fwd(t, 0)->probes, 1);
	cr_assert_eq(fwd(t, 1)->probes, 1);
	cr_assert_eq(fwd(u, 0)->probes, 0);
}

/* ForwardProbeInterval 12s at 5 s rounds: the first round, then every third. */
Test(sm, probe_interval_in_whole_rounds)
{
	struct tunnel	*t = mk(FWDS " ServerAliveInterval 5\n"
	    " ForwardProbeInterval 12\n");
	static const int want[] = { 1, 1, 1, 2, 2, 2, 3 };
	size_t		 i;

	drive_to(t, TS_UP);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		conn(t)->in++;		/* the server answers */
		advance(5);
		cr_assert_eq(fwd(t, 0)->probes, want[i], "round %zu: %d probes",
		    i + 1, fwd(t, 0)->probes);
	}
	assert_state(t, TS_UP);
}

Test(sm, keepalive_not_in_whole_seconds_has_its_own_timer)
{
	struct tunnel	*t = mk(BASE " ServerAliveInterval 1500ms\n"
	    " ServerAliveCountMax 2\n");

	drive_to(t, TS_UP);
	cr_assert_eq(t->alive.where, ALIVE_OFF);
	cr_assert(timer_of(t, TT_ALIVE)->active);
	cr_assert(fabs(timer_of(t, TT_ALIVE)->repeat - 1.5) < 1e-9);
	advance(1.5);
	cr_assert_eq(t->alive_missed, 1);
	advance(1.5);
	assert_state(t, TS_BACKOFF);
	cr_assert(!timer_of(t, TT_ALIVE)->active);
	cr_assert_not_null(strstr(logbuf, "no answer from the server for 3 s"),
	    "%s", logbuf);
}

Test(sm, keepalive_off_without_interval)
{
	struct tunnel	*t = mk(BASE " ServerAliveInterval 0\n");

	drive_to(t, TS_UP);
	cr_assert_eq(t->alive.where, ALIVE_OFF);
	cr_assert(!timer_of(t, TT_ALIVE)->active);
	advance(3600);
	assert_state(t, TS_UP);
}

/* ---- the stable timer ------------------------------------------------------ */

Test(sm, sixty_seconds_up_resets_the_backoff)
{
	struct tunnel	*t = mk(BASE " ServerAliveInterval 0\n");
	int		 i;

	tunnel_start(t);
	for (i = 0; i < 4; i++) {
		session_dead(t, SCF_NETWORK, "refused");
		advance(timer_of(t, TT_RETRY)->after);
	}
	cr_assert_eq(t->attempt, 4);
	session_ready(t);
	assert_state(t, TS_UP);
	cr_assert(timer_of(t, TT_STABLE)->active);
	cr_assert(fabs(timer_of(t, TT_STABLE)->after - 60.0) < 1e-9);
	advance(60);
	cr_assert_eq(t->attempt, 0);
	fake_unit = 0.999999;
	session_dead(t, SCF_SESSION, "session lost");
	cr_assert_eq(t->attempt, 1);
	cr_assert(timer_of(t, TT_RETRY)->after <= 2.0);
}

Test(sm, a_shorter_session_keeps_the_backoff)
{
	struct tunnel	*t = mk(BASE " ServerAliveInterval 0\n");
	int		 i;

	tunnel_start(t);
	for (i = 0; i < 4; i++) {
		session_dead(t, SCF_NETWORK, "refused");
		advance(timer_of(t, TT_RETRY)->after);
	}
	session_ready(t);
	advance(59);
	session_dead(t, SCF_SESSION, "session lost");
	cr_assert_eq(t->attempt, 5);
	cr_assert(!timer_of(t, TT_STABLE)->active);
}

/* ---- restart ---------------------------------------------------------------- */

Test(sm, restart_skips_the_backoff_wait)
{
	struct tunnel	*t = mk(BASE);

	tunnel_start(t);
	session_dead(t, SCF_AUTH, "authentication refused");
	cr_assert(timer_of(t, TT_RETRY)->after > 50);
	tunnel_restart(t, "restarted by control command");
	assert_state(t, TS_CONNECTING);
	assert_moved("backoff", "connecting", "restarted by control command");
	cr_assert(!timer_of(t, TT_RETRY)->active);
	cr_assert_eq(conns_opened, 2);
	cr_assert_eq(t->attempt, 0);
	/* No detour through backoff. */
	cr_assert_eq(nstate_events(), 3);
}

Test(sm, restart_from_up_opens_a_new_session)
{
	struct tunnel	*t = mk(FWDS);
	int		 downs;

	drive_to(t, TS_UP);
	downs = fwd(t, 0)->downs;
	tunnel_restart(t, "restarted by control command");
	assert_moved("up", "connecting", "restarted by control command");
	cr_assert_eq(conns_freed, 1);
	cr_assert_eq(conns_opened, 2);
	cr_assert_eq(fwd(t, 0)->downs, downs + 1);
	cr_assert(!timer_of(t, TT_STABLE)->active);
	cr_assert_not_null(strstr(logbuf, "tunnel a: up -> connecting "
	    "(restarted by control command)\n"), "%s", logbuf);
	cr_assert_null(strstr(logbuf, "backoff"), "%s", logbuf);
	session_ready(t);
	assert_state(t, TS_UP);
	cr_assert_eq(t->connects, 2);
}

Test(sm, restart_while_connecting_starts_over)
{
	struct tunnel	*t = mk(BASE);

	tunnel_start(t);
	tunnel_restart(t, "restarted by control command");
	assert_state(t, TS_CONNECTING);
	assert_moved("connecting", "connecting",
	    "restarted by control command");
	cr_assert_eq(conns_opened, 2);
	cr_assert_eq(conns_freed, 1);
	cr_assert_eq(fake_daemon.handshakes, 1);
}

Test(sm, restart_from_forwarding_and_degraded)
{
	struct tunnel	*t = mk(FWDS);
	struct tunnel	*u = mk("Tunnel b\n HostName h\n IdentityAgent none\n"
	    " RemoteForward 7003 127.0.0.1:9\n");

	drive_to(t, TS_FORWARDING);
	tunnel_restart(t, "restarted by control command");
	assert_moved("forwarding", "connecting",
	    "restarted by control command");
	drive_to(u, TS_DEGRADED);
	tunnel_restart(u, "restarted by control command");
	assert_moved("degraded", "connecting", "restarted by control command");
	cr_assert(!timer_of(u, TT_FWD_RETRY)->active);
}

Test(sm, restart_of_a_stopped_tunnel_starts_it)
{
	struct tunnel	*t = mk(BASE);

	start_delay_s = 0.4;	/* a restart never waits for the spread */
	tunnel_restart(t, "restarted by control command");
	assert_moved("stopped", "connecting", "restarted by control command");
	cr_assert(t->wanted);
	cr_assert_eq(conns_opened, 1);
}

/* ---- stop from every state --------------------------------------------------- */

static void
stop_from(enum tunnel_state st)
{
	struct tunnel	*t = mk(FWDS " ServerAliveInterval 10\n");
	int		 w;

	drive_to(t, st);
	tunnel_stop(t, "stopped by control command");
	assert_state(t, TS_STOPPED);
	assert_moved(tunnel_state_name(st), "stopped",
	    "stopped by control command");
	cr_assert(!t->wanted);
	cr_assert_null(t->conn);
	cr_assert_eq(t->alive.where, ALIVE_OFF);
	cr_assert(!t->slot.held && !t->slot.waiting);
	for (w = 0; w < TT_COUNT; w++)
		cr_assert(!timer_of(t, w)->active, "timer %d runs", w);
	/* Nothing comes back by itself. */
	advance(3600);
	assert_state(t, TS_STOPPED);
	cr_assert_eq(conns_opened, 1);
}

Test(sm, stop_while_connecting) { stop_from(TS_CONNECTING); }
Test(sm, stop_while_forwarding) { stop_from(TS_FORWARDING); }
Test(sm, stop_while_up) { stop_from(TS_UP); }
Test(sm, stop_while_degraded) { stop_from(TS_DEGRADED); }
Test(sm, stop_while_in_backoff) { stop_from(TS_BACKOFF); }

Test(sm, stop_while_stopped_is_quiet)
{
	struct tunnel	*t = mk(BASE);

	tunnel_stop(t, "stopped by control command");
	assert_state(t, TS_STOPPED);
	cr_assert_eq(json_array_size(events), 0);
	cr_assert_eq(changes, 0);
	cr_assert_eq(logbuf[0], '\0', "%s", logbuf);
}

Test(sm, stop_during_the_start_up_spread)
{
	struct tunnel	*t = mk(BASE);

	start_delay_s = 0.3;
	tunnel_start(t);
	tunnel_stop(t, "stopped by control command");
	advance(1);
	assert_state(t, TS_STOPPED);
	cr_assert_eq(conns_opened, 0);
}

/* ---- handshake slots ------------------------------------------------------------ */

Test(sm, waiting_for_a_handshake_slot)
{
	struct tunnel	*a = mk(BASE);
	struct tunnel	*b = mk("Tunnel b\n HostName h\n IdentityAgent none\n");

	fake_daemon.handshakes_max = 1;
	tunnel_start(a);
	tunnel_start(b);
	assert_state(b, TS_CONNECTING);
	assert_moved("stopped", "connecting", "waiting for a handshake slot");
	cr_assert_null(b->conn);
	cr_assert(b->slot.waiting);
	cr_assert_eq(conns_opened, 1);
	/* a authenticated: its slot goes to b, which connects quietly. */
	session_ready(a);
	cr_assert_not_null(b->conn);
	cr_assert(b->slot.held);
	cr_assert_eq(conns_opened, 2);
	assert_state(b, TS_CONNECTING);
	assert_moved("forwarding", "up", "all forwards established");
	session_ready(b);
	assert_state(b, TS_UP);
	cr_assert_eq(fake_daemon.handshakes, 0);
}

Test(sm, a_failed_handshake_passes_its_slot_on)
{
	struct tunnel	*a = mk(BASE);
	struct tunnel	*b = mk("Tunnel b\n HostName h\n IdentityAgent none\n");
	struct tunnel	*c = mk("Tunnel c\n HostName h\n IdentityAgent none\n");

	fake_daemon.handshakes_max = 1;
	tunnel_start(a);
	tunnel_start(b);
	tunnel_start(c);
	/* b gives up its place in line; a's failure hands the slot to c. */
	tunnel_stop(b, "stopped by control command");
	cr_assert(!b->slot.waiting);
	session_dead(a, SCF_NETWORK, "refused");
	cr_assert_null(b->conn);
	cr_assert_not_null(c->conn);
	cr_assert(c->slot.held);
	cr_assert_eq(fake_daemon.handshakes, 1);
	/* a's retry waits in line behind c. */
	advance(timer_of(a, TT_RETRY)->after);
	assert_state(a, TS_CONNECTING);
	cr_assert_null(a->conn);
	cr_assert(a->slot.waiting);
	session_dead(c, SCF_NETWORK, "refused");
	cr_assert_not_null(a->conn);
}

/* ---- start-up spread ----------------------------------------------------------------- */

Test(sm, start_up_spread_waits_then_connects)
{
	struct tunnel	*t = mk(BASE);

	start_delay_s = 0.3;
	tunnel_start(t);
	assert_state(t, TS_CONNECTING);
	assert_moved("stopped", "connecting", "starting");
	cr_assert_null(t->conn);
	cr_assert(!t->slot.held);
	cr_assert(fabs(timer_of(t, TT_RETRY)->after - 0.3) < 1e-9);
	advance(0.29);
	cr_assert_null(t->conn);
	advance(0.02);
	cr_assert_not_null(t->conn);
	cr_assert(t->slot.held);
	/* The wait's end is no new state. */
	cr_assert_eq(nstate_events(), 1);
	cr_assert_eq(bugs, 0);
}

/* ---- reload ----------------------------------------------------------------------------- */

Test(sm, reload_with_a_changed_spec_reconnects)
{
	struct tunnel	*t = mk(FWDS);
	struct forward	*old0;

	drive_to(t, TS_UP);
	old0 = t->forwards[0];
	tunnel_replace_spec(t, spec_of(BASE " Port 2222\n"
	    " LocalForward 7005 127.0.0.1:9\n"));
	assert_moved("up", "connecting", "configuration changed");
	cr_assert_eq(t->spec->port, 2222);
	cr_assert_eq(t->nforwards, 1);
	cr_assert_neq(t->forwards[0], old0);
	cr_assert_eq(conns_opened, 2);
	session_ready(t);
	assert_state(t, TS_UP);
	cr_assert_eq(fwd(t, 0)->ups, 1);
}

Test(sm, reload_changing_only_forwards_keeps_the_session)
{
	struct tunnel	*t = mk(FWDS);
	struct forward	*kept;
	size_t		 before;

	drive_to(t, TS_UP);
	kept = t->forwards[1];
	before = nstate_events();
	cr_assert_eq(tunnel_replace_spec(t, spec_of(BASE
	    " RemoteForward 7002 127.0.0.1:9\n"
	    " LocalForward 7003 127.0.0.1:9\n")), 1);
	/* No state change, no new session; the kept forward is the same. */
	assert_state(t, TS_UP);
	cr_assert_eq(nstate_events(), before);
	cr_assert_eq(conns_opened, 1);
	cr_assert_eq(t->connects, 1);
	cr_assert_eq(t->nforwards, 2);
	cr_assert_eq(t->forwards[0], kept);
	cr_assert_eq(t->forwards[0]->spec, &t->spec->forwards[0]);
	cr_assert_eq(fwd(t, 0)->ups, 1);
	cr_assert_eq(fwd(t, 1)->ups, 1);
	cr_assert_eq(t->forwards[1]->spec->listen.port, 7003);
	cr_assert_eq(fwds_cancelled, 1);
	cr_assert_eq(bugs, 0);
}

Test(sm, forwards_changed_while_in_backoff_wait_for_the_session)
{
	struct tunnel	*t = mk(FWDS);

	drive_to(t, TS_BACKOFF);
	cr_assert_eq(tunnel_replace_spec(t, spec_of(BASE
	    " LocalForward 7003 127.0.0.1:9\n")), 1);
	assert_state(t, TS_BACKOFF);
	cr_assert_eq(fwds_cancelled, 0);
	cr_assert_eq(t->nforwards, 1);
	cr_assert_eq(fwd(t, 0)->ups, 0);
	cr_assert(timer_of(t, TT_RETRY)->active);
}

Test(sm, reload_disabling_stops)
{
	struct tunnel	*t = mk(BASE);

	drive_to(t, TS_BACKOFF);
	tunnel_replace_spec(t, spec_of(BASE " Enabled no\n"));
	assert_moved("backoff", "stopped", "disabled by reload");
	cr_assert(!timer_of(t, TT_RETRY)->active);
	cr_assert(!t->wanted);
}

/* ---- the retry delay -------------------------------------------------------------------- */

/* ---- FallbackHost ---------------------------------------------------- */

#define FALLBACKS	BASE " FallbackHost f1\n FallbackHost v@f2:2222\n" \
			" LocalForward 1 x:1\n ServerAliveInterval 0\n"

/* The primary not reached: the next attempts go down the list, then back. */
Test(sm, unreachable_primary_moves_down_the_list)
{
	struct tunnel	*t = mk(FALLBACKS);
	json_t		*st;

	tunnel_start(t);
	cr_assert_eq(conn(t)->server, 0);
	session_dead(t, SCF_NETWORK, "connect to h port 22: Connection refused");
	cr_assert_eq(t->server, 1);
	advance(10);
	cr_assert_eq(conn(t)->server, 1);
	st = tunnel_status(t);
	cr_assert_str_eq(json_string_value(json_object_get(st, "server")),
	    "u@f1:22");
	cr_assert_eq(json_integer_value(json_object_get(st, "fallback")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(st, "host")), "h");
	json_decref(st);
	/* On a fallback any failure moves on, and names the server. */
	session_dead(t, SCF_AUTH, "authentication failed");
	cr_assert_str_eq(t->last_error,
	    "FallbackHost 1 u@f1:22: authentication failed");
	cr_assert_eq(t->server, 2);
	advance(70);
	cr_assert_eq(conn(t)->server, 2);
	session_dead(t, SCF_NETWORK, "timeout");
	cr_assert_eq(t->server, 0);
	advance(10);
	cr_assert_eq(conn(t)->server, 0);
	session_ready(t);
	assert_state(t, TS_UP);
	cr_assert(!timer_of(t, TT_PRIMARY)->active);
	cr_assert_not_null(strstr(logbuf, "session to u@h:22 established"));
}

/* A primary that answers and refuses, or a lost session: no move. */
Test(sm, refused_primary_or_lost_session_stays)
{
	struct tunnel	*t = mk(FALLBACKS);

	tunnel_start(t);
	session_dead(t, SCF_AUTH, "host key for h has CHANGED");
	cr_assert_eq(t->server, 0);
	advance(70);
	session_dead(t, SCF_SESSION, "protocol error");
	cr_assert_eq(t->server, 0);
	advance(70);
	session_ready(t);
	assert_state(t, TS_UP);
	session_dead(t, SCF_SESSION, "connection lost");
	cr_assert_eq(t->server, 0);
	cr_assert_str_eq(t->last_error, "connection lost");
}

/* Up on a fallback: t's server, then the primary's session taken over. */
static struct fake_conn *
up_on_fallback(struct tunnel *t)
{
	tunnel_start(t);
	session_dead(t, SCF_NETWORK, "connect to h port 22: Connection refused");
	advance(10);
	session_ready(t);
	assert_state(t, TS_UP);
	cr_assert_eq(conn(t)->server, 1);
	cr_assert_not_null(strstr(logbuf,
	    "session to u@f1:22 established (FallbackHost 1)"), "%s", logbuf);
	return conn(t);
}

Test(sm, back_to_the_primary_session_to_session)
{
	struct tunnel		*t = mk(FALLBACKS);
	struct fake_conn	*fb, *probe;
	unsigned long		 connects;
	const struct sshconn_cbs *cbs;
	int			 downs;

	fb = up_on_fallback(t);
	cbs = fb->cbs;
	connects = t->connects;
	downs = fwd(t, 0)->downs;
	cr_assert(timer_of(t, TT_PRIMARY)->active);
	cr_assert(fabs(timer_of(t, TT_PRIMARY)->after - 60) < 0.001);
	advance(60);
	cr_assert_not_null(t->probe);
	probe = (struct fake_conn *)t->probe;
	cr_assert_eq(probe->server, 0);
	cr_assert_eq(t->conn, (struct sshconn *)fb);
	/* A try still under way is not doubled. */
	advance(60);
	cr_assert_eq(t->probe, (struct sshconn *)probe);
	cr_assert_eq(conns_opened, 3);
	probe->cbs->ready(t);
	cr_assert_eq(t->conn, (struct sshconn *)probe);
	cr_assert_null(t->probe);
	cr_assert_eq(conn(t)->cbs, cbs, "the session's callbacks");
	cr_assert_eq(conns_freed, 2);	/* the failed try, the fallback's */
	cr_assert_eq(t->server, 0);
	cr_assert_eq(t->connects, connects + 1);
	cr_assert_eq(fwd(t, 0)->downs, downs, "the listener was closed");
	cr_assert_eq(fwd(t, 0)->moves, 1);
	cr_assert_eq(fwd(t, 0)->ups, 2);
	assert_state(t, TS_UP);
	cr_assert_str_eq(json_string_value(json_object_get(state_event(1),
	    "reason")), "back to the primary server");
	assert_moved("forwarding", "up", "all forwards established");
	cr_assert(!timer_of(t, TT_PRIMARY)->active);
	cr_assert_eq(t->failures, 1, "no failure counted");
}

Test(sm, a_failed_try_of_the_primary_changes_nothing)
{
	struct tunnel		*t = mk(FALLBACKS);
	struct fake_conn	*fb, *probe;
	size_t			 n;

	fb = up_on_fallback(t);
	n = nstate_events();
	advance(60);
	probe = (struct fake_conn *)t->probe;
	cr_assert_not_null(probe);
	probe->cbs->dead(t, SCF_NETWORK, "connect to h port 22: refused");
	cr_assert_null(t->probe);
	cr_assert_eq(t->conn, (struct sshconn *)fb);
	assert_state(t, TS_UP);
	cr_assert_eq(nstate_events(), n);
	cr_assert_null(t->last_error);
	/* The next try; a teardown frees a try under way. */
	advance(60);
	cr_assert_not_null(t->probe);
	session_dead(t, SCF_SESSION, "connection lost");
	cr_assert_null(t->probe);
	cr_assert_eq(t->server, 1, "a lost session is retried where it was");
	cr_assert(!timer_of(t, TT_PRIMARY)->active);
}

Test(retry_delay, network_capped_by_retry_network_max)
{
	struct tunnel_spec	*s = spec_of(BASE);

	cr_assert_eq(tunnel_retry_delay(s, TF_NETWORK, 0, 0.99), 1000);
	cr_assert_eq(tunnel_retry_delay(s, TF_NETWORK, 1, 0.5), 1500);
	cr_assert_eq(tunnel_retry_delay(s, TF_NETWORK, 20, 0.0), 1000);
	cr_assert_eq(tunnel_retry_delay(s, TF_NETWORK, 20, 0.5), 3000);
	cr_assert(tunnel_retry_delay(s, TF_NETWORK, 20, 0.999999) <= 5000);
	tunnel_spec_free(s);
}

Test(retry_delay, session_capped_by_retry_max)
{
	struct tunnel_spec	*s = spec_of(BASE);

	cr_assert_eq(tunnel_retry_delay(s, TF_SESSION, 3, 0.5), 1000 + 3500);
	cr_assert_eq(tunnel_retry_delay(s, TF_SESSION, 20, 0.5), 30500);
	cr_assert(tunnel_retry_delay(s, TF_SESSION, 20, 0.999999) > 59900);
	/* TF_NONE counts as a session failure. */
	cr_assert_eq(tunnel_retry_delay(s, TF_NONE, 20, 0.5), 30500);
	tunnel_spec_free(s);
}

Test(retry_delay, auth_waits_near_retry_max_at_once)
{
	struct tunnel_spec	*s = spec_of(BASE);

	cr_assert_eq(tunnel_retry_delay(s, TF_AUTH, 1, 0.0), 60000);
	cr_assert_eq(tunnel_retry_delay(s, TF_AUTH, 1, 0.5), 57000);
	cr_assert_eq(tunnel_retry_delay(s, TF_AUTH, 9, 0.5), 57000);
	cr_assert(tunnel_retry_delay(s, TF_AUTH, 1, 0.999999) > 54000);
	tunnel_spec_free(s);
}

/* ---- checks of the session (tunnel_check_now) ----------------------------- */

#define SLOW	BASE " ServerAliveInterval 60\n ServerAliveCountMax 3\n"

Test(sm, check_answered_keeps_the_session)
{
	struct tunnel	*t = mk(SLOW);

	drive_to(t, TS_UP);
	cr_assert_eq(tunnel_check_now(t, "network change: x"), TCHECK_SESSION);
	cr_assert_eq(conn(t)->keepalives, 1);
	cr_assert_float_eq(timer_of(t, TT_CHECK)->after, 3.0, 1e-9);
	conn(t)->in++;
	advance(3);
	assert_state(t, TS_UP);
	cr_assert_eq(conns_opened, 1);
	cr_assert_not_null(strstr(logbuf, "the session answered the check "
	    "(network change: x)"));
}

Test(sm, check_unanswered_loses_the_session_and_reconnects_at_once)
{
	struct tunnel	*t = mk(SLOW);

	drive_to(t, TS_UP);
	tunnel_check_now(t, "network change: address 10.0.0.2/24 removed "
	    "from wlan0");
	advance(2.9);
	assert_state(t, TS_UP);
	advance(0.2);
	/* Through backoff, whose wait is skipped. */
	assert_state(t, TS_CONNECTING);
	cr_assert_str_eq(json_string_value(json_object_get(state_event(1),
	    "reason")), "no answer from the server within 3.0 s of a check "
	    "(network change: address 10.0.0.2/24 removed from wlan0)");
	assert_moved("backoff", "connecting",
	    "reconnecting at once after a check");
	cr_assert_eq(t->fail_kind, TF_NETWORK);
	cr_assert(!timer_of(t, TT_CHECK)->active);
	cr_assert(!timer_of(t, TT_RETRY)->active);
	cr_assert_eq(conns_opened, 2);
}

Test(sm, check_deadline_is_connect_timeout_if_shorter)
{
	struct tunnel	*t = mk(SLOW " ConnectTimeout 1\n");

	drive_to(t, TS_UP);
	tunnel_check_now(t, "SIGUSR1");
	cr_assert_float_eq(timer_of(t, TT_CHECK)->after, 1.0, 1e-9);
}

Test(sm, check_under_way_keeps_its_deadline)
{
	struct tunnel	*t = mk(SLOW);
	double		 due;

	drive_to(t, TS_UP);
	tunnel_check_now(t, "first");
	due = timer_of(t, TT_CHECK)->due;
	advance(2);
	cr_assert_eq(tunnel_check_now(t, "second"), TCHECK_SESSION);
	cr_assert_eq(timer_of(t, TT_CHECK)->due, due);
	cr_assert_eq(conn(t)->keepalives, 1);
	advance(1);
	cr_assert(strstr(json_string_value(json_object_get(state_event(1),
	    "reason")), "(first)") != NULL);
}

Test(sm, check_in_backoff_retries_at_once)
{
	struct tunnel	*t = mk(SLOW);

	drive_to(t, TS_BACKOFF);
	cr_assert_eq(tunnel_check_now(t, "resume from suspend (600 s asleep)"),
	    TCHECK_RETRY);
	assert_state(t, TS_CONNECTING);
	assert_moved("backoff", "connecting",
	    "resume from suspend (600 s asleep)");
	cr_assert_eq(conns_opened, 2);
	/* The backoff goes on growing if this one fails too. */
	cr_assert_eq(t->attempt, 1);
}

Test(sm, check_without_a_session_does_nothing)
{
	struct tunnel	*t = mk(SLOW);
	size_t		 n;

	cr_assert_eq(tunnel_check_now(t, "x"), TCHECK_NONE);
	assert_state(t, TS_STOPPED);
	drive_to(t, TS_CONNECTING);
	n = nstate_events();
	cr_assert_eq(tunnel_check_now(t, "x"), TCHECK_NONE);
	cr_assert_eq(nstate_events(), n);
	cr_assert(!timer_of(t, TT_CHECK)->active);
}

Test(sm, session_lost_during_a_check_stops_it)
{
	struct tunnel	*t = mk(SLOW);

	drive_to(t, TS_UP);
	tunnel_check_now(t, "x");
	session_dead(t, SCF_NETWORK, "connection reset");
	cr_assert(!timer_of(t, TT_CHECK)->active);
	assert_state(t, TS_BACKOFF);
}
