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
 * test_resolver.c: the resolver's workers, with getaddrinfo wrapped at link
 * time (-Wl,--wrap=getaddrinfo, see Makefile.am): a name beginning "hang"
 * blocks until the test lets it go, like a silent DNS server, then answers
 * 127.0.0.2; any other name answers 127.0.0.1 at once. Numeric hosts go to
 * the real getaddrinfo. Thread counts are read from /proc/self/task.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "resolver.h"
#include "util.h"

int	__real_getaddrinfo(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **);
int	__wrap_getaddrinfo(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **);

static pthread_mutex_t	 fake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 fake_cond = PTHREAD_COND_INITIALIZER;
static int		 fake_open;	/* hung names may answer */
static int		 fake_hung;	/* threads inside a hung lookup */
static int		 fake_lookups;	/* names looked up, in all */

int
__wrap_getaddrinfo(const char *host, const char *serv,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo	 numeric;
	const char	*addr = "127.0.0.1";

	if (hints != NULL && (hints->ai_flags & AI_NUMERICHOST))
		return __real_getaddrinfo(host, serv, hints, res);
	pthread_mutex_lock(&fake_lock);
	fake_lookups++;
	if (strncmp(host, "hang", 4) == 0) {
		addr = "127.0.0.2";
		fake_hung++;
		pthread_cond_broadcast(&fake_cond);
		while (!fake_open)
			pthread_cond_wait(&fake_cond, &fake_lock);
		fake_hung--;
		pthread_cond_broadcast(&fake_cond);
	}
	pthread_mutex_unlock(&fake_lock);
	memset(&numeric, 0, sizeof(numeric));
	numeric.ai_family = AF_INET;
	numeric.ai_socktype = SOCK_STREAM;
	numeric.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	return __real_getaddrinfo(addr, serv, &numeric, res);
}

static void
fake_release(void)
{
	pthread_mutex_lock(&fake_lock);
	fake_open = 1;
	pthread_cond_broadcast(&fake_cond);
	pthread_mutex_unlock(&fake_lock);
}

static int
fake_get(int *v)
{
	int	n;

	pthread_mutex_lock(&fake_lock);
	n = *v;
	pthread_mutex_unlock(&fake_lock);
	return n;
}

/* Wait (off any loop) until n threads are inside hung lookups. */
static void
fake_wait_hung(int n)
{
	double	end = now_mono() + 5.;

	while (fake_get(&fake_hung) != n && now_mono() < end)
		usleep(1000);
	cr_assert_eq(fake_get(&fake_hung), n, "hung lookups");
}

static int
threads_now(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	cr_assert_not_null(d = opendir("/proc/self/task"));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Poll until the thread count is n (threads end on their own). */
static int
threads_settle(int n)
{
	double	end = now_mono() + 5.;

	while (threads_now() != n && now_mono() < end)
		usleep(1000);
	return threads_now();
}

struct answer {
	int		 calls;
	int		 err;
	char		 addr[INET6_ADDRSTRLEN];
	int		 port;
	struct resolve_req *sibling;	/* cancelled from the callback */
	struct resolve_req **self;	/* cleared from the callback */
};

static void
answer_cb(const struct addrinfo *ai, int err, void *arg)
{
	struct answer		*a = arg;
	const struct sockaddr_in *sin;

	a->calls++;
	a->err = err;
	if (a->self != NULL)
		*a->self = NULL;
	if (ai != NULL && ai->ai_family == AF_INET) {
		sin = (const struct sockaddr_in *)ai->ai_addr;
		inet_ntop(AF_INET, &sin->sin_addr, a->addr, sizeof(a->addr));
		a->port = ntohs(sin->sin_port);
	} else if (ai != NULL)
		strcpy(a->addr, "inet6");
	if (a->sibling != NULL)
		resolver_cancel(a->sibling);
}

static void
stop_loop(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ONE);
}

/* Run the loop until *calls reaches n or timeout_s passes. */
static int
run_until(struct ev_loop *loop, const int *calls, int n, double timeout_s)
{
	ev_timer	 tick;
	double		 end = now_mono() + timeout_s;

	while (*calls < n && now_mono() < end) {
		ev_timer_init(&tick, stop_loop, 0.01, 0.);
		ev_timer_start(loop, &tick);
		ev_run(loop, EVRUN_ONCE);
		ev_timer_stop(loop, &tick);
	}
	return *calls >= n;
}

