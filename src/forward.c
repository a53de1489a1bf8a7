/*
 * forward.c: one forward of a tunnel.
 *
 * Local (-L): listeners bound while the session is ready; each accepted
 * connection opens a direct-tcpip (or direct-streamlocal) channel and is
 * handed to the pump once the channel is open.
 *
 * Remote (-R): a tcpip-forward request through the session's global-request
 * queue; each forwarded-tcpip channel the server opens is accepted and its
 * target connected without blocking; a refused target closes that channel
 * only.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "daemon.h"
#include "forward.h"
#include "log.h"
#include "resolver.h"
#include "socks.h"
#include "sshconn.h"
#include "tunnel.h"
#include "util.h"

#define ACCEPT_BATCH	64
#define PROBE_TIMEOUT	10.0
#define SOCKS_TIMEOUT	10.0	/* a client must finish its handshake */

/* A connection being set up: waiting for its channel or its target. */
struct fconn {
	struct forward		*f;
	TAILQ_ENTRY(fconn)	 entry;
	int			 classifying;	/* on f->classify, not f->conns */
	unsigned char		 pre[16];	/* first bytes, read to classify */
	size_t			 prelen;
	struct socks		*socks;		/* dynamic and reverse SOCKS */
	char			*early;		/* bytes after the SOCKS request */
	size_t			 earlylen;
	int			 fd;
	struct sshchan		*ch;
	struct resolve_req	*rq;
	struct addrinfo		*addrs;
	struct addrinfo		*cur;
	ev_io			 io;
	ev_timer		 timer;
};

static const char *const forward_state_names[] = {
	"pending", "up", "failed",
};

