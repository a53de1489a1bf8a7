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
 * sshconn.c: a libssh client session inside the libev loop: resolve,
 * connect, key exchange, authentication, jump hosts, the global-request
 * queue, channel opens and the server's open requests.
 *
 * With src/sshchan.c (the channels' byte pumps), the only file that calls
 * libssh; include/sshconn_int.h is what they share. What libssh does in
 * non-blocking use shapes everything here (doc/design.md, "libssh facts"):
 *
 * - We resolve and connect the TCP socket ourselves (no blocking
 *   getaddrinfo, src/connector.c, our own ConnectTimeout), then hand libssh
 *   a blocking fd: libssh treats EAGAIN as fatal.
 * - Each session has its own ssh_event, polled with ssh_event_dopoll(ev, 0)
 *   from the ev_io callback. EV_WRITE is armed only while libssh has output.
 * - libssh writes its output buffer with a blocking send(), so no channel is
 *   fed while the session has output pending (the output gate, see
 *   src/sshchan.c), and the session's watcher asks for EV_WRITE only while
 *   libssh holds output or a pump waits for room.
 * - Only one global request may be outstanding: listen, cancel and keepalive
 *   go through one queue. A keepalive's reply is collected by calling
 *   ssh_channel_cancel_forward() while it is pending, which only waits for
 *   the pending reply (SSH_AGAIN until it is in) and sends nothing.
 * - Callbacks fire re-entrantly from libssh calls; objects are only freed
 *   once the outermost entry into this file has returned.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/callbacks.h>
#include <libssh/server.h>	/* ssh_send_keepalive */

#include "cfg.h"
#include "hostcert.h"
#include "knownhosts.h"
#include "log.h"
#include "proc.h"
#include "resolver.h"
#include "soon.h"
#include "sshconn.h"
#include "sshconn_int.h"
#include "util.h"

/* A DISCONNECT packet: its payload, padding, length and MAC, with margin. */
#define ROOM_BYE	256
/*
 * One wake-up of a session reads at most DOPOLL_BYTES (its data is written
 * out after it, and other tunnels wait meanwhile): 4 reads of the bundled
 * libssh, 256 of the system's 4 KiB ones.
 */
#define DOPOLL_BYTES	(1024 * 1024)
#define DOPOLL_ROUNDS	256

static uint64_t	sc_received;	/* sshconn_received() */

/* AddressFamily (enum cfg_af) for the socket calls and for messages. */
static const int sc_families[] = { AF_UNSPEC, AF_INET, AF_INET6 };
static const char *const sc_family_names[] = { "any", "inet", "inet6" };

static const char *const sc_phase_names[] = {
	"resolving", "tcp", "proxy", "proxy socket", "kex", "auth", "ready", "dead", "jump",
};

enum greq_kind {
	GR_LISTEN,
	GR_CANCEL,
	GR_LISTEN_UNIX,		/* addr is the socket path */
	GR_CANCEL_UNIX,
	GR_KEEPALIVE,
};

/* The request each kind sends (libssh's error names it when refused). */
static const char *const greq_names[] = {
	[GR_LISTEN] = " tcpip-forward ",
	[GR_CANCEL] = " cancel-tcpip-forward ",
	[GR_LISTEN_UNIX] = " streamlocal-forward@openssh.com ",
	[GR_CANCEL_UNIX] = " cancel-streamlocal-forward@openssh.com ",
	[GR_KEEPALIVE] = " keepalive@openssh.com ",
};

struct greq {
	TAILQ_ENTRY(greq)	 entry;
	enum greq_kind		 kind;
	char			*addr;
	int			 port;
	int			 started;
	double			 sent;		/* monotonic, when asked for */
	sshconn_req_cb		 cb;
	void			*arg;
};

struct sshconn_fwdmsg {
	struct sshconn		*c;
	ssh_message		 msg;
	struct sshchan		*accepted;
};

static void	sc_io_cb(struct ev_loop *, ev_io *, int);
static void	closers_free_all(void);
static size_t	sock_room(int, int);
static void	sc_kick_cb(struct ev_loop *, ev_prepare *, int);
static void	sc_timer_cb(struct ev_loop *, ev_timer *, int);
static void	sc_fail(struct sshconn *, enum sshconn_fail, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	sc_tcp_done(void *, const struct connector_result *);
static void	sc_step(struct sshconn *);
static struct cached_key *key_load(const char *, const char *, int);
static int	sc_options(struct sshconn *, char **);
static void	sc_note(char **, const char *, const char *);
static void	sc_start_ssh(struct sshconn *);
static void	sc_socket_setup(struct sshconn *);
static const char *sc_proxy_why(struct sshconn *);
static void	sc_hop_ready(struct sshconn *);
static int	sc_socket_closed(struct sshconn *);
static void	sc_closed_fail(struct sshconn *);
static void	sc_run_greqs(struct sshconn *);
static void	sc_run_opens(struct sshconn *);
static void	sc_reap(struct sshconn *);
static void	sc_destroy(struct sshconn *);
static void	sc_agent_abandon(struct sshconn *);
static void	sc_password_wipe(struct sshconn *);

/* ---- private keys, loaded once and shared by every session ----------- */

struct cached_key {
	char		*path;
	struct stat	 sb;		/* as loaded: a change reloads */
	char		*passfile;	/* IdentityPassphraseFile, or NULL */
	struct stat	 pass_sb;	/* as read, if it was: a change reloads */
	ssh_key		 key;		/* a private key, or a certificate */
	char		*error;
	/*
	 * A private key: the same key once more, carrying the certificate
	 * last paired with it (ssh_pki_copy_cert_to_privkey() changes the
	 * key it is given), and that certificate.
	 */
	ssh_key		 certified;
	ssh_key		 cert_of;
	struct cached_key *next;
};

static struct cached_key *key_cache;

/*
 * Same file, same contents, same owner and mode? A chmod moves only the
 * ctime, and a chmod back within the same second only the mode.
 */
static int
key_unchanged(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_mode == b->st_mode && a->st_uid == b->st_uid &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * A private key others can read is refused, as ssh does (and with its
 * words): ssh refuses any group or other bit on a key the user owns; we
 * also refuse a key anyone at all can read, whoever owns it (tunsupd(8)).
 */
static int
key_too_open(const struct stat *sb)
{
	if (sb->st_uid == geteuid() && (sb->st_mode & 077) != 0)
		return 1;
	return (sb->st_mode & S_IROTH) != 0;
}

/* Asked for a passphrase while loading: the key is protected. */
static int
key_passphrase_cb(const char *prompt, char *buf, size_t len, int echo,
    int verify, void *arg)
{
	*(int *)arg = 1;
	return -1;
}

/* A private key, opened with the passphrase in passfile if it needs one. */
static struct cached_key *
key_get(const char *path, const char *passfile)
{
	return key_load(path, passfile, 0);
}

/* A certificate (CertificateFile, or an identity's -cert.pub). */
static struct cached_key *
cert_get(const char *path)
{
	return key_load(path, NULL, 1);
}

/*
 * A secret (IdentityPassphraseFile, PasswordFile; what names it): the first
 * line of a file, or of the systemd credential NAME for "credential:NAME",
 * which only we may read; NULL with *err set. The caller wipes and frees it.
 */
static char *
secret_read(const char *spec, const char *what, struct stat *sb, char **err)
{
	const char	*dir;
	char		*path, buf[1024], *pass = NULL;
	ssize_t		 n;
	int		 fd = -1;

	if (strncmp(spec, "credential:", 11) == 0) {
		if ((dir = getenv("CREDENTIALS_DIRECTORY")) == NULL) {
			xasprintf(err, "no systemd credentials for %s "
			    "(CREDENTIALS_DIRECTORY is not set: give the unit "
			    "LoadCredential=%s:FILE)", spec, spec + 11);
			return NULL;
		}
		xasprintf(&path, "%s/%s", dir, spec + 11);
	} else
		path = xstrdup(spec);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		xasprintf(err, "cannot read %s %s: %s", what, path,
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode)) {
		xasprintf(err, "%s %s is not a regular file", what, path);
		goto out;
	}
	if (key_too_open(sb)) {
		xasprintf(err, "Permissions %04o for %s '%s' are too open: "
		    "only tunsupd's user may read it",
		    (unsigned)(sb->st_mode & 07777), what, path);
		goto out;
	}
	if ((n = read(fd, buf, sizeof(buf) - 1)) < 0) {
		xasprintf(err, "cannot read %s %s: %s", what, path,
		    strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	pass = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
out:
	if (fd != -1)
		close(fd);
	free(path);
	return pass;
}

/* The passphrase file of a protected key changed since it was read? */
static int
key_pass_changed(const struct cached_key *k)
{
	struct stat	 sb;
	const char	*dir;
	char		*path;
	int		 r;

	if (k->passfile == NULL || k->pass_sb.st_ino == 0)
		return 0;
	if (strncmp(k->passfile, "credential:", 11) == 0 &&
	    (dir = getenv("CREDENTIALS_DIRECTORY")) != NULL)
		xasprintf(&path, "%s/%s", dir, k->passfile + 11);
	else
		path = xstrdup(k->passfile);
	r = stat(path, &sb) != 0 || !key_unchanged(&k->pass_sb, &sb);
	free(path);
	return r;
}

static struct cached_key *
key_load(const char *path, const char *passfile, int cert)
{
	struct cached_key	*k;
	struct stat		 sb;
	char			*pass, *why = NULL;
	int			 r, err = 0, asked = 0;

	memset(&sb, 0, sizeof(sb));
	if (stat(path, &sb) != 0) {
		err = errno;
		memset(&sb, 0, sizeof(sb));
	}
	for (k = key_cache; k != NULL; k = k->next) {
		if (strcmp(k->path, path) == 0 && (k->passfile == NULL ?
		    passfile == NULL : passfile != NULL &&
		    strcmp(k->passfile, passfile) == 0))
			break;
	}
	if (k != NULL && err == 0 && key_unchanged(&k->sb, &sb) &&
	    !key_pass_changed(k))
		return k;
	if (k == NULL) {
		k = xcalloc(1, sizeof(*k));
		k->path = xstrdup(path);
		k->passfile = passfile != NULL ? xstrdup(passfile) : NULL;
		k->next = key_cache;
		key_cache = k;
	}
	memset(&k->pass_sb, 0, sizeof(k->pass_sb));
	ssh_key_free(k->key);
	k->key = NULL;
	ssh_key_free(k->certified);
	k->certified = k->cert_of = NULL;
	free(k->error);
	k->error = NULL;
	k->sb = sb;
	if (err != 0) {
		xasprintf(&k->error, "cannot read %s %s: %s", cert ?
		    "certificate" : "identity", path, strerror(err));
		return k;
	}
	if (cert) {
		if (ssh_pki_import_cert_file(path, &k->key) != SSH_OK) {
			k->key = NULL;
			xasprintf(&k->error, "cannot load certificate %s: not "
			    "an OpenSSH certificate", path);
		}
		return k;
	}
	if (key_too_open(&sb)) {
		xasprintf(&k->error, "Permissions %04o for '%s' are too open. "
		    "It is required that your private key files are NOT "
		    "accessible by others. This private key will be ignored.",
		    (unsigned)(sb.st_mode & 07777), path);
		return k;
	}
	/*
	 * Loading is synchronous (a bcrypt KDF for protected keys): done once
	 * per file and reused for every session and retry.
	 */
	r = ssh_pki_import_privkey_file(path, NULL, key_passphrase_cb, &asked,
	    &k->key);
	if (r != SSH_OK && asked && passfile != NULL) {
		if ((pass = secret_read(passfile, "passphrase file",
		    &k->pass_sb, &why)) == NULL) {
			xasprintf(&k->error, "identity %s is protected by a "
			    "passphrase: %s", path, why);
			free(why);
			k->key = NULL;
			return k;
		}
		r = ssh_pki_import_privkey_file(path, pass, NULL, NULL,
		    &k->key);
		explicit_bzero(pass, strlen(pass));
		free(pass);
		if (r != SSH_OK) {
			k->key = NULL;
			xasprintf(&k->error, "identity %s: the passphrase in "
			    "%s does not open it", path, passfile);
			return k;
		}
	}
	if (r != SSH_OK) {
		k->key = NULL;
		if (asked)
			xasprintf(&k->error, "identity %s is protected by a "
			    "passphrase, which tunsupd does not ask for: load "
			    "it into an agent (IdentityAgent), or name a file "
			    "holding it with IdentityPassphraseFile", path);
		else
			xasprintf(&k->error, "cannot load identity %s: not a "
			    "private key tunsupd can read", path);
	}
	return k;
}

/*
 * A private key of our own, the same as key: through its unencrypted
 * export, which is wiped. NULL if libssh cannot.
 */
static ssh_key
key_copy(ssh_key key)
{
	ssh_key	 copy = NULL;
	char	*b64 = NULL;

	if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &b64) !=
	    SSH_OK)
		return NULL;
	if (ssh_pki_import_privkey_base64(b64, NULL, NULL, NULL, &copy) !=
	    SSH_OK)
		copy = NULL;
	explicit_bzero(b64, strlen(b64));
	ssh_string_free_char(b64);
	return copy;
}

/*
 * The certificate to offer before identity k, as ssh does: its -cert.pub,
 * else the first CertificateFile that matches the key; the key carrying it
 * (the same object while nothing changes: an auth call that said "again"
 * is repeated with it) and, in *path, the certificate's file. NULL if none.
 */
static ssh_key
key_certified(const struct tunnel_spec *sp, struct cached_key *k,
    const char **path, char **skipped)
{
	struct cached_key	*ck;
	ssh_key			 priv;
	char			*mine;
	size_t			 i;

	xasprintf(&mine, "%s-cert.pub", k->path);
	for (i = 0; i <= sp->ncertificate_files; i++) {
		if (i == 0 && access(mine, F_OK) != 0)
			continue;	/* none beside the key: fine */
		ck = cert_get(i == 0 ? mine : sp->certificate_files[i - 1]);
		if (ck->key == NULL) {
			if (*skipped == NULL || strstr(*skipped, ck->error) ==
			    NULL)
				sc_note(skipped, "; ", ck->error);
			continue;
		}
		if (k->certified == NULL || k->cert_of != ck->key) {
			/* The certificate's key must be this one. */
			if ((priv = key_copy(k->key)) == NULL)
				continue;
			if (ssh_pki_copy_cert_to_privkey(ck->key, priv) !=
			    SSH_OK) {
				ssh_key_free(priv);
				continue;
			}
			ssh_key_free(k->certified);
			k->certified = priv;
			k->cert_of = ck->key;
		}
		free(mine);
		*path = ck->path;	/* the cache's copy of the name */
		return k->certified;
	}
	free(mine);
	return NULL;
}

void
sshconn_keys_cleanup(void)
{
	struct cached_key	*k;

	closers_free_all();
	while ((k = key_cache) != NULL) {
		key_cache = k->next;
		ssh_key_free(k->key);
		ssh_key_free(k->certified);
		free(k->path);
		free(k->passfile);
		free(k->error);
		free(k);
	}
}

/* ---- libssh logging into ours ---------------------------------------- */

static void
sc_log_cb(int priority, const char *function, const char *buffer,
    void *userdata)
{
	log_trace("libssh: %s", buffer);
}

static void
sc_log_init(void)
{
	static int	 done;

	if (done)
		return;
	done = 1;
	ssh_init();
	ssh_set_log_callback(sc_log_cb);
	ssh_set_log_level(log_get_level() >= LOG_LVL_TRACE ?
	    SSH_LOG_PROTOCOL : SSH_LOG_NOLOG);
}

/* ---- life cycle ------------------------------------------------------ */

void
sc_enter(struct sshconn *c)
{
	c->root->depth++;
}

/* Returns 1 if c is gone. */
int
sc_leave(struct sshconn *c)
{
	struct sshconn	*r = c->root, *h;

	if (--r->depth > 0)
		return r->zombie;
	if (r->zombie) {
		sc_destroy(r);
		return 1;
	}
	for (h = r; h != NULL; h = h->outer) {
		sc_reap(h);
		if (h->phase != SC_READY)
			continue;
#ifdef HAVE_SSH_WINDOW_BATCH
		/*
		 * Data taken inside any call that read packets (a pump's
		 * read, a flush), or written out of a pump's ring, made a
		 * window adjust due: sent here, once. libssh sends it at
		 * once only while it thinks the socket writable, which it
		 * forgets after each send(); else it queues it, and the
		 * queue must ask for EV_WRITE: with the window used up (the
		 * ring counts, recv-window-held.patch) no other wake-up
		 * would come.
		 */
		if (ssh_session_send_window_adjusts(h->s) != SSH_OK)
			sc_kick(h);	/* the poll will find the error */
		sc_update_io(h);
#endif
		/*
		 * libssh reads whatever arrived inside any call that polls
		 * (a keepalive's send, a flush): an answer to a request or
		 * an open read there wakes nobody, so look again next turn.
		 */
		if (h->raw.in_packets != h->in_seen)
			sc_kick(h);
	}
	return 0;
}

static void
sc_set_phase(struct sshconn *c, enum sc_phase p)
{
	c->phase = p;
	if (c->cbs.phase != NULL && p < SC_READY)
		c->cbs.phase(c->arg, sc_phase_names[p]);
}

static void
sc_resolved(const struct addrinfo *ai, int err, void *arg)
{
	struct sshconn		*c = arg;

	c->rq = NULL;
	if (err != 0) {
		sc_enter(c);
		sc_fail(c, SCF_NETWORK, "cannot resolve %s: %s",
		    c->host, gai_strerror(err));
		sc_leave(c);
		return;
	}
	sc_enter(c);
	sc_set_phase(c, SC_TCP);
	(void)connector_start(&c->tcp, c->loop, ai, sc_tcp_done, c);
	sc_leave(c);
}

static struct sshconn *
sc_alloc(struct ev_loop *loop, struct resolver *res,
    const struct tunnel_spec *spec, struct sshconn *root)
{
	struct sshconn	*c;

	c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->spec = spec;
	c->root = root != NULL ? root : c;
	c->fd = -1;
	c->resolver = res;
	TAILQ_INIT(&c->greqs);
	TAILQ_INIT(&c->chans);
	ev_init(&c->io, sc_io_cb);
	c->io.data = c;
	connector_init(&c->tcp);
	/* A numeric BindAddress of AddressFamily's family: cfg.c checked. */
	(void)connector_source(&c->tcp, sc_families[spec->address_family],
	    spec->bind_address, spec->bind_interface);
	ev_init(&c->timer, sc_timer_cb);
	c->timer.data = c;
	soon_init(&c->kick, sc_kick_cb, c);
	return c;
}

static void
sc_begin(struct sshconn *c)
{
	if (c->spec->proxy_command != NULL) {
		/* Not from inside sshconn_new(): a failure calls back. */
		c->phase = SC_PROXY;
		sc_kick(c);
		return;
	}
	c->phase = SC_RESOLVE;
	c->rq = resolver_query(c->resolver, c->host, c->port, sc_resolved, c);
}

/*
 * ProxyCommand: the session speaks through the command's standard input
 * and output (a socketpair); nothing is resolved or connected here. With
 * ProxyUseFdpass the command passes a connected socket instead, read from
 * the pair by sc_fdpass_read().
 */
static void
sc_proxy_start(struct sshconn *c)
{
	const char	*values[4];
	char		 port[16], *cmd, bad;

	snprintf(port, sizeof(port), "%d", c->port);
	values[0] = c->host;
	values[1] = c->spec->name;
	values[2] = port;
	values[3] = c->user;
	/* Checked when the configuration was read. */
	if ((cmd = percent_expand(c->spec->proxy_command, "hnpr", values,
	    &bad)) == NULL) {
		sc_fail(c, SCF_SESSION, "ProxyCommand: unknown token %%%c",
		    bad);
		return;
	}
	tlog_debug(c, "proxy command: %s", cmd);
	c->proxy = proc_start(c->loop, c->spec->name, cmd, &c->fd);
	free(cmd);
	if (c->proxy == NULL) {
		sc_fail(c, SCF_NETWORK, "ProxyCommand: cannot start /bin/sh: "
		    "%s", strerror(errno));
		return;
	}
	if (c->spec->proxy_use_fdpass) {
		sc_set_phase(c, SC_FDPASS);
		ev_io_set(&c->io, c->fd, EV_READ);
		ev_io_start(c->loop, &c->io);
		return;
	}
	sc_start_ssh(c);
}

/*
 * ProxyUseFdpass: one byte carrying a descriptor (SCM_RIGHTS) on the
 * command's standard output, as ssh(1) reads it. The pair is closed and the
 * session speaks over that socket; the command may exit (proc_stop() ends
 * it with the session otherwise).
 */
static void
sc_fdpass_read(struct sshconn *c)
{
	union {
		struct cmsghdr	h;
		char		buf[CMSG_SPACE(4 * sizeof(int))];
	}		 ctl;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	const char	*why;
	char		 b;
	ssize_t		 n;
	size_t		 i, nfd;
	int		 fd = -1, got, type = 0;
	socklen_t	 len = sizeof(type);

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &b;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	/* Every descriptor that came is ours to close but the first. */
	for (cm = CMSG_FIRSTHDR(&msg); n > 0 && cm != NULL;
	    cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&got, CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(got));
			if (fd == -1)
				fd = got;
			else
				close(got);
		}
	}
	ev_io_stop(c->loop, &c->io);
	if (fd == -1) {
		why = sc_proxy_why(c);
		sc_fail(c, SCF_NETWORK, "ProxyUseFdpass: the ProxyCommand "
		    "passed no socket (%s)%s%s", n == -1 ? strerror(errno) :
		    n == 0 ? "it closed its output" : "data without a "
		    "descriptor", *why != '\0' ? "; the command " : "", why);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM) {
		close(fd);
		sc_fail(c, SCF_NETWORK, "ProxyUseFdpass: the ProxyCommand "
		    "passed a descriptor that is not a stream socket");
		return;
	}
	close(c->fd);
	c->fd = fd;
	tlog_debug(c, "proxy command passed its socket");
	sc_socket_setup(c);
	sc_start_ssh(c);
}