/* Hang every worker: hang0.test to hang3.test, answered into hung[]. */
static void
hang_workers(struct resolver *r, struct answer *hung)
{
	char	name[32];
	int	i;

	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "hang%d.test", i);
		resolver_query(r, name, 22, answer_cb, &hung[i]);
	}
	fake_wait_hung(4);
}

/* Let the hung lookups answer; each of hung[] must be called. */
static int
release_workers(struct ev_loop *loop, struct answer *hung)
{
	int	i, calls = 0;

	fake_release();
	for (i = 0; i < 4; i++) {
		cr_assert(run_until(loop, &hung[i].calls, 1, 2.));
		calls += hung[i].calls;
	}
	return calls;
}

Test(resolver, numeric_host_answers_on_the_next_turn)
{
	struct ev_loop	*loop = ev_loop_new(0);
	struct resolver	*r = resolver_new(loop);
	struct answer	 a = { 0 };
	int		 base = threads_now();

	resolver_query(r, "127.0.0.1", 2222, answer_cb, &a);
	cr_assert_eq(a.calls, 0, "never from inside resolver_query");
	cr_assert(run_until(loop, &a.calls, 1, 2.));
	cr_assert_eq(a.err, 0);
	cr_assert_str_eq(a.addr, "127.0.0.1");
	cr_assert_eq(a.port, 2222);
	cr_assert_eq(fake_get(&fake_lookups), 0, "no lookup for a number");
	cr_assert_eq(threads_now(), base, "no thread for a number");
	resolver_free(r);
	ev_loop_destroy(loop);
}

Test(resolver, name_is_looked_up_off_the_loop)
{
	struct ev_loop	*loop = ev_loop_new(0);
	struct resolver	*r = resolver_new(loop);
	struct answer	 a = { 0 };

	resolver_query(r, "example.test", 22, answer_cb, &a);
	/* The query holds the loop: ev_run returns with the answer. */
	ev_run(loop, 0);
	cr_assert_eq(a.calls, 1);
	cr_assert_eq(a.err, 0);
	cr_assert_str_eq(a.addr, "127.0.0.1");
	cr_assert_eq(a.port, 22);
	resolver_free(r);
	ev_loop_destroy(loop);
}

#define MANY	1000

Test(resolver, a_thousand_names_take_four_threads)
{
	struct ev_loop	*loop = ev_loop_new(0);
	struct resolver	*r = resolver_new(loop);
	static struct answer a[MANY];
	char		 name[32];
	int		 base = threads_now(), i, peak = 0, n;

	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "host%d.test", i);
		resolver_query(r, name, 22, answer_cb, &a[i]);
		if ((n = threads_now() - base) > peak)
			peak = n;
	}
	/*
	 * Each answer awaited in turn: four workers may answer the last
	 * query before an earlier one.
	 */
	for (i = 0; i < MANY; i++) {
		cr_assert(run_until(loop, &a[i].calls, 1, 5.), "query %d", i);
		if ((n = threads_now() - base) > peak)
			peak = n;
	}
	for (i = 0; i < MANY; i++)
		cr_assert(a[i].calls == 1 && a[i].err == 0, "query %d", i);
	cr_assert_eq(fake_get(&fake_lookups), MANY);
	cr_log_info("%d queries at once: %d worker threads at most", MANY,
	    peak);
	cr_assert(peak >= 1 && peak <= 4, "%d threads", peak);
	resolver_free(r);
	cr_assert_eq(threads_settle(base), base, "workers end on free");
	ev_loop_destroy(loop);
}