static void	fconn_free(struct fconn *);
static void	forward_set(struct forward *, enum forward_state,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

const char *
forward_state_name(enum forward_state s)
{
	return forward_state_names[s];
}

struct forward *
forward_new(struct tunnel *t, const struct fwd_spec *spec, struct fdlimit *fdl)
{
	struct forward	*f;

	f = xcalloc(1, sizeof(*f));
	f->t = t;
	f->spec = spec;
	f->fdl = fdl;
	f->state = FWD_PENDING;
	TAILQ_INIT(&f->conns);
	TAILQ_INIT(&f->classify);
	return f;
}

void
forward_free(struct forward *f)
{
	if (f == NULL)
		return;
	forward_session_down(f);
	free(f->error);
	free(f);
}

static void
forward_set(struct forward *f, enum forward_state st, const char *fmt, ...)
{
	va_list	 ap;
	char	*err = NULL;

	if (fmt != NULL) {
		va_start(ap, fmt);
		xvasprintf(&err, fmt, ap);
		va_end(ap);
	}
	if (f->state == st && ((err == NULL && f->error == NULL) ||
	    (err != NULL && f->error != NULL && strcmp(err, f->error) == 0))) {
		/* Same answer again: no event, but the tunnel re-arms retries. */
		free(err);
		tunnel_forward_changed(f->t, f, 0);
		return;
	}
	f->state = st;
	free(f->error);
	f->error = err;
	tunnel_forward_changed(f->t, f, 1);
}

/* Forwarded bytes go out at once, as OpenSSH does for its channels. */
static void
fd_nodelay(int fd, int family)
{
	int	 one = 1;

	if (family == AF_INET || family == AF_INET6)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ---- connections being set up ---------------------------------------- */

static struct fconn *
fconn_new(struct forward *f, int fd)
{
	struct fconn	*fc;

	fc = xcalloc(1, sizeof(*fc));
	fc->f = f;
	fc->fd = fd;
	ev_init(&fc->io, NULL);
	ev_init(&fc->timer, NULL);
	fc->io.data = fc->timer.data = fc;
	TAILQ_INSERT_TAIL(&f->conns, fc, entry);
	return fc;
}

static void
fconn_free_addrs(struct fconn *fc)
{
	addrinfo_free_copy(fc->addrs);
	fc->addrs = fc->cur = NULL;
}

static void
fconn_free(struct fconn *fc)
{
	struct ev_loop	*loop = fc->f->t->daemon->loop;

	if (fc->classifying)
		TAILQ_REMOVE(&fc->f->classify, fc, entry);
	else
		TAILQ_REMOVE(&fc->f->conns, fc, entry);
	ev_io_stop(loop, &fc->io);
	ev_timer_stop(loop, &fc->timer);
	resolver_cancel(fc->rq);
	if (fc->ch != NULL)
		sshchan_close(fc->ch);
	if (fc->fd != -1)
		close(fc->fd);
	fconn_free_addrs(fc);
	free(fc->socks);
	free(fc->early);
	free(fc);
}

/* Hand both ends to the pump. */
static void
fconn_link(struct fconn *fc)
{
	struct forward	*f = fc->f;
	struct sshchan	*ch = fc->ch;
	int		 fd = fc->fd;

	fc->ch = NULL;
	fc->fd = -1;
	sshchan_unread(ch, fc->pre, fc->prelen);
	if (f->spec->kind == FWD_DYNAMIC)
		sshchan_preload(ch, fc->early, fc->earlylen);
	else if (f->spec->kind == FWD_REMOTE_DYNAMIC)
		sshchan_unread(ch, fc->early, fc->earlylen);
	fconn_free(fc);
	sshchan_attach(ch, fd, &f->ctr);
}

/* ---- SOCKS (dynamic forwards both ways) ------------------------------ */

/* Send what the SOCKS state has for a local client. -1: give up. */
static int
socks_flush_fd(struct fconn *fc)
{
	const void	*out;
	size_t		 len;
	ssize_t		 n;

	out = socks_out(fc->socks, &len);
	if (len == 0)
		return 0;
	/* A few bytes to a fresh socket: a short write means trouble. */
	n = write(fc->fd, out, len);
	if (n != (ssize_t)len)
		return -1;
	socks_out_consume(fc->socks, len);
	return 0;
}

/* The same, into a reverse-SOCKS channel. */
static int
socks_flush_chan(struct fconn *fc)
{
	const void	*out;
	size_t		 len;

	out = socks_out(fc->socks, &len);
	if (len == 0)
		return 0;
	if (sshchan_write_raw(fc->ch, out, len) != (int)len)
		return -1;
	socks_out_consume(fc->socks, len);
	return 0;
}

static void
socks_keep_early(struct fconn *fc, const char *buf, size_t len)
{
	if (len == 0)
		return;
	fc->early = xreallocarray(fc->early, fc->earlylen + len, 1);
	memcpy(fc->early + fc->earlylen, buf, len);
	fc->earlylen += len;
}

static void
socks_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fconn	*fc = w->data;

	tlog_debug(fc->f->t, "forward %s: SOCKS client too slow, closed",
	    fc->f->spec->listen_str);
	fconn_free(fc);
}

/* ---- local forwards: listeners -------------------------------------- */

static void
local_open_cb(void *arg, struct sshchan *ch, const char *err)
{
	struct fconn	*fc = arg;
	struct forward	*f = fc->f;

	if (ch == NULL) {
		fc->ch = NULL;
		if (fc->socks != NULL) {
			tlog_info(f->t, "forward %s: SOCKS %s:%d refused: %s",
			    f->spec->listen_str, socks_host(fc->socks),
			    socks_port(fc->socks), err);
			socks_reply(fc->socks, socks_reply_from_error(err));
			socks_flush_fd(fc);
		} else
			tlog_info(f->t, "forward %s: channel to %s refused: %s",
			    f->spec->listen_str, f->spec->target_str, err);
		fconn_free(fc);
		return;
	}
	fc->ch = ch;
	if (fc->socks != NULL) {
		socks_reply(fc->socks, SOCKS_OK);
		if (socks_flush_fd(fc) != 0) {
			fconn_free(fc);
			return;
		}
	}
	fconn_link(fc);
}

/* A SOCKS client's handshake on a dynamic forward. */
static void
socks_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fconn		*fc = w->data;
	struct forward		*f = fc->f;
	struct sshconn		*c = f->t->conn;
	char			 buf[1024];
	ssize_t			 n;
	size_t			 used;
	enum socks_status	 st;

	n = read(fc->fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fconn_free(fc);
		return;
	}
	st = socks_feed(fc->socks, buf, (size_t)n, &used);
	if (socks_flush_fd(fc) != 0 || st == SOCKS_FAIL || c == NULL) {
		fconn_free(fc);
		return;
	}
	if (st == SOCKS_MORE)
		return;
	/* A complete request: the rest is payload for later. */
	ev_io_stop(loop, &fc->io);
	ev_timer_stop(loop, &fc->timer);
	socks_keep_early(fc, buf + used, (size_t)n - used);
	fc->ch = sshconn_open(c, socks_host(fc->socks),
	    socks_port(fc->socks), NULL, "127.0.0.1", 0, local_open_cb, fc);
	if (fc->ch == NULL) {
		socks_reply(fc->socks, SOCKS_GENERAL_FAILURE);
		socks_flush_fd(fc);
		fconn_free(fc);
	}
}

