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
 * cfg.c: the configuration parser (tunsupd.conf(5)).
 *
 * One parser for the configuration file, its Includes and the control "add"
 * command. The shape follows OpenSSH's readconf.c: a keyword table, fields
 * that start unset, the first value wins, then a fill step gives every field
 * its effective value, and the result can be dumped as "keyword value" lines
 * (tunsupd -T, like ssh -G).
 *
 * While parsing, three "explicitly none" values must stay distinguishable
 * from "unset" so that a tunnel block can override a top-level default with
 * none: ProxyJump none is a non-NULL jumps array with njumps 0, SshConfig
 * none and HostKeyAlias none are the string "none". The fill step turns them
 * into NULL. cfg->defaults keeps the parsed (unfilled) form.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "metrics_http.h"
#include "sshconfig.h"
#include "sshkw.h"
#include "util.h"

#define CFG_MAX_ERRORS		100
#define CFG_MAX_DEPTH		16
#define CFG_MAX_FILE		(16 * 1024 * 1024)
#define CFG_MAX_JUMPS		16
#define CFG_MAX_FALLBACKS	16

#define DEF_CONNECT_TIMEOUT	(30 * 1000L)
#define DEF_ALIVE_INTERVAL	(15 * 1000L)
#define DEF_ALIVE_COUNT		3
#define DEF_RETRY_MIN		(1 * 1000L)
#define DEF_RETRY_MAX		(60 * 1000L)
#define DEF_RETRY_NET_MAX	(5 * 1000L)
#define DEF_RSA_MIN		1024
#define MAX_RSA_MIN		16384
#define DEF_EVENT_TIMEOUT	(10 * 1000L)

enum opcode {
	oTunnel,
	oInclude,
	oControlGroup,
	oEnabled,
	oHostName,
	oPort,
	oUser,
	oIdentityFile,
	oCertificateFile,
	oIdentityPassphraseFile,
	oPasswordFile,
	oIdentitiesOnly,
	oIdentityAgent,
	oUserKnownHostsFile,
	oStrictHostKeyChecking,
	oHostKeyAlias,
	oProxyJump,
	oFallbackHost,
	oConnectTimeout,
	oServerAliveInterval,
	oServerAliveCountMax,
	oLocalForward,
	oRemoteForward,
	oDynamicForward,
	oExitOnForwardFailure,
	oGatewayPorts,
	oStreamLocalBindUnlink,
	oCiphers,
	oCompression,
	oRetryMin,
	oRetryMax,
	oRetryNetworkMax,
	oForwardProbe,
	oSshConfig,
	oProxyCommand,
	oStateFile,
	oMetricsListen,
	oIgnoreUnknown,
	oKexAlgorithms,
	oHostKeyAlgorithms,
	oPubkeyAcceptedAlgorithms,
	oMACs,
	oRekeyLimit,
	oTCPKeepAlive,
	oProxyUseFdpass,
	oBindAddress,
	oBindInterface,
	oAddressFamily,
	oHashKnownHosts,
	oRequiredRSASize,
	oEventCommand,
	oEventCommandTimeout,
	oLocalCommand,
	oPermitLocalCommand,
	oForwardProbeInterval,
};

#define K_TOP	0x1	/* top level only, never in a tunnel block */

static const struct keyword {
	const char	*name;
	enum opcode	 op;
	int		 minargs;
	int		 maxargs;
	int		 flags;
} keywords[] = {
	{ "Tunnel",			oTunnel,		1, 1, 0 },
	{ "Include",			oInclude,		1, CFG_MAX_ARGS, K_TOP },
	{ "ControlGroup",		oControlGroup,		1, 1, K_TOP },
	{ "Enabled",			oEnabled,		1, 1, 0 },
	{ "HostName",			oHostName,		1, 1, 0 },
	{ "Port",			oPort,			1, 1, 0 },
	{ "User",			oUser,			1, 1, 0 },
	{ "IdentityFile",		oIdentityFile,		1, 1, 0 },
	{ "CertificateFile",		oCertificateFile,	1, 1, 0 },
	{ "IdentityPassphraseFile",	oIdentityPassphraseFile, 1, 1, 0 },
	{ "PasswordFile",		oPasswordFile,		1, 1, 0 },
	{ "IdentitiesOnly",		oIdentitiesOnly,	1, 1, 0 },
	{ "IdentityAgent",		oIdentityAgent,		1, 1, 0 },
	{ "UserKnownHostsFile",		oUserKnownHostsFile,	1, 1, 0 },
	{ "StrictHostKeyChecking",	oStrictHostKeyChecking,	1, 1, 0 },
	{ "HostKeyAlias",		oHostKeyAlias,		1, 1, 0 },
	{ "ProxyJump",			oProxyJump,		1, 1, 0 },
	{ "FallbackHost",		oFallbackHost,		1, 1, 0 },
	{ "ConnectTimeout",		oConnectTimeout,	1, 1, 0 },
	{ "ServerAliveInterval",	oServerAliveInterval,	1, 1, 0 },
	{ "ServerAliveCountMax",	oServerAliveCountMax,	1, 1, 0 },
	{ "LocalForward",		oLocalForward,		1, 2, 0 },
	{ "RemoteForward",		oRemoteForward,		1, 2, 0 },
	{ "DynamicForward",		oDynamicForward,	1, 1, 0 },
	{ "ExitOnForwardFailure",	oExitOnForwardFailure,	1, 1, 0 },
	{ "GatewayPorts",		oGatewayPorts,		1, 1, 0 },
	{ "StreamLocalBindUnlink",	oStreamLocalBindUnlink,	1, 1, 0 },
	{ "Ciphers",			oCiphers,		1, 1, 0 },
	{ "Compression",		oCompression,		1, 1, 0 },
	{ "RetryMin",			oRetryMin,		1, 1, 0 },
	{ "RetryMax",			oRetryMax,		1, 1, 0 },
	{ "RetryNetworkMax",		oRetryNetworkMax,	1, 1, 0 },
	{ "ForwardProbe",		oForwardProbe,		1, 1, 0 },
	{ "SshConfig",			oSshConfig,		1, 1, 0 },
	/* The rest of its line, as it stands: see parse_line(). */
	{ "ProxyCommand",		oProxyCommand,		1, CFG_MAX_ARGS, 0 },
	{ "StateFile",			oStateFile,		1, 1, K_TOP },
	{ "MetricsListen",		oMetricsListen,		1, 1, K_TOP },
	{ "IgnoreUnknown",		oIgnoreUnknown,		1, 1, 0 },
	{ "KexAlgorithms",		oKexAlgorithms,		1, 1, 0 },
	{ "HostKeyAlgorithms",		oHostKeyAlgorithms,	1, 1, 0 },
	{ "PubkeyAcceptedAlgorithms",	oPubkeyAcceptedAlgorithms, 1, 1, 0 },
	{ "PubkeyAcceptedKeyTypes",	oPubkeyAcceptedAlgorithms, 1, 1, 0 },
	{ "MACs",			oMACs,			1, 1, 0 },
	{ "RekeyLimit",			oRekeyLimit,		1, 2, 0 },
	{ "TCPKeepAlive",		oTCPKeepAlive,		1, 1, 0 },
	{ "ProxyUseFdpass",		oProxyUseFdpass,	1, 1, 0 },
	{ "BindAddress",		oBindAddress,		1, 1, 0 },
	{ "BindInterface",		oBindInterface,		1, 1, 0 },
	{ "AddressFamily",		oAddressFamily,		1, 1, 0 },
	{ "HashKnownHosts",		oHashKnownHosts,	1, 1, 0 },
	{ "RequiredRSASize",		oRequiredRSASize,	1, 1, 0 },
	/* Commands: the rest of the line too (see parse_line()). */
	{ "EventCommand",		oEventCommand,		1, CFG_MAX_ARGS, 0 },
	{ "EventCommandTimeout",	oEventCommandTimeout,	1, 1, 0 },
	{ "LocalCommand",		oLocalCommand,		1, CFG_MAX_ARGS, 0 },
	{ "PermitLocalCommand",		oPermitLocalCommand,	1, 1, 0 },
	{ "ForwardProbeInterval",	oForwardProbeInterval,	1, 1, 0 },
};

/*
 * ssh_config's own Tunnel takes these: pasted into a block, such a line
 * must not quietly start a tunnel of that name.
 */
#define SSH_TUN_MODES	"yes|no|point-to-point|ethernet"

/* AddressFamily's values, in enum cfg_af order. */
static const char *const cfg_af_names[] = { "any", "inet", "inet6" };

/* Where a value was set, for checks made after parsing. */
struct cfg_loc {
	char	*file;
	int	 line;
};

struct parse {
	struct cfg		*cfg;		/* NULL for "add" */
	struct cfg_errors	*errs;
	struct cfg_errors	*warns;		/* "ignored: ..." */
	size_t			 nerr;		/* errors found by this parse */
	const char		*file;		/* the line being parsed */
	int			 line;
	struct tunnel_spec	*cur;		/* the scope lines go to */
	struct tunnel_spec	*scratch;	/* block of a rejected Tunnel */
	struct cfg_loc		*cur_retry;	/* where cur's Retry* was set */
	struct cfg_loc		 def_retry;
	struct cfg_loc		*tunnel_retry;	/* one per cfg->tunnels[] */
	struct cfg_loc		 scratch_retry;
	int			 in_block;
	int			 add;
	int			 text_only;	/* a string, no file (tests) */
	int			 depth;
	struct cfg_errors	 ignored;	/* SshConfig lines warned about */
};

static void	parse_text(struct parse *, const char *, char *);
static void	parse_keyword(struct parse *, const char *, int, char **);

/* ---- errors ------------------------------------------------------------ */

static void
errors_vadd(struct cfg_errors *, const char *, int, const char *, va_list)
    __attribute__((format(printf, 4, 0)));

static void
errors_vadd(struct cfg_errors *errs, const char *file, int line,
    const char *fmt, va_list ap)
{
	char	*msg, *full;
	size_t	 i;

	if (errs == NULL || errs->n >= CFG_MAX_ERRORS)
		return;
	xvasprintf(&msg, fmt, ap);
	if (line > 0)
		xasprintf(&full, "%s:%d: %s", file, line, msg);
	else
		xasprintf(&full, "%s: %s", file, msg);
	free(msg);
	/* The same problem seen from several tunnels is reported once. */
	for (i = 0; i < errs->n; i++) {
		if (strcmp(errs->msg[i], full) == 0) {
			free(full);
			return;
		}
	}
	errs->msg = xreallocarray(errs->msg, errs->n + 1, sizeof *errs->msg);
	errs->msg[errs->n++] = full;
}

void
cfg_errors_add(struct cfg_errors *errs, const char *file, int line,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	errors_vadd(errs, file, line, fmt, ap);
	va_end(ap);
}

void
cfg_errors_clear(struct cfg_errors *errs)
{
	size_t	i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->n = 0;
}

char *
cfg_errors_join(const struct cfg_errors *errs)
{
	char	*s;
	size_t	 i, len = 0;

	if (errs == NULL || errs->n == 0)
		return NULL;
	for (i = 0; i < errs->n; i++)
		len += strlen(errs->msg[i]) + 1;
	s = xmalloc(len);
	s[0] = '\0';
	for (i = 0; i < errs->n; i++) {
		if (i > 0)
			strcat(s, "\n");
		strcat(s, errs->msg[i]);
	}
	return s;
}

static void
perr(struct parse *p, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
perr(struct parse *p, const char *file, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	errors_vadd(p->errs, file, line, fmt, ap);
	va_end(ap);
	p->nerr++;
}

/* A warning at the line being parsed: the configuration still loads. */
static void
lwarn(struct parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lwarn(struct parse *p, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	errors_vadd(p->warns, p->file, p->line, fmt, ap);
	va_end(ap);
}

static void
loc_set(struct cfg_loc *loc, const char *file, int line)
{
	free(loc->file);
	loc->file = xstrdup(file);
	loc->line = line;
}

/* ---- small helpers ----------------------------------------------------- */

static const char *
home_dir(void)
{
	const char	*home;
	struct passwd	*pw;

	if ((home = getenv("HOME")) != NULL && *home != '\0')
		return home;
	if ((pw = getpwuid(getuid())) != NULL)
		return pw->pw_dir;
	return NULL;
}

/* "~" and "~/x" become $HOME, "~user/x" that user's home. */
static char *
expand_tilde(const char *path)
{
	const char	*slash, *home = NULL;
	char		*user, *s;
	struct passwd	*pw;

	if (path[0] != '~')
		return xstrdup(path);
	slash = strchr(path, '/');
	if (path[1] == '\0' || path[1] == '/')
		home = home_dir();
	else {
		user = slash == NULL ? xstrdup(path + 1) :
		    xstrndup(path + 1, slash - path - 1);
		if ((pw = getpwnam(user)) != NULL)
			home = pw->pw_dir;
		free(user);
	}
	if (home == NULL)
		return xstrdup(path);
	if (slash == NULL)
		return xstrdup(home);
	if (strcmp(home, "/") == 0)
		home = "";
	xasprintf(&s, "%s%s", home, slash);
	return s;
}

static int
parse_yesno(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0)
		return 1;
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0)
		return 0;
	return -1;
}

