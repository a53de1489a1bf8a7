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
/* util.h: allocation that never returns NULL, small string helpers, clocks. */
#ifndef TUNSUP_UTIL_H
#define TUNSUP_UTIL_H

#include <stdarg.h>
#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 xvasprintf(char **, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));

/* Wall clock, Unix seconds. */
double	 now_wall(void);
/* Monotonic seconds. */
double	 now_mono(void);

/*
 * The name of the user we run as (ssh's local user): from the password
 * database, else $USER, else the uid in digits. Computed once.
 */
const char	*local_user(void);

/*
 * fmt with each "%c", c one of keys, replaced by the value at the same
 * index of values, and "%%" by "%" (ssh_config(5), TOKENS). NULL if a "%"
 * is followed by anything else (*bad is then that character, or '\0' for
 * a "%" at the end).
 */
char		*percent_expand(const char *fmt, const char *keys,
		    const char *const *values, char *bad);

/* A uniformly distributed double in [0, 1). */
double	 rand_unit(void);

/* Set O_NONBLOCK and FD_CLOEXEC. Return 0 or -1 with errno. */
int	 fd_nonblock(int);
int	 fd_cloexec(int);

/*
 * A JSON string of s that never fails (never NULL): jansson refuses text
 * that is not valid UTF-8 (a host name from the configuration, a server's
 * DISCONNECT message), so each byte outside a valid UTF-8 sequence becomes
 * the four characters \xNN. The reference is new.
 */
struct json_t;
struct json_t	*json_text(const char *s);

/* 1 if word is one of the items of list, separated by sep (ignoring case). */
int	 list_has_word(const char *list, char sep, const char *word);

/*
 * A buffer that large copies fill may start COPY_SKEW bytes into its
 * allocation: copy_skew() says where, 0 or COPY_SKEW, for a copy from src to
 * dst (see util.c).
 */
#define COPY_SKEW	64
size_t	 copy_skew(const void *dst, const void *src);

/* glibc's sys/queue.h lacks the _SAFE iterators. */
#include <sys/queue.h>
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#endif
