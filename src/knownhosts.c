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
 * knownhosts.c: known_hosts marker lines and safe appends (see knownhosts.h).
 *
 * libssh 0.10 skips every line that starts with '@', so a revoked key is
 * never refused and a @cert-authority line is silently ignored, and it
 * appends a learned key to whatever file it was given. The file format is
 * OpenSSH's: [marker] hostpatterns keytype base64-key [comment].
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "knownhosts.h"
#include "util.h"

#define KH_SHA1_LEN	20
#define KH_HASH_MAGIC	"|1|"

static const struct {
	const char	*word;
	enum kh_marker	 marker;
} kh_markers[] = {
	{ "@revoked",		KH_MARK_REVOKED },
	{ "@cert-authority",	KH_MARK_CERT_AUTHORITY },
};

char *
kh_lookup_name(const char *host, int port)
{
	char	*name, *p;

	if (port == 0 || port == 22)
		name = xstrdup(host);
	else
		xasprintf(&name, "[%s]:%d", host, port);
	for (p = name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return name;
}

/* ---- base64 ---------------------------------------------------------- */

static int
b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode len characters of standard base64 (padding optional) into out,
 * which holds at least len * 3 / 4 bytes. Returns the length or -1.
 */
static ssize_t
b64_decode(const char *in, size_t len, unsigned char *out)
{
	uint32_t	 acc = 0;
	size_t		 i, n = 0, bits = 0;
	int		 v;

	while (len > 0 && in[len - 1] == '=')
		len--;
	for (i = 0; i < len; i++) {
		if ((v = b64_val((unsigned char)in[i])) == -1)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (bits >= 6)
		return -1;	/* a lone character cannot end a group */
	return (ssize_t)n;
}

/* ---- host patterns --------------------------------------------------- */

/*
 * One pattern with * and ?, against a name, ignoring case. Each star only
 * moves on from the last one: linear in practice, never exponential.
 */
static int
kh_pattern_match(const char *s, const char *p, size_t plen)
{
	const char	*star_s = NULL;
	size_t		 i = 0, star_i = 0;

	while (*s != '\0') {
		if (i < plen && p[i] == '*') {
			star_i = ++i;
			star_s = s;
		} else if (i < plen && (p[i] == '?' || tolower((unsigned char)
		    p[i]) == tolower((unsigned char)*s))) {
			i++;
			s++;
		} else if (star_s != NULL) {
			i = star_i;
			s = ++star_s;
		} else
			return 0;
	}
	while (i < plen && p[i] == '*')
		i++;
	return i == plen;
}

/* |1|base64(salt)|base64(HMAC-SHA1(salt, name)) */
static int
kh_hashed_match(const char *field, const char *name)
{
	const char	*salt = field + strlen(KH_HASH_MAGIC), *hash;
	unsigned char	 sbuf[64], hbuf[64], mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	ssize_t		 slen, hlen;

	if ((hash = strchr(salt, '|')) == NULL)
		return 0;
	if ((size_t)(hash - salt) > sizeof(sbuf) ||
	    strlen(hash + 1) > sizeof(hbuf))
		return 0;
	slen = b64_decode(salt, (size_t)(hash - salt), sbuf);
	hlen = b64_decode(hash + 1, strlen(hash + 1), hbuf);
	if (slen != KH_SHA1_LEN || hlen != KH_SHA1_LEN)
		return 0;
	if (HMAC(EVP_sha1(), sbuf, (int)slen, (const unsigned char *)name,
	    strlen(name), mac, &maclen) == NULL || maclen != KH_SHA1_LEN)
		return 0;
	return memcmp(mac, hbuf, KH_SHA1_LEN) == 0;
}

int
kh_pattern_matches(const char *pattern, const char *name)
{
	return kh_pattern_match(name, pattern, strlen(pattern));
}

int
kh_host_match(const char *field, const char *name)
{
	const char	*p, *end;
	size_t		 len;
	int		 neg, found = 0;

	if (strncmp(field, KH_HASH_MAGIC, strlen(KH_HASH_MAGIC)) == 0)
		return kh_hashed_match(field, name);
	for (p = field; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		end = p + strcspn(p, ",");
		neg = *p == '!';
		len = (size_t)(end - p) - (size_t)neg;
		if (len == 0 || !kh_pattern_match(name, p + neg, len))
			continue;
		if (neg)
			return 0;	/* a negated match wins over all */
		found = 1;
	}
	return found;
}

/* ---- lines ----------------------------------------------------------- */

static char *
kh_token(char **pp)
{
	char	*p = *pp, *start;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return NULL;
	start = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	return start;
}

/*
 * The authorized_keys options without a value (sshd(8), AUTHORIZED_KEYS
 * FILE FORMAT): "restrict ssh-ed25519 AAAA..." has the shape of a
 * known_hosts line for a host named "restrict", and such a file must not
 * pass for a known_hosts file. No real host is named like these.
 */
static const char *const kh_ak_options[] = {
	"agent-forwarding", "cert-authority", "no-agent-forwarding",
	"no-port-forwarding", "no-pty", "no-touch-required", "no-user-rc",
	"no-x11-forwarding", "port-forwarding", "pty", "restrict", "user-rc",
	"verify-required", "x11-forwarding",
};

static int
kh_is_ak_option(const char *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < nitems(kh_ak_options); i++) {
		if (strlen(kh_ak_options[i]) == len &&
		    strncasecmp(p, kh_ak_options[i], len) == 0)
			return 1;
	}
	return 0;
}

/*
 * A host field: a hashed entry, or patterns of host name and address
 * characters. Anything else (an authorized_keys option list, a passwd
 * line) is not a known_hosts line.
 */
static int
kh_hosts_valid(const char *f)
{
	const char	*salt, *hash, *p;
	unsigned char	 buf[64];
	size_t		 len;

	if (strncmp(f, KH_HASH_MAGIC, strlen(KH_HASH_MAGIC)) == 0) {
		salt = f + strlen(KH_HASH_MAGIC);
		if ((hash = strchr(salt, '|')) == NULL ||
		    (size_t)(hash - salt) > sizeof(buf) ||
		    strlen(hash + 1) > sizeof(buf))
			return 0;
		return b64_decode(salt, (size_t)(hash - salt), buf) > 0 &&
		    b64_decode(hash + 1, strlen(hash + 1), buf) ==
		    KH_SHA1_LEN;
	}
	for (p = f; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) &&
		    strchr(".-_*?!,[]:%", *p) == NULL)
			return 0;
	}
	for (p = f; *p != '\0'; p += len + (p[len] == ',')) {
		len = strcspn(p, ",");
		if (kh_is_ak_option(p, len))
			return 0;
	}
	return 1;
}

