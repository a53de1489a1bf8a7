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
/* daemon.c: the daemon object: loop, tunnels, signals, reload. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "ctl.h"
#include "daemon.h"
#include "fdlimit.h"
#include "log.h"
#include "metrics_http.h"
#include "netwatch.h"
#include "resolver.h"
#include "sshconn.h"
#include "state.h"
#include "tunnel.h"
#include "util.h"

#define HANDSHAKES_MAX	8
#define SHUTDOWN_LINGER	2.5	/* seconds for sessions to close */
#define ALIVE_SLICE	16	/* keepalive rounds served per loop turn */
/* Tunnels started this soon after the daemon spread their first attempts. */
#define START_WINDOW	5.0
#define START_SPREAD	0.5	/* over this many seconds */

static void	daemon_signal_cb(struct ev_loop *, ev_signal *, int);
static void	daemon_alive_tick_cb(struct ev_loop *, ev_timer *, int);
static void	daemon_alive_cb(struct ev_loop *, ev_prepare *, int);
static void	daemon_sd_notify(struct daemon *, const char *);
static json_t	*daemon_reload_config(struct daemon *, char **);
static void	daemon_netwatch_cb(void *, const char *);

/*
 * Watchers that must not keep the loop alive on their own (signals, turn
 * timing, watchdog, shutdown deadline) are ev_unref'd when started; stopping
 * one takes ev_ref first, or the loop's count of what keeps it alive drifts
 * and it ends while sessions are still closing.
 */
#define unref_start(loop, w, kind) do {					\
	ev_##kind##_start((loop), (w));					\
	ev_unref(loop);							\
} while (0)
#define unref_stop(loop, w, kind) do {					\
	if (ev_is_active(w)) {						\
		ev_ref(loop);						\
		ev_##kind##_stop((loop), (w));				\
	}								\
} while (0)

const int turn_limits_ms[TURN_LIMITS] = { 1, 10, 100 };

/*
 * Wake-ups batched under load (doc/design.md, "The receive path"): after a
 * turn in which the sessions read BATCH_BYTES or more from their sockets,
 * the loop waits BATCH_WAIT, less what the turn took, before it polls
 * again. The next turn then finds more on each socket, and the server's
 * sends wake tunsupd less often. A quiet turn ends the wait.
 */
#define BATCH_BYTES	(64 * 1024)
#define BATCH_WAIT	0.0003	/* seconds */

/* The first watcher served after each poll (EV_MAXPRI): a turn begins. */
static void
daemon_turn_begin_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct daemon	*d = w->data;

	d->turn_start = now_mono();
}

/*
 * The last watcher served before each poll (EV_MINPRI): it ends, and whether
 * the loop waits before that poll is decided.
 */
static void
daemon_turn_end_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct daemon	*d = w->data;
	double		 ms;
	uint64_t	 got;
	int		 i;

	got = sshconn_received() - d->batch_seen;
	d->batch_seen += got;
	if (got >= BATCH_BYTES) {
		ev_set_io_collect_interval(loop, BATCH_WAIT);
		d->turn.batched++;
	} else
		ev_set_io_collect_interval(loop, 0.);
	if (d->turn_start == 0)
		return;
	ms = (now_mono() - d->turn_start) * 1000.0;
	d->turn.turns++;
	for (i = 0; i < TURN_LIMITS; i++) {
		if (ms > turn_limits_ms[i])
			d->turn.over[i]++;
	}
	d->turn.sum_ms += ms;
	if (ms > d->turn.longest_ms)
		d->turn.longest_ms = ms;
}

