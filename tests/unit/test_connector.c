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
 * test_connector.c: the connect that tries each address in turn, on a
 * private loop and loopback sockets: a refused address then a listening one
 * (both tried, the second connected), all refused (the last error and its
 * address), an empty list, a unix socket (connected or missing at once),
 * and a stop before the answer (no callback, the socket closed: its
 * peer reads an end).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "connector.h"

static struct ev_loop	*loop;
static ev_timer		 guard;
static int		 calls, got_fd, got_err, got_port;
static char		 got_call[16];
static int		 got_family;

static void
guard_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	ev_break(l, EVBREAK_ALL);
}

static void
done_cb(void *arg, const struct connector_result *r)
{
	calls++;
	got_fd = r->fd;
	got_err = r->err;
	snprintf(got_call, sizeof(got_call), "%s", r->call != NULL ?
	    r->call : "");
	got_family = r->addr != NULL ? r->addr->sa_family : -1;
	got_port = r->addr != NULL && r->addr->sa_family == AF_INET ?
	    ntohs(((const struct sockaddr_in *)r->addr)->sin_port) : -1;
	ev_break(loop, EVBREAK_ALL);
}

static void
setup(void)
{
	loop = ev_loop_new(EVFLAG_AUTO);
	ev_timer_init(&guard, guard_cb, 5., 0.);
	calls = 0;
	got_fd = got_err = got_port = got_family = -1;
	got_call[0] = '\0';
}

static void
teardown(void)
{
	if (got_fd >= 0)
		close(got_fd);
	ev_loop_destroy(loop);
}

