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
 * ctl.c: the control socket transport (tunsupd(8), Control socket): a Unix
 * stream listener in the daemon's loop, non-blocking clients with
 * per-client input and output buffers, peer credential checks and event
 * subscriptions. What a request means is the handler's business (the
 * daemon's is ctl_cmds.c).
 *
 * Every reply and event is queued as one complete line, so events never
 * interleave inside a reply. A client's watchers follow from its buffers:
 * it is read while its unsent output stays below CTL_OUT_HIGH (a client
 * that does not read its replies stops being read), and written while it
 * has output. A subscriber is disconnected when the events it does not read
 * pile up beyond CTL_OUT_MAX.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* struct ucred */
#endif
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <jansson.h>

#include "ctl.h"
#include "fdlimit.h"
#include "log.h"
#include "util.h"

#define CTL_READ_CHUNK	16384
#define CTL_OUT_HIGH	(256 * 1024)	/* stop reading requests above this */
#define CTL_OUT_MAX	(1024 * 1024)	/* drop a subscriber above this */
#define CTL_BACKLOG	SOMAXCONN
#define CTL_ACCEPT_MAX	64		/* accepts per callback */

struct ctl_client {
	struct ctl		*ctl;
	TAILQ_ENTRY(ctl_client)	 entry;
	int			 fd;
	struct ctl_peer		 peer;
	pid_t			 pid;

	ev_io			 rio;
	ev_io			 wio;

	char			*in;
	size_t			 inlen;
	size_t			 insize;

	char			*out;
	size_t			 outoff;	/* first unsent byte */
	size_t			 outlen;	/* end of queued bytes */
	size_t			 outsize;

	int			 subscribed;
	int			 eof;		/* no more input: close when flushed */
	int			 busy;		/* inside its read callback */
	int			 dead;		/* free when no longer busy */
};
TAILQ_HEAD(ctl_clients, ctl_client);

struct ctl {
	struct ev_loop		*loop;
	ctl_handler		 handler;	/* what a request line means */
	void			*handler_arg;
	char			*path;
	dev_t			 dev;		/* of the socket file we made */
	ino_t			 ino;
	int			 fd;
	uid_t			 uid;		/* the daemon's */
	int			 has_group;
	gid_t			 gid;
	ev_io			 accept_io;
	struct fdlimit		*fdl;
	struct fdlimit_listener	 accept_fw;	/* accept_io's pause */
	struct ctl_clients	 clients;
	u_int			 nclients;
	u_int			 next_id;
};

static void	ctl_client_free(struct ctl_client *);
static void	ctl_client_update(struct ctl_client *);

char *
ctl_default_path(void)
{
	const char	*dir;
	char		*path;

	if (geteuid() == 0)
		return xstrdup(CTL_SYSTEM_PATH);
	dir = getenv("XDG_RUNTIME_DIR");
	if (dir != NULL && *dir == '/') {
		xasprintf(&path, "%s/tunsupd.sock", dir);
		return path;
	}
	/* A directory of our own (the daemon makes it), as tmux does. */
	xasprintf(&path, "/tmp/tunsupd-%lu/tunsupd.sock", (u_long)geteuid());
	return path;
}

char *
ctl_client_path(void)
{
	const char	*env = getenv("TUNSUP_SOCKET");
	struct stat	 sb;
	char		*path;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	path = ctl_default_path();
	if (geteuid() != 0 && lstat(path, &sb) != 0 && errno == ENOENT) {
		free(path);
		path = xstrdup(CTL_SYSTEM_PATH);
	}
	return path;
}

