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
 * fuzz_knownhosts.c: libFuzzer target for known_hosts lines and host
 * patterns (knownhosts.c).
 *
 * The input is a line for kh_parse_line, and, split at its first NUL (or
 * in the middle), a host field and a name for kh_host_match. Invariants: a
 * parsed entry has three non-empty fields without blanks; a match does not
 * depend on the order of a pattern list (a negated match wins wherever it
 * stands); a name matches itself and "*", and never "!*,*".
 *
 *	fuzz_knownhosts -max_len=1024 /tmp/corpus tests/fuzz/corpus/knownhosts
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "knownhosts.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_field_ok(const char *f)
{
	check(f != NULL && *f != '\0');
	check(strpbrk(f, " \t\r\n") == NULL);
}

static void
fuzz_parse(const uint8_t *data, size_t len)
{
	struct kh_entry	 e;
	char		*line;

	line = malloc(len + 1);
	check(line != NULL);
	memcpy(line, data, len);
	line[len] = '\0';
	if (kh_parse_line(line, &e) == KH_LINE_ENTRY) {
		fuzz_field_ok(e.hosts);
		fuzz_field_ok(e.type);
		fuzz_field_ok(e.blob);
		check(e.marker == KH_MARK_NONE ||
		    e.marker == KH_MARK_REVOKED ||
		    e.marker == KH_MARK_CERT_AUTHORITY);
	}
	free(line);
}

/* The comma list of field, last pattern first. */
static char *
fuzz_reversed(const char *field)
{
	size_t	 len = strlen(field), i, end = len, n = 0;
	char	*out;

	out = malloc(len + 1);
	check(out != NULL);
	for (i = len; i-- > 0;) {
		if (field[i] != ',')
			continue;
		memcpy(out + n, field + i + 1, end - i - 1);
		n += end - i - 1;
		out[n++] = ',';
		end = i;
	}
	memcpy(out + n, field, end);
	n += end;
	out[n] = '\0';
	check(n == len);
	return out;
}

static void
fuzz_match(const char *field, const char *name)
{
	char	*rev, *self;
	int	 m;

	m = kh_host_match(field, name);
	check(m == 0 || m == 1);
	/* (A field that starts with |1| is one hashed name, not a list.) */
	rev = fuzz_reversed(field);
	if (strncmp(field, "|1|", 3) != 0 && strncmp(rev, "|1|", 3) != 0)
		check(kh_host_match(rev, name) == m);
	free(rev);
	/* A name without list syntax matches itself, as a pattern too. */
	if (*name != '\0' && strpbrk(name, ",*?!") == NULL &&
	    strncmp(name, "|1|", 3) != 0) {
		check(kh_host_match(name, name) == 1);
		check(kh_host_match("*", name) == 1);
		check(kh_host_match("!*,*", name) == 0);
		self = kh_lookup_name(name, 2222);
		check(self[0] == '[');
		free(self);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char		*buf, *name;
	const uint8_t	*nul;

	fuzz_parse(data, len);
	buf = malloc(len + 2);
	check(buf != NULL);
	memcpy(buf, data, len);
	buf[len] = buf[len + 1] = '\0';
	if ((nul = memchr(data, '\0', len)) != NULL)
		name = buf + (nul - data) + 1;
	else {
		name = buf + len / 2 + 1;
		memmove(name, buf + len / 2, len - len / 2 + 1);
		buf[len / 2] = '\0';
	}
	fuzz_match(buf, name);
	free(buf);
	return 0;
}
