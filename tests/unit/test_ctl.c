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
 * test_ctl.c: the control commands through ctl_dispatch_line() (no socket),
 * and the socket transport of ctl.c driven by a private loop.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>
#include <jansson.h>

#include "cfg.h"
#include "ctl.h"
#include "daemon.h"
#include "log.h"
#include "tunnel.h"
#include "util.h"
#include "unit.h"

#define CONF_A	"Tunnel a\n HostName 127.0.0.1\n Enabled no\n"

static struct ev_loop	*loop;
static struct daemon	*d;
static char		 tmpdir[64];
/* Who the requests come from: the daemon's owner unless a test says. */
static const struct ctl_peer owner = { 0, CTL_ACCESS_OWNER };
static const struct ctl_peer operator = { 4242, CTL_ACCESS_OPERATOR };
static const struct ctl_peer *peer = &owner;

static void
quiet(enum log_level level, const char *msg, void *arg)
{
}

static struct daemon *
make_daemon(const char *path, const char *text)
{
	return daemon_new(loop, unit_cfg(path, text), path);
}

static void
setup(void)
{
	log_register(quiet, NULL);
	signal(SIGPIPE, SIG_IGN);
	peer = &owner;
	loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(loop);
	d = make_daemon("t.conf", CONF_A);
	cr_assert_not_null(d);
	strcpy(tmpdir, "/tmp/t_ctl.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	char	 cmd[128];

	daemon_free(d);
	ev_loop_destroy(loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
	log_register(NULL, NULL);
}

/* Dispatch one line; the reply must be an object with a boolean "ok". */
static json_t *
call_sub(const char *line, int *sub)
{
	json_t	*reply;

	reply = ctl_dispatch_line(d, line, strlen(line), peer, sub);
	cr_assert_not_null(reply, "no reply to %s", line);
	cr_assert(json_is_object(reply));
	cr_assert(json_is_boolean(json_object_get(reply, "ok")),
	    "no ok in the reply to %s", line);
	return reply;
}

static json_t *
call(const char *line)
{
	int	 sub;

	return call_sub(line, &sub);
}

static void
expect_ok(const char *line)
{
	json_t	*reply = call(line);

	cr_assert(json_is_true(json_object_get(reply, "ok")), "%s: %s", line,
	    json_string_value(json_object_get(reply, "error")));
	json_decref(reply);
}

/* The request fails with exactly this error. */
static void
expect_error(const char *line, const char *error)
{
	json_t	*reply = call(line);

	cr_assert(json_is_false(json_object_get(reply, "ok")), "%s", line);
	cr_assert_str_eq(json_string_value(json_object_get(reply, "error")),
	    error, "%s", line);
	json_decref(reply);
}

/* The state of a tunnel in a status reply. */
static char *
state_of(const char *name)
{
	json_t	*reply, *t;
	char	*req, *state;

	xasprintf(&req, "{\"cmd\":\"status\",\"tunnel\":\"%s\"}", name);
	reply = call(req);
	free(req);
	cr_assert(json_is_true(json_object_get(reply, "ok")));
	t = json_array_get(json_object_get(reply, "tunnels"), 0);
	state = xstrdup(json_string_value(json_object_get(t, "state")));
	json_decref(reply);
	return state;
}

TestSuite(ctl_cmds, .init = setup, .fini = teardown);

Test(ctl_cmds, hello)
{
	json_t	*reply;
	int	 sub = -1;

	reply = call_sub("{\"cmd\":\"hello\"}", &sub);
	cr_assert(json_is_true(json_object_get(reply, "ok")));
	cr_assert_str_eq(json_string_value(json_object_get(reply, "version")),
	    PACKAGE_VERSION);
	cr_assert(json_is_integer(json_object_get(reply, "protocol")));
	cr_assert_eq(json_integer_value(json_object_get(reply, "protocol")), 1);
	cr_assert_eq(sub, 0);
	json_decref(reply);
}

static void
assert_nullable(json_t *obj, const char *key, int (*isa)(const json_t *))
{
	json_t	*v = json_object_get(obj, key);

	cr_assert_not_null(v, "field %s missing", key);
	cr_assert(json_is_null(v) || isa(v), "field %s has the wrong type",
	    key);
}

static int
is_string(const json_t *v)
{
	return json_is_string(v);
}

static int
is_number(const json_t *v)
{
	return json_is_number(v);
}

static int
is_integer(const json_t *v)
{
	return json_is_integer(v);
}

static void
assert_type(json_t *obj, const char *key, int (*isa)(const json_t *))
{
	json_t	*v = json_object_get(obj, key);

	cr_assert_not_null(v, "field %s missing", key);
	cr_assert(isa(v), "field %s has the wrong type", key);
}

Test(ctl_cmds, status_shape)
{
	static const char *kinds[] = {
		"local", "remote", "dynamic", "remote-dynamic"
	};
	json_t		*reply, *t, *ka, *f;
	const char	*kind, *state;
	size_t		 i, k;
	int		 seen[4] = { 0, 0, 0, 0 };

	daemon_free(d);
	d = make_daemon("t.conf", "Tunnel full\n"
	    " HostName 127.0.0.1\n Port 2222\n User tunnel\n Enabled no\n"
	    " ServerAliveInterval 15\n ServerAliveCountMax 3\n"
	    " LocalForward 127.0.0.1:15432 db.internal:5432\n"
	    " RemoteForward 2220 localhost:22\n"
	    " DynamicForward 11080\n"
	    " RemoteForward 2221\n");

	reply = call("{\"cmd\":\"status\"}");
	cr_assert(json_is_true(json_object_get(reply, "ok")));
	assert_type(reply, "version", is_string);
	assert_type(reply, "pid", is_integer);
	cr_assert_eq(json_integer_value(json_object_get(reply, "pid")),
	    getpid());
	assert_type(reply, "uptime_s", is_number);
	cr_assert(json_number_value(json_object_get(reply, "uptime_s")) >= 0);
	cr_assert_eq(json_array_size(json_object_get(reply, "tunnels")), 1);

	t = json_array_get(json_object_get(reply, "tunnels"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(t, "name")),
	    "full");
	cr_assert_str_eq(json_string_value(json_object_get(t, "state")),
	    "stopped");
	assert_type(t, "state_since", is_number);
	cr_assert_str_eq(json_string_value(json_object_get(t, "host")),
	    "127.0.0.1");
	cr_assert_eq(json_integer_value(json_object_get(t, "port")), 2222);
	cr_assert_str_eq(json_string_value(json_object_get(t, "user")),
	    "tunnel");
	assert_type(t, "connects", is_integer);
	assert_type(t, "failures", is_integer);
	assert_nullable(t, "last_error", is_string);
	assert_nullable(t, "next_retry_s", is_number);

	ka = json_object_get(t, "keepalive");
	cr_assert(json_is_object(ka), "keepalive is not an object");
	assert_type(ka, "interval_s", is_number);
	cr_assert_eq(json_number_value(json_object_get(ka, "interval_s")), 15);
	assert_type(ka, "count_max", is_integer);
	cr_assert_eq(json_integer_value(json_object_get(ka, "count_max")), 3);
	assert_nullable(ka, "rtt_ms", is_number);
	assert_nullable(ka, "last_ok", is_number);

	cr_assert_eq(json_array_size(json_object_get(t, "forwards")), 4);
	json_array_foreach(json_object_get(t, "forwards"), i, f) {
		kind = json_string_value(json_object_get(f, "kind"));
		cr_assert_not_null(kind);
		for (k = 0; k < nitems(kinds); k++) {
			if (strcmp(kind, kinds[k]) == 0)
				seen[k]++;
		}
		assert_type(f, "listen", is_string);
		if (strcmp(kind, "local") == 0 || strcmp(kind, "remote") == 0)
			assert_type(f, "target", is_string);
		else
			assert_nullable(f, "target", is_string);
		state = json_string_value(json_object_get(f, "state"));
		cr_assert(state != NULL && (strcmp(state, "pending") == 0 ||
		    strcmp(state, "up") == 0 || strcmp(state, "failed") == 0),
		    "bad forward state");
		assert_nullable(f, "error", is_string);
		assert_nullable(f, "bound_port", is_integer);
		assert_type(f, "connections_active", is_integer);
		assert_type(f, "connections_total", is_integer);
		assert_type(f, "bytes_in", is_integer);
		assert_type(f, "bytes_out", is_integer);
		if (strcmp(kind, "remote") == 0) {
			cr_assert_str_eq(json_string_value(json_object_get(f,
			    "listen")), "localhost:2220");
			cr_assert_str_eq(json_string_value(json_object_get(f,
			    "target")), "localhost:22");
		}
		if (strcmp(kind, "local") == 0) {
			cr_assert_str_eq(json_string_value(json_object_get(f,
			    "target")), "db.internal:5432");
		}
	}
	for (k = 0; k < nitems(kinds); k++)
		cr_assert_eq(seen[k], 1, "kind %s seen %d times", kinds[k],
		    seen[k]);
	json_decref(reply);
}

Test(ctl_cmds, status_one_tunnel)
{
	json_t	*reply;

	daemon_free(d);
	d = make_daemon("t.conf", CONF_A
	    "Tunnel b\n HostName 127.0.0.1\n Enabled no\n");
	reply = call("{\"cmd\":\"status\"}");
	cr_assert_eq(json_array_size(json_object_get(reply, "tunnels")), 2);
	json_decref(reply);

	reply = call("{\"cmd\":\"status\",\"tunnel\":\"b\"}");
	cr_assert_eq(json_array_size(json_object_get(reply, "tunnels")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(reply, "tunnels"), 0), "name")), "b");
	json_decref(reply);

	expect_error("{\"cmd\":\"status\",\"tunnel\":\"zz\"}",
	    "no such tunnel: zz");
}