static void
socks_start(struct fconn *fc)
{
	struct ev_loop	*loop = fc->f->t->daemon->loop;

	fc->socks = xcalloc(1, sizeof(*fc->socks));
	socks_init(fc->socks);
	ev_io_init(&fc->io, socks_read_cb, fc->fd, EV_READ);
	fc->io.data = fc;
	ev_io_start(loop, &fc->io);
	ev_timer_init(&fc->timer, socks_timeout_cb, SOCKS_TIMEOUT, 0.);
	fc->timer.data = fc;
	ev_timer_start(loop, &fc->timer);
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
	struct sshconn		*c = f->t->conn;

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
				tlog_warn(f->t, "forward %s: accept: %s",
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
		if (f->spec->kind == FWD_DYNAMIC) {
			socks_start(fc);
			continue;
		}
		fc->ch = sshconn_open(c, f->spec->target.host,
		    f->spec->target.port, f->spec->target.path, host, port,
		    local_open_cb, fc);
		if (fc->ch == NULL) {
			fconn_free(fc);
			continue;
		}
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
		tlog_info(f->t, "forward %s: %s is no longer the socket we "
		    "made: left in place", f->spec->listen_str, path);
}

static int
listen_unix(struct forward *f, char **err)
{
	const struct tunnel_spec *ts = f->t->spec;
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
local_close_listeners(struct forward *f)
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

	if (f->nlis > 0)
		return;
	if (fs->listen.path != NULL) {
		if (listen_unix(f, &err) == 0)
			ok = 1;
		goto done;
	}
	loopback = (fs->listen.host == NULL && !f->t->spec->gateway_ports) ||
	    (fs->listen.host != NULL &&
	    strcasecmp(fs->listen.host, "localhost") == 0);
	any = (fs->listen.host == NULL && f->t->spec->gateway_ports) ||
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
			local_close_listeners(f);
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
		local_close_listeners(f);
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
		fdlimit_watch(f->fdl, &f->lis[i].fw, &f->lis[i].io);
	}
	f->bound_port = fs->listen.path != NULL ? 0 : fs->listen.port;
	forward_set(f, FWD_UP, NULL);
}

/* ---- remote forwards ------------------------------------------------- */

static void
remote_listen_cb(void *arg, int result, int bound, double rtt)
{
	struct forward	*f = arg;

	f->requested = 0;
	if (result == 0) {
		f->listening = 1;
		f->bound_port = f->spec->listen.port != 0 ? f->spec->listen.port :
		    bound;
		f->t->fwd_attempt = 0;
		if (f->suspect)
			return;		/* a failed probe: the next must pass */
		forward_set(f, FWD_UP, NULL);
		return;
	}
	if (result == -2)
		return;		/* the session is failing; it says why */
	/* The server gives no reason: name the likely ones. */
	forward_set(f, FWD_PENDING, "server refused to listen on %s: the "
	    "port may be held by an earlier session or another process, or "
	    "the key's permitlisten/sshd's AllowTcpForwarding forbids it",
	    f->spec->listen_str);
}

