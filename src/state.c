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
 * state.c: the state file (state.h; tunsupd.conf(5), STATE FILE). The
 * records are kept in memory in file order and written whole after each
 * change: a temporary file next to it, fsync, rename, fsync of the
 * directory, so that a crash leaves the old file or the new one. Nothing
 * is replaced that is not a regular file of tunsupd's user.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "state.h"
#include "util.h"

#define STATE_FILE	"runtime.conf"
#define STATE_MAX	(16 * 1024 * 1024)
#define STATE_ARGS	3	/* keyword, name, argument */

struct state_rec;

/*
 * A kind of record: its keyword, whether an argument follows the name,
 * whether the lines of a tunnel block follow it, and what it does to a
 * configuration just loaded.
 */
struct state_kind {
	const char	*keyword;
	int		 has_arg;
	int		 block;
	int		 many;	/* may come more than once per tunnel */
	int		(*merge)(struct state *, struct state_rec *,
			    struct cfg *, struct cfg_errors *);
};

struct state_rec {
	const struct state_kind	*kind;
	char			*name;
	char			*arg;		/* Removed: the block's digest */
	struct cfg_line		*lines;		/* Tunnel: its block */
	size_t			 nlines;
	int			 line;		/* in the file; 0: not yet */
	int			 applied;	/* by the last merge */
	int			 stale;		/* no longer applies */
};

struct state {
	char			*path;		/* NULL: keep nothing */
	struct state_rec	*recs;
	size_t			 nrecs;
};

static int	merge_tunnel(struct state *, struct state_rec *, struct cfg *,
		    struct cfg_errors *);
static int	merge_removed(struct state *, struct state_rec *, struct cfg *,
		    struct cfg_errors *);

static int	merge_forward(struct state *, struct state_rec *, struct cfg *,
		    struct cfg_errors *);
static int	merge_cancelled(struct state *, struct state_rec *,
		    struct cfg *, struct cfg_errors *);

/* Forward and Cancelled: one forward line each, in their block. */
static const struct state_kind state_kinds[] = {
	{ "Tunnel",	0, 1, 0, merge_tunnel },
	{ "Removed",	1, 0, 0, merge_removed },
	{ "Forward",	0, 1, 1, merge_forward },
	{ "Cancelled",	0, 1, 1, merge_cancelled },
};

static const struct state_kind *
kind_find(const char *keyword)
{
	size_t	i;

	for (i = 0; i < nitems(state_kinds); i++) {
		if (strcasecmp(state_kinds[i].keyword, keyword) == 0)
			return &state_kinds[i];
	}
	return NULL;
}

static const struct state_kind *
kind_named(const char *keyword)
{
	const struct state_kind	*k;

	if ((k = kind_find(keyword)) == NULL)
		abort();	/* a keyword of the table above */
	return k;
}

/* ---- the path ------------------------------------------------------------ */

char *
state_default_path(const struct cfg *cfg)
{
	const char	*dir, *home;
	char		*path, *end;

	if (cfg != NULL && cfg->state_file != NULL) {
		if (strcmp(cfg->state_file, "none") == 0)
			return NULL;
		return xstrdup(cfg->state_file);
	}
	if ((dir = getenv("STATE_DIRECTORY")) != NULL && *dir == '/') {
		/* systemd gives one directory per StateDirectory= entry. */
		path = xstrdup(dir);
		if ((end = strchr(path, ':')) != NULL)
			*end = '\0';
		xasprintf(&end, "%s/%s", path, STATE_FILE);
		free(path);
		return end;
	}
	if (geteuid() == 0) {
		xasprintf(&path, "%s/lib/tunsupd/%s", LOCALSTATEDIR,
		    STATE_FILE);
		return path;
	}
	if ((dir = getenv("XDG_STATE_HOME")) != NULL && *dir == '/')
		xasprintf(&path, "%s/tunsupd/%s", dir, STATE_FILE);
	else {
		if ((home = getenv("HOME")) == NULL || *home != '/')
			home = "/";
		xasprintf(&path, "%s/.local/state/tunsupd/%s", home,
		    STATE_FILE);
	}
	return path;
}

/* ---- records --------------------------------------------------------------- */

static void
rec_clear(struct state_rec *r)
{
	size_t	i;

	for (i = 0; i < r->nlines; i++) {
		free(r->lines[i].text);
		free(r->lines[i].origin);
	}
	free(r->lines);
	free(r->name);
	free(r->arg);
	memset(r, 0, sizeof(*r));
}