int
ctl_system_owner(const char *path, uid_t uid)
{
	struct stat	 run, dir;
	const char	*slash;
	size_t		 len = strlen(CTL_SYSTEM_DIR);

	if (strncmp(path, CTL_SYSTEM_DIR "/", len + 1) != 0)
		return 0;
	slash = strchr(path + len + 1, '/');
	if (slash != NULL || path[len + 1] == '\0')
		return 0;	/* not directly in it */
	/* Its parent (/run) is root's alone: nobody else made the directory. */
	if (lstat("/run", &run) != 0 || !S_ISDIR(run.st_mode) ||
	    run.st_uid != 0 || (run.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return 0;
	if (lstat(CTL_SYSTEM_DIR, &dir) != 0 || !S_ISDIR(dir.st_mode) ||
	    (dir.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return 0;
	return dir.st_uid == uid;
}

/* Queue one line (without its newline) for a client. */
static void
ctl_client_queue(struct ctl_client *c, const char *line, size_t len)
{
	size_t	 need;

	if (c->dead)
		return;
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	need = c->outlen + len + 1;
	if (need > c->outsize && c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
		need = c->outlen + len + 1;
	}
	if (need > c->outsize) {
		if (c->outsize == 0)
			c->outsize = 4096;
		while (c->outsize < need)
			c->outsize *= 2;
		c->out = xreallocarray(c->out, 1, c->outsize);
	}
	memcpy(c->out + c->outlen, line, len);
	c->out[c->outlen + len] = '\n';
	c->outlen += len + 1;
}

static void
ctl_client_queue_json(struct ctl_client *c, json_t *obj)
{
	char	*s;

	if ((s = json_dumps(obj, JSON_COMPACT)) == NULL) {
		log_warn("control: cannot encode a reply");
		s = xstrdup("{\"ok\":false,\"error\":\"internal error\"}");
	}
	ctl_client_queue(c, s, strlen(s));
	free(s);
}

static size_t
ctl_client_pending(struct ctl_client *c)
{
	return c->outlen - c->outoff;
}

/*
 * Disconnect a client. Inside its own read callback (a command may emit
 * events that overflow its own buffer) freeing waits until the callback
 * returns.
 */
static void
ctl_client_close(struct ctl_client *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	ev_io_stop(c->ctl->loop, &c->rio);
	ev_io_stop(c->ctl->loop, &c->wio);
	if (!c->busy)
		ctl_client_free(c);
}

static void
ctl_client_free(struct ctl_client *c)
{
	struct ctl	*ctl = c->ctl;

	ev_io_stop(ctl->loop, &c->rio);
	ev_io_stop(ctl->loop, &c->wio);
	TAILQ_REMOVE(&ctl->clients, c, entry);
	ctl->nclients--;
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/* Handle one complete line (no newline). */
static void
ctl_client_line(struct ctl_client *c, char *line, size_t len)
{
	json_t	*reply;
	size_t	 i;
	int	 subscribe = 0;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	for (i = 0; i < len; i++) {
		if (line[i] != ' ' && line[i] != '\t')
			break;
	}
	if (i == len)
		return;		/* blank lines are ignored */

	reply = c->ctl->handler(c->ctl->handler_arg, line, len, &c->peer,
	    &subscribe);
	if (c->dead) {
		json_decref(reply);
		return;
	}
	ctl_client_queue_json(c, reply);
	json_decref(reply);
	if (subscribe && !c->subscribed) {
		c->subscribed = 1;
		log_debug("control: client %d subscribed", c->fd);
	}
}

static void
ctl_client_toolong(struct ctl_client *c)
{
	static const char	 msg[] =
	    "{\"ok\":false,\"error\":\"request line too long\"}";

	log_warn("control: client %d: request line over %d bytes, closing",
	    c->fd, CTL_LINE_MAX);
	ctl_client_queue(c, msg, sizeof(msg) - 1);
	c->inlen = 0;
	c->eof = 1;	/* read no more; close once the reply is out */
}

/*
 * Dispatch the complete lines in the input buffer, but only while the
 * client's unsent output stays below CTL_OUT_HIGH: a client that pipelines
 * requests without reading the replies holds the rest of its input until
 * its output drains, so what it can make us buffer stays bounded.
 */
static void
ctl_client_process(struct ctl_client *c)
{
	char	*start, *nl;
	size_t	 left, len;

	start = c->in;
	left = c->inlen;
	while (left > 0 && !c->dead && ctl_client_pending(c) < CTL_OUT_HIGH) {
		if ((nl = memchr(start, '\n', left)) != NULL)
			len = nl - start;
		else if (c->eof)
			len = left;	/* a last line without its newline */
		else
			break;
		if (len > CTL_LINE_MAX) {
			ctl_client_toolong(c);
			return;
		}
		ctl_client_line(c, start, len);
		if (nl != NULL)
			len++;		/* and its newline */
		left -= len;
		start += len;
	}
	if (c->dead)
		return;
	if (left > 0 && start != c->in)
		memmove(c->in, start, left);
	c->inlen = left;

	/* More than a line's worth and no end in sight. */
	if (c->inlen > CTL_LINE_MAX &&
	    memchr(c->in, '\n', CTL_LINE_MAX + 1) == NULL)
		ctl_client_toolong(c);
}

/*
 * Process what is buffered and bring the watchers up to date. A command may
 * emit events that overflow this very client, so it is freed only here.
 */
static void
ctl_client_run(struct ctl_client *c)
{
	c->busy = 1;
	ctl_client_process(c);
	c->busy = 0;
	if (c->dead) {
		ctl_client_free(c);
		return;
	}
	ctl_client_update(c);
}

static void
ctl_client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client	*c = w->data;
	ssize_t			 n;
	size_t			 cap;

	cap = CTL_LINE_MAX + 1 + CTL_READ_CHUNK;
	if (c->insize - c->inlen < CTL_READ_CHUNK && c->insize < cap) {
		c->insize = c->insize == 0 ? CTL_READ_CHUNK : c->insize * 2;
		if (c->insize > cap)
			c->insize = cap;
		c->in = xreallocarray(c->in, 1, c->insize);
	}
	if (c->inlen == c->insize) {
		/* Cannot happen: reading waits until the lines are done. */
		ctl_client_toolong(c);
		ctl_client_update(c);
		return;
	}

	n = read(c->fd, c->in + c->inlen, c->insize - c->inlen);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		log_debug("control: client %d: read: %s", c->fd,
		    strerror(errno));
		ctl_client_close(c);
		return;
	}
	if (n == 0)
		c->eof = 1;
	c->inlen += n;
	ctl_client_run(c);
}

static void
ctl_client_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client	*c = w->data;
	ssize_t			 n;

	while (ctl_client_pending(c) > 0) {
		n = write(c->fd, c->out + c->outoff, ctl_client_pending(c));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			log_debug("control: client %d: write: %s", c->fd,
			    strerror(errno));
			ctl_client_close(c);
			return;
		}
		c->outoff += n;
	}
	if (ctl_client_pending(c) == 0) {
		c->outoff = c->outlen = 0;
		/* Give back what a large reply made us allocate. */
		if (c->outsize > 65536) {
			free(c->out);
			c->out = NULL;
			c->outsize = 0;
		}
	}
	/* Requests held back while the output was high may go on now. */
	ctl_client_run(c);
}

/* Make the watchers follow the buffers; close a finished client. */
static void
ctl_client_update(struct ctl_client *c)
{
	struct ev_loop	*loop = c->ctl->loop;

	if (c->dead)
		return;
	if (c->eof && ctl_client_pending(c) == 0 && c->inlen == 0) {
		ctl_client_close(c);
		return;
	}
	if (!c->eof && ctl_client_pending(c) < CTL_OUT_HIGH) {
		if (!ev_is_active(&c->rio))
			ev_io_start(loop, &c->rio);
	} else if (ev_is_active(&c->rio))
		ev_io_stop(loop, &c->rio);
	if (ctl_client_pending(c) > 0) {
		if (!ev_is_active(&c->wio))
			ev_io_start(loop, &c->wio);
	} else if (ev_is_active(&c->wio))
		ev_io_stop(loop, &c->wio);
}

/* Is uid, whose process runs with gid, a member of the ControlGroup? */
static int
ctl_peer_in_group(struct ctl *ctl, uid_t uid, gid_t gid)
{
	struct passwd	*pw;
	struct group	*gr;
	char		**mem;

	if (!ctl->has_group)
		return 0;
	if (gid == ctl->gid)
		return 1;
	if ((pw = getpwuid(uid)) == NULL || (gr = getgrgid(ctl->gid)) == NULL)
		return 0;
	if (pw->pw_gid == ctl->gid)
		return 1;
	for (mem = gr->gr_mem; *mem != NULL; mem++) {
		if (strcmp(*mem, pw->pw_name) == 0)
			return 1;
	}
	return 0;
}

/*
 * What may this peer do? Root and our own uid everything; members of the
 * ControlGroup (primary or supplementary) what an operator may. -1 for
 * anybody else.
 */
static int
ctl_peer_access(struct ctl *ctl, uid_t uid, gid_t gid, enum ctl_access *access)
{
	if (uid == 0 || uid == ctl->uid)
		*access = CTL_ACCESS_OWNER;
	else if (ctl_peer_in_group(ctl, uid, gid))
		*access = CTL_ACCESS_OPERATOR;
	else
		return -1;
	return 0;
}

int
ctl_peer_creds(int fd, uid_t *uid, gid_t *gid, pid_t *pid)
{
#ifdef SO_PEERCRED
	struct ucred	uc;
	socklen_t	len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0)
		return -1;
	*uid = uc.uid;
	*gid = uc.gid;
	*pid = uc.pid;
	return 0;
#else
	*pid = -1;
	return getpeereid(fd, uid, gid);
#endif
}