struct daemon *
daemon_new(struct ev_loop *loop, struct cfg *cfg, const char *path)
{
	struct daemon		*d;
	struct tunnel_spec	*spec;
	struct tunnel		*t;
	int			 i;

	d = xcalloc(1, sizeof(*d));
	d->loop = loop;
	d->config_path = path != NULL ? xstrdup(path) : NULL;
	d->started = d->loaded = now_wall();
	d->handshakes_max = HANDSHAKES_MAX;
	d->resolver = resolver_new(loop);
	d->fdlimit = fdlimit_new(loop);
	TAILQ_INIT(&d->tunnels);
	TAILQ_INIT(&d->handshake_wait);
	TAILQ_INIT(&d->alive_due);
	for (i = 0; i < ALIVE_SLOTS; i++)
		TAILQ_INIT(&d->alive_wheel[i]);
	ev_timer_init(&d->alive_tick, daemon_alive_tick_cb, 1., 1.);
	d->alive_tick.data = d;
	soon_init(&d->alive_drain, daemon_alive_cb, d);
	ev_check_init(&d->turn_begin, daemon_turn_begin_cb);
	ev_set_priority(&d->turn_begin, EV_MAXPRI);
	d->turn_begin.data = d;
	ev_prepare_init(&d->turn_end, daemon_turn_end_cb);
	ev_set_priority(&d->turn_end, EV_MINPRI);
	d->turn_end.data = d;

	/* The tunnels become ours; the cfg keeps the top-level defaults. */
	while (cfg->ntunnels > 0) {
		spec = cfg_take_tunnel(cfg, 0);
		t = tunnel_new(d, spec, &tunnel_io_ops, &daemon_tunnel_owner);
		TAILQ_INSERT_TAIL(&d->tunnels, t, entry);
	}
	d->cfg = cfg;

	ev_signal_init(&d->sigterm, daemon_signal_cb, SIGTERM);
	ev_signal_init(&d->sigint, daemon_signal_cb, SIGINT);
	ev_signal_init(&d->sighup, daemon_signal_cb, SIGHUP);
	ev_signal_init(&d->sigusr1, daemon_signal_cb, SIGUSR1);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	d->sigusr1.data = d;
	return d;
}

void
daemon_free(struct daemon *d)
{
	struct tunnel	*t;

	if (d == NULL)
		return;
	unref_stop(d->loop, &d->sigterm, signal);
	unref_stop(d->loop, &d->sigint, signal);
	unref_stop(d->loop, &d->sighup, signal);
	unref_stop(d->loop, &d->sigusr1, signal);
	netwatch_free(d->netwatch);
	unref_stop(d->loop, &d->watchdog, timer);
	unref_stop(d->loop, &d->shutdown_timer, timer);
	unref_stop(d->loop, &d->turn_begin, check);
	unref_stop(d->loop, &d->turn_end, prepare);
	soon_stop(d->loop, &d->alive_drain);
	ev_timer_stop(d->loop, &d->alive_tick);
	while ((t = TAILQ_FIRST(&d->tunnels)) != NULL) {
		TAILQ_REMOVE(&d->tunnels, t, entry);
		tunnel_free(t);
	}
	if (d->ctl != NULL)
		ctl_close(d->ctl);
	metrics_http_free(d->metrics);
	resolver_free(d->resolver);
	fdlimit_free(d->fdlimit);
	cfg_free(d->cfg);
	state_free(d->state);
	free(d->config_path);
	free(d->notify_status);
	free(d);
}

void
daemon_start(struct daemon *d)
{
	struct tunnel	*t;

	/* Writes to a closed peer must give EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	/* Signal and turn watchers must not keep the loop alive alone. */
	unref_start(d->loop, &d->sigterm, signal);
	unref_start(d->loop, &d->sigint, signal);
	unref_start(d->loop, &d->sighup, signal);
	unref_start(d->loop, &d->sigusr1, signal);
	unref_start(d->loop, &d->turn_begin, check);
	unref_start(d->loop, &d->turn_end, prepare);
	d->netwatch = netwatch_new(d->loop, daemon_netwatch_cb, d);

	TAILQ_FOREACH(t, &d->tunnels, entry) {
		if (t->spec->enabled)
			tunnel_start(t);
	}
}

static void
daemon_shutdown_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