/* A decimal number in [min, max], nothing else. 0 or -1. */
static int
parse_number(const char *s, long min, long max, long *out)
{
	long	v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		if (v > (LONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_port(const char *s, int min, int *port)
{
	long	v;

	if (parse_number(s, min, 65535, &v) != 0)
		return -1;
	*port = (int)v;
	return 0;
}

static int
has_space(const char *s)
{
	for (; *s != '\0'; s++) {
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return 1;
	}
	return 0;
}

/* "30" or "500ms" for dumps; "30s" or "500ms" for messages. */
static void
fmt_time(long ms, int unit, char *buf, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%ld%s", ms / 1000, unit ? "s" : "");
	else
		snprintf(buf, len, "%ldms", ms);
}

/* "host:port" with IPv6 in brackets, "*:port" for all addresses. */
static char *
fmt_hostport(const char *host, int port)
{
	char	*s;

	if (host == NULL || *host == '\0')
		xasprintf(&s, "%s:%d", host == NULL ? "localhost" : "*", port);
	else if (strchr(host, ':') != NULL)
		xasprintf(&s, "[%s]:%d", host, port);
	else
		xasprintf(&s, "%s:%d", host, port);
	return s;
}

/* Append one element to an array of n elements. */
static void *
array_grow(void *array, size_t n, size_t size)
{
	return xreallocarray(array, n + 1, size);
}

/* ---- time values -------------------------------------------------------- */

int
cfg_parse_time(const char *s, long *ms)
{
	long	total = 0, n, mult;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -1;
		for (n = 0; isdigit((unsigned char)*s); s++) {
			if (n > (LONG_MAX - 9) / 10)
				return -1;
			n = n * 10 + (*s - '0');
		}
		switch (tolower((unsigned char)*s)) {
		case '\0':
			mult = 1000;
			break;
		case 's':
			mult = 1000;
			s++;
			break;
		case 'm':
			if (tolower((unsigned char)s[1]) == 's') {
				mult = 1;
				s += 2;
			} else {
				mult = 60 * 1000L;
				s++;
			}
			break;
		case 'h':
			mult = 60 * 60 * 1000L;
			s++;
			break;
		case 'd':
			mult = 24 * 60 * 60 * 1000L;
			s++;
			break;
		case 'w':
			mult = 7 * 24 * 60 * 60 * 1000L;
			s++;
			break;
		default:
			return -1;
		}
		if (n > LONG_MAX / mult)
			return -1;
		n *= mult;
		if (total > LONG_MAX - n)
			return -1;
		total += n;
	}
	*ms = total;
	return 0;
}

/* ---- forwards ----------------------------------------------------------- */

static const char *
fwd_keyword(enum fwd_kind kind)
{
	return fwd_kind_info(kind)->keyword;
}

static void
endpoint_clear(struct fwd_endpoint *ep)
{
	free(ep->host);
	free(ep->path);
	ep->host = ep->path = NULL;
	ep->port = -1;
}

void
fwd_spec_clear(struct fwd_spec *fwd)
{
	if (fwd == NULL)
		return;
	endpoint_clear(&fwd->listen);
	endpoint_clear(&fwd->target);
	free(fwd->listen_str);
	free(fwd->target_str);
	fwd->listen_str = fwd->target_str = NULL;
}

static void
endpoint_copy(struct fwd_endpoint *dst, const struct fwd_endpoint *src)
{
	dst->host = src->host == NULL ? NULL : xstrdup(src->host);
	dst->path = src->path == NULL ? NULL : xstrdup(src->path);
	dst->port = src->port;
}

static void
fwd_copy(struct fwd_spec *dst, const struct fwd_spec *src)
{
	dst->kind = src->kind;
	endpoint_copy(&dst->listen, &src->listen);
	endpoint_copy(&dst->target, &src->target);
	dst->listen_str = src->listen_str == NULL ? NULL :
	    xstrdup(src->listen_str);
	dst->target_str = src->target_str == NULL ? NULL :
	    xstrdup(src->target_str);
}

/*
 * Split "host:port", "[v6]:port", "port", ":port" or "*:port". *host is NULL
 * when no host was given, "" for an empty host or "*". Brackets are required
 * around a host with colons. 0 or -1.
 */
static int
split_hostport(const char *s, char **host, char **port)
{
	const char	*end, *colon;

	*host = *port = NULL;
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':' ||
		    end == s + 1)
			return -1;
		*host = xstrndup(s + 1, end - s - 1);
		*port = xstrdup(end + 2);
		return 0;
	}
	if ((colon = strchr(s, ':')) == NULL) {
		*port = xstrdup(s);
		return 0;
	}
	if (strchr(colon + 1, ':') != NULL)
		return -1;	/* a bare IPv6 address */
	if (colon - s == 1 && *s == '*')
		*host = xstrdup("");
	else
		*host = xstrndup(s, colon - s);
	*port = xstrdup(colon + 1);
	return 0;
}

/* The listening side: [bind_address:]port or a unix socket path. */
static int
parse_listen(enum fwd_kind kind, const char *arg, struct fwd_endpoint *ep,
    char **err)
{
	const char	*kw = fwd_keyword(kind);
	int		 here = fwd_kind_info(kind)->flags & FK_HERE;
	char		*host, *port;
	int		 minport;

	if (*arg == '/') {
		if (fwd_kind_info(kind)->flags & FK_SOCKS) {
			xasprintf(err, "%s on a unix socket is not supported%s",
			    kw, here ? "" : " (a socket path on the server "
			    "needs a target: RemoteForward /path host:port)");
			return -1;
		}
#ifndef HAVE_SSH_STREAMLOCAL
		if (!here) {
			xasprintf(err, "RemoteForward on a unix socket of the "
			    "server needs streamlocal-forward@openssh.com, "
			    "which this tunsupd's libssh (%s) lacks: build "
			    "tunsup with its bundled libssh (./configure "
			    "without --with-libssh=system; README.md, \"The "
			    "bundled libssh\")", TUNSUP_LIBSSH_BUILD);
			return -1;
		}
#endif
		ep->path = xstrdup(arg);
		ep->port = -1;
		return 0;
	}
	if (split_hostport(arg, &host, &port) != 0) {
		xasprintf(err, "%s: bad listen address '%s' (IPv6 addresses "
		    "go in brackets: [::1]:8080)", kw, arg);
		return -1;
	}
	minport = here ? 1 : 0;		/* the server may pick a port */
	if (parse_port(port, minport, &ep->port) != 0) {
		xasprintf(err, "%s: bad listen port '%s' (expected %d to "
		    "65535)", kw, port, minport);
		free(host);
		free(port);
		return -1;
	}
	free(port);
	if (host != NULL && has_space(host)) {
		xasprintf(err, "%s: bad listen address '%s'", kw, arg);
		free(host);
		return -1;
	}
	/* OpenSSH sends "localhost" when no bind address was given. */
	if (host == NULL && !here)
		host = xstrdup("localhost");
	ep->host = host;
	return 0;
}

/* The connecting side: host:hostport or a unix socket path. */
static int
parse_target(enum fwd_kind kind, const char *arg, struct fwd_endpoint *ep,
    char **err)
{
	const char	*kw = fwd_keyword(kind);
	char		*host, *port;

	if (*arg == '/') {
		ep->path = xstrdup(arg);
		ep->port = -1;
		return 0;
	}
	if (split_hostport(arg, &host, &port) != 0 || host == NULL ||
	    *host == '\0' || has_space(host)) {
		xasprintf(err, "%s: bad target '%s' (expected host:port, "
		    "[v6addr]:port or /unix/socket)", kw, arg);
		free(host);
		free(port);
		return -1;
	}
	if (parse_port(port, 1, &ep->port) != 0) {
		xasprintf(err, "%s: bad target port '%s' (expected 1 to "
		    "65535)", kw, port);
		free(host);
		free(port);
		return -1;
	}
	free(port);
	ep->host = host;
	return 0;
}

/*
 * ssh's one-argument form, "8080:host:22", "bind:8080:host:22" or
 * "8080:/path": the target begins after the second colon from the end
 * (outside brackets), or after the last one when the last part is a path.
 * 0 with *at on that colon, or -1 if there is no target.
 */
static int
split_combined(const char *s, size_t *at)
{
	size_t	i, prev = 0, last = 0;
	int	n = 0, depth = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '[')
			depth++;
		else if (s[i] == ']' && depth > 0)
			depth--;
		else if (s[i] == ':' && depth == 0) {
			prev = last;
			last = i;
			n++;
		}
	}
	if (n >= 1 && s[last + 1] == '/') {
		*at = last;
		return 0;
	}
	if (n >= 2) {
		*at = prev;
		return 0;
	}
	return -1;
}

int
cfg_parse_forward(enum fwd_kind kind, const char *arg1, const char *arg2,
    struct fwd_spec *fwd, char **err)
{
	char	*lbuf = NULL;
	size_t	 at;

	memset(fwd, 0, sizeof *fwd);
	fwd->listen.port = fwd->target.port = -1;
	*err = NULL;
	if (arg1 == NULL || *arg1 == '\0') {
		xasprintf(err, "%s: missing listen port", fwd_keyword(kind));
		return -1;
	}
	if (arg2 == NULL && !(fwd_kind_info(kind)->flags & FK_SOCKS)) {
		/* ssh's command-line form, or a reverse SOCKS forward. */
		if (split_combined(arg1, &at) == 0) {
			lbuf = xstrndup(arg1, at);
			arg2 = arg1 + at + 1;
			arg1 = lbuf;
		} else if (kind == FWD_REMOTE)
			kind = FWD_REMOTE_DYNAMIC;
		else {
			xasprintf(err, "LocalForward: missing target "
			    "(expected host:port or /unix/socket)");
			return -1;
		}
	}
	if (arg2 != NULL && (fwd_kind_info(kind)->flags & FK_SOCKS)) {
		xasprintf(err, "%s: too many arguments", fwd_keyword(kind));
		return -1;
	}
	fwd->kind = kind;
	if (parse_listen(kind, arg1, &fwd->listen, err) != 0)
		goto fail;
	if (arg2 != NULL &&
	    parse_target(kind, arg2, &fwd->target, err) != 0)
		goto fail;
	if (fwd->listen.path != NULL)
		fwd->listen_str = xstrdup(fwd->listen.path);
	else
		fwd->listen_str = fmt_hostport(fwd->listen.host,
		    fwd->listen.port);
	if (fwd->target.path != NULL)
		fwd->target_str = xstrdup(fwd->target.path);
	else if (fwd->target.host != NULL)
		fwd->target_str = fmt_hostport(fwd->target.host,
		    fwd->target.port);
	free(lbuf);
	return 0;

fail:
	free(lbuf);
	fwd_spec_clear(fwd);
	return -1;
}

/* ---- ProxyJump ---------------------------------------------------------- */

static void
jumps_free(struct jump_hop *jumps, size_t n)
{
	size_t	i, j;

	for (i = 0; i < n; i++) {
		free(jumps[i].user);
		free(jumps[i].host);
		for (j = 0; j < jumps[i].nidentity_files; j++)
			free(jumps[i].identity_files[j]);
		free(jumps[i].identity_files);
		free(jumps[i].host_key_alias);
		free(jumps[i].user_known_hosts_file);
	}
	free(jumps);
}

/* Never NULL, even for an empty chain ("ProxyJump none" while parsing). */
static struct jump_hop *
jumps_copy(const struct jump_hop *src, size_t n)
{
	struct jump_hop	*dst;
	size_t		 i, j;

	dst = xcalloc(n == 0 ? 1 : n, sizeof *dst);
	for (i = 0; i < n; i++) {
		dst[i].user = src[i].user == NULL ? NULL : xstrdup(src[i].user);
		dst[i].host = xstrdup(src[i].host);
		dst[i].port = src[i].port;
		if (src[i].nidentity_files > 0)
			dst[i].identity_files = xcalloc(src[i].nidentity_files,
			    sizeof *dst[i].identity_files);
		for (j = 0; j < src[i].nidentity_files; j++)
			dst[i].identity_files[j] =
			    xstrdup(src[i].identity_files[j]);
		dst[i].nidentity_files = src[i].nidentity_files;
		if (src[i].host_key_alias != NULL)
			dst[i].host_key_alias = xstrdup(src[i].host_key_alias);
		if (src[i].user_known_hosts_file != NULL)
			dst[i].user_known_hosts_file =
			    xstrdup(src[i].user_known_hosts_file);
	}
	return dst;
}

