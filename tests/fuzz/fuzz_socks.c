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
 * fuzz_socks.c: libFuzzer target for the SOCKS handshake (socks.c).
 *
 * The input is fed twice: all at once, and in chunks whose sizes (and the
 * amounts of output taken between them) come from the input itself. Both
 * runs must stay in bounds and agree on everything: status, bytes taken,
 * destination and output. Then a final reply is queued, and the input is
 * also read as a channel open error message.
 *
 * libFuzzer writes new inputs into its first corpus directory: keep the
 * seeds clean with a scratch one first,
 *	fuzz_socks -max_len=1024 /tmp/corpus tests/fuzz/corpus/socks
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "socks.h"

#define FUZZ_OUT_MAX	64	/* more than any handshake can write */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fuzz_run {
	struct socks		s;
	enum socks_status	st;
	size_t			used;
	uint8_t			out[FUZZ_OUT_MAX];
	size_t			outlen;
};


/* Take up to n bytes of output into r->out. */
static void
fuzz_drain(struct fuzz_run *r, size_t n)
{
	const uint8_t	*p;
	size_t		 len;

	p = socks_out(&r->s, &len);
	check(p != NULL);
	check(len <= SOCKS_OUT_MAX);
	if (n > len)
		n = len;
	check(r->outlen + n <= sizeof r->out);
	memcpy(r->out + r->outlen, p, n);
	r->outlen += n;
	socks_out_consume(&r->s, n);
}

/* Feed one chunk; the status may only move on from MORE. */
static void
fuzz_feed(struct fuzz_run *r, const uint8_t *p, size_t len)
{
	enum socks_status	st;
	size_t			used = (size_t)-1;

	st = socks_feed(&r->s, p, len, &used);
	check(used <= len);
	check(st == SOCKS_MORE || st == SOCKS_REQUEST || st == SOCKS_FAIL);
	if (r->st != SOCKS_MORE) {
		check(st == r->st);
		check(used == 0);
	}
	if (st == SOCKS_MORE)
		check(used == len);
	r->st = st;
	r->used += used;
}

static void
fuzz_check_request(const struct socks *s)
{
	const char	*host = socks_host(s);
	size_t		 len;

	len = strnlen(host, SOCKS_HOST_MAX + 1);
	check(len >= 1 && len <= SOCKS_HOST_MAX);
	check(socks_port(s) >= 1 && socks_port(s) <= 65535);
	check(socks_version(s) == 4 || socks_version(s) == 5);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_run		a, b;
	char			err[512];
	size_t			off, chunk, k, before, len;
	uint8_t			v;
	enum socks_reply	code;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	socks_init(&a.s);
	socks_init(&b.s);

	fuzz_feed(&a, data, size);
	fuzz_drain(&a, SIZE_MAX);

	/* Chunks of 1..32 bytes, some empty reads, partial output drains. */
	for (off = 0, k = 0; off < size && b.st == SOCKS_MORE; k++) {
		v = data[(k * 7 + 3) % size];
		if (v % 33 == 0)
			fuzz_feed(&b, data + off, 0);
		chunk = 1 + v % 32;
		if (chunk > size - off)
			chunk = size - off;
		fuzz_feed(&b, data + off, chunk);
		fuzz_drain(&b, data[(k * 5 + 1) % size] % 8);
		off += chunk;
	}
	fuzz_feed(&b, data + off, size - off);
	fuzz_drain(&b, SIZE_MAX);

	check(a.st == b.st);
	check(a.used == b.used);
	check(a.outlen == b.outlen);
	check(memcmp(a.out, b.out, a.outlen) == 0);
	check(socks_version(&a.s) == socks_version(&b.s));
	check(strcmp(socks_host(&a.s), socks_host(&b.s)) == 0);
	check(socks_port(&a.s) == socks_port(&b.s));

	if (a.st == SOCKS_REQUEST) {
		fuzz_check_request(&a.s);
		code = size > 0 ? data[size - 1] % 10 : SOCKS_OK;
		before = a.outlen;
		socks_reply(&a.s, code);
		socks_reply(&a.s, SOCKS_OK);	/* ignored */
		fuzz_drain(&a, SIZE_MAX);
		check(a.outlen - before ==
		    (socks_version(&a.s) == 4 ? 8u : 10u));
		/* Granted: still a request; refused: failed. */
		a.st = code == SOCKS_OK ? SOCKS_REQUEST : SOCKS_FAIL;
		fuzz_feed(&a, data, size);
	} else {
		/* No final reply outside a request. */
		before = a.outlen;
		socks_reply(&a.s, SOCKS_OK);
		fuzz_drain(&a, SIZE_MAX);
		check(a.outlen == before);
	}

	len = size < sizeof err - 1 ? size : sizeof err - 1;
	memcpy(err, data, len);
	err[len] = '\0';
	code = socks_reply_for(size > 0 ? data[0] % 6 : 0, err);
	check((int)code >= SOCKS_OK && (int)code <= SOCKS_ATYP_UNSUPPORTED);
	return 0;
}