static void
remote_listen(struct forward *f)
{
	struct sshconn	*c = f->t->conn;

	if (f->requested || f->listening || c == NULL)
		return;
	if (f->relisten) {
		/*
		 * A probe found the listener broken, but the server may still
		 * hold it (and refuse a second one): let it go first.
		 */
		f->relisten = 0;
		sshconn_cancel(c, f->spec->listen.host, f->bound_port, NULL,
		    f);
	}
	f->requested = 1;
	sshconn_listen(c, f->spec->listen.host, f->spec->listen.port,
	    remote_listen_cb, f);
}

int
forward_matches(struct forward *f, const char *addr, int port)
{
	const struct fwd_spec	*fs = f->spec;

	if (fs->kind != FWD_REMOTE && fs->kind != FWD_REMOTE_DYNAMIC)
		return 0;
	if (!f->listening)
		return 0;
	if (port != fs->listen.port && port != f->bound_port)
		return 0;
	/* The server echoes the bind address we sent. */
	return fs->listen.host == NULL || strcmp(fs->listen.host, addr) == 0;
}

static void	remote_connect_next(struct fconn *);

/* Connected to the target: answer a reverse-SOCKS client, then relay. */
static void
remote_linked(struct fconn *fc)
{
	if (fc->socks != NULL) {
		socks_reply(fc->socks, SOCKS_OK);
		if (socks_flush_chan(fc) != 0) {
			fconn_free(fc);
			return;
		}
	}
	fconn_link(fc);
}

/* The local connect failed: errnum picks a reverse-SOCKS reply (0: DNS). */
static void
remote_fail(struct fconn *fc, const char *why, int errnum)
{
	struct forward	*f = fc->f;
	enum socks_reply code;

	if (fc->socks != NULL) {
		switch (errnum) {
		case ECONNREFUSED:
			code = SOCKS_CONN_REFUSED;
			break;
		case ENETUNREACH:
			code = SOCKS_NET_UNREACHABLE;
			break;
		case 0:
		case EHOSTUNREACH:
			code = SOCKS_HOST_UNREACHABLE;
			break;
		case ETIMEDOUT:
			code = SOCKS_TTL_EXPIRED;
			break;
		default:
			code = SOCKS_GENERAL_FAILURE;
			break;
		}
		tlog_info(f->t, "forward %s: reverse SOCKS to %s:%d: %s",
		    f->spec->listen_str, socks_host(fc->socks),
		    socks_port(fc->socks), why);
		socks_reply(fc->socks, code);
		socks_flush_chan(fc);
	} else
		tlog_info(f->t, "forward %s: target %s: %s; closing that "
		    "channel", f->spec->listen_str, f->spec->target_str, why);
	fconn_free(fc);
}

static void
remote_connected_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fconn	*fc = w->data;
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	ev_io_stop(loop, &fc->io);
	if (getsockopt(fc->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		close(fc->fd);
		fc->fd = -1;
		if (fc->cur != NULL && fc->cur->ai_next != NULL) {
			remote_connect_next(fc);
			return;
		}
		remote_fail(fc, strerror(err), err);
		return;
	}
	remote_linked(fc);
}

static void
remote_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	remote_fail(w->data, "connect timed out", ETIMEDOUT);
}

static void
remote_start_connect(struct fconn *fc, const struct sockaddr *sa,
    socklen_t len)
{
	struct ev_loop	*loop = fc->f->t->daemon->loop;
	int		 fd;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		remote_fail(fc, strerror(errno), errno);
		return;
	}
	fc->fd = fd;
	fd_nodelay(fd, sa->sa_family);
	if (connect(fd, sa, len) == 0) {
		remote_linked(fc);
		return;
	}
	if (errno != EINPROGRESS) {
		close(fd);
		fc->fd = -1;
		if (fc->cur != NULL && fc->cur->ai_next != NULL) {
			remote_connect_next(fc);
			return;
		}
		remote_fail(fc, strerror(errno), errno);
		return;
	}
	ev_io_init(&fc->io, remote_connected_cb, fd, EV_WRITE);
	fc->io.data = fc;
	ev_io_start(loop, &fc->io);
	if (!ev_is_active(&fc->timer)) {
		ev_timer_init(&fc->timer, remote_timeout_cb,
		    fc->f->t->spec->connect_timeout_ms / 1000.0, 0.);
		fc->timer.data = fc;
		ev_timer_start(loop, &fc->timer);
	}
}