/* One hop, "[user@]host[:port]", parsed in place. 0 or -1. */
static int
parse_hop(char *s, struct jump_hop *hop)
{
	char	*at, *host = NULL, *port = NULL;

	if (strncasecmp(s, "ssh://", 6) == 0)
		s += 6;
	if ((at = strrchr(s, '@')) != NULL) {
		*at = '\0';
		if (*s == '\0' || has_space(s))
			return -1;
		hop->user = xstrdup(s);
		s = at + 1;
	}
	if (*s == '[' && (at = strchr(s, ']')) != NULL && at[1] == '\0') {
		/* "[v6addr]" without a port. */
		host = xstrndup(s + 1, at - s - 1);
	} else if (*s == '[' || strchr(s, ':') != NULL) {
		if (split_hostport(s, &host, &port) != 0 || host == NULL ||
		    parse_port(port, 1, &hop->port) != 0) {
			free(host);
			free(port);
			return -1;
		}
		free(port);
	} else
		host = xstrdup(s);
	hop->host = host;
	if (*host == '\0' || has_space(host))
		return -1;
	return 0;
}

static int
parse_jumps(const char *s, struct jump_hop **out, size_t *nout, char **err)
{
	struct jump_hop	*jumps = NULL;
	size_t		 n = 0;
	char		*copy, *hop, *next;

	copy = xstrdup(s);
	for (hop = copy; hop != NULL; hop = next) {
		if ((next = strchr(hop, ',')) != NULL)
			*next++ = '\0';
		if (n == CFG_MAX_JUMPS) {
			xasprintf(err, "ProxyJump: more than %d jump hosts",
			    CFG_MAX_JUMPS);
			goto fail;
		}
		jumps = array_grow(jumps, n, sizeof *jumps);
		memset(&jumps[n], 0, sizeof jumps[n]);
		jumps[n].port = CFG_UNSET;
		n++;
		if (parse_hop(hop, &jumps[n - 1]) != 0) {
			xasprintf(err, "ProxyJump: bad jump host in '%s' "
			    "(expected [user@]host[:port], comma-separated, "
			    "IPv6 in brackets)", s);
			goto fail;
		}
	}
	free(copy);
	*out = jumps;
	*nout = n;
	return 0;

fail:
	jumps_free(jumps, n);
	free(copy);
	return -1;
}

/* ---- tunnel specs ------------------------------------------------------- */

static void
spec_init(struct tunnel_spec *t)
{
	memset(t, 0, sizeof *t);
	t->enabled = CFG_UNSET;
	t->port = CFG_UNSET;
	t->identities_only = CFG_UNSET;
	t->strict_host_key_checking = CFG_UNSET;
	t->connect_timeout_ms = CFG_UNSET;
	t->server_alive_interval_ms = CFG_UNSET;
	t->server_alive_count_max = CFG_UNSET;
	t->exit_on_forward_failure = CFG_UNSET;
	t->gateway_ports = CFG_UNSET;
	t->stream_local_bind_unlink = CFG_UNSET;
	t->compression = CFG_UNSET;
	t->retry_min_ms = CFG_UNSET;
	t->retry_max_ms = CFG_UNSET;
	t->retry_network_max_ms = CFG_UNSET;
	t->forward_probe = CFG_UNSET;
	t->rekey_data = CFG_UNSET;
	t->rekey_time_ms = CFG_UNSET;
	t->tcp_keep_alive = CFG_UNSET;
	t->proxy_use_fdpass = CFG_UNSET;
	t->address_family = CFG_UNSET;
	t->hash_known_hosts = CFG_UNSET;
	t->required_rsa_size = CFG_UNSET;
	t->event_command_timeout_ms = CFG_UNSET;
	t->permit_local_command = CFG_UNSET;
	t->forward_probe_interval_ms = CFG_UNSET;
}

static struct tunnel_spec *
spec_new(const char *name, const char *file, int line)
{
	struct tunnel_spec	*t;

	t = xmalloc(sizeof *t);
	spec_init(t);
	t->name = xstrdup(name);
	t->file = xstrdup(file);
	t->line = line;
	return t;
}

static void
spec_clear(struct tunnel_spec *t)
{
	size_t	i;

	free(t->name);
	free(t->file);
	free(t->hostname);
	free(t->user);
	for (i = 0; i < t->nidentity_files; i++)
		free(t->identity_files[i]);
	free(t->identity_files);
	for (i = 0; i < t->ncertificate_files; i++)
		free(t->certificate_files[i]);
	free(t->certificate_files);
	free(t->identity_passphrase_file);
	free(t->password_file);
	free(t->identity_agent);
	free(t->user_known_hosts_file);
	free(t->host_key_alias);
	jumps_free(t->jumps, t->njumps);
	jumps_free(t->fallbacks, t->nfallbacks);
	for (i = 0; i < t->nforwards; i++)
		fwd_spec_clear(&t->forwards[i]);
	free(t->forwards);
	free(t->ciphers);
	free(t->ssh_config);
	free(t->proxy_command);
	free(t->kex_algorithms);
	free(t->host_key_algorithms);
	free(t->pubkey_accepted_algorithms);
	free(t->macs);
	free(t->bind_address);
	free(t->bind_interface);
	free(t->ignore_unknown);
	free(t->event_command);
	free(t->local_command);
	spec_init(t);
}

void
tunnel_spec_free(struct tunnel_spec *t)
{
	if (t == NULL)
		return;
	spec_clear(t);
	free(t);
}

int
tunnel_name_valid(const char *name)
{
	size_t	i;

	if (name == NULL)
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		if (i == TUNNEL_NAME_MAX)
			return 0;
		if (!isalnum((unsigned char)name[i]) && name[i] != '.' &&
		    name[i] != '_' && name[i] != '-')
			return 0;
	}
	return i > 0;
}

/* Append path (ours from now) to a list of files. */
static void
add_file(char ***list, size_t *n, char *path)
{
	*list = array_grow(*list, *n, sizeof **list);
	(*list)[(*n)++] = path;
}

static void
add_identity(struct tunnel_spec *t, char *path)
{
	add_file(&t->identity_files, &t->nidentity_files, path);
}

/* Put copies of the defaults' files d before those of the list. */
static void
files_merge(char ***list, size_t *n, char *const *d, size_t dn)
{
	char	**all;
	size_t	  i;

	if (dn == 0)
		return;
	all = xcalloc(dn + *n, sizeof *all);
	for (i = 0; i < dn; i++)
		all[i] = xstrdup(d[i]);
	for (i = 0; i < *n; i++)
		all[dn + i] = (*list)[i];
	free(*list);
	*list = all;
	*n += dn;
}

static void
add_forward(struct tunnel_spec *t, const struct fwd_spec *fwd)
{
	t->forwards = array_grow(t->forwards, t->nforwards,
	    sizeof *t->forwards);
	t->forwards[t->nforwards++] = *fwd;
}

/* ---- the line splitter and the keyword table ---------------------------- */

/*
 * Split a line in place as ssh_config(5) does: the keyword ends at
 * whitespace or '=' ("Keyword value", "Keyword=value", "Keyword = value");
 * arguments are separated by whitespace and may be quoted with " or ';
 * a backslash escapes a quote, a backslash, a space or '#'; an unquoted '#'
 * at the start of an argument ends the line. Returns the number of arguments
 * (*kw is NULL for a blank or comment line), or -1 with *why set.
 */
static int
split_line(char *line, char **kw, char **argv, const char **why)
{
	char	*r = line, *w, c, quote;
	int	 argc = 0;

	*kw = NULL;
	while (isspace((unsigned char)*r))
		r++;
	if (*r == '\0' || *r == '#')
		return 0;
	*kw = r;
	while (*r != '\0' && *r != '=' && !isspace((unsigned char)*r))
		r++;
	if ((c = *r) != '\0') {
		*r++ = '\0';
		while (isspace((unsigned char)*r))
			r++;
		if (c != '=' && *r == '=') {
			r++;
			while (isspace((unsigned char)*r))
				r++;
		}
	}
	for (;;) {
		while (isspace((unsigned char)*r))
			r++;
		if (*r == '\0' || *r == '#')
			break;
		if (argc == CFG_MAX_ARGS) {
			*why = "too many arguments";
			return -1;
		}
		argv[argc++] = w = r;
		quote = '\0';
		while (*r != '\0') {
			if (quote == '\0' && isspace((unsigned char)*r))
				break;
			if (quote == '\0' && (*r == '"' || *r == '\'')) {
				quote = *r++;
				continue;
			}
			if (quote != '\0' && *r == quote) {
				quote = '\0';
				r++;
				continue;
			}
			if (*r == '\\' && quote != '\'' && r[1] != '\0' &&
			    strchr("\\\"' \t#", r[1]) != NULL)
				r++;
			*w++ = *r++;
		}
		if (quote != '\0') {
			*why = "unterminated quote";
			return -1;
		}
		if (*r != '\0')
			r++;
		*w = '\0';
	}
	return argc;
}

const char *
cfg_keyword(size_t i, int *top_only)
{
	if (i >= nitems(keywords))
		return NULL;
	*top_only = (keywords[i].flags & K_TOP) != 0 ||
	    keywords[i].op == oTunnel;
	return keywords[i].name;
}

static const struct keyword *
keyword_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(keywords); i++) {
		if (strcasecmp(name, keywords[i].name) == 0)
			return &keywords[i];
	}
	return NULL;
}

#define EDIT_MAX	64

/* Levenshtein distance, ignoring case; both strings shorter than EDIT_MAX. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j, cost, v;
	size_t	prev[EDIT_MAX + 1], cur[EDIT_MAX + 1];

	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			cost = tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]);
			v = prev[j - 1] + cost;
			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			cur[j] = v;
		}
		memcpy(prev, cur, (lb + 1) * sizeof *prev);
	}
	return prev[lb];
}

static const char *
keyword_suggest(const char *name)
{
	const char	*best = NULL;
	size_t		 i, d, bestd = 4;

	if (strlen(name) >= EDIT_MAX)
		return NULL;
	for (i = 0; i < nitems(keywords); i++) {
		if ((d = edit_distance(name, keywords[i].name)) < bestd) {
			bestd = d;
			best = keywords[i].name;
		}
	}
	return best;
}

/* ---- the parser --------------------------------------------------------- */

#define lerr(p, ...)	perr((p), (p)->file, (p)->line, __VA_ARGS__)

