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
 * metrics_http.c: tunsupd's Prometheus endpoint, a small non-blocking
 * HTTP/1.1 responder on the daemon's loop (tunsupd.conf(5), MetricsListen).
 *
 * Nothing here can hold the loop: the socket never blocks, a request is at
 * most MHTTP_REQUEST_MAX bytes, a connection lives at most MHTTP_TIMEOUT
 * seconds whatever the client does, and at most MHTTP_CONNS_MAX are served
 * at once (more are answered 503 and closed).
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdlimit.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "util.h"

struct mhttp_conn {
	TAILQ_ENTRY(mhttp_conn)	 entry;
	struct metrics_http	*mh;
	int			 fd;
	ev_io			 io;
	ev_timer		 deadline;
	char			 in[MHTTP_REQUEST_MAX];
	size_t			 inlen;
	char			*out;	/* the whole response, once known */
	size_t			 outlen;
	size_t			 outoff;
};
TAILQ_HEAD(mhttp_conns, mhttp_conn);

struct metrics_http {
	struct ev_loop		*loop;
	char			*spec;
	int			 fd;
	ev_io			 accept_io;
	struct fdlimit_listener	 fl;
	struct mhttp_conns	 conns;
	size_t			 nconns;
	metrics_http_status_fn	 status;
	void			*arg;
};

/* The answers other than 200: status line and body. */
static const struct mhttp_error {
	int		 code;
	const char	*reason;
	const char	*extra;		/* more header lines, or "" */
} mhttp_errors[] = {
	{ 400, "Bad Request", "" },
	{ 404, "Not Found", "" },
	{ 405, "Method Not Allowed", "Allow: GET, HEAD\r\n" },
	{ 431, "Request Header Fields Too Large", "" },
	{ 500, "Internal Server Error", "" },
	{ 503, "Service Unavailable", "" },
	{ 505, "HTTP Version Not Supported", "" },
};

static void	mhttp_conn_free(struct mhttp_conn *);

int
metrics_http_address(const char *spec, struct sockaddr_storage *ss,
    socklen_t *sslen, char **err)
{
	struct addrinfo	 hints, *res = NULL;
	const char	*port, *colon;
	char		*host;

	if ((colon = strrchr(spec, ':')) == NULL) {
		host = xstrdup("127.0.0.1");
		port = spec;
	} else if (spec[0] == '[') {
		if (colon == spec || colon[-1] != ']') {
			xasprintf(err, "MetricsListen %s: expected [address]:"
			    "port", spec);
			return -1;
		}
		host = xstrndup(spec + 1, colon - spec - 2);
		port = colon + 1;
	} else {
		host = xstrndup(spec, colon - spec);
		port = colon + 1;
	}
	if (*host == '\0') {
		xasprintf(err, "MetricsListen %s: the address is empty (a port "
		    "alone listens on 127.0.0.1)", spec);
		free(host);
		return -1;
	}
	if (*port == '\0' || strspn(port, "0123456789") != strlen(port) ||
	    strlen(port) > 5 || atoi(port) < 1 || atoi(port) > 65535) {
		xasprintf(err, "MetricsListen %s: expected a port from 1 to "
		    "65535", spec);
		free(host);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* Numbers only: a name would need the resolver and could block. */
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0 ||
	    res->ai_addrlen > sizeof(*ss)) {
		xasprintf(err, "MetricsListen %s: expected a numeric address "
		    "and a port", spec);
		if (res != NULL)
			freeaddrinfo(res);
		free(host);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	free(host);
	return 0;
}

/* Is c a character of an HTTP token (RFC 9110, 5.6.2)? */
static int
mhttp_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int
metrics_http_parse(const char *buf, size_t len, int *head)
{
	const char	*eol, *end, *p, *method, *target;
	size_t		 mlen, tlen, i;

	*head = 0;
	/* The head ends with an empty line (CRLF, or a bare LF). */
	end = NULL;
	for (i = 0; i < len && end == NULL; i++) {
		if (buf[i] == '\0')
			return 400;
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			end = buf + i;
		else if (i + 2 < len && buf[i + 1] == '\r' &&
		    buf[i + 2] == '\n')
			end = buf + i;
	}
	if (end == NULL)
		return len >= MHTTP_REQUEST_MAX ? 431 : 0;

	eol = memchr(buf, '\n', len);	/* found: end is at or after it */
	method = p = buf;
	while (p < eol && mhttp_tchar(*p))
		p++;
	if ((mlen = p - method) == 0 || *p != ' ')
		return 400;
	target = ++p;
	while (p < eol && *p != ' ' && (unsigned char)*p > ' ' &&
	    *p != 0x7f)
		p++;
	if ((tlen = p - target) == 0 || *p != ' ')
		return 400;
	p++;
	if ((size_t)(eol - p) < 8 || strncmp(p, "HTTP/1.", 7) != 0)
		return 400;
	if (p[7] != '0' && p[7] != '1')
		return 505;
	if (!(eol == p + 8 || (eol == p + 9 && p[8] == '\r')))
		return 400;

	if (!((tlen == 8 || (tlen > 8 && target[8] == '?')) &&
	    strncmp(target, "/metrics", 8) == 0))
		return 404;
	if (mlen == 3 && strncmp(method, "GET", 3) == 0)
		return 200;
	if (mlen == 4 && strncmp(method, "HEAD", 4) == 0) {
		*head = 1;
		return 200;
	}
	return 405;
}

/* The whole response for code: the metrics for 200 (no body for HEAD). */
static void
mhttp_respond(struct mhttp_conn *c, int code, int head)
{
	const struct mhttp_error	*e = NULL;
	json_t				*reply;
	FILE				*f;
	char				*body = NULL;
	size_t				 bodylen = 0, i;

	if (code == 200) {
		reply = c->mh->status(c->mh->arg);
		if ((f = open_memstream(&body, &bodylen)) == NULL)
			fatal("open_memstream: %s", strerror(errno));
		metrics_print(f, reply, METRICS_DAEMON);
		if (fclose(f) != 0)
			fatal("metrics: %s", strerror(errno));
		json_decref(reply);
		xasprintf(&c->out, "HTTP/1.1 200 OK\r\n"
		    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		    bodylen, head ? "" : body);
		free(body);
	} else {
		for (i = 0; i < nitems(mhttp_errors); i++) {
			if (mhttp_errors[i].code == code)
				e = &mhttp_errors[i];
		}
		if (e == NULL)
			e = &mhttp_errors[0];
		xasprintf(&c->out, "HTTP/1.1 %d %s\r\n"
		    "Content-Type: text/plain; charset=utf-8\r\n%s"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
		    e->code, e->reason, e->extra, strlen(e->reason) + 1,
		    e->reason);
	}
	c->outlen = strlen(c->out);
	c->outoff = 0;
}

/* Write what the socket takes; done: close. */
static void
mhttp_write(struct mhttp_conn *c)
{
	ssize_t	n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_stop(c->mh->loop, &c->io);
			ev_io_set(&c->io, c->fd, EV_WRITE);
			ev_io_start(c->mh->loop, &c->io);
			return;
		}
		if (n <= 0) {
			log_debug("metrics: send: %s", strerror(errno));
			break;
		}
		c->outoff += n;
	}
	mhttp_conn_free(c);
}