static void
remote_connect_next(struct fconn *fc)
{
	fc->cur = fc->cur == NULL ? fc->addrs : fc->cur->ai_next;
	remote_start_connect(fc, fc->cur->ai_addr, fc->cur->ai_addrlen);
}

static void
remote_resolved(const struct addrinfo *ai, int err, void *arg)
{
	struct fconn		*fc = arg;

	fc->rq = NULL;
	if (err != 0 || ai == NULL) {
		remote_fail(fc, gai_strerror(err), 0);
		return;
	}
	fc->addrs = addrinfo_copy(ai);
	remote_connect_next(fc);
}

/* Connect an accepted channel to the forward's target. */
static void
remote_target(struct fconn *fc)
{
	struct forward		*f = fc->f;
	const struct fwd_spec	*fs = f->spec;
	struct sockaddr_un	 sun;

	if (fs->target.path != NULL) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strncpy(sun.sun_path, fs->target.path,
		    sizeof(sun.sun_path) - 1);
		remote_start_connect(fc, (struct sockaddr *)&sun,
		    sizeof(sun));
		return;
	}
	fc->rq = resolver_query(f->t->daemon->resolver, fs->target.host,
	    fs->target.port, remote_resolved, fc);
}

/* Classified as a real connection: on to the target. */
static void
classify_release(struct fconn *fc)
{
	struct forward	*f = fc->f;

	TAILQ_REMOVE(&f->classify, fc, entry);
	fc->classifying = 0;
	TAILQ_INSERT_TAIL(&f->conns, fc, entry);
	sshchan_set_data_hook(fc->ch, NULL, NULL);
	remote_target(fc);
}

static void	probe_done(struct forward *, const char *);

/* Reverse SOCKS handshake bytes arriving through the channel. */
static void
rsocks_hook(void *arg, struct sshchan *ch)
{
	struct fconn		*fc = arg;
	char			 buf[1024];
	size_t			 used;
	int			 n;
	enum socks_status	 st;

	n = sshchan_read_raw(ch, buf, sizeof(buf));
	if (n == 0)
		return;
	if (n < 0) {
		fconn_free(fc);
		return;
	}
	st = socks_feed(fc->socks, buf, (size_t)n, &used);
	if (socks_flush_chan(fc) != 0 || st == SOCKS_FAIL) {
		fconn_free(fc);
		return;
	}
	if (st == SOCKS_MORE)
		return;
	sshchan_set_data_hook(ch, NULL, NULL);
	ev_timer_stop(fc->f->t->daemon->loop, &fc->timer);
	socks_keep_early(fc, buf + used, (size_t)n - used);
	fc->rq = resolver_query(fc->f->t->daemon->resolver,
	    socks_host(fc->socks), socks_port(fc->socks), remote_resolved, fc);
}

static void
classify_hook(void *arg, struct sshchan *ch)
{
	struct fconn	*fc = arg;
	struct forward	*f = fc->f;
	int		 n;

	n = sshchan_read_raw(ch, fc->pre + fc->prelen,
	    sizeof(fc->pre) - fc->prelen);
	if (n > 0)
		fc->prelen += (size_t)n;
	if (!f->probe_open || memcmp(fc->pre, f->probe_token, fc->prelen) != 0) {
		classify_release(fc);		/* a real client */
		return;
	}
	if (fc->prelen < sizeof(fc->pre)) {
		if (n < 0)
			fconn_free(fc);		/* closed before a verdict */
		return;
	}
	/* Our own token came back through the server's listener. */
	fconn_free(fc);
	probe_done(f, NULL);
}