static void
ctl_accept_one(struct ctl *ctl, int fd)
{
	static const char	 denied[] =
	    "{\"ok\":false,\"error\":\"permission denied\"}\n";
	struct ctl_client	*c;
	enum ctl_access		 access;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	ssize_t			 n;

	if (ctl_peer_creds(fd, &uid, &gid, &pid) != 0) {
		log_warn("control: cannot get peer credentials: %s",
		    strerror(errno));
		close(fd);
		return;
	}
	if (ctl_peer_access(ctl, uid, gid, &access) != 0) {
		log_warn("control: refused peer uid %lu pid %ld",
		    (u_long)uid, (long)pid);
		/* Best effort: the socket buffer of a new peer has room. */
		n = write(fd, denied, sizeof(denied) - 1);
		(void)n;
		close(fd);
		return;
	}

	c = xcalloc(1, sizeof(*c));
	c->ctl = ctl;
	c->fd = fd;
	c->peer.uid = uid;
	c->peer.access = access;
	c->pid = pid;
	ev_io_init(&c->rio, ctl_client_read_cb, fd, EV_READ);
	c->rio.data = c;
	ev_io_init(&c->wio, ctl_client_write_cb, fd, EV_WRITE);
	c->wio.data = c;
	TAILQ_INSERT_TAIL(&ctl->clients, c, entry);
	ctl->nclients++;
	log_debug("control: client %d connected (uid %lu pid %ld%s), %u "
	    "clients", fd, (u_long)uid, (long)pid,
	    access == CTL_ACCESS_OPERATOR ? ", operator" : "", ctl->nclients);
	ctl_client_update(c);
}