/* A loopback TCP socket bound to a free port, listening or not. */
static int
bound(int listening, struct sockaddr_in *sin)
{
	socklen_t	 len = sizeof(*sin);
	int		 fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd != -1);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	if (listening)
		cr_assert_eq(listen(fd, 4), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

static void
entry(struct addrinfo *ai, struct sockaddr_in *sin, struct addrinfo *next)
{
	memset(ai, 0, sizeof(*ai));
	ai->ai_family = AF_INET;
	ai->ai_socktype = SOCK_STREAM;
	ai->ai_addr = (struct sockaddr *)sin;
	ai->ai_addrlen = sizeof(*sin);
	ai->ai_next = next;
}

static void
run(void)
{
	ev_timer_start(loop, &guard);
	ev_run(loop, 0);
	ev_timer_stop(loop, &guard);
}

/* Connect through a then b (each listening or not) and wait for the answer. */
static void
try_pair(int a_listens, int b_listens, struct sockaddr_in *a,
    struct sockaddr_in *b, int fds[2])
{
	struct addrinfo		 ai[2];
	struct connector	 cn;

	fds[0] = bound(a_listens, a);
	fds[1] = bound(b_listens, b);
	entry(&ai[1], b, NULL);
	entry(&ai[0], a, &ai[1]);
	connector_init(&cn);
	if (connector_start(&cn, loop, ai, done_cb, NULL) == 1)
		run();
	cr_assert_eq(calls, 1);
	connector_stop(&cn);	/* after the answer: leaves the fd alone */
}

TestSuite(connector, .init = setup, .fini = teardown, .timeout = 20);

Test(connector, refused_then_listening)
{
	struct sockaddr_in	 a, b, peer;
	socklen_t		 len = sizeof(peer);
	int			 fds[2], fl;

	/* Bound and not listening: refuses. */
	try_pair(0, 1, &a, &b, fds);
	cr_assert(got_fd >= 0, "not connected: %s", strerror(got_err));
	cr_assert_eq(got_port, ntohs(b.sin_port), "connected to the first");
	cr_assert_eq(getpeername(got_fd, (struct sockaddr *)&peer, &len), 0);
	cr_assert_eq(peer.sin_port, b.sin_port);
	fl = fcntl(got_fd, F_GETFL);
	cr_assert(fl & O_NONBLOCK);
	cr_assert(fcntl(got_fd, F_GETFD) & FD_CLOEXEC);
	close(fds[0]);
	close(fds[1]);
}

Test(connector, all_refused_gives_the_last_error)
{
	struct sockaddr_in	 a, b;
	int			 fds[2];

	try_pair(0, 0, &a, &b, fds);
	cr_assert_eq(got_fd, -1);
	cr_assert_eq(got_err, ECONNREFUSED, "err %s", strerror(got_err));
	cr_assert_str_eq(got_call, "connect");
	cr_assert_eq(got_port, ntohs(b.sin_port), "not the last address");
	close(fds[0]);
	close(fds[1]);
}

Test(connector, empty_list)
{
	struct connector	 cn;

	connector_init(&cn);
	cr_assert_eq(connector_start(&cn, loop, NULL, done_cb, NULL), 0);
	cr_assert_eq(calls, 1);
	cr_assert_eq(got_fd, -1);
	cr_assert_eq(got_err, 0);
	cr_assert_eq(got_family, -1);
}

Test(connector, unix_socket)
{
	struct sockaddr_un	 sun;
	struct addrinfo		 ai;
	struct connector	 cn;
	char			 dir[] = "/tmp/t_connector.XXXXXX";
	int			 lfd;

	cr_assert(mkdtemp(dir) != NULL);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", dir);
	memset(&ai, 0, sizeof(ai));
	ai.ai_family = AF_UNIX;
	ai.ai_socktype = SOCK_STREAM;
	ai.ai_addr = (struct sockaddr *)&sun;
	ai.ai_addrlen = sizeof(sun);
	connector_init(&cn);

	/* Nothing there: the answer comes at once. */
	cr_assert_eq(connector_start(&cn, loop, &ai, done_cb, NULL), 0);
	cr_assert_eq(calls, 1);
	cr_assert_eq(got_fd, -1);
	cr_assert_eq(got_err, ENOENT);
	cr_assert_eq(got_family, AF_UNIX);

	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(listen(lfd, 4), 0);
	if (connector_start(&cn, loop, &ai, done_cb, NULL) == 1)
		run();
	cr_assert_eq(calls, 2);
	cr_assert(got_fd >= 0, "not connected: %s", strerror(got_err));
	close(lfd);
	unlink(sun.sun_path);
	rmdir(dir);
}

Test(connector, stop_before_the_answer)
{
	struct sockaddr_in	 b;
	struct addrinfo		 ai;
	struct connector	 cn;
	struct pollfd		 pfd;
	char			 c;
	ssize_t			 n;
	int			 fb, peer;

	fb = bound(1, &b);
	entry(&ai, &b, NULL);
	connector_init(&cn);
	if (connector_start(&cn, loop, &ai, done_cb, NULL) == 0) {
		/* Connected at once: nothing left to stop. */
		cr_assert_eq(calls, 1);
		close(fb);
		return;
	}
	connector_stop(&cn);
	ev_timer_set(&guard, 0.2, 0.);
	run();
	cr_assert_eq(calls, 0, "called back after a stop");
	/*
	 * The socket under way is closed: its peer, taken from the backlog,
	 * reads an end or a reset. (Not the lowest free descriptor: the test
	 * runner's own threads open descriptors of their own.)
	 */
	pfd.fd = fb;
	pfd.events = POLLIN;
	cr_assert_eq(poll(&pfd, 1, 5000), 1, "no connection in the backlog");
	peer = accept(fb, NULL, NULL);
	cr_assert(peer != -1, "accept: %s", strerror(errno));
	pfd.fd = peer;
	cr_assert_eq(poll(&pfd, 1, 5000), 1, "the stopped socket is still open");
	n = recv(peer, &c, 1, 0);
	cr_assert(n == 0 || (n == -1 && errno == ECONNRESET),
	    "the stopped socket is still open (recv %zd)", n);
	close(peer);
	close(fb);
}

/* connector_source: the address family, the source address. */
Test(connector, source_family_and_address)
{
	struct sockaddr_in	 a, local;
	struct addrinfo		 ai;
	struct connector	 cn;
	socklen_t		 len = sizeof(local);
	int			 fd;

	connector_init(&cn);
	cr_assert_eq(connector_source(&cn, AF_INET, "localhost", NULL), -1,
	    "a name is no numeric address");
	cr_assert_eq(connector_source(&cn, AF_INET6, "127.0.0.2", NULL), -1,
	    "an IPv4 address under AF_INET6");

	/* only IPv6 wanted: the IPv4 address is skipped, and said so */
	fd = bound(1, &a);
	entry(&ai, &a, NULL);
	cr_assert_eq(connector_source(&cn, AF_INET6, NULL, NULL), 0);
	cr_assert_eq(connector_start(&cn, loop, &ai, done_cb, NULL), 0);
	cr_assert_eq(calls, 1);
	cr_assert_eq(got_fd, -1);
	cr_assert_str_eq(got_call, "family");
	cr_assert_eq(got_err, EAFNOSUPPORT);

	/* from 127.0.0.2 */
	calls = 0;
	cr_assert_eq(connector_source(&cn, AF_UNSPEC, "127.0.0.2", NULL), 0);
	if (connector_start(&cn, loop, &ai, done_cb, NULL) == 1)
		run();
	cr_assert_eq(calls, 1);
	cr_assert(got_fd >= 0, "not connected: %s", strerror(got_err));
	cr_assert_eq(getsockname(got_fd, (struct sockaddr *)&local, &len), 0);
	cr_assert_eq(ntohl(local.sin_addr.s_addr), 0x7f000002);

	/* an address this host does not have */
	close(got_fd);
	got_fd = -1;
	calls = 0;
	cr_assert_eq(connector_source(&cn, AF_UNSPEC, "192.0.2.1", NULL), 0);
	if (connector_start(&cn, loop, &ai, done_cb, NULL) == 1)
		run();
	cr_assert_eq(calls, 1);
	cr_assert_eq(got_fd, -1);
	cr_assert_str_eq(got_call, "bind");
	cr_assert_eq(got_err, EADDRNOTAVAIL, "%s", strerror(got_err));
	connector_stop(&cn);
	close(fd);
}