void
forward_incoming(struct forward *f, struct sshconn_fwdmsg *m)
{
	struct fconn	*fc;
	struct sshchan	*ch;

	if ((ch = sshconn_accept(m)) == NULL)
		return;
	fc = fconn_new(f, -1);
	fc->ch = ch;
	if (f->spec->kind == FWD_REMOTE_DYNAMIC) {
		/* Reverse SOCKS: the client speaks SOCKS through the channel. */
		fc->socks = xcalloc(1, sizeof(*fc->socks));
		socks_init(fc->socks);
		sshchan_set_data_hook(ch, rsocks_hook, fc);
		ev_timer_init(&fc->timer, socks_timeout_cb, SOCKS_TIMEOUT, 0.);
		fc->timer.data = fc;
		ev_timer_start(f->t->daemon->loop, &fc->timer);
		return;
	}
	if (f->probe == NULL) {
		remote_target(fc);
		return;
	}
	/* A probe is out: this may be it. Look at the first bytes. */
	TAILQ_REMOVE(&f->conns, fc, entry);
	fc->classifying = 1;
	TAILQ_INSERT_TAIL(&f->classify, fc, entry);
	sshchan_set_data_hook(ch, classify_hook, fc);
}

/* ---- session up and down --------------------------------------------- */

void
forward_session_up(struct forward *f)
{
	switch (f->spec->kind) {
	case FWD_LOCAL:
	case FWD_DYNAMIC:
		local_listen(f);
		break;
	case FWD_REMOTE:
	case FWD_REMOTE_DYNAMIC:
		remote_listen(f);
		break;
	}
}

void
forward_retry(struct forward *f)
{
	if (f->state == FWD_UP)
		return;
	forward_session_up(f);
}

void
forward_session_down(struct forward *f)
{
	struct fconn	*fc;

	if (f->t->conn != NULL)
		sshconn_forget(f->t->conn, f);
	while ((fc = TAILQ_FIRST(&f->conns)) != NULL)
		fconn_free(fc);
	while ((fc = TAILQ_FIRST(&f->classify)) != NULL)
		fconn_free(fc);
	if (f->probe != NULL) {
		sshchan_close(f->probe);
		f->probe = NULL;
	}
	f->probe_open = 0;
	local_close_listeners(f);
	f->requested = 0;
	f->listening = 0;
	f->relisten = 0;
	f->suspect = 0;
	f->bound_port = 0;
	if (f->state != FWD_PENDING || f->error != NULL) {
		f->state = FWD_PENDING;
		free(f->error);
		f->error = NULL;
	}
}

/* ---- probes ---------------------------------------------------------- */

/* The probe finished: err NULL on success. Held connections go on. */
static void
probe_done(struct forward *f, const char *err)
{
	struct fconn	*fc;

	if (f->probe != NULL) {
		sshchan_close(f->probe);
		f->probe = NULL;
	}
	f->probe_open = 0;
	while ((fc = TAILQ_FIRST(&f->classify)) != NULL)
		classify_release(fc);
	if (err == NULL) {
		f->probes_ok++;
		f->suspect = 0;
		tlog_debug(f->t, "forward %s: probe ok in %.1f ms",
		    f->spec->listen_str, (now_mono() - f->probe_sent) * 1000);
		if (f->listening)
			forward_set(f, FWD_UP, NULL);
		return;
	}
	forward_set(f, FWD_FAILED, "probe: %s", err);
}

/* Data or EOF on the probe's own channel: nothing is expected there. */
static void
probe_hook(void *arg, struct sshchan *ch)
{
	struct forward	*f = arg;
	unsigned char	 buf[64];

	if (sshchan_read_raw(ch, buf, sizeof(buf)) < 0)
		probe_done(f, "the server closed the probe channel");
}