/* For an error message: what the ProxyCommand said, if it did. */
static const char *
sc_proxy_why(struct sshconn *c)
{
	const char	*why;

	if (c->proxy == NULL || (why = proc_why(c->proxy)) == NULL)
		return "";
	return why;
}

/* The handshake or authentication over a ProxyCommand ended early. */
static void
sc_proxy_fail(struct sshconn *c, const char *err)
{
	const char	*why = sc_proxy_why(c);

	sc_fail(c, SCF_NETWORK, "SSH %s with %s through the ProxyCommand "
	    "failed: %s%s%s", c->phase == SC_KEX ? "handshake" :
	    "authentication", c->host, err != NULL && *err != '\0' ? err :
	    "closed", *why != '\0' ? "; the command " : "", why);
}

struct sshconn *
sshconn_new(struct ev_loop *loop, struct resolver *res,
    const struct tunnel_spec *tspec, size_t server,
    const struct sshconn_cbs *cbs, void *arg)
{
	struct sshconn		*c, *hop, *prev = NULL;
	const struct jump_hop	*j, *fb;
	struct tunnel_spec	*spec;
	size_t			 i;

	sc_log_init();
	/*
	 * The session and its hops point into a copy of their own: a reload
	 * that changes only forwards frees the tunnel's spec and keeps the
	 * session (tunsupd(8), SIGNALS).
	 */
	spec = tunnel_spec_copy(tspec);
	c = sc_alloc(loop, res, spec, NULL);
	c->own_spec = spec;
	c->cbs = *cbs;
	c->arg = arg;
	c->host = spec->hostname;
	c->port = spec->port;
	c->user = spec->user;
	c->alias = spec->host_key_alias;
	if (server > 0 && server <= spec->nfallbacks) {
		/*
		 * A FallbackHost: its own name and port in known_hosts
		 * (HostKeyAlias names the primary's key only), the tunnel's
		 * User unless it names one (tunsupd.conf(5) FallbackHost).
		 */
		fb = &spec->fallbacks[server - 1];
		c->host = fb->host;
		c->port = fb->port;
		c->user = fb->user != NULL ? fb->user : spec->user;
		c->alias = NULL;
	}
	c->known_hosts = spec->user_known_hosts_file;
	c->ids = spec->identity_files;
	c->nids = spec->nidentity_files;
	/* One ConnectTimeout covers the whole chain, TCP to authenticated. */
	ev_timer_set(&c->timer, spec->connect_timeout_ms / 1000.0, 0.);
	ev_timer_start(loop, &c->timer);

	if (spec->njumps == 0) {
		sc_begin(c);
		return c;
	}
	/* Jump hosts, outermost first; the tunnel's session rides last. */
	for (i = 0; i < spec->njumps; i++) {
		j = &spec->jumps[i];
		hop = sc_alloc(loop, res, spec, c);
		hop->host = j->host;
		hop->port = j->port;
		/* As ssh -J: without user@, the local user. */
		hop->user = j->user != NULL ? j->user : local_user();
		/* What SshConfig gave the hop, else the tunnel's. */
		hop->alias = j->host_key_alias;
		hop->known_hosts = j->user_known_hosts_file != NULL ?
		    j->user_known_hosts_file : spec->user_known_hosts_file;
		hop->ids = j->nidentity_files > 0 ? j->identity_files :
		    spec->identity_files;
		hop->nids = j->nidentity_files > 0 ? j->nidentity_files :
		    spec->nidentity_files;
		hop->outer = prev;
		if (prev != NULL)
			prev->next = hop;
		prev = hop;
	}
	prev->next = c;
	c->outer = prev;
	c->phase = SC_JUMP;
	for (hop = c; hop->outer != NULL; hop = hop->outer)
		;
	sc_begin(hop);
	return c;
}

