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
 * Unit tests of the tunnel with the real session, the real daemon and the
 * real clock: backoff, connection failures, handshake slots, the start-up
 * spread. The state machine itself is tested with fakes in test_tunnel_sm.c.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cfg.h"
#include "daemon.h"
#include "log.h"
#include "tunnel.h"
#include "util.h"
#include "unit.h"

Test(backoff, attempt_zero_is_min)
{
	cr_assert_eq(tunnel_backoff_ms(1000, 60000, 0, 0.99), 1000);
}

Test(backoff, unit_zero_is_min)
{
	cr_assert_eq(tunnel_backoff_ms(1000, 60000, 5, 0.0), 1000);
}

Test(backoff, grows_exponentially_below_cap)
{
	/* attempt 3: up to 1000 * 2^3 */
	long	 hi = tunnel_backoff_ms(1000, 60000, 3, 0.999999);

	cr_assert(hi > 7900 && hi <= 8000, "got %ld", hi);
	cr_assert_eq(tunnel_backoff_ms(1000, 60000, 3, 0.5), 1000 + 3500);
}

Test(backoff, capped)
{
	long	 v = tunnel_backoff_ms(1000, 5000, 20, 0.999999);

	cr_assert(v <= 5000 && v > 4990, "got %ld", v);
}

Test(backoff, cap_below_min_gives_min)
{
	cr_assert_eq(tunnel_backoff_ms(2000, 500, 4, 0.7), 2000);
}

Test(backoff, huge_attempt_no_overflow)
{
	long	 v = tunnel_backoff_ms(200, 60000, 1 << 20, 0.5);

	cr_assert(v >= 200 && v <= 60000, "got %ld", v);
}

Test(backoff, full_jitter_spreads)
{
	long	 lo = 1L << 30, hi = 0, v;
	int	 i;

	for (i = 0; i < 1000; i++) {
		v = tunnel_backoff_ms(100, 10000, 10, rand_unit());
		if (v < lo)
			lo = v;
		if (v > hi)
			hi = v;
	}
	cr_assert(lo < 1000 && hi > 9000, "lo %ld hi %ld", lo, hi);
}

/* ---- with a real loop ------------------------------------------------- */

static int
closed_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, port;

	/* Bind, learn the port, close: nothing listens there now. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static struct daemon *
mkdaemon(struct ev_loop *loop, const char *text)
{
	return daemon_new(loop, unit_cfg("t.conf", text), NULL);
}

static void
stop_loop(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

/* Run the loop until t reaches state or timeout_s passes. */
static int
run_until(struct ev_loop *loop, struct tunnel *t, enum tunnel_state st,
    double timeout_s)
{
	ev_timer	 tick, deadline;
	double		 end = now_mono() + timeout_s;

	ev_timer_init(&deadline, stop_loop, timeout_s, 0.);
	ev_timer_start(loop, &deadline);
	while (t->state != st && now_mono() < end) {
		ev_timer_init(&tick, stop_loop, 0.01, 0.);
		ev_timer_start(loop, &tick);
		ev_run(loop, EVRUN_ONCE);
		ev_timer_stop(loop, &tick);
	}
	ev_timer_stop(loop, &deadline);
	return t->state == st;
}

static char	 captured[8192];

static void
capture(enum log_level level, const char *msg, void *arg)
{
	if (strlen(captured) + strlen(msg) + 2 < sizeof(captured)) {
		strcat(captured, msg);
		strcat(captured, "\n");
	}
}

Test(tunnel, refused_goes_to_backoff_with_reason)
{
	struct ev_loop	*loop = ev_loop_new(0);
	struct daemon	*d;
	struct tunnel	*t;
	json_t		*st;
	char		 conf[512];
	double		 next;

	captured[0] = '\0';
	log_register(capture, NULL);
	snprintf(conf, sizeof(conf), "RetryMin 200ms\nRetryNetworkMax 1s\n"
	    "Tunnel a\n HostName 127.0.0.1\n Port %d\n IdentityAgent none\n"
	    " UserKnownHostsFile /dev/null\n LocalForward %d 127.0.0.1:9\n",
	    closed_port(), closed_port());
	d = mkdaemon(loop, conf);
	t = daemon_tunnel_find(d, "a");
	cr_assert_not_null(t);
	cr_assert_eq(t->state, TS_STOPPED);
	tunnel_start(t);
	cr_assert(run_until(loop, t, TS_BACKOFF, 5.0), "state %s",
	    tunnel_state_name(t->state));
	cr_assert_eq(t->failures, 1);
	cr_assert_eq(t->connects, 0);
	cr_assert_eq(t->fail_kind, TF_NETWORK);
	cr_assert_not_null(strstr(t->last_error, "Connection refused"),
	    "%s", t->last_error);
	st = tunnel_status(t);
	next = json_real_value(json_object_get(st, "next_retry_s"));
	cr_assert(next > 0 && next <= 1.0, "next_retry_s %f", next);
	cr_assert_str_eq(json_string_value(json_object_get(st, "state")),
	    "backoff");
	/* Never up: down since the start. */
	cr_assert(json_real_value(json_object_get(st, "down_since")) > 0);
	json_decref(st);
	cr_assert_not_null(strstr(captured, "connecting -> backoff"),
	    "log: %s", captured);
	/* It never gives up: a second attempt fails as well. */
	cr_assert(run_until(loop, t, TS_CONNECTING, 3.0));
	cr_assert(run_until(loop, t, TS_BACKOFF, 5.0));
	cr_assert_eq(t->failures, 2);
	tunnel_stop(t, "test");
	cr_assert_eq(t->state, TS_STOPPED);
	log_register(NULL, NULL);
	daemon_free(d);
	ev_loop_destroy(loop);
}

