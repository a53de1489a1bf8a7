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
 * ctl_cmds.c: the control commands (tunsupd(8), Control socket). A table of entries with flags
 * in the manner of tmux's cmd_entry; the handlers take a request object and
 * return a reply object and know nothing about sockets, so tests call
 * ctl_dispatch() and ctl_dispatch_line() directly.
 */
#include "config.h"

#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cfg.h"
#include "ctl.h"
#include "daemon.h"
#include "log.h"
#include "sshargs.h"
#include "state.h"
#include "tunnel.h"
#include "util.h"

/* Entry flags. */
#define CTL_RO		0x1	/* changes nothing: not logged */
#define CTL_TUNNEL	0x2	/* "tunnel" argument required */
#define CTL_TUNNEL_OPT	0x4	/* "tunnel" argument optional */
#define CTL_TUNNEL_ALL	0x8	/* "tunnel" may be "*" for every tunnel */
#define CTL_OPERATOR	0x10	/* a ControlGroup member may use it */

struct ctl_cmd_entry {
	const char	*name;
	int		 flags;
	json_t		*(*exec)(struct daemon *, json_t *, int *);
};

static json_t	*ctl_cmd_hello(struct daemon *, json_t *, int *);
static json_t	*ctl_cmd_status(struct daemon *, json_t *, int *);
static json_t	*ctl_cmd_start(struct daemon *, json_t *, int *);
static json_t	*ctl_cmd_stop(struct daemon *, json_t *, int *);
static json_t	*ctl_cmd_restart(struct daemon *, json_t *, int *);
static json_t	*ctl_cmd_reload(struct daemon *, json_t *, int *);
static json_t	*ctl_cmd_add(struct daemon *, json_t *, int *);
static json_t	*ctl_cmd_remove(struct daemon *, json_t *, int *);
static json_t	*ctl_cmd_forward(struct daemon *, json_t *, int *);
static json_t	*ctl_cmd_cancel(struct daemon *, json_t *, int *);
static json_t	*ctl_cmd_subscribe(struct daemon *, json_t *, int *);
static json_t	*ctl_cmd_check_now(struct daemon *, json_t *, int *);

static const struct ctl_cmd_entry ctl_cmd_table[] = {
	{ "hello",	CTL_RO|CTL_OPERATOR,		ctl_cmd_hello },
	{ "status",	CTL_RO|CTL_OPERATOR|CTL_TUNNEL_OPT|CTL_TUNNEL_ALL,
	    ctl_cmd_status },
	{ "start",	CTL_OPERATOR|CTL_TUNNEL|CTL_TUNNEL_ALL, ctl_cmd_start },
	{ "stop",	CTL_OPERATOR|CTL_TUNNEL|CTL_TUNNEL_ALL, ctl_cmd_stop },
	{ "restart",	CTL_OPERATOR|CTL_TUNNEL|CTL_TUNNEL_ALL, ctl_cmd_restart },
	/* What a tunnel is made of stays the owner's: paths, keys, binds. */
	{ "reload",	0,				ctl_cmd_reload },
	{ "add",	CTL_TUNNEL,			ctl_cmd_add },
	{ "remove",	CTL_TUNNEL,			ctl_cmd_remove },
	{ "forward",	CTL_TUNNEL,			ctl_cmd_forward },
	{ "cancel",	CTL_TUNNEL,			ctl_cmd_cancel },
	{ "subscribe",	CTL_RO|CTL_OPERATOR,		ctl_cmd_subscribe },
	{ "check-now",	CTL_OPERATOR|CTL_TUNNEL_OPT|CTL_TUNNEL_ALL,
	    ctl_cmd_check_now },
};

static json_t *
ctl_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

static json_t *
ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *
ctl_error(const char *fmt, ...)
{
	json_t	*reply;
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	/* A message quoting a bad request may hold bytes that are not UTF-8. */
	reply = json_pack("{s:b,s:o}", "ok", 0, "error", json_text(msg));
	free(msg);
	return reply;
}

/* An error reply from a message we own (freed), or dflt if there is none. */
static json_t *
ctl_error_take(char *err, const char *dflt)
{
	json_t	*reply;

	reply = ctl_error("%s", err != NULL ? err : dflt);
	free(err);
	return reply;
}