/*
 * A session on its way out. Its DISCONNECT goes out only whole, so only
 * with room for it in the socket and after what libssh has queued: libssh
 * writes it at once only while it thinks the socket writable (else it
 * queues it, and ssh_disconnect() then throws the queue away). A busy
 * session often has neither (its pumps keep the socket just above their
 * ROOM_MIN, or full while the server is slow to read), so the closer keeps
 * the session, without our callbacks, and waits on EV_WRITE, letting
 * libssh write out its queue without waiting (ssh_blocking_flush() with no
 * time), until the DISCONNECT fits. Then our FIN, and the closer reads and
 * drops what the server still sends until it closes too, so it reads our
 * DISCONNECT instead of a reset, which closing a socket with unread input
 * sends. All of this within CLOSE_LINGER; a server that takes longer (a
 * black hole) gets what libssh does in ssh_free(): the socket closed.
 */
#define CLOSE_LINGER	2.0

struct closer {
	struct ev_loop		*loop;
	char			*name;	/* the tunnel's, for the log */
	ssh_session		 s;	/* until the DISCONNECT is out */
	int			 fd;	/* -1 once closed */
	ev_io			 io;
	ev_timer		 timer;
	LIST_ENTRY(closer)	 entry;
};

static LIST_HEAD(, closer) closers = LIST_HEAD_INITIALIZER(closers);

static void
closer_free(struct closer *cl)
{
	LIST_REMOVE(cl, entry);
	ev_io_stop(cl->loop, &cl->io);
	ev_timer_stop(cl->loop, &cl->timer);
	/*
	 * ssh_free() closes the socket of a session not disconnected; the fd
	 * is ours to close only if still open after (nothing opens one in
	 * between, so the number is not reused).
	 */
	if (cl->s != NULL)
		ssh_free(cl->s);
	if (cl->fd != -1 && fcntl(cl->fd, F_GETFD) != -1)
		close(cl->fd);
	free(cl->name);
	free(cl);
}

static void
closer_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct closer	*cl = w->data;
	char		 buf[16384];
	ssize_t		 n;
	int		 i;

	for (i = 0; i < 16; i++) {
		n = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			closer_free(cl);
			return;
		}
		if (n == -1)
			return;
	}
}

/* Send the DISCONNECT if it fits now; 0 while it waits for room. */
static int
closer_bye(struct closer *cl)
{
	if (ssh_get_status(cl->s) & SSH_WRITE_PENDING)
		ssh_blocking_flush(cl->s, 0);
	if (ssh_get_fd(cl->s) == -1) {
		cl->fd = -1;	/* libssh closed it on an error */
		return 1;
	}
	if ((ssh_get_status(cl->s) & SSH_WRITE_PENDING) ||
	    sock_room(cl->fd, 0) < ROOM_BYE)
		return 0;
	ssh_set_fd_towrite(cl->s);
	ssh_disconnect(cl->s);		/* sends DISCONNECT, keeps our fd */
	ssh_free(cl->s);
	cl->s = NULL;
	if (ev_is_active(&cl->io))
		tlog_msg(cl->name, LOG_LVL_DEBUG, "disconnect: sent");
	return 1;
}

/* After the DISCONNECT (or without one): FIN, then read until EOF. */
static void
closer_drain(struct closer *cl)
{
	if (cl->fd == -1 || fcntl(cl->fd, F_GETFD) == -1) {
		cl->fd = -1;
		closer_free(cl);
		return;
	}
	shutdown(cl->fd, SHUT_WR);
	ev_io_stop(cl->loop, &cl->io);
	ev_io_init(&cl->io, closer_read_cb, cl->fd, EV_READ);
	cl->io.data = cl;
	ev_io_start(cl->loop, &cl->io);
}

static void
closer_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct closer	*cl = w->data;

	if (closer_bye(cl))
		closer_drain(cl);
}

static void
closer_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct closer	*cl = w->data;

	if (cl->s != NULL)
		tlog_msg(cl->name, LOG_LVL_DEBUG, "disconnect: the server did "
		    "not read for %.0f s: socket closed without DISCONNECT",
		    CLOSE_LINGER);
	closer_free(cl);
}

static void
closers_free_all(void)
{
	while (!LIST_EMPTY(&closers))
		closer_free(LIST_FIRST(&closers));
}

/*
 * Close a session's socket politely: with its session s past the
 * handshake, send a DISCONNECT first (the closer owns s from here on);
 * with s NULL, only FIN and wait for EOF.
 */
static void
closer_start(struct ev_loop *loop, const char *name, ssh_session s, int fd)
{
	struct closer	*cl;

	cl = xcalloc(1, sizeof(*cl));
	cl->loop = loop;
	cl->name = xstrdup(name);
	cl->s = s;
	cl->fd = fd;
	ev_timer_init(&cl->timer, closer_timeout_cb, CLOSE_LINGER, 0.);
	cl->timer.data = cl;
	ev_timer_start(loop, &cl->timer);
	LIST_INSERT_HEAD(&closers, cl, entry);
	if (s != NULL && !closer_bye(cl)) {
		tlog_msg(name, LOG_LVL_DEBUG, "disconnect: waiting for room in "
		    "the socket (%zu bytes free%s)", sock_room(fd, 0),
		    (ssh_get_status(s) & SSH_WRITE_PENDING) ?
		    ", libssh output queued" : "");
		ev_io_init(&cl->io, closer_write_cb, fd, EV_WRITE);
		cl->io.data = cl;
		ev_io_start(loop, &cl->io);
	} else
		closer_drain(cl);
}

static void
sc_destroy(struct sshconn *c)
{
	struct greq	*q;
	struct sshchan	*sc;
	int		 fd;

	resolver_cancel(c->rq);
	connector_stop(&c->tcp);
	ev_timer_stop(c->loop, &c->timer);
	ev_io_stop(c->loop, &c->io);
	soon_stop(c->loop, &c->kick);
	while ((q = TAILQ_FIRST(&c->greqs)) != NULL) {
		TAILQ_REMOVE(&c->greqs, q, entry);
		free(q->addr);
		free(q);
	}
	if (c->agent_job != NULL)
		sc_agent_abandon(c);
	/* The session is going: channels go with ssh_free(). */
	c->phase = SC_DEAD;
	while ((sc = TAILQ_FIRST(&c->chans)) != NULL) {
		if (sc->ch != NULL)
			ssh_remove_channel_callbacks(sc->ch, &sc->cbs);
		sc->ch = NULL;
		chan_free(sc);
	}
	if (c->ev != NULL) {
		if (c->s != NULL)
			ssh_event_remove_session(c->ev, c->s);
		ssh_event_free(c->ev);
	}
	if (c->s != NULL) {
		ssh_set_message_callback(c->s, NULL, NULL);
		ssh_set_counters(c->s, NULL, NULL);
		/*
		 * libssh lets go of an fd given with SSH_OPTIONS_FD on
		 * disconnect, but closes it on errors (and then says -1 here)
		 * and in ssh_free() when there was no disconnect.
		 */
		if (c->fd_given) {
			fd = ssh_get_fd(c->s);
			c->fd = -1;
		} else
			fd = -1;
		if (fd != -1 && ssh_is_connected(c->s))
			closer_start(c->loop, c->spec->name, c->s, fd);
		else {
			ssh_free(c->s);
			/* Nothing opened an fd since: the number is not reused. */
			if (fd != -1 && fcntl(fd, F_GETFD) != -1)
				closer_start(c->loop, c->spec->name, NULL,
				    fd);
		}
		c->s = NULL;
	}
	if (c->fd != -1)
		close(c->fd);
	proc_stop(c->proxy);
	free(c->auth_tried);
	free(c->auth_skipped);
	free(c->agent_error);
	sc_password_wipe(c);
	/* The root goes first, then the hops it rode on, inside out. */
	if (c->outer != NULL) {
		c->outer->next = NULL;
		sc_destroy(c->outer);
	}
	tunnel_spec_free(c->own_spec);	/* the root's, once every hop is gone */
	free(c);
}

void
sshconn_set_cbs(struct sshconn *c, const struct sshconn_cbs *cbs, void *arg)
{
	c->cbs = *cbs;
	c->arg = arg;
}

void
sshconn_free(struct sshconn *c)
{
	struct sshconn	*h;

	if (c == NULL)
		return;
	if (c->depth > 0) {
		/* Inside one of our callbacks: stop now, free on the way out. */
		c->zombie = 1;
		for (h = c; h != NULL; h = h->outer) {
			h->phase = SC_DEAD;
			connector_stop(&h->tcp);
			ev_timer_stop(h->loop, &h->timer);
			ev_io_stop(h->loop, &h->io);
			soon_stop(h->loop, &h->kick);
		}
		return;
	}
	sc_destroy(c);
}

const char *
sshconn_phase(struct sshconn *c)
{
	return sc_phase_names[c->phase];
}

uint64_t
sshconn_received(void)
{
	return sc_received;
}

uint64_t
sshconn_in_packets(struct sshconn *c)
{
	return c->raw.in_packets;
}

static void
sc_fail(struct sshconn *c, enum sshconn_fail kind, const char *fmt, ...)
{
	va_list	 ap;
	char	*why;

	if (c->phase == SC_DEAD)
		return;
	va_start(ap, fmt);
	xvasprintf(&why, fmt, ap);
	va_end(ap);
	c->phase = SC_DEAD;
	connector_stop(&c->tcp);
	ev_timer_stop(c->loop, &c->timer);
	ev_io_stop(c->loop, &c->io);
	if (c != c->root) {
		/* A jump host failed: the tunnel's session fails with it. */
		sc_fail(c->root, kind, "jump host %s@%s:%d: %s", c->user,
		    c->host, c->port, why);
		free(why);
		return;
	}
	c->cbs.dead(c->arg, kind, why);
	free(why);
}