void
daemon_shutdown(struct daemon *d)
{
	struct tunnel	*t;

	if (d->stopping)
		return;
	d->stopping = 1;
	log_info("shutting down");
	daemon_sd_notify(d, "STOPPING=1");
	netwatch_free(d->netwatch);
	d->netwatch = NULL;
	unref_stop(d->loop, &d->watchdog, timer);
	TAILQ_FOREACH(t, &d->tunnels, entry)
		tunnel_stop(t, "daemon shutting down");
	if (d->ctl != NULL) {
		ctl_close(d->ctl);
		d->ctl = NULL;
	}
	metrics_http_free(d->metrics);
	d->metrics = NULL;
	/*
	 * The loop ends by itself once the sessions' sockets have closed
	 * (their servers read our DISCONNECT), or at this deadline.
	 */
	ev_timer_init(&d->shutdown_timer, daemon_shutdown_cb, SHUTDOWN_LINGER,
	    0.);
	d->shutdown_timer.data = d;
	unref_start(d->loop, &d->shutdown_timer, timer);
}

static void
daemon_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon	*d = w->data;
	json_t		*reply;
	char		*err = NULL;

	if (w->signum == SIGHUP) {
		log_info("SIGHUP: reloading %s", d->config_path);
		if ((reply = daemon_reload(d, &err)) == NULL) {
			log_err("reload failed, keeping the running set:\n%s",
			    err);
			free(err);
		} else
			json_decref(reply);
		return;
	}
	if (w->signum == SIGUSR1) {
		daemon_check_now(d, NULL, "SIGUSR1", NULL, NULL);
		return;
	}
	log_info("signal %d received", w->signum);
	daemon_shutdown(d);
}

/* ---- checks of the sessions ----------------------------------------- */

int
daemon_check_now(struct daemon *d, const char *name, const char *why,
    json_t *checked, json_t *retried)
{
	struct tunnel	*t;
	json_t		*into;
	size_t		 nchecked = 0, nretried = 0;

	if (name != NULL && daemon_tunnel_find(d, name) == NULL)
		return -1;
	TAILQ_FOREACH(t, &d->tunnels, entry) {
		if (name != NULL && strcmp(t->spec->name, name) != 0)
			continue;
		switch (tunnel_check_now(t, why)) {
		case TCHECK_SESSION:
			nchecked++;
			into = checked;
			break;
		case TCHECK_RETRY:
			nretried++;
			into = retried;
			break;
		default:
			into = NULL;
			break;
		}
		if (into != NULL)
			json_array_append_new(into, json_string(t->spec->name));
	}
	if (name == NULL)
		log_info("%s: checking %zu session%s, %zu tunnel%s in backoff "
		    "retry now", why, nchecked, nchecked == 1 ? "" : "s",
		    nretried, nretried == 1 ? "" : "s");
	return 0;
}

/* A network change or a resume: every session is checked. */
static void
daemon_netwatch_cb(void *arg, const char *why)
{
	struct daemon	*d = arg;

	if (!d->stopping)
		daemon_check_now(d, NULL, why, NULL, NULL);
}

/* ---- systemd notification ------------------------------------------- */

/* One datagram to $NOTIFY_SOCKET; nothing at all without it. */
static void
daemon_sd_notify(struct daemon *d, const char *msg)
{
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	socklen_t		 len;
	size_t			 plen;
	int			 fd;

	if (path == NULL || *path == '\0' ||
	    (plen = strlen(path)) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_debug("cannot notify %s: %s", path, strerror(errno));
	close(fd);
}

static void
daemon_watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	/* Sent from the loop: a stuck loop stops it, and systemd notices. */
	daemon_sd_notify(w->data, "WATCHDOG=1");
}

