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
 * sshconfig.c: resolve a host through an ssh_config(5) file as
 * "ssh -F FILE -G HOST" does (tunsupd.conf(5), SshConfig).
 *
 * Host and Match blocks, Include (relative paths in ~/.ssh, globs, the
 * block's condition carried into the file), the second pass that
 * "Match final" asks for (Host lines then match the HostName), the first
 * value of each keyword (every value of a list keyword such as
 * IdentityFile), and the tokens and ${VAR}s each keyword takes. The values
 * themselves are judged by cfg.c, which applies them like tunnel lines.
 * Match exec is refused: reading the configuration runs no command.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cfg.h"
#include "sshconfig.h"
#include "util.h"

#define SC_MAX_DEPTH	16	/* Include levels, as ssh */
#define SC_MAX_HOPS	16	/* jump hosts in a resolved chain */


/* Keywords of which every value counts, not only the first. */
static const char *list_keywords[] = {
	"IdentityFile", "CertificateFile", "LocalForward", "RemoteForward",
	"DynamicForward", "SendEnv",
};

/* ssh_config(5) TOKENS: which %-tokens and ${VAR}s a keyword takes. */
#define TOK_FILES	"%CdhiklLnpru"

static const struct token_rule {
	const char	*keyword;
	const char	*tokens;
	int		 env;
	int		 paths_only;	/* only unix socket path arguments */
} token_rules[] = {
	{ "CertificateFile",	TOK_FILES,	1, 0 },
	{ "ControlPath",	TOK_FILES,	1, 0 },
	{ "IdentityAgent",	TOK_FILES,	1, 0 },
	{ "IdentityFile",	TOK_FILES,	1, 0 },
	{ "UserKnownHostsFile",	TOK_FILES,	1, 0 },
	{ "LocalForward",	TOK_FILES,	1, 1 },
	{ "RemoteForward",	TOK_FILES,	1, 1 },
	{ "ProxyJump",		"%hnpr",	0, 0 },
};

struct sc_read {
	const struct sshcfg_query *q;
	char			*host;	/* what Host lines match */
	const char		*luser;
	int			 final;	/* the pass "Match final" asked for */
	int			 want_final;
	struct sshcfg_result	*r;
	struct cfg_errors	*errs;
	int			 nerr;
};

/* What a token stands for, once the host is resolved. */
struct sc_token {
	char		 c;
	const char	*value;
};

#define SC_NTOKENS	11

static void	read_text(struct sc_read *, const char *, char *, int, int *,
		    int);

static void
sc_err(struct sc_read *rd, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
sc_err(struct sc_read *rd, const char *file, int line, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	cfg_errors_add(rd->errs, file, line, "%s", msg);
	free(msg);
	rd->nerr++;
}

static char *
lowercase(const char *s)
{
	char	*l, *w;

	l = xstrdup(s);
	for (w = l; *w != '\0'; w++)
		*w = (char)tolower((unsigned char)*w);
	return l;
}

/* ---- patterns ----------------------------------------------------------- */

/* One pattern with * and ?, as ssh's match_pattern. */
static int
pattern_match(const char *s, const char *pat, int nocase)
{
	const char	*star = NULL, *back = NULL;

	while (*s != '\0') {
		if (*pat == '*') {
			star = ++pat;
			back = s;
			continue;
		}
		if (*pat != '\0' && (*pat == '?' || *pat == *s || (nocase &&
		    tolower((unsigned char)*pat) == tolower((unsigned char)*s)))) {
			pat++;
			s++;
			continue;
		}
		if (star == NULL)
			return 0;
		pat = star;
		s = ++back;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

int
sshconfig_match_list(const char *s, const char *list, int nocase)
{
	char	*copy, *pat, *next;
	int	 got = 0, neg;

	copy = xstrdup(list);
	for (pat = copy; pat != NULL; pat = next) {
		if ((next = strchr(pat, ',')) != NULL)
			*next++ = '\0';
		if ((neg = *pat == '!'))
			pat++;
		if (!pattern_match(s, pat, nocase))
			continue;
		if (neg) {
			got = -1;
			break;
		}
		got = 1;
	}
	free(copy);
	return got;
}

/* A Host line: a pattern matches (exactly) and no negated one does. */
static int
host_line(const char *host, char **argv, int argc)
{
	int	i, neg, matched = 0;

	for (i = 0; i < argc; i++) {
		neg = argv[i][0] == '!';
		if (!pattern_match(host, argv[i] + neg, 0))
			continue;
		if (neg)
			return 0;
		matched = 1;
	}
	return matched;
}

/* ---- the settings found ------------------------------------------------- */

const struct sshcfg_item *
sshconfig_find(const struct sshcfg_result *r, const char *kw)
{
	size_t	i;

	for (i = 0; i < r->nitems; i++) {
		if (strcasecmp(r->items[i].keyword, kw) == 0)
			return &r->items[i];
	}
	return NULL;
}

static int
is_list_keyword(const char *kw)
{
	size_t	i;

	for (i = 0; i < nitems(list_keywords); i++) {
		if (strcasecmp(kw, list_keywords[i]) == 0)
			return 1;
	}
	return 0;
}

static int
same_args(const struct sshcfg_item *it, char **argv, int argc)
{
	int	i;

	if (it->argc != argc)
		return 0;
	for (i = 0; i < argc; i++) {
		if (strcmp(it->argv[i], argv[i]) != 0)
			return 0;
	}
	return 1;
}

/* First value wins; a list keyword keeps each value once. */
static void
record(struct sc_read *rd, const char *kw, char **argv, int argc,
    const char *file, int line)
{
	struct sshcfg_result	*r = rd->r;
	struct sshcfg_item	*it;
	const struct sshcfg_item *jump;
	int			 list = is_list_keyword(kw), i;
	size_t			 j;

	for (j = 0; j < r->nitems; j++) {
		it = &r->items[j];
		if (strcasecmp(it->keyword, kw) == 0 && (!list ||
		    same_args(it, argv, argc)))
			return;
	}
	/*
	 * ProxyJump and ProxyCommand: the first of either, except that
	 * "ProxyJump none" leaves room for a ProxyCommand (as ssh 9.2 -G).
	 */
	if (strcasecmp(kw, "ProxyJump") == 0 &&
	    sshconfig_find(r, "ProxyCommand") != NULL)
		return;
	if (strcasecmp(kw, "ProxyCommand") == 0 &&
	    (jump = sshconfig_find(r, "ProxyJump")) != NULL &&
	    (jump->argc == 0 || strcasecmp(jump->argv[0], "none") != 0))
		return;
	r->items = xreallocarray(r->items, r->nitems + 1, sizeof *r->items);
	it = &r->items[r->nitems++];
	it->keyword = xstrdup(kw);
	it->argc = argc;
	it->argv = xcalloc((size_t)argc + 1, sizeof *it->argv);
	for (i = 0; i < argc; i++)
		it->argv[i] = xstrdup(argv[i]);
	it->file = xstrdup(file);
	it->line = line;
}

void
sshconfig_result_clear(struct sshcfg_result *r)
{
	size_t	i;
	int	j;

	if (r == NULL)
		return;
	for (i = 0; i < r->nitems; i++) {
		for (j = 0; j < r->items[i].argc; j++)
			free(r->items[i].argv[j]);
		free(r->items[i].argv);
		free(r->items[i].keyword);
		free(r->items[i].file);
	}
	free(r->items);
	free(r->hostname);
	free(r->user);
	memset(r, 0, sizeof *r);
}

/* ---- the host, the user and the port as they stand ---------------------- */

/* HostName with %h (the alias, lowercased) and %%; ssh checks no more. */
static char *
hostname_now(struct sc_read *rd)
{
	const struct sshcfg_item	*it;
	char				*alias, *out, *w;
	const char			*s;
	size_t				 n = 0;

	alias = lowercase(rd->q->host);
	if ((it = sshconfig_find(rd->r, "HostName")) == NULL ||
	    it->argc < 1)
		return alias;
	for (s = it->argv[0]; *s != '\0'; s++)
		n += s[0] == '%' && s[1] == 'h';
	w = out = xmalloc(strlen(it->argv[0]) + n * strlen(alias) + 1);
	for (s = it->argv[0]; *s != '\0'; s++) {
		if (s[0] == '%' && s[1] == 'h') {
			w = stpcpy(w, alias);
			s++;
		} else if (s[0] == '%' && s[1] == '%') {
			*w++ = '%';
			s++;
		} else
			*w++ = *s;
	}
	*w = '\0';
	free(alias);
	alias = lowercase(out);
	free(out);
	return alias;
}

static const char *
user_now(struct sc_read *rd)
{
	const struct sshcfg_item	*it;

	if (rd->q->user != NULL)
		return rd->q->user;
	if ((it = sshconfig_find(rd->r, "User")) != NULL && it->argc > 0)
		return it->argv[0];
	return rd->luser;
}

/* A port number, or -1. */
static int
port_parse(const char *s)
{
	long	v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

static int
port_now(struct sc_read *rd)
{
	const struct sshcfg_item	*it;
	int				 port;

	if (rd->q->port > 0)
		return rd->q->port;
	if ((it = sshconfig_find(rd->r, "Port")) != NULL && it->argc > 0 &&
	    (port = port_parse(it->argv[0])) != -1)
		return port;
	return 22;
}

/* ---- Match -------------------------------------------------------------- */

/* 1 or 0 for a Match line, or -1 after an error. */
static int
match_line(struct sc_read *rd, const char *file, int line, char **argv,
    int argc)
{
	const char	*attr, *arg;
	char		*host;
	int		 i, neg, r, result = 1, only_cf = 1;

	if (argc == 0) {
		sc_err(rd, file, line, "Match: missing criteria");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		attr = argv[i];
		if ((neg = *attr == '!'))
			attr++;
		if (strcasecmp(attr, "all") == 0) {
			if (i + 1 != argc || !only_cf) {
				sc_err(rd, file, line, "Match all must appear "
				    "alone or after canonical or final");
				return -1;
			}
			r = 1;
		} else if (strcasecmp(attr, "canonical") == 0 ||
		    strcasecmp(attr, "final") == 0) {
			if (strcasecmp(attr, "final") == 0)
				rd->want_final = 1;
			/* tunsupd never canonicalizes: one final pass. */
			r = rd->final;
		} else {
			only_cf = 0;
			if (i + 1 == argc) {
				sc_err(rd, file, line, "Match %s: missing "
				    "argument", attr);
				return -1;
			}
			arg = argv[++i];
			if (strcasecmp(attr, "host") == 0) {
				host = hostname_now(rd);
				r = sshconfig_match_list(host, arg, 1) == 1;
				free(host);
			} else if (strcasecmp(attr, "originalhost") == 0)
				r = sshconfig_match_list(rd->q->host, arg,
				    1) == 1;
			else if (strcasecmp(attr, "user") == 0)
				r = sshconfig_match_list(user_now(rd), arg,
				    0) == 1;
			else if (strcasecmp(attr, "localuser") == 0)
				r = sshconfig_match_list(rd->luser, arg,
				    0) == 1;
			else if (strcasecmp(attr, "exec") == 0) {
				/* As ssh: not run once the line is false. */
				if (!result) {
					r = 0;
					continue;
				}
				sc_err(rd, file, line, "Match exec is not "
				    "supported: tunsupd runs no command to "
				    "read its configuration");
				return -1;
			} else {
				sc_err(rd, file, line, "Match: unsupported "
				    "criterion '%s'", attr);
				return -1;
			}
		}
		if (neg)
			r = !r;
		if (!r)
			result = 0;
	}
	return result;
}

/* ---- reading ------------------------------------------------------------ */

/* As ssh for included files: ours or root's, writable by no one else. */
static int
perm_ok(const char *path)
{
	struct stat	st;

	if (stat(path, &st) != 0)
		return 1;	/* the read says why */
	return (st.st_uid == 0 || st.st_uid == getuid()) &&
	    (st.st_mode & 022) == 0;
}

static void
include(struct sc_read *rd, const char *file, int line, const char *arg,
    int depth, int *activep, int nevermatch)
{
	char	*path, *dir, *text, *why;
	glob_t	 g;
	size_t	 i;
	int	 r, oactive = *activep;

	if (depth >= SC_MAX_DEPTH) {
		sc_err(rd, file, line, "Include nested too deeply (more than "
		    "%d levels)", SC_MAX_DEPTH);
		return;
	}
	/* As ssh for a user's configuration: relative to ~/.ssh. */
	if (*arg == '~' || *arg == '/')
		path = cfg_expand_tilde(arg);
	else {
		dir = cfg_expand_tilde("~/.ssh");
		xasprintf(&path, "%s/%s", dir, arg);
		free(dir);
	}
	memset(&g, 0, sizeof g);
	if ((r = glob(path, 0, NULL, &g)) != 0) {
		if (r != GLOB_NOMATCH)
			sc_err(rd, file, line, "Include %s: cannot expand the "
			    "pattern", arg);
		globfree(&g);
		free(path);
		return;
	}
	for (i = 0; i < g.gl_pathc; i++) {
		if (!perm_ok(g.gl_pathv[i])) {
			sc_err(rd, file, line, "Include %s: bad owner or "
			    "permissions (as ssh, an included file must be "
			    "ours or root's and writable by no one else)",
			    g.gl_pathv[i]);
			continue;
		}
		if (cfg_read_file(g.gl_pathv[i], &text, &why) != 0) {
			sc_err(rd, file, line, "Include %s: %s", g.gl_pathv[i],
			    why);
			free(why);
			continue;
		}
		/* A file included where the block is false matches nothing. */
		read_text(rd, g.gl_pathv[i], text, depth + 1, activep,
		    nevermatch || !oactive);
		*activep = oactive;
		free(text);
	}
	globfree(&g);
	free(path);
}

static void
read_text(struct sc_read *rd, const char *file, char *text, int depth,
    int *activep, int nevermatch)
{
	char		*line, *nl, *kw, *argv[CFG_MAX_ARGS], *rest;
	const char	*why;
	size_t		 len;
	int		 argc, lineno = 0, i, m;

	for (line = text; line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		if ((len = strlen(line)) > 0 && line[len - 1] == '\r')
			line[len - 1] = '\0';
		lineno++;
		/* Its quotes are the shell's: kept whole, as by ssh. */
		if ((rest = cfg_line_rest(line, "ProxyCommand")) != NULL) {
			if (*activep)
				record(rd, "ProxyCommand", &rest, 1, file,
				    lineno);
			free(rest);
			continue;
		}
		if ((argc = cfg_split_line(line, &kw, argv, &why)) == -1) {
			sc_err(rd, file, lineno, "%s", why);
			continue;
		}
		if (kw == NULL)
			continue;
		if (strcasecmp(kw, "Host") == 0) {
			if (argc == 0)
				sc_err(rd, file, lineno, "Host: missing "
				    "argument");
			*activep = !nevermatch && host_line(rd->host, argv,
			    argc);
		} else if (strcasecmp(kw, "Match") == 0) {
			m = match_line(rd, file, lineno, argv, argc);
			*activep = !nevermatch && m == 1;
		} else if (strcasecmp(kw, "Include") == 0) {
			if (argc == 0)
				sc_err(rd, file, lineno, "Include: missing "
				    "argument");
			for (i = 0; i < argc; i++)
				include(rd, file, lineno, argv[i], depth,
				    activep, nevermatch);
		} else if (*activep)
			record(rd, kw, argv, argc, file, lineno);
	}
}

static void
read_conf(struct sc_read *rd, const char *file, int depth, int *activep,
    int nevermatch)
{
	char	*text, *why;

	if (cfg_read_file(file, &text, &why) != 0) {
		sc_err(rd, file, 0, "%s", why);
		free(why);
		return;
	}
	read_text(rd, file, text, depth, activep, nevermatch);
	free(text);
}

/* ---- tokens ------------------------------------------------------------- */

static void
sha1_hex(const char *s, char *out)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n = 0, i;

	if (EVP_Digest(s, strlen(s), md, &n, EVP_sha1(), NULL) != 1)
		n = 0;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[2 * n] = '\0';
}

static const char *
token_value(const struct sc_token *tk, char c)
{
	size_t	i;

	for (i = 0; i < SC_NTOKENS; i++) {
		if (tk[i].c == c)
			return tk[i].value;
	}
	return NULL;
}

/*
 * Expand %x (those in allowed) and, with env, ${VAR}. NULL with *why set
 * (caller frees) for an unknown token or an unset variable.
 */
static char *
expand(const char *s, const char *allowed, int env,
    const struct sc_token *tk, char **why)
{
	struct strbuf	 sb;
	const char	*v, *end;
	char		*name;

	memset(&sb, 0, sizeof sb);
	sb_printf(&sb, "%s", "");
	for (; *s != '\0'; s++) {
		if (s[0] == '%' && s[1] == '%') {
			sb_printf(&sb, "%%");
			s++;
		} else if (s[0] == '%') {
			if (s[1] == '\0' || strchr(allowed, s[1]) == NULL ||
			    (v = token_value(tk, s[1])) == NULL) {
				xasprintf(why, "unknown token %%%c", s[1]);
				goto fail;
			}
			sb_printf(&sb, "%s", v);
			s++;
		} else if (env && s[0] == '$' && s[1] == '{') {
			if ((end = strchr(s + 2, '}')) == NULL) {
				xasprintf(why, "unterminated ${");
				goto fail;
			}
			name = xstrndup(s + 2, end - s - 2);
			if ((v = getenv(name)) == NULL) {
				xasprintf(why, "environment variable %s is not "
				    "set", name);
				free(name);
				goto fail;
			}
			free(name);
			sb_printf(&sb, "%s", v);
			s = end;
		} else
			sb_printf(&sb, "%c", *s);
	}
	return sb.s;

fail:
	free(sb.s);
	return NULL;
}

static void
expand_items(struct sc_read *rd, const struct sc_token *tk)
{
	const struct token_rule	*rule;
	struct sshcfg_item	*it;
	char			*v, *why;
	size_t			 i, j;
	int			 a;

	for (i = 0; i < rd->r->nitems; i++) {
		it = &rd->r->items[i];
		for (j = 0, rule = NULL; j < nitems(token_rules); j++) {
			if (strcasecmp(it->keyword, token_rules[j].keyword) ==
			    0)
				rule = &token_rules[j];
		}
		if (rule == NULL)
			continue;
		for (a = 0; a < it->argc; a++) {
			if (rule->paths_only && strchr(it->argv[a], '/') ==
			    NULL)
				continue;
			if ((v = expand(it->argv[a], rule->tokens, rule->env,
			    tk, &why)) == NULL) {
				sc_err(rd, it->file, it->line, "%s: %s",
				    it->keyword, why);
				free(why);
				continue;
			}
			free(it->argv[a]);
			it->argv[a] = v;
		}
	}
}

static void
resolve_tokens(struct sc_read *rd)
{
	const struct sshcfg_item	*it;
	const char			*k = rd->q->host;
	char				 lhost[256], lshort[256], c[64];
	char				 port[16], uid[32];
	char				*home, *cat;

	if (gethostname(lhost, sizeof lhost) != 0)
		snprintf(lhost, sizeof lhost, "localhost");
	lhost[sizeof lhost - 1] = '\0';
	snprintf(lshort, sizeof lshort, "%s", lhost);
	lshort[strcspn(lshort, ".")] = '\0';
	home = cfg_expand_tilde("~");
	snprintf(port, sizeof port, "%d", rd->r->port);
	snprintf(uid, sizeof uid, "%lu", (unsigned long)getuid());
	xasprintf(&cat, "%s%s%s%s", lhost, rd->r->hostname, port,
	    rd->r->user);
	sha1_hex(cat, c);
	free(cat);
	if (rd->q->host_key_alias != NULL)
		k = rd->q->host_key_alias;
	else if ((it = sshconfig_find(rd->r, "HostKeyAlias")) != NULL &&
	    it->argc > 0)
		k = it->argv[0];
	{
		const struct sc_token	tk[SC_NTOKENS] = {
			{ 'C', c }, { 'd', home }, { 'h', rd->r->hostname },
			{ 'i', uid }, { 'k', k }, { 'L', lshort },
			{ 'l', lhost }, { 'n', rd->q->host },
			{ 'p', port }, { 'r', rd->r->user },
			{ 'u', rd->luser },
		};

		expand_items(rd, tk);
	}
	free(home);
}

int
sshconfig_resolve(const char *path, const struct sshcfg_query *q,
    struct sshcfg_result *r, struct cfg_errors *errs)
{
	struct sc_read	rd;
	int		active = 1;

	memset(r, 0, sizeof *r);
	memset(&rd, 0, sizeof rd);
	rd.q = q;
	rd.r = r;
	rd.errs = errs;
	rd.luser = local_user();
	rd.host = xstrdup(q->host);
	read_conf(&rd, path, 0, &active, 0);
	if (rd.want_final && rd.nerr == 0) {
		/* The final pass: Host lines now match the HostName. */
		free(rd.host);
		rd.host = hostname_now(&rd);
		rd.final = 1;
		active = 1;
		read_conf(&rd, path, 0, &active, 0);
	}
	r->hostname = hostname_now(&rd);
	r->user = xstrdup(user_now(&rd));
	r->port = port_now(&rd);
	if (rd.nerr == 0)
		resolve_tokens(&rd);
	free(rd.host);
	return rd.nerr;
}

/* ---- ProxyJump, hop by hop ---------------------------------------------- */

static void
hop_from(struct jump_hop *hop, const struct jump_hop *in,
    const struct sshcfg_result *r)
{
	const struct sshcfg_item	*it;
	size_t				 i;

	memset(hop, 0, sizeof *hop);
	hop->user = xstrdup(in->user != NULL ? in->user : r->user);
	hop->host = xstrdup(r->hostname);
	hop->port = r->port;
	for (i = 0; i < r->nitems; i++) {
		it = &r->items[i];
		if (strcasecmp(it->keyword, "IdentityFile") != 0 ||
		    it->argc < 1)
			continue;
		hop->identity_files = xreallocarray(hop->identity_files,
		    hop->nidentity_files + 1, sizeof *hop->identity_files);
		hop->identity_files[hop->nidentity_files++] =
		    cfg_expand_tilde(it->argv[0]);
	}
	if ((it = sshconfig_find(r, "HostKeyAlias")) != NULL &&
	    it->argc > 0 && strcasecmp(it->argv[0], "none") != 0)
		hop->host_key_alias = xstrdup(it->argv[0]);
	if ((it = sshconfig_find(r, "UserKnownHostsFile")) != NULL &&
	    it->argc > 0)
		hop->user_known_hosts_file = cfg_expand_tilde(it->argv[0]);
}

/* What ssh would refuse or tunsupd cannot use in a hop's settings. */
static int
hop_check(const char *alias, const struct sshcfg_result *r,
    struct cfg_errors *errs)
{
	const struct sshcfg_item	*it;
	int				 n = 0;

	if ((it = sshconfig_find(r, "Port")) != NULL && it->argc > 0 &&
	    port_parse(it->argv[0]) == -1) {
		cfg_errors_add(errs, it->file, it->line, "Port: expected a "
		    "number from 1 to 65535, got '%s'", it->argv[0]);
		n++;
	}
	if ((it = sshconfig_find(r, "UserKnownHostsFile")) != NULL &&
	    it->argc > 1) {
		cfg_errors_add(errs, it->file, it->line, "UserKnownHostsFile: "
		    "too many arguments (jump host %s)", alias);
		n++;
	}
	return n;
}

static int
chain(const char *path, const struct jump_hop *in, size_t nin,
    struct jump_hop **out, size_t *nout, int depth, const char *file,
    int line, struct cfg_errors *errs)
{
	const struct sshcfg_item	*it;
	struct sshcfg_query		 q;
	struct sshcfg_result		 r;
	struct jump_hop			*sub;
	size_t				 i, nsub;
	char				*why;
	int				 n = 0;

	for (i = 0; i < nin && n == 0; i++) {
		memset(&q, 0, sizeof q);
		q.host = in[i].host;
		q.user = in[i].user;
		q.port = in[i].port > 0 ? in[i].port : -1;
		if ((n = sshconfig_resolve(path, &q, &r, errs)) == 0)
			n = hop_check(in[i].host, &r, errs);
		/* The first hop rides on its own ProxyJump, as ssh -J. */
		if (n == 0 && i == 0 &&
		    (it = sshconfig_find(&r, "ProxyJump")) != NULL &&
		    it->argc > 0 && strcasecmp(it->argv[0], "none") != 0) {
			if (depth >= SC_MAX_HOPS) {
				cfg_errors_add(errs, it->file, it->line,
				    "ProxyJump: more than %d jump hosts (do "
				    "the hosts name each other?)", SC_MAX_HOPS);
				n++;
			} else if (cfg_parse_jumps(it->argv[0], &sub, &nsub,
			    &why) != 0) {
				cfg_errors_add(errs, it->file, it->line, "%s",
				    why);
				free(why);
				n++;
			} else {
				n = chain(path, sub, nsub, out, nout,
				    depth + 1, it->file, it->line, errs);
				cfg_jumps_free(sub, nsub);
			}
		} else if (n == 0 && i == 0 &&
		    (it = sshconfig_find(&r, "ProxyCommand")) != NULL &&
		    it->argc > 0 && strcasecmp(it->argv[0], "none") != 0) {
			cfg_errors_add(errs, it->file, it->line, "ProxyCommand "
			    "for jump host %s is not supported: tunsupd runs "
			    "a ProxyCommand only for a tunnel without "
			    "ProxyJump", in[i].host);
			n++;
		}
		if (n == 0 && *nout >= SC_MAX_HOPS) {
			cfg_errors_add(errs, file, line, "ProxyJump: more than "
			    "%d jump hosts (do the hosts name each other?)",
			    SC_MAX_HOPS);
			n++;
		}
		if (n == 0) {
			*out = xreallocarray(*out, *nout + 1, sizeof **out);
			hop_from(&(*out)[(*nout)++], &in[i], &r);
		}
		sshconfig_result_clear(&r);
	}
	return n;
}

int
sshconfig_jumps(const char *path, struct jump_hop **jumps, size_t *njumps,
    const char *file, int line, struct cfg_errors *errs)
{
	struct jump_hop	*out = NULL;
	size_t		 nout = 0;
	int		 n;

	if ((n = chain(path, *jumps, *njumps, &out, &nout, 0, file, line,
	    errs)) != 0) {
		cfg_jumps_free(out, nout);
		return n;
	}
	cfg_jumps_free(*jumps, *njumps);
	*jumps = out;
	*njumps = nout;
	return 0;
}