/* A public key blob starts with its type name as an SSH string. */
static int
kh_key_valid(const char *type, const char *blob)
{
	unsigned char	*buf;
	size_t		 tlen = strlen(type), blen = strlen(blob);
	ssize_t		 n;
	uint32_t	 len;
	int		 ok = 0;
	const char	*p;

	for (p = type; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("@.-_", *p) == NULL)
			return 0;
	}
	buf = xmalloc(blen * 3 / 4 + 3);
	n = b64_decode(blob, blen, buf);
	if (n >= 4) {
		len = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
		    (uint32_t)buf[2] << 8 | buf[3];
		ok = len == tlen && (size_t)n >= 4 + tlen &&
		    memcmp(buf + 4, type, tlen) == 0;
	}
	free(buf);
	return ok;
}

enum kh_line
kh_parse_line(char *line, struct kh_entry *e)
{
	char	*p = line, *tok;
	size_t	 i;

	memset(e, 0, sizeof(*e));
	line[strcspn(line, "\r\n")] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return KH_LINE_BLANK;
	if (*p == '@') {
		tok = kh_token(&p);
		for (i = 0; i < nitems(kh_markers); i++) {
			if (strcmp(tok, kh_markers[i].word) == 0)
				e->marker = kh_markers[i].marker;
		}
		if (e->marker == KH_MARK_NONE)
			return KH_LINE_INVALID;
	}
	e->hosts = kh_token(&p);
	e->type = kh_token(&p);
	e->blob = kh_token(&p);
	if (e->blob == NULL || !kh_hosts_valid(e->hosts) ||
	    !kh_key_valid(e->type, e->blob))
		return KH_LINE_INVALID;
	return KH_LINE_ENTRY;
}

