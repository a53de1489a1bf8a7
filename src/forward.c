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
 * forward.c: one forward of a tunnel, the part every kind shares: its
 * state, the connections being set up (struct fconn) and their hand-over
 * to the pump, the SOCKS handshake on either side, status; each operation
 * goes to the kind's own file, through its entry in forward_kinds.c:
 *
 *	forward_local.c		-L and -D: listeners here, a channel per
 *				connection
 *	forward_remote.c	-R and reverse SOCKS: a listener on the
 *				server, a connection here per channel, probes
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "forward.h"
#include "forward_kind.h"
#include "log.h"
#include "resolver.h"
#include "socks.h"
#include "sshconn.h"
#include "util.h"

static void	forward_refusal_cb(struct ev_loop *, ev_timer *, int);

static const char *const forward_state_names[] = {
	"pending", "up", "failed",
};

const struct forward_ops *
forward_kind(struct forward *f)
{
	return fwd_kind_info(f->spec->kind)->ops;
}

const char *
forward_state_name(enum forward_state s)
{
	return forward_state_names[s];
}

struct forward *
forward_new(const struct forward_env *env, const struct fwd_spec *spec)
{
	struct forward	*f;

	f = xcalloc(1, sizeof(*f));
	f->env = env;
	f->spec = spec;
	f->state = FWD_PENDING;
	TAILQ_INIT(&f->conns);
	TAILQ_INIT(&f->classify);
	ev_init(&f->refusal_timer, forward_refusal_cb);
	f->refusal_timer.data = f;
	return f;
}

void
forward_free(struct forward *f)
{
	if (f == NULL)
		return;
	forward_session_down(f);
	ev_timer_stop(f->env->loop, &f->refusal_timer);
	free(f->error);
	free(f->refusal);
	free(f);
}

struct ev_loop *
forward_loop(struct forward *f)
{
	return f->env->loop;
}

struct sshconn *
forward_conn(struct forward *f)
{
	return *f->env->conn;
}

void
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
		f->env->notice(f->env->arg, f, FWD_NOTICE_SAME);
		return;
	}
	f->state = st;
	free(f->error);
	f->error = err;
	f->env->notice(f->env->arg, f, FWD_NOTICE_CHANGED);
}

/* What RFC 4254 calls each reason; "other" for one it does not name. */
static const char *const forward_refusal_names[FWD_REFUSAL_REASONS] = {
	"other",
	"administratively prohibited",
	"connect failed",
	"unknown channel type",
	"resource shortage",
};

const char *
forward_refusal_name(int reason)
{
	if (reason < 1 || reason >= FWD_REFUSAL_REASONS)
		reason = 0;
	return forward_refusal_names[reason];
}

/*
 * Refusals kept quiet since the last notice, while the row goes on: one
 * notice for them all, with the count in a row by then.
 */
static void
forward_refusal_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct forward	*f = w->data;

	if (f->refusals_unsaid == 0 || f->refused_in_row == 0)
		return;
	f->refusals_unsaid = 0;
	f->refusal_noticed = ev_now(loop);
	f->env->notice(f->env->arg, f, FWD_NOTICE_REFUSED);
}

/*
 * Count a refused open with the server's words; the tunnel hears of it
 * (a log line and an event) at most once a second per forward, so that a
 * client retrying in a loop cannot flood the log or the subscribers; the
 * ones kept quiet are told in one notice when the second is over.
 */
void
forward_open_refused(struct forward *f, const struct sshchan_refusal *why)
{
	double	 now = ev_now(f->env->loop);
	int	 r = why->reason;

	if (r == 0)
		return;		/* the session ended: nobody refused */
	if (r >= FWD_REFUSAL_REASONS)
		r = 0;
	f->refused[r]++;
	f->refused_in_row++;
	free(f->refusal);
	if (why->desc != NULL && *why->desc != '\0')
		xasprintf(&f->refusal, "%s: %s", forward_refusal_name(r),
		    why->desc);
	else
		f->refusal = xstrdup(forward_refusal_name(r));
	f->refusal_ts = now_wall();
	if (f->refused_in_row > 1 && now - f->refusal_noticed < 1.) {
		f->refusals_unsaid++;
		if (!ev_is_active(&f->refusal_timer)) {
			ev_timer_set(&f->refusal_timer,
			    1. - (now - f->refusal_noticed), 0.);
			ev_timer_start(f->env->loop, &f->refusal_timer);
		}
		return;
	}
	f->refusals_unsaid = 0;
	f->refusal_noticed = now;
	f->env->notice(f->env->arg, f, FWD_NOTICE_REFUSED);
}

