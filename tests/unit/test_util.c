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
/* test_util.c: the small helpers of util.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "util.h"

/* json_text(in) is a string holding exactly want. */
static void
expect_text(const char *in, const char *want)
{
	json_t	*j;

	j = json_text(in);
	cr_assert_not_null(j);
	cr_assert(json_is_string(j));
	cr_assert_str_eq(json_string_value(j), want, "for %s", in);
	json_decref(j);
}

Test(json_text, valid_utf8_unchanged)
{
	expect_text("", "");
	expect_text("bridge.example.com", "bridge.example.com");
	expect_text("h\xc3\xb6st", "h\xc3\xb6st");			/* ö */
	expect_text("\xe2\x82\xac 1", "\xe2\x82\xac 1");		/* € */
	expect_text("\xf0\x9f\x94\x91", "\xf0\x9f\x94\x91");		/* U+1F511 */
	expect_text("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");		/* U+10FFFF */
}

Test(json_text, invalid_bytes_escaped)
{
	/* The HostName of the report: two bytes that are no UTF-8 at all. */
	expect_text("127.0.0.1\xff\xfe", "127.0.0.1\\xff\\xfe");
	/* A lone continuation byte, a truncated sequence at the end. */
	expect_text("a\x80z", "a\\x80z");
	expect_text("ab\xe2\x82", "ab\\xe2\\x82");
	/* Overlong forms, a surrogate, beyond U+10FFFF, bytes never valid. */
	expect_text("\xc0\xaf", "\\xc0\\xaf");
	expect_text("\xe0\x80\xaf", "\\xe0\\x80\\xaf");
	expect_text("\xed\xa0\x80", "\\xed\\xa0\\x80");
	expect_text("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	expect_text("\xf5\xf8\xfe", "\\xf5\\xf8\\xfe");
	/* Valid text around a bad byte survives as it was. */
	expect_text("\xc3\xb6\xff\xc3\xb6", "\xc3\xb6\\xff\xc3\xb6");
}

/* The result always goes through json_dumps (what the socket sends). */
Test(json_text, dumps)
{
	json_t	*o;
	char	*s;

	o = json_pack("{s:o}", "host", json_text("x\xff"));
	cr_assert_not_null(o);
	s = json_dumps(o, JSON_COMPACT);
	cr_assert_str_eq(s, "{\"host\":\"x\\\\xff\"}");
	free(s);
	json_decref(o);
}

Test(percent_expand, tokens)
{
	static const char *const v[] = { "gw.example.com", "22" };
	char	*s, bad = 'x';

	s = percent_expand("nc -x p:3128 %h %p 100%%", "hp", v, &bad);
	cr_assert_str_eq(s, "nc -x p:3128 gw.example.com 22 100%");
	free(s);
	s = percent_expand("", "hp", v, &bad);
	cr_assert_str_eq(s, "");
	free(s);
	cr_assert_null(percent_expand("a %r", "hp", v, &bad));
	cr_assert_eq(bad, 'r');
	cr_assert_null(percent_expand("a %", "hp", v, &bad));
	cr_assert_eq(bad, '\0');
}

Test(util, list_has_word)
{
	cr_assert(list_has_word("yes|true", '|', "TRUE"));
	cr_assert(list_has_word("a,b,c", ',', "c"));
	cr_assert_not(list_has_word("yes|true", '|', "ye"));
	cr_assert_not(list_has_word("yes|true", '|', "yes|true"));
	cr_assert_not(list_has_word("", ',', "x"));
	cr_assert(list_has_word("a,,b", ',', ""));
}

Test(util, copy_skew)
{
	static char	 buf[3 * 4096];
	char		*src = buf + 4096 + 100;

	/* The destination 1 to 31 bytes past the source, modulo 4 KiB: moved. */
	cr_assert_eq(copy_skew(src + 1, src), COPY_SKEW);
	cr_assert_eq(copy_skew(src + 31, src), COPY_SKEW);
	cr_assert_eq(copy_skew(src + 4096 + 2, src), COPY_SKEW);
	cr_assert_eq(copy_skew(src - 4096 + 15, src), COPY_SKEW);
	/* Moved, it is out of the window. */
	cr_assert_eq(copy_skew(src + 2 + COPY_SKEW, src), 0);
	/* Elsewhere: left. */
	cr_assert_eq(copy_skew(src, src), 0);
	cr_assert_eq(copy_skew(src + 32, src), 0);
	cr_assert_eq(copy_skew(src - 1, src), 0);
	cr_assert_eq(copy_skew(src + 4095, src), 0);
}