static struct state_rec *
rec_append(struct state *st, const struct state_kind *k, const char *name,
    const char *arg, int line)
{
	struct state_rec	*r;

	st->recs = xreallocarray(st->recs, st->nrecs + 1, sizeof(*st->recs));
	r = &st->recs[st->nrecs++];
	memset(r, 0, sizeof(*r));
	r->kind = k;
	r->name = xstrdup(name);
	r->arg = arg != NULL ? xstrdup(arg) : NULL;
	r->line = line;
	return r;
}

static void
rec_delete(struct state *st, size_t i)
{
	rec_clear(&st->recs[i]);
	memmove(&st->recs[i], &st->recs[i + 1],
	    (st->nrecs - i - 1) * sizeof(*st->recs));
	st->nrecs--;
}

/* A line of a block, without its indentation; blanks and comments skipped. */
static void
rec_add_line(struct state_rec *r, const char *text, const char *origin)
{
	text += strspn(text, " \t");
	if (*text == '\0' || *text == '#')
		return;
	r->lines = xreallocarray(r->lines, r->nlines + 1, sizeof(*r->lines));
	r->lines[r->nlines].text = xstrdup(text);
	r->lines[r->nlines].origin = xstrdup(origin);
	r->nlines++;
}

static struct state_rec *
rec_find(struct state *st, const struct state_kind *k, const char *name,
    size_t *at)
{
	size_t	i;

	for (i = 0; i < st->nrecs; i++) {
		if (st->recs[i].kind == k && !st->recs[i].stale &&
		    strcmp(st->recs[i].name, name) == 0) {
			if (at != NULL)
				*at = i;
			return &st->recs[i];
		}
	}
	return NULL;
}

/* What a removed tunnel's block was: FNV-1a over its -T dump. */
static char *
spec_digest(const struct tunnel_spec *spec)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	char		*dump, *out;
	const char	*s;

	dump = tunnel_spec_dump(spec);
	for (s = dump; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	free(dump);
	xasprintf(&out, "%016llx", (unsigned long long)h);
	return out;
}

/* ---- reading --------------------------------------------------------------- */