Test(ctl_cmds, id_echo)
{
	json_t	*reply;

	reply = call("{\"cmd\":\"hello\",\"id\":7}");
	cr_assert(json_is_integer(json_object_get(reply, "id")));
	cr_assert_eq(json_integer_value(json_object_get(reply, "id")), 7);
	json_decref(reply);

	reply = call("{\"id\":\"abc\",\"cmd\":\"status\"}");
	cr_assert_str_eq(json_string_value(json_object_get(reply, "id")),
	    "abc");
	json_decref(reply);

	/* Errors echo it too. */
	reply = call("{\"cmd\":\"frob\",\"id\":[1,2]}");
	cr_assert(json_is_false(json_object_get(reply, "ok")));
	cr_assert_eq(json_array_size(json_object_get(reply, "id")), 2);
	json_decref(reply);

	reply = call("{\"cmd\":\"hello\"}");
	cr_assert_null(json_object_get(reply, "id"));
	json_decref(reply);
}

Test(ctl_cmds, unknown_command)
{
	expect_error("{\"cmd\":\"frob\"}", "unknown command: frob");
	expect_error("{\"cmd\":\"\"}", "unknown command: ");
	expect_error("{\"cmd\":\"HELLO\"}", "unknown command: HELLO");
}

static void
expect_invalid_json(const char *line, size_t len)
{
	json_t		*reply;
	const char	*err;
	char		*dump;
	int		 sub = 0;

	reply = ctl_dispatch_line(d, line, len, peer, &sub);
	cr_assert_not_null(reply);
	cr_assert(json_is_false(json_object_get(reply, "ok")));
	err = json_string_value(json_object_get(reply, "error"));
	cr_assert_not_null(err);
	cr_assert(strncmp(err, "invalid JSON: ", 14) == 0, "error: %s", err);
	cr_assert_not_null(strstr(err, " at column "), "error: %s", err);
	/* The reply itself must be sendable. */
	dump = json_dumps(reply, JSON_COMPACT);
	cr_assert_not_null(dump);
	free(dump);
	cr_assert_eq(sub, 0);
	json_decref(reply);
}

