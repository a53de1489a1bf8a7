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
 * tunnel.h: one named tunnel and its state machine (the states of
 * tunsupctl(1) STATES; the table is in tunnel.c and doc/design.md).
 *
 * A tunnel reaches the world only through two tables it is given: its
 * tunnel_ops (the session, the forwards, the clock and the timers; the real
 * ones are tunnel_io_ops, tests bring fakes) and its tunnel_owner (the
 * daemon: events, handshake slots, the keepalive wheel, the start-up spread).
 */
#ifndef TUNSUP_TUNNEL_H
#define TUNSUP_TUNNEL_H

#include <sys/queue.h>

#include <stdint.h>

#include <ev.h>
#include <jansson.h>

#include "daemon_sched.h"

struct daemon;
struct forward;
struct hook;
struct forward_env;
struct fwd_spec;
struct sshconn;
struct sshconn_cbs;
struct sshconn_fwdmsg;
struct tunnel;
struct tunnel_spec;

enum tunnel_state {
	TS_STOPPED = 0,
	TS_CONNECTING,
	TS_FORWARDING,
	TS_UP,
	TS_DEGRADED,
	TS_BACKOFF,
};
#define TS_COUNT	(TS_BACKOFF + 1)

/* What happens to a tunnel: each row of the state table names one. */
enum tunnel_event {
	TE_START = 0,	/* start command, daemon start, add, reload */
	TE_RESTART,	/* restart command, reload with a changed spec */
	TE_RETRY,	/* a wait is over: backoff, start-up spread, slot */
	TE_READY,	/* the session is authenticated */
	TE_FWD_UP,	/* every forward is established */
	TE_FWD_REFUSED,	/* a forward is not (and is retried in the session) */
	TE_FAIL,	/* the attempt or the session failed */
	TE_STOP,	/* stop command, disable, remove, shutdown */
	TE_SWITCH,	/* on a fallback: the primary's session is ready */
};
#define TE_COUNT	(TE_SWITCH + 1)

/* Why the last attempt failed: picks the backoff cap. */
enum tunnel_fail {
	TF_NONE = 0,
	TF_NETWORK,	/* unreachable: refused, timeout, DNS -> RetryNetworkMax */
	TF_SESSION,	/* after TCP: protocol, session lost -> RetryMax cap */
	TF_AUTH,	/* authentication or host key refused: at RetryMax */
};

/* A tunnel's timers; which state arms which is in tunnel.c's table. */
enum tunnel_timer {
	TT_RETRY = 0,	/* backoff: the next attempt; connecting: start-up */
	TT_STABLE,	/* up, degraded: a session this old resets the backoff */
	TT_ALIVE,	/* keepalive rounds not in whole seconds */
	TT_FWD_RETRY,	/* degraded: retry the refused forwards */
	TT_CHECK,	/* a check of the session: its deadline */
	TT_PRIMARY,	/* up, degraded on a fallback: try the primary */
};
#define TT_COUNT	(TT_PRIMARY + 1)

/* What tunnel_check_now() did. */
enum tunnel_check {
	TCHECK_NONE = 0,	/* stopped, or an attempt under way */
	TCHECK_SESSION,		/* the session is being checked */
	TCHECK_RETRY,		/* backoff: the next attempt starts now */
};

/* The downward seam: everything a tunnel asks of the world. */
struct tunnel_ops {
	/*
	 * The session (sshconn.h) to server 0 (the primary) or n (the nth
	 * FallbackHost); its callbacks get the tunnel as arg. conn_set_cbs
	 * hands a session over to other callbacks.
	 */
	struct sshconn	*(*conn_new)(struct tunnel *, size_t server,
			    const struct sshconn_cbs *);
	void		 (*conn_set_cbs)(struct sshconn *,
			    const struct sshconn_cbs *, void *);
	void		 (*conn_free)(struct sshconn *);
	uint64_t	 (*conn_in_packets)(struct sshconn *);
	void		 (*conn_keepalive)(struct sshconn *,
			    void (*)(void *, int, int, double), void *);
	int		 (*conn_keepalive_pending)(struct sshconn *);

	/* The forwards (forward.h). */
	struct forward	*(*fwd_new)(struct tunnel *, const struct fwd_spec *);
	void		 (*fwd_free)(struct forward *);
	void		 (*fwd_session_up)(struct forward *);
	void		 (*fwd_session_down)(struct forward *);
	/* Removed from a live session: cancelled on the server, closed. */
	void		 (*fwd_cancel)(struct forward *);
	void		 (*fwd_session_moved)(struct forward *);
	void		 (*fwd_retry)(struct forward *);
	void		 (*fwd_probe)(struct forward *);
	int		 (*fwd_matches)(struct forward *, const char *, int);
	void		 (*fwd_incoming)(struct forward *,
			    struct sshconn_fwdmsg *);
	json_t		*(*fwd_status)(struct forward *);

	/* The clocks, the random unit in [0, 1), the timers. */
	double		 (*wall)(void);
	double		 (*mono)(void);
	double		 (*unit)(void);
	/* (Re)start a timer: tunnel_timer_fired() when it expires. */
	void		 (*timer_start)(struct tunnel *, enum tunnel_timer,
			    double after, double repeat);
	void		 (*timer_stop)(struct tunnel *, enum tunnel_timer);
	int		 (*timer_active)(struct tunnel *, enum tunnel_timer);

	/* Commands (hook.h): a change of state announced; the tunnel goes. */
	void		 (*hook_state)(struct tunnel *, enum tunnel_state from,
			    enum tunnel_state to, const char *reason);
	void		 (*hook_free)(struct tunnel *);
};

/* The real session, forwards, clock and libev timers (tunnel_io.c). */
extern const struct tunnel_ops tunnel_io_ops;

