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
 * forward_local.c: the forwards that listen here, -L and -D. Listeners are
 * bound while the session is ready; each accepted connection opens a
 * direct-tcpip (or direct-streamlocal) channel, to the forward's target or,
 * for -D, to where the client's SOCKS request says, and is handed to the
 * pump once the channel is open.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "fdlimit.h"
#include "forward.h"
#include "forward_kind.h"
#include "log.h"
#include "socks.h"
#include "sshconn.h"
#include "util.h"

#define ACCEPT_BATCH	64

static void
local_open_cb(void *arg, struct sshchan *ch, const struct sshchan_refusal *why)
{
	struct fconn	*fc = arg;
	struct forward	*f = fc->f;

	if (ch == NULL) {
		fc->ch = NULL;
		/* Each one in the debug log; counted, and told once a second. */
		if (fc->socks != NULL) {
			tlog_debug(f->env, "forward %s: SOCKS %s:%d refused: %s",
			    f->spec->listen_str, socks_host(fc->socks),
			    socks_port(fc->socks), why->msg);
			socks_reply(fc->socks, socks_reply_for(why->reason,
			    why->desc));
			fconn_socks_flush(fc);
		} else
			tlog_debug(f->env, "forward %s: channel to %s refused: "
			    "%s", f->spec->listen_str, f->spec->target_str,
			    why->msg);
		fconn_free(fc);
		forward_open_refused(f, why);
		return;
	}
	fc->ch = ch;
	forward_open_worked(f);
	fconn_link(fc);
}

/* A SOCKS client's handshake on a dynamic forward. */
static void
local_socks_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fconn		*fc = w->data;
	struct sshconn		*c = forward_conn(fc->f);
	char			 buf[1024];
	ssize_t			 n;

	n = read(fc->fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || c == NULL) {
		fconn_free(fc);
		return;
	}
	if (fconn_socks_feed(fc, buf, (size_t)n) != 1)
		return;		/* freed, or more to come */
	ev_io_stop(loop, &fc->io);
	fc->ch = sshconn_open(c, socks_host(fc->socks),
	    socks_port(fc->socks), NULL, "127.0.0.1", 0, local_open_cb, fc);
	if (fc->ch == NULL) {
		socks_reply(fc->socks, SOCKS_GENERAL_FAILURE);
		fconn_socks_flush(fc);
		fconn_free(fc);
	}
}

/* -D: the client says where to. */
static void
dynamic_accepted(struct fconn *fc, const char *peer, int peer_port)
{
	fconn_socks_start(fc, 0);
	ev_io_init(&fc->io, local_socks_read_cb, fc->fd, EV_READ);
	fc->io.data = fc;
	ev_io_start(forward_loop(fc->f), &fc->io);
}

/* -L: a channel to the target, naming the client as its origin. */
static void
local_accepted(struct fconn *fc, const char *peer, int peer_port)
{
	const struct fwd_spec	*fs = fc->f->spec;

	fc->ch = sshconn_open(forward_conn(fc->f), fs->target.host,
	    fs->target.port, fs->target.path, peer, peer_port, local_open_cb,
	    fc);
	if (fc->ch == NULL)
		fconn_free(fc);
}

static void
local_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct flistener	*l = w->data;
	struct forward		*f = l->f;
	struct sockaddr_storage	 ss;
	socklen_t		 slen;
	char			 host[INET6_ADDRSTRLEN] = "127.0.0.1";
	int			 fd, port = 0, i;
	struct fconn		*fc;
	struct sshconn		*c = forward_conn(f);

	for (i = 0; i < ACCEPT_BATCH; i++) {
		slen = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &slen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			/* Out of descriptors: every listener pauses. */
			if (fdlimit_accept_failed(&l->fw, errno))
				return;
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				tlog_warn(f->env, "forward %s: accept: %s",
				    f->spec->listen_str, strerror(errno));
			return;
		}
		if (c == NULL) {
			close(fd);
			continue;
		}
		fd_nodelay(fd, ss.ss_family);
		if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
			getnameinfo((struct sockaddr *)&ss, slen, host,
			    sizeof(host), NULL, 0, NI_NUMERICHOST);
			port = ntohs(ss.ss_family == AF_INET ?
			    ((struct sockaddr_in *)&ss)->sin_port :
			    ((struct sockaddr_in6 *)&ss)->sin6_port);
		}
		fc = fconn_new(f, fd);
		forward_kind(f)->accepted(fc, host, port);
	}
}

