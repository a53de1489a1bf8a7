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
 * forward_kinds.c: every kind of forward, one entry each. An entry says what
 * the kind is, for the configuration parser and its dump (cfg.c: keyword,
 * where it listens, whether the client names the target) and for status,
 * and what it does, for forward.c (its operations, in its own file).
 * Adding a kind is an enum fwd_kind value, an entry here and its file.
 */
#include "config.h"

#include <string.h>

#include "cfg.h"
#include "forward_kind.h"
#include "util.h"

static const struct fwd_kind_info fwd_kinds[FWD_NKINDS] = {
	[FWD_LOCAL] = {
		"local", "LocalForward", FK_HERE,
		&forward_local_ops },
	[FWD_REMOTE] = {
		"remote", "RemoteForward", 0,
		&forward_remote_ops },
	[FWD_DYNAMIC] = {
		"dynamic", "DynamicForward", FK_HERE | FK_SOCKS,
		&forward_dynamic_ops },
	[FWD_REMOTE_DYNAMIC] = {
		"remote-dynamic", "RemoteForward", FK_SOCKS,
		&forward_rsocks_ops },
};

const struct fwd_kind_info *
fwd_kind_info(enum fwd_kind kind)
{
	return &fwd_kinds[kind];
}

const struct fwd_kind_info *
fwd_kind_by_name(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(fwd_kinds); i++) {
		if (strcmp(fwd_kinds[i].name, name) == 0)
			return &fwd_kinds[i];
	}
	return NULL;
}

const char *
fwd_kind_name(enum fwd_kind kind)
{
	return fwd_kinds[kind].name;
}
