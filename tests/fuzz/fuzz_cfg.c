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
 * fuzz_cfg.c: libFuzzer target for the configuration parser (cfg.c).
 *
 * The input is read two ways: as a whole file (cfg_load_string), with the
 * effective configuration of every tunnel dumped (-T), and as the body of a
 * control "add" command (cfg_parse_tunnel). Whatever is parsed is freed:
 * LeakSanitizer checks that every error path cleans up.
 *
 * Files stay inside a sandbox: a directory made at start-up with a few
 * configuration files to include (removed at exit). glob and open are
 * wrapped at link time (-Wl,--wrap, see Makefile.am): Include patterns and
 * opened paths are looked up inside the sandbox ("/d/c.conf" and
 * "d/c.conf" both mean SANDBOX/d/c.conf, and so do patterns), so an input
 * can neither read nor hang on a FIFO or a device elsewhere.
 *
 * libFuzzer writes new inputs into its first corpus directory: keep the
 * seeds clean with a scratch one first,
 *	fuzz_cfg -max_len=4096 /tmp/corpus tests/fuzz/corpus/cfg
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "fuzz.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);
int	__wrap_glob(const char *, int, int (*)(const char *, int), glob_t *);
int	__real_glob(const char *, int, int (*)(const char *, int), glob_t *);
int	__wrap_open(const char *, int, ...);
int	__real_open(const char *, int, ...);


/* Files the sandbox starts with: includes that nest, loop and fail. */
static const struct {
	const char	*name;
	const char	*text;
} fuzz_files[] = {
	{ "a.conf", "Tunnel inc-a\n    HostName 127.0.0.1\n"
	    "    LocalForward 8080 localhost:80\n" },
	{ "b.conf", "ServerAliveInterval 5\nInclude a.conf\n"
	    "Tunnel inc-b\n    RemoteForward 2220 localhost:22\n" },
	{ "self.conf", "Include self.conf\n" },
	{ "bad.conf", "Tunnel inc-bad\n    Bogus yes\n    Port 0\n" },
	{ "d/c.conf", "Tunnel inc-c\n    DynamicForward 1080\n" },
	{ "ssh_config", "Host bridge b?\n    HostName 127.0.0.1\n"
	    "    Port 2222\n    User tunnel\n    IdentityFile ~/.ssh/k\n"
	    "    ProxyJump j@jump:22\nHost * !x\n    Port 22\n" },
};

static char	fuzz_dir[] = "/tmp/tunsup-fuzz-cfg.XXXXXX";
static size_t	fuzz_dirlen;

static void
fuzz_cleanup(void)
{
	char	path[sizeof fuzz_dir + 64];
	size_t	i;

	for (i = 0; i < sizeof fuzz_files / sizeof fuzz_files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", fuzz_dir,
		    fuzz_files[i].name);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/d", fuzz_dir);
	rmdir(path);
	rmdir(fuzz_dir);
}

static void
fuzz_sandbox(void)
{
	char	path[sizeof fuzz_dir + 64];
	size_t	i, len;
	int	fd;

	check(mkdtemp(fuzz_dir) != NULL);
	fuzz_dirlen = strlen(fuzz_dir);
	atexit(fuzz_cleanup);
	snprintf(path, sizeof path, "%s/d", fuzz_dir);
	check(mkdir(path, 0700) == 0);
	for (i = 0; i < sizeof fuzz_files / sizeof fuzz_files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", fuzz_dir,
		    fuzz_files[i].name);
		fd = __real_open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		check(fd != -1);
		len = strlen(fuzz_files[i].text);
		check(write(fd, fuzz_files[i].text, len) == (ssize_t)len);
		close(fd);
	}
}

/* Inside the sandbox: under its directory, and no way up. */
static int
fuzz_inside(const char *path)
{
	return strncmp(path, fuzz_dir, fuzz_dirlen) == 0 &&
	    path[fuzz_dirlen] == '/' && strstr(path, "/..") == NULL;
}

int
__wrap_glob(const char *pattern, int flags,
    int (*errfunc)(const char *, int), glob_t *g)
{
	char	*moved;
	int	 r;

	if (fuzz_inside(pattern))
		return __real_glob(pattern, flags, errfunc, g);
	if (strstr(pattern, "..") != NULL)
		return GLOB_NOMATCH;
	if (asprintf(&moved, "%s%s%s", fuzz_dir, *pattern == '/' ? "" : "/",
	    pattern) == -1)
		abort();
	r = __real_glob(moved, flags, errfunc, g);
	free(moved);
	return r;
}

int
__wrap_open(const char *path, int flags, ...)
{
	va_list	ap;
	int	mode = 0;

	char	*moved = NULL;
	int	 fd;

	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	if (fuzz_inside(path))
		return __real_open(path, flags, mode);
	if (strstr(path, "..") != NULL) {
		errno = ENOENT;
		return -1;
	}
	if (asprintf(&moved, "%s%s%s", fuzz_dir, *path == '/' ? "" : "/",
	    path) == -1)
		abort();
	fd = __real_open(moved, flags, mode);
	free(moved);
	return fd;
}

/* Format every message (so its arguments are used), print none. */
static void
fuzz_log_hook(enum log_level level, const char *msg, void *arg)
{
	check(msg != NULL);
	(void)strlen(msg);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_register(fuzz_log_hook, NULL);
	log_set_level(LOG_LVL_TRACE);
	fuzz_sandbox();
	return 0;
}

/* Every message is "file:line: message"; the errors of one load. */
static void
fuzz_check_errors(struct cfg_errors *errs, int must)
{
	char	*all;
	size_t	 i;

	if (must)
		check(errs->n > 0);
	for (i = 0; i < errs->n; i++)
		check(errs->msg[i] != NULL);
	all = cfg_errors_join(errs);
	check((all == NULL) == (errs->n == 0));
	free(all);
	cfg_errors_clear(errs);
}

static void
fuzz_dump(const struct tunnel_spec *spec)
{
	char	*dump;

	check(spec != NULL && spec->name != NULL);
	check(tunnel_name_valid(spec->name));
	dump = tunnel_spec_dump(spec);
	check(dump != NULL);
	free(dump);
	check(tunnel_spec_equal(spec, spec));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors	 errs = { NULL, 0 }, warns = { NULL, 0 };
	struct cfg		*cfg;
	struct tunnel_spec	*spec;
	char			*text;
	size_t			 i, j;

	/* A nul-terminated copy: a NUL inside ends the text early. */
	text = malloc(size + 1);
	check(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	cfg = cfg_load_string("fuzz.conf", text, &errs);
	fuzz_check_errors(&errs, cfg == NULL);
	if (cfg != NULL) {
		for (i = 0; i < cfg->ntunnels; i++)
			fuzz_dump(cfg->tunnels[i]);
		/* Names are unique (a few hundred tunnels at most). */
		for (i = 0; i < cfg->ntunnels; i++)
			for (j = i + 1; j < cfg->ntunnels; j++)
				check(strcmp(cfg->tunnels[i]->name,
				    cfg->tunnels[j]->name) != 0);
	}

	spec = cfg_parse_tunnel(NULL, "t", text, &errs, &warns);
	fuzz_check_errors(&errs, spec == NULL);
	cfg_errors_clear(&warns);
	if (spec != NULL) {
		fuzz_dump(spec);
		tunnel_spec_free(spec);
	}

	if (cfg != NULL) {
		/* A tunnel handed over and freed separately. */
		if (cfg->ntunnels > 0)
			tunnel_spec_free(cfg_take_tunnel(cfg, 0));
		cfg_free(cfg);
	}
	free(text);
	return 0;
}
