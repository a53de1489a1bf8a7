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
 * sshargs.h: an ssh (or autossh) command line as the lines of a tunnel
 * block, so that "tunsupctl add NAME autossh -M 0 -N -R 2220:localhost:22
 * tunnel@vpn -p 22" means what ssh means by it (tunsupctl(1), add). Each
 * line keeps the user's words it came from, for the parser's messages
 * (cfg.h, cfg_parse_tunnel_lines): an option's meaning stays in cfg.c.
 */
#ifndef TUNSUP_SSHARGS_H
#define TUNSUP_SSHARGS_H

#include <stddef.h>

struct cfg_errors;
struct cfg_line;

struct sshargs {
	struct cfg_line	*lines;		/* text and origin of each line */
	size_t		 nlines;
	char		*notes;		/* remarks, one a line; or NULL */
};

/*
 * Translate argc/argv: optional VAR=value words (AUTOSSH_*), an optional
 * leading "ssh" or "autossh" (or a path to one), then ssh's options and the
 * destination in any order, as ssh reads them. Flags combine ("-fNT"); an
 * argument may be attached ("-p22") or the next word. Relative paths of -i
 * and -F are taken from cwd (NULL: left as written).
 * 0 with sa filled (sshargs_clear frees it), or -1 with *err set (caller
 * frees): the message starts with the user's words it refuses.
 */
int	sshargs_parse(struct sshargs *sa, int argc, char *const *argv,
	    const char *cwd, char **err);
void	sshargs_clear(struct sshargs *sa);
/* The parser's warnings (what -t would say) join the notes. */
void	sshargs_add_notes(struct sshargs *sa, const struct cfg_errors *warns);
/* The lines, each after indent and ending in a newline (caller frees). */
char	*sshargs_block(const struct sshargs *sa, const char *indent);

#endif