static void
sc_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sshconn	*c = w->data, *h;
	const char	*why;

	sc_enter(c);
	switch (c->phase) {
	case SC_JUMP:
		/* The root's timer: name the hop that is stuck. */
		for (h = c->outer; h != NULL && h->phase == SC_READY;
		    h = h->outer)
			;
		if (h == NULL)
			h = c->outer;
		sc_fail(c, SCF_NETWORK, "timeout after %.0f s reaching %s through "
		    "jump host %s@%s:%d (%s)",
		    c->spec->connect_timeout_ms / 1000.0, c->host, h->user,
		    h->host, h->port, sc_phase_names[h->phase]);
		break;
	case SC_RESOLVE:
		sc_fail(c, SCF_NETWORK, "timeout resolving %s after %.0f s",
		    c->host, c->spec->connect_timeout_ms / 1000.0);
		break;
	case SC_TCP:
		sc_fail(c, SCF_NETWORK, "timeout connecting to %s port %d "
		    "after %.0f s", c->host, c->port,
		    c->spec->connect_timeout_ms / 1000.0);
		break;
	case SC_FDPASS:
		why = sc_proxy_why(c);
		sc_fail(c, SCF_NETWORK, "timeout after %.0f s waiting for the "
		    "ProxyCommand to pass a socket (ProxyUseFdpass)%s%s",
		    c->spec->connect_timeout_ms / 1000.0,
		    *why != '\0' ? "; the command " : "", why);
		break;
	case SC_KEX:
		if (c->proxy != NULL) {
			why = sc_proxy_why(c);
			sc_fail(c, SCF_NETWORK, "timeout during SSH handshake "
			    "with %s through the ProxyCommand after %.0f s "
			    "(no banner or key exchange)%s%s", c->host,
			    c->spec->connect_timeout_ms / 1000.0,
			    *why != '\0' ? "; the command " : "", why);
		} else
			sc_fail(c, SCF_NETWORK, "timeout during SSH handshake "
			    "with %s after %.0f s (no banner or key exchange)",
			    c->host, c->spec->connect_timeout_ms / 1000.0);
		break;
	case SC_AUTH:
		sc_fail(c, SCF_SESSION, "timeout during authentication after "
		    "%.0f s%s%s%s", c->spec->connect_timeout_ms / 1000.0,
		    c->agent_job != NULL ? " (the agent at " : "",
		    c->agent_job != NULL ? c->spec->identity_agent : "",
		    c->agent_job != NULL ? " did not answer)" : "");
		break;
	default:
		break;
	}
	sc_leave(c);
}

/* ---- TCP ------------------------------------------------------------- */

static void
sc_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];

	if (getnameinfo(sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
	    host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(host, sizeof(host), "?");
	snprintf(buf, len, "%s", host);
}

/*
 * c->fd is the server's TCP socket (ours, or one a ProxyUseFdpass command
 * passed: on another kind of socket the TCP options simply fail).
 */
static void
sc_socket_setup(struct sshconn *c)
{
	int		 one = 1, fl;
	unsigned int	 uto;

	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->spec->tcp_keep_alive)
		setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (c->spec->server_alive_interval_ms > 0) {
		/* The kernel gives up on unacknowledged data when we would. */
		uto = (unsigned int)(c->spec->server_alive_interval_ms *
		    c->spec->server_alive_count_max);
		setsockopt(c->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto,
		    sizeof(uto));
	}
	/* libssh wants a blocking fd: it treats EAGAIN as fatal. */
	if ((fl = fcntl(c->fd, F_GETFL)) != -1)
		fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* The connector's answer: a connected socket, or why there is none. */
static void
sc_tcp_done(void *arg, const struct connector_result *r)
{
	struct sshconn	*c = arg;
	char		 addr[INET6_ADDRSTRLEN];

	sc_enter(c);
	if (r->fd == -1) {
		if (r->addr == NULL)
			sc_fail(c, SCF_NETWORK, "no address to connect to");
		else if (strcmp(r->call, "socket") == 0)
			sc_fail(c, SCF_NETWORK, "socket: %s", strerror(r->err));
		else if (strcmp(r->call, "family") == 0)
			sc_fail(c, SCF_NETWORK, "%s has no address of "
			    "AddressFamily %s (or BindAddress %s's)", c->host,
			    sc_family_names[c->spec->address_family],
			    c->spec->bind_address != NULL ?
			    c->spec->bind_address : "any");
		else if (strcmp(r->call, "bind") == 0)
			sc_fail(c, SCF_NETWORK, "BindAddress %s: %s",
			    c->spec->bind_address, strerror(r->err));
		else if (strcmp(r->call, "SO_BINDTODEVICE") == 0)
			sc_fail(c, SCF_NETWORK, "BindInterface %s: %s",
			    c->spec->bind_interface, strerror(r->err));
		else {
			sc_addr_str(r->addr, addr, sizeof(addr));
			sc_fail(c, SCF_NETWORK, "connect to %s port %d: %s",
			    addr, c->port, strerror(r->err));
		}
		goto out;
	}
	c->fd = r->fd;
	sc_socket_setup(c);
	sc_start_ssh(c);
out:
	sc_leave(c);
}

/* c->fd is connected (TCP, or a socketpair to a jump host's channel). */
static void
sc_start_ssh(struct sshconn *c)
{
	char	*why = NULL;

	c->s = ssh_new();
	if (c->s == NULL) {
		sc_fail(c, SCF_SESSION, "ssh_new failed");
		return;
	}
	if (sc_options(c, &why) != 0) {
		sc_fail(c, SCF_SESSION, "ssh option %s", why);
		free(why);
		return;
	}
	ssh_set_blocking(c->s, 0);
	sc_set_phase(c, SC_KEX);
	sc_step(c);
}

/* ---- handshake, host key, authentication ----------------------------- */

/*
 * The name known_hosts is checked under: the HostKeyAlias (with no port,
 * as OpenSSH), else HostName as configured ("[host]:port").
 */
static char *
sc_kh_name(struct sshconn *c)
{
	if (c->alias != NULL)
		return kh_lookup_name(c->alias, 22);
	return kh_lookup_name(c->host, c->port);
}

/*
 * Scan the known_hosts files libssh was given (the UserKnownHostsFile as
 * libssh expanded it, and the global /etc/ssh/ssh_known_hosts) for name;
 * key may be NULL for the key types only. See tunsupd.conf(5),
 * StrictHostKeyChecking.
 */
static void
sc_kh_scan(struct sshconn *c, const char *name, ssh_key key,
    struct kh_marks *m)
{
	static const enum ssh_options_e files[] = {
		SSH_OPTIONS_KNOWNHOSTS, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
	};
	char		*path;
	size_t		 i;

	for (i = 0; i < nitems(files); i++) {
		if (ssh_options_get(c->s, files[i], &path) != SSH_OK)
			continue;
		kh_scan(path, name, key, m);
		ssh_string_free_char(path);
	}
}

/* What libssh is told an option's value was, when it refuses it. */
static int
sc_opt_fail(ssh_session s, char **why, const char *kw, const char *value)
{
	const char	*err = ssh_get_error(s);

	xasprintf(why, "%s %s: refused by libssh%s%s", kw, value,
	    err != NULL && *err != '\0' ? ": " : "",
	    err != NULL ? err : "");
	return -1;
}

/* The algorithm lists, each given to libssh as the ssh_config keyword. */
static const struct sc_algo {
	const char		*keyword;
	size_t			 off;	/* of the char * in the spec */
	enum ssh_options_e	 opt[2];
	int			 nopt;
} sc_algos[] = {
	{ "Ciphers", offsetof(struct tunnel_spec, ciphers),
	    { SSH_OPTIONS_CIPHERS_C_S, SSH_OPTIONS_CIPHERS_S_C }, 2 },
	{ "MACs", offsetof(struct tunnel_spec, macs),
	    { SSH_OPTIONS_HMAC_C_S, SSH_OPTIONS_HMAC_S_C }, 2 },
	{ "KexAlgorithms", offsetof(struct tunnel_spec, kex_algorithms),
	    { SSH_OPTIONS_KEY_EXCHANGE }, 1 },
	{ "HostKeyAlgorithms", offsetof(struct tunnel_spec,
	    host_key_algorithms), { SSH_OPTIONS_HOSTKEYS }, 1 },
	{ "PubkeyAcceptedAlgorithms", offsetof(struct tunnel_spec,
	    pubkey_accepted_algorithms),
	    { SSH_OPTIONS_PUBLICKEY_ACCEPTED_TYPES }, 1 },
};

/*
 * The options that come from the spec alone: 0, or -1 with *why naming the
 * option and its value. sshconn_check_spec() runs them at load time.
 */
static int
sc_spec_options(ssh_session s, const struct tunnel_spec *sp, char **why)
{
	const struct sc_algo	*a;
	const char		*v;
	uint64_t		 data = (uint64_t)sp->rekey_data;
	uint32_t		 ms = (uint32_t)sp->rekey_time_ms;
	int			 rsa = sp->required_rsa_size, i;
	size_t			 n;
	char			 buf[64];

	if (ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS,
	    sp->user_known_hosts_file) != 0)
		return sc_opt_fail(s, why, "UserKnownHostsFile",
		    sp->user_known_hosts_file);
	if (sp->identity_agent != NULL &&
	    strcmp(sp->identity_agent, "none") != 0 &&
	    ssh_options_set(s, SSH_OPTIONS_IDENTITY_AGENT,
	    sp->identity_agent) != 0)
		return sc_opt_fail(s, why, "IdentityAgent", sp->identity_agent);
	for (n = 0; n < nitems(sc_algos); n++) {
		a = &sc_algos[n];
		v = *(char *const *)((const char *)sp + a->off);
		for (i = 0; v != NULL && i < a->nopt; i++) {
			if (ssh_options_set(s, a->opt[i], v) != 0)
				return sc_opt_fail(s, why, a->keyword, v);
		}
	}
	v = sp->compression ? "yes" : "no";
	if (ssh_options_set(s, SSH_OPTIONS_COMPRESSION, v) != 0)
		return sc_opt_fail(s, why, "Compression", v);
	snprintf(buf, sizeof(buf), "%ld %lds", sp->rekey_data,
	    sp->rekey_time_ms / 1000);
	if (ssh_options_set(s, SSH_OPTIONS_REKEY_DATA, &data) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_REKEY_TIME, &ms) != 0)
		return sc_opt_fail(s, why, "RekeyLimit", buf);
	snprintf(buf, sizeof(buf), "%d", rsa);
	if (ssh_options_set(s, SSH_OPTIONS_RSA_MIN_SIZE, &rsa) != 0)
		return sc_opt_fail(s, why, "RequiredRSASize", buf);
	return 0;
}

int
sshconn_check_spec(const struct tunnel_spec *sp, char **why)
{
	ssh_session	s;
	int		r;

	*why = NULL;
	if ((s = ssh_new()) == NULL) {
		*why = xstrdup("ssh_new failed");
		return -1;
	}
	r = sc_spec_options(s, sp, why);
	ssh_free(s);
	return r;
}

#ifdef HAVE_SSH_HOSTCERT
/* Host certificates, offered first when a CA is known, as ssh orders them. */
#define SC_CERT_ALGOS	"ssh-ed25519-cert-v01@openssh.com," \
			"ecdsa-sha2-nistp521-cert-v01@openssh.com," \
			"ecdsa-sha2-nistp384-cert-v01@openssh.com," \
			"ecdsa-sha2-nistp256-cert-v01@openssh.com," \
			"rsa-sha2-512-cert-v01@openssh.com," \
			"rsa-sha2-256-cert-v01@openssh.com"
