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
 * forward_kind.h: what the files of one forward share (forward.c, the
 * common part; forward_local.c, -L and -D; forward_remote.c, -R and reverse
 * SOCKS). Not for the rest of the daemon: that is forward.h.
 *
 * Each kind of forward is one entry of forward_kinds.c: what it is (its
 * keyword, whether it listens here, whether it speaks SOCKS) and its
 * struct forward_ops. Adding a kind is an enum value, an entry and the
 * file of its functions.
 */
#ifndef TUNSUP_FORWARD_KIND_H
#define TUNSUP_FORWARD_KIND_H

#include <sys/queue.h>

#include <netdb.h>

#include <ev.h>

#include "connector.h"
#include "forward.h"
#include "socks.h"

#define SOCKS_TIMEOUT	10.0	/* a client must finish its handshake */

/* A connection being set up: waiting for its channel or its target. */
struct fconn {
	struct forward		*f;
	TAILQ_ENTRY(fconn)	 entry;
	int			 classifying;	/* on f->classify, not f->conns */
	unsigned char		 pre[16];	/* first bytes, read to classify */
	size_t			 prelen;
	struct socks		*socks;		/* dynamic and reverse SOCKS */
	int			 socks_on_chan;	/* the client is the channel */
	char			*early;		/* bytes after the SOCKS request */
	size_t			 earlylen;
	int			 fd;
	struct sshchan		*ch;
	struct resolve_req	*rq;
	struct connector	 conn;		/* to a remote forward's target */
	ev_io			 io;
	ev_timer		 timer;
};

/* The operations of one kind of forward; NULL where a kind has nothing. */
struct forward_ops {
	/* The session is ready: listen here, or ask the server to. */
	void		 (*session_up)(struct forward *);
	/* The session is gone: close what the kind holds (listeners). */
	void		 (*session_down)(struct forward *);
	/* Removed from a live session: let go of the server's listener. */
	void		 (*cancel)(struct forward *);
	/* A connection accepted by our listener (kinds that listen here). */
	void		 (*accepted)(struct fconn *, const char *peer,
			    int peer_port);
	/* A channel the server opened for our listen (remote kinds). */
	void		 (*incoming)(struct fconn *);
	/* The liveness check of each keepalive round. */
	void		 (*probe)(struct forward *);
	/* "ok", "off", "unsupported" for status, or NULL. */
	const char	*(*probe_status)(struct forward *);
};

extern const struct forward_ops forward_local_ops;
extern const struct forward_ops forward_dynamic_ops;
extern const struct forward_ops forward_remote_ops;
extern const struct forward_ops forward_rsocks_ops;

/* forward.c */
const struct forward_ops *forward_kind(struct forward *);
void		 forward_set(struct forward *, enum forward_state,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
struct ev_loop	*forward_loop(struct forward *);
struct sshconn	*forward_conn(struct forward *);	/* NULL: no session */
void		 fd_nodelay(int fd, int family);
struct fconn	*fconn_new(struct forward *, int fd);
void		 fconn_free(struct fconn *);
void		 fconn_link(struct fconn *);
/* SOCKS, whichever side the client is on. */
void		 fconn_socks_start(struct fconn *, int on_chan);
int		 fconn_socks_flush(struct fconn *);
/* Feed handshake bytes: -1 freed fc, 0 wants more, 1 a complete request. */
int		 fconn_socks_feed(struct fconn *, const char *buf, size_t len);

#endif
