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
 * forward.h: one forward of a tunnel: its listeners (local), its request to
 * the server (remote), the connections it carries, its counters and state.
 */
#ifndef TUNSUP_FORWARD_H
#define TUNSUP_FORWARD_H

#include <sys/queue.h>
#include <sys/types.h>

#include <ev.h>
#include <jansson.h>

#include "fdlimit.h"
#include "sshconn.h"

struct fwd_spec;
struct fconn;
struct resolver;
struct tunnel_spec;

enum forward_state {
	FWD_PENDING = 0,
	FWD_UP,
	FWD_FAILED,
};

struct flistener {
	struct forward		*f;
	int			 fd;
	ev_io			 io;
	struct fdlimit_listener	 fw;	/* io runs under the accept pause */
};

/* What a forward tells its tunnel, through forward_env's one notice. */
enum forward_notice {
	FWD_NOTICE_SAME,	/* evaluated again, no change: retries re-arm */
	FWD_NOTICE_CHANGED,	/* its state or error changed */
	FWD_NOTICE_LISTENING,	/* the server took a listen: retries restart */
	FWD_NOTICE_REFUSED,	/* the server refused a channel open */
};

/* The RFC 4254 reasons of a refused channel open; 0 holds any other. */
#define FWD_REFUSAL_REASONS	5

/*
 * All a forward reaches, given by its tunnel: the loop, the resolver, the
 * accept pause, the tunnel's spec (GatewayPorts, ConnectTimeout, ...; its
 * name prefixes the forward's log lines, as tlog_*() expects of ->spec),
 * the tunnel's session (NULL while there is none) and the notice upward.
 */
struct forward_env {
	struct ev_loop		 *loop;
	struct resolver		 *resolver;
	struct fdlimit		 *fdl;
	const struct tunnel_spec *spec;
	struct sshconn *const	 *conn;
	void			(*notice)(void *arg, struct forward *,
				    enum forward_notice);
	void			 *arg;
};

struct forward {
	const struct forward_env *env;
	const struct fwd_spec	*spec;
	enum forward_state	 state;
	char			*error;
	int			 bound_port;
	int			 requested;	/* tcpip-forward in flight */
	int			 listening;	/* the server accepted it */
	int			 relisten;	/* cancel the old listener first */
	int			 suspect;	/* up again only once a probe passes */
	struct pump_counters	 ctr;
	/*
	 * Channel opens the server refused (a client of -L or -D it would not
	 * carry: permitopen=, PermitOpen, a target that refuses), by reason;
	 * how many since the last open that worked; the last one's words.
	 */
	unsigned long		 refused[FWD_REFUSAL_REASONS];
	unsigned long		 refused_in_row;
	char			*refusal;
	double			 refusal_ts;	/* wall clock */
	double			 refusal_noticed; /* loop time of the notice */
	unsigned long		 refusals_unsaid; /* since, told by the timer */
	ev_timer		 refusal_timer;

	struct flistener	*lis;
	size_t			 nlis;
	/* The socket file of a unix listener, while it is ours to remove. */
	int			 sock_made;
	dev_t			 sock_dev;
	ino_t			 sock_ino;
	TAILQ_HEAD(, fconn)	 conns;		/* connections being set up */

	/*
	 * Probe of a remote forward (ForwardProbe in tunsupd.conf(5)): a
	 * direct-tcpip channel to the server's own listener carries a random
	 * token; the forwarded-tcpip channel that brings it back proves the
	 * listener works end to end.
	 * While a probe is out, incoming channels are classified by their
	 * first bytes before they are connected to the target.
	 */
	struct sshchan		*probe;
	int			 probe_open;	/* channel open, token sent */
	unsigned char		 probe_token[16];
	int			 probe_unsupported;
	double			 probe_sent;	/* monotonic */
	unsigned long		 probes_ok;
	TAILQ_HEAD(, fconn)	 classify;	/* incoming, not yet classified */
};

const char	*forward_state_name(enum forward_state);
/* env outlives the forward (the tunnel keeps it). */
struct forward	*forward_new(const struct forward_env *,
		    const struct fwd_spec *);
void		 forward_free(struct forward *);

/* The session is ready: bind listeners, request remote listens. */
void		 forward_session_up(struct forward *);
/* The session is gone (or going): close listeners and half-set-up links. */
void		 forward_session_down(struct forward *);
/*
 * The forward is removed from a live session: the server lets go of its
 * listener (cancel-tcpip-forward, cancel-streamlocal-forward), its
 * connections and listeners close. forward_free() follows.
 */
void		 forward_cancel(struct forward *);

/*
 * Another session replaces it at once: close the connections, keep a
 * listener on this host (session_up follows).
 */
void		 forward_session_moved(struct forward *);
/* Retry a refused or failed forward inside the live session. */
void		 forward_retry(struct forward *);
/* An incoming forwarded-tcpip channel matched this forward. */
int		 forward_matches(struct forward *, const char *addr, int port);
void		 forward_incoming(struct forward *, struct sshconn_fwdmsg *);
/* Liveness check of the forward (ForwardProbe) on each keepalive round. */
void		 forward_probe(struct forward *);

/* A channel open of this forward was refused, or worked. */
void		 forward_open_refused(struct forward *,
		    const struct sshchan_refusal *);
void		 forward_open_worked(struct forward *);
const char	*forward_refusal_name(int reason);

json_t		*forward_status(struct forward *);

#endif