#endif
#define SC_PLAIN_ALGOS	"ssh-ed25519,ecdsa-sha2-nistp521," \
			"ecdsa-sha2-nistp384,ecdsa-sha2-nistp256," \
			"rsa-sha2-512,rsa-sha2-256"

/* Append the algorithms of list not in *algos yet. */
static void
sc_algos_add(char **algos, const char *list)
{
	char	*copy, *a, *next;

	copy = xstrdup(list);
	for (a = copy; a != NULL; a = next) {
		if ((next = strchr(a, ',')) != NULL)
			*next++ = '\0';
		if (*algos == NULL || !list_has_word(*algos, ',', a))
			sc_note(algos, ",", a);
	}
	free(copy);
}

/*
 * The host key algorithms to ask for, in ssh's order, when libssh cannot
 * order them (it was refused the name, or a @cert-authority covers the
 * host: libssh would put the known plain types before the certificates):
 * the certificates (with a CA, and a libssh that negotiates them), the key
 * types known for the host, then the other plain ones. NULL: libssh's.
 */
static char *
sc_host_algos(const struct kh_marks *m, int refused)
{
	char	*algos = NULL, *types, *type, *next;
	int	 ca = 0;

#ifdef HAVE_SSH_HOSTCERT
	if ((ca = m->ncas > 0))
		sc_algos_add(&algos, SC_CERT_ALGOS);
#endif
	if (!refused && !ca)
		return NULL;
	if (m->types != NULL) {
		types = xstrdup(m->types);
		for (type = types; type != NULL; type = next) {
			if ((next = strchr(type, ',')) != NULL)
				*next++ = '\0';
			/* An RSA key signs with SHA-2 too. */
			sc_algos_add(&algos, strcmp(type, "ssh-rsa") == 0 ?
			    "rsa-sha2-512,rsa-sha2-256,ssh-rsa" : type);
		}
		free(types);
	}
	if (ca)
		sc_algos_add(&algos, SC_PLAIN_ALGOS);
	return algos;
}

static int
sc_options(struct sshconn *c, char **why)
{
	const struct tunnel_spec *sp = c->spec;
	ssh_session		 s = c->s;
	socket_t		 fd = c->fd;
	struct kh_marks		 m;
	int			 zero = 0, port = c->port, refused, r;
	char			*name, *algos, buf[16];

	if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &zero) != 0)
		return sc_opt_fail(s, why, "SSH_OPTIONS_PROCESS_CONFIG", "0");
	if (ssh_options_set(s, SSH_OPTIONS_USER, c->user) != 0)
		return sc_opt_fail(s, why, "User", c->user);
	snprintf(buf, sizeof(buf), "%d", fd);
	if (ssh_options_set(s, SSH_OPTIONS_FD, &fd) != 0)
		return sc_opt_fail(s, why, "SSH_OPTIONS_FD", buf);
	if (sc_spec_options(s, sp, why) != 0)
		return -1;
	/* A jump host may have its own (SshConfig). */
	if (c->known_hosts != sp->user_known_hosts_file &&
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, c->known_hosts) != 0)
		return sc_opt_fail(s, why, "UserKnownHostsFile",
		    c->known_hosts);
	/*
	 * libssh is told the host known_hosts knows it by only so that it
	 * prefers the key types known for it: we connected ourselves and
	 * check the key ourselves. It refuses some names ssh takes (an
	 * underscore), and it would put known plain key types before the
	 * host certificates a @cert-authority asks for: then it gets an
	 * address that names nothing, and the order comes from us.
	 */
	memset(&m, 0, sizeof(m));
	name = sc_kh_name(c);
	sc_kh_scan(c, name, NULL, &m);
	free(name);
	if (c->alias != NULL)
		port = 22;
	refused = ssh_options_set(s, SSH_OPTIONS_HOST, c->alias != NULL ?
	    c->alias : c->host) != 0;
	algos = sp->host_key_algorithms == NULL ? sc_host_algos(&m, refused) :
	    NULL;
	kh_marks_clear(&m);
	if (refused || algos != NULL) {
		if (refused)
			tlog_debug(c, "libssh refuses the name %s: host keys "
			    "are checked under it all the same",
			    c->alias != NULL ? c->alias : c->host);
		if (ssh_options_set(s, SSH_OPTIONS_HOST, "0.0.0.0") != 0) {
			free(algos);
			return sc_opt_fail(s, why, "Host", "0.0.0.0");
		}
	}
	r = 0;
	snprintf(buf, sizeof(buf), "%d", port);
	if (ssh_options_set(s, SSH_OPTIONS_PORT, &port) != 0)
		r = sc_opt_fail(s, why, "Port", buf);
	else if (algos != NULL && ssh_options_set(s, SSH_OPTIONS_HOSTKEYS,
	    algos) != 0)
		r = sc_opt_fail(s, why, "HostKeyAlgorithms", algos);
	free(algos);
	return r;
}

static char *
sc_fingerprint(struct sshconn *c)
{
	ssh_key		 key = NULL, plain = NULL;
	unsigned char	*hash = NULL;
	size_t		 hlen;
	char		*fp, *ret;

	if (ssh_get_server_publickey(c->s, &key) != SSH_OK)
		return xstrdup("(no key)");
	/* A certificate's is its key's, as ssh prints it. */
	if (hostcert_is_cert(key))
		plain = hostcert_plain_key(key);
	if (ssh_get_publickey_hash(plain != NULL ? plain : key,
	    SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0) {
		ssh_key_free(plain);
		ssh_key_free(key);
		return xstrdup("(no fingerprint)");
	}
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	xasprintf(&ret, "%s %s", ssh_key_type_to_char(ssh_key_type(key)),
	    fp != NULL ? fp : "?");
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(plain);
	ssh_key_free(key);
	return ret;
}

/*
 * accept-new: append the server's key under name, hashed if HashKnownHosts
 * says so, to a known_hosts file only, the one libssh read
 * (UserKnownHostsFile as libssh expanded it).
 */
static int
sc_learn_host_key(struct sshconn *c, const char *h, const char *name,
    ssh_key key, const char *fp)
{
	char	*file = NULL, *entry = NULL, *why = NULL;
	int	 r = -1;

	if (ssh_options_get(c->s, SSH_OPTIONS_KNOWNHOSTS, &file) != SSH_OK ||
	    (entry = kh_entry_line(name, key, c->spec->hash_known_hosts)) ==
	    NULL)
		sc_fail(c, SCF_AUTH, "host key for %s: cannot add %s to %s: %s",
		    h, fp, c->known_hosts, ssh_get_error(c->s));
	else if (kh_append(file, entry, &why) != 0)
		sc_fail(c, SCF_AUTH, "host key for %s (%s) not added: %s; "
		    "refusing", h, fp, why);
	else {
		tlog_info(c, "host key for %s (%s) added to %s", h, fp, file);
		r = 0;
	}
	ssh_string_free_char(file);
	free(entry);
	free(why);
	return r;
}

#ifdef HAVE_SSH_HOSTCERT
#define SC_NO_CERT	"the server offers no host certificate (sshd_config " \
			"HostCertificate)"
#else
#define SC_NO_CERT	"host certificates need tunsupd built with its " \
			"bundled libssh (README.md, \"The bundled libssh\"); " \
			"add the host key itself to the known_hosts file"
#endif

/*
 * A host certificate (asked for only when a @cert-authority covers the
 * host; see sc_host_algos): 0 if an authority named there vouches for it
 * or, as ssh falls back to it, its key is known itself; else -1. Under no
 * StrictHostKeyChecking is a certificate or its key learned.
 */
static int
sc_check_host_cert(struct sshconn *c, const char *h, const char *name,
    ssh_key key, const char *fp)
{
	struct kh_marks	 m;
	ssh_key		 plain = NULL;
	char		*why = NULL;
	int		 r = -1, v;

	memset(&m, 0, sizeof(m));
	sc_kh_scan(c, name, key, &m);
	if ((v = hostcert_check(key, h, &m, time(NULL), &why)) == 0) {
		tlog_debug(c, "host certificate for %s (%s) accepted", h, fp);
		r = 0;
		goto out;
	}
	/* A revocation stands; else the certified key may be known itself. */
	if (v != HOSTCERT_REVOKED &&
	    (plain = hostcert_plain_key(key)) != NULL) {
		kh_marks_clear(&m);
		sc_kh_scan(c, name, plain, &m);
		if (kh_marks_verdict(&m) == KH_KNOWN) {
			tlog_info(c, "host certificate for %s (%s) refused "
			    "(%s); its key is known itself: accepted", h, fp,
			    why);
			r = 0;
			goto out;
		}
	}
	sc_fail(c, SCF_AUTH, "host certificate for %s (%s) refused: %s", h, fp,
	    why);
out:
	ssh_key_free(plain);
	kh_marks_clear(&m);
	free(why);
	return r;
}

/* 0 to go on, -1 when the attempt has failed. */
static int
sc_check_host_key(struct sshconn *c)
{
	const struct tunnel_spec *sp = c->spec;
	const char		*h = c->alias != NULL ? c->alias : c->host;
	struct kh_marks		 m;
	ssh_key			 key = NULL;
	char			*fp, *name;
	int			 r = -1;

	memset(&m, 0, sizeof(m));
	fp = sc_fingerprint(c);
	name = sc_kh_name(c);
	if (ssh_get_server_publickey(c->s, &key) != SSH_OK) {
		sc_fail(c, SCF_AUTH, "host key for %s: cannot check: %s", h,
		    ssh_get_error(c->s));
		goto out;
	}
	if (hostcert_is_cert(key)) {
		r = sc_check_host_cert(c, h, name, key, fp);
		goto out;
	}
	sc_kh_scan(c, name, key, &m);
	switch (kh_marks_verdict(&m)) {
	case KH_REVOKED:
		/* Whatever StrictHostKeyChecking says, as ssh. */
		sc_fail(c, SCF_AUTH, "host key for %s (%s) is REVOKED (%s "
		    "marks it @revoked): refusing", h, fp, m.revoked);
		break;
	case KH_KNOWN:
		r = 0;
		break;
	case KH_CHANGED:
		sc_fail(c, SCF_AUTH, "host key for %s has CHANGED (server "
		    "offers %s, %s has another): possible attack, refusing",
		    h, fp, m.changed);
		break;
	case KH_OTHER:
		sc_fail(c, SCF_AUTH, "host key for %s does not match (server "
		    "offers %s, %s has a key of another type): refusing",
		    h, fp, c->known_hosts);
		break;
	case KH_UNKNOWN:
		if (sp->strict_host_key_checking == SHK_NO) {
			log_warn("host key for %s (%s) is not known; accepted "
			    "because StrictHostKeyChecking is no", h, fp);
			r = 0;
		} else if (sp->strict_host_key_checking == SHK_ACCEPT_NEW &&
		    m.cert_authority != NULL) {
			/* No trust on first use where a CA should vouch. */
			sc_fail(c, SCF_AUTH, "host key for %s (%s) is not known "
			    "and %s names a certificate authority for it: %s; "
			    "not learned (StrictHostKeyChecking accept-new "
			    "never trusts a host a CA should vouch for)", h, fp,
			    m.cert_authority, SC_NO_CERT);
		} else if (sp->strict_host_key_checking == SHK_ACCEPT_NEW)
			r = sc_learn_host_key(c, h, name, key, fp);
		else
			sc_fail(c, SCF_AUTH, "host key for %s is unknown "
			    "(server offers %s): add it to %s or set "
			    "StrictHostKeyChecking accept-new", h, fp,
			    c->known_hosts);
		break;
	}
out:
	ssh_key_free(key);
	kh_marks_clear(&m);
	free(name);
	free(fp);
	return r;
}

/* Append what to *list, after sep. */
static void
sc_note(char **list, const char *sep, const char *what)
{
	char	*s;

	if (*list == NULL)
		*list = xstrdup(what);
	else {
		xasprintf(&s, "%s%s%s", *list, sep, what);
		free(*list);
		*list = s;
	}
}

static int	sc_message_cb(ssh_session, ssh_message, void *);

static void
sc_ready(struct sshconn *c)
{
	ev_timer_stop(c->loop, &c->timer);
	ssh_set_counters(c->s, &c->sock, &c->raw);
	ssh_set_message_callback(c->s, sc_message_cb, c);
	c->ev = ssh_event_new();
	if (c->ev == NULL || ssh_event_add_session(c->ev, c->s) != SSH_OK) {
		sc_fail(c, SCF_SESSION, "cannot create ssh_event");
		return;
	}
	c->phase = SC_READY;
#ifdef HAVE_SSH_WINDOW_BATCH
	/* Window adjusts go out once a wake-up, from sc_leave. */
	ssh_session_set_window_batch(c->s, 1);
#endif
	sc_update_io(c);
	if (c != c->root) {
		sc_hop_ready(c);
		return;
	}
	ev_timer_stop(c->loop, &c->timer);
	c->cbs.ready(c->arg);
}

/*
 * Payload room left in the session socket's send buffer. libssh sends its
 * output with a blocking send(): a write larger than the room waits for
 * the peer (32 ms for 64 KiB on a 2 MB/s link) and stalls every tunnel.
 * So the pump never gives libssh more than fits. SO_SNDBUF is the memory
 * the kernel allows, SIOCOUTQ the payload queued and not yet acked (TCP)
 * or not yet read (the socketpair of a jump session); the kernel also
 * charges each buffer's bookkeeping, a few per cent of a full queue, so an
 * eighth of SO_SNDBUF is never counted as room. The kernel reports the
 * socket writable once a third of SO_SNDBUF is free, when the room here is
 * at least 5/24 of it, always more than ROOM_MIN: waiting on EV_WRITE for
 * room cannot spin. SO_SNDBUF is read once a loop turn: the pump asks
 * after every packet, and within a turn the kernel only grows it (TCP
 * autotuning), which leaves the answer on the safe side.
 */
static size_t
sock_room(int fd, int sndbuf)
{
	int		 outq = 0;
	socklen_t	 len = sizeof(sndbuf);

	if (sndbuf == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) == -1)
		return SIZE_MAX;
	if (ioctl(fd, SIOCOUTQ, &outq) == -1)
		return SIZE_MAX;
	if (sndbuf - sndbuf / 8 - outq <= 0)
		return 0;
	return (size_t)(sndbuf - sndbuf / 8 - outq);
}

