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
 * connector.h: a non-blocking connect that tries each address of a list in
 * turn on the loop, and reports once: the connected socket, or the last
 * failure and the address it concerned. Timeouts, messages and what to do
 * with the socket are the caller's (a session's TCP connect in sshconn.c, a
 * remote forward's target in forward_remote.c).
 */
#ifndef TUNSUP_CONNECTOR_H
#define TUNSUP_CONNECTOR_H

#include <sys/socket.h>

#include <net/if.h>
#include <netdb.h>

#include <ev.h>

struct connector_result {
	int			 fd;	/* connected, non-blocking, close-on-exec:
					   the caller's now; -1 on failure */
	int			 err;	/* the last failure's errno; 0 when
					   the list was empty */
	const char		*call;	/* what failed: "socket" or "connect" */
	const struct sockaddr	*addr;	/* the address it concerned (valid
					   during the call), NULL if none */
};

typedef void (*connector_cb)(void *arg, const struct connector_result *);

struct connector {
	struct ev_loop	*loop;
	struct addrinfo	*addrs;		/* our own copy of the list */
	struct addrinfo	*cur;		/* the address being tried */
	ev_io		 io;
	int		 fd;		/* the connect under way, or -1 */
	connector_cb	 cb;
	void		*arg;
	/* Where connections come from: connector_source(). */
	int		 family;	/* AF_UNSPEC, or only this family */
	struct sockaddr_storage src;	/* bound before connect if srclen */
	socklen_t	 srclen;
	char		 ifname[IF_NAMESIZE];	/* SO_BINDTODEVICE if set */
};

/* Before any other call; connector_stop on a stopped one does nothing. */
void	connector_init(struct connector *);
/*
 * Connect to the addresses of list in order (SOCK_STREAM, each with its own
 * family). Returns 1 while a connect is under way: cb is called later, from
 * the loop. Returns 0 when it is already over: cb has been called (and may
 * have freed the connector's owner; nothing touches it after).
 */
int	connector_start(struct connector *, struct ev_loop *,
	    const struct addrinfo *list, connector_cb, void *arg);
/*
 * Connect from this side only (AddressFamily, BindAddress, BindInterface in
 * tunsupd.conf(5)): family AF_UNSPEC, AF_INET or AF_INET6 skips addresses
 * of another family; addr (numeric, or NULL) is bound before connect and
 * keeps to its own family; ifname (or NULL) binds to a device. Kept across
 * starts. 0, or -1 if addr is not a numeric address.
 */
int	connector_source(struct connector *, int family, const char *addr,
	    const char *ifname);
/* Abandon: no callback, the socket under way is closed, the list freed. */
void	connector_stop(struct connector *);

#endif