Test(ctl_cmds, invalid_json)
{
	static const char	 nul[] = "{\"cmd\":\"he\0llo\"}";
	static const char	 utf8[] = "{\"cmd\":\"\xff\xfe\"}";
	char			*deep;
	size_t			 i, n = 100000;

	expect_invalid_json("{", 1);
	expect_invalid_json("hello", 5);
	expect_invalid_json("{\"cmd\":\"hello\"} trailing", 24);
	expect_invalid_json("{\"cmd\":\"hello\"}{\"cmd\":\"hello\"}", 30);
	expect_invalid_json("{\"cmd\":\"hello\",\"cmd\":\"status\"}", 30);
	expect_invalid_json(nul, sizeof(nul) - 1);
	expect_invalid_json(utf8, sizeof(utf8) - 1);

	deep = xmalloc(2 * n);
	for (i = 0; i < n; i++) {
		deep[i] = '[';
		deep[2 * n - 1 - i] = ']';
	}
	expect_invalid_json(deep, 2 * n);
	for (i = 0; i < n; i++) {
		deep[i] = '{';
		deep[2 * n - 1 - i] = '}';
	}
	expect_invalid_json(deep, 2 * n);
	free(deep);
}

Test(ctl_cmds, not_an_object)
{
	expect_error("[1,2]", "request must be a JSON object");
	expect_error("\"status\"", "request must be a JSON object");
	expect_error("42", "request must be a JSON object");
	expect_error("null", "request must be a JSON object");
}

Test(ctl_cmds, bad_cmd)
{
	expect_error("{}", "missing argument: cmd");
	expect_error("{\"tunnel\":\"a\"}", "missing argument: cmd");
	expect_error("{\"cmd\":1}", "argument cmd must be a string");
	expect_error("{\"cmd\":null}", "argument cmd must be a string");
	expect_error("{\"cmd\":[\"hello\"]}", "argument cmd must be a string");
}

Test(ctl_cmds, bad_arguments)
{
	static const char *cmds[] = { "start", "stop", "restart", "remove",
	    "add" };
	size_t	 i;
	char	*line;

	for (i = 0; i < nitems(cmds); i++) {
		xasprintf(&line, "{\"cmd\":\"%s\"}", cmds[i]);
		expect_error(line, "missing argument: tunnel");
		free(line);
		xasprintf(&line, "{\"cmd\":\"%s\",\"tunnel\":5}", cmds[i]);
		expect_error(line, "argument tunnel must be a string");
		free(line);
		xasprintf(&line, "{\"cmd\":\"%s\",\"tunnel\":null}", cmds[i]);
		expect_error(line, "argument tunnel must be a string");
		free(line);
	}
	expect_error("{\"cmd\":\"status\",\"tunnel\":[]}",
	    "argument tunnel must be a string");
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"n\"}",
	    "missing argument: config or argv");
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"n\",\"config\":\"\","
	    "\"argv\":[\"h\"]}", "add takes config or argv, not both");
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"n\",\"argv\":[]}",
	    "argument argv must be an array of 1 to 256 strings");
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"n\",\"argv\":[\"h\",1]}",
	    "argument argv must be an array of 1 to 256 strings");
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"n\",\"argv\":\"h\"}",
	    "argument argv must be an array of 1 to 256 strings");
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"n\",\"config\":{}}",
	    "argument config must be a string");
}