size_t
sc_sock_room(struct sshconn *c)
{
	int		 fd;
	socklen_t	 len = sizeof(c->sndbuf);

	if (c->s == NULL || (fd = ssh_get_fd(c->s)) == -1)
		return 0;
	if (c->sndbuf == 0 || c->sndbuf_turn != ev_iteration(c->loop)) {
		if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &c->sndbuf,
		    &len) == -1)
			return SIZE_MAX;
		c->sndbuf_turn = ev_iteration(c->loop);
	}
	return sock_room(fd, c->sndbuf);
}

static void
sc_hop_channel_cb(void *arg, struct sshchan *ch,
    const struct sshchan_refusal *why)
{
	struct sshconn	*next = arg, *hop = next->outer;
	int		 sv[2], sz = 1024 * 1024;

	if (ch == NULL) {
		sc_fail(hop, SCF_NETWORK, "cannot reach %s:%d from there: %s",
		    next->host, next->port, why->msg);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		sc_fail(hop, SCF_SESSION, "socketpair: %s", strerror(errno));
		sshchan_close(ch);
		return;
	}
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	fd_nonblock(sv[0]);
	ch->carries = next;
	next->via = ch;
	sshchan_attach(ch, sv[0], NULL);
	/* The next session speaks over the other end, a blocking fd. */
	next->fd = sv[1];
	sc_start_ssh(next);
}

/* A jump host is authenticated: open the way to the next host. */
static void
sc_hop_ready(struct sshconn *c)
{
	struct sshconn	*next = c->next;

	if (sshconn_open(c, next->host, next->port, NULL, "127.0.0.1", 0,
	    sc_hop_channel_cb, next) == NULL)
		sc_fail(c, SCF_SESSION, "cannot open a channel to %s:%d",
		    next->host, next->port);
}

/* ---- the agent, asked off the loop ----------------------------------- */

/*
 * libssh asks an agent with blocking reads (it polls until the answer
 * comes), so a slow agent (a confirmation prompt, a hardware token) or a
 * hung one would hold up every tunnel. The agent's part of authentication
 * runs in a thread of its own instead, the session lent to it: until the
 * thread hands it back (through agent_async) the loop does not touch the
 * session, whose watcher stays stopped. A session freed meanwhile
 * (ConnectTimeout, stop) shuts the agent's and the server's sockets down,
 * which ends the thread's waits; the session is freed once it is back.
 * Before authentication, libssh calls nothing of ours back.
 */
struct agent_job {
	struct sshconn		*c;		/* NULL once abandoned */
	ssh_session		 s;
	int			 agent_fd;
	int			 result;
	char			*error;		/* libssh's, if it failed */
	pthread_t		 th;
	TAILQ_ENTRY(agent_job)	 entry;
};

static pthread_mutex_t		 agent_lock = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, agent_job)	 agent_done =
    TAILQ_HEAD_INITIALIZER(agent_done);
static ev_async			 agent_async;
static struct ev_loop		*agent_loop;

static void *
agent_thread(void *arg)
{
	struct agent_job	*j = arg;

	ssh_set_blocking(j->s, 1);
	j->result = ssh_userauth_agent(j->s, NULL);
	if (j->result == SSH_AUTH_ERROR)
		j->error = strdup(ssh_get_error(j->s));
	ssh_set_blocking(j->s, 0);
	pthread_mutex_lock(&agent_lock);
	TAILQ_INSERT_TAIL(&agent_done, j, entry);
	pthread_mutex_unlock(&agent_lock);
	ev_async_send(agent_loop, &agent_async);
	return NULL;
}

static void
agent_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct agent_job	*j;
	struct sshconn		*c;

	for (;;) {
		pthread_mutex_lock(&agent_lock);
		if ((j = TAILQ_FIRST(&agent_done)) != NULL)
			TAILQ_REMOVE(&agent_done, j, entry);
		pthread_mutex_unlock(&agent_lock);
		if (j == NULL)
			break;
		pthread_join(j->th, NULL);
		if ((c = j->c) == NULL) {
			ssh_free(j->s);		/* and its sockets */
			free(j->error);
			free(j);
			continue;
		}
		c->agent_job = NULL;
		c->agent_result = j->result;
		c->agent_error = j->error;
		c->agent_answered = 1;
		free(j);
		sc_enter(c);
		sc_step(c);
		sc_leave(c);
	}
}

/*
 * Lend the session to a thread that asks the agent, over a socket we
 * connected (so that we can end its waits). 0, or -1 with *why set.
 */
static int
sc_agent_start(struct sshconn *c, char **why)
{
	const char		*path = c->spec->identity_agent;
	struct sockaddr_un	 sun;
	struct agent_job	*j;
	int			 fd, fl, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		xasprintf(why, "%s: %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun,
	    sizeof(sun)) != 0) {
		/* A local socket answers at once, or not at all. */
		xasprintf(why, "cannot connect to %s: %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	if (ssh_set_agent_socket(c->s, fd) != SSH_OK) {
		xasprintf(why, "%s: %s", path, ssh_get_error(c->s));
		close(fd);
		return -1;
	}
	if (agent_loop == NULL) {
		agent_loop = c->loop;
		ev_async_init(&agent_async, agent_async_cb);
		ev_async_start(c->loop, &agent_async);
		ev_unref(c->loop);	/* it keeps nothing alive */
	}
	j = xcalloc(1, sizeof(*j));
	j->c = c;
	j->s = c->s;
	j->agent_fd = fd;	/* libssh's now: closed with the session */
	ev_io_stop(c->loop, &c->io);
	if ((r = pthread_create(&j->th, NULL, agent_thread, j)) != 0) {
		xasprintf(why, "cannot start a thread: %s", strerror(r));
		free(j);
		return -1;
	}
	c->agent_job = j;
	return 0;
}

/* The session goes while the agent's thread has it: see above. */
static void
sc_agent_abandon(struct sshconn *c)
{
	struct agent_job	*j = c->agent_job;

	j->c = NULL;
	shutdown(j->agent_fd, SHUT_RDWR);
	shutdown(c->fd, SHUT_RDWR);
	c->agent_job = NULL;
	c->s = NULL;		/* the thread's, then agent_async_cb's */
	c->fd = -1;		/* libssh's */
}

/* The password is forgotten as soon as it is not needed. */
static void
sc_password_wipe(struct sshconn *c)
{
	if (c->password == NULL)
		return;
	explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	c->password = NULL;
}

/* A password method's answer: 1 wait, 0 done (ready or failed), -1 no. */
static int
sc_password_answer(struct sshconn *c, int r)
{
	if (r == SSH_AUTH_AGAIN)
		return 1;
	if (r == SSH_AUTH_SUCCESS) {
		sc_password_wipe(c);
		sc_ready(c);
		return 0;
	}
	if (r == SSH_AUTH_ERROR) {
		sc_password_wipe(c);
		sc_fail(c, SCF_SESSION, "authentication error: %s",
		    ssh_get_error(c->s));
		return 0;
	}
	return -1;
}

/*
 * PasswordFile: after the keys, what ssh would type, in ssh's order:
 * keyboard-interactive (each prompt that does not echo gets the password,
 * the others nothing), then password. 1: wait for I/O; 0: done (ready, or
 * failed); -1: refused, nothing more to try.
 */
static int
sc_auth_password(struct sshconn *c)
{
	struct stat	 sb;
	const char	*prompt;
	char		*why = NULL, echo;
	int		 r, i, n, methods, done;

	/* With no key tried, the server has not said what it takes. */
	if (!c->none_tried && c->auth_tried == NULL) {
		r = ssh_userauth_none(c->s, NULL);
		if (r == SSH_AUTH_AGAIN)
			return 1;
		c->none_tried = 1;
		if (r == SSH_AUTH_SUCCESS) {
			sc_ready(c);
			return 0;
		}
	}
	if (c->password == NULL && c->pw_step == PW_START) {
		if ((c->password = secret_read(c->spec->password_file,
		    "password file", &sb, &why)) == NULL) {
			sc_note(&c->auth_skipped, "; ", why);
			free(why);
			c->pw_step = PW_DONE;
			return -1;
		}
		methods = ssh_userauth_list(c->s, NULL);
		c->pw_step = (methods & SSH_AUTH_METHOD_INTERACTIVE) ?
		    PW_KBDINT : (methods & SSH_AUTH_METHOD_PASSWORD) ?
		    PW_PASSWORD : PW_DONE;
		if (c->pw_step == PW_DONE)
			sc_note(&c->auth_skipped, "; ", "the server takes no "
			    "password (neither keyboard-interactive nor "
			    "password)");
	}
	while (c->pw_step == PW_KBDINT) {
		r = ssh_userauth_kbdint(c->s, NULL, NULL);
		if (r == SSH_AUTH_AGAIN)
			return 1;
		if (r == SSH_AUTH_INFO) {
			n = ssh_userauth_kbdint_getnprompts(c->s);
			for (i = 0; i < n; i++) {
				prompt = ssh_userauth_kbdint_getprompt(c->s, i,
				    &echo);
				if (prompt == NULL || ssh_userauth_kbdint_setanswer(
				    c->s, i, echo ? "" : c->password) < 0)
					break;
			}
			continue;
		}
		if ((done = sc_password_answer(c, r)) >= 0)
			return done;
		sc_note(&c->auth_tried, ", ", "keyboard-interactive");
		methods = ssh_userauth_list(c->s, NULL);
		c->pw_step = (methods & SSH_AUTH_METHOD_PASSWORD) ?
		    PW_PASSWORD : PW_DONE;
	}
	if (c->pw_step == PW_PASSWORD) {
		r = ssh_userauth_password(c->s, NULL, c->password);
		if ((done = sc_password_answer(c, r)) >= 0)
			return done;
		sc_note(&c->auth_tried, ", ", "password");
		c->pw_step = PW_DONE;
	}
	sc_password_wipe(c);
	return -1;
}