void
forward_open_worked(struct forward *f)
{
	f->refused_in_row = 0;
}

/* Forwarded bytes go out at once, as OpenSSH does for its channels. */
void
fd_nodelay(int fd, int family)
{
	int	 one = 1;

	if (family == AF_INET || family == AF_INET6)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ---- connections being set up ---------------------------------------- */

struct fconn *
fconn_new(struct forward *f, int fd)
{
	struct fconn	*fc;

	fc = xcalloc(1, sizeof(*fc));
	fc->f = f;
	fc->fd = fd;
	ev_init(&fc->io, NULL);
	ev_init(&fc->timer, NULL);
	fc->io.data = fc->timer.data = fc;
	connector_init(&fc->conn);
	TAILQ_INSERT_TAIL(&f->conns, fc, entry);
	return fc;
}

void
fconn_free(struct fconn *fc)
{
	struct ev_loop	*loop = forward_loop(fc->f);

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
	connector_stop(&fc->conn);
	free(fc->socks);
	free(fc->early);
	free(fc);
}

/*
 * Both ends are there: tell a SOCKS client it worked, then hand both ends
 * to the pump with what was read ahead (the first bytes read to classify
 * a channel; what a SOCKS client sent after its request, towards the
 * channel, or back out of it for reverse SOCKS).
 */
void
fconn_link(struct fconn *fc)
{
	struct forward	*f = fc->f;
	struct sshchan	*ch = fc->ch;
	int		 fd = fc->fd;

	if (fc->socks != NULL) {
		socks_reply(fc->socks, SOCKS_OK);
		if (fconn_socks_flush(fc) != 0) {
			fconn_free(fc);
			return;
		}
	}
	fc->ch = NULL;
	fc->fd = -1;
	sshchan_unread(ch, fc->pre, fc->prelen);
	if (fc->socks_on_chan)
		sshchan_unread(ch, fc->early, fc->earlylen);
	else if (fc->socks != NULL)
		sshchan_preload(ch, fc->early, fc->earlylen);
	fconn_free(fc);
	sshchan_attach(ch, fd, &f->ctr);
}

/* ---- SOCKS, on a local socket (-D) or in a channel (reverse) ---------- */

static void
socks_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fconn	*fc = w->data;

	tlog_debug(fc->f->env, "forward %s: SOCKS client too slow, closed",
	    fc->f->spec->listen_str);
	fconn_free(fc);
}

/* The client must finish its handshake within SOCKS_TIMEOUT. */
void
fconn_socks_start(struct fconn *fc, int on_chan)
{
	fc->socks = xcalloc(1, sizeof(*fc->socks));
	socks_init(fc->socks);
	fc->socks_on_chan = on_chan;
	ev_timer_init(&fc->timer, socks_timeout_cb, SOCKS_TIMEOUT, 0.);
	fc->timer.data = fc;
	ev_timer_start(forward_loop(fc->f), &fc->timer);
}

/* Send the client what the SOCKS state has for it. -1: give up. */
int
fconn_socks_flush(struct fconn *fc)
{
	const void	*out;
	size_t		 len;
	ssize_t		 n;

	out = socks_out(fc->socks, &len);
	if (len == 0)
		return 0;
	/* A few bytes to a fresh socket or channel: short means trouble. */
	if (fc->socks_on_chan)
		n = sshchan_write_raw(fc->ch, out, len);
	else
		n = write(fc->fd, out, len);
	if (n != (ssize_t)len)
		return -1;
	socks_out_consume(fc->socks, len);
	return 0;
}