static void
ctl_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl	*ctl = w->data;
	int		 fd, i, err;

	for (i = 0; i < CTL_ACCEPT_MAX && ev_is_active(w); i++) {
		fd = accept(ctl->fd, NULL, NULL);
		if (fd == -1 && fdlimit_shortage(errno)) {
			/*
			 * Out of descriptors: every listener pauses, but a
			 * spare takes this client, so that tunsupctl still
			 * gets its answer.
			 */
			err = errno;
			fd = fdlimit_spare(ctl->fdl) ?
			    accept(ctl->fd, NULL, NULL) : -1;
			fdlimit_accept_failed(&ctl->accept_fw, err);
			if (fd == -1)
				return;
		}
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("control: accept: %s", strerror(errno));
			return;
		}
		if (fd_nonblock(fd) != 0 || fd_cloexec(fd) != 0) {
			log_warn("control: fcntl: %s", strerror(errno));
			close(fd);
			continue;
		}
		ctl_accept_one(ctl, fd);
	}
}

/*
 * Is something listening on the socket at path? 1 live, 0 stale, -1 with
 * errno on an error that says neither.
 */
static int
ctl_probe(const struct sockaddr_un *sun)
{
	int	 fd, r, saved;

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	close(fd);
	if (r == 0)
		return 1;
	if (saved == ECONNREFUSED)
		return 0;
	errno = saved;
	return -1;
}

/*
 * May the socket live in dir? Nobody but root and us may be able to put a
 * file there or move the directory away: dir and every directory above it
 * owned by root or us, dir writable by its owner only, and the directories
 * above it too unless sticky (as /tmp). 0, or -1 with a reason in *why.
 */