void
daemon_notify_ready(struct daemon *d)
{
	const char	*usec = getenv("WATCHDOG_USEC");
	const char	*wpid = getenv("WATCHDOG_PID");
	double		 interval;

	d->notify = getenv("NOTIFY_SOCKET") != NULL;
	if (!d->notify)
		return;
	daemon_sd_notify(d, "READY=1");
	daemon_tunnels_changed(d);
	/* The watchdog may be meant for another process (sd_notify(3)). */
	if (wpid != NULL && *wpid != '\0' &&
	    strtoll(wpid, NULL, 10) != (long long)getpid()) {
		log_debug("WATCHDOG_PID=%s is not us: no watchdog", wpid);
		return;
	}
	if (usec != NULL && (interval = strtod(usec, NULL) / 1e6) > 0) {
		ev_timer_init(&d->watchdog, daemon_watchdog_cb, interval / 2,
		    interval / 2);
		d->watchdog.data = d;
		unref_start(d->loop, &d->watchdog, timer);
	}
}

void
daemon_tunnels_changed(struct daemon *d)
{
	struct tunnel	*t;
	size_t		 up = 0, n = 0;
	char		*msg;

	if (!d->notify || d->stopping)
		return;
	TAILQ_FOREACH(t, &d->tunnels, entry) {
		if (t->state == TS_STOPPED)
			continue;
		n++;
		if (t->state == TS_UP)
			up++;
	}
	xasprintf(&msg, "STATUS=%zu of %zu tunnels up", up, n);
	if (d->notify_status == NULL || strcmp(msg, d->notify_status) != 0) {
		daemon_sd_notify(d, msg);
		free(d->notify_status);
		d->notify_status = msg;
	} else
		free(msg);
}

struct tunnel *
daemon_tunnel_find(struct daemon *d, const char *name)
{
	struct tunnel	*t;

	TAILQ_FOREACH(t, &d->tunnels, entry) {
		if (strcmp(t->spec->name, name) == 0)
			return t;
	}
	return NULL;
}

size_t
daemon_tunnel_count(struct daemon *d)
{
	struct tunnel	*t;
	size_t		 n = 0;

	TAILQ_FOREACH(t, &d->tunnels, entry)
		n++;
	return n;
}

int
daemon_tunnel_addable(struct daemon *d, const struct tunnel_spec *spec,
    char **err)
{
	if (daemon_tunnel_find(d, spec->name) != NULL) {
		xasprintf(err, "tunnel exists: %s", spec->name);
		return -1;
	}
	return sshconn_check_spec(spec, err);
}

int
daemon_tunnel_add(struct daemon *d, struct tunnel_spec *spec, char **err)
{
	struct tunnel	*t;

	if (daemon_tunnel_addable(d, spec, err) != 0) {
		tunnel_spec_free(spec);
		return -1;
	}
	t = tunnel_new(d, spec, &tunnel_io_ops, &daemon_tunnel_owner);
	TAILQ_INSERT_TAIL(&d->tunnels, t, entry);
	log_info("tunnel %s added", spec->name);
	if (t->spec->enabled)
		tunnel_start(t);
	return 0;
}

int
daemon_tunnel_remove(struct daemon *d, const char *name, char **err)
{
	struct tunnel	*t;

	if ((t = daemon_tunnel_find(d, name)) == NULL) {
		xasprintf(err, "no such tunnel: %s", name);
		return -1;
	}
	tunnel_stop(t, "removed");
	TAILQ_REMOVE(&d->tunnels, t, entry);
	log_info("tunnel %s removed", name);
	tunnel_free(t);
	return 0;
}

int
daemon_cfg_check(const struct cfg *c, struct cfg_errors *errs)
{
	const struct tunnel_spec	*t;
	char				*why;
	size_t				 i;
	int				 r = 0;

	for (i = 0; i < c->ntunnels; i++) {
		t = c->tunnels[i];
		if (sshconn_check_spec(t, &why) != 0) {
			cfg_errors_add(errs, t->file, t->line, "tunnel %s: %s",
			    t->name, why);
			r = -1;
		}
		free(why);
	}
	return r;
}