/* ---- files ----------------------------------------------------------- */

/* Open a file for reading without waiting on a FIFO; NULL unless regular. */
static FILE *
kh_open_regular(const char *path)
{
	struct stat	 sb;
	FILE		*f;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return NULL;
	}
	return f;
}

/* 1 if the entry holds key, 0 if another key, -1 if it cannot be read. */
static int
kh_same_key(const struct kh_entry *e, ssh_key key)
{
	ssh_key	 k = NULL;
	int	 same;

	if (ssh_pki_import_pubkey_base64(e->blob,
	    ssh_key_type_from_name(e->type), &k) != SSH_OK)
		return -1;
	same = ssh_key_cmp(k, key, SSH_KEY_CMP_PUBLIC) == 0;
	ssh_key_free(k);
	return same;
}

/* A plain entry for the host: does it vouch for key, or contradict it? */
static void
kh_scan_plain(const struct kh_entry *e, const char *where, ssh_key key,
    struct kh_marks *m)
{
	size_t	len;

	len = m->types == NULL ? 0 : strlen(m->types);
	if (m->types == NULL || !list_has_word(m->types, ',', e->type)) {
		m->types = xreallocarray(m->types, len + strlen(e->type) + 2, 1);
		snprintf(m->types + len, strlen(e->type) + 2, "%s%s",
		    len > 0 ? "," : "", e->type);
	}
	if (key == NULL)
		return;
	if (kh_same_key(e, key) == 1)
		m->match = 1;
	else if (ssh_key_type_from_name(e->type) == ssh_key_type(key)) {
		if (m->changed == NULL)
			m->changed = xstrdup(where);
	} else
		m->other = 1;
}

static void
kh_add_keyref(struct kh_keyref **list, size_t *n, const char *blob,
    const char *where)
{
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	(*list)[*n].blob = xstrdup(blob);
	(*list)[*n].where = xstrdup(where);
	(*n)++;
}

static void
kh_keyrefs_free(struct kh_keyref *list, size_t n)
{
	while (n > 0) {
		n--;
		free(list[n].blob);
		free(list[n].where);
	}
	free(list);
}

void
kh_scan(const char *path, const char *name, ssh_key key, struct kh_marks *m)
{
	struct kh_entry	 e;
	FILE		*f;
	char		*line = NULL, *where;
	size_t		 cap = 0, lineno = 0;

	if (path == NULL || (f = kh_open_regular(path)) == NULL)
		return;
	while (getline(&line, &cap, f) != -1) {
		lineno++;
		if (kh_parse_line(line, &e) != KH_LINE_ENTRY ||
		    !kh_host_match(e.hosts, name))
			continue;
		xasprintf(&where, "%s:%zu", path, lineno);
		if (e.marker == KH_MARK_CERT_AUTHORITY)
			kh_add_keyref(&m->cas, &m->ncas, e.blob, where);
		else if (e.marker == KH_MARK_REVOKED)
			kh_add_keyref(&m->revs, &m->nrevs, e.blob, where);
		if (e.marker == KH_MARK_NONE)
			kh_scan_plain(&e, where, key, m);
		else if (e.marker == KH_MARK_CERT_AUTHORITY &&
		    m->cert_authority == NULL) {
			m->cert_authority = where;
			where = NULL;
		} else if (e.marker == KH_MARK_REVOKED && m->revoked == NULL &&
		    key != NULL && kh_same_key(&e, key) == 1) {
			m->revoked = where;
			where = NULL;
		}
		free(where);
	}
	free(line);
	fclose(f);
}

void
kh_marks_clear(struct kh_marks *m)
{
	free(m->revoked);
	free(m->cert_authority);
	free(m->changed);
	free(m->types);
	kh_keyrefs_free(m->cas, m->ncas);
	kh_keyrefs_free(m->revs, m->nrevs);
	memset(m, 0, sizeof(*m));
}

enum kh_verdict
kh_marks_verdict(const struct kh_marks *m)
{
	if (m->revoked != NULL)
		return KH_REVOKED;
	if (m->match)
		return KH_KNOWN;
	if (m->changed != NULL)
		return KH_CHANGED;
	if (m->other)
		return KH_OTHER;
	return KH_UNKNOWN;
}