static int
ctl_dir_private(const char *dir, uid_t uid, char **why)
{
	struct stat	 sb;
	char		*real, *cp;
	int		 top = 1;

	if ((real = realpath(dir, NULL)) == NULL) {
		xasprintf(why, "%s: %s", dir, strerror(errno));
		return -1;
	}
	cp = real;
	for (;;) {
		if (stat(cp, &sb) != 0) {
			xasprintf(why, "%s: %s", cp, strerror(errno));
			break;
		}
		if (!S_ISDIR(sb.st_mode)) {
			xasprintf(why, "%s: not a directory", cp);
			break;
		}
		if (sb.st_uid != 0 && sb.st_uid != uid) {
			xasprintf(why, "directory %s is owned by uid %lu, not "
			    "by root or us", cp, (u_long)sb.st_uid);
			break;
		}
		if ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
		    (top || !(sb.st_mode & S_ISVTX))) {
			xasprintf(why, "directory %s is writable by other "
			    "users (mode %04o)", cp,
			    (u_int)(sb.st_mode & 07777));
			break;
		}
		if (strcmp(cp, "/") == 0) {
			free(real);
			return 0;
		}
		cp = dirname(cp);
		top = 0;
	}
	free(real);
	return -1;
}

/*
 * The socket's directory: made if it does not exist yet, and private
 * (ctl_dir_private); one that exists is left as it is. CTL_SYSTEM_DIR is
 * made 0755 (0750 with a ControlGroup), as systemd's RuntimeDirectory;
 * any other 0700 (0710 with a ControlGroup: members may reach the socket,
 * not list). 0 or -1 with *err set.
 */
static int
ctl_socket_dir(struct ctl *ctl, char **err)
{
	char	*copy, *dir, *why = NULL;
	mode_t	 mode, gmode;
	int	 r = -1;

	copy = xstrdup(ctl->path);
	dir = dirname(copy);
	if (strcmp(dir, CTL_SYSTEM_DIR) == 0) {
		mode = 0755;
		gmode = 0750;
	} else {
		mode = 0700;
		gmode = 0710;
	}
	if (mkdir(dir, 0700) == 0) {
		log_info("control: created directory %s", dir);
		if (ctl->has_group && chown(dir, (uid_t)-1, ctl->gid) != 0) {
			xasprintf(err, "cannot set group of %s: %s", dir,
			    strerror(errno));
			goto out;
		}
		if (chmod(dir, ctl->has_group ? gmode : mode) != 0) {
			xasprintf(err, "cannot set mode of %s: %s", dir,
			    strerror(errno));
			goto out;
		}
	} else if (errno != EEXIST) {
		xasprintf(err, "cannot create control socket %s: %s: %s",
		    ctl->path, dir, strerror(errno));
		goto out;
	}
	if (ctl_dir_private(dir, ctl->uid, &why) != 0) {
		xasprintf(err, "refusing control socket %s: %s", ctl->path,
		    why);
		free(why);
		goto out;
	}
	r = 0;
out:
	free(copy);
	return r;
}

/* Create, bind and listen; 0 or -1 with *err set. */
static int
ctl_listen(struct ctl *ctl, char **err)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	mode_t			 old;
	int			 r, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(ctl->path) >= sizeof(sun.sun_path)) {
		xasprintf(err, "control socket path too long: %s", ctl->path);
		return -1;
	}
	memcpy(sun.sun_path, ctl->path, strlen(ctl->path) + 1);
	if (ctl_socket_dir(ctl, err) != 0)
		return -1;

	if (lstat(ctl->path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			xasprintf(err, "%s exists and is not a socket",
			    ctl->path);
			return -1;
		}
		switch (ctl_probe(&sun)) {
		case 1:
			xasprintf(err, "another tunsupd is listening on %s",
			    ctl->path);
			return -1;
		case 0:
			log_info("control: removing stale socket %s",
			    ctl->path);
			if (unlink(ctl->path) != 0 && errno != ENOENT) {
				xasprintf(err, "cannot remove stale socket "
				    "%s: %s", ctl->path, strerror(errno));
				return -1;
			}
			break;
		default:
			xasprintf(err, "cannot probe %s: %s", ctl->path,
			    strerror(errno));
			return -1;
		}
	} else if (errno != ENOENT) {
		xasprintf(err, "%s: %s", ctl->path, strerror(errno));
		return -1;
	}

	if ((ctl->fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		xasprintf(err, "socket: %s", strerror(errno));
		return -1;
	}
	if (fd_nonblock(ctl->fd) != 0 || fd_cloexec(ctl->fd) != 0) {
		xasprintf(err, "fcntl: %s", strerror(errno));
		return -1;
	}
	/* Nobody else may connect between bind() and chmod(). */
	old = umask(0177);
	r = bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	umask(old);
	if (r != 0) {
		xasprintf(err, "cannot bind %s: %s", ctl->path,
		    strerror(saved));
		return -1;
	}
	if (ctl->has_group) {
		if (chown(ctl->path, (uid_t)-1, ctl->gid) != 0 ||
		    chmod(ctl->path, 0660) != 0) {
			xasprintf(err, "cannot set group of %s: %s", ctl->path,
			    strerror(errno));
			goto unlink;
		}
	} else if (chmod(ctl->path, 0600) != 0) {
		xasprintf(err, "chmod %s: %s", ctl->path, strerror(errno));
		goto unlink;
	}
	if (lstat(ctl->path, &sb) == 0) {
		ctl->dev = sb.st_dev;
		ctl->ino = sb.st_ino;
	}
	if (listen(ctl->fd, CTL_BACKLOG) != 0) {
		xasprintf(err, "listen %s: %s", ctl->path, strerror(errno));
		goto unlink;
	}
	return 0;

unlink:
	unlink(ctl->path);
	return -1;
}

