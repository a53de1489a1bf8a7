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
/* unit.h: what the criterion tests share. Include after criterion.h. */
#ifndef TUNSUP_UNIT_H
#define TUNSUP_UNIT_H

#include <stdlib.h>

#include "cfg.h"

/* The configuration in text (named name in messages), or the test fails. */
static inline struct cfg *
unit_cfg(const char *name, const char *text)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct cfg		*c;
	char			*msg;

	c = cfg_load_string(name, text, &errs);
	msg = cfg_errors_join(&errs);
	cr_assert_not_null(c, "config: %s", msg != NULL ? msg : "?");
	cr_assert_null(msg, "config: %s", msg);
	cfg_errors_clear(&errs);
	return c;
}

#endif
