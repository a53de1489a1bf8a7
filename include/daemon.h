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
/* daemon.h: the daemon object: the loop, the tunnel list, signals, reload. */
#ifndef TUNSUP_DAEMON_H
#define TUNSUP_DAEMON_H

#include <sys/queue.h>

#include <stdint.h>

#include <ev.h>
#include <jansson.h>

#include "daemon_sched.h"
#include "soon.h"

struct cfg;
struct cfg_errors;
struct ctl;
struct fdlimit;
struct metrics_http;
struct netwatch;
struct resolver;
struct state;
struct tunnel;
struct tunnel_spec;

TAILQ_HEAD(tunnel_list, tunnel);

#define ALIVE_SLOTS	64	/* one-second slots of the keepalive wheel */

/*
 * Loop turns: from the poll's return to the next poll, the time in which
 * nothing else is served. Turns longer than 1, 10 and 100 ms are counted.
 */
#define TURN_LIMITS	3
struct turn_stats {
	uint64_t		 turns;
	uint64_t		 over[TURN_LIMITS];
	double			 longest_ms;
	double			 sum_ms;
	uint64_t		 batched;	/* followed by a wait */
};
extern const int turn_limits_ms[TURN_LIMITS];

struct daemon {
	struct ev_loop		*loop;
	char			*config_path;
	struct cfg		*cfg;		/* top-level defaults, for "add" */
	struct state		*state;		/* runtime changes kept, or NULL */
	struct tunnel_list	 tunnels;
	struct ctl		*ctl;
	struct resolver		*resolver;	/* async DNS for every tunnel */
	struct fdlimit		*fdlimit;	/* every listener's accept pause */
	double			 started;	/* wall clock */
	const char		*libssh_version;	/* for status, or NULL */
	struct metrics_http	*metrics;	/* MetricsListen, or NULL */
	int			 reload_failed;	/* the last reload failed */
	double			 loaded;	/* wall clock of the last load */

	/* Handshakes in flight (tunsupd(8): bounded, 8). */
	int			 handshakes;
	int			 handshakes_max;
	struct hs_queue		 handshake_wait;	/* queued for a slot */

	/*
	 * Keepalive rounds: a wheel of one-second slots for whole-second
	 * intervals, turned by one timer; rounds due wait on alive_due and
	 * are served ALIVE_SLICE per loop turn.
	 */
	struct alive_list	 alive_wheel[ALIVE_SLOTS];
	size_t			 alive_count;	/* rounds on the wheel */
	long			 alive_done;	/* last second turned */
	ev_timer		 alive_tick;
	struct alive_list	 alive_due;
	struct soon		 alive_drain;

	ev_check		 turn_begin;
	ev_prepare		 turn_end;
	double			 turn_start;	/* monotonic; 0: none yet */
	struct turn_stats	 turn;
	uint64_t		 batch_seen;	/* sshconn_received(), last turn */

	ev_signal		 sigterm;
	ev_signal		 sigint;
	ev_signal		 sighup;
	ev_signal		 sigusr1;	/* check the sessions now */
	struct netwatch		*netwatch;	/* network changes, resumes */
	int			 stopping;

	/* systemd Type=notify: STATUS= lines and the watchdog. */
	int			 notify;	/* $NOTIFY_SOCKET is set */
	char			*notify_status;	/* the last STATUS= sent */
	ev_timer		 watchdog;
	ev_timer		 shutdown_timer;	/* SIGTERM: linger bound */
};

/* Takes ownership of cfg (its tunnels become the daemon's). */
/*
 * What only libssh can tell about a loaded configuration (an algorithm it
 * does not know ...): adds "file:line: ..." to errs; 0, or -1 if any.
 */
int		 daemon_cfg_check(const struct cfg *, struct cfg_errors *);
struct daemon	*daemon_new(struct ev_loop *, struct cfg *, const char *path);
void		 daemon_free(struct daemon *);
/* Start every enabled tunnel and the signal watchers. */
void		 daemon_start(struct daemon *);
/* Stop every tunnel and break the loop (SIGTERM). */
void		 daemon_shutdown(struct daemon *);

/*
 * Keepalive rounds (tunsupd.conf(5) ServerAliveInterval): r's next round in
 * whole seconds from now, on the shared wheel; r is due now (its owner's
 * timer fired); r's owner is going away, or its session is. A round due is
 * taken off every list, then r->due(r->arg) is called.
 */
void		 daemon_alive_schedule(struct daemon *, struct alive_round *,
		    long seconds);
void		 daemon_alive_due(struct daemon *, struct alive_round *);
void		 daemon_alive_forget(struct daemon *, struct alive_round *);

struct tunnel	*daemon_tunnel_find(struct daemon *, const char *name);
size_t		 daemon_tunnel_count(struct daemon *);
/* Would add take it (a new name, options libssh takes)? 0, or -1, *err. */
int		 daemon_tunnel_addable(struct daemon *,
		    const struct tunnel_spec *, char **err);
/* Takes ownership of spec. 0, or -1 with *err (caller frees). */
int		 daemon_tunnel_add(struct daemon *, struct tunnel_spec *,
		    char **err);
int		 daemon_tunnel_remove(struct daemon *, const char *name,
		    char **err);
/*
 * Re-read the configuration file (tunsupd(8) SIGHUP). On success returns a reply
 * object with "added", "removed", "restarted", "unchanged"; on error NULL
 * with *err set to the file:line messages.
 */
json_t		*daemon_reload(struct daemon *, char **err);
/*
 * Serve the metrics on the configuration's MetricsListen (none: close the
 * endpoint); an unchanged address keeps its socket. 0, or -1 with *err.
 */
int		 daemon_metrics_listen(struct daemon *, const char *spec,
		    char **err);

/*
 * Check every session now, or only the named tunnel's (name not NULL: 0, or
 * -1 if there is none); tunnels in backoff retry at once (tunsupd(8),
 * NETWORK CHANGES). With checked and retried not NULL, the names of the
 * tunnels of each kind are appended to them.
 */
int		 daemon_check_now(struct daemon *, const char *name,
		    const char *why, json_t *checked, json_t *retried);

/* Send an event object to every subscriber (reference stolen). */
void		 daemon_emit(struct daemon *, json_t *event);

/* systemd: READY=1 and the watchdog (after daemon_start). */
void		 daemon_notify_ready(struct daemon *);
/* A tunnel changed state: refresh STATUS= ("N of M tunnels up"). */
void		 daemon_tunnels_changed(struct daemon *);

/*
 * Handshake slots: 1 if tk holds one now; else tk waits in line and
 * tk->granted(tk->arg) is called once it holds one. Release gives up a
 * slot held or a place in line (either may be neither).
 */
int		 daemon_handshake_acquire(struct daemon *, struct hs_ticket *);
void		 daemon_handshake_release(struct daemon *, struct hs_ticket *);

/* What every tunnel of the daemon tells and asks it. */
extern const struct tunnel_owner daemon_tunnel_owner;

#endif