struct ctl *
ctl_open(struct ev_loop *loop, struct fdlimit *fdl, const char *path,
    const char *group, ctl_handler handler, void *arg, char **err)
{
	struct ctl	*ctl;
	struct group	*gr;

	*err = NULL;
	ctl = xcalloc(1, sizeof(*ctl));
	ctl->loop = loop;
	ctl->handler = handler;
	ctl->handler_arg = arg;
	ctl->fdl = fdl;
	ctl->fd = -1;
	ctl->path = xstrdup(path);
	ctl->uid = geteuid();
	TAILQ_INIT(&ctl->clients);

	if (group != NULL && *group != '\0') {
		if ((gr = getgrnam(group)) == NULL) {
			xasprintf(err, "ControlGroup %s: no such group", group);
			goto fail;
		}
		ctl->has_group = 1;
		ctl->gid = gr->gr_gid;
	}
	if (ctl_listen(ctl, err) != 0)
		goto fail;

	ev_io_init(&ctl->accept_io, ctl_accept_cb, ctl->fd, EV_READ);
	ctl->accept_io.data = ctl;
	/*
	 * Served before the forward listeners ready in the same turn: when a
	 * pause ends, a waiting tunsupctl gets in before they pause it again.
	 */
	ev_set_priority(&ctl->accept_io, 1);
	fdlimit_watch(fdl, &ctl->accept_fw, &ctl->accept_io);
	log_debug("control: listening on %s", ctl->path);
	return ctl;

fail:
	if (ctl->fd != -1)
		close(ctl->fd);
	free(ctl->path);
	free(ctl);
	return NULL;
}

void
ctl_close(struct ctl *ctl)
{
	struct ctl_client	*c;
	struct stat		 sb;

	if (ctl == NULL)
		return;
	fdlimit_unwatch(&ctl->accept_fw);
	while ((c = TAILQ_FIRST(&ctl->clients)) != NULL)
		ctl_client_free(c);
	close(ctl->fd);
	/* Only our own file: another daemon may have replaced it. */
	if (lstat(ctl->path, &sb) == 0 && sb.st_dev == ctl->dev &&
	    sb.st_ino == ctl->ino)
		unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

void
ctl_broadcast(struct ctl *ctl, json_t *event)
{
	struct ctl_client	*c, *c1;
	char			*s;
	size_t			 len;

	if (ctl == NULL || event == NULL)
		return;
	if ((s = json_dumps(event, JSON_COMPACT)) == NULL) {
		log_warn("control: cannot encode an event");
		return;
	}
	len = strlen(s);
	/* Overflowing subscribers are freed as we go. */
	for (c = TAILQ_FIRST(&ctl->clients); c != NULL; c = c1) {
		c1 = TAILQ_NEXT(c, entry);
		if (!c->subscribed || c->dead)
			continue;
		ctl_client_queue(c, s, len);
		if (ctl_client_pending(c) > CTL_OUT_MAX) {
			log_warn("control: subscriber %d (uid %lu pid %ld) is "
			    "not reading: %zu bytes unsent, disconnecting",
			    c->fd, (u_long)c->peer.uid, (long)c->pid,
			    ctl_client_pending(c));
			ctl_client_close(c);
			continue;
		}
		ctl_client_update(c);
	}
	free(s);
}
