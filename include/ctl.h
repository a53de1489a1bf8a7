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
 * ctl.h: the control socket (tunsupd(8), Control socket): newline-delimited
 * JSON over a Unix stream socket. ctl.c is the transport (framing, peers,
 * subscriptions) and knows nothing of the daemon: it is given a loop and a
 * handler for request lines. ctl_cmds.c is the command table, transport-free.
 */
#ifndef TUNSUP_CTL_H
#define TUNSUP_CTL_H

#include <sys/types.h>

#include <jansson.h>

struct daemon;
struct ev_loop;
struct ctl;
struct fdlimit;

#define CTL_LINE_MAX		(64 * 1024)
#define CTL_PROTOCOL		1

/*
 * Who sent a request, and what it may do (tunsupd(8), Control socket):
 * root and the daemon's own user may do everything; a member of the
 * ControlGroup may only look (hello, status, subscribe) and start, stop or
 * restart the tunnels the owner configured, nothing that names a path, a
 * key, a host key file, an address or a command.
 */
enum ctl_access {
	CTL_ACCESS_OPERATOR,	/* a ControlGroup member */
	CTL_ACCESS_OWNER,	/* root or the daemon's user */
};

struct ctl_peer {
	uid_t		 uid;
	enum ctl_access	 access;
};

/*
 * What the transport does with one request line (no newline): the reply
 * object (always with "ok"), and *subscribe set to 1 when the connection
 * must become an event stream. arg is what ctl_open() was given.
 */
typedef json_t	*(*ctl_handler)(void *arg, const char *line, size_t len,
		    const struct ctl_peer *, int *subscribe);

/* ---- the transport (ctl.c) ---- */

/*
 * Open the socket at path: mode 0600 (0660 with a group), a stale socket
 * file replaced, a live one refused. 0 or -1 with *err (caller frees). Its
 * listener pauses with the others when descriptors run out (fdlimit.h).
 */
struct ctl	*ctl_open(struct ev_loop *, struct fdlimit *, const char *path,
		    const char *group, ctl_handler, void *arg, char **err);
/* Close every client and the listener, remove the socket file. */
void		 ctl_close(struct ctl *);
/* Queue an event line to every subscriber (reference not stolen). */
void		 ctl_broadcast(struct ctl *, json_t *event);

/* The peer of a connected Unix socket: 0, or -1 with errno. */
int		 ctl_peer_creds(int fd, uid_t *, gid_t *, pid_t *);

/*
 * The system daemon's socket and its directory, the same for tunsupd,
 * tunsupctl and the unit (tunsupd(8), FILES).
 */
#define CTL_SYSTEM_DIR	"/run/tunsupd"
#define CTL_SYSTEM_PATH	CTL_SYSTEM_DIR "/tunsupd.sock"

/* The daemon's default socket path (caller frees). */
char		*ctl_default_path(void);
/*
 * tunsupctl's: $TUNSUP_SOCKET, else ctl_default_path(), else, for a user
 * without a daemon of their own, the system daemon's (caller frees).
 */
char		*ctl_client_path(void);
/*
 * Is uid the owner of CTL_SYSTEM_DIR, path's directory, which only root
 * can have made? Then it runs the system daemon (a dedicated user).
 */
int		 ctl_system_owner(const char *path, uid_t uid);

/* ---- the commands (ctl_cmds.c) ---- */

/*
 * Handle one request object and return the reply object (always with "ok";
 * "id" echoed). *subscribe is set to 1 when the connection must become an
 * event stream.
 */
json_t		*ctl_dispatch(struct daemon *, json_t *req,
		    const struct ctl_peer *, int *subscribe);
/* Parse one request line and dispatch it; for junk an error reply. */
json_t		*ctl_dispatch_line(struct daemon *, const char *line, size_t len,
		    const struct ctl_peer *, int *subscribe);
/* The daemon's handler for ctl_open(): ctl_dispatch_line(), arg the daemon. */
/* The status command's reply for every tunnel (tunsupctl(1), status). */
json_t		*ctl_status(struct daemon *);
json_t		*ctl_daemon_handler(void *arg, const char *line, size_t len,
		    const struct ctl_peer *, int *subscribe);

#endif