/* Try the next authentication method; 1 = wait for I/O. */
static int
sc_auth(struct sshconn *c)
{
	const struct tunnel_spec *sp = c->spec;
	struct cached_key	*k;
	ssh_key			 key;
	const char		*base, *cpath;
	char			*why = NULL, *what;
	int			 r;

	/* As OpenSSH: the agent's keys first, unless IdentitiesOnly. */
	if (!c->tried_agent && !sp->identities_only &&
	    sp->identity_agent != NULL &&
	    strcmp(sp->identity_agent, "none") != 0) {
		if (c->agent_job != NULL)
			return 1;	/* still asking: the thread has it */
		if (!c->agent_answered && sc_agent_start(c, &why) == 0)
			return 1;
		c->tried_agent = 1;
		if (c->agent_answered && c->agent_result == SSH_AUTH_SUCCESS) {
			sc_ready(c);
			return 0;
		}
		if (c->agent_answered)
			why = c->agent_error != NULL ?
			    xstrdup(c->agent_error) : NULL;
		if (why != NULL) {
			xasprintf(&what, "agent (%s)", why);
			sc_note(&c->auth_tried, ", ", what);
			free(what);
			free(why);
		} else
			sc_note(&c->auth_tried, ", ", "agent");
	}
	while (c->key_idx < c->nids) {
		k = key_get(c->ids[c->key_idx], sp->identity_passphrase_file);
		if (k->key == NULL) {
			/* Not a key we may use: last_error says why. */
			tlog_warn(c, "%s", k->error);
			sc_note(&c->auth_skipped, "; ", k->error);
			c->key_idx++;
			continue;
		}
		/* As ssh: the key's certificate first, then the key. */
		if (!c->cert_tried) {
			key = key_certified(sp, k, &cpath, &c->auth_skipped);
			if (key != NULL) {
				r = ssh_userauth_publickey(c->s, NULL, key);
				if (r == SSH_AUTH_AGAIN)
					return 1;
				if (r == SSH_AUTH_SUCCESS) {
					sc_ready(c);
					return 0;
				}
				base = strrchr(cpath, '/');
				sc_note(&c->auth_tried, ", ",
				    base != NULL ? base + 1 : cpath);
			}
			c->cert_tried = 1;
		}
		r = ssh_userauth_publickey(c->s, NULL, k->key);
		if (r == SSH_AUTH_AGAIN)
			return 1;
		if (r == SSH_AUTH_SUCCESS) {
			sc_ready(c);
			return 0;
		}
		if (r == SSH_AUTH_ERROR) {
			sc_fail(c, SCF_SESSION, "authentication error: %s",
			    ssh_get_error(c->s));
			return 0;
		}
		base = strrchr(k->path, '/');
		sc_note(&c->auth_tried, ", ",
		    base != NULL ? base + 1 : k->path);
		c->key_idx++;
		c->cert_tried = 0;
	}
	if (sp->password_file != NULL && (r = sc_auth_password(c)) >= 0)
		return r;
	if (c->auth_tried == NULL && c->auth_skipped != NULL)
		sc_fail(c, SCF_AUTH, "no identity to offer for user %s: %s",
		    c->user, c->auth_skipped);
	else
		sc_fail(c, SCF_AUTH, "authentication failed for user %s: no "
		    "%s was accepted (tried: %s)%s%s", c->user,
		    c->pw_step != PW_START ? "key or password" : "key",
		    c->auth_tried != NULL ? c->auth_tried : "no identities",
		    c->auth_skipped != NULL ? "; " : "",
		    c->auth_skipped != NULL ? c->auth_skipped : "");
	return 0;
}

/* Drive connect and auth as far as they go without blocking. */
static void
sc_step(struct sshconn *c)
{
	int	 r;

	if (c->phase == SC_KEX) {
		c->fd_given = 1;
		r = ssh_connect(c->s);
		if (r == SSH_AGAIN) {
			sc_update_io(c);
			return;
		}
		if (r != SSH_OK && c->proxy != NULL) {
			sc_proxy_fail(c, ssh_get_error(c->s));
			return;
		}
		if (r != SSH_OK) {
			/* The peer closed or spoke garbage: not reachable. */
			sc_fail(c, SCF_NETWORK, "SSH handshake with %s port %d "
			    "failed: %s", c->host, c->port,
			    ssh_get_error(c->s));
			return;
		}
		if (sc_check_host_key(c) != 0)
			return;
		sc_set_phase(c, SC_AUTH);
	}
	if (c->phase == SC_AUTH) {
		if (sc_auth(c))
			sc_update_io(c);
	}
}

void
sc_update_io(struct sshconn *c)
{
	int	 fd, events;

	if (c->s == NULL || c->root->zombie || c->phase == SC_DEAD ||
	    c->agent_job != NULL)
		return;
	fd = ssh_get_fd(c->s);
	if (fd == -1) {
		/*
		 * libssh closed it (error or DISCONNECT): stop at once. The
		 * caller may be a pump inside a libssh call (a reset seen by
		 * a write): the session is declared lost next turn, from
		 * sc_kick_cb, where nothing of ours is on the stack.
		 */
		ev_io_stop(c->loop, &c->io);
		if (c->fd_given)
			sc_kick(c);
		return;
	}
	/*
	 * libssh asks for POLLOUT after every send() just to learn that the
	 * socket is writable again, even with nothing left to send: once up,
	 * only output it really holds (or a pump short of room) is worth a
	 * wake-up, and the pump tells libssh itself when it may send.
	 */
	events = EV_READ;
	if ((ssh_get_status(c->s) & SSH_WRITE_PENDING) || c->want_room ||
	    (c->phase != SC_READY &&
	    (ssh_get_poll_flags(c->s) & SSH_WRITE_PENDING)))
		events |= EV_WRITE;
	if (ev_is_active(&c->io) && c->io.fd == fd) {
		if ((c->io.events & (EV_READ | EV_WRITE)) == events)
			return;
		/*
		 * Same fd: ev_io_modify, not ev_io_set, so that libev leaves
		 * epoll alone when the mask flips back within one turn (with
		 * ev_io_set it tries an EPOLL_CTL_ADD that fails each time).
		 */
		ev_io_stop(c->loop, &c->io);
		ev_io_modify(&c->io, events);
		ev_io_start(c->loop, &c->io);
		return;
	}
	ev_io_stop(c->loop, &c->io);
	ev_io_set(&c->io, fd, events);
	ev_io_start(c->loop, &c->io);
}

static int
sc_session_lost(struct sshconn *c)
{
	const char	*msg;
	int		 st;

	if (ssh_get_fd(c->s) != -1) {
		st = ssh_get_status(c->s);
		if ((st & (SSH_CLOSED | SSH_CLOSED_ERROR)) == 0)
			return 0;
	}
	msg = ssh_get_disconnect_message(c->s);
	if (msg == NULL)
		msg = ssh_get_error(c->s);
	sc_fail(c, SCF_SESSION, "connection lost: %s",
	    msg != NULL && *msg != '\0' ? msg : "closed by the server");
	return 1;
}

/* libssh closed the session's socket (an error, or the peer's DISCONNECT). */
static int
sc_socket_closed(struct sshconn *c)
{
	if (c->s == NULL || !c->fd_given || c->root->zombie)
		return 0;
	if (c->phase != SC_KEX && c->phase != SC_AUTH && c->phase != SC_READY)
		return 0;
	return ssh_get_fd(c->s) == -1;
}

/*
 * Whichever path saw it (a read, a write inside a pump, a flush), a closed
 * socket ends the session at once: nothing else would until the keepalives
 * give up, and meanwhile every new client would be accepted and dropped.
 */
static void
sc_closed_fail(struct sshconn *c)
{
	const char	*err = ssh_get_error(c->s);

	if (err == NULL || *err == '\0')
		err = "closed";
	if (c->phase == SC_READY)
		sc_session_lost(c);
	else if (c->proxy != NULL)
		sc_proxy_fail(c, err);
	else
		sc_fail(c, SCF_NETWORK, "connection to %s port %d lost during "
		    "the %s: %s", c->host, c->port, c->phase == SC_KEX ?
		    "handshake" : "authentication", err);
}

/*
 * One round: with nothing of libssh's to write, a read of the session
 * socket without a poll() first (the loop has just said it is readable;
 * recv-read-nowait.patch), else a poll, which writes too.
 */
static int
sc_poll_round(struct sshconn *c)
{
#ifdef HAVE_SSH_READ_NOWAIT
	if (!(ssh_get_status(c->s) & SSH_WRITE_PENDING)) {
		switch (ssh_session_read_nowait(c->s)) {
		case 1:
			return SSH_OK;
		case 0:
			return SSH_AGAIN;
		case -1:
			return SSH_ERROR;
		default:
			break;		/* not here: poll */
		}
	}
#endif
	return ssh_event_dopoll(c->ev, 0);
}

/*
 * Let libssh read what arrived (a bounded loop of rounds, each a read of up
 * to 256 KiB with the bundled libssh, 4 KiB after a poll with the system's;
 * see doc/design.md, "The receive path"), then run what waited for an
 * answer. -1 if the session is gone or failed.
 */
static int
sc_poll(struct sshconn *c)
{
	uint64_t start;
	int	 i, r = SSH_OK;

	start = c->sock.in_bytes;
	/*
	 * Channel data of all the rounds is collected and written once per
	 * socket after them (chan_flush_all): going on while the socket has
	 * more costs a poll() a round, and saves write()s and wake-ups.
	 */
	c->polling = 1;
	for (i = 0; i < DOPOLL_ROUNDS; i++) {
		r = sc_poll_round(c);
		if (r != SSH_OK || c->root->zombie || c->phase != SC_READY)
			break;
		if (ssh_get_fd(c->s) == -1 ||
		    c->sock.in_bytes - start >= DOPOLL_BYTES)
			break;
	}
	c->polling = 0;
	sc_received += c->sock.in_bytes - start;
	/* Even if the session is lost: what it delivered goes out. */
	chan_flush_all(c);
	if (c->root->zombie || c->phase != SC_READY)
		return -1;
	if (r == SSH_ERROR || sc_session_lost(c)) {
		if (c->phase == SC_READY)
			sc_fail(c, SCF_SESSION, "connection lost: %s",
			    ssh_get_error(c->s));
		return -1;
	}
	/* Opens first: each reads its own failure from ssh_get_error. */
	c->in_seen = c->raw.in_packets;
	sc_run_opens(c);
	sc_run_greqs(c);
	return 0;
}

static void
sc_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sshconn	*c = w->data;

	sc_enter(c);
	switch (c->phase) {
	case SC_FDPASS:
		sc_fdpass_read(c);
		break;
	case SC_KEX:
	case SC_AUTH:
		sc_step(c);
		break;
	case SC_READY:
		/*
		 * Woken only for send room (a pump waits, libssh holds
		 * nothing), libssh's poll would find nothing to do.
		 */
		if ((revents != EV_WRITE ||
		    (ssh_get_status(c->s) & SSH_WRITE_PENDING)) &&
		    sc_poll(c) == -1)
			break;
		c->want_room = 0;	/* set again by a pump still short */
		chan_pump_all(c);
		sc_update_io(c);
		break;
	default:
		break;
	}
	sc_leave(c);
}

/* ---- global requests ------------------------------------------------- */