/* The upward seam: what a tunnel tells or asks its owner (daemon.c). */
struct tunnel_owner {
	/* A state or forward event (reference stolen). */
	void	 (*emit)(struct daemon *, json_t *);
	/* A tunnel changed state. */
	void	 (*changed)(struct daemon *);
	/* Handshake slots: 1 if held now, else ticket->granted() later. */
	int	 (*slot_acquire)(struct daemon *, struct hs_ticket *);
	void	 (*slot_release)(struct daemon *, struct hs_ticket *);
	/* Keepalive rounds: on the wheel in whole seconds; due now; gone. */
	void	 (*alive_schedule)(struct daemon *, struct alive_round *,
		    long seconds);
	void	 (*alive_due)(struct daemon *, struct alive_round *);
	void	 (*alive_forget)(struct daemon *, struct alive_round *);
	/* Seconds a tunnel starting now waits first (start-up spread). */
	double	 (*start_delay)(struct daemon *);
};

struct tunnel {
	/*
	 * The owner, passed back to it through owner; tunnel.c never looks
	 * inside (forward.c reaches the loop and the resolver through it).
	 */
	struct daemon			*daemon;
	const struct tunnel_owner	*owner;
	const struct tunnel_ops		*ops;
	struct tunnel_spec		*spec;
	TAILQ_ENTRY(tunnel)		 entry;		/* daemon->tunnels */
	struct hs_ticket		 slot;		/* handshake limiter */

	enum tunnel_state	 state;
	double			 state_since;	/* wall clock */
	double			 down_since;	/* wall clock, 0 while up */
	int			 wanted;	/* 1 unless stopped */

	unsigned long		 connects;	/* sessions established */
	unsigned long		 failures;	/* attempts or sessions failed */
	char			*last_error;
	enum tunnel_fail	 fail_kind;

	/* Backoff. */
	int			 attempt;	/* consecutive failures */
	double			 up_since;	/* monotonic, 0 if not up */
	double			 retry_at;	/* wall clock of the next try */

	/* Liveness. */
	struct alive_round	 alive;		/* on the daemon's wheel */
	unsigned long		 alive_last_in;	/* inbound packets seen */
	int			 alive_missed;
	long			 probe_wait;	/* rounds until the next probe */
	double			 rtt_ms;	/* -1 unknown */
	double			 last_ok;	/* wall clock, 0 unknown */
	/* A check of the session (tunnel_check_now): packets in, why. */
	uint64_t		 check_in;
	char			*check_why;

	/* Forward retry inside a live session (reset by a listen taken). */
	int			 fwd_attempt;
	/* What the forwards are given (forward.h): loop, session, notice. */
	struct forward_env	*fwd_env;

	/* tunnel_io_ops' libev timers, by enum tunnel_timer; data is t. */
	ev_timer		 timers[TT_COUNT];

	struct hook		*hook;		/* its commands (hook.c) */
	struct sshconn		*conn;
	/*
	 * The server of the session, or of the attempt under way or next: 0
	 * the primary, n the spec's nth FallbackHost. On a fallback, probe
	 * is a session to the primary being tried (TT_PRIMARY).
	 */
	size_t			 server;
	struct sshconn		*probe;
	struct forward		**forwards;	/* one per spec->forwards[] */
	size_t			 nforwards;
};

const char	*tunnel_state_name(enum tunnel_state);
const char	*tunnel_event_name(enum tunnel_event);
/* The state table: where ev leads from, or -1 if ev is not allowed there. */
int		 tunnel_next_state(enum tunnel_state from, enum tunnel_event);

/* Takes spec; ops and owner must outlive the tunnel. */
struct tunnel	*tunnel_new(struct daemon *, struct tunnel_spec *,
		    const struct tunnel_ops *, const struct tunnel_owner *);
/* Stops everything and frees (with its spec). */
void		 tunnel_free(struct tunnel *);

void		 tunnel_start(struct tunnel *);
void		 tunnel_stop(struct tunnel *, const char *reason);
/* Tear down and connect at once, skipping any backoff wait. */
void		 tunnel_restart(struct tunnel *, const char *reason);

/* The status object of tunsupctl(1) (status --json). */
json_t		*tunnel_status(struct tunnel *);

/*
 * Check the session now, after a network change, a resume, SIGUSR1 or the
 * control command (tunsupd(8), NETWORK CHANGES): a keepalive, and the
 * session is lost, naming why, unless a packet arrives within the check's
 * deadline; a tunnel in backoff tries again at once.
 */
enum tunnel_check tunnel_check_now(struct tunnel *, const char *why);

/*
 * Reload, tunsupctl forward and cancel: a changed spec (taken). One that
 * differs only in its forwards and in what a live session takes as it
 * changes (cfg.h, tunnel_spec_session_equal) keeps the session and the
 * connections of the forwards it keeps, cancels the ones gone and asks for
 * the new ones: 1. Else t restarts if it was wanted (or stops, disabled): 0.
 */
int		 tunnel_replace_spec(struct tunnel *, struct tunnel_spec *);

/* A timer started through t->ops expired. */
void		 tunnel_timer_fired(struct tunnel *, enum tunnel_timer);

/* Backoff delay in ms for the given attempt (full jitter). */
long		 tunnel_backoff_ms(long min_ms, long cap_ms, int attempt,
		    double unit);
/*
 * The wait before the next attempt after failures of this kind (ms), unit
 * in [0, 1) picking the point: RetryMin doubling up to RetryNetworkMax
 * (network) or RetryMax (session); near RetryMax at once (auth).
 */
long		 tunnel_retry_delay(const struct tunnel_spec *,
		    enum tunnel_fail, int attempt, double unit);

#endif
