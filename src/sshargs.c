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
 * sshargs.c: an ssh or autossh command line as the lines of a tunnel block
 * (see sshargs.h, tunsupctl(1) add). Every option ssh(1) knows is in one
 * table: the keyword it becomes (cfg.c gives it its meaning, as for a line
 * of the file), a remark when it means nothing for a tunnel, or a refusal
 * that says why. Each line keeps the words it came from, so that a message
 * quotes what the user wrote.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "sshargs.h"
#include "util.h"

#define NOTE_LOG	"ignored: tunsupd logs to its standard error or " \
			"syslog (tunsupd -v, -q)"
#define NOTE_TTY	"ignored: tunsupd opens no terminal"
#define NOTE_MASTER	"ignored: tunsupd holds one session per tunnel " \
			"itself"
#define NOTE_MONITOR	"ignored: tunsupd probes the session itself " \
			"(ServerAliveInterval) and each forward (ForwardProbe)"
#define NOTE_NOTSUP	"ignored: not supported by this tunsupd"
#define NOTE_ALGOS	"ignored: libssh's default algorithms are used"
#define NOTE_GSSAPI	"ignored: tunsupd does not use GSSAPI"

enum sa_prog {
	PROG_NONE,	/* options only: -M is autossh's, as guides use it */
	PROG_SSH,
	PROG_AUTOSSH,
};

struct sa_state {
	struct sshargs	*sa;
	struct strbuf	 notes;
	char		*err;
	const char	*cwd;
	enum sa_prog	 prog;
	int		 monitor;	/* autossh monitors (-M port, not 0) */
	char		*poll;		/* AUTOSSH_POLL's value */
};