/*
 * A reload, told to systemd as sd_notify(3) asks: RELOADING=1 with the
 * time it began, READY=1 when done, whether it worked or not.
 */
json_t *
daemon_reload(struct daemon *d, char **err)
{
	struct timespec	 ts;
	json_t		*reply;
	char		*msg;

	if (d->notify) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		xasprintf(&msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
		    (unsigned long long)ts.tv_sec * 1000000ULL +
		    (unsigned long long)ts.tv_nsec / 1000);
		daemon_sd_notify(d, msg);
		free(msg);
	}
	reply = daemon_reload_config(d, err);
	if (d->notify)
		daemon_sd_notify(d, "READY=1");
	return reply;
}

static json_t *
daemon_reload_config(struct daemon *d, char **err)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct cfg		*c;
	struct tunnel		*t, *tnext;
	struct tunnel_spec	*spec;
	json_t			*added, *removed, *restarted, *unchanged;
	json_t			*fwds_changed, *updated, *list;
	char			*ferr = NULL;
	json_t			*reply;
	size_t			 i;
	int			 found, live;

	if (d->config_path == NULL) {
		*err = xstrdup("no configuration file to reload");
		return NULL;
	}
	d->reload_failed = 1;	/* until it succeeds */
	if ((c = cfg_load(d->config_path, &errs)) == NULL ||
	    (d->state != NULL && state_merge(d->state, c, &errs) != 0) ||
	    daemon_cfg_check(c, &errs) != 0) {
		cfg_free(c);
		*err = cfg_errors_join(&errs);
		if (*err == NULL)
			*err = xstrdup("configuration rejected");
		cfg_errors_clear(&errs);
		return NULL;
	}
	if (daemon_metrics_listen(d, c->metrics_listen, err) != 0) {
		cfg_free(c);
		return NULL;
	}
	d->reload_failed = 0;
	d->loaded = now_wall();
	for (i = 0; i < c->warnings.n; i++)
		log_warn("%s", c->warnings.msg[i]);

	/* Records that no longer apply stay gone (tunsupd.conf(5)). */
	if (state_flush(d->state, &ferr) != 0) {
		log_warn("%s", ferr);
		free(ferr);
	}

	added = json_array();
	removed = json_array();
	restarted = json_array();
	unchanged = json_array();
	fwds_changed = json_array();
	updated = json_array();

	/* Removed: running tunnels the new file does not name. */
	TAILQ_FOREACH_SAFE(t, &d->tunnels, entry, tnext) {
		found = 0;
		for (i = 0; i < c->ntunnels; i++) {
			if (strcmp(c->tunnels[i]->name, t->spec->name) == 0)
				found = 1;
		}
		if (!found) {
			json_array_append_new(removed,
			    json_string(t->spec->name));
			tunnel_stop(t, "removed by reload");
			TAILQ_REMOVE(&d->tunnels, t, entry);
			tunnel_free(t);
		}
	}
	/* Changed, unchanged and new. */
	while (c->ntunnels > 0) {
		spec = cfg_take_tunnel(c, 0);
		t = daemon_tunnel_find(d, spec->name);
		if (t == NULL) {
			json_array_append_new(added, json_string(spec->name));
			t = tunnel_new(d, spec, &tunnel_io_ops,
			    &daemon_tunnel_owner);
			TAILQ_INSERT_TAIL(&d->tunnels, t, entry);
			if (spec->enabled)
				tunnel_start(t);
		} else if (tunnel_spec_equal(t->spec, spec)) {
			json_array_append_new(unchanged,
			    json_string(spec->name));
			tunnel_spec_free(spec);
		} else {
			live = tunnel_spec_equal_but_live(t->spec, spec);
			/* Taken with spec: the name is t's now. */
			if (tunnel_replace_spec(t, spec) == 0)
				list = restarted;
			else
				list = live ? updated : fwds_changed;
			json_array_append_new(list, json_string(t->spec->name));
		}
	}
	cfg_free(d->cfg);
	d->cfg = c;

	reply = json_object();
	/* json_object_set_new steals each array. */
	json_object_set_new(reply, "added", added);
	json_object_set_new(reply, "removed", removed);
	json_object_set_new(reply, "restarted", restarted);
	json_object_set_new(reply, "unchanged", unchanged);
	json_object_set_new(reply, "forwards_changed", fwds_changed);
	json_object_set_new(reply, "updated", updated);
	log_info("reloaded %s: %zu added, %zu removed, %zu restarted, "
	    "%zu with forwards changed in the session, %zu updated in the "
	    "session, %zu unchanged", d->config_path, json_array_size(added),
	    json_array_size(removed), json_array_size(restarted),
	    json_array_size(fwds_changed), json_array_size(updated),
	    json_array_size(unchanged));
	return reply;
}

