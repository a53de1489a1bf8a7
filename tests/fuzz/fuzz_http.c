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
 * fuzz_http.c: libFuzzer target for the metrics endpoint's request parser
 * (metrics_http.c, metrics_http_parse).
 *
 * The input is a request as it arrives, in an allocation of its exact size
 * (an overread is caught). It is parsed as the endpoint does, the bytes so
 * far after each chunk (chunk sizes from the input's own bytes), until an
 * answer. Invariants: only the statuses the endpoint knows; HEAD only with
 * 200; no answer before a blank line ends the head, unless it is 400 (a NUL)
 * or 431 (the head is too long); 431 only at MHTTP_REQUEST_MAX bytes; and
 * once a head has an answer, the same bytes always give it.
 *
 *	fuzz_http -max_len=8192 /tmp/corpus tests/fuzz/corpus/http
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "metrics_http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const int fuzz_codes[] = { 0, 200, 400, 404, 405, 431, 505 };

static int
fuzz_known(int code)
{
	size_t	i;

	for (i = 0; i < sizeof(fuzz_codes) / sizeof(fuzz_codes[0]); i++) {
		if (fuzz_codes[i] == code)
			return 1;
	}
	return 0;
}

/* Has buf a blank line (LF LF or LF CR LF)? */
static int
fuzz_has_end(const char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] == '\n' && (buf[i + 1] == '\n' ||
		    (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')))
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf, *cp;
	size_t	 len = 0, step;
	int	 code = 0, again, head, head2;

	if (size > MHTTP_REQUEST_MAX)
		size = MHTTP_REQUEST_MAX;	/* the endpoint reads no more */
	buf = malloc(size > 0 ? size : 1);
	check(buf != NULL);
	memcpy(buf, data, size);
	while (len < size && code == 0) {
		step = 1 + (unsigned char)buf[len] % 64;
		len = len + step < size ? len + step : size;
		/* A copy of exactly len bytes: an overread is caught. */
		cp = malloc(len);
		check(cp != NULL);
		memcpy(cp, buf, len);
		code = metrics_http_parse(cp, len, &head);
		check(fuzz_known(code));
		check(!head || code == 200);
		if (code == 431)
			check(len >= MHTTP_REQUEST_MAX);
		if (code != 0 && code != 400 && code != 431)
			check(fuzz_has_end(cp, len));
		if (code == 0)
			check(len < MHTTP_REQUEST_MAX);
		again = metrics_http_parse(cp, len, &head2);
		check(again == code && head2 == head);
		free(cp);
	}
	free(buf);
	return 0;
}