/* The "tunnel" argument, already checked to be a string when present. */
static const char *
ctl_arg_tunnel(json_t *req)
{
	return json_string_value(json_object_get(req, "tunnel"));
}

static int
ctl_is_all(const char *name)
{
	return strcmp(name, "*") == 0;
}

static json_t *
ctl_cmd_hello(struct daemon *d, json_t *req, int *subscribe)
{
	return json_pack("{s:b,s:s,s:i}", "ok", 1, "version", PACKAGE_VERSION,
	    "protocol", CTL_PROTOCOL);
}

/* The daemon's loop turns: {"turns":…,"longest_turn_ms":…,"turns_over_1ms":…}. */
static json_t *
ctl_turn_stats(const struct turn_stats *ts)
{
	json_t	*o;
	char	 key[32];
	int	 i;

	o = json_pack("{s:I,s:f,s:f,s:I}", "turns", (json_int_t)ts->turns,
	    "longest_turn_ms", ts->longest_ms, "turn_ms_sum", ts->sum_ms,
	    "turns_batched", (json_int_t)ts->batched);
	for (i = 0; i < TURN_LIMITS; i++) {
		snprintf(key, sizeof(key), "turns_over_%dms", turn_limits_ms[i]);
		json_object_set_new(o, key, json_integer((json_int_t)ts->over[i]));
	}
	return o;
}

json_t *
ctl_status(struct daemon *d)
{
	return ctl_cmd_status(d, NULL, NULL);
}

static json_t *
ctl_cmd_status(struct daemon *d, json_t *req, int *subscribe)
{
	struct tunnel	*t;
	json_t		*reply, *list;
	const char	*name;

	name = ctl_arg_tunnel(req);
	if (name != NULL && ctl_is_all(name))
		name = NULL;
	list = json_array();
	if (name != NULL) {
		if ((t = daemon_tunnel_find(d, name)) == NULL) {
			json_decref(list);
			return ctl_error("no such tunnel: %s", name);
		}
		json_array_append_new(list, tunnel_status(t)); /* stolen */
	} else {
		TAILQ_FOREACH(t, &d->tunnels, entry)
			json_array_append_new(list, tunnel_status(t));
	}
	reply = json_pack("{s:b,s:s,s:I,s:f,s:f,s:o,s:o,s:{s:b,s:f}}",
	    "ok", 1, "version", PACKAGE_VERSION, "pid", (json_int_t)getpid(),
	    "uptime_s", now_wall() - d->started, "started", d->started,
	    "loop", ctl_turn_stats(&d->turn),
	    "tunnels", list,	/* "o" steals both */
	    "reload", "successful", !d->reload_failed,
	    "success_time", d->loaded);
	if (d->libssh_version != NULL)
		json_object_set_new(reply, "libssh",
		    json_string(d->libssh_version));	/* stolen */
	return reply;
}

/*
 * Apply fn to the named tunnel or, for "*", to every tunnel. The tunnel
 * list does not change under start/stop/restart.
 */
static json_t *
ctl_each_tunnel(struct daemon *d, json_t *req,
    void (*fn)(struct tunnel *, const char *), const char *reason)
{
	struct tunnel	*t;
	const char	*name;

	name = ctl_arg_tunnel(req);
	if (ctl_is_all(name)) {
		TAILQ_FOREACH(t, &d->tunnels, entry)
			fn(t, reason);
		return ctl_ok();
	}
	if ((t = daemon_tunnel_find(d, name)) == NULL)
		return ctl_error("no such tunnel: %s", name);
	fn(t, reason);
	return ctl_ok();
}

static void
ctl_start_one(struct tunnel *t, const char *reason)
{
	tunnel_start(t);
}

static json_t *
ctl_cmd_start(struct daemon *d, json_t *req, int *subscribe)
{
	return ctl_each_tunnel(d, req, ctl_start_one, NULL);
}

static json_t *
ctl_cmd_stop(struct daemon *d, json_t *req, int *subscribe)
{
	return ctl_each_tunnel(d, req, tunnel_stop, "stopped by control command");
}

static json_t *
ctl_cmd_restart(struct daemon *d, json_t *req, int *subscribe)
{
	return ctl_each_tunnel(d, req, tunnel_restart,
	    "restarted by control command");
}

