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
 * sshkw.h: every ssh_config(5) keyword and what tunsupd does with it
 * (tunsupd.conf(5), SSH_CONFIG KEYWORDS).
 *
 * cfg.c asks this catalogue about a keyword that is not one of its own:
 * a keyword/value pair is accepted silently when it asks for what tunsupd
 * does anyway, a warning ("ignored: ...") when tunsupd cannot honour it and
 * ignoring it is harmless, an error when ignoring it would weaken security
 * or change where traffic goes.
 */
#ifndef TUNSUP_SSHKW_H
#define TUNSUP_SSHKW_H

#include <stddef.h>

enum sshkw_use {
	SSHKW_HONOURED = 0,	/* cfg.c parses it: it means what it means to ssh */
	SSHKW_SAME,		/* accepted: tunsupd does that anyway */
	SSHKW_IGNORED,		/* a warning */
	SSHKW_REFUSED,		/* an error */
};

struct sshkw {
	const char	*name;		/* as ssh_config(5) spells it */
	enum sshkw_use	 use;		/* for any value but "values" */
	/*
	 * Values that ask for what tunsupd does anyway ("|" between them,
	 * ignoring case), accepted silently; NULL for none.
	 */
	const char	*values;
	const char	*why;		/* for messages and tunsupd.conf(5) */
};

/* The entry for a keyword (ignoring case), or NULL if ssh does not know it. */
const struct sshkw *sshkw_find(const char *name);
/* The i-th entry, NULL past the end (tests, the manual's check). */
const struct sshkw *sshkw_get(size_t i);
/*
 * What to do with the keyword given its value (the arguments, one space
 * between): SSHKW_SAME (accept silently), SSHKW_IGNORED (warn) or
 * SSHKW_REFUSED; SSHKW_HONOURED means cfg.c's own table has it.
 */
enum sshkw_use sshkw_judge(const struct sshkw *, const char *value);
/*
 * 1 if the keyword matches the IgnoreUnknown pattern list (comma separated
 * patterns with * and ?, ignoring case, as ssh), else 0.
 */
int	sshkw_ignore_unknown(const char *patterns, const char *keyword);

#endif
