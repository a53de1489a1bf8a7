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
 * hook.c: the commands a tunnel runs on its own events, EventCommand on
 * every change of state and LocalCommand after each session established
 * (tunsupd.conf(5)), through proc.c: never waited for, stopped when their
 * time (EventCommandTimeout) is up, their output in the log under the
 * tunnel's name.
 *
 * At most one EventCommand runs per tunnel. A change that comes while one
 * runs waits; a later one takes its place, counted as missed. When the run
 * ends, the waiting change runs with TUNSUP_MISSED saying how many changes
 * before it had no run of their own. So the last change always gets a run,
 * and runs never pile up, however fast the tunnel flaps.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "daemon.h"
#include "forward.h"
#include "hook.h"
#include "log.h"
#include "proc.h"
#include "util.h"

/* A change of state waiting for its run: the command and environment. */
struct hook_run {
	char		 *cmd;
	double		  timeout;
	char		**env;		/* NAME=VALUE, NULL-ended */
	size_t		  nenv;
};

struct hook {
	struct ev_loop	*loop;
	char		*name;		/* the tunnel's, for the log */
	struct proc	*event;		/* the EventCommand running */
	struct hook_run	*waiting;	/* the last change since it started */
	unsigned long	 missed;	/* changes replaced while waiting */
	struct proc	*local;		/* the LocalCommand running */
};

static void	hook_event_done(void *);

static void
hook_run_free(struct hook_run *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nenv; i++)
		free(r->env[i]);
	free(r->env);
	free(r->cmd);
	free(r);
}

static void
hook_env_add(struct hook_run *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
hook_env_add(struct hook_run *r, const char *name, const char *fmt, ...)
{
	va_list	 ap;
	char	*v;

	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) == -1)
		fatal("out of memory");
	va_end(ap);
	r->env = xreallocarray(r->env, r->nenv + 2, sizeof(*r->env));
	xasprintf(&r->env[r->nenv++], "%s=%s", name, v);
	r->env[r->nenv] = NULL;
	free(v);
}

/*
 * The ports the server bound for t's remote forwards: TUNSUP_REMOTE_PORTS
 * "LISTEN=PORT ..." for those bound, and TUNSUP_REMOTE_PORT_N for the Nth
 * remote TCP forward in the configuration's order (empty while not bound).
 */
static void
hook_env_ports(struct hook_run *r, struct tunnel *t)
{
	const struct fwd_spec	*fs;
	struct forward		*f;
	char			*all = xstrdup(""), *old, name[64];
	size_t			 i, n = 0;

	for (i = 0; i < t->nforwards; i++) {
		f = t->forwards[i];
		fs = f->spec;
		if ((fwd_kind_info(fs->kind)->flags & FK_HERE) ||
		    fs->listen.path != NULL)
			continue;
		snprintf(name, sizeof(name), "TUNSUP_REMOTE_PORT_%zu", ++n);
		if (f->bound_port <= 0) {
			hook_env_add(r, name, "%s", "");
			continue;
		}
		hook_env_add(r, name, "%d", f->bound_port);
		old = all;
		xasprintf(&all, "%s%s%s=%d", old, *old != '\0' ? " " : "",
		    fs->listen_str, f->bound_port);
		free(old);
	}
	hook_env_add(r, "TUNSUP_REMOTE_PORTS", "%s", all);
	free(all);
}

static void
hook_event_start(struct hook *h, struct hook_run *r)
{
	hook_env_add(r, "TUNSUP_MISSED", "%lu", h->missed);
	h->missed = 0;
	h->event = proc_run(h->loop, h->name, "event command", r->cmd, r->env,
	    r->timeout, hook_event_done, h);
	if (h->event == NULL)
		tlog_msg(h->name, LOG_LVL_WARN, "event command: cannot run "
		    "/bin/sh: %s", strerror(errno));
	hook_run_free(r);
}

/* The EventCommand ended: the change that waited, if any, runs now. */
static void
hook_event_done(void *arg)
{
	struct hook	*h = arg;
	struct hook_run	*r;

	h->event = NULL;
	if ((r = h->waiting) != NULL) {
		h->waiting = NULL;
		hook_event_start(h, r);
	}
}