static json_t *
ctl_cmd_reload(struct daemon *d, json_t *req, int *subscribe)
{
	json_t	*result, *reply;
	char	*err = NULL;

	if ((result = daemon_reload(d, &err)) == NULL)
		return ctl_error_take(err, "reload failed");
	reply = ctl_ok();
	if (json_is_object(result))
		json_object_update(reply, result);
	json_object_set_new(reply, "ok", json_true());
	json_decref(result);
	return reply;
}

#define CTL_ARGV_MAX	256

/*
 * An ssh command line as a JSON array of strings ("argv" of add, with
 * "cwd" the directory its relative paths are in): its lines in sa, or -1
 * with *err.
 */
static int
ctl_argv_parse(json_t *argv, json_t *cwd, struct sshargs *sa, char **err)
{
	const char	*args[CTL_ARGV_MAX], *dir = NULL;
	json_t		*v;
	size_t		 i, n;

	if (!json_is_array(argv) || (n = json_array_size(argv)) == 0 ||
	    n > CTL_ARGV_MAX)
		goto bad;
	json_array_foreach(argv, i, v) {
		if ((args[i] = json_string_value(v)) == NULL)
			goto bad;
	}
	if (cwd != NULL) {
		if ((dir = json_string_value(cwd)) == NULL || *dir != '/') {
			*err = xstrdup("argument cwd must be an absolute path");
			return -1;
		}
	}
	return sshargs_parse(sa, (int)n, (char *const *)args, dir, err);
bad:
	xasprintf(err, "argument argv must be an array of 1 to %d strings",
	    CTL_ARGV_MAX);
	return -1;
}

/*
 * add: the block's lines as "config", or an ssh command line as "argv"
 * (what tunsupctl add sends), translated here by the library. Kept in the
 * state file before it runs (tunsupd.conf(5), STATE FILE).
 */
static json_t *
ctl_cmd_add(struct daemon *d, json_t *req, int *subscribe)
{
	struct tunnel_spec	*spec;
	struct cfg_errors	 errs = { NULL, 0 }, warns = { NULL, 0 };
	struct sshargs		 sa;
	json_t			*config, *argv, *reply;
	const char		*name;
	char			*err = NULL, *block;

	memset(&sa, 0, sizeof(sa));
	name = ctl_arg_tunnel(req);
	if (!tunnel_name_valid(name))
		return ctl_error("invalid tunnel name: %s", name);
	if (daemon_tunnel_find(d, name) != NULL)
		return ctl_error("tunnel exists: %s", name);
	config = json_object_get(req, "config");
	argv = json_object_get(req, "argv");
	if (config == NULL && argv == NULL)
		return ctl_error("missing argument: config or argv");
	if (config != NULL && argv != NULL)
		return ctl_error("add takes config or argv, not both");
	if (config != NULL && !json_is_string(config))
		return ctl_error("argument config must be a string");
	if (config != NULL) {
		block = xstrdup(json_string_value(config));
		spec = cfg_parse_tunnel(d->cfg, name, block, &errs, &warns);
	} else {
		if (ctl_argv_parse(argv, json_object_get(req, "cwd"), &sa,
		    &err) != 0)
			return ctl_error_take(err, "invalid argv");
		block = sshargs_block(&sa, "");
		spec = cfg_parse_tunnel_lines(d->cfg, name, "tunsupctl add", 0,
		    sa.lines, sa.nlines, &errs, &warns);
	}
	if (spec == NULL) {
		err = cfg_errors_join(&errs);
		reply = ctl_error_take(err, "invalid config");
		goto out;
	}
	/* Nothing is kept that add would refuse: a reload would fail on it. */
	if (daemon_tunnel_addable(d, spec, &err) != 0) {
		tunnel_spec_free(spec);
		reply = ctl_error_take(err, "add failed");
		goto out;
	}
	if (state_keep_add(d->state, name, block, &err) != 0) {
		tunnel_spec_free(spec);
		reply = ctl_error("not added: cannot keep it in the state "
		    "file: %s", err);
		free(err);
		goto out;
	}
	if (daemon_tunnel_add(d, spec, &err) != 0) {	/* spec stolen */
		reply = ctl_error_take(err, "add failed");
		goto out;
	}
	reply = ctl_ok();
	/* What ssh would do and tunsupd does not, as tunsupd -t says it. */
	sshargs_add_notes(&sa, &warns);
	if (sa.notes != NULL)
		json_object_set_new(reply, "note", json_text(sa.notes));
out:
	cfg_errors_clear(&errs);
	cfg_errors_clear(&warns);
	sshargs_clear(&sa);
	free(block);
	return reply;
}