Test(ctl_cmds, no_such_tunnel)
{
	expect_error("{\"cmd\":\"start\",\"tunnel\":\"nope\"}",
	    "no such tunnel: nope");
	expect_error("{\"cmd\":\"stop\",\"tunnel\":\"nope\"}",
	    "no such tunnel: nope");
	expect_error("{\"cmd\":\"restart\",\"tunnel\":\"nope\"}",
	    "no such tunnel: nope");
	expect_error("{\"cmd\":\"remove\",\"tunnel\":\"nope\"}",
	    "no such tunnel: nope");
}

Test(ctl_cmds, start_stop)
{
	static const struct {
		const char	*req;
		int		 stopped;	/* afterwards */
	} steps[] = {
		{ "{\"cmd\":\"start\",\"tunnel\":\"a\"}",	0 },
		{ "{\"cmd\":\"stop\",\"tunnel\":\"a\"}",	1 },
		{ "{\"cmd\":\"restart\",\"tunnel\":\"a\"}",	0 },
		{ "{\"cmd\":\"stop\",\"tunnel\":\"*\"}",	1 },
		{ "{\"cmd\":\"start\",\"tunnel\":\"*\"}",	0 },
		{ "{\"cmd\":\"stop\",\"tunnel\":\"a\"}",	1 },
	};
	size_t	 i;
	char	*state;

	state = state_of("a");
	cr_assert_str_eq(state, "stopped");
	free(state);
	for (i = 0; i < nitems(steps); i++) {
		expect_ok(steps[i].req);
		state = state_of("a");
		if (steps[i].stopped)
			cr_assert_str_eq(state, "stopped", "after %s",
			    steps[i].req);
		else
			cr_assert_str_neq(state, "stopped", "after %s",
			    steps[i].req);
		free(state);
	}
}

Test(ctl_cmds, add)
{
	json_t		*reply, *t, *f;
	const char	*err;

	expect_ok("{\"cmd\":\"add\",\"tunnel\":\"b\",\"config\":"
	    "\"HostName 127.0.0.2\\nPort 2200\\nEnabled no\\n"
	    "LocalForward 127.0.0.1:17000 localhost:22\\n\"}");
	reply = call("{\"cmd\":\"status\",\"tunnel\":\"b\"}");
	cr_assert(json_is_true(json_object_get(reply, "ok")));
	t = json_array_get(json_object_get(reply, "tunnels"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(t, "host")),
	    "127.0.0.2");
	cr_assert_eq(json_integer_value(json_object_get(t, "port")), 2200);
	cr_assert_eq(json_array_size(json_object_get(t, "forwards")), 1);
	f = json_array_get(json_object_get(t, "forwards"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f, "kind")), "local");
	cr_assert_str_eq(json_string_value(json_object_get(f, "target")),
	    "localhost:22");
	json_decref(reply);

	/* Duplicate, bad names. */
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"a\",\"config\":"
	    "\"HostName x\"}", "tunnel exists: a");
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"b\",\"config\":"
	    "\"HostName x\"}", "tunnel exists: b");
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"bad name\",\"config\":"
	    "\"HostName x\"}", "invalid tunnel name: bad name");
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"\",\"config\":"
	    "\"HostName x\"}", "invalid tunnel name: ");
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"*\",\"config\":"
	    "\"HostName x\"}", "add takes one tunnel, not *");

	/* A config error is reported and nothing is added. */
	reply = call("{\"cmd\":\"add\",\"tunnel\":\"c\",\"config\":"
	    "\"HostName x\\nNoSuchKeyword yes\\n\"}");
	cr_assert(json_is_false(json_object_get(reply, "ok")));
	err = json_string_value(json_object_get(reply, "error"));
	cr_assert(err != NULL && strstr(err, "NoSuchKeyword") != NULL,
	    "error: %s", err != NULL ? err : "(null)");
	cr_assert_not_null(strstr(err, ":2:"), "error: %s", err);
	json_decref(reply);
	expect_error("{\"cmd\":\"status\",\"tunnel\":\"c\"}",
	    "no such tunnel: c");

	reply = call("{\"cmd\":\"add\",\"tunnel\":\"c\",\"config\":"
	    "\"LocalForward nonsense\"}");
	cr_assert(json_is_false(json_object_get(reply, "ok")));
	json_decref(reply);
	expect_error("{\"cmd\":\"status\",\"tunnel\":\"c\"}",
	    "no such tunnel: c");
}

Test(ctl_cmds, remove)
{
	json_t	*reply;

	expect_ok("{\"cmd\":\"start\",\"tunnel\":\"a\"}");
	expect_ok("{\"cmd\":\"remove\",\"tunnel\":\"a\"}");
	expect_error("{\"cmd\":\"status\",\"tunnel\":\"a\"}",
	    "no such tunnel: a");
	reply = call("{\"cmd\":\"status\"}");
	cr_assert_eq(json_array_size(json_object_get(reply, "tunnels")), 0);
	json_decref(reply);
	expect_error("{\"cmd\":\"remove\",\"tunnel\":\"a\"}",
	    "no such tunnel: a");
	/* Removing everything takes more than one request. */
	expect_error("{\"cmd\":\"remove\",\"tunnel\":\"*\"}",
	    "remove takes one tunnel, not *");
}