/* The watcher is started once every listener of the forward is bound. */
static void
listener_add(struct forward *f, int fd)
{
	struct flistener	*l;

	f->lis = xreallocarray(f->lis, f->nlis + 1, sizeof(*f->lis));
	l = &f->lis[f->nlis++];
	memset(l, 0, sizeof(*l));
	l->f = f;
	l->fd = fd;
}

static int
listen_tcp(struct forward *f, const struct sockaddr *sa, socklen_t len,
    char **err)
{
	char			 host[INET6_ADDRSTRLEN];
	int			 fd, one = 1, saved;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, sa, len) == -1 || listen(fd, 128) == -1)
		goto fail;
	listener_add(f, fd);
	return 0;

fail:
	saved = errno;
	getnameinfo(sa, len, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
	free(*err);
	xasprintf(err, "cannot listen on %s%s%s:%d: %s",
	    sa->sa_family == AF_INET6 ? "[" : "", host,
	    sa->sa_family == AF_INET6 ? "]" : "", f->spec->listen.port,
	    strerror(saved));
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

/*
 * StreamLocalBindUnlink yes: remove what is at path, but only a socket, as
 * ssh does. A file, a directory, a symlink or a fifo stays where it is, and
 * the forward fails naming it.
 */
static int
sock_clear(const char *path, char **err)
{
	struct stat	 sb;

	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			return 0;
		xasprintf(err, "cannot listen on %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		xasprintf(err, "%s exists and is not a socket: not removed",
		    path);
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		xasprintf(err, "cannot remove the old socket %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The socket file bind() made: removed later only while it is this one. */
static void
sock_remember(struct forward *f, const char *path)
{
	struct stat	 sb;

	if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		f->sock_made = 1;
		f->sock_dev = sb.st_dev;
		f->sock_ino = sb.st_ino;
	}
}

/* Remove our socket file, unless another has taken its place. */
static void
sock_remove(struct forward *f)
{
	const char	*path = f->spec->listen.path;
	struct stat	 sb;

	if (!f->sock_made)
		return;
	f->sock_made = 0;
	if (lstat(path, &sb) == 0 && sb.st_dev == f->sock_dev &&
	    sb.st_ino == f->sock_ino)
		unlink(path);
	else
		tlog_info(f->env, "forward %s: %s is no longer the socket we "
		    "made: left in place", f->spec->listen_str, path);
}

static int
listen_unix(struct forward *f, char **err)
{
	const struct tunnel_spec *ts = f->env->spec;
	struct sockaddr_un	 sun;
	struct stat		 sb;
	mode_t			 old;
	int			 fd, r, saved, hint;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(f->spec->listen.path) >= sizeof(sun.sun_path)) {
		xasprintf(err, "socket path too long: %s",
		    f->spec->listen.path);
		return -1;
	}
	strncpy(sun.sun_path, f->spec->listen.path, sizeof(sun.sun_path) - 1);
	if (ts->stream_local_bind_unlink && sock_clear(sun.sun_path, err) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(err, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	umask(old);
	if (r == 0) {
		sock_remember(f, sun.sun_path);
		if (listen(fd, 128) == 0) {
			listener_add(f, fd);
			return 0;
		}
		saved = errno;
		sock_remove(f);
	}
	/* Only an old socket is what StreamLocalBindUnlink would replace. */
	hint = saved == EADDRINUSE && !ts->stream_local_bind_unlink &&
	    lstat(sun.sun_path, &sb) == 0 && S_ISSOCK(sb.st_mode);
	xasprintf(err, "cannot listen on %s: %s%s", sun.sun_path,
	    strerror(saved), hint ?
	    " (set StreamLocalBindUnlink yes to replace it)" : "");
	close(fd);
	return -1;
}

static void
local_session_down(struct forward *f)
{
	size_t		 i;

	for (i = 0; i < f->nlis; i++) {
		fdlimit_unwatch(&f->lis[i].fw);
		close(f->lis[i].fd);
	}
	sock_remove(f);
	free(f->lis);
	f->lis = NULL;
	f->nlis = 0;
}

static void
local_listen(struct forward *f)
{
	const struct fwd_spec	*fs = f->spec;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct addrinfo		 hints, *res = NULL;
	char			*err = NULL, port[8];
	int			 loopback, any, ok = 0, r;
	size_t			 i;

	/* Still listening (forward_session_moved): nothing to do. */
	if (f->nlis > 0)
		return;
	if (fs->listen.path != NULL) {
		if (listen_unix(f, &err) == 0)
			ok = 1;
		goto done;
	}
	loopback = (fs->listen.host == NULL && !f->env->spec->gateway_ports) ||
	    (fs->listen.host != NULL &&
	    strcasecmp(fs->listen.host, "localhost") == 0);
	any = (fs->listen.host == NULL && f->env->spec->gateway_ports) ||
	    (fs->listen.host != NULL && (*fs->listen.host == '\0' ||
	    strcmp(fs->listen.host, "*") == 0));
	if (loopback || any) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(fs->listen.port);
		sin.sin_addr.s_addr = htonl(loopback ? INADDR_LOOPBACK :
		    INADDR_ANY);
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(fs->listen.port);
		sin6.sin6_addr = loopback ? in6addr_loopback : in6addr_any;
		if (listen_tcp(f, (struct sockaddr *)&sin, sizeof(sin),
		    &err) == 0)
			ok = 1;
		/* IPv6 is a bonus: a host without it still forwards. */
		if (ok && listen_tcp(f, (struct sockaddr *)&sin6,
		    sizeof(sin6), &err) != 0 && errno != EADDRNOTAVAIL &&
		    errno != EAFNOSUPPORT) {
			local_session_down(f);
			ok = 0;
		}
		goto done;
	}
	/* An explicit address: numeric only, so the loop never waits. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	snprintf(port, sizeof(port), "%d", fs->listen.port);
	if ((r = getaddrinfo(fs->listen.host, port, &hints, &res)) != 0) {
		xasprintf(&err, "bind address %s: %s (use a numeric address "
		    "or localhost)", fs->listen.host, gai_strerror(r));
		goto done;
	}
	if (listen_tcp(f, res->ai_addr, res->ai_addrlen, &err) == 0)
		ok = 1;
	freeaddrinfo(res);
done:
	if (!ok) {
		local_session_down(f);
		forward_set(f, FWD_FAILED, "%s", err != NULL ? err :
		    "cannot listen");
		free(err);
		return;
	}
	free(err);
	/* f->lis stays where it is until local_close_listeners(). */
	for (i = 0; i < f->nlis; i++) {
		ev_io_init(&f->lis[i].io, local_accept_cb, f->lis[i].fd,
		    EV_READ);
		f->lis[i].io.data = &f->lis[i];
		fdlimit_watch(f->env->fdl, &f->lis[i].fw, &f->lis[i].io);
	}
	f->bound_port = fs->listen.path != NULL ? 0 : fs->listen.port;
	forward_set(f, FWD_UP, NULL);
}


/* A local forward is alive while its listeners are open. */
static void
local_probe(struct forward *f)
{
	size_t	 i;

	if (f->state == FWD_UP && f->nlis == 0)
		forward_set(f, FWD_FAILED, "listener closed");
	for (i = 0; i < f->nlis; i++) {
		if (!fdlimit_watching(&f->lis[i].fw))
			forward_set(f, FWD_FAILED, "listener stopped");
	}
}

const struct forward_ops forward_local_ops = {
	.session_up = local_listen,
	.session_down = local_session_down,
	.accepted = local_accepted,
	.probe = local_probe,
};

const struct forward_ops forward_dynamic_ops = {
	.session_up = local_listen,
	.session_down = local_session_down,
	.accepted = dynamic_accepted,
	.probe = local_probe,
};