static json_t *
daemon_metrics_status(void *arg)
{
	return ctl_status(arg);
}

int
daemon_metrics_listen(struct daemon *d, const char *spec, char **err)
{
	char	*old = NULL, *oerr = NULL;
	int	 r = 0;

	if (metrics_http_spec(d->metrics) != NULL)
		old = xstrdup(metrics_http_spec(d->metrics));
	if ((spec == NULL && old == NULL) ||
	    (spec != NULL && old != NULL && strcmp(spec, old) == 0))
		goto out;
	/* The old socket goes first: the new address may be the same. */
	metrics_http_free(d->metrics);
	d->metrics = NULL;
	if (spec == NULL)
		goto out;
	d->metrics = metrics_http_open(d->loop, d->fdlimit, spec,
	    daemon_metrics_status, d, err);
	if (d->metrics == NULL) {
		r = -1;
		/* Keep serving where it did. */
		if (old != NULL && (d->metrics = metrics_http_open(d->loop,
		    d->fdlimit, old, daemon_metrics_status, d, &oerr)) == NULL) {
			log_warn("%s", oerr);
			free(oerr);
		}
	}
 out:
	free(old);
	return r;
}

void
daemon_emit(struct daemon *d, json_t *event)
{
	if (d->ctl != NULL)
		ctl_broadcast(d->ctl, event);
	json_decref(event);
}

/*
 * Handshake slots: at most handshakes_max tickets are between TCP connect
 * and authenticated at once, so a fleet of tunnels to one bridge does not
 * trip sshd's MaxStartups. Returns 1 if tk may go now; else tk is queued and
 * tk->granted() is called later.
 */
int
daemon_handshake_acquire(struct daemon *d, struct hs_ticket *tk)
{
	if (tk->held)
		return 1;
	if (d->handshakes < d->handshakes_max) {
		d->handshakes++;
		tk->held = 1;
		return 1;
	}
	if (!tk->waiting) {
		TAILQ_INSERT_TAIL(&d->handshake_wait, tk, entry);
		tk->waiting = 1;
	}
	return 0;
}

void
daemon_handshake_release(struct daemon *d, struct hs_ticket *tk)
{
	struct hs_ticket	*next;

	if (tk->waiting) {
		TAILQ_REMOVE(&d->handshake_wait, tk, entry);
		tk->waiting = 0;
	}
	if (!tk->held)
		return;
	tk->held = 0;
	d->handshakes--;
	if ((next = TAILQ_FIRST(&d->handshake_wait)) != NULL) {
		TAILQ_REMOVE(&d->handshake_wait, next, entry);
		next->waiting = 0;
		next->held = 1;
		d->handshakes++;
		next->granted(next->arg);
	}
}

/*
 * Keepalive rounds. A thousand tunnels with their own timers would wake the
 * daemon a thousand times per interval, and every expiry would reorder libev's
 * timer heap, writing into the watchers (and so the cold memory) of other
 * tunnels. Instead, whole-second intervals go on a wheel of one-second slots
 * turned by a single timer: the rounds due in a second are taken in one
 * wake-up and served ALIVE_SLICE per loop turn, so that the turns in between
 * carry other tunnels' traffic. The wheel runs on the monotonic clock; a
 * tunnel is on at most one list (a slot or alive_due) through alive_entry.
 */
