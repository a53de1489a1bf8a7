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
 * sshconn_int.h: what src/sshconn.c (sessions, global requests, channel
 * opens) and src/sshchan.c (the byte pumps of the channels) share, and no
 * other file includes. These two files are the only users of libssh.
 */
#ifndef TUNSUP_SSHCONN_INT_H
#define TUNSUP_SSHCONN_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <libssh/libssh.h>
#include <libssh/callbacks.h>

#include "connector.h"
#include "soon.h"
#include "sshconn.h"

#define ROOM_MIN	2048	/* send room below which pumps wait */

struct greq;
struct resolve_req;

enum sc_phase {
	SC_RESOLVE = 0,
	SC_TCP,
	SC_PROXY,	/* ProxyCommand: started on the next loop turn */
	SC_FDPASS,	/* ProxyUseFdpass: waiting for its socket */
	SC_KEX,
	SC_AUTH,
	SC_READY,
	SC_DEAD,
	SC_JUMP,	/* root: waiting for the jump hosts */
};

enum chan_state {
	CH_OPENING,
	CH_OPEN,
	CH_DONE,	/* closed, waiting to be reaped */
};

struct sshchan {
	struct sshconn		*c;
	TAILQ_ENTRY(sshchan)	 entry;
	enum chan_state		 state;
	ssh_channel		 ch;
	struct ssh_channel_callbacks_struct cbs;

	/* Pending open. */
	char			*host;
	int			 port;
	char			*path;
	char			*orig_host;
	int			 orig_port;
	sshchan_open_cb		 open_cb;
	void			*open_arg;

	/* Raw use without an fd (probes). */
	void			(*data_hook)(void *, struct sshchan *);
	void			*data_arg;

	int			 fd;
	ev_io			 rio;
	ev_io			 wio;
	struct pump_counters	*ctr;
	struct sshconn		*carries;	/* a jump session rides on it */

	/* fd -> channel */
	char			*up;
	size_t			 up_len, up_off;
	size_t			 up_last;	/* what the last read took */
	int			 fd_eof;	/* read() gave 0 */
	int			 eof_sent;

	/* channel -> fd */
	char			*down;		/* a ring of down_cap bytes */
	size_t			 down_cap;
	size_t			 down_off;	/* where its bytes start */
	size_t			 down_len;	/* how many wait for the fd */
	size_t			 down_fill;	/* taken since it was empty */
	size_t			 down_last;	/* the same, the last time */
	size_t			 held;		/* bytes libssh holds for us */
	int			 reading;	/* inside a read into down */
	int			 flush_due;	/* down: a poll round's data */
	int			 hook_due;	/* data arrived: run data_hook */
	int			 ch_eof;	/* peer sent EOF */
	int			 ch_closed;	/* peer sent CLOSE */
	int			 fd_shut;	/* SHUT_WR done */
};

struct agent_job;

struct sshconn {
	struct ev_loop		*loop;
	const struct tunnel_spec *spec;	/* the root's own_spec */
	struct tunnel_spec	*own_spec;	/* root: freed with it */
	struct sshconn_cbs	 cbs;
	void			*arg;

	enum sc_phase		 phase;
	int			 depth;		/* entries into this file (root) */
	int			 zombie;	/* freed while depth > 0 (root) */

	/*
	 * ProxyJump: the tunnel's session is the root; each jump host is a
	 * session of its own, and each session after the first rides on a
	 * direct-tcpip channel of the one before (a socketpair in between).
	 */
	struct sshconn		*root;
	struct sshconn		*outer;		/* the hop we ride on, or NULL */
	struct sshconn		*next;		/* the session riding on us */
	struct sshchan		*via;		/* our transport on outer */
	const char		*host;
	int			 port;
	const char		*user;
	const char		*alias;		/* HostKeyAlias */
	const char		*known_hosts;	/* UserKnownHostsFile */
	char *const		*ids;		/* IdentityFiles */
	size_t			 nids;

	struct resolver		*resolver;
	struct resolve_req	*rq;
	struct connector	 tcp;		/* through the resolved list */

	int			 fd;
	struct proc		*proxy;		/* ProxyCommand, our way there */
	ev_io			 io;
	ev_timer		 timer;		/* ConnectTimeout */
	struct soon		 kick;		/* deferred work, next loop turn */
	int			 want_room;	/* a pump waits for send room */
	int			 sndbuf;	/* SO_SNDBUF, read once a loop turn */
	unsigned int		 sndbuf_turn;	/* the ev_iteration it was read in */
	int			 fd_given;	/* libssh has c->fd (ssh_connect ran) */

	ssh_session		 s;
	ssh_event		 ev;
	struct ssh_counter_struct raw;
	struct ssh_counter_struct sock;	/* bytes libssh read and wrote */
	int			 polling;	/* inside sc_poll's rounds */
	uint64_t		 in_seen;	/* raw.in_packets opens and
						   requests were last run at */
	size_t			 key_idx;
	int			 tried_agent;
	struct agent_job	*agent_job;	/* the agent's thread has s */
	int			 agent_answered;
	int			 agent_result;	/* SSH_AUTH_* */
	char			*agent_error;
	int			 cert_tried;	/* identity key_idx's certificate */
	int			 none_tried;
	enum { PW_START, PW_KBDINT, PW_PASSWORD, PW_DONE } pw_step;
	char			*password;	/* PasswordFile's, while needed */
	char			*auth_tried;
	char			*auth_skipped;	/* identities refused, why */

	TAILQ_HEAD(, greq)	 greqs;
	TAILQ_HEAD(, sshchan)	 chans;
};

/* sshconn.c */
/* Every entry into these files from the loop is bracketed by these two. */
void	sc_enter(struct sshconn *);
/* Returns 1 if the session is gone (freed at the outermost leave). */
int	sc_leave(struct sshconn *);
/* Deferred work (opens, requests, pumps, reaping) on the next loop turn. */
void	sc_kick(struct sshconn *);
/* The session's watcher follows libssh's output and the pumps' wait. */
void	sc_update_io(struct sshconn *);
/* Payload room in the session socket's send buffer. */
size_t	sc_sock_room(struct sshconn *);

/*
 * The output gate: libssh writes its buffer with a blocking send(), so no
 * channel is fed while the session still holds output.
 */
static inline int
sc_gate_closed(struct sshconn *c)
{
	return (ssh_get_status(c->s) & SSH_WRITE_PENDING) != 0;
}

/* sshchan.c */
struct sshchan	*chan_new(struct sshconn *, ssh_channel);
void		 chan_free(struct sshchan *);
/* After each poll: pumps stalled on the gate, the window or held data. */
void		 chan_pump_all(struct sshconn *);
void		 chan_flush_all(struct sshconn *);

#endif