/*
 * remove: kept in the state file too; a tunnel added at runtime leaves it,
 * one of the configuration file stays removed while its block is unchanged.
 */
static json_t *
ctl_cmd_remove(struct daemon *d, json_t *req, int *subscribe)
{
	struct tunnel	*t;
	const char	*name;
	char		*err = NULL;
	json_t		*reply;

	name = ctl_arg_tunnel(req);
	if ((t = daemon_tunnel_find(d, name)) == NULL)
		return ctl_error("no such tunnel: %s", name);
	if (state_keep_remove(d->state, t->spec, &err) != 0) {
		reply = ctl_error("not removed: cannot keep it in the state "
		    "file: %s", err);
		free(err);
		return reply;
	}
	if (daemon_tunnel_remove(d, name, &err) != 0)
		return ctl_error_take(err, "remove failed");
	return ctl_ok();
}

/*
 * forward and cancel: one forward ("forward", a LocalForward, RemoteForward
 * or DynamicForward line) added to or cancelled from a tunnel inside its
 * session, kept in the state file first (tunsupd.conf(5), STATE FILE).
 */
static json_t *
ctl_forward_change(struct daemon *d, json_t *req, int cancel)
{
	struct tunnel		*t;
	struct tunnel_spec	*spec = NULL;
	struct fwd_spec		 fwd;
	const char		*name, *line;
	char			*err = NULL;
	ssize_t			 i;
	json_t			*reply;

	memset(&fwd, 0, sizeof(fwd));
	name = ctl_arg_tunnel(req);
	if ((t = daemon_tunnel_find(d, name)) == NULL)
		return ctl_error("no such tunnel: %s", name);
	if ((line = json_string_value(json_object_get(req, "forward"))) ==
	    NULL)
		return ctl_error("missing argument: forward (a string)");
	if (tunnel_spec_parse_forward(t->spec, line, &fwd, &err) != 0)
		return ctl_error_take(err, "invalid forward");
	i = tunnel_spec_forward_find(t->spec, &fwd, 0);
	if (cancel && i == -1) {
		reply = ctl_error("tunnel %s has no such forward: %s", name,
		    line);
		goto out;
	}
	if (!cancel && i != -1) {
		reply = ctl_error("tunnel %s has this forward already: %s",
		    name, line);
		goto out;
	}
	if (!cancel && (i = tunnel_spec_forward_find(t->spec, &fwd, 1)) !=
	    -1) {
		reply = ctl_error("tunnel %s listens on %s already (%s %s%s%s): "
		    "cancel that forward first", name, fwd.listen_str,
		    fwd_kind_info(t->spec->forwards[i].kind)->keyword,
		    t->spec->forwards[i].listen_str,
		    t->spec->forwards[i].target_str != NULL ? " " : "",
		    t->spec->forwards[i].target_str != NULL ?
		    t->spec->forwards[i].target_str : "");
		goto out;
	}
	if (state_keep_forward(d->state, t->spec, &fwd, line, cancel,
	    &err) != 0) {
		reply = ctl_error("not %s: cannot keep it in the state file: "
		    "%s", cancel ? "cancelled" : "added", err);
		free(err);
		goto out;
	}
	spec = tunnel_spec_copy(t->spec);
	if (cancel)
		tunnel_spec_drop_forward(spec, (size_t)i);
	else
		tunnel_spec_add_forward(spec, &fwd);
	tunnel_replace_spec(t, spec);	/* spec taken */
	reply = ctl_ok();
out:
	fwd_spec_clear(&fwd);
	return reply;
}

static json_t *
ctl_cmd_forward(struct daemon *d, json_t *req, int *subscribe)
{
	return ctl_forward_change(d, req, 0);
}

static json_t *
ctl_cmd_cancel(struct daemon *d, json_t *req, int *subscribe)
{
	return ctl_forward_change(d, req, 1);
}

static json_t *
ctl_cmd_subscribe(struct daemon *d, json_t *req, int *subscribe)
{
	*subscribe = 1;
	return ctl_ok();
}