/* Read a whole regular file. 0, or -1 with *why set (caller frees). */
static int
read_file(const char *path, char **text, char **why)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	*text = *why = NULL;
	/* O_NONBLOCK: opening a FIFO must not wait (a reload runs in the loop). */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		*why = xstrdup(strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		*why = xstrdup(strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CFG_MAX_FILE) {
		*why = xstrdup(S_ISREG(st.st_mode) ? "file too large" :
		    "not a regular file");
		close(fd);
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*why = xstrdup(strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		*why = xstrdup("contains a NUL byte");
		free(buf);
		return -1;
	}
	*text = buf;
	return 0;
}

/* The arguments as one string, single spaces between (messages). */
static char *
args_join(int argc, char **argv)
{
	struct strbuf	sb;
	int		i;

	memset(&sb, 0, sizeof sb);
	sb_printf(&sb, "%s", "");
	for (i = 0; i < argc; i++)
		sb_printf(&sb, "%s%s", i > 0 ? " " : "", argv[i]);
	return sb.s;
}

/*
 * A keyword that is not in the table above: an ssh_config(5) keyword is
 * accepted, a warning or an error as its catalogue entry says for this
 * value (sshkw.c); another is ignored if IgnoreUnknown names it, else an
 * error.
 */
static void
keyword_other(struct parse *p, const char *kw, int argc, char **argv)
{
	const struct sshkw	*k;
	const char		*ign, *best;
	enum sshkw_use		 use;
	char			*v;

	if ((k = sshkw_find(kw)) != NULL) {
		if (argc == 0) {
			lerr(p, "%s: missing argument", k->name);
			return;
		}
		v = args_join(argc, argv);
		if ((use = sshkw_judge(k, v)) == SSHKW_IGNORED)
			lwarn(p, "ignored: %s %s: %s", k->name, v, k->why);
		else if (use != SSHKW_SAME)
			lerr(p, "%s %s is not supported: %s", k->name, v,
			    k->why);
		free(v);
		return;
	}
	ign = p->cur->ignore_unknown;
	if (ign == NULL && p->cfg != NULL)
		ign = p->cfg->defaults.ignore_unknown;
	if (sshkw_ignore_unknown(ign, kw))
		return;
	if ((best = keyword_suggest(kw)) != NULL)
		lerr(p, "unknown keyword '%s' (did you mean '%s'?)", kw, best);
	else
		lerr(p, "unknown keyword '%s'", kw);
}

/* Leave a tunnel block: back to the top-level defaults. */
static void
scratch_end(struct parse *p)
{
	tunnel_spec_free(p->scratch);
	p->scratch = NULL;
	free(p->scratch_retry.file);
	memset(&p->scratch_retry, 0, sizeof p->scratch_retry);
}

static void
block_end(struct parse *p)
{
	scratch_end(p);
	p->cur = &p->cfg->defaults;
	p->cur_retry = &p->def_retry;
	p->in_block = 0;
}

static struct tunnel_spec *
cfg_find(const struct cfg *cfg, const char *name)
{
	size_t	i;

	for (i = 0; i < cfg->ntunnels; i++) {
		if (strcmp(cfg->tunnels[i]->name, name) == 0)
			return cfg->tunnels[i];
	}
	return NULL;
}

static void
kw_tunnel(struct parse *p, const char *name)
{
	struct cfg		*cfg = p->cfg;
	struct tunnel_spec	*t;
	size_t			 n;

	if (p->add) {
		lerr(p, "Tunnel is not allowed here: the add command names "
		    "the tunnel");
		return;
	}
	block_end(p);
	p->in_block = 1;
	if (!tunnel_name_valid(name))
		lerr(p, "invalid tunnel name '%s' (expected 1 to %d of "
		    "A-Z a-z 0-9 . _ -)", name, TUNNEL_NAME_MAX);
	else if (list_has_word(SSH_TUN_MODES, '|', name))
		lerr(p, "Tunnel %s: ssh's tun device forwarding is not "
		    "supported (and a tunnel cannot be named %s)", name, name);
	else if ((t = cfg_find(cfg, name)) != NULL)
		lerr(p, "duplicate tunnel %s (first defined at %s:%d)", name,
		    t->file, t->line);
	else {
		n = cfg->ntunnels;
		cfg->tunnels = array_grow(cfg->tunnels, n,
		    sizeof *cfg->tunnels);
		cfg->tunnels[n] = spec_new(name, p->file, p->line);
		p->tunnel_retry = array_grow(p->tunnel_retry, n,
		    sizeof *p->tunnel_retry);
		memset(&p->tunnel_retry[n], 0, sizeof p->tunnel_retry[n]);
		cfg->ntunnels++;
		p->cur = cfg->tunnels[n];
		p->cur_retry = &p->tunnel_retry[n];
		return;
	}
	/* Keep checking the block's lines, then throw it away. */
	p->scratch = spec_new("-", p->file, p->line);
	p->cur = p->scratch;
	p->cur_retry = &p->scratch_retry;
}

static void
kw_include(struct parse *p, const char *pattern)
{
	const char	*file = p->file, *slash;
	char		*path, *full, *text, *why;
	glob_t		 g;
	size_t		 i;
	int		 line = p->line, r;

	if (p->depth >= CFG_MAX_DEPTH) {
		lerr(p, "Include nested too deeply (more than %d levels)",
		    CFG_MAX_DEPTH);
		return;
	}
	path = expand_tilde(pattern);
	if (*path != '/' && (slash = strrchr(file, '/')) != NULL) {
		xasprintf(&full, "%.*s/%s", (int)(slash - file), file, path);
		free(path);
		path = full;
	}
	memset(&g, 0, sizeof g);
	if ((r = glob(path, 0, NULL, &g)) != 0) {
		if (r != GLOB_NOMATCH)
			lerr(p, "Include %s: cannot expand the pattern",
			    pattern);
		globfree(&g);
		free(path);
		return;
	}
	for (i = 0; i < g.gl_pathc && p->nerr < CFG_MAX_ERRORS; i++) {
		if (read_file(g.gl_pathv[i], &text, &why) != 0) {
			perr(p, file, line, "Include %s: %s", g.gl_pathv[i],
			    why);
			free(why);
			continue;
		}
		p->depth++;
		parse_text(p, g.gl_pathv[i], text);
		p->depth--;
		free(text);
	}
	globfree(&g);
	free(path);
}

static void
kw_string(struct parse *p, const struct keyword *k, char **field,
    const char *arg)
{
	if (has_space(arg)) {
		lerr(p, "%s: bad value '%s'", k->name, arg);
		return;
	}
	if (*field == NULL)
		*field = xstrdup(arg);
}

/* MetricsListen [addr:]port: checked here, opened by the daemon. */
static void
kw_metrics_listen(struct parse *p, const struct keyword *k, const char *arg)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			*err = NULL;

	if (metrics_http_address(arg, &ss, &sslen, &err) != 0) {
		lerr(p, "%s", err);
		free(err);
		return;
	}
	kw_string(p, k, &p->cfg->metrics_listen, arg);
}

static void
kw_path(char **field, const char *arg)
{
	if (*field == NULL)
		*field = expand_tilde(arg);
}

/* Where a secret is: a file, or "credential:NAME" (systemd's). */
static void
kw_secret(struct parse *p, const struct keyword *k, char **field,
    const char *arg)
{
	if (strncmp(arg, "credential:", 11) != 0)
		kw_path(field, arg);
	else if (arg[11] == '\0' || strchr(arg + 11, '/') != NULL)
		lerr(p, "%s: bad credential name '%s'", k->name, arg + 11);
	else
		kw_string(p, k, field, arg);
}

static void
kw_flag(struct parse *p, const struct keyword *k, int *field,
    const char *arg)
{
	int	v;

	if ((v = parse_yesno(arg)) == -1) {
		lerr(p, "%s: expected yes or no, got '%s'", k->name, arg);
		return;
	}
	if (*field == CFG_UNSET)
		*field = v;
}

static void
kw_time(struct parse *p, const struct keyword *k, long *field,
    const char *arg, long min)
{
	long	ms;

	if (cfg_parse_time(arg, &ms) != 0) {
		lerr(p, "%s: expected a time such as 30, 30s, 5m, 1h30m or "
		    "500ms, got '%s'", k->name, arg);
		return;
	}
	if (ms < min) {
		lerr(p, "%s: must be greater than 0", k->name);
		return;
	}
	if (*field == CFG_UNSET)
		*field = ms;
}

static void
kw_strict(struct parse *p, const struct keyword *k, int *field,
    const char *arg)
{
	int	v;

	if ((v = parse_yesno(arg)) != -1)
		v = v ? SHK_YES : SHK_NO;
	else if (strcasecmp(arg, "off") == 0)
		v = SHK_NO;
	else if (strcasecmp(arg, "accept-new") == 0)
		v = SHK_ACCEPT_NEW;
	else if (strcasecmp(arg, "ask") == 0) {
		lerr(p, "%s ask is not supported: a daemon cannot ask "
		    "(use yes or accept-new)", k->name);
		return;
	} else {
		lerr(p, "%s: expected yes, no or accept-new, got '%s'",
		    k->name, arg);
		return;
	}
	if (*field == CFG_UNSET)
		*field = v;
}

static void
kw_jump(struct parse *p, struct tunnel_spec *t, const char *arg,
    const char *file, int line)
{
	struct jump_hop	*jumps;
	size_t		 n;
	char		*why;

	if (strcasecmp(arg, "none") == 0) {
		if (t->jumps == NULL)
			t->jumps = jumps_copy(NULL, 0);
		return;
	}
	if (parse_jumps(arg, &jumps, &n, &why) != 0) {
		perr(p, file, line, "%s", why);
		free(why);
		return;
	}
	if (t->jumps == NULL) {
		t->jumps = jumps;
		t->njumps = n;
	} else
		jumps_free(jumps, n);
}

/* The kind a forward keyword names (RemoteForward: with a target). */
static enum fwd_kind
fwd_kind_of(enum opcode op)
{
	if (op == oLocalForward)
		return FWD_LOCAL;
	if (op == oRemoteForward)
		return FWD_REMOTE;
	return FWD_DYNAMIC;
}

/* FallbackHost [user@]host[:port]: repeatable, tried in order. */
static void
kw_fallback(struct parse *p, struct tunnel_spec *t, const char *arg)
{
	struct jump_hop	 hop;
	char		*copy;

	memset(&hop, 0, sizeof hop);
	hop.port = CFG_UNSET;
	copy = xstrdup(arg);
	if (t->nfallbacks == CFG_MAX_FALLBACKS)
		lerr(p, "FallbackHost: more than %d fallback hosts",
		    CFG_MAX_FALLBACKS);
	else if (parse_hop(copy, &hop) != 0)
		lerr(p, "FallbackHost: bad host '%s' (expected "
		    "[user@]host[:port], IPv6 in brackets)", arg);
	else {
		t->fallbacks = array_grow(t->fallbacks, t->nfallbacks,
		    sizeof *t->fallbacks);
		t->fallbacks[t->nfallbacks++] = hop;
		hop.user = hop.host = NULL;	/* the list owns them now */
	}
	free(hop.user);
	free(hop.host);
	free(copy);
}

static void
kw_forward(struct parse *p, const struct keyword *k, int argc, char **argv)
{
	struct fwd_spec	 fwd;
	char		*why;

	if (cfg_parse_forward(fwd_kind_of(k->op), argv[0], argc > 1 ? argv[1] :
	    NULL, &fwd, &why) != 0) {
		lerr(p, "%s", why);
		free(why);
		return;
	}
	add_forward(p->cur, &fwd);
}

/* An algorithm list as ssh takes it ("+a,b", "-c", "^d"); libssh checks the names. */
static void
kw_algos(struct parse *p, const struct keyword *k, char **field,
    const char *arg)
{
	const char	*s;

	for (s = arg; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && strchr("@.,+-^_*", *s) ==
		    NULL) {
			lerr(p, "%s: bad algorithm list '%s'", k->name, arg);
			return;
		}
	}
	if (*field == NULL)
		*field = xstrdup(arg);
}

/* "1G", "512M", "default" or "none"; then an optional time. */
static void
kw_rekey(struct parse *p, struct tunnel_spec *t, int argc, char **argv)
{
	static const char	 units[] = "KMG";
	const char		*u;
	long			 data = 0, ms = 0, mul = 1;
	char			*num;
	size_t			 len = strlen(argv[0]);

	if (strcasecmp(argv[0], "default") != 0 &&
	    strcasecmp(argv[0], "none") != 0) {
		if (len > 1 && (u = strchr(units, toupper((unsigned char)
		    argv[0][len - 1]))) != NULL) {
			mul = 1L << (10 * (u - units + 1));
			len--;
		}
		num = xstrndup(argv[0], len);
		if (parse_number(num, 0, LONG_MAX / mul, &data) != 0 ||
		    data * mul < 16) {
			lerr(p, "RekeyLimit: expected an amount of data such "
			    "as 1G, 512M or default (at least 16), got '%s'",
			    argv[0]);
			free(num);
			return;
		}
		free(num);
		data *= mul;
	}
	if (argc > 1 && strcasecmp(argv[1], "none") != 0 &&
	    strcasecmp(argv[1], "default") != 0 &&
	    (cfg_parse_time(argv[1], &ms) != 0 || ms < 1000)) {
		lerr(p, "RekeyLimit: expected a time such as 1h or none, got "
		    "'%s'", argv[1]);
		return;
	}
	if (t->rekey_data == CFG_UNSET) {
		t->rekey_data = data;
		t->rekey_time_ms = ms;
	}
}

/* A numeric address only: a name would have to be resolved. */
static void
kw_bind_address(struct parse *p, char **field, const char *arg)
{
	unsigned char	buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, arg, buf) != 1 &&
	    inet_pton(AF_INET6, arg, buf) != 1) {
		lerr(p, "BindAddress: expected an IPv4 or IPv6 address, got "
		    "'%s'", arg);
		return;
	}
	if (*field == NULL)
		*field = xstrdup(arg);
}

static void
kw_address_family(struct parse *p, int *field, const char *arg)
{
	size_t	i;

	for (i = 0; i < nitems(cfg_af_names); i++) {
		if (strcasecmp(arg, cfg_af_names[i]) == 0) {
			if (*field == CFG_UNSET)
				*field = (int)i;
			return;
		}
	}
	lerr(p, "AddressFamily: expected any, inet or inet6, got '%s'", arg);
}

static void
kw_ssh_config(struct parse *p, char **field, const char *arg)
{
	char	*path;

	if (strcasecmp(arg, "none") == 0)
		path = xstrdup("none");
	else {
		path = expand_tilde(arg);
		if (access(path, R_OK) != 0) {
			lerr(p, "SshConfig: cannot read %s: %s", path,
			    strerror(errno));
			free(path);
			return;
		}
	}
	if (*field == NULL)
		*field = path;
	else
		free(path);
}

/*
 * A line's text after its keyword and separator, as it stands (quotes and
 * all), without trailing blanks, if the keyword is name; else NULL.
 */
