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
 * connector.c: connect to the first address of a list that accepts, without
 * blocking the loop. Each address gets a non-blocking connect(); a refusal,
 * at once or reported through SO_ERROR once the socket is writable, moves
 * on to the next address. The caller hears once, with the socket or with
 * the last failure.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

#include "connector.h"
#include "resolver.h"

static int	connector_next(struct connector *, int, const char *);

/* The source side of a new socket: NULL, or the call that failed. */
static const char *
connector_bind(struct connector *cn, int fd)
{
	if (cn->ifname[0] != '\0' && setsockopt(fd, SOL_SOCKET,
	    SO_BINDTODEVICE, cn->ifname, strlen(cn->ifname)) == -1)
		return "SO_BINDTODEVICE";
	if (cn->srclen > 0 && bind(fd, (struct sockaddr *)&cn->src,
	    cn->srclen) == -1)
		return "bind";
	return NULL;
}

void
connector_init(struct connector *cn)
{
	memset(cn, 0, sizeof(*cn));
	cn->fd = -1;
}

void
connector_stop(struct connector *cn)
{
	if (cn->loop != NULL)
		ev_io_stop(cn->loop, &cn->io);
	if (cn->fd != -1)
		close(cn->fd);
	cn->fd = -1;
	addrinfo_free_copy(cn->addrs);
	cn->addrs = cn->cur = NULL;
	cn->cb = NULL;
}

/* Report and forget: the callback may free the connector's owner. */
static void
connector_done(struct connector *cn, int fd, int err, const char *call)
{
	struct connector_result	 r;
	struct addrinfo		*addrs = cn->addrs;
	connector_cb		 cb = cn->cb;
	void			*arg = cn->arg;

	r.fd = fd;
	r.err = err;
	r.call = call;
	r.addr = cn->cur != NULL ? cn->cur->ai_addr : NULL;
	cn->fd = -1;
	cn->addrs = cn->cur = NULL;
	cn->cb = NULL;
	cb(arg, &r);
	addrinfo_free_copy(addrs);
}

static void
connector_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct connector	*cn = w->data;
	int			 err = 0, fd = cn->fd;
	socklen_t		 len = sizeof(err);

	ev_io_stop(loop, &cn->io);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		connector_done(cn, fd, 0, NULL);
		return;
	}
	close(fd);
	cn->fd = -1;
	(void)connector_next(cn, err, "connect");
}

/*
 * Try the address after cn->cur (the first if NULL); err and call are the
 * failure so far, reported if no address is left. 1: a connect is under
 * way; 0: reported.
 */
static int
connector_next(struct connector *cn, int err, const char *call)
{
	struct addrinfo	*ai;
	int		 fd;

	for (;;) {
		ai = cn->cur == NULL ? cn->addrs : cn->cur->ai_next;
		if (ai == NULL) {
			connector_done(cn, -1, err, call);
			return 0;
		}
		cn->cur = ai;
		if (cn->family != AF_UNSPEC && ai->ai_family != cn->family) {
			if (err == 0) {
				err = EAFNOSUPPORT;
				call = "family";
			}
			continue;
		}
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1) {
			err = errno;
			call = "socket";
			continue;
		}
		if ((call = connector_bind(cn, fd)) != NULL) {
			err = errno;
			close(fd);
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			connector_done(cn, fd, 0, NULL);
			return 0;
		}
		if (errno != EINPROGRESS) {
			err = errno;
			call = "connect";
			close(fd);
			continue;
		}
		cn->fd = fd;
		ev_io_init(&cn->io, connector_io_cb, fd, EV_WRITE);
		cn->io.data = cn;
		ev_io_start(cn->loop, &cn->io);
		return 1;
	}
}

int
connector_source(struct connector *cn, int family, const char *addr,
    const char *ifname)
{
	struct addrinfo	 hints, *ai;

	cn->family = family;
	cn->srclen = 0;
	cn->ifname[0] = '\0';
	if (ifname != NULL && strlen(ifname) < sizeof(cn->ifname))
		strcpy(cn->ifname, ifname);
	if (addr == NULL)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	if (getaddrinfo(addr, NULL, &hints, &ai) != 0)
		return -1;
	memcpy(&cn->src, ai->ai_addr, ai->ai_addrlen);
	cn->srclen = ai->ai_addrlen;
	cn->family = ai->ai_family;
	freeaddrinfo(ai);
	return 0;
}

int
connector_start(struct connector *cn, struct ev_loop *loop,
    const struct addrinfo *list, connector_cb cb, void *arg)
{
	connector_stop(cn);
	cn->loop = loop;
	cn->addrs = addrinfo_copy(list);
	cn->cur = NULL;
	cn->cb = cb;
	cn->arg = arg;
	/* After a callback the connector may be gone: look at nothing. */
	return connector_next(cn, 0, "connect");
}