static void
mhttp_read(struct mhttp_conn *c)
{
	ssize_t	n;
	int	code, head;

	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		/* Gone, or half-closed before a whole request: nothing to do. */
		mhttp_conn_free(c);
		return;
	}
	c->inlen += n;
	if ((code = metrics_http_parse(c->in, c->inlen, &head)) == 0)
		return;
	mhttp_respond(c, code, head);
	mhttp_write(c);
}

static void
mhttp_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mhttp_conn	*c = w->data;

	if (c->out != NULL)
		mhttp_write(c);
	else
		mhttp_read(c);
}

static void
mhttp_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mhttp_conn	*c = w->data;

	log_debug("metrics: connection timed out after %.0f s", MHTTP_TIMEOUT);
	mhttp_conn_free(c);
}

static void
mhttp_conn_free(struct mhttp_conn *c)
{
	struct metrics_http	*mh = c->mh;

	ev_io_stop(mh->loop, &c->io);
	ev_timer_stop(mh->loop, &c->deadline);
	close(c->fd);
	TAILQ_REMOVE(&mh->conns, c, entry);
	mh->nconns--;
	free(c->out);
	free(c);
}

/* Over the limit: a 503 if the socket takes it at once, then close. */
static void
mhttp_refuse(int fd)
{
	static const char	busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";

	(void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void
mhttp_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics_http	*mh = w->data;
	struct mhttp_conn	*c;
	int			 fd, i;

	/* A few per turn: the listener is level-triggered anyway. */
	for (i = 0; i < MHTTP_CONNS_MAX; i++) {
		fd = accept4(mh->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    !fdlimit_accept_failed(&mh->fl, errno))
				log_warn("metrics: accept: %s",
				    strerror(errno));
			return;
		}
		if (mh->nconns >= MHTTP_CONNS_MAX) {
			log_debug("metrics: %d connections open, refusing "
			    "another", MHTTP_CONNS_MAX);
			mhttp_refuse(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->mh = mh;
		c->fd = fd;
		ev_io_init(&c->io, mhttp_io_cb, fd, EV_READ);
		c->io.data = c;
		ev_timer_init(&c->deadline, mhttp_deadline_cb, MHTTP_TIMEOUT,
		    0.);
		c->deadline.data = c;
		TAILQ_INSERT_TAIL(&mh->conns, c, entry);
		mh->nconns++;
		ev_io_start(loop, &c->io);
		ev_timer_start(loop, &c->deadline);
	}
}

/* Listening on loopback only? */
static int
mhttp_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (ss->ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)ss;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	sin6 = (const struct sockaddr_in6 *)ss;
	return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
}

struct metrics_http *
metrics_http_open(struct ev_loop *loop, struct fdlimit *fdl, const char *spec,
    metrics_http_status_fn status, void *arg, char **err)
{
	struct metrics_http	*mh;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd, on = 1;

	if (metrics_http_address(spec, &ss, &sslen, err) != 0)
		return NULL;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, sslen) != 0 ||
	    listen(fd, 16) != 0) {
		xasprintf(err, "MetricsListen %s: %s", spec, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (!mhttp_loopback(&ss))
		log_warn("MetricsListen %s: the metrics are served beyond "
		    "this host", spec);
	mh = xcalloc(1, sizeof(*mh));
	mh->loop = loop;
	mh->spec = xstrdup(spec);
	mh->fd = fd;
	mh->status = status;
	mh->arg = arg;
	TAILQ_INIT(&mh->conns);
	ev_io_init(&mh->accept_io, mhttp_accept_cb, fd, EV_READ);
	mh->accept_io.data = mh;
	fdlimit_watch(fdl, &mh->fl, &mh->accept_io);
	log_info("MetricsListen %s: serving /metrics", spec);
	return mh;
}

void
metrics_http_free(struct metrics_http *mh)
{
	if (mh == NULL)
		return;
	while (!TAILQ_EMPTY(&mh->conns))
		mhttp_conn_free(TAILQ_FIRST(&mh->conns));
	fdlimit_unwatch(&mh->fl);
	close(mh->fd);
	free(mh->spec);
	free(mh);
}

const char *
metrics_http_spec(const struct metrics_http *mh)
{
	return mh != NULL ? mh->spec : NULL;
}