static void
sc_greq_add(struct sshconn *c, enum greq_kind kind, const char *addr,
    int port, sshconn_req_cb cb, void *arg)
{
	struct greq	*q;

	q = xcalloc(1, sizeof(*q));
	q->kind = kind;
	q->addr = addr != NULL ? xstrdup(addr) : NULL;
	q->port = port;
	q->cb = cb;
	q->arg = arg;
	q->sent = now_mono();	/* the wait for the send counts too */
	TAILQ_INSERT_TAIL(&c->greqs, q, entry);
	if (c->phase == SC_READY)
		sc_kick(c);
}

void
sshconn_listen(struct sshconn *c, const char *addr, int port,
    sshconn_req_cb cb, void *arg)
{
	sc_greq_add(c, GR_LISTEN, addr, port, cb, arg);
}

void
sshconn_cancel(struct sshconn *c, const char *addr, int port,
    sshconn_req_cb cb, void *arg)
{
	sc_greq_add(c, GR_CANCEL, addr, port, cb, arg);
}

void
sshconn_listen_unix(struct sshconn *c, const char *path, sshconn_req_cb cb,
    void *arg)
{
	sc_greq_add(c, GR_LISTEN_UNIX, path, -1, cb, arg);
}

void
sshconn_cancel_unix(struct sshconn *c, const char *path, sshconn_req_cb cb,
    void *arg)
{
	sc_greq_add(c, GR_CANCEL_UNIX, path, -1, cb, arg);
}

void
sshconn_keepalive(struct sshconn *c, sshconn_req_cb cb, void *arg)
{
	sc_greq_add(c, GR_KEEPALIVE, NULL, 0, cb, arg);
}

int
sshconn_keepalive_pending(struct sshconn *c)
{
	struct greq	*q;

	TAILQ_FOREACH(q, &c->greqs, entry) {
		if (q->kind == GR_KEEPALIVE)
			return 1;
	}
	return 0;
}

void
sshconn_forget(struct sshconn *c, void *arg)
{
	struct greq	*q;
	struct sshchan	*sc;

	if (c == NULL)
		return;
	TAILQ_FOREACH(q, &c->greqs, entry) {
		if (q->arg == arg)
			q->cb = NULL;
	}
	TAILQ_FOREACH(sc, &c->chans, entry) {
		if (sc->open_arg == arg)
			sc->open_cb = NULL;
		if (sc->data_arg == arg)
			sc->data_hook = NULL;
	}
}

void
sshconn_close_counted(struct sshconn *c, struct pump_counters *ctr)
{
	struct sshchan	*sc;

	if (c == NULL)
		return;
	TAILQ_FOREACH(sc, &c->chans, entry) {
		if (sc->ctr != ctr)
			continue;
		sshchan_close(sc);
		if (ctr->active > 0)
			ctr->active--;
		sc->ctr = NULL;	/* reaped later, when ctr may be gone */
	}
}

/*
 * What a finished global request means for its owner. A port-0 listen that
 * failed on a live session was taken by the server, but libssh lost the
 * port of its reply: libssh 0.10 and 0.11 read it from the last packet
 * decoded, which may be another (the bundled libssh's
 * global-request-reply-port patch keeps the reply's own; doc/design.md).
 */
static int
sc_greq_result(struct sshconn *c, struct greq *q, int r)
{
	if (r == SSH_OK)
		return 0;
#ifndef HAVE_SSH_STREAMLOCAL
	/* Never sent: libssh has no streamlocal-forward (configure). */
	if (q->kind == GR_LISTEN_UNIX || q->kind == GR_CANCEL_UNIX)
		return -1;
#endif
	/*
	 * libssh keeps the last error: a refused keepalive's lingers. A
	 * refusal of this request names it ("Global request NAME failed").
	 */
	if (ssh_get_error_code(c->s) == SSH_REQUEST_DENIED &&
	    (q->kind == GR_KEEPALIVE ||
	    strstr(ssh_get_error(c->s), greq_names[q->kind]) != NULL))
		return -1;
	if (q->kind == GR_LISTEN && q->port == 0 && !sc_socket_closed(c) &&
	    (ssh_get_status(c->s) & (SSH_CLOSED | SSH_CLOSED_ERROR)) == 0)
		return -3;
	return -2;
}

static void
sc_run_greqs(struct sshconn *c)
{
	struct greq	*q;
	int		 r, bound, result;
	double		 rtt;

	while (c->phase == SC_READY && !c->root->zombie &&
	    (q = TAILQ_FIRST(&c->greqs)) != NULL) {
		bound = q->port;
		switch (q->kind) {
		case GR_LISTEN:
			r = ssh_channel_listen_forward(c->s, q->addr, q->port,
			    &bound);
			break;
		case GR_CANCEL:
			r = ssh_channel_cancel_forward(c->s, q->addr, q->port);
			break;
#ifdef HAVE_SSH_STREAMLOCAL
		case GR_LISTEN_UNIX:
			r = ssh_channel_listen_forward_unix(c->s, q->addr);
			break;
		case GR_CANCEL_UNIX:
			r = ssh_channel_cancel_forward_unix(c->s, q->addr);
			break;
#else
		case GR_LISTEN_UNIX:
		case GR_CANCEL_UNIX:
			r = SSH_ERROR;	/* refused below, never sent */
			break;
#endif
		case GR_KEEPALIVE:
		default:
			if (!q->started) {
				/* Sends keepalive@openssh.com, want_reply. */
				ssh_send_keepalive(c->s);
				r = SSH_AGAIN;
			} else {
				/*
				 * A request is pending: this call only
				 * collects its reply (see the top of file).
				 */
				r = ssh_channel_cancel_forward(c->s, NULL, 0);
			}
			break;
		}
		q->started = 1;
		if (r == SSH_AGAIN)
			return;
		TAILQ_REMOVE(&c->greqs, q, entry);
		result = sc_greq_result(c, q, r);
		/* A keepalive refused is still an answer. */
		if (q->kind == GR_KEEPALIVE && result == -1)
			result = 0;
		rtt = (now_mono() - q->sent) * 1000.0;
		if (q->cb != NULL)
			q->cb(q->arg, result, bound, rtt);
		free(q->addr);
		free(q);
	}
}

/* ---- channels -------------------------------------------------------- */

struct sshchan *
sshconn_open(struct sshconn *c, const char *host, int port, const char *path,
    const char *orig_host, int orig_port, sshchan_open_cb cb, void *arg)
{
	struct sshchan	*sc;
	ssh_channel	 ch;

	if (c->phase != SC_READY || (ch = ssh_channel_new(c->s)) == NULL)
		return NULL;
	sc = chan_new(c, ch);
	sc->state = CH_OPENING;
	sc->host = host != NULL ? xstrdup(host) : NULL;
	sc->port = port;
	sc->path = path != NULL ? xstrdup(path) : NULL;
	sc->orig_host = xstrdup(orig_host != NULL ? orig_host : "127.0.0.1");
	sc->orig_port = orig_port;
	sc->open_cb = cb;
	sc->open_arg = arg;
	/* Never call back from inside the call that asked: next turn. */
	sc_kick(c);
	return sc;
}

/*
 * Deferred work for the next loop turn, also when asked from a prepare
 * callback (another session's kick, a keepalive round): see soon.h.
 */
void
sc_kick(struct sshconn *c)
{
	soon_start(c->loop, &c->kick);
}

static void
sc_kick_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct sshconn	*c = w->data;

	soon_stop(loop, &c->kick);
	if (c->agent_job != NULL)
		return;		/* the session is lent out */
	if (c->phase == SC_PROXY) {
		sc_enter(c);
		sc_proxy_start(c);
		sc_leave(c);
		return;
	}
	if (sc_socket_closed(c)) {
		sc_enter(c);
		sc_closed_fail(c);
		sc_leave(c);
		return;
	}
	if (c->phase != SC_READY) {
		sc_reap(c);
		return;
	}
	sc_enter(c);
	c->in_seen = c->raw.in_packets;
	sc_run_opens(c);
	sc_run_greqs(c);
	chan_pump_all(c);
	sc_update_io(c);
	sc_leave(c);
}

/*
 * libssh 0.10 has no call for the reason of a refused channel open: it
 * writes "Channel opening failure: channel N error (R) DESC" as the session
 * error, R the RFC 4254 reason and DESC the server's text. Read here, and
 * nowhere else.
 */
static void
chan_refusal(const char *msg, struct sshchan_refusal *why)
{
	const char	*p, *end;

	why->reason = 0;
	why->desc = "";
	why->msg = msg;
	if ((p = strstr(msg, "error (")) == NULL)
		return;
	why->reason = atoi(p + 7);
	if ((end = strchr(p, ')')) != NULL) {
		end++;
		why->desc = end + strspn(end, " ");
	}
}

static void
sc_run_opens(struct sshconn *c)
{
	struct sshchan	*sc;
	char		*err;
	int		 r;
	struct sshchan_refusal	 why;

	TAILQ_FOREACH(sc, &c->chans, entry) {
		if (sc->state != CH_OPENING || c->phase != SC_READY)
			continue;
		if (sc->path != NULL)
			r = ssh_channel_open_forward_unix(sc->ch, sc->path,
			    sc->orig_host, sc->orig_port);
		else
			r = ssh_channel_open_forward(sc->ch, sc->host, sc->port,
			    sc->orig_host, sc->orig_port);
		if (r == SSH_AGAIN)
			continue;
		if (sc->state == CH_DONE)
			continue;	/* closed meanwhile */
		if (r == SSH_OK) {
			sc->state = CH_OPEN;
			if (sc->open_cb != NULL)
				sc->open_cb(sc->open_arg, sc, NULL);
			else
				sshchan_close(sc);
			continue;
		}
		sc->state = CH_DONE;
		err = xstrdup(ssh_get_error(c->s));
		if (sc->open_cb != NULL) {
			chan_refusal(err, &why);
			sc->open_cb(sc->open_arg, NULL, &why);
		}
		free(err);
	}
}

static int
sc_message_cb(ssh_session s, ssh_message msg, void *arg)
{
	struct sshconn		*c = arg;
	struct sshconn_fwdmsg	 m;
	const char		*addr;
	int			 port;

	if (ssh_message_type(msg) != SSH_REQUEST_CHANNEL_OPEN ||
	    c->root->zombie || c->phase != SC_READY ||
	    c->cbs.forwarded == NULL)
		return 1;	/* the default reply: refused */
	switch (ssh_message_subtype(msg)) {
	case SSH_CHANNEL_FORWARDED_TCPIP:
		port = ssh_message_channel_request_open_destination_port(msg);
		break;
#ifdef HAVE_SSH_STREAMLOCAL
	case SSH_CHANNEL_FORWARDED_STREAMLOCAL:
		port = -1;	/* the destination is the socket path */
		break;
#endif
	default:
		return 1;
	}
	addr = ssh_message_channel_request_open_destination(msg);
	memset(&m, 0, sizeof(m));
	m.c = c;
	m.msg = msg;
	c->cbs.forwarded(c->arg, addr != NULL ? addr : "", port, &m);
	return m.accepted != NULL ? 0 : 1;
}

struct sshchan *
sshconn_accept(struct sshconn_fwdmsg *m)
{
	ssh_channel	 ch;
	struct sshchan	*sc;

	if (m->accepted != NULL)
		return m->accepted;
	if ((ch = ssh_message_channel_request_open_reply_accept(m->msg)) ==
	    NULL)
		return NULL;
	sc = chan_new(m->c, ch);
	sc->state = CH_OPEN;
	m->accepted = sc;
	return sc;
}

/* Free closed channels: only when no libssh call is on the stack. */
static void
sc_reap(struct sshconn *c)
{
	struct sshchan	*sc, *next;

	TAILQ_FOREACH_SAFE(sc, &c->chans, entry, next) {
		if (sc->state == CH_DONE)
			chan_free(sc);
	}
	sc_update_io(c);
}

