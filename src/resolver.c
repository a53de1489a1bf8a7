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
 * resolver.c: asynchronous getaddrinfo. Each query runs in glibc's
 * getaddrinfo_a helper thread; the thread's completion notification does
 * nothing but ev_async_send(), and the loop collects finished queries.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "resolver.h"
#include "util.h"

struct resolve_req {
	struct resolver		*r;
	TAILQ_ENTRY(resolve_req) entry;
	struct gaicb		 gcb;
	struct gaicb		*list[1];
	struct addrinfo		 hints;
	char			*host;
	char			 port[8];
	int			 numeric;	/* answered without DNS */
	int			 numeric_err;
	struct addrinfo		*numeric_ai;
	resolve_cb		 cb;		/* NULL once cancelled */
	void			*arg;
};

struct resolver {
	struct ev_loop		*loop;
	ev_async		 async;
	TAILQ_HEAD(, resolve_req) reqs;
};

static void
resolver_notify(union sigval sv)
{
	struct resolver	*r = sv.sival_ptr;

	/* Runs in a helper thread: ev_async_send is the only safe call. */
	ev_async_send(r->loop, &r->async);
}

static int
resolve_req_done(struct resolve_req *q)
{
	return q->numeric || gai_error(&q->gcb) != EAI_INPROGRESS;
}

static void
resolve_req_free(struct resolve_req *q)
{
	if (q->numeric)
		freeaddrinfo(q->numeric_ai);
	else if (q->gcb.ar_result != NULL)
		freeaddrinfo(q->gcb.ar_result);
	free(q->host);
	free(q);
}

static void
resolver_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct resolver		*r = w->data;
	struct resolve_req	*q, *qnext;
	const struct addrinfo	*ai;
	int			 err;

	TAILQ_FOREACH_SAFE(q, &r->reqs, entry, qnext) {
		if (!resolve_req_done(q))
			continue;
		TAILQ_REMOVE(&r->reqs, q, entry);
		if (q->numeric) {
			err = q->numeric_err;
			ai = q->numeric_ai;
		} else {
			err = gai_error(&q->gcb);
			ai = q->gcb.ar_result;
		}
		if (q->cb != NULL)
			q->cb(err == 0 ? ai : NULL, err, q->arg);
		resolve_req_free(q);
	}
	/* The list was walked: drop the loop reference if nothing is left. */
	if (TAILQ_EMPTY(&r->reqs) && ev_is_active(&r->async)) {
		ev_async_stop(loop, &r->async);
	}
}

struct resolver *
resolver_new(struct ev_loop *loop)
{
	struct resolver	*r;

	r = xcalloc(1, sizeof(*r));
	r->loop = loop;
	TAILQ_INIT(&r->reqs);
	ev_async_init(&r->async, resolver_async_cb);
	r->async.data = r;
	return r;
}

void
resolver_free(struct resolver *r)
{
	struct resolve_req	*q;
	const struct gaicb	*wait[1];
	struct timespec		 ts = { 2, 0 };

	if (r == NULL)
		return;
	ev_async_stop(r->loop, &r->async);
	while ((q = TAILQ_FIRST(&r->reqs)) != NULL) {
		TAILQ_REMOVE(&r->reqs, q, entry);
		if (!q->numeric && gai_cancel(&q->gcb) == EAI_NOTCANCELED) {
			/* Its helper thread still owns it: wait, bounded. */
			wait[0] = &q->gcb;
			if (gai_suspend(wait, 1, &ts) != 0 &&
			    gai_error(&q->gcb) == EAI_INPROGRESS) {
				log_debug("resolver: abandoning query for %s",
				    q->host);
				continue;	/* leaked on purpose */
			}
		}
		resolve_req_free(q);
	}
	free(r);
}

struct resolve_req *
resolver_query(struct resolver *r, const char *host, int port,
    resolve_cb cb, void *arg)
{
	struct resolve_req	*q;
	struct sigevent		 sev;
	struct addrinfo		 hints;

	q = xcalloc(1, sizeof(*q));
	q->r = r;
	q->host = xstrdup(host);
	q->cb = cb;
	q->arg = arg;
	snprintf(q->port, sizeof(q->port), "%d", port);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	q->numeric_err = getaddrinfo(host, q->port, &hints, &q->numeric_ai);
	if (q->numeric_err != EAI_NONAME) {
		/* A numeric address (or a hard error): no DNS needed. */
		q->numeric = 1;
	} else {
		q->hints.ai_family = AF_UNSPEC;
		q->hints.ai_socktype = SOCK_STREAM;
		q->hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
		q->gcb.ar_name = q->host;
		q->gcb.ar_service = q->port;
		q->gcb.ar_request = &q->hints;
		q->list[0] = &q->gcb;
		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_THREAD;
		sev.sigev_notify_function = resolver_notify;
		sev.sigev_value.sival_ptr = r;
		if (getaddrinfo_a(GAI_NOWAIT, q->list, 1, &sev) != 0) {
			/* Could not even queue it: report as a failure. */
			q->numeric = 1;
			q->numeric_err = EAI_SYSTEM;
			q->numeric_ai = NULL;
		}
	}
	TAILQ_INSERT_TAIL(&r->reqs, q, entry);
	if (!ev_is_active(&r->async))
		ev_async_start(r->loop, &r->async);
	if (q->numeric)
		ev_async_send(r->loop, &r->async);
	return q;
}

void
resolver_cancel(struct resolve_req *q)
{
	if (q != NULL)
		q->cb = NULL;
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