/* ---- new entries ----------------------------------------------------- */

char *
kh_entry_line(const char *name, ssh_key key, int hash)
{
	unsigned char	 salt[KH_SHA1_LEN], mac[EVP_MAX_MD_SIZE];
	unsigned char	 bsalt[4 * KH_SHA1_LEN], bmac[4 * KH_SHA1_LEN];
	unsigned int	 maclen = 0;
	char		*blob = NULL, *host = NULL, *line = NULL;

	if (ssh_pki_export_pubkey_base64(key, &blob) != SSH_OK)
		return NULL;
	if (!hash)
		host = xstrdup(name);
	else if (RAND_bytes(salt, sizeof(salt)) == 1 &&
	    HMAC(EVP_sha1(), salt, sizeof(salt), (const unsigned char *)name,
	    strlen(name), mac, &maclen) != NULL && maclen == KH_SHA1_LEN) {
		EVP_EncodeBlock(bsalt, salt, sizeof(salt));
		EVP_EncodeBlock(bmac, mac, KH_SHA1_LEN);
		xasprintf(&host, "%s%s|%s", KH_HASH_MAGIC, bsalt, bmac);
	}
	if (host != NULL)
		xasprintf(&line, "%s %s %s\n", host,
		    ssh_key_type_to_char(ssh_key_type(key)), blob);
	free(host);
	ssh_string_free_char(blob);
	return line;
}

/*
 * The file is open on fd: every line must be an entry, a comment or blank.
 * *last is its last byte ('\n' when empty).
 */
static int
kh_check_lines(int fd, const char *path, char *last, char **why)
{
	struct kh_entry	 e;
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0, lineno = 0;
	ssize_t		 n;
	int		 dfd, r = 0;

	*last = '\n';
	if ((dfd = dup(fd)) == -1 || (f = fdopen(dfd, "r")) == NULL) {
		if (dfd != -1)
			close(dfd);
		xasprintf(why, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		*last = line[n - 1];
		if (memchr(line, '\0', (size_t)n) != NULL ||
		    kh_parse_line(line, &e) == KH_LINE_INVALID) {
			xasprintf(why, "%s is not a known_hosts file (%s:%zu "
			    "is not a known_hosts entry)", path, path, lineno);
			r = -1;
			break;
		}
	}
	if (r == 0 && ferror(f)) {
		xasprintf(why, "cannot read %s: %s", path, strerror(errno));
		r = -1;
	}
	free(line);
	fclose(f);
	return r;
}

/* The file does not exist: create it, and its directory if missing. */
static int
kh_create(const char *path, char **why)
{
	struct stat	 sb;
	char		*copy, *dir;
	int		 fd;

	if (lstat(path, &sb) == 0) {
		/* open() said ENOENT: a link to nowhere. */
		xasprintf(why, "%s is a symbolic link to a file that does not "
		    "exist", path);
		return -1;
	}
	copy = xstrdup(path);
	dir = dirname(copy);
	if (stat(dir, &sb) == -1 && errno == ENOENT && mkdir(dir, 0700) == -1) {
		xasprintf(why, "cannot create directory %s: %s", dir,
		    strerror(errno));
		free(copy);
		return -1;
	}
	free(copy);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644);
	if (fd == -1)
		xasprintf(why, "cannot create %s: %s", path, strerror(errno));
	return fd;
}

int
kh_append(const char *path, const char *line, char **why)
{
	struct stat	 sb;
	size_t		 len = strlen(line);
	char		 last = '\n';
	int		 fd, r = -1;

	*why = NULL;
	fd = open(path, O_RDWR | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		if (errno != ENOENT) {
			xasprintf(why, "cannot open %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if ((fd = kh_create(path, why)) == -1)
			return -1;
	} else if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		xasprintf(why, "%s is not a regular file", path);
		goto out;
	} else if (kh_check_lines(fd, path, &last, why) != 0)
		goto out;
	/* A last line without its newline must not swallow ours. */
	if ((last != '\n' && write(fd, "\n", 1) != 1) ||
	    write(fd, line, len) != (ssize_t)len) {
		xasprintf(why, "cannot append to %s: %s", path,
		    strerror(errno));
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}
