/*
 * tunnel.h: one named tunnel and its state machine (SPEC 4, 5):
 * connecting -> forwarding -> up (probing) -> backoff -> connecting ...
 */
#ifndef TUNSUP_TUNNEL_H
#define TUNSUP_TUNNEL_H

#include <sys/queue.h>

#include <ev.h>
#include <jansson.h>

struct daemon;
struct forward;
struct sshconn;
struct tunnel_spec;

enum tunnel_state {
	TS_STOPPED = 0,
	TS_CONNECTING,
	TS_FORWARDING,
	TS_UP,
	TS_DEGRADED,
	TS_BACKOFF,
};

/* Why the last attempt failed: picks the backoff cap. */
enum tunnel_fail {
	TF_NONE = 0,
	TF_NETWORK,	/* unreachable: refused, timeout, DNS -> RetryNetworkMax */
	TF_SESSION,	/* after TCP: protocol, session lost -> RetryMax cap */
	TF_AUTH,	/* authentication or host key refused: at RetryMax */
};

/* Where a tunnel's next keepalive round waits (daemon.c). */
enum {
	ALIVE_OFF = 0,
	ALIVE_WHEEL,
	ALIVE_DUE,
};

struct tunnel {
	struct daemon		*daemon;
	struct tunnel_spec	*spec;
	TAILQ_ENTRY(tunnel)	 entry;		/* daemon->tunnels */
	TAILQ_ENTRY(tunnel)	 wait_entry;	/* daemon->handshake_wait */
	int			 waiting;	/* on handshake_wait */
	int			 has_slot;	/* holds a handshake slot */

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
	ev_timer		 retry_timer;
	ev_timer		 stable_timer;	/* resets backoff after 60 s up */

	/* Liveness. */
	ev_timer		 alive_timer;	/* intervals not in whole seconds */
	TAILQ_ENTRY(tunnel)	 alive_entry;	/* a wheel slot or alive_due */
	int			 alive_where;	/* ALIVE_OFF, _WHEEL, _DUE */
	long			 alive_at;	/* monotonic second, on the wheel */
	unsigned long		 alive_last_in;	/* inbound packets seen */
	int			 alive_missed;
	double			 alive_sent;	/* monotonic, pending probe */
	double			 rtt_ms;	/* -1 unknown */
	double			 last_ok;	/* wall clock, 0 unknown */

	/* Forward retry inside a live session. */
	ev_timer		 fwd_retry_timer;
	int			 fwd_attempt;

	struct sshconn		*conn;
	struct forward		**forwards;	/* one per spec->forwards[] */
	size_t			 nforwards;
};

const char	*tunnel_state_name(enum tunnel_state);

struct tunnel	*tunnel_new(struct daemon *, struct tunnel_spec *);
/* Stops everything and frees (with its spec). */
void		 tunnel_free(struct tunnel *);

void		 tunnel_start(struct tunnel *);
void		 tunnel_stop(struct tunnel *, const char *reason);
/* Tear down and connect at once, skipping any backoff wait. */
void		 tunnel_restart(struct tunnel *, const char *reason);

/* The status object of SPEC 7. */
json_t		*tunnel_status(struct tunnel *);

/* Reload: a changed spec; restarts t if it was wanted. Takes spec. */
void		 tunnel_replace_spec(struct tunnel *, struct tunnel_spec *);

/*
 * A forward was (re)evaluated: if changed, log and emit the event; always
 * re-evaluate t (which re-arms the retry of refused forwards).
 */
void		 tunnel_forward_changed(struct tunnel *, struct forward *,
		    int changed);

/* One keepalive round (SPEC 5), when the daemon's queue reaches t. */
void		 tunnel_alive_round(struct tunnel *);
/* Called by daemon when a handshake slot is free for t. */
void		 tunnel_slot_granted(struct tunnel *);

/* Backoff delay in ms for the given attempt (full jitter); exposed for tests. */
long		 tunnel_backoff_ms(long min_ms, long cap_ms, int attempt,
		    double unit);

#endif
