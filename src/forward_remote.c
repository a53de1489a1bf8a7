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
 * forward_remote.c: the forwards that listen on the server, -R and reverse
 * SOCKS. A tcpip-forward request (streamlocal-forward for a socket path on
 * the server) goes through the session's global-request queue; each
 * forwarded-tcpip (forwarded-streamlocal) channel the server opens is
 * accepted and its target (fixed, or named by the client's SOCKS request in
 * the channel) connected without blocking; a refused target closes that
 * channel only. A remote forward is probed end to end through the server's
 * listener (direct-tcpip, or direct-streamlocal to the socket).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "connector.h"
#include "forward.h"
#include "forward_kind.h"
#include "log.h"
#include "resolver.h"
#include "socks.h"
#include "sshconn.h"
#include "util.h"

#define PROBE_TIMEOUT	10.0

static void
remote_listen_cb(void *arg, int result, int bound, double rtt)
{
	struct forward	*f = arg;

	f->requested = 0;
	if (result == 0) {
		f->listening = 1;
		f->bound_port = f->spec->listen.port != 0 ? f->spec->listen.port :
		    bound;
		f->env->notice(f->env->arg, f, FWD_NOTICE_LISTENING);
		if (f->suspect)
			return;		/* a failed probe: the next must pass */
		forward_set(f, FWD_UP, NULL);
		return;
	}
	if (result == -2)
		return;		/* the session is failing; it says why */
	if (result == -3) {
		forward_set(f, FWD_PENDING, "the server listens on %s but its "
		    "reply was lost by libssh, which read the port from a "
		    "later packet: asking again (the bundled libssh keeps "
		    "the reply's port; README.md, \"The bundled libssh\")",
		    f->spec->listen_str);
		return;
	}
	/* The server gives no reason: name the likely ones. */
	if (f->spec->listen.path != NULL)
		forward_set(f, FWD_PENDING, "server refused to listen on the "
		    "socket %s: it may exist already (a stale socket of an "
		    "earlier session: sshd's StreamLocalBindUnlink), its "
		    "directory may be missing or not writable by the user, or "
		    "sshd's AllowStreamLocalForwarding or the key's "
		    "no-port-forwarding forbids it", f->spec->listen.path);
	else
		forward_set(f, FWD_PENDING, "server refused to listen on %s: "
		    "the port may be held by an earlier session or another "
		    "process, or the key's permitlisten/sshd's "
		    "AllowTcpForwarding forbids it", f->spec->listen_str);
}

/* Ask the server to let go of the listener on port (no answer awaited). */
static void
remote_unlisten(struct forward *f, struct sshconn *c, int port)
{
	if (f->spec->listen.path != NULL)
		sshconn_cancel_unix(c, f->spec->listen.path, NULL, f);
	else
		sshconn_cancel(c, f->spec->listen.host, port, NULL, f);
}

static void
remote_listen(struct forward *f)
{
	struct sshconn	*c = forward_conn(f);

	if (f->requested || f->listening || c == NULL)
		return;
	if (f->relisten) {
		/*
		 * A probe found the listener broken, but the server may still
		 * hold it (and refuse a second one): let it go first.
		 */
		f->relisten = 0;
		remote_unlisten(f, c, f->bound_port);
	}
	f->requested = 1;
	if (f->spec->listen.path != NULL)
		sshconn_listen_unix(c, f->spec->listen.path, remote_listen_cb,
		    f);
	else
		sshconn_listen(c, f->spec->listen.host, f->spec->listen.port,
		    remote_listen_cb, f);
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
		tlog_info(f->env, "forward %s: reverse SOCKS to %s:%d: %s",
		    f->spec->listen_str, socks_host(fc->socks),
		    socks_port(fc->socks), why);
		socks_reply(fc->socks, code);
		fconn_socks_flush(fc);
	} else
		tlog_info(f->env, "forward %s: target %s: %s; closing that "
		    "channel", f->spec->listen_str, f->spec->target_str, why);
	fconn_free(fc);
}

static void
remote_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	remote_fail(w->data, "connect timed out", ETIMEDOUT);
}

/* The connector's answer: link the channel, or say why not. */
static void
remote_connected(void *arg, const struct connector_result *r)
{
	struct fconn	*fc = arg;

	if (r->fd == -1) {
		remote_fail(fc, strerror(r->err), r->err);
		return;
	}
	fc->fd = r->fd;
	fd_nodelay(fc->fd, r->addr->sa_family);
	fconn_link(fc);
}

/* Connect to each address of list in turn, within ConnectTimeout. */
static void
remote_connect(struct fconn *fc, const struct addrinfo *list)
{
	struct ev_loop	*loop = forward_loop(fc->f);

	if (connector_start(&fc->conn, loop, list, remote_connected, fc) == 0)
		return;		/* done already: fc may be gone */
	if (ev_is_active(&fc->timer))
		return;
	ev_timer_init(&fc->timer, remote_timeout_cb,
	    fc->f->env->spec->connect_timeout_ms / 1000.0, 0.);
	fc->timer.data = fc;
	ev_timer_start(loop, &fc->timer);
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
	remote_connect(fc, ai);
}