char *
cfg_line_rest(const char *line, const char *name)
{
	const char	*kw, *r;
	size_t		 len;

	for (kw = line; isspace((unsigned char)*kw); kw++)
		;
	for (r = kw; *r != '\0' && *r != '=' && !isspace((unsigned char)*r);
	    r++)
		;
	if ((size_t)(r - kw) != strlen(name) ||
	    strncasecmp(kw, name, r - kw) != 0)
		return NULL;
	r += strspn(r, " \t");
	if (*r == '=')
		r++;
	r += strspn(r, " \t");
	len = strlen(r);
	while (len > 0 && isspace((unsigned char)r[len - 1]))
		len--;
	return xstrndup(r, len);
}

/*
 * Commands for /bin/sh, each taken whole as ssh does (quotes are the
 * shell's), with the tokens ssh_config(5) allows there; an EventCommand
 * takes none: it is given its environment instead (tunsupd.conf(5)).
 */
static const char *const cfg_token_dummies[] = {
	"x", "x", "x", "x", "x", "x", "x", "x",
};

static const struct cfg_command {
	const char	*name;
	const char	*tokens;	/* NULL: no tokens, % is a % */
	const char	*list;		/* for the message */
	size_t		 field;		/* offset of the char * */
	int		 guarded;	/* root's or tunsupd's files only */
} cfg_commands[] = {
	{ "ProxyCommand", "hnpr", "%h, %n, %p, %r",
	    offsetof(struct tunnel_spec, proxy_command), 0 },
	{ "LocalCommand", "dhlLnpru", "%d, %h, %l, %L, %n, %p, %r, %u",
	    offsetof(struct tunnel_spec, local_command), 1 },
	{ "EventCommand", NULL, NULL,
	    offsetof(struct tunnel_spec, event_command), 1 },
};

/*
 * A command in a file: only root or tunsupd's user may set one, as only they
 * may add a tunnel at run time (tunsupd.conf(5), EventCommand).
 */
