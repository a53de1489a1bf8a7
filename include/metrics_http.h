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
 * metrics_http.h: tunsupd's own Prometheus endpoint (tunsupd.conf(5),
 * MetricsListen): a small non-blocking HTTP/1.1 responder on the daemon's
 * loop. It serves GET and HEAD /metrics and nothing else, one request per
 * connection (Connection: close), with a bounded request, a deadline per
 * connection and a bounded number of connections.
 */
#ifndef TUNSUP_METRICS_HTTP_H
#define TUNSUP_METRICS_HTTP_H

#include <sys/socket.h>

#include <stddef.h>

#include <ev.h>
#include <jansson.h>

#define MHTTP_REQUEST_MAX	4096	/* bytes of request line and headers */
#define MHTTP_CONNS_MAX		8	/* connections served at once */
#define MHTTP_TIMEOUT		5.0	/* seconds a connection may live */

struct fdlimit;
struct metrics_http;

/* A new status reply (the control protocol's status) for a scrape. */
typedef json_t	*(*metrics_http_status_fn)(void *arg);

/*
 * "[addr:]port" (an IPv6 address in brackets; only a port: 127.0.0.1) to a
 * socket address. 0, or -1 with *err (the caller frees).
 */
int	metrics_http_address(const char *spec, struct sockaddr_storage *,
	    socklen_t *, char **err);

/*
 * A request's bytes so far: 0 while the head is incomplete, else the status
 * to answer: 200 (*head set for HEAD), 400, 404, 405, 431 or 505.
 */
int	metrics_http_parse(const char *buf, size_t len, int *head);

/* Listen on spec; NULL with *err (the caller frees). */
struct metrics_http *metrics_http_open(struct ev_loop *, struct fdlimit *,
	    const char *spec, metrics_http_status_fn, void *arg, char **err);
/* Close the listener and every connection; NULL is a no-op. */
void	metrics_http_free(struct metrics_http *);
const char *metrics_http_spec(const struct metrics_http *);

#endif