static int
sa_error(struct sa_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
sa_error(struct sa_state *st, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	xvasprintf(&st->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* "origin: note", once. */
static void
sa_note(struct sa_state *st, const char *origin, const char *note)
{
	char	*line;

	/* The notes so far, each after a newline, hold none like it? */
	xasprintf(&line, "\n%s: %s\n", origin, note);
	if (st->notes.s == NULL)
		sb_printf(&st->notes, "\n");
	if (strstr(st->notes.s, line) == NULL)
		sb_printf(&st->notes, "%s", line + 1);
	free(line);
}

static void
sa_line(struct sa_state *st, const char *text, const char *origin)
{
	struct sshargs	*sa = st->sa;

	sa->lines = xreallocarray(sa->lines, sa->nlines + 1,
	    sizeof(*sa->lines));
	sa->lines[sa->nlines].text = xstrdup(text);
	sa->lines[sa->nlines].origin = xstrdup(origin);
	sa->nlines++;
}

/*
 * What a keyword the parser does not know means on a command line: the ones
 * that ask for what tunsupd does anyway pass without a word (note NULL),
 * the others with a remark. A keyword the parser knows is the parser's.
 */
static const struct sa_fallback {
	const char	*keyword;
	const char	*value;		/* NULL: any value */
	const char	*note;
} sa_fallbacks[] = {
	{ "BatchMode",			"yes",	NULL },
	{ "BatchMode",			NULL,	"ignored: tunsupd never asks "
						"anything" },
	{ "TCPKeepAlive",		NULL,	"ignored: tunsupd finds a dead "
						"server with ServerAliveInterval" },
	{ "AddressFamily",		NULL,	NOTE_NOTSUP },
	{ "BindAddress",		NULL,	NOTE_NOTSUP },
	{ "BindInterface",		NULL,	NOTE_NOTSUP },
	{ "MACs",			NULL,	NOTE_ALGOS },
	{ "KexAlgorithms",		NULL,	NOTE_ALGOS },
	{ "HostKeyAlgorithms",		NULL,	NOTE_ALGOS },
	{ "PubkeyAcceptedAlgorithms",	NULL,	NOTE_ALGOS },
	{ "GSSAPIAuthentication",	NULL,	NOTE_GSSAPI },
	{ "GSSAPIDelegateCredentials",	NULL,	NOTE_GSSAPI },
	{ "ForwardAgent",		"no",	NULL },
	{ "ForwardX11",			"no",	NULL },
	{ "ForwardX11Trusted",		"no",	NULL },
	{ "PasswordAuthentication",	"no",	NULL },
	{ "KbdInteractiveAuthentication", "no",	NULL },
	{ "ChallengeResponseAuthentication", "no", NULL },
	{ "RequestTTY",			"no",	NULL },
	{ "SessionType",		"none",	NULL },
	{ "ForkAfterAuthentication",	NULL,	NULL },
	{ "ClearAllForwardings",	"no",	NULL },
	{ "ControlMaster",		"no",	NULL },
	{ "ControlPath",		"none",	NULL },
	{ "ControlPersist",		"no",	NULL },
	{ "EscapeChar",			NULL,	NOTE_TTY },
	{ "LogLevel",			NULL,	NOTE_LOG },
};

/*
 * "keyword value" (value as the parser reads it: quoted already, or raw
 * from -o), through the parser unless a fallback above applies.
 */
static void
sa_keyword(struct sa_state *st, const char *origin, const char *kw,
    const char *value, int raw)
{
	const struct sa_fallback	*f;
	struct strbuf			 sb;
	size_t				 i;

	for (i = 0; !cfg_keyword_known(kw) && i < nitems(sa_fallbacks); i++) {
		f = &sa_fallbacks[i];
		if (strcasecmp(f->keyword, kw) != 0 || (f->value != NULL &&
		    strcasecmp(f->value, value) != 0))
			continue;
		if (f->note != NULL)
			sa_note(st, origin, f->note);
		return;
	}
	memset(&sb, 0, sizeof(sb));
	sb_printf(&sb, "%s", kw);
	if (raw)
		sb_printf(&sb, " %s", value);
	else
		sb_arg(&sb, value);
	sa_line(st, sb.s, origin);
	free(sb.s);
}

/* -o "Key=Value" or -o "Key Value", the value as written. */
static int
sa_option(struct sa_state *st, const char *origin, const char *arg)
{
	const char	*key, *value;
	char		*kw;
	size_t		 len;

	key = arg + strspn(arg, " \t");
	len = strcspn(key, " \t=");
	if (len == 0)
		return sa_error(st, "%s: expected -o Keyword=value", origin);
	value = key + len;
	value += strspn(value, " \t");
	if (*value == '=')
		value++;
	value += strspn(value, " \t");
	if (*value == '\0')
		return sa_error(st, "%s: %.*s needs a value", origin,
		    (int)len, key);
	kw = xstrndup(key, len);
	/* ssh's Tunnel asks for a tun device; ours names a block. */
	if (strcasecmp(kw, "Tunnel") == 0) {
		free(kw);
		return sa_error(st, "%s: refused: tun devices are not "
		    "supported", origin);
	}
	sa_keyword(st, origin, kw, value, 1);
	free(kw);
	return 0;
}

/* A path relative to the user's directory, not the daemon's ("none" stays). */
static char *
sa_path(struct sa_state *st, const char *arg)
{
	char	*path;

	if (st->cwd == NULL || *arg == '/' || *arg == '~' ||
	    strcasecmp(arg, "none") == 0)
		return xstrdup(arg);
	xasprintf(&path, "%s/%s", st->cwd, arg);
	return path;
}

/* [user@]host or ssh://[user@]host[:port]. */
static int
sa_destination(struct sa_state *st, const char *arg)
{
	char	*copy, *host, *at, *cp, *port = NULL;
	int	 r = -1;

	copy = xstrdup(arg);
	host = copy;
	if (strncmp(host, "ssh://", 6) == 0) {
		host += 6;
		if ((cp = strrchr(host, ':')) != NULL &&
		    strchr(cp, ']') == NULL) {
			*cp++ = '\0';
			port = cp;
		}
	}
	if ((at = strrchr(host, '@')) != NULL) {
		*at = '\0';
		if (*host == '\0') {
			sa_error(st, "%s: empty user", arg);
			goto out;
		}
		sa_keyword(st, arg, "User", host, 0);
		host = at + 1;
	}
	if (*host == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		host++;
	}
	if (*host == '\0') {
		sa_error(st, "%s: empty host", arg);
		goto out;
	}
	sa_keyword(st, arg, "HostName", host, 0);
	if (port != NULL)
		sa_keyword(st, arg, "Port", port, 0);
	r = 0;
out:
	free(copy);
	return r;
}

/* What an option of ssh(1) does here. */
enum sa_action {
	SA_KEYWORD,	/* becomes keyword (with value, or its argument; the
			   forwards in ssh's one-argument form, which the
			   parser reads too) */
	SA_PATH,	/* the same, the argument a path */
	SA_OPTION,	/* -o */
	SA_MONITOR,	/* autossh's -M port[:echo] */
	SA_QUIET,	/* what tunsupd does anyway */
	SA_NOTE,	/* no meaning for a tunnel: accepted with a note */
	SA_REFUSE,	/* refused: text says why */
};

static const struct sa_opt {
	int		 opt;
	int		 has_arg;
	enum sa_action	 action;
	const char	*keyword;
	const char	*text;		/* the value, the note or the reason */
} sa_opts[] = {
	{ '4', 0, SA_KEYWORD,	"AddressFamily",	"inet" },
	{ '6', 0, SA_KEYWORD,	"AddressFamily",	"inet6" },
	{ 'A', 0, SA_REFUSE,	NULL,	"tunsupd never forwards an agent: the "
	    "server could use your keys while the tunnel is up" },
	{ 'a', 0, SA_QUIET,	NULL,			NULL },
	{ 'B', 1, SA_KEYWORD,	"BindInterface",	NULL },
	{ 'b', 1, SA_KEYWORD,	"BindAddress",		NULL },
	{ 'C', 0, SA_KEYWORD,	"Compression",		"yes" },
	{ 'c', 1, SA_KEYWORD,	"Ciphers",		NULL },
	{ 'D', 1, SA_KEYWORD,	"DynamicForward",	NULL },
	{ 'E', 1, SA_NOTE,	NULL,			NOTE_LOG },
	{ 'e', 1, SA_NOTE,	NULL,			NOTE_TTY },
	{ 'F', 1, SA_PATH,	"SshConfig",		NULL },
	{ 'f', 0, SA_QUIET,	NULL,			NULL },
	{ 'G', 0, SA_REFUSE,	NULL,	"it prints ssh's configuration and "
	    "connects nowhere (tunsupctl add --print prints the tunnel's)" },
	{ 'g', 0, SA_KEYWORD,	"GatewayPorts",		"yes" },
	{ 'I', 1, SA_REFUSE,	NULL,	"PKCS#11 tokens are not supported: "
	    "use a key file (-i) or an agent (IdentityAgent)" },
	{ 'i', 1, SA_PATH,	"IdentityFile",		NULL },
	{ 'J', 1, SA_KEYWORD,	"ProxyJump",		NULL },
	{ 'K', 0, SA_NOTE,	NULL,			NOTE_GSSAPI },
	{ 'k', 0, SA_QUIET,	NULL,			NULL },
	{ 'L', 1, SA_KEYWORD,	"LocalForward",		NULL },
	{ 'l', 1, SA_KEYWORD,	"User",			NULL },
	{ 'M', 1, SA_MONITOR,	NULL,			NULL },
	{ 'm', 1, SA_KEYWORD,	"MACs",			NULL },
	{ 'N', 0, SA_QUIET,	NULL,			NULL },
	{ 'n', 0, SA_QUIET,	NULL,			NULL },
	{ 'O', 1, SA_REFUSE,	NULL,	"it commands a running ssh, it is not "
	    "a tunnel" },
	{ 'o', 1, SA_OPTION,	NULL,			NULL },
	{ 'P', 1, SA_NOTE,	NULL,	"ignored: tunsupd has no Match tagged" },
	{ 'p', 1, SA_KEYWORD,	"Port",			NULL },
	{ 'Q', 1, SA_REFUSE,	NULL,	"it asks ssh what it supports, it is "
	    "not a tunnel" },
	{ 'q', 0, SA_NOTE,	NULL,			NOTE_LOG },
	{ 'R', 1, SA_KEYWORD,	"RemoteForward",	NULL },
	{ 'S', 1, SA_NOTE,	NULL,			NOTE_MASTER },
	{ 's', 0, SA_REFUSE,	NULL,	"it asks for a subsystem: tunsupd runs "
	    "no command or subsystem" },
	{ 'T', 0, SA_QUIET,	NULL,			NULL },
	{ 't', 0, SA_NOTE,	NULL,			NOTE_TTY },
	{ 'V', 0, SA_REFUSE,	NULL,	"it prints ssh's version" },
	{ 'v', 0, SA_NOTE,	NULL,			NOTE_LOG },
	{ 'W', 1, SA_REFUSE,	NULL,	"it joins standard input and output to "
	    "a port, and a tunnel has neither: use -L, or ProxyJump to go "
	    "through a host" },
	{ 'w', 1, SA_REFUSE,	NULL,	"tun devices are not supported" },
	{ 'X', 0, SA_NOTE,	NULL,	"ignored: tunsupd runs no command that "
	    "would use X11" },
	{ 'x', 0, SA_QUIET,	NULL,			NULL },
	{ 'Y', 0, SA_NOTE,	NULL,	"ignored: tunsupd runs no command that "
	    "would use X11" },
	{ 'y', 0, SA_NOTE,	NULL,			NOTE_LOG },
};

/* ssh's own -M: master mode for connection sharing. */
static const struct sa_opt sa_ssh_master =
	{ 'M', 0, SA_NOTE,	NULL,			NOTE_MASTER };

static const struct sa_opt *
sa_opt_find(const struct sa_state *st, int c)
{
	size_t	 i;

	if (c == 'M' && st->prog == PROG_SSH)
		return &sa_ssh_master;
	for (i = 0; i < nitems(sa_opts); i++) {
		if (sa_opts[i].opt == c)
			return &sa_opts[i];
	}
	return NULL;
}

/* autossh's -M port[:echo_port]: 0 turns its monitoring off. */
static int
sa_monitor(struct sa_state *st, const char *origin, const char *arg)
{
	char	*end;
	long	 port;

	port = strtol(arg, &end, 10);
	if (end == arg || (*end != '\0' && *end != ':') || port < 0 ||
	    port > 65535)
		return sa_error(st, "%s: expected autossh's -M port[:echo_port]",
		    origin);
	if (port != 0)
		st->monitor = 1;
	sa_note(st, origin, NOTE_MONITOR);
	return 0;
}

static int
sa_one(struct sa_state *st, const struct sa_opt *o, const char *origin,
    const char *arg)
{
	char	*path;

	switch (o->action) {
	case SA_KEYWORD:
		sa_keyword(st, origin, o->keyword, o->has_arg ? arg : o->text,
		    0);
		return 0;
	case SA_PATH:
		path = sa_path(st, arg);
		sa_keyword(st, origin, o->keyword, path, 0);
		free(path);
		return 0;
	case SA_OPTION:
		return sa_option(st, origin, arg);
	case SA_MONITOR:
		return sa_monitor(st, origin, arg);
	case SA_QUIET:
		return 0;
	case SA_NOTE:
		sa_note(st, origin, o->text);
		return 0;
	case SA_REFUSE:
		return sa_error(st, "%s: refused: %s", origin, o->text);
	}
	return 0;
}

/*
 * The user's words for option c of word (and its argument arg, attached or
 * the next word): "-p 2222", "-p2222", "-f (in -fNT)", "-N (in -fNT)".
 */
static char *
sa_origin(const char *word, const char *opt, const char *arg, int attached)
{
	struct strbuf	 sb;

	memset(&sb, 0, sizeof(sb));
	if (opt == word + 1 && (attached || (arg == NULL && opt[1] == '\0')))
		sb_printf(&sb, "%s", word);
	else if (opt == word + 1 && arg != NULL) {
		sb_printf(&sb, "%s", word);
		sb_arg(&sb, arg);
	} else {
		sb_printf(&sb, "-%c", *opt);
		if (arg != NULL)
			sb_arg(&sb, arg);
		sb_printf(&sb, " (in %s)", word);
	}
	return sb.s;
}

/*
 * The environment of a pasted autossh line (autossh(1) ENVIRONMENT): the
 * keyword a variable becomes, or a note.
 */
static const struct sa_env {
	const char	*name;
	const char	*keyword;
	const char	*note;
} sa_envs[] = {
	{ "AUTOSSH_POLL",	NULL,	NULL },	/* see sa_finish */
	{ "AUTOSSH_FIRST_POLL",	NULL,	"ignored: tunsupd's keepalive starts "
	    "with the session" },
	{ "AUTOSSH_GATETIME",	NULL,	"ignored: tunsupd retries a failed "
	    "first attempt too, with backoff (RetryMin, RetryMax)" },
	{ "AUTOSSH_MAXSTART",	NULL,	"ignored: tunsupd retries until the "
	    "tunnel is stopped" },
	{ "AUTOSSH_MAXLIFETIME", NULL,	"ignored: a tunnel runs until it is "
	    "stopped" },
	{ "AUTOSSH_PORT",	NULL,	NULL },	/* as -M */
	{ "AUTOSSH_PATH",	NULL,	"ignored: tunsupd speaks ssh itself" },
	{ "AUTOSSH_LOGFILE",	NULL,	NOTE_LOG },
	{ "AUTOSSH_LOGLEVEL",	NULL,	NOTE_LOG },
	{ "AUTOSSH_DEBUG",	NULL,	NOTE_LOG },
	{ "AUTOSSH_PIDFILE",	NULL,	"ignored: tunsupctl status shows "
	    "tunsupd's pid" },
	{ "AUTOSSH_MESSAGE",	NULL,	"ignored: tunsupd sends no echo "
	    "message" },
	{ "AUTOSSH_NTSERVICE",	NULL,	"ignored: tunsupd is not a Windows "
	    "service" },
	{ "SSH_AUTH_SOCK",	"IdentityAgent", NULL },
};

/* NAME=value before the command, as a shell line sets the environment. */
static int
sa_is_env(const char *word)
{
	const char	*s;

	if (!isalpha((unsigned char)*word) && *word != '_')
		return 0;
	for (s = word; isalnum((unsigned char)*s) || *s == '_'; s++)
		;
	return *s == '=';
}

static int
sa_env(struct sa_state *st, const char *word)
{
	const struct sa_env	*e = NULL;
	const char		*value;
	size_t			 i, len;

	value = strchr(word, '=') + 1;
	len = value - word - 1;
	for (i = 0; i < nitems(sa_envs); i++) {
		if (strlen(sa_envs[i].name) == len &&
		    strncmp(sa_envs[i].name, word, len) == 0)
			e = &sa_envs[i];
	}
	if (e == NULL)
		return sa_error(st, "%s: refused: neither autossh nor ssh "
		    "reads %.*s", word, (int)len, word);
	if (strcmp(e->name, "AUTOSSH_POLL") == 0) {
		free(st->poll);
		st->poll = xstrdup(value);
		return 0;
	}
	if (strcmp(e->name, "AUTOSSH_PORT") == 0)
		return sa_monitor(st, word, value);
	if (e->keyword != NULL)
		sa_keyword(st, word, e->keyword, value, 0);
	else
		sa_note(st, word, e->note);
	return 0;
}

/* "ssh", "autossh" or a path to one, if more words follow. */
static enum sa_prog
sa_program(const char *word)
{
	const char	*base;

	base = strrchr(word, '/') != NULL ? strrchr(word, '/') + 1 : word;
	if (strcmp(base, "ssh") == 0)
		return PROG_SSH;
	if (strcmp(base, "autossh") == 0)
		return PROG_AUTOSSH;
	return PROG_NONE;
}

/*
 * Last, so that the line's own options come first (the first value wins):
 * autossh's poll interval is how often it checks the session, which is
 * what ServerAliveInterval is here; without a monitoring port it checks
 * nothing.
 */
static void
sa_finish(struct sa_state *st)
{
	char	*origin;

	if (st->poll == NULL)
		return;
	xasprintf(&origin, "AUTOSSH_POLL=%s", st->poll);
	if (st->monitor) {
		sa_keyword(st, origin, "ServerAliveInterval", st->poll, 0);
		sa_note(st, origin, "taken as ServerAliveInterval, unless "
		    "the line sets that");
	} else
		sa_note(st, origin, "ignored: without a monitoring port "
		    "(-M 0) autossh polls nothing");
	free(origin);
}

/* One option word: "-fNT", "-p2222", "-p" and its argument. */
static int
sa_word(struct sa_state *st, int argc, char *const *argv, int *i)
{
	const struct sa_opt	*o;
	const char		*word = argv[*i], *opt, *arg;
	char			*origin;
	int			 r, attached;

	for (opt = word + 1; *opt != '\0'; opt++) {
		if ((o = sa_opt_find(st, *opt)) == NULL) {
			if (word[2] == '\0')
				return sa_error(st, "%s: unknown ssh option",
				    word);
			return sa_error(st, "-%c (in %s): unknown ssh option",
			    *opt, word);
		}
		arg = NULL;
		attached = 0;
		if (o->has_arg) {
			if (opt[1] != '\0') {
				arg = opt + 1;
				attached = 1;
			} else if (*i + 1 < argc)
				arg = argv[++*i];
			else if (opt == word + 1)
				return sa_error(st, "%s: needs an argument",
				    word);
			else
				return sa_error(st, "-%c (in %s): needs an "
				    "argument", *opt, word);
		}
		origin = sa_origin(word, opt, arg, attached);
		r = sa_one(st, o, origin, arg);
		free(origin);
		if (r != 0)
			return -1;
		if (arg != NULL)
			break;	/* the rest of the word was the value */
	}
	return 0;
}

int
sshargs_parse(struct sshargs *sa, int argc, char *const *argv,
    const char *cwd, char **err)
{
	struct sa_state	 st;
	int		 i = 0, have_dest = 0, options = 1;

	memset(sa, 0, sizeof(*sa));
	memset(&st, 0, sizeof(st));
	st.sa = sa;
	st.cwd = cwd;
	*err = NULL;
	for (; i < argc && sa_is_env(argv[i]); i++) {
		if (sa_env(&st, argv[i]) != 0)
			goto fail;
	}
	if (i + 1 < argc && (st.prog = sa_program(argv[i])) != PROG_NONE)
		i++;
	for (; i < argc; i++) {
		if (options && strcmp(argv[i], "--") == 0) {
			options = 0;
			continue;
		}
		if (options && argv[i][0] == '-' && argv[i][1] != '\0') {
			if (sa_word(&st, argc, argv, &i) != 0)
				goto fail;
			continue;
		}
		if (have_dest) {
			sa_error(&st, "%s: refused: tunsupd runs no remote "
			    "command", argv[i]);
			goto fail;
		}
		if (sa_destination(&st, argv[i]) != 0)
			goto fail;
		have_dest = 1;
	}
	if (!have_dest) {
		sa_error(&st, "missing [user@]host");
		goto fail;
	}
	sa_finish(&st);
	for (i = 0; i < (int)sa->nlines; i++) {
		/* One line each: a line break would start another. */
		if (strpbrk(sa->lines[i].text, "\r\n") != NULL) {
			sa_error(&st, "%s: refused: a value cannot hold a "
			    "line break", sa->lines[i].origin);
			goto fail;
		}
	}
	if (st.notes.s != NULL) {	/* without the first and last newline */
		st.notes.s[st.notes.len - 1] = '\0';
		sa->notes = xstrdup(st.notes.s + 1);
		free(st.notes.s);
	}
	free(st.poll);
	return 0;

fail:
	free(st.notes.s);
	free(st.poll);
	sshargs_clear(sa);
	*err = st.err;
	return -1;
}

void
sshargs_clear(struct sshargs *sa)
{
	size_t	 i;

	for (i = 0; i < sa->nlines; i++) {
		free(sa->lines[i].text);
		free(sa->lines[i].origin);
	}
	free(sa->lines);
	free(sa->notes);
	memset(sa, 0, sizeof(*sa));
}

void
sshargs_add_notes(struct sshargs *sa, const struct cfg_errors *warns)
{
	char	*w, *all;

	if ((w = cfg_errors_join(warns)) == NULL)
		return;
	if (sa->notes == NULL)
		sa->notes = w;
	else {
		xasprintf(&all, "%s\n%s", sa->notes, w);
		free(sa->notes);
		free(w);
		sa->notes = all;
	}
}

char *
sshargs_block(const struct sshargs *sa, const char *indent)
{
	struct strbuf	 sb;
	size_t		 i;

	memset(&sb, 0, sizeof(sb));
	sb_printf(&sb, "%s", "");
	for (i = 0; i < sa->nlines; i++)
		sb_printf(&sb, "%s%s\n", indent, sa->lines[i].text);
	return sb.s;
}