Test(tunnel, unresolvable_name_is_a_network_failure)
{
	struct ev_loop	*loop = ev_loop_new(0);
	struct daemon	*d;
	struct tunnel	*t;

	d = mkdaemon(loop, "Tunnel a\n HostName no-such-host.invalid\n"
	    " IdentityAgent none\n");
	t = daemon_tunnel_find(d, "a");
	tunnel_start(t);
	cr_assert(run_until(loop, t, TS_BACKOFF, 10.0), "state %s",
	    tunnel_state_name(t->state));
	cr_assert_eq(t->fail_kind, TF_NETWORK);
	cr_assert_not_null(strstr(t->last_error, "cannot resolve"), "%s",
	    t->last_error);
	daemon_free(d);
	ev_loop_destroy(loop);
}

Test(tunnel, handshake_slots_are_bounded)
{
	struct ev_loop	*loop = ev_loop_new(0);
	struct daemon	*d;
	struct tunnel	*a, *b;

	d = mkdaemon(loop, "Tunnel a\n HostName 127.0.0.1\n"
	    "Tunnel b\n HostName 127.0.0.1\n");
	d->handshakes_max = 1;
	a = daemon_tunnel_find(d, "a");
	b = daemon_tunnel_find(d, "b");
	cr_assert(daemon_handshake_acquire(d, &a->slot));
	cr_assert(!daemon_handshake_acquire(d, &b->slot));
	cr_assert(b->slot.waiting);
	cr_assert_eq(d->handshakes, 1);
	/* Releasing a's slot hands it to b. */
	b->wanted = 0;		/* granted to a tunnel no longer wanted: freed */
	daemon_handshake_release(d, &a->slot);
	cr_assert(!b->slot.waiting);
	cr_assert_eq(d->handshakes, 0);
	cr_assert(!b->slot.held);
	daemon_free(d);
	ev_loop_destroy(loop);
}

Test(tunnel, restart_skips_backoff)
{
	struct ev_loop	*loop = ev_loop_new(0);
	struct daemon	*d;
	struct tunnel	*t;
	char		 conf[256];

	snprintf(conf, sizeof(conf), "RetryMin 30s\nRetryNetworkMax 60s\n"
	    "Tunnel a\n HostName 127.0.0.1\n Port %d\n IdentityAgent none\n",
	    closed_port());
	d = mkdaemon(loop, conf);
	t = daemon_tunnel_find(d, "a");
	tunnel_start(t);
	cr_assert(run_until(loop, t, TS_BACKOFF, 5.0));
	cr_assert(t->retry_at - now_wall() > 20);
	tunnel_restart(t, "test");
	cr_assert_eq(t->state, TS_CONNECTING);
	cr_assert(run_until(loop, t, TS_BACKOFF, 5.0));
	cr_assert_eq(t->failures, 2);
	daemon_free(d);
	ev_loop_destroy(loop);
}

Test(tunnel, status_of_a_stopped_tunnel)
{
	struct ev_loop	*loop = ev_loop_new(0);
	struct daemon	*d;
	json_t		*st, *f;

	d = mkdaemon(loop, "Tunnel a\n HostName h\n User u\n Port 2222\n"
	    " RemoteForward 2220 localhost:22\n");
	st = tunnel_status(daemon_tunnel_find(d, "a"));
	cr_assert_str_eq(json_string_value(json_object_get(st, "state")),
	    "stopped");
	cr_assert_str_eq(json_string_value(json_object_get(st, "host")), "h");
	cr_assert_eq(json_integer_value(json_object_get(st, "port")), 2222);
	cr_assert(json_is_null(json_object_get(st, "last_error")));
	cr_assert(json_is_null(json_object_get(st, "next_retry_s")));
	f = json_array_get(json_object_get(st, "forwards"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f, "kind")),
	    "remote");
	cr_assert_str_eq(json_string_value(json_object_get(f, "listen")),
	    "localhost:2220");
	cr_assert_str_eq(json_string_value(json_object_get(f, "state")),
	    "pending");
	json_decref(st);
	daemon_free(d);
	ev_loop_destroy(loop);
}

Test(tunnel, start_up_spread_is_decided_by_the_daemon)
{
	struct ev_loop	*loop = ev_loop_new(0);
	struct daemon	*d;
	struct tunnel	*a;
	double		 v;
	int		 i, spread = 0;

	d = mkdaemon(loop, "Tunnel a\n HostName h\n IdentityAgent none\n"
	    "Tunnel b\n HostName h\n IdentityAgent none\n");
	for (i = 0; i < 100; i++) {
		v = daemon_tunnel_owner.start_delay(d);
		cr_assert(v >= 0 && v < 0.5, "delay %f", v);
		spread += v > 0;
	}
	cr_assert(spread > 90);
	/* Started now: connecting, waiting, no session yet. */
	a = daemon_tunnel_find(d, "a");
	tunnel_start(a);
	cr_assert_eq(a->state, TS_CONNECTING);
	cr_assert_null(a->conn);
	cr_assert(ev_is_active(&a->timers[TT_RETRY]));
	tunnel_stop(a, "test");
	cr_assert(!ev_is_active(&a->timers[TT_RETRY]));
	/* Later on, nobody waits. */
	d->started -= 10;
	cr_assert_eq(daemon_tunnel_owner.start_delay(d), 0);
	daemon_free(d);
	/* Nor does a lone tunnel. */
	d = mkdaemon(loop, "Tunnel a\n HostName h\n");
	cr_assert_eq(daemon_tunnel_owner.start_delay(d), 0);
	daemon_free(d);
	ev_loop_destroy(loop);
}