/* add with an ssh command line: the library translates it, as for a file. */
Test(ctl_cmds, add_argv)
{
	json_t		*reply, *t, *f;

	reply = call("{\"cmd\":\"add\",\"tunnel\":\"vpn\",\"argv\":"
	    "[\"-M\",\"0\",\"-N\",\"-R\",\"2220:localhost:22\",\"tunnel@vpn\","
	    "\"-p\",\"2222\",\"-o\",\"Enabled=no\"]}");
	cr_assert(json_is_true(json_object_get(reply, "ok")), "%s",
	    json_string_value(json_object_get(reply, "error")));
	cr_assert_str_eq(json_string_value(json_object_get(reply, "note")),
	    "-M 0: ignored: tunsupd probes the session itself "
	    "(ServerAliveInterval) and each forward (ForwardProbe)");
	json_decref(reply);
	reply = call("{\"cmd\":\"status\",\"tunnel\":\"vpn\"}");
	t = json_array_get(json_object_get(reply, "tunnels"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(t, "host")), "vpn");
	cr_assert_str_eq(json_string_value(json_object_get(t, "user")),
	    "tunnel");
	cr_assert_eq(json_integer_value(json_object_get(t, "port")), 2222);
	cr_assert_str_eq(json_string_value(json_object_get(t, "state")),
	    "stopped");
	f = json_array_get(json_object_get(t, "forwards"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f, "kind")),
	    "remote");
	cr_assert_str_eq(json_string_value(json_object_get(f, "listen")),
	    "localhost:2220");
	json_decref(reply);

	/* The translation's own errors, and nothing added. */
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"x\",\"argv\":"
	    "[\"-Z\",\"h\"]}", "-Z: unknown ssh option");
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"x\",\"argv\":"
	    "[\"-L\",\"nonsense\",\"h\"]}", "-L nonsense: LocalForward: "
	    "missing target (expected host:port or /unix/socket)");
	/* Relative paths are the client's directory's. */
	expect_error("{\"cmd\":\"add\",\"tunnel\":\"x\",\"argv\":"
	    "[\"-i\",\"k\",\"h\"],\"cwd\":\"rel\"}",
	    "argument cwd must be an absolute path");
	expect_error("{\"cmd\":\"status\",\"tunnel\":\"x\"}",
	    "no such tunnel: x");
}

/*
 * A ControlGroup member may look and start, stop and restart; what makes a
 * tunnel (add, remove, reload: paths, keys, binds) stays the owner's.
 */
Test(ctl_cmds, operator_access)
{
	static const char *const allowed[] = {
		"{\"cmd\":\"hello\"}",
		"{\"cmd\":\"status\"}",
		"{\"cmd\":\"status\",\"tunnel\":\"a\"}",
		"{\"cmd\":\"subscribe\"}",
		"{\"cmd\":\"start\",\"tunnel\":\"a\"}",
		"{\"cmd\":\"restart\",\"tunnel\":\"*\"}",
		"{\"cmd\":\"stop\",\"tunnel\":\"a\"}",
	};
	static const struct {
		const char	*req;
		const char	*error;
	} refused[] = {
		{ "{\"cmd\":\"add\",\"tunnel\":\"x\",\"config\":"
		    "\"HostName h\\nLocalForward /etc/passwd h:1\\n"
		    "StreamLocalBindUnlink yes\\n\"}",
		    "permission denied: add is for root and the daemon's user "
		    "only" },
		{ "{\"cmd\":\"add\"}",
		    "permission denied: add is for root and the daemon's user "
		    "only" },
		{ "{\"cmd\":\"remove\",\"tunnel\":\"a\"}",
		    "permission denied: remove is for root and the daemon's "
		    "user only" },
		{ "{\"cmd\":\"reload\"}",
		    "permission denied: reload is for root and the daemon's "
		    "user only" },
	};
	json_t	*reply;
	size_t	 i;
	char	*state;

	peer = &operator;
	for (i = 0; i < nitems(allowed); i++)
		expect_ok(allowed[i]);
	for (i = 0; i < nitems(refused); i++)
		expect_error(refused[i].req, refused[i].error);
	/* Unknown commands stay unknown, whoever asks. */
	expect_error("{\"cmd\":\"frob\"}", "unknown command: frob");

	/* Nothing was added or removed; the id is still echoed. */
	reply = call("{\"cmd\":\"status\"}");
	cr_assert_eq(json_array_size(json_object_get(reply, "tunnels")), 1);
	json_decref(reply);
	reply = call("{\"cmd\":\"reload\",\"id\":7}");
	cr_assert_eq(json_integer_value(json_object_get(reply, "id")), 7);
	json_decref(reply);
	state = state_of("a");
	cr_assert_str_eq(state, "stopped");
	free(state);

	/* The owner may do all of it. */
	peer = &owner;
	expect_ok("{\"cmd\":\"remove\",\"tunnel\":\"a\"}");
}

