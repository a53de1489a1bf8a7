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
/* util.c: allocation, strings, clocks. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "util.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if (n == 0)
		n = 1;
	if ((p = malloc(n)) == NULL)
		fatal("out of memory (%zu bytes)", n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = calloc(nmemb, size)) == NULL)
		fatal("out of memory (%zu * %zu bytes)", nmemb, size);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if (size != 0 && nmemb > SIZE_MAX / size)
		fatal("xreallocarray: overflow");
	if ((p = realloc(ptr, nmemb * size)) == NULL)
		fatal("out of memory (%zu * %zu bytes)", nmemb, size);
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("out of memory");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		fatal("out of memory");
	return p;
}

int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int	 n;

	if ((n = vasprintf(ret, fmt, ap)) == -1)
		fatal("out of memory");
	return n;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return n;
}

const char *
local_user(void)
{
	static char	*name;
	struct passwd	*pw;
	const char	*s;

	if (name != NULL)
		return name;
	if ((pw = getpwuid(getuid())) != NULL)
		name = xstrdup(pw->pw_name);
	else if ((s = getenv("USER")) != NULL && *s != '\0')
		name = xstrdup(s);
	else
		xasprintf(&name, "%lu", (unsigned long)getuid());
	return name;
}

char *
percent_expand(const char *fmt, const char *keys, const char *const *values,
    char *bad)
{
	const char	*cp, *k;
	char		*out, *old;
	size_t		 n;

	out = xstrdup("");
	for (cp = fmt; *cp != '\0'; cp += n) {
		if (*cp != '%') {
			n = strcspn(cp, "%");
			old = out;
			xasprintf(&out, "%s%.*s", old, (int)n, cp);
			free(old);
			continue;
		}
		n = 2;
		k = cp[1] != '\0' ? strchr(keys, cp[1]) : NULL;
		if (cp[1] != '%' && k == NULL) {
			*bad = cp[1];
			free(out);
			return NULL;
		}
		old = out;
		xasprintf(&out, "%s%s", old, cp[1] == '%' ? "%" :
		    values[k - keys]);
		free(old);
	}
	return out;
}

double
now_wall(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double
now_mono(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double
rand_unit(void)
{
	static int	 seeded;

	if (!seeded) {
		/* Through 64 bits: microseconds of uptime overflow 32 bits. */
		srandom((unsigned)getpid() ^
		    (unsigned)(uint64_t)(now_mono() * 1e6));
		seeded = 1;
	}
	return (double)random() / ((double)RAND_MAX + 1.0);
}

int
fd_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return fd_cloexec(fd);
}

int
fd_cloexec(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFD)) == -1)
		return -1;
	return fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

/*
 * The length of the valid UTF-8 sequence at p (1 to 4), or 0 if the byte at
 * p does not begin one: no overlong forms, no surrogates, nothing above
 * U+10FFFF (RFC 3629).
 */
static size_t
utf8_seq_len(const unsigned char *p)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;
	/* The second byte has the narrower range; a NUL ends it early. */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return n;
}

json_t *
json_text(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	json_t			*j;
	char			*out, *o;
	size_t			 n;

	if ((j = json_string(s)) != NULL)
		return j;
	o = out = xmalloc(4 * strlen(s) + 1);
	while (*p != '\0') {
		if ((n = utf8_seq_len(p)) == 0) {
			o += sprintf(o, "\\x%02x", *p++);
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	if ((j = json_string(out)) == NULL)
		fatal("json_text: cannot encode a cleaned string");
	free(out);
	return j;
}

/*
 * glibc's memcpy moves blocks of about 2 KiB and more with "rep movsb",
 * which x86 CPUs (AMD EPYC, measured) run fifteen times slower when the
 * destination lies 1 to 31 bytes past the source modulo 4 KiB: 2.4 GB/s
 * against 40 (doc/libssh.md, "A copy fifteen times slower"). Where the
 * destination can move (an empty buffer), COPY_SKEW bytes on leaves that
 * window.
 */
size_t
copy_skew(const void *dst, const void *src)
{
	uintptr_t	 d = ((uintptr_t)dst - (uintptr_t)src) & 4095;

	return d >= 1 && d < COPY_SKEW / 2 ? COPY_SKEW : 0;
}

int
list_has_word(const char *list, char sep, const char *word)
{
	const char	*p, *end;
	size_t		 len = strlen(word);

	for (p = list; *p != '\0'; p = *end == sep ? end + 1 : end) {
		for (end = p; *end != '\0' && *end != sep; end++)
			;
		if ((size_t)(end - p) == len && strncasecmp(p, word, len) == 0)
			return 1;
	}
	return 0;
}
