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
 * resolver.c: name resolution off the loop. getaddrinfo(3) runs on a few
 * worker threads of our own, so that names are looked up the way ssh looks
 * them up (nsswitch.conf: files, dns, mdns, myhostname, systemd-resolved)
 * and the code builds on any POSIX libc, musl included.
 *
 * A lookup is a job: host and port, queued for the workers, then done and
 * handed to the loop through an ev_async. Queries for a host and port that
 * a job already has wait on that job, cancelled ones included: a tunnel
 * that retries while its name hangs never takes a second worker. A worker
 * touches nothing but the queues (under the lock) and its job; it never
 * logs and never calls back. A cancelled query is simply forgotten; its job
 * still runs to the end and its result is freed, by the loop, or by the
 * worker itself once the resolver is gone.
 *
 * RESOLVER_THREADS workers start as jobs come (1000 tunnels starting at
 * once make 4 threads). When the queue has not moved for RESOLVER_STALL
 * seconds with every worker busy, lookups are hanging (a silent DNS
 * server), so a spare starts, up to RESOLVER_THREADS_MAX; spares end when
 * the queue is empty. With every thread hung on a different name, other
 * lookups wait until one of them returns (the libc's own time limit: for
 * DNS, resolv.conf's timeout and attempts).
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "resolver.h"
#include "util.h"

#define RESOLVER_THREADS	4
#define RESOLVER_THREADS_MAX	16
#define RESOLVER_STALL		2.	/* seconds */

enum job_state {
	JOB_QUEUED,		/* on r->pending */
	JOB_RUNNING,		/* a worker's */
	JOB_DONE,		/* on r->done */
};

struct resolve_job {
	TAILQ_ENTRY(resolve_job) entry;		/* pending or done: locked */
	TAILQ_ENTRY(resolve_job) all;		/* the loop's r->jobs */
	TAILQ_HEAD(, resolve_req) waiters;	/* the loop's */
	enum job_state		 state;		/* locked */
	char			*host;
	char			 port[8];
	int			 err;
	struct addrinfo		*ai;
};

struct resolve_req {
	struct resolver		*r;
	struct resolve_job	*job;		/* NULL while called back */
	TAILQ_ENTRY(resolve_req) entry;
	resolve_cb		 cb;
	void			*arg;
};

struct resolver {
	/* The loop's. */
	struct ev_loop		*loop;
	ev_async		 async;
	ev_timer		 stall;
	TAILQ_HEAD(, resolve_job) jobs;		/* not yet handed over */
	int			 nreqs;		/* hold the loop while > 0 */

	/* Under the lock. */
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	TAILQ_HEAD(, resolve_job) pending;
	TAILQ_HEAD(, resolve_job) done;
	int			 npending;
	int			 threads;
	int			 idle;		/* waiting, or not yet started */
	int			 running;
	int			 stopping;	/* the loop lets go */
	int			 gone;		/* ... and has: last one frees */
};

static void
resolve_job_free(struct resolve_job *j)
{
	if (j->ai != NULL)
		freeaddrinfo(j->ai);
	free(j->host);
	free(j);
}

static void
resolver_destroy(struct resolver *r)
{
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* A worker: jobs until the resolver goes, or a spare finds nothing to do. */
static void *
resolver_worker(void *arg)
{
	struct resolver		*r = arg;
	struct resolve_job	*j;
	struct addrinfo		 hints;
	int			 last;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;

	pthread_mutex_lock(&r->lock);
	r->idle--;		/* counted idle since resolver_spawn */
	for (;;) {
		while (!r->stopping && TAILQ_EMPTY(&r->pending)) {
			if (r->threads > RESOLVER_THREADS)
				goto out;	/* a spare, not needed now */
			r->idle++;
			pthread_cond_wait(&r->cond, &r->lock);
			r->idle--;
		}
		if (r->stopping)
			break;
		j = TAILQ_FIRST(&r->pending);
		TAILQ_REMOVE(&r->pending, j, entry);
		r->npending--;
		j->state = JOB_RUNNING;
		r->running++;
		pthread_mutex_unlock(&r->lock);

		j->err = getaddrinfo(j->host, j->port, &hints, &j->ai);

		pthread_mutex_lock(&r->lock);
		r->running--;
		if (r->stopping) {
			resolve_job_free(j);	/* nobody is waiting */
			break;
		}
		j->state = JOB_DONE;
		TAILQ_INSERT_TAIL(&r->done, j, entry);
		ev_async_send(r->loop, &r->async);
	}
out:
	r->threads--;
	last = r->gone && r->threads == 0;
	if (!r->gone)
		pthread_cond_broadcast(&r->cond);	/* resolver_free waits */
	pthread_mutex_unlock(&r->lock);
	if (last)
		resolver_destroy(r);
	return NULL;
}

/* One more worker, with every signal blocked (they are the loop's). Locked. */
static int
resolver_spawn(struct resolver *r)
{
	pthread_attr_t	 attr;
	pthread_t	 th;
	sigset_t	 all, old;
	int		 error;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	error = pthread_create(&th, &attr, resolver_worker, r);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error == 0) {
		r->threads++;
		r->idle++;
	}
	return error;
}

/* Hand every finished job's result to its waiters. */
static void
resolver_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct resolver		*r = w->data;
	struct resolve_job	*j;
	struct resolve_req	*q;

	for (;;) {
		pthread_mutex_lock(&r->lock);
		if ((j = TAILQ_FIRST(&r->done)) != NULL)
			TAILQ_REMOVE(&r->done, j, entry);
		pthread_mutex_unlock(&r->lock);
		if (j == NULL)
			break;
		TAILQ_REMOVE(&r->jobs, j, all);
		/* A callback may cancel another waiter: take one at a time. */
		while ((q = TAILQ_FIRST(&j->waiters)) != NULL) {
			TAILQ_REMOVE(&j->waiters, q, entry);
			q->job = NULL;
			q->cb(j->err == 0 ? j->ai : NULL, j->err, q->arg);
			free(q);
			if (--r->nreqs == 0)
				ev_unref(loop);
		}
		resolve_job_free(j);
	}
}