static long
alive_now(void)
{
	return (long)floor(now_mono());
}

static void
alive_unlink(struct daemon *d, struct alive_round *r)
{
	switch (r->where) {
	case ALIVE_WHEEL:
		TAILQ_REMOVE(&d->alive_wheel[r->at % ALIVE_SLOTS], r, entry);
		d->alive_count--;
		break;
	case ALIVE_DUE:
		TAILQ_REMOVE(&d->alive_due, r, entry);
		break;
	default:
		break;
	}
	r->where = ALIVE_OFF;
}

void
daemon_alive_schedule(struct daemon *d, struct alive_round *r, long seconds)
{
	double	 now;

	alive_unlink(d, r);
	r->at = alive_now() + (seconds > 0 ? seconds : 1);
	TAILQ_INSERT_TAIL(&d->alive_wheel[r->at % ALIVE_SLOTS], r, entry);
	r->where = ALIVE_WHEEL;
	if (d->alive_count++ == 0) {
		/* Just past the next whole second, then every second. */
		now = now_mono();
		d->alive_done = alive_now();
		ev_timer_set(&d->alive_tick, floor(now) + 1.001 - now, 1.);
		ev_timer_start(d->loop, &d->alive_tick);
	}
}

void
daemon_alive_due(struct daemon *d, struct alive_round *r)
{
	if (r->where == ALIVE_DUE)
		return;
	alive_unlink(d, r);
	TAILQ_INSERT_TAIL(&d->alive_due, r, entry);
	r->where = ALIVE_DUE;
	soon_start(d->loop, &d->alive_drain);
}

void
daemon_alive_forget(struct daemon *d, struct alive_round *r)
{
	alive_unlink(d, r);
	if (d->alive_count == 0)
		ev_timer_stop(d->loop, &d->alive_tick);
}

static void
daemon_alive_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon		*d = w->data;
	struct alive_round	*r, *next;
	long			 now = alive_now(), s, from;

	/* Every slot since the last turn, each at most once. */
	from = d->alive_done + 1;
	if (now - from >= ALIVE_SLOTS)
		from = now - ALIVE_SLOTS + 1;
	for (s = from; s <= now; s++) {
		TAILQ_FOREACH_SAFE(r, &d->alive_wheel[s % ALIVE_SLOTS], entry,
		    next) {
			if (r->at <= now)
				daemon_alive_due(d, r);
		}
	}
	d->alive_done = now;
	if (d->alive_count == 0)
		ev_timer_stop(loop, w);
}

static void
daemon_alive_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct daemon		*d = w->data;
	struct alive_round	*r;
	int			 n;

	for (n = 0; n < ALIVE_SLICE; n++) {
		if ((r = TAILQ_FIRST(&d->alive_due)) == NULL)
			break;
		alive_unlink(d, r);
		r->due(r->arg);
	}
	if (TAILQ_EMPTY(&d->alive_due))
		soon_stop(loop, &d->alive_drain);
}

/*
 * Start-up spread: tunnels started in the daemon's first seconds, when there
 * are several, wait up to half a second first (tunsupd(8)), so that a fleet
 * does not connect in one burst.
 */
static double
daemon_start_delay(struct daemon *d)
{
	if (d->started + START_WINDOW > now_wall() &&
	    daemon_tunnel_count(d) > 1)
		return rand_unit() * START_SPREAD;
	return 0;
}

const struct tunnel_owner daemon_tunnel_owner = {
	.emit = daemon_emit,
	.changed = daemon_tunnels_changed,
	.slot_acquire = daemon_handshake_acquire,
	.slot_release = daemon_handshake_release,
	.alive_schedule = daemon_alive_schedule,
	.alive_due = daemon_alive_due,
	.alive_forget = daemon_alive_forget,
	.start_delay = daemon_start_delay,
};