Test(resolver, a_hung_name_holds_one_worker_and_others_go_on)
{
	struct ev_loop		*loop = ev_loop_new(0);
	struct resolver		*r = resolver_new(loop);
	struct answer		 hung = { 0 }, retry = { 0 }, ok = { 0 };
	struct resolve_req	*q;
	int			 i;

	q = resolver_query(r, "hang.test", 22, answer_cb, &hung);
	fake_wait_hung(1);
	/* The tunnel gives up and retries, again and again. */
	for (i = 0; i < 10; i++) {
		resolver_cancel(q);
		q = resolver_query(r, "hang.test", 22, answer_cb, &retry);
	}
	cr_assert(run_until(loop, &ok.calls, 1, 0.2) == 0);
	resolver_query(r, "ok.test", 22, answer_cb, &ok);
	cr_assert(run_until(loop, &ok.calls, 1, 2.), "others go on");
	cr_assert_str_eq(ok.addr, "127.0.0.1");
	cr_assert_eq(fake_get(&fake_hung), 1, "the retries share a worker");
	fake_release();
	cr_assert(run_until(loop, &retry.calls, 1, 2.));
	cr_assert_eq(retry.calls, 1);
	cr_assert_str_eq(retry.addr, "127.0.0.2");
	cr_assert_eq(hung.calls, 0, "a cancelled query is never called");
	cr_assert_eq(fake_get(&fake_lookups), 2);
	resolver_free(r);
	ev_loop_destroy(loop);
}

Test(resolver, with_every_worker_hung_a_spare_starts)
{
	struct ev_loop	*loop = ev_loop_new(0);
	struct resolver	*r = resolver_new(loop);
	struct answer	 hung[4] = { 0 }, ok = { 0 };
	int		 base = threads_now();

	hang_workers(r, hung);
	cr_assert_eq(threads_now() - base, 4);
	resolver_query(r, "ok.test", 22, answer_cb, &ok);
	cr_assert(run_until(loop, &ok.calls, 1, 1.) == 0, "queued");
	cr_assert(run_until(loop, &ok.calls, 1, 3.), "a spare answers");
	cr_assert_eq(threads_settle(base + 4), base + 4, "and ends");
	cr_assert_eq(release_workers(loop, hung), 4);
	cr_assert_eq(threads_now(), base + 4, "the pool stays");
	resolver_free(r);
	ev_loop_destroy(loop);
}

Test(resolver, cancel_from_a_callback_and_before_a_worker_starts)
{
	struct ev_loop		*loop = ev_loop_new(0);
	struct resolver		*r = resolver_new(loop);
	struct answer		 first = { 0 }, second = { 0 }, queued = { 0 };
	struct answer		 hung[4] = { 0 };
	struct resolve_req	*q;

	/* Two waiters on one lookup; the first's callback drops the other. */
	first.self = &q;
	q = resolver_query(r, "same.test", 22, answer_cb, &first);
	first.sibling = resolver_query(r, "same.test", 22, answer_cb, &second);
	cr_assert(run_until(loop, &first.calls, 1, 2.));
	cr_assert_null(q);
	resolver_cancel(q);		/* NULL: nothing */
	cr_assert(run_until(loop, &second.calls, 1, 0.2) == 0);
	cr_assert_eq(fake_get(&fake_lookups), 1);

	/* Every worker hung: a queued query cancelled is never looked up. */
	hang_workers(r, hung);
	q = resolver_query(r, "queued.test", 22, answer_cb, &queued);
	resolver_cancel(q);
	release_workers(loop, hung);
	cr_assert(run_until(loop, &queued.calls, 1, 0.2) == 0);
	cr_assert_eq(fake_get(&fake_lookups), 5);
	resolver_free(r);
	ev_loop_destroy(loop);
}

/*
 * The daemon exits with lookups hung: resolver_free returns at once, no
 * callback comes, and the workers free everything once their lookups
 * return (LeakSanitizer checks, in build-asan).
 */
Test(resolver, free_while_lookups_hang)
{
	struct ev_loop	*loop = ev_loop_new(0);
	struct resolver	*r = resolver_new(loop);
	struct answer	 a[3] = { 0 };
	int		 base = threads_now();
	double		 t0;

	resolver_query(r, "hang1.test", 22, answer_cb, &a[0]);
	resolver_query(r, "hang2.test", 22, answer_cb, &a[1]);
	resolver_query(r, "127.0.0.1", 22, answer_cb, &a[2]);
	fake_wait_hung(2);
	t0 = now_mono();
	resolver_free(r);
	cr_assert_lt(now_mono() - t0, 0.5, "resolver_free waited");
	ev_loop_destroy(loop);
	cr_assert_eq(threads_now() - base, 2, "the hung workers remain");
	fake_release();
	cr_assert_eq(threads_settle(base), base, "and end");
	cr_assert_eq(a[0].calls + a[1].calls + a[2].calls, 0);
}