static int
kw_command_allowed(struct parse *p, const char *name)
{
	struct stat	 sb;

	if (p->add || p->text_only)
		return 1;
	if (stat(p->file, &sb) == -1) {
		lerr(p, "%s: cannot check who may write %s: %s", name,
		    p->file, strerror(errno));
		return 0;
	}
	if ((sb.st_uid != 0 && sb.st_uid != geteuid()) ||
	    (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		lerr(p, "%s: refused in a file that is not root's or "
		    "tunsupd's, or that others may write", name);
		return 0;
	}
	return 1;
}

static void
kw_command(struct parse *p, const struct cfg_command *c, char *cmd)
{
	char	**field = (char **)((char *)p->cur + c->field);
	char	 *x, bad;

	if (*cmd == '\0') {
		lerr(p, "%s: missing argument", c->name);
		goto out;
	}
	if (c->guarded && !kw_command_allowed(p, c->name))
		goto out;
	if (c->tokens != NULL && (x = percent_expand(cmd, c->tokens,
	    cfg_token_dummies, &bad)) == NULL) {
		if (bad == '\0')
			lerr(p, "%s: a %% ends the line (%%%% is one %%)",
			    c->name);
		else
			lerr(p, "%s: unknown token %%%c (it takes %s and "
			    "%%%%)", c->name, bad, c->list);
		goto out;
	} else if (c->tokens != NULL)
		free(x);
	if (*field == NULL) {
		*field = cmd;
		cmd = NULL;
	}
out:
	free(cmd);
}

static void
parse_line(struct parse *p, char *line)
{
	char		*kw, *argv[CFG_MAX_ARGS], *rest;
	const char	*why;
	int		 argc, i;

	/* Their quotes are the shell's: taken before the split removes them. */
	for (i = 0; i < (int)nitems(cfg_commands); i++) {
		if ((rest = cfg_line_rest(line, cfg_commands[i].name)) != NULL) {
			kw_command(p, &cfg_commands[i], rest);
			return;
		}
	}
	if ((argc = split_line(line, &kw, argv, &why)) == -1) {
		lerr(p, "%s", why);
		return;
	}
	if (kw != NULL)
		parse_keyword(p, kw, argc, argv);
}

/*
 * One keyword and its arguments, at p->file:p->line, into p->cur: the
 * file's lines and any other source of ssh_config keywords come here.
 */
static void
parse_keyword(struct parse *p, const char *kw, int argc, char **argv)
{
	const struct keyword	*k;
	struct tunnel_spec	*t = p->cur;
	long			 n;
	int			 i;

	if ((k = keyword_find(kw)) == NULL) {
		keyword_other(p, kw, argc, argv);
		return;
	}
	if (argc < k->minargs) {
		lerr(p, "%s: missing argument", k->name);
		return;
	}
	if (argc > k->maxargs) {
		lerr(p, "%s: too many arguments", k->name);
		return;
	}
	for (i = 0; i < argc; i++) {
		if (*argv[i] == '\0') {
			lerr(p, "%s: empty argument", k->name);
			return;
		}
	}
	if ((k->flags & K_TOP) && p->in_block) {
		lerr(p, "%s is only allowed at top level, before the first "
		    "Tunnel", k->name);
		return;
	}

	switch (k->op) {
	case oTunnel:
		kw_tunnel(p, argv[0]);
		break;
	case oInclude:
		for (i = 0; i < argc; i++)
			kw_include(p, argv[i]);
		break;
	case oControlGroup:
		kw_string(p, k, &p->cfg->control_group, argv[0]);
		break;
	case oEnabled:
		kw_flag(p, k, &t->enabled, argv[0]);
		break;
	case oHostName:
		kw_string(p, k, &t->hostname, argv[0]);
		break;
	case oPort:
		if (parse_number(argv[0], 1, 65535, &n) != 0) {
			lerr(p, "Port: expected a number from 1 to 65535, "
			    "got '%s'", argv[0]);
			break;
		}
		if (t->port == CFG_UNSET)
			t->port = (int)n;
		break;
	case oUser:
		kw_string(p, k, &t->user, argv[0]);
		break;
	case oIdentityFile:
		add_identity(t, expand_tilde(argv[0]));
		break;
	case oCertificateFile:
		add_file(&t->certificate_files, &t->ncertificate_files,
		    expand_tilde(argv[0]));
		break;
	case oIdentityPassphraseFile:
		kw_secret(p, k, &t->identity_passphrase_file, argv[0]);
		break;
	case oPasswordFile:
		kw_secret(p, k, &t->password_file, argv[0]);
		break;
	case oIdentitiesOnly:
		kw_flag(p, k, &t->identities_only, argv[0]);
		break;
	case oIdentityAgent:
		kw_path(&t->identity_agent, argv[0]);
		break;
	case oUserKnownHostsFile:
		kw_path(&t->user_known_hosts_file, argv[0]);
		break;
	case oStrictHostKeyChecking:
		kw_strict(p, k, &t->strict_host_key_checking, argv[0]);
		break;
	case oHostKeyAlias:
		kw_string(p, k, &t->host_key_alias, argv[0]);
		break;
	case oProxyJump:
		kw_jump(p, t, argv[0], p->file, p->line);
		break;
	case oFallbackHost:
		kw_fallback(p, t, argv[0]);
		break;
	case oConnectTimeout:
		kw_time(p, k, &t->connect_timeout_ms, argv[0], 1);
		break;
	case oServerAliveInterval:
		kw_time(p, k, &t->server_alive_interval_ms, argv[0], 0);
		break;
	case oServerAliveCountMax:
		if (parse_number(argv[0], 1, INT_MAX, &n) != 0) {
			lerr(p, "ServerAliveCountMax: expected a number of at "
			    "least 1, got '%s'", argv[0]);
			break;
		}
		if (t->server_alive_count_max == CFG_UNSET)
			t->server_alive_count_max = (int)n;
		break;
	case oLocalForward:
	case oRemoteForward:
	case oDynamicForward:
		kw_forward(p, k, argc, argv);
		break;
	case oExitOnForwardFailure:
		kw_flag(p, k, &t->exit_on_forward_failure, argv[0]);
		break;
	case oGatewayPorts:
		kw_flag(p, k, &t->gateway_ports, argv[0]);
		break;
	case oStreamLocalBindUnlink:
		kw_flag(p, k, &t->stream_local_bind_unlink, argv[0]);
		break;
	case oCiphers:
		kw_algos(p, k, &t->ciphers, argv[0]);
		break;
	case oCompression:
		kw_flag(p, k, &t->compression, argv[0]);
		break;
	case oRetryMin:
		kw_time(p, k, &t->retry_min_ms, argv[0], 1);
		loc_set(p->cur_retry, p->file, p->line);
		break;
	case oRetryMax:
		kw_time(p, k, &t->retry_max_ms, argv[0], 1);
		loc_set(p->cur_retry, p->file, p->line);
		break;
	case oRetryNetworkMax:
		kw_time(p, k, &t->retry_network_max_ms, argv[0], 1);
		loc_set(p->cur_retry, p->file, p->line);
		break;
	case oForwardProbe:
		kw_flag(p, k, &t->forward_probe, argv[0]);
		break;
	case oProxyCommand:
	case oEventCommand:
	case oLocalCommand:
		break;		/* taken whole above */
	case oEventCommandTimeout:
		kw_time(p, k, &t->event_command_timeout_ms, argv[0], 1);
		break;
	case oPermitLocalCommand:
		kw_flag(p, k, &t->permit_local_command, argv[0]);
		break;
	case oForwardProbeInterval:
		kw_time(p, k, &t->forward_probe_interval_ms, argv[0], 0);
		break;
	case oSshConfig:
		kw_ssh_config(p, &t->ssh_config, argv[0]);
		break;
	case oStateFile:
		kw_path(&p->cfg->state_file, argv[0]);
		break;
	case oMetricsListen:
		kw_metrics_listen(p, k, argv[0]);
		break;
	case oIgnoreUnknown:
		kw_string(p, k, &t->ignore_unknown, argv[0]);
		break;
	case oKexAlgorithms:
		kw_algos(p, k, &t->kex_algorithms, argv[0]);
		break;
	case oHostKeyAlgorithms:
		kw_algos(p, k, &t->host_key_algorithms, argv[0]);
		break;
	case oPubkeyAcceptedAlgorithms:
		kw_algos(p, k, &t->pubkey_accepted_algorithms, argv[0]);
		break;
	case oMACs:
		kw_algos(p, k, &t->macs, argv[0]);
		break;
	case oRekeyLimit:
		kw_rekey(p, t, argc, argv);
		break;
	case oTCPKeepAlive:
		kw_flag(p, k, &t->tcp_keep_alive, argv[0]);
		break;
	case oProxyUseFdpass:
		kw_flag(p, k, &t->proxy_use_fdpass, argv[0]);
		break;
	case oBindAddress:
		kw_bind_address(p, &t->bind_address, argv[0]);
		break;
	case oBindInterface:
		if (strlen(argv[0]) >= IF_NAMESIZE) {
			lerr(p, "BindInterface: interface name too long: "
			    "'%s'", argv[0]);
			break;
		}
		kw_string(p, k, &t->bind_interface, argv[0]);
		break;
	case oAddressFamily:
		kw_address_family(p, &t->address_family, argv[0]);
		break;
	case oHashKnownHosts:
		kw_flag(p, k, &t->hash_known_hosts, argv[0]);
		break;
	case oRequiredRSASize:
		if (parse_number(argv[0], DEF_RSA_MIN, MAX_RSA_MIN, &n) != 0) {
			lerr(p, "RequiredRSASize: expected a number of bits from "
			    "%d to %d, got '%s'", DEF_RSA_MIN, MAX_RSA_MIN,
			    argv[0]);
			break;
		}
		if (t->required_rsa_size == CFG_UNSET)
			t->required_rsa_size = (int)n;
		break;
	}
}

/*
 * Parse the lines of one file (or string) in place. A tunnel block ends with
 * the file that opened it: the scope is back to what it was on return.
 */
static void
parse_text(struct parse *p, const char *file, char *text)
{
	struct tunnel_spec	*ocur = p->cur;
	struct cfg_loc		*oretry = p->cur_retry;
	const char		*ofile = p->file;
	char			*line, *nl;
	size_t			 len;
	int			 oline = p->line, oblock = p->in_block;

	p->file = file;
	p->line = 0;
	for (line = text; line != NULL; line = nl) {
		if (p->nerr >= CFG_MAX_ERRORS)
			break;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		if ((len = strlen(line)) > 0 && line[len - 1] == '\r')
			line[len - 1] = '\0';
		p->line++;
		parse_line(p, line);
	}
	scratch_end(p);
	p->cur = ocur;
	p->cur_retry = oretry;
	p->in_block = oblock;
	p->file = ofile;
	p->line = oline;
}

/* ---- SshConfig: what an ssh_config file gives the tunnel (sshconfig.c) -- */

/* Keywords of tunsupd.conf that ssh_config(5) does not have. */
static const enum opcode sshcfg_foreign_ops[] = {
	oInclude, oControlGroup, oEnabled, oRetryMin, oRetryMax,
	oRetryNetworkMax, oForwardProbe, oSshConfig, oEventCommand,
	oEventCommandTimeout, oForwardProbeInterval, oFallbackHost,
	oIdentityPassphraseFile, oPasswordFile, oStateFile, oMetricsListen,
};

static int
sshcfg_foreign(const struct keyword *k)
{
	size_t	i;

	for (i = 0; i < nitems(sshcfg_foreign_ops); i++) {
		if (k->op == sshcfg_foreign_ops[i])
			return 1;
	}
	return 0;
}

/*
 * A keyword of the ssh_config that tunsupd.conf does not have: judged by
 * the catalogue (sshkw.c) as in a tunnel block, each warning once per line
 * however many tunnels resolve through it.
 */
static void
sshcfg_unknown(struct parse *p, const struct sshcfg_item *it,
    const struct sshcfg_result *r)
{
	const struct sshcfg_item	*ign;
	const struct sshkw		*k;
	enum sshkw_use			 use = SSHKW_IGNORED;
	char				*v, *msg;
	size_t				 n;

	if ((ign = sshconfig_find(r, "IgnoreUnknown")) != NULL &&
	    ign->argc > 0 && sshconfig_match_list(it->keyword,
	    ign->argv[0], 1) == 1)
		return;
	v = args_join(it->argc, it->argv);
	if ((k = sshkw_find(it->keyword)) != NULL)
		use = sshkw_judge(k, v);
	if (use == SSHKW_REFUSED)
		lerr(p, "%s %s is not supported: %s", k->name, v, k->why);
	else if (use == SSHKW_IGNORED) {
		xasprintf(&msg, "ignored: %s%s%s%s%s", it->keyword,
		    *v != '\0' ? " " : "", v, k != NULL ? ": " : "",
		    k != NULL ? k->why : "");
		n = p->ignored.n;
		cfg_errors_add(&p->ignored, p->file, p->line, "%s", msg);
		if (p->ignored.n > n)
			lwarn(p, "%s", msg);
		free(msg);
	}
	free(v);
}

/* One setting, through the same keyword handling as a tunnel block line. */
static void
sshcfg_line(struct parse *p, const struct sshcfg_item *it,
    const struct sshcfg_result *r)
{
	const struct keyword	*k;
	struct strbuf		 sb;
	int			 i;

	if ((k = keyword_find(it->keyword)) == NULL || k->op == oTunnel) {
		/* ssh's Tunnel is a tun device, not a block. */
		sshcfg_unknown(p, it, r);
		return;
	}
	if (sshcfg_foreign(k)) {
		lerr(p, "%s is not an ssh_config keyword", k->name);
		return;
	}
	memset(&sb, 0, sizeof sb);
	sb_printf(&sb, "%s", k->name);
	if ((k->op == oProxyCommand || k->op == oLocalCommand) &&
	    it->argc == 1)
		sb_printf(&sb, " %s", it->argv[0]);	/* whole, as read */
	else {
		for (i = 0; i < it->argc; i++)
			sb_arg(&sb, it->argv[i]);
	}
	parse_line(p, sb.s);
	free(sb.s);
}

/* A list the tunnel set itself is not added to (tunsupd.conf(5)). */
static int
sshcfg_skip(const struct tunnel_spec *t, const struct sshcfg_item *it,
    int had_ids, int had_fwds)
{
	const char	*kw = it->keyword;

	if (strcasecmp(kw, "HostName") == 0 ||
	    strcasecmp(kw, "IgnoreUnknown") == 0)
		return 1;
	if (strcasecmp(kw, "IdentityFile") == 0)
		return had_ids;
	if (strcasecmp(kw, "LocalForward") == 0 ||
	    strcasecmp(kw, "RemoteForward") == 0 ||
	    strcasecmp(kw, "DynamicForward") == 0)
		return had_fwds;
	/* One way there: "ProxyJump none" leaves room for a ProxyCommand. */
	if (strcasecmp(kw, "ProxyJump") == 0)
		return t->jumps != NULL || t->proxy_command != NULL;
	if (strcasecmp(kw, "ProxyCommand") == 0)
		return t->njumps > 0;
	return 0;
}

/*
 * Resolve the tunnel's HostName (or name) through its SshConfig as
 * "ssh -F FILE -G HOST" would, with the tunnel's own settings in the place
 * of ssh's command line, and take what the tunnel did not set. Each setting
 * goes through parse_line, its errors at the ssh_config's file:line. Then
 * every ProxyJump hop is resolved through the same file.
 */
static void
sshcfg_apply(struct parse *p, struct tunnel_spec *t)
{
	struct sshcfg_query	 q;
	struct sshcfg_result	 r;
	struct tunnel_spec	*ocur = p->cur;
	struct cfg_loc		*oretry = p->cur_retry, retry = { NULL, 0 };
	const char		*ofile = p->file;
	int			 oline = p->line, oblock = p->in_block;
	int			 had_ids, had_fwds, n;
	size_t			 i;

	memset(&q, 0, sizeof q);
	q.host = t->hostname != NULL ? t->hostname : t->name;
	q.user = t->user;
	q.port = t->port;
	if (t->host_key_alias != NULL && strcmp(t->host_key_alias, "none") != 0)
		q.host_key_alias = t->host_key_alias;
	memset(&r, 0, sizeof r);
	if ((n = sshconfig_resolve(t->ssh_config, &q, &r, p->errs)) != 0) {
		p->nerr += (size_t)n;
		goto out;
	}
	had_ids = t->nidentity_files > 0;
	had_fwds = t->nforwards > 0;
	p->cur = t;
	p->cur_retry = &retry;
	p->in_block = 1;
	for (i = 0; i < r.nitems && p->nerr < CFG_MAX_ERRORS; i++) {
		if (sshcfg_skip(t, &r.items[i], had_ids, had_fwds))
			continue;
		p->file = r.items[i].file;
		p->line = r.items[i].line;
		sshcfg_line(p, &r.items[i], &r);
	}
	free(t->hostname);
	t->hostname = r.hostname;
	r.hostname = NULL;
	if (t->jumps != NULL && t->njumps > 0)
		p->nerr += (size_t)sshconfig_jumps(t->ssh_config, &t->jumps,
		    &t->njumps, t->file, t->line, p->errs);
	free(retry.file);
	p->cur = ocur;
	p->cur_retry = oretry;
	p->in_block = oblock;
	p->file = ofile;
	p->line = oline;
out:
	sshconfig_result_clear(&r);
}

/* ---- shared with sshconfig.c -------------------------------------------- */

int
cfg_split_line(char *line, char **kw, char **argv, const char **why)
{
	return split_line(line, kw, argv, why);
}

int
cfg_read_file(const char *path, char **text, char **why)
{
	return read_file(path, text, why);
}

char *
cfg_expand_tilde(const char *path)
{
	return expand_tilde(path);
}

int
cfg_parse_jumps(const char *s, struct jump_hop **out, size_t *nout,
    char **err)
{
	return parse_jumps(s, out, nout, err);
}

void
cfg_jumps_free(struct jump_hop *jumps, size_t n)
{
	jumps_free(jumps, n);
}

/* ---- merge, defaults, checks -------------------------------------------- */

static void
merge_int(int *dst, int src)
{
	if (*dst == CFG_UNSET)
		*dst = src;
}

static void
merge_long(long *dst, long src)
{
	if (*dst == CFG_UNSET)
		*dst = src;
}

static void
merge_str(char **dst, const char *src)
{
	if (*dst == NULL && src != NULL)
		*dst = xstrdup(src);
}

/* Give t what it did not set from the top-level defaults d. */
static void
spec_merge(struct tunnel_spec *t, const struct tunnel_spec *d)
{
	struct fwd_spec	 *fwds;
	size_t		  i;

	merge_int(&t->enabled, d->enabled);
	merge_str(&t->hostname, d->hostname);
	merge_int(&t->port, d->port);
	merge_str(&t->user, d->user);
	merge_int(&t->identities_only, d->identities_only);
	merge_str(&t->identity_agent, d->identity_agent);
	merge_str(&t->user_known_hosts_file, d->user_known_hosts_file);
	merge_int(&t->strict_host_key_checking, d->strict_host_key_checking);
	merge_str(&t->host_key_alias, d->host_key_alias);
	if (t->jumps == NULL && d->jumps != NULL) {
		t->jumps = jumps_copy(d->jumps, d->njumps);
		t->njumps = d->njumps;
	}
	/* The block's own FallbackHost lines replace the defaults' list. */
	if (t->nfallbacks == 0 && d->nfallbacks > 0) {
		t->fallbacks = jumps_copy(d->fallbacks, d->nfallbacks);
		t->nfallbacks = d->nfallbacks;
	}
	merge_long(&t->connect_timeout_ms, d->connect_timeout_ms);
	merge_long(&t->server_alive_interval_ms, d->server_alive_interval_ms);
	merge_int(&t->server_alive_count_max, d->server_alive_count_max);
	merge_int(&t->exit_on_forward_failure, d->exit_on_forward_failure);
	merge_int(&t->gateway_ports, d->gateway_ports);
	merge_int(&t->stream_local_bind_unlink, d->stream_local_bind_unlink);
	merge_str(&t->ciphers, d->ciphers);
	merge_int(&t->compression, d->compression);
	merge_long(&t->retry_min_ms, d->retry_min_ms);
	merge_long(&t->retry_max_ms, d->retry_max_ms);
	merge_long(&t->retry_network_max_ms, d->retry_network_max_ms);
	merge_int(&t->forward_probe, d->forward_probe);
	merge_str(&t->ssh_config, d->ssh_config);
	merge_str(&t->proxy_command, d->proxy_command);
	merge_str(&t->event_command, d->event_command);
	merge_long(&t->event_command_timeout_ms, d->event_command_timeout_ms);
	merge_str(&t->local_command, d->local_command);
	merge_int(&t->permit_local_command, d->permit_local_command);
	merge_long(&t->forward_probe_interval_ms, d->forward_probe_interval_ms);
	merge_str(&t->identity_passphrase_file, d->identity_passphrase_file);
	merge_str(&t->password_file, d->password_file);
	merge_str(&t->kex_algorithms, d->kex_algorithms);
	merge_str(&t->host_key_algorithms, d->host_key_algorithms);
	merge_str(&t->pubkey_accepted_algorithms,
	    d->pubkey_accepted_algorithms);
	merge_str(&t->macs, d->macs);
	merge_long(&t->rekey_data, d->rekey_data);
	merge_long(&t->rekey_time_ms, d->rekey_time_ms);
	merge_int(&t->tcp_keep_alive, d->tcp_keep_alive);
	merge_int(&t->proxy_use_fdpass, d->proxy_use_fdpass);
	merge_str(&t->bind_address, d->bind_address);
	merge_str(&t->bind_interface, d->bind_interface);
	merge_int(&t->address_family, d->address_family);
	merge_int(&t->hash_known_hosts, d->hash_known_hosts);
	merge_int(&t->required_rsa_size, d->required_rsa_size);

	/* Lists accumulate: the defaults' entries first. */
	files_merge(&t->identity_files, &t->nidentity_files,
	    d->identity_files, d->nidentity_files);
	files_merge(&t->certificate_files, &t->ncertificate_files,
	    d->certificate_files, d->ncertificate_files);
	if (d->nforwards > 0) {
		fwds = xcalloc(d->nforwards + t->nforwards, sizeof *fwds);
		for (i = 0; i < d->nforwards; i++)
			fwd_copy(&fwds[i], &d->forwards[i]);
		for (i = 0; i < t->nforwards; i++)
			fwds[d->nforwards + i] = t->forwards[i];
		free(t->forwards);
		t->forwards = fwds;
		t->nforwards += d->nforwards;
	}
}

static char *
default_user(void)
{
	return xstrdup(local_user());
}

static void
default_identities(struct tunnel_spec *t)
{
	static const char	*names[] = {
		"~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"
	};
	struct stat		 st;
	char			*path;
	size_t			 i;

	for (i = 0; i < nitems(names); i++) {
		path = expand_tilde(names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			add_identity(t, path);
		else
			free(path);
	}
}

/* The parser's "explicitly none" becomes NULL. */
static void
none_to_null(char **field)
{
	if (*field != NULL && strcmp(*field, "none") == 0) {
		free(*field);
		*field = NULL;
	}
}

/* Give every unset field its default (after spec_merge). */
/* A local listener without a bind address: loopback, or all (GatewayPorts). */
static void
fwd_fill_listen(const struct tunnel_spec *t, struct fwd_spec *fwd)
{
	if (!(fwd_kind_info(fwd->kind)->flags & FK_HERE) ||
	    fwd->listen.host != NULL || fwd->listen.path != NULL)
		return;
	free(fwd->listen_str);
	xasprintf(&fwd->listen_str, "%s:%d", t->gateway_ports ? "*" :
	    "localhost", fwd->listen.port);
}

static void
spec_fill(struct parse *p, struct tunnel_spec *t)
{
	const char	*sock;
	size_t		 i;

	if (t->ssh_config != NULL && strcmp(t->ssh_config, "none") != 0)
		sshcfg_apply(p, t);
	merge_int(&t->enabled, 1);
	merge_str(&t->hostname, t->name);
	merge_int(&t->port, 22);
	if (t->user == NULL)
		t->user = default_user();
	if (t->nidentity_files == 0)
		default_identities(t);
	merge_int(&t->identities_only, 0);
	if (t->identity_agent == NULL ||
	    strcmp(t->identity_agent, "SSH_AUTH_SOCK") == 0 ||
	    strcmp(t->identity_agent, "$SSH_AUTH_SOCK") == 0) {
		free(t->identity_agent);
		sock = getenv("SSH_AUTH_SOCK");
		t->identity_agent = xstrdup(sock != NULL && *sock != '\0' ?
		    sock : "none");
	}
	if (t->user_known_hosts_file == NULL)
		t->user_known_hosts_file = expand_tilde("~/.ssh/known_hosts");
	merge_int(&t->strict_host_key_checking, SHK_YES);
	none_to_null(&t->host_key_alias);
	if (t->jumps != NULL && t->njumps == 0) {
		free(t->jumps);
		t->jumps = NULL;
	}
	for (i = 0; i < t->njumps; i++)
		merge_int(&t->jumps[i].port, 22);
	for (i = 0; i < t->nfallbacks; i++)
		merge_int(&t->fallbacks[i].port, t->port);
	merge_long(&t->connect_timeout_ms, DEF_CONNECT_TIMEOUT);
	merge_long(&t->server_alive_interval_ms, DEF_ALIVE_INTERVAL);
	merge_int(&t->server_alive_count_max, DEF_ALIVE_COUNT);
	merge_int(&t->exit_on_forward_failure, 0);
	merge_int(&t->gateway_ports, 0);
	merge_int(&t->stream_local_bind_unlink, 0);
	merge_int(&t->compression, 0);
	merge_long(&t->retry_min_ms, DEF_RETRY_MIN);
	merge_long(&t->retry_max_ms, DEF_RETRY_MAX);
	merge_long(&t->retry_network_max_ms, DEF_RETRY_NET_MAX);
	merge_int(&t->forward_probe, 1);
	none_to_null(&t->ssh_config);
	none_to_null(&t->proxy_command);
	none_to_null(&t->event_command);
	merge_long(&t->event_command_timeout_ms, DEF_EVENT_TIMEOUT);
	none_to_null(&t->local_command);
	merge_int(&t->permit_local_command, 0);
	merge_long(&t->forward_probe_interval_ms, 0);
	none_to_null(&t->identity_passphrase_file);
	none_to_null(&t->password_file);
	merge_long(&t->rekey_data, 0);
	merge_long(&t->rekey_time_ms, 0);
	merge_int(&t->tcp_keep_alive, 1);
	merge_int(&t->proxy_use_fdpass, 0);
	merge_int(&t->address_family, CFG_AF_ANY);
	merge_int(&t->hash_known_hosts, 0);
	merge_int(&t->required_rsa_size, DEF_RSA_MIN);
	/* An IPv6 address has a colon, an IPv4 one none. */
	if (t->bind_address != NULL && t->address_family != CFG_AF_ANY &&
	    (strchr(t->bind_address, ':') != NULL) !=
	    (t->address_family == CFG_AF_INET6))
		perr(p, t->file, t->line, "BindAddress %s is not an address of "
		    "AddressFamily %s", t->bind_address,
		    cfg_af_names[t->address_family]);

	for (i = 0; i < t->nforwards; i++)
		fwd_fill_listen(t, &t->forwards[i]);
}

/* 1 if a and b listen on the same address on the same side. */
static int
fwd_clash(const struct fwd_spec *a, const struct fwd_spec *b)
{
	int	 la, lb;

	la = fwd_kind_info(a->kind)->flags & FK_HERE;
	lb = fwd_kind_info(b->kind)->flags & FK_HERE;
	if (la != lb || a->listen_str == NULL || b->listen_str == NULL ||
	    strcmp(a->listen_str, b->listen_str) != 0)
		return 0;
	/* Port 0: the server picks a new port for each. */
	return la || a->listen.path != NULL || a->listen.port != 0;
}

/*
 * Two forwards listening on the same address (on the same side) cannot both
 * be up: an error at the tunnel's line, after the defaults are merged.
 */
static void
check_forwards(struct parse *p, const struct tunnel_spec *t)
{
	const struct fwd_spec	*a;
	size_t			 i, j;

	for (i = 0; i < t->nforwards; i++) {
		a = &t->forwards[i];
		for (j = i + 1; j < t->nforwards; j++) {
			if (!fwd_clash(a, &t->forwards[j]))
				continue;
			perr(p, t->file, t->line, "tunnel %s: two %s forwards "
			    "listen on %s", t->name, fwd_kind_info(a->kind)->
			    flags & FK_HERE ? "local" : "remote",
			    a->listen_str);
			return;
		}
	}
}

/*
 * ProxyCommand and ProxyJump both say how to reach the server: ssh takes
 * whichever came first, which in a tunnel block merged with defaults is
 * anyone's guess; say so instead.
 */
static void
check_proxy(struct parse *p, const struct tunnel_spec *t)
{
	if (t->proxy_command != NULL && t->njumps > 0)
		perr(p, t->file, t->line, "tunnel %s: ProxyCommand and "
		    "ProxyJump exclude each other: give one", t->name);
}

/* RetryMin must not exceed either cap; reported where they were set. */
static void
check_retry(struct parse *p, const struct tunnel_spec *t,
    const struct cfg_loc *loc)
{
	long	min, max, net;
	char	a[32], b[32];

	if (loc->file == NULL)
		return;
	min = t->retry_min_ms != CFG_UNSET ? t->retry_min_ms : DEF_RETRY_MIN;
	max = t->retry_max_ms != CFG_UNSET ? t->retry_max_ms : DEF_RETRY_MAX;
	net = t->retry_network_max_ms != CFG_UNSET ?
	    t->retry_network_max_ms : DEF_RETRY_NET_MAX;
	fmt_time(min, 1, a, sizeof a);
	if (min > max) {
		fmt_time(max, 1, b, sizeof b);
		perr(p, loc->file, loc->line, "RetryMin (%s) is greater than "
		    "RetryMax (%s)", a, b);
	}
	if (min > net) {
		fmt_time(net, 1, b, sizeof b);
		perr(p, loc->file, loc->line, "RetryMin (%s) is greater than "
		    "RetryNetworkMax (%s)", a, b);
	}
}

/* ---- loading ------------------------------------------------------------ */

static struct cfg *
cfg_load_text(const char *name, char *text, int file, struct cfg_errors *errs)
{
	struct parse	 p;
	struct cfg	*cfg;
	size_t		 i;

	cfg = xcalloc(1, sizeof *cfg);
	cfg->path = xstrdup(name);
	spec_init(&cfg->defaults);

	memset(&p, 0, sizeof p);
	p.cfg = cfg;
	p.errs = errs;
	p.text_only = !file;
	p.warns = &cfg->warnings;
	p.cur = &cfg->defaults;
	p.cur_retry = &p.def_retry;
	parse_text(&p, name, text);

	check_retry(&p, &cfg->defaults, &p.def_retry);
	for (i = 0; i < cfg->ntunnels; i++) {
		spec_merge(cfg->tunnels[i], &cfg->defaults);
		check_retry(&p, cfg->tunnels[i], &p.tunnel_retry[i]);
		spec_fill(&p, cfg->tunnels[i]);
		check_forwards(&p, cfg->tunnels[i]);
		check_proxy(&p, cfg->tunnels[i]);
		free(p.tunnel_retry[i].file);
	}
	free(p.tunnel_retry);
	free(p.def_retry.file);
	cfg_errors_clear(&p.ignored);

	if (p.nerr > 0) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

struct cfg *
cfg_load(const char *path, struct cfg_errors *errs)
{
	struct cfg	*cfg;
	char		*text, *why;

	if (read_file(path, &text, &why) != 0) {
		cfg_errors_add(errs, path, 0, "%s", why);
		free(why);
		return NULL;
	}
	cfg = cfg_load_text(path, text, 1, errs);
	free(text);
	return cfg;
}

struct cfg *
cfg_load_string(const char *name, const char *text, struct cfg_errors *errs)
{
	struct cfg	*cfg;
	char		*copy;

	copy = xstrdup(text == NULL ? "" : text);
	cfg = cfg_load_text(name, copy, 0, errs);
	free(copy);
	return cfg;
}

void
cfg_free(struct cfg *cfg)
{
	size_t	i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->ntunnels; i++)
		tunnel_spec_free(cfg->tunnels[i]);
	free(cfg->tunnels);
	spec_clear(&cfg->defaults);
	cfg_errors_clear(&cfg->warnings);
	free(cfg->control_group);
	free(cfg->state_file);
	free(cfg->metrics_listen);
	free(cfg->path);
	free(cfg);
}

struct tunnel_spec *
cfg_take_tunnel(struct cfg *cfg, size_t i)
{
	struct tunnel_spec	*t;

	if (cfg == NULL || i >= cfg->ntunnels)
		return NULL;
	t = cfg->tunnels[i];
	memmove(&cfg->tunnels[i], &cfg->tunnels[i + 1],
	    (cfg->ntunnels - i - 1) * sizeof *cfg->tunnels);
	cfg->ntunnels--;
	return t;
}

/*
 * The body of one tunnel block parsed on its own ("add", the state file):
 * begin sets up p for lines of a block named name, whose "Tunnel" line is
 * file:line; end merges base's defaults, fills and checks the spec.
 */
static struct tunnel_spec *
body_begin(struct parse *p, struct cfg_loc *retry, struct cfg_errors *errs,
    struct cfg_errors *warns, const char *name, const char *file, int line)
{
	if (!tunnel_name_valid(name)) {
		cfg_errors_add(errs, file, line, "invalid tunnel name '%s' "
		    "(expected 1 to %d of A-Z a-z 0-9 . _ -)",
		    name == NULL ? "" : name, TUNNEL_NAME_MAX);
		return NULL;
	}
	memset(retry, 0, sizeof *retry);
	memset(p, 0, sizeof *p);
	p->errs = errs;
	p->warns = warns;
	p->cur = spec_new(name, file, line);
	p->cur_retry = retry;
	p->in_block = 1;
	p->add = 1;
	return p->cur;
}

static struct tunnel_spec *
body_end(struct parse *p, struct cfg_loc *retry, const struct cfg *base,
    struct tunnel_spec *t)
{
	if (base != NULL)
		spec_merge(t, &base->defaults);
	check_retry(p, t, retry);
	free(retry->file);
	spec_fill(p, t);
	check_forwards(p, t);
	check_proxy(p, t);
	cfg_errors_clear(&p->ignored);
	if (p->nerr > 0) {
		tunnel_spec_free(t);
		return NULL;
	}
	return t;
}

struct tunnel_spec *
cfg_parse_tunnel(const struct cfg *base, const char *name, const char *text,
    struct cfg_errors *errs, struct cfg_errors *warns)
{
	struct parse		 p;
	struct tunnel_spec	*t;
	struct cfg_loc		 retry;
	char			*copy;

	if ((t = body_begin(&p, &retry, errs, warns, name, "<add>", 0)) == NULL)
		return NULL;
	copy = xstrdup(text == NULL ? "" : text);
	parse_text(&p, "<add>", copy);
	free(copy);
	return body_end(&p, &retry, base, t);
}

struct tunnel_spec *
cfg_parse_tunnel_lines(const struct cfg *base, const char *name,
    const char *file, int line, const struct cfg_line *lines, size_t n,
    struct cfg_errors *errs, struct cfg_errors *warns)
{
	struct parse		 p;
	struct tunnel_spec	*t;
	struct cfg_loc		 retry;
	char			*copy;
	size_t			 i;

	if ((t = body_begin(&p, &retry, errs, warns, name, file, line)) == NULL)
		return NULL;
	for (i = 0; i < n && p.nerr < CFG_MAX_ERRORS; i++) {
		/* Each line's messages read "origin: message". */
		p.file = lines[i].origin;
		p.line = 0;
		copy = xstrdup(lines[i].text);
		parse_line(&p, copy);
		free(copy);
	}
	return body_end(&p, &retry, base, t);
}

int
cfg_keyword_known(const char *name)
{
	return keyword_find(name) != NULL;
}

/* ---- one spec's forwards (tunsupctl forward and cancel, the state file) -- */

struct tunnel_spec *
tunnel_spec_copy(const struct tunnel_spec *t)
{
	struct tunnel_spec	*c;

	/*
	 * Every field of a new spec is unset: the merge takes them all but
	 * IgnoreUnknown, which is the parser's and not a default.
	 */
	c = spec_new(t->name, t->file, t->line);
	if (t->ignore_unknown != NULL)
		c->ignore_unknown = xstrdup(t->ignore_unknown);
	spec_merge(c, t);
	return c;
}

int
tunnel_spec_parse_forward(const struct tunnel_spec *t, const char *line,
    struct fwd_spec *fwd, char **err)
{
	const struct keyword	*k;
	const char		*why;
	char			*copy, *kw, *argv[CFG_MAX_ARGS];
	int			 argc, r = -1;

	copy = xstrdup(line);
	if ((argc = split_line(copy, &kw, argv, &why)) == -1) {
		*err = xstrdup(why);
		goto out;
	}
	if (kw == NULL || (k = keyword_find(kw)) == NULL ||
	    (k->op != oLocalForward && k->op != oRemoteForward &&
	    k->op != oDynamicForward)) {
		xasprintf(err, "expected LocalForward, RemoteForward or "
		    "DynamicForward and its arguments, got '%s'", line);
		goto out;
	}
	if (argc < k->minargs || argc > k->maxargs) {
		xasprintf(err, "%s: %s arguments", k->name, argc < k->minargs ?
		    "missing" : "too many");
		goto out;
	}
	if (cfg_parse_forward(fwd_kind_of(k->op), argv[0], argc > 1 ?
	    argv[1] : NULL, fwd, err) != 0)
		goto out;
	fwd_fill_listen(t, fwd);
	r = 0;
out:
	free(copy);
	return r;
}

int
fwd_spec_equal(const struct fwd_spec *a, const struct fwd_spec *b)
{
	return a->kind == b->kind && a->listen_str != NULL &&
	    b->listen_str != NULL && strcmp(a->listen_str, b->listen_str) == 0 &&
	    (a->target_str == NULL) == (b->target_str == NULL) &&
	    (a->target_str == NULL || strcmp(a->target_str, b->target_str) == 0);
}

ssize_t
tunnel_spec_forward_find(const struct tunnel_spec *t, const struct fwd_spec *fwd,
    int clash)
{
	size_t	 i;

	for (i = 0; i < t->nforwards; i++) {
		if (clash ? fwd_clash(&t->forwards[i], fwd) :
		    fwd_spec_equal(&t->forwards[i], fwd))
			return (ssize_t)i;
	}
	return -1;
}

void
tunnel_spec_add_forward(struct tunnel_spec *t, struct fwd_spec *fwd)
{
	add_forward(t, fwd);
	memset(fwd, 0, sizeof(*fwd));
}

void
tunnel_spec_drop_forward(struct tunnel_spec *t, size_t i)
{
	fwd_spec_clear(&t->forwards[i]);
	memmove(&t->forwards[i], &t->forwards[i + 1],
	    (t->nforwards - i - 1) * sizeof(*t->forwards));
	t->nforwards--;
}

/* ---- dump --------------------------------------------------------------- */

void
sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	size_t	 n;

	va_start(ap, fmt);
	n = (size_t)xvasprintf(&s, fmt, ap);
	va_end(ap);
	if (sb->len + n + 1 > sb->size) {
		sb->size = (sb->len + n + 1) * 2;
		sb->s = xreallocarray(sb->s, 1, sb->size);
	}
	memcpy(sb->s + sb->len, s, n + 1);
	sb->len += n;
	free(s);
}

void
sb_arg(struct strbuf *sb, const char *arg)
{
	const char	*s;

	if (*arg != '\0' && strpbrk(arg, " \t\"'\\#") == NULL) {
		sb_printf(sb, " %s", arg);
		return;
	}
	sb_printf(sb, " \"");
	for (s = arg; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			sb_printf(sb, "\\");
		sb_printf(sb, "%c", *s);
	}
	sb_printf(sb, "\"");
}

static void
sb_kv(struct strbuf *sb, const char *kw, const char *value)
{
	sb_printf(sb, "%s", kw);
	sb_arg(sb, value == NULL ? "none" : value);
	sb_printf(sb, "\n");
}

/* Only when set: unset means libssh's (or the system's) default. */
static void
sb_opt(struct strbuf *sb, const char *kw, const char *value)
{
	if (value != NULL)
		sb_kv(sb, kw, value);
}

static void
sb_flag(struct strbuf *sb, const char *kw, int v)
{
	sb_printf(sb, "%s %s\n", kw, v ? "yes" : "no");
}

static void
sb_time(struct strbuf *sb, const char *kw, long ms)
{
	char	buf[32];

	fmt_time(ms, 0, buf, sizeof buf);
	sb_printf(sb, "%s %s\n", kw, buf);
}

/* "[user@]host[:port]", the port always if asked (else unless 22). */
static void
sb_hop(struct strbuf *sb, const struct jump_hop *j, int with_port)
{
	sb_printf(sb, "%s%s", j->user != NULL ? j->user : "",
	    j->user != NULL ? "@" : "");
	if (strchr(j->host, ':') != NULL)
		sb_printf(sb, "[%s]", j->host);
	else
		sb_printf(sb, "%s", j->host);
	if (with_port || j->port != 22 || strchr(j->host, ':') != NULL)
		sb_printf(sb, ":%d", j->port);
}

static void
sb_jumps(struct strbuf *sb, const struct tunnel_spec *t)
{
	const struct jump_hop	*j;
	size_t			 i, k;

	sb_printf(sb, "proxyjump ");
	if (t->njumps == 0)
		sb_printf(sb, "none");
	for (i = 0; i < t->njumps; i++) {
		sb_printf(sb, "%s", i > 0 ? "," : "");
		sb_hop(sb, &t->jumps[i], 0);
	}
	sb_printf(sb, "\n");
	/* What SshConfig gave a hop: "jumphost N keyword value". */
	for (i = 0; i < t->njumps; i++) {
		j = &t->jumps[i];
		for (k = 0; k < j->nidentity_files; k++) {
			sb_printf(sb, "jumphost %zu identityfile", i + 1);
			sb_arg(sb, j->identity_files[k]);
			sb_printf(sb, "\n");
		}
		if (j->host_key_alias != NULL) {
			sb_printf(sb, "jumphost %zu hostkeyalias", i + 1);
			sb_arg(sb, j->host_key_alias);
			sb_printf(sb, "\n");
		}
		if (j->user_known_hosts_file != NULL) {
			sb_printf(sb, "jumphost %zu userknownhostsfile", i + 1);
			sb_arg(sb, j->user_known_hosts_file);
			sb_printf(sb, "\n");
		}
	}
}

static void
sb_forward(struct strbuf *sb, const struct fwd_spec *fwd)
{
	const char	*name = fwd_keyword(fwd->kind);
	char		 kw[32];
	size_t		 i;

	/* Lowercase, as every keyword of the dump. */
	for (i = 0; name[i] != '\0' && i < sizeof(kw) - 1; i++)
		kw[i] = tolower((unsigned char)name[i]);
	kw[i] = '\0';
	sb_printf(sb, "%s", kw);
	sb_arg(sb, fwd->listen_str);
	if (fwd->target_str != NULL)
		sb_arg(sb, fwd->target_str);
	sb_printf(sb, "\n");
}

/* The -T dump; without its forward lines when forwards is 0. */
static char *
spec_dump(const struct tunnel_spec *t, int forwards)
{
	static const char	*shk[] = { "no", "yes", "accept-new" };
	struct strbuf		 sb;
	char			 buf[32];
	size_t			 i;

	memset(&sb, 0, sizeof sb);
	sb_kv(&sb, "tunnel", t->name);
	sb_flag(&sb, "enabled", t->enabled);
	sb_kv(&sb, "hostname", t->hostname);
	sb_printf(&sb, "port %d\n", t->port);
	sb_kv(&sb, "user", t->user);
	for (i = 0; i < t->nidentity_files; i++)
		sb_kv(&sb, "identityfile", t->identity_files[i]);
	for (i = 0; i < t->ncertificate_files; i++)
		sb_kv(&sb, "certificatefile", t->certificate_files[i]);
	if (t->identity_passphrase_file != NULL)
		sb_kv(&sb, "identitypassphrasefile",
		    t->identity_passphrase_file);
	if (t->password_file != NULL)
		sb_kv(&sb, "passwordfile", t->password_file);
	sb_flag(&sb, "identitiesonly", t->identities_only);
	sb_kv(&sb, "identityagent", t->identity_agent);
	sb_kv(&sb, "userknownhostsfile", t->user_known_hosts_file);
	sb_printf(&sb, "stricthostkeychecking %s\n",
	    t->strict_host_key_checking >= 0 &&
	    t->strict_host_key_checking < (int)nitems(shk) ?
	    shk[t->strict_host_key_checking] : "yes");
	sb_kv(&sb, "hostkeyalias", t->host_key_alias);
	sb_jumps(&sb, t);
	for (i = 0; i < t->nfallbacks; i++) {
		sb_printf(&sb, "fallbackhost ");
		sb_hop(&sb, &t->fallbacks[i], 1);
		sb_printf(&sb, "\n");
	}
	sb_time(&sb, "connecttimeout", t->connect_timeout_ms);
	sb_time(&sb, "serveraliveinterval", t->server_alive_interval_ms);
	sb_printf(&sb, "serveralivecountmax %d\n", t->server_alive_count_max);
	for (i = 0; forwards && i < t->nforwards; i++)
		sb_forward(&sb, &t->forwards[i]);
	sb_flag(&sb, "exitonforwardfailure", t->exit_on_forward_failure);
	sb_flag(&sb, "gatewayports", t->gateway_ports);
	sb_flag(&sb, "streamlocalbindunlink", t->stream_local_bind_unlink);
	sb_opt(&sb, "ciphers", t->ciphers);
	sb_flag(&sb, "compression", t->compression);
	sb_time(&sb, "retrymin", t->retry_min_ms);
	sb_time(&sb, "retrymax", t->retry_max_ms);
	sb_time(&sb, "retrynetworkmax", t->retry_network_max_ms);
	sb_flag(&sb, "forwardprobe", t->forward_probe);
	sb_kv(&sb, "sshconfig", t->ssh_config);
	/* Taken whole when read back: no quoting. */
	if (t->proxy_command != NULL)
		sb_printf(&sb, "proxycommand %s\n", t->proxy_command);
	sb_flag(&sb, "proxyusefdpass", t->proxy_use_fdpass);
	sb_opt(&sb, "kexalgorithms", t->kex_algorithms);
	sb_opt(&sb, "hostkeyalgorithms", t->host_key_algorithms);
	sb_opt(&sb, "pubkeyacceptedalgorithms", t->pubkey_accepted_algorithms);
	sb_opt(&sb, "macs", t->macs);
	fmt_time(t->rekey_time_ms, 0, buf, sizeof buf);
	sb_printf(&sb, "rekeylimit %ld %s\n", t->rekey_data, buf);
	sb_flag(&sb, "tcpkeepalive", t->tcp_keep_alive);
	sb_opt(&sb, "bindaddress", t->bind_address);
	sb_opt(&sb, "bindinterface", t->bind_interface);
	sb_printf(&sb, "addressfamily %s\n", cfg_af_names[
	    t->address_family >= 0 && t->address_family <
	    (int)nitems(cfg_af_names) ? t->address_family : 0]);
	sb_flag(&sb, "hashknownhosts", t->hash_known_hosts);
	sb_printf(&sb, "requiredrsasize %d\n", t->required_rsa_size);
	sb_opt(&sb, "ignoreunknown", t->ignore_unknown);
	sb_time(&sb, "forwardprobeinterval", t->forward_probe_interval_ms);
	if (t->event_command != NULL)
		sb_printf(&sb, "eventcommand %s\n", t->event_command);
	sb_time(&sb, "eventcommandtimeout", t->event_command_timeout_ms);
	if (t->local_command != NULL)
		sb_printf(&sb, "localcommand %s\n", t->local_command);
	sb_flag(&sb, "permitlocalcommand", t->permit_local_command);
	return sb.s;
}

char *
tunnel_spec_dump(const struct tunnel_spec *t)
{
	return spec_dump(t, 1);
}

static int
spec_dumps_equal(const struct tunnel_spec *a, const struct tunnel_spec *b,
    int forwards)
{
	char	*da, *db;
	int	 r;

	if (a == b)
		return 1;
	if (a == NULL || b == NULL)
		return 0;
	da = spec_dump(a, forwards);
	db = spec_dump(b, forwards);
	r = strcmp(da, db) == 0;
	free(da);
	free(db);
	return r;
}

int
tunnel_spec_equal(const struct tunnel_spec *a, const struct tunnel_spec *b)
{
	return spec_dumps_equal(a, b, 1);
}

int
tunnel_spec_equal_but_forwards(const struct tunnel_spec *a,
    const struct tunnel_spec *b)
{
	return spec_dumps_equal(a, b, 0);
}
