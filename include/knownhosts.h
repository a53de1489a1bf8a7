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
 * knownhosts.h: sshconn.c's host key check, done here rather than by
 * libssh: libssh refuses some host names ssh takes (an underscore), skips
 * the marker lines (@revoked, @cert-authority) and cannot hash what it
 * appends; and whether a file is a known_hosts file at all before a key is
 * appended to it. The format is OpenSSH's (sshd(8), "SSH_KNOWN_HOSTS
 * FILE FORMAT"); see tunsupd.conf(5), UserKnownHostsFile.
 */
#ifndef TUNSUP_KNOWNHOSTS_H
#define TUNSUP_KNOWNHOSTS_H

#include <stddef.h>

#include <libssh/libssh.h>

enum kh_marker {
	KH_MARK_NONE = 0,
	KH_MARK_REVOKED,
	KH_MARK_CERT_AUTHORITY,
};

enum kh_line {
	KH_LINE_BLANK = 0,	/* empty or a comment */
	KH_LINE_ENTRY,
	KH_LINE_INVALID,
};

/* One parsed line; the strings point into the line, which is modified. */
struct kh_entry {
	enum kh_marker	 marker;
	char		*hosts;		/* pattern list, or |1|salt|hash */
	char		*type;		/* key type name */
	char		*blob;		/* base64 public key */
};

/* A marker line's key (base64, as in the file) and where it is. */
struct kh_keyref {
	char	*blob;
	char	*where;			/* "FILE:LINE" */
};

/*
 * What the known_hosts files say about a host and the server's key: the
 * marker lines ("FILE:LINE", or NULL) and the plain entries.
 */
struct kh_marks {
	char	*revoked;		/* @revoked with the server's key */
	char	*cert_authority;	/* @cert-authority covering the host */
	int	 match;			/* an entry holds the server's key */
	char	*changed;		/* an entry with another key of its type */
	int	 other;			/* an entry with a key of another type */
	char	*types;			/* the key types known, comma separated */
	/* Every marker line covering the host, for a host certificate. */
	struct kh_keyref *cas;		/* @cert-authority */
	size_t	  ncas;
	struct kh_keyref *revs;		/* @revoked */
	size_t	  nrevs;
};

/* The outcome of a host key check, as ssh(1) decides it. */
enum kh_verdict {
	KH_KNOWN = 0,
	KH_REVOKED,		/* whatever else: refused */
	KH_CHANGED,		/* the host has another key of that type */
	KH_OTHER,		/* the host has keys of other types only */
	KH_UNKNOWN,		/* nothing about the host */
};

/*
 * The name a host is looked up by: lower case, "[host]:port" unless the
 * port is 22. Returns an allocated string.
 */
char	*kh_lookup_name(const char *host, int port);

/*
 * Does a host field match name (as kh_lookup_name makes it)? A comma list
 * of patterns with * and ?, where a matching !pattern makes it not match,
 * or a hashed |1|salt|hmac-sha1 entry. 1 or 0.
 */
int	 kh_host_match(const char *field, const char *name);

/* One pattern with * and ? (no list, no negation) against name. 1 or 0. */
int	 kh_pattern_matches(const char *pattern, const char *name);

/* Split a line into its fields (a NUL-terminated line without newline). */
enum kh_line kh_parse_line(char *line, struct kh_entry *);

/*
 * Scan one file for the lines that concern name and key (the server's, or
 * NULL for the key types only): the first marker line of each kind, the
 * plain entries' verdict. A file that is absent or not a regular file has
 * nothing to say. Never fails. Start m zeroed; scan files in turn.
 */
void	 kh_scan(const char *path, const char *name, ssh_key key,
	    struct kh_marks *);
void	 kh_marks_clear(struct kh_marks *);
/* The verdict after scanning every file (the user's, then the global). */
enum kh_verdict kh_marks_verdict(const struct kh_marks *);

/*
 * A known_hosts line (with its newline) for name (as kh_lookup_name makes
 * it) and key: name in clear, or hashed as ssh's HashKnownHosts does
 * (|1|base64 salt|base64 HMAC-SHA1). NULL if the key cannot be exported.
 */
char	*kh_entry_line(const char *name, ssh_key key, int hash);

/*
 * Append a line (with its newline) to the known_hosts file path, and only
 * to a known_hosts file: one that is absent (created, mode 0644 less the
 * umask, its directory too if that is missing) or a regular file whose
 * every line is a known_hosts entry, a comment or blank. The check and the
 * write use the same open file. 0, or -1 with *why (allocated) naming the
 * reason and, for a line that is no entry, FILE:LINE.
 */
int	 kh_append(const char *path, const char *line, char **why);

#endif
