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
 * resolver.h: name resolution that never blocks the loop (getaddrinfo on
 * a few worker threads, completion signalled to the loop with an ev_async).
 */
#ifndef TUNSUP_RESOLVER_H
#define TUNSUP_RESOLVER_H

#include <netdb.h>

#include <ev.h>

struct resolver;
struct resolve_req;

/*
 * Called once from the loop with the result: ai is freed after the call
 * returns; err is 0 or an EAI_* code (gai_strerror).
 */
typedef void (*resolve_cb)(const struct addrinfo *ai, int err, void *arg);

struct resolver		*resolver_new(struct ev_loop *);
void			 resolver_free(struct resolver *);
/* Resolve host:port for TCP. Numeric hosts complete on the next loop turn. */
struct resolve_req	*resolver_query(struct resolver *, const char *host,
			    int port, resolve_cb, void *arg);
/* The callback will not be called; q is freed (NULL is fine). */
void			 resolver_cancel(struct resolve_req *);

/* A copy of a result list to keep past the callback; free with the next. */
struct addrinfo		*addrinfo_copy(const struct addrinfo *);
void			 addrinfo_free_copy(struct addrinfo *);

#endif