/* Lookups have waited RESOLVER_STALL seconds with every worker busy. */
static void
resolver_stall_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct resolver	*r = w->data;
	int		 waiting;

	pthread_mutex_lock(&r->lock);
	if ((waiting = r->npending > r->idle) &&
	    r->threads < RESOLVER_THREADS_MAX)
		(void)resolver_spawn(r);
	pthread_mutex_unlock(&r->lock);
	if (!waiting)
		ev_timer_stop(loop, w);
}

struct resolver *
resolver_new(struct ev_loop *loop)
{
	struct resolver	*r;

	r = xcalloc(1, sizeof(*r));
	r->loop = loop;
	TAILQ_INIT(&r->jobs);
	TAILQ_INIT(&r->pending);
	TAILQ_INIT(&r->done);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	ev_async_init(&r->async, resolver_async_cb);
	r->async.data = r;
	ev_async_start(loop, &r->async);
	ev_unref(loop);		/* only queries hold the loop */
	ev_timer_init(&r->stall, resolver_stall_cb, RESOLVER_STALL,
	    RESOLVER_STALL);
	r->stall.data = r;
	return r;
}

/*
 * Queries still waiting are dropped without a call. Idle workers end now;
 * a worker inside getaddrinfo() frees its job when the lookup returns, and
 * the last thread out frees the resolver.
 */
void
resolver_free(struct resolver *r)
{
	struct resolve_job	*j;
	struct resolve_req	*q;
	int			 last;

	if (r == NULL)
		return;
	if (r->nreqs == 0)
		ev_ref(r->loop);
	ev_async_stop(r->loop, &r->async);
	ev_timer_stop(r->loop, &r->stall);

	pthread_mutex_lock(&r->lock);
	r->stopping = 1;
	while ((j = TAILQ_FIRST(&r->jobs)) != NULL) {
		TAILQ_REMOVE(&r->jobs, j, all);
		while ((q = TAILQ_FIRST(&j->waiters)) != NULL) {
			TAILQ_REMOVE(&j->waiters, q, entry);
			free(q);
		}
		if (j->state == JOB_RUNNING)
			continue;	/* its worker's now */
		if (j->state == JOB_QUEUED)
			TAILQ_REMOVE(&r->pending, j, entry);
		else
			TAILQ_REMOVE(&r->done, j, entry);
		resolve_job_free(j);
	}
	pthread_cond_broadcast(&r->cond);
	while (r->threads > r->running)
		pthread_cond_wait(&r->cond, &r->lock);
	if (r->running > 0)
		log_debug("resolver: %d lookups still running, left to end "
		    "on their own", r->running);
	r->gone = 1;
	last = r->threads == 0;
	pthread_mutex_unlock(&r->lock);
	if (last)
		resolver_destroy(r);
}