Test(ctl_cmds, subscribe)
{
	json_t	*reply;
	int	 sub = 0;

	reply = call_sub("{\"cmd\":\"subscribe\"}", &sub);
	cr_assert(json_is_true(json_object_get(reply, "ok")));
	cr_assert_eq(sub, 1);
	json_decref(reply);

	/* Other commands do not subscribe, and reset the flag. */
	reply = call_sub("{\"cmd\":\"status\"}", &sub);
	cr_assert_eq(sub, 0);
	json_decref(reply);
	reply = call_sub("{\"cmd\":\"subscribe\",\"id\":1}", &sub);
	cr_assert_eq(sub, 1);
	json_decref(reply);
}

Test(ctl_cmds, reload)
{
	json_t	*reply, *added, *unchanged;
	char	 path[128];
	FILE	*f;

	daemon_free(d);
	snprintf(path, sizeof(path), "%s/r.conf", tmpdir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(CONF_A, f);
	fclose(f);
	d = make_daemon(path, CONF_A);

	cr_assert_not_null(f = fopen(path, "w"));
	fputs(CONF_A "Tunnel b\n HostName 127.0.0.1\n Enabled no\n", f);
	fclose(f);
	reply = call("{\"cmd\":\"reload\",\"id\":3}");
	cr_assert(json_is_true(json_object_get(reply, "ok")), "%s",
	    json_string_value(json_object_get(reply, "error")));
	cr_assert_eq(json_integer_value(json_object_get(reply, "id")), 3);
	added = json_object_get(reply, "added");
	unchanged = json_object_get(reply, "unchanged");
	cr_assert_eq(json_array_size(added), 1);
	cr_assert_str_eq(json_string_value(json_array_get(added, 0)), "b");
	cr_assert_eq(json_array_size(unchanged), 1);
	cr_assert_str_eq(json_string_value(json_array_get(unchanged, 0)), "a");
	cr_assert(json_is_array(json_object_get(reply, "removed")));
	cr_assert(json_is_array(json_object_get(reply, "restarted")));
	json_decref(reply);

	/* A broken file is refused whole and the running set is kept. */
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("Tunnel a\n HostName 127.0.0.1\n Bogus 1\n", f);
	fclose(f);
	reply = call("{\"cmd\":\"reload\"}");
	cr_assert(json_is_false(json_object_get(reply, "ok")));
	cr_assert_not_null(strstr(json_string_value(json_object_get(reply,
	    "error")), "r.conf:3"));
	json_decref(reply);
	reply = call("{\"cmd\":\"status\"}");
	cr_assert_eq(json_array_size(json_object_get(reply, "tunnels")), 2);
	json_decref(reply);
}

Test(ctl_cmds, default_path)
{
	char	*path, *old, *want;

	old = getenv("XDG_RUNTIME_DIR") != NULL ?
	    xstrdup(getenv("XDG_RUNTIME_DIR")) : NULL;
	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
	path = ctl_default_path();
	if (geteuid() == 0)
		cr_assert_str_eq(path, "/run/tunsupd/tunsupd.sock");
	else
		cr_assert_str_eq(path, "/run/user/4242/tunsupd.sock");
	free(path);
	unsetenv("XDG_RUNTIME_DIR");
	path = ctl_default_path();
	if (geteuid() == 0)
		want = xstrdup("/run/tunsupd/tunsupd.sock");
	else
		xasprintf(&want, "/tmp/tunsupd-%u/tunsupd.sock",
		    (u_int)geteuid());
	cr_assert_str_eq(path, want);
	free(path);
	free(want);
	if (old != NULL)
		setenv("XDG_RUNTIME_DIR", old, 1);
	free(old);
}

Test(ctl_cmds, client_path)
{
	char	*path, *old;

	old = getenv("TUNSUP_SOCKET") != NULL ?
	    xstrdup(getenv("TUNSUP_SOCKET")) : NULL;
	setenv("TUNSUP_SOCKET", "/srv/t.sock", 1);
	path = ctl_client_path();
	cr_assert_str_eq(path, "/srv/t.sock");
	free(path);
	setenv("TUNSUP_SOCKET", "", 1);
	path = ctl_client_path();
	if (geteuid() == 0)
		cr_assert_str_eq(path, "/run/tunsupd/tunsupd.sock");
	free(path);
	if (old != NULL)
		setenv("TUNSUP_SOCKET", old, 1);
	else
		unsetenv("TUNSUP_SOCKET");
	free(old);
}

Test(ctl_cmds, system_owner_paths)
{
	/* Only a socket right inside /run/tunsupd names its owner. */
	cr_assert_eq(ctl_system_owner("/tmp/tunsupd.sock", 0), 0);
	cr_assert_eq(ctl_system_owner("/run/tunsupd", 0), 0);
	cr_assert_eq(ctl_system_owner("/run/tunsupd/", 0), 0);
	cr_assert_eq(ctl_system_owner("/run/tunsupd/a/b.sock", 0), 0);
	cr_assert_eq(ctl_system_owner("/run/tunsupdx/t.sock", 0), 0);
	cr_assert_eq(ctl_system_owner("/run/tunsupd/../x.sock", 0), 0);
}

/* ---- the transport ------------------------------------------------------ */

static char *
sock_path(const char *name)
{
	char	*path;

	xasprintf(&path, "%s/%s", tmpdir, name);
	return path;
}

static int
client_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_neq(fd, -1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	cr_assert_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void
send_all(int fd, const char *s, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(fd, s, len);
		if (n == -1 && errno == EAGAIN) {
			ev_run(loop, EVRUN_NOWAIT);
			continue;
		}
		cr_assert_gt(n, 0, "write: %s", strerror(errno));
		s += n;
		len -= n;
	}
}

static void
send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

/*
 * Run the loop until fd has delivered want complete lines or EOF, with a
 * deadline. Returns what was read; *eof says whether the daemon closed.
 */
static char *
pump_lines(int fd, int want, int *eof)
{
	char	 buf[4096], *out = xstrdup("");
	char	*old;
	double	 deadline = now_mono() + 10;
	ssize_t	 n;
	int	 lines = 0;
	char	*cp;

	*eof = 0;
	while (lines < want && !*eof) {
		cr_assert(now_mono() < deadline, "timed out, have: %s", out);
		ev_run(loop, EVRUN_NOWAIT);
		n = read(fd, buf, sizeof(buf) - 1);
		if (n == -1 && errno == EAGAIN) {
			usleep(1000);
			continue;
		}
		if (n <= 0) {
			*eof = 1;
			break;
		}
		buf[n] = '\0';
		old = out;
		xasprintf(&out, "%s%s", old, buf);
		free(old);
		lines = 0;
		for (cp = out; (cp = strchr(cp, '\n')) != NULL; cp++)
			lines++;
	}
	return out;
}

Test(ctl_socket, open_mode_and_close, .init = setup, .fini = teardown)
{
	struct ctl	*ctl;
	struct stat	 sb;
	char		*path = sock_path("ctl.sock"), *err = NULL;

	ctl = ctl_open(loop, d->fdlimit, path, NULL,
	    ctl_daemon_handler, d, &err);
	cr_assert_not_null(ctl, "ctl_open: %s", err);
	cr_assert_eq(lstat(path, &sb), 0);
	cr_assert(S_ISSOCK(sb.st_mode));
	cr_assert_eq(sb.st_mode & 07777, 0600, "mode %o", sb.st_mode & 07777);
	ctl_close(ctl);
	cr_assert_eq(lstat(path, &sb), -1, "socket not removed");
	cr_assert_eq(errno, ENOENT);
	free(path);
}

Test(ctl_socket, group_mode, .init = setup, .fini = teardown)
{
	struct ctl	*ctl;
	struct stat	 sb;
	char		*path = sock_path("ctl.sock"), *err = NULL;

	/* "root" (gid 0) exists everywhere this runs. */
	ctl = ctl_open(loop, d->fdlimit, path, "root",
	    ctl_daemon_handler, d, &err);
	cr_assert_not_null(ctl, "ctl_open: %s", err);
	cr_assert_eq(lstat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0660, "mode %o", sb.st_mode & 07777);
	ctl_close(ctl);

	cr_assert_null(ctl_open(loop, d->fdlimit, path, "no-such-group-tunsup",
	    ctl_daemon_handler, d, &err));
	cr_assert_not_null(strstr(err, "no-such-group-tunsup"), "%s", err);
	free(err);
	free(path);
}

Test(ctl_socket, stale_live_and_junk, .init = setup, .fini = teardown)
{
	struct sockaddr_un	 sun;
	struct ctl		*ctl, *ctl2;
	char			*path = sock_path("ctl.sock"), *err = NULL;
	char			*other = sock_path("nodir/sub/ctl.sock");
	char			*file = sock_path("file");
	int			 fd;
	FILE			*f;

	/* A stale socket: bound, then its owner closed. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	ctl = ctl_open(loop, d->fdlimit, path, NULL,
	    ctl_daemon_handler, d, &err);
	cr_assert_not_null(ctl, "stale socket not replaced: %s", err);

	/* A live one is refused and left alone. */
	ctl2 = ctl_open(loop, d->fdlimit, path, NULL,
	    ctl_daemon_handler, d, &err);
	cr_assert_null(ctl2);
	cr_assert_not_null(err);
	cr_assert_not_null(strstr(err, "another tunsupd is listening on"),
	    "%s", err);
	free(err);
	fd = client_connect(path);
	cr_assert_neq(fd, -1, "the live socket was removed");
	close(fd);
	ctl_close(ctl);

	/* A file that is not a socket. */
	cr_assert_not_null(f = fopen(file, "w"));
	fclose(f);
	cr_assert_null(ctl_open(loop, d->fdlimit, file, NULL,
	    ctl_daemon_handler, d, &err));
	cr_assert_not_null(strstr(err, "not a socket"), "%s", err);
	free(err);
	cr_assert_eq(access(file, F_OK), 0, "the file was removed");

	/* No parent directory. */
	cr_assert_null(ctl_open(loop, d->fdlimit, other, NULL,
	    ctl_daemon_handler, d, &err));
	cr_assert_not_null(strstr(err, "No such file or directory"), "%s",
	    err);
	free(err);
	free(path);
	free(other);
	free(file);
}

/*
 * The socket's directory is made private if it is missing, and refused if
 * anybody but root and us could put a file there.
 */
Test(ctl_socket, private_directory, .init = setup, .fini = teardown)
{
	static const mode_t	 open_modes[] = { 0777, 01777, 0770, 0755 };
	struct ctl		*ctl;
	struct stat		 sb;
	char			*dir, *path, *err = NULL;
	size_t			 i;

	/* Missing: made with mode 0700. */
	dir = sock_path("made");
	path = sock_path("made/ctl.sock");
	ctl = ctl_open(loop, d->fdlimit, path, NULL,
	    ctl_daemon_handler, d, &err);
	cr_assert_not_null(ctl, "%s", err);
	cr_assert_eq(stat(dir, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0700, "mode %o", sb.st_mode & 07777);
	ctl_close(ctl);

	/* Writable by others, sticky or not, is refused; 0755 is fine. */
	for (i = 0; i < nitems(open_modes); i++) {
		cr_assert_eq(chmod(dir, open_modes[i]), 0);
		ctl = ctl_open(loop, d->fdlimit, path, NULL,
	    ctl_daemon_handler, d, &err);
		if (open_modes[i] == 0755) {
			cr_assert_not_null(ctl, "%s", err);
			ctl_close(ctl);
			continue;
		}
		cr_assert_null(ctl, "mode %o accepted", open_modes[i]);
		cr_assert_not_null(strstr(err, "is writable by other users"),
		    "%s", err);
		free(err);
		err = NULL;
		cr_assert_neq(access(path, F_OK), 0, "socket made");
	}

	/* Owned by somebody else (needs root to arrange). */
	if (geteuid() == 0) {
		cr_assert_eq(chmod(dir, 0700), 0);
		cr_assert_eq(chown(dir, 12345, (gid_t)-1), 0);
		cr_assert_null(ctl_open(loop, d->fdlimit, path, NULL,
	    ctl_daemon_handler, d, &err));
		cr_assert_not_null(strstr(err, "is owned by uid 12345"), "%s",
		    err);
		free(err);
	}
	free(path);
	free(dir);
}

Test(ctl_socket, framing, .init = setup, .fini = teardown)
{
	struct ctl	*ctl;
	char		*path = sock_path("ctl.sock"), *err = NULL, *out;
	char		*big;
	json_t		*ev;
	int		 fd, fd2, eof;

	ctl = ctl_open(loop, d->fdlimit, path, NULL,
	    ctl_daemon_handler, d, &err);
	cr_assert_not_null(ctl, "%s", err);
	d->ctl = ctl;
	fd = client_connect(path);
	fd2 = client_connect(path);
	cr_assert(fd != -1 && fd2 != -1);

	/* Two requests in one write, a blank line, then half a line. */
	send_str(fd, "{\"cmd\":\"hello\",\"id\":1}\n\n \r\n"
	    "{\"cmd\":\"frob\",\"id\":2}\n{\"cmd\":\"he");
	out = pump_lines(fd, 2, &eof);
	cr_assert_not(eof);
	cr_assert_str_eq(out, "{\"ok\":true,\"version\":\"" PACKAGE_VERSION
	    "\",\"protocol\":1,\"id\":1}\n"
	    "{\"ok\":false,\"error\":\"unknown command: frob\",\"id\":2}\n");
	free(out);

	/* Another client is served while the first holds half a line. */
	send_str(fd2, "{\"cmd\":\"hello\",\"id\":9}\n");
	out = pump_lines(fd2, 1, &eof);
	cr_assert_not_null(strstr(out, "\"id\":9"), "%s", out);
	free(out);

	send_str(fd, "llo\",\"id\":3}\n");
	out = pump_lines(fd, 1, &eof);
	cr_assert_not_null(strstr(out, "\"id\":3"), "%s", out);
	free(out);

	/* Subscribed: events arrive as whole lines. */
	send_str(fd, "{\"cmd\":\"subscribe\"}\n");
	out = pump_lines(fd, 1, &eof);
	cr_assert_str_eq(out, "{\"ok\":true}\n");
	free(out);
	ev = json_pack("{s:s}", "event", "test");
	ctl_broadcast(ctl, ev);	/* not stolen */
	json_decref(ev);
	out = pump_lines(fd, 1, &eof);
	cr_assert_str_eq(out, "{\"event\":\"test\"}\n");
	free(out);

	/* An oversized line: an error reply and the connection closes. */
	big = xmalloc(CTL_LINE_MAX + 2);
	memset(big, ' ', CTL_LINE_MAX + 1);
	big[CTL_LINE_MAX + 1] = '\n';
	send_all(fd, big, CTL_LINE_MAX + 2);
	free(big);
	out = pump_lines(fd, 100, &eof);
	cr_assert(eof, "connection not closed");
	cr_assert_not_null(strstr(out, "\"ok\":false"), "%s", out);
	free(out);
	close(fd);

	/* The other client still works. */
	send_str(fd2, "{\"cmd\":\"hello\",\"id\":10}\n");
	out = pump_lines(fd2, 1, &eof);
	cr_assert_not_null(strstr(out, "\"id\":10"), "%s", out);
	free(out);
	close(fd2);

	d->ctl = NULL;
	ctl_close(ctl);
	free(path);
}