/* Connect an accepted channel to the forward's target. */
static void
remote_target(struct fconn *fc)
{
	struct forward		*f = fc->f;
	const struct fwd_spec	*fs = f->spec;
	struct sockaddr_un	 sun;
	struct addrinfo		 ai;

	if (fs->target.path != NULL) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strncpy(sun.sun_path, fs->target.path,
		    sizeof(sun.sun_path) - 1);
		memset(&ai, 0, sizeof(ai));
		ai.ai_family = AF_UNIX;
		ai.ai_socktype = SOCK_STREAM;
		ai.ai_addr = (struct sockaddr *)&sun;
		ai.ai_addrlen = sizeof(sun);
		remote_connect(fc, &ai);
		return;
	}
	fc->rq = resolver_query(f->env->resolver, fs->target.host,
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
	struct fconn	*fc = arg;
	char		 buf[1024];
	int		 n;

	n = sshchan_read_raw(ch, buf, sizeof(buf));
	if (n == 0)
		return;
	if (n < 0) {
		fconn_free(fc);
		return;
	}
	if (fconn_socks_feed(fc, buf, (size_t)n) != 1)
		return;		/* freed, or more to come */
	sshchan_set_data_hook(ch, NULL, NULL);
	fc->rq = resolver_query(fc->f->env->resolver,
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

/* Reverse SOCKS: the client speaks SOCKS through the channel. */
static void
rsocks_incoming(struct fconn *fc)
{
	fconn_socks_start(fc, 1);
	sshchan_set_data_hook(fc->ch, rsocks_hook, fc);
}

static void
remote_incoming(struct fconn *fc)
{
	struct forward	*f = fc->f;

	if (f->probe == NULL) {
		remote_target(fc);
		return;
	}
	/* A probe is out: this may be it. Look at the first bytes. */
	TAILQ_REMOVE(&f->conns, fc, entry);
	fc->classifying = 1;
	TAILQ_INSERT_TAIL(&f->classify, fc, entry);
	sshchan_set_data_hook(fc->ch, classify_hook, fc);
}

static void
remote_session_down(struct forward *f)
{
	if (f->probe != NULL) {
		sshchan_close(f->probe);
		f->probe = NULL;
	}
	f->probe_open = 0;
	f->requested = 0;
	f->listening = 0;
	f->relisten = 0;
	f->suspect = 0;
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
		tlog_debug(f->env, "forward %s: probe ok in %.1f ms",
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
probe_open_cb(void *arg, struct sshchan *ch,
    const struct sshchan_refusal *why)
{
	struct forward	*f = arg;
	size_t		 i;

	if (ch == NULL) {
		f->probe = NULL;
		/*
		 * Administratively prohibited is a permitopen restriction, not
		 * a broken forward: keepalives must do. OpenSSH refuses a
		 * direct-streamlocal that a permitopen or AllowStreamLocal-
		 * Forwarding denies as "open failed" (connect failed), as if
		 * the socket were broken: before any probe of the socket has
		 * passed, that is taken for the refusal.
		 */
		if (why->reason == SSHCHAN_PROHIBITED ||
		    (f->spec->listen.path != NULL && f->probes_ok == 0 &&
		    why->reason == SSHCHAN_CONNECT_FAILED)) {
			f->probe_unsupported = 1;
			tlog_info(f->env, "forward %s: cannot probe end to end, "
			    "the server refuses %s to it (%s); relying on "
			    "keepalives", f->spec->listen_str,
			    f->spec->listen.path != NULL ?
			    "direct-streamlocal" : "direct-tcpip", why->msg);
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
		probe_done(f, why->msg);
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

static void
remote_probe(struct forward *f)
{
	struct sshconn	*c = forward_conn(f);
	const char	*host;

	if (c == NULL || f->probe_unsupported || !f->listening)
		return;
	if (f->probe != NULL) {
		if (now_mono() - f->probe_sent > PROBE_TIMEOUT)
			probe_done(f, "nothing came back through the server's "
			    "listener");
		return;
	}
	f->probe_sent = now_mono();
	if (f->spec->listen.path != NULL) {
		/* sshd connects to its own socket (direct-streamlocal). */
		f->probe = sshconn_open(c, NULL, 0, f->spec->listen.path,
		    "127.0.0.1", 0, probe_open_cb, f);
		return;
	}
	/* Where the server's listener is: its bind address, or loopback. */
	host = f->spec->listen.host;
	if (host == NULL || *host == '\0' || strcmp(host, "*") == 0)
		host = "127.0.0.1";
	f->probe = sshconn_open(c, host, f->bound_port, NULL, "127.0.0.1", 0,
	    probe_open_cb, f);
}


static const char *
remote_probe_status(struct forward *f)
{
	if (!f->env->spec->forward_probe)
		return "off";
	if (f->probe_unsupported)
		return "unsupported";
	return f->probes_ok > 0 ? "ok" : NULL;
}

static void
nothing(struct forward *f)
{
}

/*
 * Removed from the live session: the server lets go of the listener it took,
 * or of the one still being asked for (requests are answered in order, so
 * the cancel comes after the listen). A port 0 not answered yet is unknown:
 * the server keeps it until the session ends.
 */
static void
remote_cancel(struct forward *f)
{
	struct sshconn	*c = forward_conn(f);
	int		 port;

	port = f->listening ? f->bound_port : f->spec->listen.port;
	if ((!f->listening && !f->requested) ||
	    (f->spec->listen.path == NULL && port == 0))
		return;
	tlog_info(f->env, "forward %s: cancelled: the server lets go of its "
	    "listener", f->spec->listen_str);
	remote_unlisten(f, c, port);
}

const struct forward_ops forward_remote_ops = {
	.session_up = remote_listen,
	.session_down = remote_session_down,
	.cancel = remote_cancel,
	.incoming = remote_incoming,
	.probe = remote_probe,
	.probe_status = remote_probe_status,
};

/* Reverse SOCKS is not probed: a probe would have to speak SOCKS. */
const struct forward_ops forward_rsocks_ops = {
	.session_up = remote_listen,
	.session_down = remote_session_down,
	.cancel = remote_cancel,
	.incoming = rsocks_incoming,
	.probe = nothing,
};