/* A new job for host:port, numeric ones answered at once. */
static struct resolve_job *
resolver_job(struct resolver *r, const char *host, int port)
{
	struct resolve_job	*j;
	struct addrinfo		 hints;

	j = xcalloc(1, sizeof(*j));
	j->host = xstrdup(host);
	snprintf(j->port, sizeof(j->port), "%d", port);
	TAILQ_INIT(&j->waiters);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	j->err = getaddrinfo(host, j->port, &hints, &j->ai);

	pthread_mutex_lock(&r->lock);
	if (j->err == EAI_NONAME) {
		/* A name: for the workers. */
		j->err = 0;
		j->state = JOB_QUEUED;
		TAILQ_INSERT_TAIL(&r->pending, j, entry);
		r->npending++;
		if (r->idle > 0)
			pthread_cond_signal(&r->cond);
		if (r->npending > r->idle && r->threads < RESOLVER_THREADS &&
		    resolver_spawn(r) != 0 && r->threads == 0) {
			/* No worker at all: a failure, not a hang. */
			TAILQ_REMOVE(&r->pending, j, entry);
			r->npending--;
			j->err = EAI_AGAIN;
		} else if (r->npending > r->idle && !ev_is_active(&r->stall))
			ev_timer_start(r->loop, &r->stall);
	}
	if (j->err != 0 || j->ai != NULL) {
		/* A numeric address, or a hard error: the next loop turn. */
		j->state = JOB_DONE;
		TAILQ_INSERT_TAIL(&r->done, j, entry);
		ev_async_send(r->loop, &r->async);
	}
	pthread_mutex_unlock(&r->lock);
	TAILQ_INSERT_TAIL(&r->jobs, j, all);
	return j;
}

struct resolve_req *
resolver_query(struct resolver *r, const char *host, int port,
    resolve_cb cb, void *arg)
{
	struct resolve_job	*j;
	struct resolve_req	*q;
	char			 p[8];

	snprintf(p, sizeof(p), "%d", port);
	TAILQ_FOREACH(j, &r->jobs, all) {
		if (strcmp(j->host, host) == 0 && strcmp(j->port, p) == 0)
			break;
	}
	if (j == NULL)
		j = resolver_job(r, host, port);
	q = xcalloc(1, sizeof(*q));
	q->r = r;
	q->job = j;
	q->cb = cb;
	q->arg = arg;
	TAILQ_INSERT_TAIL(&j->waiters, q, entry);
	if (r->nreqs++ == 0)
		ev_ref(r->loop);
	return q;
}

/*
 * The callback will not be called. A job nobody waits for any more is
 * dropped if no worker has it yet; a running one stays, so that a retry
 * for the same name waits on it rather than taking another worker.
 */
void
resolver_cancel(struct resolve_req *q)
{
	struct resolver		*r;
	struct resolve_job	*j;
	int			 drop = 0;

	if (q == NULL || (j = q->job) == NULL)
		return;		/* none, or being called back */
	r = q->r;
	TAILQ_REMOVE(&j->waiters, q, entry);
	free(q);
	if (--r->nreqs == 0)
		ev_unref(r->loop);
	if (!TAILQ_EMPTY(&j->waiters))
		return;
	pthread_mutex_lock(&r->lock);
	if (j->state == JOB_QUEUED) {
		TAILQ_REMOVE(&r->pending, j, entry);
		r->npending--;
		drop = 1;
	}
	pthread_mutex_unlock(&r->lock);
	if (drop) {
		TAILQ_REMOVE(&r->jobs, j, all);
		resolve_job_free(j);
	}
}

struct addrinfo *
addrinfo_copy(const struct addrinfo *ai)
{
	const struct addrinfo	*a;
	struct addrinfo		*head = NULL, *copy, **tail = &head;

	for (a = ai; a != NULL; a = a->ai_next) {
		copy = xcalloc(1, sizeof(*copy));
		copy->ai_family = a->ai_family;
		copy->ai_socktype = a->ai_socktype;
		copy->ai_protocol = a->ai_protocol;
		copy->ai_addrlen = a->ai_addrlen;
		copy->ai_addr = xmalloc(a->ai_addrlen);
		memcpy(copy->ai_addr, a->ai_addr, a->ai_addrlen);
		*tail = copy;
		tail = &copy->ai_next;
	}
	return head;
}

void
addrinfo_free_copy(struct addrinfo *ai)
{
	struct addrinfo	*next;

	for (; ai != NULL; ai = next) {
		next = ai->ai_next;
		free(ai->ai_addr);
		free(ai);
	}
}