static void
hook_local_done(void *arg)
{
	struct hook	*h = arg;

	h->local = NULL;
}

static struct hook *
hook_get(struct tunnel *t)
{
	if (t->hook == NULL) {
		t->hook = xcalloc(1, sizeof(*t->hook));
		t->hook->loop = t->daemon->loop;
		t->hook->name = xstrdup(t->spec->name);
	}
	return t->hook;
}

/* The local host's name, whole or up to its first dot (%l, %L). */
static void
hook_local_host(char *buf, size_t len, int shorten)
{
	if (gethostname(buf, len) == -1)
		snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
	if (shorten)
		buf[strcspn(buf, ".")] = '\0';
}

/* LocalCommand with the tokens of ssh_config(5), as ssh runs it. */
static void
hook_local(struct hook *h, struct tunnel *t)
{
	const struct tunnel_spec	*s = t->spec;
	const struct passwd		*pw;
	const char			*values[8], *home;
	char				 port[16], host[256], shost[256];
	char				*cmd, bad;

	if (h->local != NULL) {
		tlog_warn(t, "local command: the run of the last session has "
		    "not ended: not run again");
		return;
	}
	if ((pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	else if ((home = getenv("HOME")) == NULL)
		home = "/";
	snprintf(port, sizeof(port), "%d", s->port);
	hook_local_host(host, sizeof(host), 0);
	hook_local_host(shost, sizeof(shost), 1);
	values[0] = home;		/* %d */
	values[1] = s->hostname;	/* %h */
	values[2] = host;		/* %l */
	values[3] = shost;		/* %L */
	values[4] = s->name;		/* %n */
	values[5] = port;		/* %p */
	values[6] = s->user != NULL ? s->user : local_user();	/* %r */
	values[7] = local_user();	/* %u */
	/* Checked when the configuration was read. */
	if ((cmd = percent_expand(s->local_command, "dhlLnpru", values,
	    &bad)) == NULL) {
		tlog_warn(t, "LocalCommand: unknown token %%%c", bad);
		return;
	}
	tlog_debug(t, "local command: %s", cmd);
	h->local = proc_run(h->loop, h->name, "local command", cmd, NULL,
	    s->event_command_timeout_ms / 1000.0, hook_local_done, h);
	if (h->local == NULL)
		tlog_warn(t, "local command: cannot run /bin/sh: %s",
		    strerror(errno));
	free(cmd);
}

void
hook_tunnel_state(struct tunnel *t, enum tunnel_state from,
    enum tunnel_state to, const char *reason)
{
	const struct tunnel_spec	*s = t->spec;
	struct hook			*h;
	struct hook_run			*r;

	if (to == TS_FORWARDING && s->permit_local_command &&
	    s->local_command != NULL)
		hook_local(hook_get(t), t);
	if (s->event_command == NULL)
		return;
	h = hook_get(t);
	r = xcalloc(1, sizeof(*r));
	r->cmd = xstrdup(s->event_command);
	r->timeout = s->event_command_timeout_ms / 1000.0;
	hook_env_add(r, "TUNSUP_TUNNEL", "%s", s->name);
	hook_env_add(r, "TUNSUP_STATE", "%s", tunnel_state_name(to));
	hook_env_add(r, "TUNSUP_PREVIOUS", "%s", tunnel_state_name(from));
	hook_env_add(r, "TUNSUP_REASON", "%s", reason != NULL ? reason : "");
	hook_env_add(r, "TUNSUP_CONNECTS", "%lu", t->connects);
	hook_env_ports(r, t);
	if (h->event == NULL) {
		hook_event_start(h, r);
		return;
	}
	if (h->waiting != NULL) {
		h->missed++;
		hook_run_free(h->waiting);
	}
	h->waiting = r;
}

void
hook_tunnel_free(struct tunnel *t)
{
	struct hook	*h = t->hook;

	if (h == NULL)
		return;
	proc_detach(h->event);
	proc_detach(h->local);
	hook_run_free(h->waiting);
	free(h->name);
	free(h);
	t->hook = NULL;
}
