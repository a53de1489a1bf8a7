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
 * sshconfig.h: resolve a host through an ssh_config(5) file as
 * "ssh -F FILE -G HOST" does (tunsupd.conf(5), SshConfig).
 *
 * The result is the list of settings ssh would use for the host, each with
 * the file and line it came from; cfg.c applies them to a tunnel through its
 * own keyword handling, below what the tunnel block sets.
 */
#ifndef TUNSUP_SSHCONFIG_H
#define TUNSUP_SSHCONFIG_H

#include <stddef.h>

struct cfg_errors;
struct jump_hop;

/* What ssh would take from its command line: set fields win over the file. */
struct sshcfg_query {
	const char	*host;		/* the alias, as "ssh HOST" */
	const char	*user;		/* -l, or NULL */
	int		 port;		/* -p, or -1 */
	const char	*host_key_alias; /* -o HostKeyAlias=, or NULL */
};

/* One setting in effect: the first value (every value of a list keyword). */
struct sshcfg_item {
	char	 *keyword;	/* as written in the file */
	char	**argv;		/* unquoted; tokens expanded as ssh does */
	int	  argc;
	char	 *file;
	int	  line;
};

struct sshcfg_result {
	char			*hostname;	/* HostName with %h, lowercased */
	char			*user;		/* the remote user */
	int			 port;
	struct sshcfg_item	*items;		/* in the order first seen */
	size_t			 nitems;
};

/*
 * Resolve q->host through path. Errors go to errs as "file:line: message";
 * returns how many were added (0: r is complete). Free r with
 * sshconfig_result_clear() in either case.
 */
int	 sshconfig_resolve(const char *path, const struct sshcfg_query *q,
	    struct sshcfg_result *r, struct cfg_errors *errs);
void	 sshconfig_result_clear(struct sshcfg_result *);
/*
 * A comma-separated pattern list (ssh_config(5) PATTERNS; nocase: ignoring
 * case, else exactly): 1 if
 * s matches a pattern, -1 if it matches a negated one, else 0.
 */
int	 sshconfig_match_list(const char *s, const char *list, int nocase);
/* The item of keyword kw (any case), or NULL. */
const struct sshcfg_item *sshconfig_find(const struct sshcfg_result *,
	    const char *kw);

/*
 * Resolve each hop of a ProxyJump chain through path, hop by hop, as ssh -J
 * does with the same -F: a hop's HostName, User, Port, IdentityFile,
 * HostKeyAlias and UserKnownHostsFile come from the file (a user@ or :port
 * written in the chain wins), and the first hop's own ProxyJump is followed.
 * *jumps is replaced. Returns the number of errors added to errs; file and
 * line name the ProxyJump for errors about the chain itself.
 */
int	 sshconfig_jumps(const char *path, struct jump_hop **jumps,
	    size_t *njumps, const char *file, int line,
	    struct cfg_errors *errs);

#endif
