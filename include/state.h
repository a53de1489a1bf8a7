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
 * state.h: what tunsupctl changed at runtime, kept in the state file so
 * that it survives a reload and a restart until it is undone (tunsupd.conf(5),
 * STATE FILE). The file is a list of records, each a keyword and a tunnel
 * name: "Tunnel NAME" and the lines of its block (added at runtime),
 * "Removed NAME DIGEST" (a tunnel of the configuration file removed at
 * runtime, while its block stays what it was), "Forward NAME" and
 * "Cancelled NAME" with one forward line (a forward added to or cancelled
 * from a tunnel at runtime).
 */
#ifndef TUNSUP_STATE_H
#define TUNSUP_STATE_H

#include <stddef.h>

struct cfg;
struct cfg_errors;
struct fwd_spec;
struct tunnel_spec;
struct state;

/*
 * The state file of a configuration: its StateFile; else
 * $STATE_DIRECTORY/runtime.conf (systemd's StateDirectory=); else for root
 * LOCALSTATEDIR/lib/tunsupd/runtime.conf, for others
 * $XDG_STATE_HOME/tunsupd/runtime.conf (~/.local/state/...). NULL for
 * "StateFile none". Caller frees.
 */
char		*state_default_path(const struct cfg *);

/*
 * Read the file at path (none yet: nothing to apply; path NULL: nothing
 * is ever kept). NULL with errs set if it cannot be trusted or read: not a
 * regular file, owned by another user, writable by others, a bad record.
 */
struct state	*state_load(const char *path, struct cfg_errors *errs);
void		 state_free(struct state *);
const char	*state_path(const struct state *);

/*
 * Apply the records to a configuration just loaded: runtime tunnels join
 * its tunnels (parsed with its defaults), removed ones leave it. A record
 * that no longer applies (the file now has a tunnel of that name, or the
 * removed tunnel's block changed or is gone; the file has an added forward
 * now, or no longer the cancelled one) is dropped at the next write.
 * 0, or -1 with errs set (cfg is then to be thrown away).
 */
int		 state_merge(struct state *, struct cfg *, struct cfg_errors *);

/*
 * Write the file without the records the last merge found no longer apply,
 * if any, so that they stay gone (the daemon, after a merge). 0, or -1 with
 * *err (caller frees); they are then dropped at the next write.
 */
int		 state_flush(struct state *, char **err);

/* 1 if name was added at runtime; the i-th tunnel removed (NULL past). */
int		 state_added(const struct state *, const char *name);
const char	*state_removed(const struct state *, size_t i);

/*
 * Keep an "add" (block: its lines) or a "remove" and write the file. 0, or
 * -1 with *err (caller frees) and the state as it was. A state without a
 * path keeps nothing and always succeeds.
 */
int		 state_keep_add(struct state *, const char *name,
		    const char *block, char **err);
int		 state_keep_remove(struct state *, const struct tunnel_spec *,
		    char **err);
/*
 * Keep a forward added to (cancel 0) or cancelled from (cancel 1) the live
 * tunnel t: line as given (a LocalForward, RemoteForward or DynamicForward
 * line), fwd as t reads it. The opposite record of the same forward is
 * undone instead. As state_keep_add.
 */
int		 state_keep_forward(struct state *, const struct tunnel_spec *t,
		    const struct fwd_spec *fwd, const char *line, int cancel,
		    char **err);
/*
 * "# ..." lines (caller frees) for the forwards the state file added to or
 * cancelled from tunnel name by the last merge (tunsupd -T), or NULL.
 */
char		*state_forward_notes(const struct state *, const char *name);

#endif