/*
 * check-now: the sessions of the tunnel, or of every tunnel, are checked at
 * once as after a network change; tunnels in backoff retry now.
 */
static json_t *
ctl_cmd_check_now(struct daemon *d, json_t *req, int *subscribe)
{
	json_t		*checked, *retried;
	const char	*name;

	name = ctl_arg_tunnel(req);
	if (name != NULL && ctl_is_all(name))
		name = NULL;
	checked = json_array();
	retried = json_array();
	if (daemon_check_now(d, name, "check-now by control command",
	    checked, retried) != 0) {
		json_decref(checked);
		json_decref(retried);
		return ctl_error("no such tunnel: %s", name);
	}
	/* "o" steals both. */
	return json_pack("{s:b,s:o,s:o}", "ok", 1, "checked", checked,
	    "retried", retried);
}

static const struct ctl_cmd_entry *
ctl_cmd_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(ctl_cmd_table); i++) {
		if (strcmp(ctl_cmd_table[i].name, name) == 0)
			return &ctl_cmd_table[i];
	}
	return NULL;
}

/* Check the arguments the entry's flags describe; NULL if fine. */
static json_t *
ctl_check_args(const struct ctl_cmd_entry *ce, json_t *req)
{
	json_t	*arg;

	arg = json_object_get(req, "tunnel");
	if (arg == NULL) {
		if (ce->flags & CTL_TUNNEL)
			return ctl_error("missing argument: tunnel");
		return NULL;
	}
	if (!(ce->flags & (CTL_TUNNEL|CTL_TUNNEL_OPT)))
		return NULL;	/* extra members are ignored */
	if (!json_is_string(arg))
		return ctl_error("argument tunnel must be a string");
	if (!(ce->flags & CTL_TUNNEL_ALL) && ctl_is_all(json_string_value(arg)))
		return ctl_error("%s takes one tunnel, not *", ce->name);
	return NULL;
}

json_t *
ctl_dispatch(struct daemon *d, json_t *req, const struct ctl_peer *peer,
    int *subscribe)
{
	const struct ctl_cmd_entry	*ce;
	json_t				*cmd, *id, *reply;
	const char			*name;

	*subscribe = 0;
	if (!json_is_object(req))
		return ctl_error("request must be a JSON object");

	if ((cmd = json_object_get(req, "cmd")) == NULL)
		reply = ctl_error("missing argument: cmd");
	else if (!json_is_string(cmd))
		reply = ctl_error("argument cmd must be a string");
	else if ((ce = ctl_cmd_find(json_string_value(cmd))) == NULL)
		reply = ctl_error("unknown command: %s", json_string_value(cmd));
	else if (peer->access != CTL_ACCESS_OWNER &&
	    !(ce->flags & CTL_OPERATOR)) {
		log_warn("control: %s refused to uid %lu: a ControlGroup "
		    "member may only look, start, stop and restart", ce->name,
		    (u_long)peer->uid);
		reply = ctl_error("permission denied: %s is for root and the "
		    "daemon's user only", ce->name);
	} else if ((reply = ctl_check_args(ce, req)) == NULL) {
		if (!(ce->flags & CTL_RO)) {
			name = ctl_arg_tunnel(req);
			log_info("control: %s%s%s", ce->name,
			    name != NULL ? " " : "", name != NULL ? name : "");
		}
		reply = ce->exec(d, req, subscribe);
	}

	if ((id = json_object_get(req, "id")) != NULL)
		json_object_set(reply, "id", id);	/* not stolen */
	return reply;
}

json_t *
ctl_dispatch_line(struct daemon *d, const char *line, size_t len,
    const struct ctl_peer *peer, int *subscribe)
{
	json_error_t	 jerr;
	json_t		*req, *reply;

	*subscribe = 0;
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr);
	if (req == NULL) {
		return ctl_error("invalid JSON: %s at column %d", jerr.text,
		    jerr.column);
	}
	reply = ctl_dispatch(d, req, peer, subscribe);
	json_decref(req);
	return reply;
}

json_t *
ctl_daemon_handler(void *arg, const char *line, size_t len,
    const struct ctl_peer *peer, int *subscribe)
{
	return ctl_dispatch_line(arg, line, len, peer, subscribe);
}
