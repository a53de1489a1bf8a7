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
/* tunsupd.c: main: options, -t/-T, the control socket, READY=1, ev_run. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <libssh/libssh.h>

#include "cfg.h"
#include "ctl.h"
#include "daemon.h"
#include "fdlimit.h"
#include "log.h"
#include "proc.h"
#include "sshconn.h"
#include "state.h"
#include "util.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: tunsupd [-f config] [-S socket] [-t] [-v]... "
	    "[-q] [-V] [-h]\n       tunsupd [-f config] -T [name]\n");
}

/*
 * -T: every tunnel's effective configuration, or only, with a name, that
 * tunnel's; the ones the state file added or removed, or whose forwards it
 * changed, say so in a comment (tunsupd.conf(5), STATE FILE). 0, or 1 for
 * a name the configuration does not have.
 */
static int
print_config(const struct cfg *cfg, const struct state *st, const char *only)
{
	const char	*name;
	char		*dump, *notes;
	size_t		 i;
	int		 found = 0;

	for (i = 0; i < cfg->ntunnels; i++) {
		if (only != NULL && strcmp(cfg->tunnels[i]->name, only) != 0)
			continue;
		dump = tunnel_spec_dump(cfg->tunnels[i]);
		if (found++ > 0)
			printf("\n");
		if (state_added(st, cfg->tunnels[i]->name))
			printf("# added at runtime, kept in %s\n",
			    state_path(st));
		if ((notes = state_forward_notes(st,
		    cfg->tunnels[i]->name)) != NULL)
			printf("%s", notes);
		printf("%s", dump);
		free(notes);
		free(dump);
	}
	for (i = 0; (name = state_removed(st, i)) != NULL; i++) {
		if (only != NULL && strcmp(name, only) != 0)
			continue;
		printf("%s# tunnel %s: removed at runtime, kept in %s\n",
		    found++ > 0 ? "\n" : "", name, state_path(st));
	}
	if (only != NULL && found == 0) {
		fprintf(stderr, "tunsupd: no tunnel %s in the configuration\n",
		    only);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char		*path = SYSCONFDIR "/tunsup/tunsupd.conf";
	char			*sock = NULL, *err = NULL, *spath;
	struct cfg_errors	 errs = { NULL, 0 };
	struct cfg		*cfg;
	struct daemon		*d;
	struct state		*st = NULL;
	struct ev_loop		*loop;
	const char		*only = NULL;
	int			 ch, check = 0, print = 0, level = LOG_LVL_INFO;
	int			 r = 0;
	size_t			 i;

	while ((ch = getopt(argc, argv, "f:S:tTvqVh")) != -1) {
		switch (ch) {
		case 'f':
			path = optarg;
			break;
		case 'S':
			free(sock);
			sock = xstrdup(optarg);
			break;
		case 't':
			check = 1;
			break;
		case 'T':
			print = 1;
			break;
		case 'v':
			level++;
			break;
		case 'q':
			level--;
			break;
		case 'V':
			printf("tunsupd %s\nlibssh %s (%s)\n", PACKAGE_VERSION,
			    ssh_version(0), TUNSUP_LIBSSH_BUILD);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* -T NAME: one tunnel. */
	if (print && optind == argc - 1)
		only = argv[optind++];
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_set_level(level);

	/* The state file's changes apply after the configuration's. */
	if ((cfg = cfg_load(path, &errs)) != NULL) {
		spath = state_default_path(cfg);
		st = state_load(spath, &errs);
		free(spath);
	}
	if (cfg == NULL || st == NULL || state_merge(st, cfg, &errs) != 0 ||
	    daemon_cfg_check(cfg, &errs) != 0) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		if (errs.n == 0)
			fprintf(stderr, "%s: configuration rejected\n", path);
		cfg_errors_clear(&errs);
		cfg_free(cfg);
		state_free(st);
		free(sock);
		return 1;
	}
	/* Keywords tunsupd cannot honour: tunsupd.conf(5). */
	for (i = 0; i < cfg->warnings.n; i++) {
		if (check || print)
			fprintf(stderr, "%s\n", cfg->warnings.msg[i]);
		else
			log_warn("%s", cfg->warnings.msg[i]);
	}
	if (check || print) {
		if (print)
			r = print_config(cfg, st, only);
		else
			fprintf(stderr, "%s: configuration OK (%zu tunnels)\n",
			    path, cfg->ntunnels);
		cfg_free(cfg);
		state_free(st);
		free(sock);
		return r;
	}

	/* Each tunnel and each connection holds a descriptor: tunsupd(8). */
	fdlimit_raise();
	if (sock == NULL)
		sock = ctl_default_path();
	loop = ev_default_loop(EVFLAG_AUTO);
	d = daemon_new(loop, cfg, path);
	d->state = st;	/* the daemon's now */
	d->libssh_version = ssh_version(0);
	if (state_flush(st, &err) != 0) {
		log_warn("%s", err);
		free(err);
		err = NULL;
	}
	d->ctl = ctl_open(loop, d->fdlimit, sock, cfg->control_group,
	    ctl_daemon_handler, d, &err);
	if (d->ctl == NULL) {
		fprintf(stderr, "tunsupd: %s\n", err != NULL ? err :
		    "cannot open the control socket");
		free(err);
		daemon_free(d);
		free(sock);
		return 1;
	}
	if (daemon_metrics_listen(d, d->cfg->metrics_listen, &err) != 0) {
		fprintf(stderr, "tunsupd: %s\n", err);
		free(err);
		daemon_free(d);
		free(sock);
		return 1;
	}
	log_info("tunsupd %s started: %zu tunnels, control socket %s",
	    PACKAGE_VERSION, daemon_tunnel_count(d), sock);
	daemon_start(d);
	daemon_notify_ready(d);
	ev_run(loop, 0);

	daemon_free(d);
	sshconn_keys_cleanup();
	proc_cleanup();
	ev_loop_destroy(loop);
	free(sock);
	log_info("stopped");
	return 0;
}