int
fconn_socks_feed(struct fconn *fc, const char *buf, size_t len)
{
	enum socks_status	 st;
	size_t			 used;

	st = socks_feed(fc->socks, buf, len, &used);
	if (fconn_socks_flush(fc) != 0 || st == SOCKS_FAIL) {
		fconn_free(fc);
		return -1;
	}
	if (st == SOCKS_MORE)
		return 0;
	/* A complete request: the rest is payload for later. */
	ev_timer_stop(forward_loop(fc->f), &fc->timer);
	if (len > used) {
		fc->early = xreallocarray(fc->early, fc->earlylen + len - used,
		    1);
		memcpy(fc->early + fc->earlylen, buf + used, len - used);
		fc->earlylen += len - used;
	}
	return 1;
}

/* ---- what the tunnel asks, sent to the kind ----------------------------- */

void
forward_session_up(struct forward *f)
{
	forward_kind(f)->session_up(f);
}

void
forward_retry(struct forward *f)
{
	if (f->state == FWD_UP)
		return;
	forward_session_up(f);
}

/* What rides on the session goes: its requests, its connections. */
static void
forward_conns_close(struct forward *f)
{
	struct fconn	*fc;

	if (forward_conn(f) != NULL)
		sshconn_forget(forward_conn(f), f);
	while ((fc = TAILQ_FIRST(&f->conns)) != NULL)
		fconn_free(fc);
	while ((fc = TAILQ_FIRST(&f->classify)) != NULL)
		fconn_free(fc);
}

/*
 * The session is replaced by another at once (a FallbackHost's by the
 * primary's): the connections through the old one end, a listener on this
 * host stays open for the next session_up, a listener on the server goes
 * with its session.
 */
void
forward_session_moved(struct forward *f)
{
	if ((fwd_kind_info(f->spec->kind)->flags & FK_HERE) == 0) {
		forward_session_down(f);
		return;
	}
	forward_conns_close(f);
}

void
forward_session_down(struct forward *f)
{
	forward_conns_close(f);
	forward_kind(f)->session_down(f);
	f->bound_port = 0;
	if (f->state != FWD_PENDING || f->error != NULL) {
		f->state = FWD_PENDING;
		free(f->error);
		f->error = NULL;
	}
}

void
forward_cancel(struct forward *f)
{
	struct sshconn	*c = forward_conn(f);

	if (c != NULL) {
		if (forward_kind(f)->cancel != NULL)
			forward_kind(f)->cancel(f);
		sshconn_close_counted(c, &f->ctr);
	}
	forward_session_down(f);
}

/* Listening on the server, and that listener is the one addr:port names. */
int
forward_matches(struct forward *f, const char *addr, int port)
{
	const struct fwd_spec	*fs = f->spec;

	if (forward_kind(f)->incoming == NULL || !f->listening)
		return 0;
	/* A socket path (port -1) matches only the same path. */
	if (fs->listen.path != NULL || port == -1)
		return fs->listen.path != NULL && port == -1 &&
		    strcmp(fs->listen.path, addr) == 0;
	if (port != fs->listen.port && port != f->bound_port)
		return 0;
	/* The server echoes the bind address we sent. */
	return fs->listen.host == NULL || strcmp(fs->listen.host, addr) == 0;
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
	forward_kind(f)->incoming(fc);
}

void
forward_probe(struct forward *f)
{
	forward_kind(f)->probe(f);
}

/* ---- status ---------------------------------------------------------- */

json_t *
forward_status(struct forward *f)
{
	const struct fwd_spec	*fs = f->spec;
	const char		*probe = NULL;
	json_t			*refused;
	int			 r;

	if (forward_kind(f)->probe_status != NULL)
		probe = forward_kind(f)->probe_status(f);
	refused = json_object();
	for (r = 0; r < FWD_REFUSAL_REASONS; r++) {
		if (f->refused[r] > 0)
			json_object_set_new(refused, forward_refusal_name(r),
			    json_integer((json_int_t)f->refused[r]));
	}
	/* json_pack "o" steals the reference of each new value. */
	return json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:I, s:I, s:I, s:I, "
	    "s:s?, s:I, s:o, s:I, s:o, s:o}",
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
	    "probes_ok", (json_int_t)f->probes_ok,
	    "opens_refused", refused,
	    "opens_refused_in_row", (json_int_t)f->refused_in_row,
	    "last_refusal", f->refusal != NULL ? json_text(f->refusal) :
	    json_null(),
	    "last_refusal_ts", f->refusal != NULL ?
	    json_real(f->refusal_ts) : json_null());
}