static void
probe_open_cb(void *arg, struct sshchan *ch, const char *err)
{
	struct forward	*f = arg;
	const char	*p;
	size_t		 i;
	int		 reason;

	if (ch == NULL) {
		f->probe = NULL;
		/*
		 * libssh words it "... error (N) text": N is the RFC 4254
		 * reason. 1 (administratively prohibited) is a permitopen
		 * restriction, not a broken forward.
		 */
		p = err != NULL ? strstr(err, "error (") : NULL;
		reason = p != NULL ? atoi(p + 7) : 0;
		if (reason == 1 || (err != NULL &&
		    strstr(err, "prohibited") != NULL)) {
			/* permitopen forbids it: keepalives must do. */
			f->probe_unsupported = 1;
			tlog_info(f->t, "forward %s: cannot probe end to end, "
			    "the server refuses direct-tcpip to it (%s); "
			    "relying on keepalives", f->spec->listen_str, err);
			probe_done(f, NULL);
			return;
		}
		/*
		 * The server could not connect to its own listener: it is
		 * gone or broken. Ask for it again (cancel, then listen).
		 */
		f->listening = 0;
		f->relisten = 1;
		f->suspect = 1;
		probe_done(f, err != NULL ? err : "channel refused");
		return;
	}
	for (i = 0; i < sizeof(f->probe_token); i++)
		f->probe_token[i] = (unsigned char)(rand_unit() * 256);
	f->probe_open = 1;
	sshchan_set_data_hook(ch, probe_hook, f);
	if (sshchan_write_raw(ch, f->probe_token, sizeof(f->probe_token)) !=
	    (int)sizeof(f->probe_token))
		probe_done(f, "cannot send the probe token");
}

void
forward_probe(struct forward *f)
{
	struct sshconn	*c = f->t->conn;
	const char	*host;
	size_t		 i;

	switch (f->spec->kind) {
	case FWD_LOCAL:
	case FWD_DYNAMIC:
		/* A local forward is alive while its listeners are open. */
		if (f->state == FWD_UP && f->nlis == 0)
			forward_set(f, FWD_FAILED, "listener closed");
		for (i = 0; i < f->nlis; i++) {
			if (!fdlimit_watching(&f->lis[i].fw))
				forward_set(f, FWD_FAILED, "listener stopped");
		}
		return;
	case FWD_REMOTE:
		break;
	default:
		return;
	}
	if (c == NULL || f->probe_unsupported || !f->listening)
		return;
	if (f->probe != NULL) {
		if (now_mono() - f->probe_sent > PROBE_TIMEOUT)
			probe_done(f, "nothing came back through the server's "
			    "listener");
		return;
	}
	/* Where the server's listener is: its bind address, or loopback. */
	host = f->spec->listen.host;
	if (host == NULL || *host == '\0' || strcmp(host, "*") == 0)
		host = "127.0.0.1";
	f->probe_sent = now_mono();
	f->probe = sshconn_open(c, host, f->bound_port, NULL, "127.0.0.1", 0,
	    probe_open_cb, f);
}

/* ---- status ---------------------------------------------------------- */

json_t *
forward_status(struct forward *f)
{
	const struct fwd_spec	*fs = f->spec;
	const char		*probe = NULL;

	if (fs->kind == FWD_REMOTE) {
		if (!f->t->spec->forward_probe)
			probe = "off";
		else if (f->probe_unsupported)
			probe = "unsupported";
		else if (f->probes_ok > 0)
			probe = "ok";
	}
	/* json_pack "o" steals the reference of each new value. */
	return json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:I, s:I, s:I, s:I, "
	    "s:s?, s:I}",
	    "kind", fwd_kind_name(fs->kind),
	    "listen", json_text(fs->listen_str != NULL ? fs->listen_str : ""),
	    "target", fs->target_str != NULL ? json_text(fs->target_str) :
	    json_null(),
	    "state", forward_state_name(f->state),
	    "error", f->error != NULL ? json_text(f->error) : json_null(),
	    "bound_port", f->bound_port > 0 ? json_integer(f->bound_port) :
	    json_null(),
	    "connections_active", (json_int_t)f->ctr.active,
	    "connections_total", (json_int_t)f->ctr.total,
	    "bytes_in", (json_int_t)f->ctr.bytes_in,
	    "bytes_out", (json_int_t)f->ctr.bytes_out,
	    "probe", probe,
	    "probes_ok", (json_int_t)f->probes_ok);
}
