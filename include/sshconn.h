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
 * sshconn.h: one libssh session driven by the libev loop (src/sshconn.c), and
 * the byte pumps between its channels and local sockets (src/sshchan.c).
 * Those two files are the only libssh users: the rest of tunsup sees
 * "ready", "dead", "request answered", "channel opened".
 */
#ifndef TUNSUP_SSHCONN_H
#define TUNSUP_SSHCONN_H

#include <stdint.h>

#include <ev.h>


struct resolver;
struct sshconn;
struct sshchan;
struct sshconn_fwdmsg;
struct tunnel_spec;

/* Per-forward traffic counters, updated by the pumps. */
struct pump_counters {
	uint64_t	 bytes_in;	/* from the SSH channel to the local socket */
	uint64_t	 bytes_out;	/* from the local socket into the channel */
	unsigned long	 active;
	unsigned long	 total;
};

/* Why an attempt or a session failed: what its owner's retry depends on. */
enum sshconn_fail {
	SCF_NETWORK = 1,	/* not reached: refused, timeout, DNS */
	SCF_SESSION,		/* after TCP: protocol, session lost */
	SCF_AUTH,		/* authentication or host key refused */
};

struct sshconn_cbs {
	/* Authenticated: forwards may be requested. */
	void	(*ready)(void *arg);
	/*
	 * The attempt or the session failed. The owner must sshconn_free() it
	 * (it may do so from inside this callback).
	 */
	void	(*dead)(void *arg, enum sshconn_fail, const char *why);
	/*
	 * The server opened a forwarded-tcpip channel for addr:port, or a
	 * forwarded-streamlocal one for the socket path addr (port -1). The
	 * owner may call sshconn_accept(m, ...) from inside; if it does not,
	 * the open is refused.
	 */
	void	(*forwarded)(void *arg, const char *addr, int port,
		    struct sshconn_fwdmsg *m);
	/* Progress for status and logs: "resolving", "tcp", "kex", "auth". */
	void	(*phase)(void *arg, const char *phase);
};

/*
 * Global request answered: result 0 ok, -1 refused, -2 session error, -3
 * taken by the server but its reply unreadable (a port-0 listen with a
 * libssh that loses the bound port: doc/design.md).
 */
typedef void (*sshconn_req_cb)(void *arg, int result, int bound_port,
    double rtt_ms);
/*
 * Why the server refused to open a channel: the RFC 4254 reason code
 * (SSHCHAN_PROHIBITED ...; 0 when none came, as when the session ended), the
 * server's own description ("" if none) and the whole message for logs.
 */
#define SSHCHAN_PROHIBITED	1	/* administratively prohibited */
#define SSHCHAN_CONNECT_FAILED	2
#define SSHCHAN_UNKNOWN_TYPE	3
#define SSHCHAN_RESOURCE	4	/* resource shortage */
struct sshchan_refusal {
	int		 reason;
	const char	*desc;
	const char	*msg;
};
/* Channel open finished: ch NULL on failure, with why. */
typedef void (*sshchan_open_cb)(void *arg, struct sshchan *ch,
    const struct sshchan_refusal *why);

/*
 * A session to the tunnel's server: 0 the primary (HostName, Port, User,
 * HostKeyAlias), n the spec's nth FallbackHost.
 */
struct sshconn	*sshconn_new(struct ev_loop *, struct resolver *,
		    const struct tunnel_spec *, size_t server,
		    const struct sshconn_cbs *, void *arg);
/* Its callbacks and their arg from now on (a session handed over). */
void		 sshconn_set_cbs(struct sshconn *, const struct sshconn_cbs *,
		    void *arg);
/*
 * Would libssh take the spec's options (algorithm lists, RekeyLimit ...)?
 * 0, or -1 with *why (allocated) naming the keyword and its value.
 */
int		 sshconn_check_spec(const struct tunnel_spec *, char **why);
/* Safe from inside any callback of this connection. */
void		 sshconn_free(struct sshconn *);
const char	*sshconn_phase(struct sshconn *);

/* Inbound SSH packets so far (liveness: any packet counts as an answer). */
uint64_t	 sshconn_in_packets(struct sshconn *);
/* Bytes all sessions have read from their sockets (the loop's batching). */
uint64_t	 sshconn_received(void);

/* Global requests, one outstanding at a time, in order. */
void	sshconn_listen(struct sshconn *, const char *addr, int port,
	    sshconn_req_cb, void *arg);
void	sshconn_cancel(struct sshconn *, const char *addr, int port,
	    sshconn_req_cb, void *arg);
/*
 * A listener on the server's unix socket path (streamlocal-forward), and its
 * cancel; refused (-1) without asking when libssh cannot (configure's
 * HAVE_SSH_STREAMLOCAL; the configuration refuses such forwards then).
 */
void	sshconn_listen_unix(struct sshconn *, const char *path,
	    sshconn_req_cb, void *arg);
void	sshconn_cancel_unix(struct sshconn *, const char *path,
	    sshconn_req_cb, void *arg);
void	sshconn_keepalive(struct sshconn *, sshconn_req_cb, void *arg);
/* Forget every queued callback with this arg (its owner is going away). */
void	sshconn_forget(struct sshconn *, void *arg);
/*
 * Close every pump that counts into ctr now and let go of ctr (its forward
 * is cancelled in a session that stays).
 */
void	sshconn_close_counted(struct sshconn *, struct pump_counters *);
int	sshconn_keepalive_pending(struct sshconn *);

/* direct-tcpip (path NULL) or direct-streamlocal (path set). */
struct sshchan	*sshconn_open(struct sshconn *, const char *host, int port,
		    const char *path, const char *orig_host, int orig_port,
		    sshchan_open_cb, void *arg);
/* Inside the forwarded callback: take the channel. */
struct sshchan	*sshconn_accept(struct sshconn_fwdmsg *);

/*
 * Start pumping between the channel and fd (non-blocking, now owned by the
 * pump). counters may be NULL (probes).
 */
void		 sshchan_attach(struct sshchan *, int fd,
		    struct pump_counters *);
/*
 * Bytes already read from the channel (sshchan_read_raw) that must reach
 * the fd first; call before sshchan_attach.
 */
void		 sshchan_unread(struct sshchan *, const void *, size_t);
/* Bytes from the fd side already read (a SOCKS client's pipelined data)
 * that must enter the channel first; call before sshchan_attach. */
void		 sshchan_preload(struct sshchan *, const void *, size_t);
/* Close the channel (and its fd) now; cancels a pending open. */
void		 sshchan_close(struct sshchan *);
/* Write a few bytes directly (probes); returns bytes taken or -1. */
int		 sshchan_write_raw(struct sshchan *, const void *, size_t);
/*
 * For a channel with no fd attached: data arriving is held in libssh and
 * reported here (probes read it with sshchan_read_raw).
 */
void		 sshchan_set_data_hook(struct sshchan *,
		    void (*)(void *, struct sshchan *), void *);
/* Bytes read, 0 if none yet, -1 at EOF or on error. */
int		 sshchan_read_raw(struct sshchan *, void *, size_t);

/* Free cached private keys and sockets still closing (at exit). */
void		 sshconn_keys_cleanup(void);

#endif