/* Only a regular file of ours (or root's) that nobody else may change. */
static int
state_read(const char *path, char **text, struct cfg_errors *errs)
{
	struct stat	 sb, fsb;
	ssize_t		 n;
	size_t		 len = 0;
	char		*buf = NULL;
	int		 fd = -1, r = -1;

	*text = NULL;
	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			return 0;
		cfg_errors_add(errs, path, 0, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		cfg_errors_add(errs, path, 0, "not a regular file: a state "
		    "file is only ever one");
		return -1;
	}
	if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		cfg_errors_add(errs, path, 0, "owned by uid %lu, not by "
		    "tunsupd's user", (unsigned long)sb.st_uid);
		return -1;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		cfg_errors_add(errs, path, 0, "writable by group or others");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(fd, &fsb) != 0) {
		cfg_errors_add(errs, path, 0, "%s", strerror(errno));
		goto out;
	}
	if (fsb.st_dev != sb.st_dev || fsb.st_ino != sb.st_ino ||
	    fsb.st_size > STATE_MAX) {
		cfg_errors_add(errs, path, 0, "changed while read, or larger "
		    "than %d bytes", STATE_MAX);
		goto out;
	}
	buf = xmalloc((size_t)fsb.st_size + 1);
	while (len < (size_t)fsb.st_size) {
		n = read(fd, buf + len, (size_t)fsb.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			cfg_errors_add(errs, path, 0, "read: %s", n == 0 ?
			    "file shrank" : strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	*text = buf;
	buf = NULL;
	r = 0;
out:
	free(buf);
	if (fd != -1)
		close(fd);
	return r;
}

/* Split at blanks: at most max words, 0 past max. */
static int
split_words(char *s, char **words, int max)
{
	int	 n = 0;
	char	*w;

	while ((w = strsep(&s, " \t")) != NULL) {
		if (*w == '\0')
			continue;
		if (n == max)
			return 0;
		words[n++] = w;
	}
	return n;
}

static int
state_parse(struct state *st, char *text, struct cfg_errors *errs)
{
	const struct state_kind	*k;
	struct state_rec	*cur = NULL;
	char			*line, *nl, *copy, *origin, *w[STATE_ARGS];
	size_t			 len;
	int			 lineno = 0, n, r = 0;

	for (line = text; line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		if ((len = strlen(line)) > 0 && line[len - 1] == '\r')
			line[len - 1] = '\0';
		lineno++;
		line += strspn(line, " \t");
		if (*line == '\0' || *line == '#')
			continue;
		copy = xstrdup(line);
		n = split_words(copy, w, STATE_ARGS);
		if ((k = n > 0 ? kind_find(w[0]) : NULL) == NULL) {
			if (cur != NULL) {
				xasprintf(&origin, "%s:%d", st->path, lineno);
				rec_add_line(cur, line, origin);
				free(origin);
			} else {
				cfg_errors_add(errs, st->path, lineno,
				    "expected Tunnel, Removed, Forward or "
				    "Cancelled");
				r = -1;
			}
		} else if (n != 2 + k->has_arg || !tunnel_name_valid(w[1])) {
			cfg_errors_add(errs, st->path, lineno, "expected %s "
			    "NAME%s", k->keyword, k->has_arg ? " DIGEST" : "");
			r = -1;
			cur = NULL;
		} else if (!k->many && rec_find(st, k, w[1], NULL) != NULL) {
			cfg_errors_add(errs, st->path, lineno, "%s %s twice",
			    k->keyword, w[1]);
			r = -1;
			cur = NULL;
		} else {
			cur = rec_append(st, k, w[1], k->has_arg ? w[2] : NULL,
			    lineno);
			if (!k->block)
				cur = NULL;
		}
		free(copy);
	}
	return r;
}

struct state *
state_load(const char *path, struct cfg_errors *errs)
{
	struct state	*st;
	char		*text;

	st = xcalloc(1, sizeof(*st));
	if (path == NULL)
		return st;
	st->path = xstrdup(path);
	if (*path != '/') {
		cfg_errors_add(errs, path, 0, "the state file must be an "
		    "absolute path");
		goto fail;
	}
	if (state_read(path, &text, errs) != 0)
		goto fail;
	if (text != NULL && state_parse(st, text, errs) != 0) {
		free(text);
		goto fail;
	}
	free(text);
	return st;
fail:
	state_free(st);
	return NULL;
}

void
state_free(struct state *st)
{
	if (st == NULL)
		return;
	while (st->nrecs > 0)
		rec_delete(st, st->nrecs - 1);
	free(st->recs);
	free(st->path);
	free(st);
}

const char *
state_path(const struct state *st)
{
	return st->path;
}

/* ---- merging into a configuration ------------------------------------------ */

static ssize_t
cfg_index(const struct cfg *cfg, const char *name)
{
	size_t	i;

	for (i = 0; i < cfg->ntunnels; i++) {
		if (strcmp(cfg->tunnels[i]->name, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

static int
merge_tunnel(struct state *st, struct state_rec *r, struct cfg *cfg,
    struct cfg_errors *errs)
{
	struct tunnel_spec	*spec;

	if (cfg_index(cfg, r->name) != -1) {
		log_warn("%s: tunnel %s is in %s now: its runtime copy is "
		    "dropped", st->path, r->name, cfg->path);
		r->stale = 1;
		return 0;
	}
	spec = cfg_parse_tunnel_lines(cfg, r->name, st->path, r->line,
	    r->lines, r->nlines, errs, NULL);
	if (spec == NULL)
		return -1;
	cfg->tunnels = xreallocarray(cfg->tunnels, cfg->ntunnels + 1,
	    sizeof(*cfg->tunnels));
	cfg->tunnels[cfg->ntunnels++] = spec;
	r->applied = 1;
	return 0;
}

static int
merge_removed(struct state *st, struct state_rec *r, struct cfg *cfg,
    struct cfg_errors *errs)
{
	ssize_t	 i;
	char	*digest;

	if ((i = cfg_index(cfg, r->name)) == -1) {
		r->stale = 1;
		return 0;
	}
	digest = spec_digest(cfg->tunnels[i]);
	if (strcmp(digest, r->arg) != 0) {
		log_info("%s: tunnel %s changed in %s: its runtime removal "
		    "is undone", st->path, r->name, cfg->path);
		r->stale = 1;
	} else {
		tunnel_spec_free(cfg_take_tunnel(cfg, (size_t)i));
		r->applied = 1;
	}
	free(digest);
	return 0;
}

/*
 * The forward of a Forward or Cancelled record, as tunnel i of cfg reads
 * it; -1 with errs set.
 */
static int
rec_forward(struct state *st, struct state_rec *r, const struct tunnel_spec *t,
    struct fwd_spec *fwd, struct cfg_errors *errs)
{
	char	*err = NULL;

	memset(fwd, 0, sizeof(*fwd));
	if (r->nlines != 1) {
		cfg_errors_add(errs, st->path, r->line, "%s %s: expected one "
		    "forward line", r->kind->keyword, r->name);
		return -1;
	}
	if (tunnel_spec_parse_forward(t, r->lines[0].text, fwd, &err) != 0) {
		cfg_errors_add(errs, r->lines[0].origin, 0, "%s", err);
		free(err);
		return -1;
	}
	return 0;
}

/*
 * The tunnel of a Forward or Cancelled record in cfg and the record's
 * forward as that tunnel reads it: 1; 0 if the file has no such tunnel any
 * more (the record is stale); -1 with errs set.
 */
static int
rec_forward_in(struct state *st, struct state_rec *r, struct cfg *cfg,
    struct tunnel_spec **tp, struct fwd_spec *fwd, struct cfg_errors *errs)
{
	ssize_t	 i;

	if ((i = cfg_index(cfg, r->name)) == -1) {
		r->stale = 1;
		return 0;
	}
	*tp = cfg->tunnels[i];
	return rec_forward(st, r, *tp, fwd, errs) == 0 ? 1 : -1;
}

/*
 * A forward added at runtime joins its tunnel, unless the configuration
 * file has that forward now (the file owns it from then on: the record is
 * dropped) or another one listening there (the file wins).
 */
static int
merge_forward(struct state *st, struct state_rec *r, struct cfg *cfg,
    struct cfg_errors *errs)
{
	struct tunnel_spec	*t;
	struct fwd_spec		 fwd;
	int			 rc;

	if ((rc = rec_forward_in(st, r, cfg, &t, &fwd, errs)) != 1)
		return rc;
	if (tunnel_spec_forward_find(t, &fwd, 0) != -1) {
		log_info("%s: tunnel %s has %s in %s now: its runtime copy is "
		    "dropped", st->path, r->name, r->lines[0].text, cfg->path);
		r->stale = 1;
	} else if (tunnel_spec_forward_find(t, &fwd, 1) != -1) {
		log_warn("%s: tunnel %s in %s has another forward on %s: the "
		    "runtime %s is dropped", st->path, r->name, cfg->path,
		    fwd.listen_str, r->lines[0].text);
		r->stale = 1;
	} else {
		tunnel_spec_add_forward(t, &fwd);
		r->applied = 1;
	}
	fwd_spec_clear(&fwd);
	return 0;
}

/*
 * A forward cancelled at runtime stays out of its tunnel while the
 * configuration file has it; once the file drops it the record goes, so
 * that the file may bring it back later.
 */
static int
merge_cancelled(struct state *st, struct state_rec *r, struct cfg *cfg,
    struct cfg_errors *errs)
{
	struct tunnel_spec	*t;
	struct fwd_spec		 fwd;
	ssize_t			 j;
	int			 rc;

	if ((rc = rec_forward_in(st, r, cfg, &t, &fwd, errs)) != 1)
		return rc;
	if ((j = tunnel_spec_forward_find(t, &fwd, 0)) == -1)
		r->stale = 1;
	else {
		tunnel_spec_drop_forward(t, (size_t)j);
		r->applied = 1;
	}
	fwd_spec_clear(&fwd);
	return 0;
}

int
state_merge(struct state *st, struct cfg *cfg, struct cfg_errors *errs)
{
	int	*was;
	size_t	 i;
	int	 r = 0;

	/* A configuration refused changes nothing: the flags come back. */
	was = xcalloc(st->nrecs + 1, 2 * sizeof(*was));
	for (i = 0; i < st->nrecs; i++) {
		was[2 * i] = st->recs[i].applied;
		was[2 * i + 1] = st->recs[i].stale;
		st->recs[i].applied = st->recs[i].stale = 0;
	}
	for (i = 0; i < st->nrecs; i++) {
		if (st->recs[i].kind->merge(st, &st->recs[i], cfg, errs) != 0)
			r = -1;
	}
	for (i = 0; r != 0 && i < st->nrecs; i++) {
		st->recs[i].applied = was[2 * i];
		st->recs[i].stale = was[2 * i + 1];
	}
	free(was);
	return r;
}

int
state_added(const struct state *st, const char *name)
{
	size_t	i;

	for (i = 0; i < st->nrecs; i++) {
		if (st->recs[i].kind == kind_named("Tunnel") &&
		    st->recs[i].applied &&
		    strcmp(st->recs[i].name, name) == 0)
			return 1;
	}
	return 0;
}

const char *
state_removed(const struct state *st, size_t n)
{
	size_t	i;

	for (i = 0; i < st->nrecs; i++) {
		if (st->recs[i].kind != kind_named("Removed") ||
		    !st->recs[i].applied)
			continue;
		if (n-- == 0)
			return st->recs[i].name;
	}
	return NULL;
}

char *
state_forward_notes(const struct state *st, const char *name)
{
	const struct state_rec	*r;
	struct strbuf		 sb;
	size_t			 i;

	memset(&sb, 0, sizeof(sb));
	for (i = 0; i < st->nrecs; i++) {
		r = &st->recs[i];
		if (!r->kind->many || !r->applied || r->nlines != 1 ||
		    strcmp(r->name, name) != 0)
			continue;
		sb_printf(&sb, "# %s at runtime, kept in %s: %s\n",
		    r->kind == kind_named("Forward") ? "forward added" :
		    "forward cancelled", st->path, r->lines[0].text);
	}
	return sb.s;
}

/* ---- writing --------------------------------------------------------------- */

/* mkdir -p for the file's directory, new ones private. */
static int
make_parent(const char *path, char **err)
{
	char	*dir, *s;
	int	 last = 0, r = 0;

	dir = xstrdup(path);
	if ((s = strrchr(dir, '/')) != NULL)
		*s = '\0';
	for (s = dir; *dir != '\0' && !last && r == 0; s++) {
		if (s == dir || (*s != '/' && *s != '\0'))
			continue;
		last = *s == '\0';
		*s = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			xasprintf(err, "%s: %s", dir, strerror(errno));
			r = -1;
		}
		if (!last)
			*s = '/';
	}
	free(dir);
	return r;
}

/* The records as the file holds them; line numbers and origins updated. */
static char *
state_text(struct state *st)
{
	struct strbuf		 sb;
	struct state_rec	*r;
	size_t			 i, j;
	int			 line = 3;

	memset(&sb, 0, sizeof(sb));
	sb_printf(&sb, "# tunsupd state file: what tunsupctl added and "
	    "removed (tunsupd.conf(5),\n# STATE FILE). Written by tunsupd: "
	    "edit it only while tunsupd is stopped.\n");
	for (i = 0; i < st->nrecs; i++) {
		r = &st->recs[i];
		if (r->stale)
			continue;
		r->line = line++;
		sb_printf(&sb, "%s %s%s%s\n", r->kind->keyword, r->name,
		    r->arg != NULL ? " " : "", r->arg != NULL ? r->arg : "");
		for (j = 0; j < r->nlines; j++) {
			free(r->lines[j].origin);
			xasprintf(&r->lines[j].origin, "%s:%d", st->path,
			    line++);
			sb_printf(&sb, "    %s\n", r->lines[j].text);
		}
	}
	return sb.s;
}

static int
write_all(int fd, const char *s, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, s, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Replace path with text: never what is not a regular file of ours; the
 * new file is complete on disk before its name is.
 */
static int
state_write(const char *path, const char *text, char **err)
{
	struct stat	 sb;
	char		*tmp = NULL, *dir = NULL, *slash;
	int		 fd = -1, dfd = -1, r = -1;

	if (lstat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode)) {
			xasprintf(err, "%s: not a regular file: not replacing "
			    "it", path);
			goto out;
		}
		if (sb.st_uid != geteuid()) {
			xasprintf(err, "%s: owned by uid %lu: not replacing "
			    "it", path, (unsigned long)sb.st_uid);
			goto out;
		}
	} else if (errno != ENOENT) {
		xasprintf(err, "%s: %s", path, strerror(errno));
		goto out;
	} else if (make_parent(path, err) != 0)
		goto out;
	xasprintf(&tmp, "%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		xasprintf(err, "%s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, 0600) != 0 || write_all(fd, text, strlen(text)) != 0 ||
	    fsync(fd) != 0) {
		xasprintf(err, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		xasprintf(err, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		xasprintf(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir ? 1 : 0] = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);	/* the rename is done; best effort */
		close(dfd);
	}
	r = 0;
out:
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);	/* ours: mkostemp made it */
		free(tmp);
	}
	free(dir);
	return r;
}

/* Write the records; the stale ones are gone once written. */
static int
state_save(struct state *st, char **err)
{
	char	*text;
	size_t	 i;
	int	 r;

	text = state_text(st);
	r = state_write(st->path, text, err);
	free(text);
	if (r != 0)
		return -1;
	for (i = st->nrecs; i > 0; i--) {
		if (st->recs[i - 1].stale)
			rec_delete(st, i - 1);
	}
	return 0;
}

int
state_flush(struct state *st, char **err)
{
	size_t	i;

	if (st == NULL || st->path == NULL)
		return 0;
	for (i = 0; i < st->nrecs; i++) {
		if (st->recs[i].stale)
			return state_save(st, err);
	}
	return 0;
}

int
state_keep_add(struct state *st, const char *name, const char *block,
    char **err)
{
	struct state_rec	*r;
	char			*copy, *line, *nl;

	if (st == NULL || st->path == NULL)
		return 0;
	r = rec_append(st, kind_named("Tunnel"), name, NULL, 0);
	copy = xstrdup(block);
	for (line = copy; line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		rec_add_line(r, line, st->path);
	}
	free(copy);
	r->applied = 1;
	if (state_save(st, err) != 0) {
		rec_delete(st, st->nrecs - 1);
		return -1;
	}
	return 0;
}

/* Mark (or unmark) the Forward and Cancelled records of name stale. */
static void
recs_forwards_stale(struct state *st, const char *name, int stale)
{
	size_t	i;

	for (i = 0; i < st->nrecs; i++) {
		if (st->recs[i].kind->many &&
		    strcmp(st->recs[i].name, name) == 0)
			st->recs[i].stale = stale;
	}
}

int
state_keep_forward(struct state *st, const struct tunnel_spec *t,
    const struct fwd_spec *fwd, const char *line, int cancel, char **err)
{
	struct state_rec	*r;
	struct fwd_spec		 rf;
	struct cfg_errors	 errs = { NULL, 0 };
	const struct state_kind	*undo;
	size_t			 i;
	int			 same;

	if (st == NULL || st->path == NULL)
		return 0;
	/* The opposite record of the same forward is undone. */
	undo = kind_named(cancel ? "Forward" : "Cancelled");
	for (i = 0; i < st->nrecs; i++) {
		r = &st->recs[i];
		if (r->kind != undo || r->stale || !r->applied ||
		    strcmp(r->name, t->name) != 0 ||
		    rec_forward(st, r, t, &rf, &errs) != 0)
			continue;
		same = fwd_spec_equal(&rf, fwd);
		fwd_spec_clear(&rf);
		if (!same)
			continue;
		r->stale = 1;
		if (state_save(st, err) != 0) {
			r->stale = 0;
			cfg_errors_clear(&errs);
			return -1;
		}
		cfg_errors_clear(&errs);
		return 0;
	}
	cfg_errors_clear(&errs);
	r = rec_append(st, kind_named(cancel ? "Cancelled" : "Forward"),
	    t->name, NULL, 0);
	rec_add_line(r, line, st->path);
	r->applied = 1;
	if (state_save(st, err) != 0) {
		rec_delete(st, st->nrecs - 1);
		return -1;
	}
	return 0;
}

int
state_keep_remove(struct state *st, const struct tunnel_spec *spec,
    char **err)
{
	struct state_rec	*r, saved;
	size_t			 at;
	char			*digest;

	if (st == NULL || st->path == NULL)
		return 0;
	if ((r = rec_find(st, kind_named("Tunnel"), spec->name, &at)) != NULL) {
		/*
		 * Added at runtime: the record goes, the undo is complete;
		 * its forwards' records go with it (stale until written).
		 */
		recs_forwards_stale(st, spec->name, 1);
		r = &st->recs[at];
		saved = *r;
		memmove(&st->recs[at], &st->recs[at + 1],
		    (st->nrecs - at - 1) * sizeof(*st->recs));
		st->nrecs--;
		if (state_save(st, err) == 0) {
			rec_clear(&saved);
			return 0;
		}
		st->recs = xreallocarray(st->recs, st->nrecs + 1,
		    sizeof(*st->recs));
		memmove(&st->recs[at + 1], &st->recs[at],
		    (st->nrecs - at) * sizeof(*st->recs));
		st->recs[at] = saved;
		st->nrecs++;
		recs_forwards_stale(st, spec->name, 0);
		return -1;
	}
	digest = spec_digest(spec);
	r = rec_append(st, kind_named("Removed"), spec->name, digest, 0);
	r->applied = 1;
	free(digest);
	if (state_save(st, err) != 0) {
		rec_delete(st, st->nrecs - 1);
		return -1;
	}
	return 0;
}
