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
 * tunsupctl: the command-line client of tunsupd (tunsupctl(1)). It speaks the
 * control protocol of tunsupd(8) with blocking I/O: one connection, one request
 * line, one reply line, and for "watch" a stream of event lines.
 *
 * Exit status: 0 success, 1 the daemon refused (or, for status, a tunnel is
 * not up), 2 usage, 3 no daemon; check has the statuses of a monitoring
 * plugin (tunsupctl(1), EXIT STATUS).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cfg.h"
#include "ctl.h"
#include "metrics.h"
#include "sshargs.h"
#include "util.h"

#define EXIT_REFUSED	1
#define EXIT_USAGE	2
#define EXIT_NODAEMON	3

/* check: the Nagios plugin statuses. */
#define CHECK_OK		0
#define CHECK_WARNING		1
#define CHECK_CRITICAL		2
#define CHECK_UNKNOWN		3
#define CHECK_GRACE_DEFAULT	60.0
#define CHECK_TIMEOUT_DEFAULT	10
/* check warns of a forward whose last opens were all refused, this many. */
#define CHECK_REFUSED_IN_ROW	3
#define REPLY_TIMEOUT_S		30

/* Used where no real value exists: ssh never connects there. */
#define AK_CLOSED	"255.255.255.255:9"

struct client_cmd {
	const char	*name;
	const char	*args;
	int		(*exec)(int, char **);
	int		 flags;
#define CC_NOJSON	0x1	/* has no JSON output: --json is refused */
#define CC_PLUGIN	0x2	/* a monitoring plugin: errors are UNKNOWN */
	const char	*help;	/* for "help COMMAND" and "COMMAND --help" */
};

static int	cmd_status(int, char **);
static int	each_tunnel(int, char **);
static int	cmd_reload(int, char **);
static int	cmd_add(int, char **);
static int	cmd_remove(int, char **);
static int	forward_change(int, char **);
static int	cmd_watch(int, char **);
static int	cmd_check(int, char **);
static int	cmd_authorized_keys(int, char **);
static int	cmd_metrics(int, char **);
static int	cmd_check_now(int, char **);
static int	cmd_help(int, char **);

static const struct client_cmd client_cmds[] = {
	{ "status",		"[NAME ...]",			cmd_status, 0,
	  "Print a table of the tunnels, or of the named ones: state, since\n"
	  "when down (or up), forwards, reconnects and the last error. Exits 0\n"
	  "if every tunnel is up or stopped, 1 if some is not up or a name is\n"
	  "unknown, 3 without a daemon." },
	{ "start",		"NAME ... | --all",		each_tunnel, 0,
	  "Start the named tunnels, or all." },
	{ "stop",		"NAME ... | --all",		each_tunnel, 0,
	  "Stop the named tunnels, or all, until started again." },
	{ "restart",		"NAME ... | --all",		each_tunnel, 0,
	  "Close the named tunnels' sessions, or all, and connect anew." },
	{ "check-now",		"[NAME ... | --all]",		cmd_check_now, 0,
	  "Check the sessions now (a keepalive round), or retry at once the\n"
	  "tunnels in backoff; without names, every tunnel." },
	{ "reload",		"",				cmd_reload, 0,
	  "Read the configuration file again and apply the changes; a broken\n"
	  "file changes nothing and exits 1 with its errors." },
	{ "add",		"[--print] NAME [ssh|autossh] [ssh options] "
				"[user@]host",			cmd_add, 0,
	  "Add a tunnel from an ssh or autossh command line; --print only\n"
	  "prints its configuration block (no --json then)." },
	{ "remove",		"NAME",				cmd_remove, 0,
	  "Stop a tunnel and forget it." },
	{ "forward",		"NAME -L|-R|-D SPEC",		forward_change, 0,
	  "Add a forward, in ssh's form, to a tunnel." },
	{ "cancel",		"NAME -L|-R|-D SPEC",		forward_change, 0,
	  "Remove a forward, in ssh's form, from a tunnel." },
	{ "watch",		"",				cmd_watch, 0,
	  "Print one line per event (state and forward changes) until\n"
	  "interrupted." },
	{ "check",		"[-t SECONDS] [-w SECONDS] [-c SECONDS] "
				"[-W COUNT] [-C COUNT] [NAME ...]", cmd_check,
	  CC_NOJSON | CC_PLUGIN,
	  "A monitoring plugin (Nagios, Icinga): one line with performance\n"
	  "data; exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
	  "  -t, --timeout=SECONDS   give up after SECONDS (10), UNKNOWN\n"
	  "  -w, --warning=SECONDS   WARNING for a tunnel down longer (0)\n"
	  "  -c, --critical=SECONDS  CRITICAL for a tunnel down longer (60);\n"
	  "                          -g, --grace is the same\n"
	  "  -W, --warning-count=N   WARNING if more than N tunnels are down\n"
	  "  -C, --critical-count=N  CRITICAL if more than N tunnels are down\n"
	  "  -h, --help              this help (exit 3, as plugins do)\n"
	  "  -V, --version           the version (exit 3, as plugins do)\n"
	  "Stopped tunnels are counted apart and never alert." },
	{ "authorized-keys",	"NAME PUBKEY_FILE",		cmd_authorized_keys,
	  CC_NOJSON,
	  "Print the authorized_keys line that lets the key do exactly what\n"
	  "the tunnel needs." },
	{ "metrics",		"[NAME ...]",			cmd_metrics, CC_NOJSON,
	  "Print the tunnels' status as Prometheus metrics (text format)." },
	{ "help",		"[COMMAND]",			cmd_help, CC_NOJSON,
	  "Print the commands, or what COMMAND does." },
};

static char	*socket_path;
static int	 json_output;
static int	 conn_fd = -1;
static char	 conn_error[512];	/* why conn_connect() failed */
static char	*conn_buf;	/* bytes read past the last line */
static size_t	 conn_len;
static size_t	 conn_size;
static volatile sig_atomic_t interrupted;
/* check: every failure is one "TUNSUP UNKNOWN - ..." line on stdout. */
static int	 plugin_mode;

static void
usage_print(FILE *fp)
{
	size_t	 i;

	fprintf(fp, "usage: tunsupctl [-S socket] [--json] command "
	    "[args]\n       tunsupctl -h | -V\n       tunsupctl help "
	    "[command]\ncommands:\n");
	for (i = 0; i < nitems(client_cmds); i++) {
		fprintf(fp, "    %s%s%s\n", client_cmds[i].name,
		    *client_cmds[i].args != '\0' ? " " : "",
		    client_cmds[i].args);
	}
}

static void __attribute__((noreturn))
usage(void)
{
	usage_print(stderr);
	exit(EXIT_USAGE);
}

/* Stderr, or for a plugin the UNKNOWN line on stdout. */
static void __attribute__((format(printf, 1, 0)))
vwarnx(const char *fmt, va_list ap)
{
	if (plugin_mode) {
		printf("TUNSUP UNKNOWN - ");
		vprintf(fmt, ap);
		printf("\n");
		fflush(stdout);
		return;
	}
	fprintf(stderr, "tunsupctl: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
}

static void __attribute__((format(printf, 2, 3), noreturn))
die(int status, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	exit(plugin_mode ? CHECK_UNKNOWN : status);
}

static void __attribute__((format(printf, 1, 2), noreturn))
usage_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	if (plugin_mode)
		exit(CHECK_UNKNOWN);
	usage();
}

static const struct client_cmd *
cmd_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(client_cmds); i++) {
		if (strcmp(client_cmds[i].name, name) == 0)
			return &client_cmds[i];
	}
	return NULL;
}

/* "COMMAND --help", "help COMMAND": its usage and what it does. */
static void
cmd_help_print(const struct client_cmd *cc)
{
	printf("usage: tunsupctl [-S socket]%s %s%s%s\n\n%s\n",
	    cc->flags & CC_NOJSON ? "" : " [--json]", cc->name,
	    *cc->args != '\0' ? " " : "", cc->args, cc->help);
}

static int
cmd_help(int argc, char **argv)
{
	const struct client_cmd	*cc;

	if (argc > 2)
		usage_error("help: give at most one command");
	if (argc == 1) {
		usage_print(stdout);
		return 0;
	}
	if ((cc = cmd_find(argv[1])) == NULL)
		usage_error("help: unknown command: %s", argv[1]);
	cmd_help_print(cc);
	return 0;
}

/* ---- the connection ---------------------------------------------------- */

/*
 * Talk only to a daemon run by root, by us, or by the owner of
 * /run/tunsupd for the socket in it (the system daemon's dedicated user;
 * only root can make that directory): whoever else listens on the path (a
 * socket put there first in a shared directory) hears nothing and is not
 * believed. 0, or -1 with errno.
 */
static int
conn_peer_trusted(int fd)
{
	uid_t	 uid;
	gid_t	 gid;
	pid_t	 pid;

	if (ctl_peer_creds(fd, &uid, &gid, &pid) != 0) {
		snprintf(conn_error, sizeof(conn_error), "%s: cannot get the "
		    "peer's credentials: %s", socket_path, strerror(errno));
		return -1;
	}
	if (uid != 0 && uid != geteuid() &&
	    !ctl_system_owner(socket_path, uid)) {
		snprintf(conn_error, sizeof(conn_error), "%s is served by uid "
		    "%lu, neither root, nor you, nor the owner of "
		    CTL_SYSTEM_DIR ": not talking to it",
		    socket_path, (u_long)uid);
		return -1;
	}
	return 0;
}

/* Connect to the daemon: 0, or -1 with the reason in conn_error. */
static int
conn_connect(void)
{
	struct sockaddr_un	 sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(socket_path) >= sizeof(sun.sun_path)) {
		snprintf(conn_error, sizeof(conn_error), "cannot connect to "
		    "%s: %s", socket_path, strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(sun.sun_path, socket_path, strlen(socket_path) + 1);
	if ((conn_fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(conn_fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		snprintf(conn_error, sizeof(conn_error), "cannot connect to "
		    "%s: %s", socket_path, strerror(errno));
		goto fail;
	}
	if (conn_peer_trusted(conn_fd) != 0)
		goto fail;
	return 0;
fail:
	if (conn_fd != -1)
		close(conn_fd);
	conn_fd = -1;
	return -1;
}

static void
conn_open(int timeout)
{
	struct timeval	 tv;

	if (conn_fd == -1 && conn_connect() != 0)
		die(EXIT_NODAEMON, "%s", conn_error);
	if (timeout > 0) {
		tv.tv_sec = timeout;
		tv.tv_usec = 0;
		setsockopt(conn_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(conn_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
}

/*
 * The next line from the daemon (caller frees), or NULL at EOF or on an
 * interrupt.
 */
static char *
conn_read_line(void)
{
	char	*nl, *line;
	size_t	 len;
	ssize_t	 n;

	for (;;) {
		if (conn_len > 0 &&
		    (nl = memchr(conn_buf, '\n', conn_len)) != NULL) {
			len = nl - conn_buf;
			line = xstrndup(conn_buf, len);
			conn_len -= len + 1;
			memmove(conn_buf, nl + 1, conn_len);
			return line;
		}
		if (conn_size - conn_len < 4096) {
			conn_size = conn_size == 0 ? 65536 : conn_size * 2;
			conn_buf = xreallocarray(conn_buf, 1, conn_size);
		}
		n = read(conn_fd, conn_buf + conn_len, conn_size - conn_len);
		if (n == -1 && errno == EINTR) {
			if (interrupted)
				return NULL;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			die(EXIT_NODAEMON, "timed out waiting for the daemon");
		if (n == -1)
			die(EXIT_NODAEMON, "read: %s", strerror(errno));
		if (n == 0)
			return NULL;
		conn_len += n;
	}
}

static void
conn_send(json_t *req)
{
	char	*s, *p;
	size_t	 len;
	ssize_t	 n;

	if ((s = json_dumps(req, JSON_COMPACT)) == NULL)
		die(EXIT_USAGE, "cannot encode the request");
	len = strlen(s);
	s = xreallocarray(s, 1, len + 2);
	s[len++] = '\n';
	for (p = s; len > 0; p += n, len -= n) {
		if ((n = write(conn_fd, p, len)) == -1) {
			if (errno == EINTR)
				n = 0;
			else
				die(EXIT_NODAEMON, "write: %s", strerror(errno));
		}
	}
	free(s);
}

/*
 * Send a request (reference stolen) and return the reply; *raw gets the
 * reply line as the daemon sent it when raw is not NULL.
 */
static json_t *
conn_request(json_t *req, char **raw)
{
	json_error_t	 jerr;
	json_t		*reply;
	char		*line;

	conn_send(req);
	json_decref(req);
	if ((line = conn_read_line()) == NULL)
		die(EXIT_NODAEMON, "the daemon closed the connection");
	reply = json_loads(line, 0, &jerr);
	if (reply == NULL || !json_is_object(reply))
		die(EXIT_NODAEMON, "invalid reply from the daemon: %s", line);
	if (raw != NULL)
		*raw = line;
	else
		free(line);
	return reply;
}

static int
reply_ok(json_t *reply)
{
	return json_is_true(json_object_get(reply, "ok"));
}

static const char *
reply_error(json_t *reply)
{
	const char	*s;

	if ((s = json_string_value(json_object_get(reply, "error"))) == NULL)
		s = "request failed";
	return s;
}

/*
 * A request whose reply only says ok or not: prints the error (or in --json
 * mode the reply) and returns 0 or EXIT_REFUSED.
 */
static int
simple_request(json_t *req)
{
	json_t	*reply;
	char	*raw;
	int	 r = 0;

	reply = conn_request(req, &raw);
	if (json_output)
		printf("%s\n", raw);
	if (!reply_ok(reply)) {
		fprintf(stderr, "tunsupctl: %s\n", reply_error(reply));
		r = EXIT_REFUSED;
	}
	free(raw);
	json_decref(reply);
	return r;
}

/*
 * The status reply, with only the named tunnels if any are given: one name
 * is asked of the daemon, several are picked from the whole list.
 */
static json_t *
get_status(int argc, char **argv, char **raw, int *status)
{
	json_t		*reply, *list, *keep, *t, *req;
	const char	*name;
	size_t		 i;
	int		 j, found;

	*status = 0;
	req = json_pack("{s:s}", "cmd", "status");
	if (argc == 1)
		json_object_set_new(req, "tunnel", json_string(argv[0]));
	reply = conn_request(req, raw);
	if (!reply_ok(reply)) {
		fprintf(stderr, "tunsupctl: %s\n", reply_error(reply));
		*status = EXIT_REFUSED;
		return reply;
	}
	if (argc <= 1)
		return reply;

	list = json_object_get(reply, "tunnels");
	keep = json_array();
	for (j = 0; j < argc; j++) {
		found = 0;
		json_array_foreach(list, i, t) {
			name = json_string_value(json_object_get(t, "name"));
			if (name != NULL && strcmp(name, argv[j]) == 0) {
				json_array_append(keep, t);
				found = 1;
				break;
			}
		}
		if (!found) {
			fprintf(stderr, "tunsupctl: no such tunnel: %s\n",
			    argv[j]);
			*status = EXIT_REFUSED;
		}
	}
	json_object_set_new(reply, "tunnels", keep);	/* stolen */
	if (raw != NULL) {
		free(*raw);
		*raw = json_dumps(reply, JSON_COMPACT);
	}
	return reply;
}

/* ---- formatting -------------------------------------------------------- */

/* "45s", "3m12s", "2h05m", "3d04h". */
static void
fmt_duration(double secs, char *buf, size_t len)
{
	long	 s;

	s = secs < 0 ? 0 : (long)secs;
	if (s < 60)
		snprintf(buf, len, "%lds", s);
	else if (s < 3600)
		snprintf(buf, len, "%ldm%02lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
	else
		snprintf(buf, len, "%ldd%02ldh", s / 86400, (s % 86400) / 3600);
}

/* "2026-11-21T14:00:00Z". */
static void
fmt_time(double ts, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 t;

	t = (time_t)ts;
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len,
	    "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%.3f", ts);
}

/* ---- status ------------------------------------------------------------ */

/*
 * Since when a tunnel that is not up has been down: its "down_since" if the
 * daemon says, else the last keepalive answer, else the daemon's start.
 */
static double
down_since(json_t *t, double started)
{
	json_t	*ka;
	double	 since;

	if ((since = jnum(t, "down_since", -1)) >= 0)
		return since;
	ka = json_object_get(t, "keepalive");
	if ((since = jnum(ka, "last_ok", -1)) > 0)
		return since;
	return started;
}

/*
 * Since when a tunnel is in its condition: up or stopped since its state
 * changed, any other state since it was last up (backoff and connecting
 * alternate meanwhile).
 */
static double
status_since(json_t *t, double now, double started)
{
	const char	*state;

	state = jstr(t, "state", "?");
	if (strcmp(state, "up") == 0 || strcmp(state, "stopped") == 0)
		return jnum(t, "state_since", now);
	return down_since(t, started);
}

/* 1 if a tunnel of the reply is neither up nor stopped. */
static int
status_some_down(json_t *reply)
{
	json_t		*t;
	const char	*state;
	size_t		 i;

	json_array_foreach(json_object_get(reply, "tunnels"), i, t) {
		state = jstr(t, "state", "?");
		if (strcmp(state, "up") != 0 && strcmp(state, "stopped") != 0)
			return 1;
	}
	return 0;
}

/* A degraded tunnel says why in its forwards: the first forward error. */
static const char *
forward_error(json_t *t)
{
	json_t		*f;
	const char	*err;
	size_t		 i;

	json_array_foreach(json_object_get(t, "forwards"), i, f) {
		if ((err = jstr(f, "error", NULL)) != NULL)
			return err;
	}
	return NULL;
}

/*
 * A forward whose channel opens the server refuses, at least min in a row
 * (its listener is fine; its clients get an end at once): the first such
 * forward described, or NULL. The caller frees.
 */
static char *
forward_refusals(json_t *t, double min)
{
	json_t	*f;
	char	*s;
	size_t	 i;
	double	 n;

	json_array_foreach(json_object_get(t, "forwards"), i, f) {
		n = jnum(f, "opens_refused_in_row", 0);
		if (n < min || n < 1)
			continue;
		xasprintf(&s, "forward %s: %.0f open%s refused in a row (%s)",
		    jstr(f, "listen", "?"), n, n == 1 ? "" : "s",
		    jstr(f, "last_refusal", "?"));
		return s;
	}
	return NULL;
}

#define ST_COLS	6

static void
print_row(char *const *cols, const int *width)
{
	int	 i;

	for (i = 0; i < ST_COLS - 1; i++)
		printf("%-*s  ", width[i], cols[i]);
	printf("%s\n", cols[ST_COLS - 1]);
}

static int
cmd_status(int argc, char **argv)
{
	static const char *header[ST_COLS] = {
		"NAME", "STATE", "SINCE", "FORWARDS", "RECONNECTS",
		"LAST-ERROR",
	};
	json_t		*reply, *list, *t, *fwds, *f;
	const char	*err;
	char		*raw, ***rows, buf[64];
	size_t		 i, j, n, up;
	double		 now, started, connects;
	int		 width[ST_COLS], k, status;

	conn_open(REPLY_TIMEOUT_S);
	reply = get_status(argc - 1, argv + 1, &raw, &status);
	/*
	 * The table's status says whether all is well; with --json the
	 * states are in the reply, and a pipeline reading it must not fail
	 * when a tunnel is down (tunsupctl(1), EXIT STATUS).
	 */
	if (status == 0 && !json_output && status_some_down(reply))
		status = EXIT_REFUSED;
	if (json_output) {
		printf("%s\n", raw);
		goto out;
	}
	if (!reply_ok(reply))
		goto out;

	now = now_wall();
	started = now - jnum(reply, "uptime_s", 0);
	list = json_object_get(reply, "tunnels");
	n = json_array_size(list);
	rows = xcalloc(n, sizeof(*rows));
	for (k = 0; k < ST_COLS; k++)
		width[k] = strlen(header[k]);
	json_array_foreach(list, i, t) {
		rows[i] = xcalloc(ST_COLS, sizeof(**rows));
		rows[i][0] = xstrdup(jstr(t, "name", "?"));
		rows[i][1] = xstrdup(jstr(t, "state", "?"));
		fmt_duration(now - status_since(t, now, started), buf,
		    sizeof(buf));
		rows[i][2] = xstrdup(buf);
		fwds = json_object_get(t, "forwards");
		up = 0;
		json_array_foreach(fwds, j, f) {
			if (strcmp(jstr(f, "state", ""), "up") == 0)
				up++;
		}
		xasprintf(&rows[i][3], "%zu/%zu", up, json_array_size(fwds));
		connects = jnum(t, "connects", 0);
		xasprintf(&rows[i][4], "%.0f", connects > 1 ? connects - 1 : 0);
		if ((err = jstr(t, "last_error", NULL)) != NULL ||
		    (err = forward_error(t)) != NULL)
			rows[i][5] = xstrdup(err);
		else if ((rows[i][5] = forward_refusals(t, 1)) == NULL)
			rows[i][5] = xstrdup("-");
		for (k = 0; k < ST_COLS; k++) {
			if ((int)strlen(rows[i][k]) > width[k])
				width[k] = strlen(rows[i][k]);
		}
	}
	print_row((char *const *)header, width);
	for (i = 0; i < n; i++) {
		print_row(rows[i], width);
		for (k = 0; k < ST_COLS; k++)
			free(rows[i][k]);
		free(rows[i]);
	}
	free(rows);
	/* Below the table: the tunnels on a FallbackHost, and where. */
	json_array_foreach(list, i, t) {
		if (jnum(t, "fallback", 0) > 0)
			printf("%s: on FallbackHost %.0f, %s\n",
			    jstr(t, "name", "?"), jnum(t, "fallback", 0),
			    jstr(t, "server", "?"));
	}

out:
	free(raw);
	json_decref(reply);
	return status;
}

/* ---- start, stop, restart, remove, reload ------------------------------ */

/* argv[0] is the command: start, stop or restart. */
static int
each_tunnel(int argc, char **argv)
{
	const char	*cmd = argv[0];
	int		 i, all = 0, r = 0, names = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "-a") == 0)
			all = 1;
		else if (argv[i][0] == '-')
			usage_error("%s: unknown option %s", cmd, argv[i]);
		else
			names++;
	}
	if ((all && names > 0) || (!all && names == 0))
		usage_error("%s: give tunnel names or --all", cmd);

	conn_open(REPLY_TIMEOUT_S);
	if (all)
		return simple_request(json_pack("{s:s,s:s}", "cmd", cmd,
		    "tunnel", "*"));
	for (i = 1; i < argc; i++) {
		if (simple_request(json_pack("{s:s,s:s}", "cmd", cmd,
		    "tunnel", argv[i])) != 0)
			r = EXIT_REFUSED;
	}
	return r;
}

/* One check-now request; its tunnels named on stdout unless --json. */
static int
check_now_one(const char *name)
{
	json_t		*reply, *v;
	const char	*keys[] = { "checked", "retried" };
	const char	*words[] = { "checking the session", "retrying now" };
	char		*raw;
	size_t		 i, k;
	int		 r = 0;

	reply = conn_request(json_pack("{s:s,s:s}", "cmd", "check-now",
	    "tunnel", name), &raw);
	if (json_output)
		printf("%s\n", raw);
	else if (reply_ok(reply)) {
		for (k = 0; k < nitems(keys); k++) {
			json_array_foreach(json_object_get(reply, keys[k]),
			    i, v)
				printf("%s: %s\n", json_string_value(v),
				    words[k]);
		}
	}
	if (!reply_ok(reply)) {
		fprintf(stderr, "tunsupctl: %s\n", reply_error(reply));
		r = EXIT_REFUSED;
	}
	free(raw);
	json_decref(reply);
	return r;
}

/* Without names, every tunnel, as SIGUSR1 does. */
static int
cmd_check_now(int argc, char **argv)
{
	int	 i, r = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "-a") == 0) {
			if (argc != 2)
				usage_error("check-now: give tunnel names or "
				    "--all");
		} else if (argv[i][0] == '-')
			usage_error("check-now: unknown option %s", argv[i]);
	}
	conn_open(REPLY_TIMEOUT_S);
	if (argc == 1 || argv[1][0] == '-')
		return check_now_one("*");
	for (i = 1; i < argc; i++) {
		if (check_now_one(argv[i]) != 0)
			r = EXIT_REFUSED;
	}
	return r;
}

static int
cmd_remove(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		usage_error("remove: give one tunnel name");
	conn_open(REPLY_TIMEOUT_S);
	return simple_request(json_pack("{s:s,s:s}", "cmd", "remove",
	    "tunnel", argv[1]));
}

/*
 * forward, cancel (argv[0]): one forward of a live tunnel in ssh's form
 * ("-L 8080:db:5432"), sent as the line of a tunnel block it would be.
 */
static int
forward_change(int argc, char **argv)
{
	static const struct {
		const char	*opt;
		const char	*keyword;
	} opts[] = {
		{ "-L", "LocalForward" },
		{ "-R", "RemoteForward" },
		{ "-D", "DynamicForward" },
	};
	const char	*cmd = argv[0];
	struct strbuf	 sb;
	size_t		 i;
	int		 r;

	if (argc != 4 || argv[1][0] == '-')
		usage_error("%s: give a tunnel name, -L, -R or -D and a "
		    "forward", cmd);
	for (i = 0; i < nitems(opts); i++) {
		if (strcmp(argv[2], opts[i].opt) == 0)
			break;
	}
	if (i == nitems(opts))
		usage_error("%s: expected -L, -R or -D, got %s", cmd, argv[2]);
	memset(&sb, 0, sizeof(sb));
	sb_printf(&sb, "%s", opts[i].keyword);
	sb_arg(&sb, argv[3]);	/* one argument, as ssh takes it */
	conn_open(REPLY_TIMEOUT_S);
	r = simple_request(json_pack("{s:s,s:s,s:s}", "cmd", cmd, "tunnel",
	    argv[1], "forward", sb.s));
	free(sb.s);
	return r;
}

static int
cmd_reload(int argc, char **argv)
{
	static const char *keys[] = {
		"added", "removed", "restarted", "forwards_changed",
		"unchanged"
	};
	json_t	*reply, *list, *v;
	char	*raw;
	size_t	 i, j;
	int	 r = 0;

	if (argc != 1)
		usage_error("reload takes no arguments");
	conn_open(REPLY_TIMEOUT_S);
	reply = conn_request(json_pack("{s:s}", "cmd", "reload"), &raw);
	if (json_output)
		printf("%s\n", raw);
	if (!reply_ok(reply)) {
		fprintf(stderr, "tunsupctl: %s\n", reply_error(reply));
		r = EXIT_REFUSED;
	} else if (!json_output) {
		for (i = 0; i < nitems(keys); i++) {
			list = json_object_get(reply, keys[i]);
			printf("%s:", keys[i]);
			if (json_array_size(list) == 0)
				printf(" -");
			json_array_foreach(list, j, v)
				printf(" %s", json_string_value(v) != NULL ?
				    json_string_value(v) : "?");
			printf("\n");
		}
	}
	free(raw);
	json_decref(reply);
	return r;
}

/* ---- add: an ssh/autossh command line to a tunnel block ---------------- */

static void
print_notes(const char *notes)
{
	const char	*s, *nl;

	for (s = notes; s != NULL && *s != '\0'; s = nl) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s);
		fprintf(stderr, "note: %.*s\n", (int)(nl - s), s);
		if (*nl == '\n')
			nl++;
	}
}

/*
 * add --print: the block, checked by the configuration's parser here, ready
 * to be pasted into the file; nothing is sent.
 */
static int
add_print(const char *name, struct sshargs *sa)
{
	struct tunnel_spec	*spec;
	struct cfg_errors	 errs = { NULL, 0 }, warns = { NULL, 0 };
	char			*block;
	size_t			 i;

	spec = cfg_parse_tunnel_lines(NULL, name, "tunsupctl add", 0,
	    sa->lines, sa->nlines, &errs, &warns);
	if (spec == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "tunsupctl: %s\n", errs.msg[i]);
		cfg_errors_clear(&errs);
		cfg_errors_clear(&warns);
		return EXIT_REFUSED;
	}
	tunnel_spec_free(spec);
	sshargs_add_notes(sa, &warns);
	cfg_errors_clear(&warns);
	print_notes(sa->notes);
	block = sshargs_block(sa, "    ");
	printf("Tunnel %s\n%s", name, block);
	free(block);
	return 0;
}

static int
cmd_add(int argc, char **argv)
{
	struct sshargs	 sa;
	json_t		*args, *req, *reply, *v;
	char		*err, *raw, cwd[4096];
	int		 i, print = 0, r = 0;

	if (argc > 1 && strcmp(argv[1], "--print") == 0) {
		print = 1;
		argc--;
		argv++;
	}
	if (argc < 3 || argv[1][0] == '-')
		usage_error("add: give a name and [ssh options] [user@]host");
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		die(EXIT_USAGE, "add: cannot get the current directory: %s",
		    strerror(errno));
	/* Checked here for a usage error; the daemon translates its own. */
	if (sshargs_parse(&sa, argc - 2, argv + 2, cwd, &err) != 0) {
		fprintf(stderr, "tunsupctl: add: %s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	if (print) {
		if (json_output)
			usage_error("add --print prints a configuration "
			    "block: it has no --json output");
		r = add_print(argv[1], &sa);
		sshargs_clear(&sa);
		return r;
	}
	sshargs_clear(&sa);
	args = json_array();
	for (i = 2; i < argc; i++) {
		/* JSON carries UTF-8 only: no silent change of a path. */
		if (json_array_append_new(args, json_string(argv[i])) != 0)
			usage_error("add: %s is not valid UTF-8", argv[i]);
	}
	conn_open(REPLY_TIMEOUT_S);
	/* "o" steals args. */
	req = json_pack("{s:s,s:s,s:o}", "cmd", "add", "tunnel", argv[1],
	    "argv", args);
	/* Where relative paths (-i, -F) are; json_string refuses non-UTF-8. */
	if ((v = json_string(cwd)) != NULL)
		json_object_set_new(req, "cwd", v);	/* v stolen */
	reply = conn_request(req, &raw);
	if (json_output)
		printf("%s\n", raw);
	if (!reply_ok(reply)) {
		fprintf(stderr, "tunsupctl: %s\n", reply_error(reply));
		r = EXIT_REFUSED;
	} else if (!json_output)
		print_notes(jstr(reply, "note", NULL));
	free(raw);
	json_decref(reply);
	return r;
}

/* ---- watch ------------------------------------------------------------- */

static void
on_interrupt(int sig)
{
	interrupted = 1;
}

/*
 * One line per event: "TS NAME FROM -> TO (reason)" for a state change,
 * "TS NAME forward LISTEN STATE (error)" for a forward, "TS NAME forward
 * LISTEN open refused, N in a row (refusal)" for a refused channel open.
 */
static void
print_event(json_t *ev)
{
	const char	*kind, *why;
	char		 ts[64];

	fmt_time(jnum(ev, "ts", now_wall()), ts, sizeof(ts));
	kind = jstr(ev, "event", "?");
	if (strcmp(kind, "state") == 0) {
		printf("%s %s %s -> %s", ts, jstr(ev, "tunnel", "?"),
		    jstr(ev, "from", "?"), jstr(ev, "to", "?"));
		why = jstr(ev, "reason", NULL);
	} else if (strcmp(kind, "forward") == 0) {
		printf("%s %s forward %s %s", ts, jstr(ev, "tunnel", "?"),
		    jstr(ev, "listen", "?"), jstr(ev, "state", "?"));
		why = jstr(ev, "error", NULL);
	} else if (strcmp(kind, "open_refused") == 0) {
		printf("%s %s forward %s open refused, %.0f in a row", ts,
		    jstr(ev, "tunnel", "?"), jstr(ev, "listen", "?"),
		    jnum(ev, "in_row", 0));
		why = jstr(ev, "refusal", NULL);
	} else {
		printf("%s %s %s", ts, jstr(ev, "tunnel", "-"), kind);
		why = NULL;
	}
	if (why != NULL && *why != '\0')
		printf(" (%s)", why);
	printf("\n");
}

static int
cmd_watch(int argc, char **argv)
{
	struct sigaction	 sa;
	json_t			*reply, *ev;
	char			*line;
	int			 r;

	if (argc != 1)
		usage_error("watch takes no arguments");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;	/* no SA_RESTART: read() returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	conn_open(0);
	reply = conn_request(json_pack("{s:s}", "cmd", "subscribe"), NULL);
	r = reply_ok(reply) ? 0 : EXIT_REFUSED;
	if (r != 0)
		fprintf(stderr, "tunsupctl: %s\n", reply_error(reply));
	json_decref(reply);
	if (r != 0)
		return r;

	while ((line = conn_read_line()) != NULL) {
		if (json_output)
			printf("%s\n", line);
		else if ((ev = json_loads(line, 0, NULL)) != NULL) {
			/* A reply to nothing we sent is not an event. */
			if (json_object_get(ev, "event") != NULL)
				print_event(ev);
			json_decref(ev);
		}
		free(line);
	}
	return 0;
}

/* ---- check ------------------------------------------------------------- */

/* check's thresholds: a tunnel down longer, more tunnels down, alerts. */
struct check_limits {
	double	 warn_s;
	double	 crit_s;
	long	 warn_n;	/* -1: none */
	long	 crit_n;
	long	 timeout;
};

static char	 check_timeout_line[128];

/* The whole check ran out of time: the UNKNOWN line, prepared before. */
static void
check_on_alarm(int sig)
{
	ssize_t	 n;

	n = write(STDOUT_FILENO, check_timeout_line,
	    strlen(check_timeout_line));
	(void)n;
	_exit(CHECK_UNKNOWN);
}

static double
check_seconds(const char *opt, const char *v)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || errno != 0 || d < 0 || !isfinite(d))
		usage_error("check: bad number of seconds for %s: %s", opt, v);
	return d;
}

static long
check_count(const char *opt, const char *v, long min)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min ||
	    n > 1000000)
		usage_error("check: bad value for %s: %s", opt, v);
	return n;
}

/*
 * The options of check, a monitoring plugin's: tunsupctl(1). Returns the
 * index of the first tunnel name.
 */
static int
check_options(int argc, char **argv, struct check_limits *lim)
{
	static const struct option longopts[] = {
		{ "timeout",		required_argument,	NULL, 't' },
		{ "warning",		required_argument,	NULL, 'w' },
		{ "critical",		required_argument,	NULL, 'c' },
		{ "grace",		required_argument,	NULL, 'g' },
		{ "warning-count",	required_argument,	NULL, 'W' },
		{ "critical-count",	required_argument,	NULL, 'C' },
		{ "help",		no_argument,		NULL, 'h' },
		{ "version",		no_argument,		NULL, 'V' },
		{ NULL,			0,			NULL, 0 },
	};
	int	 ch;

	opterr = 0;
	optind = 0;	/* getopt starts afresh on check's arguments */
	while ((ch = getopt_long(argc, argv, "+:t:w:c:g:W:C:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 't':
			lim->timeout = check_count("-t", optarg, 1);
			break;
		case 'w':
			lim->warn_s = check_seconds("-w", optarg);
			break;
		case 'c':
		case 'g':
			lim->crit_s = check_seconds(ch == 'c' ? "-c" : "-g",
			    optarg);
			break;
		case 'W':
			lim->warn_n = check_count("-W", optarg, 0);
			break;
		case 'C':
			lim->crit_n = check_count("-C", optarg, 0);
			break;
		case 'h':
			printf("tunsupctl check %s\n\n", PACKAGE_VERSION);
			cmd_help_print(cmd_find("check"));
			exit(CHECK_UNKNOWN);
		case 'V':
			printf("tunsupctl check %s\n", PACKAGE_VERSION);
			exit(CHECK_UNKNOWN);
		case ':':
			usage_error("check: %s needs a value", argv[optind - 1]);
		default:
			if (optopt != 0)
				usage_error("check: unknown option -%c", optopt);
			usage_error("check: unknown option %s",
			    argv[optind - 1]);
		}
	}
	return optind;
}

/* 'NAME'=VALUE: a perfdata label, quoted, a quote in it doubled. */
static void
check_perf_label(struct strbuf *sb, const char *name, const char *suffix)
{
	const char	*cp;

	sb_printf(sb, " '");
	for (cp = name; *cp != '\0'; cp++) {
		if (*cp == '\'')
			sb_printf(sb, "''");
		else
			sb_printf(sb, "%c", *cp);
	}
	sb_printf(sb, "%s'=", suffix);
}

/* An empty threshold for "none", else the number. */
static void
check_perf_limit(struct strbuf *sb, double v)
{
	if (v >= 0)
		sb_printf(sb, "%g", v);
	sb_printf(sb, ";");
}

static int
cmd_check(int argc, char **argv)
{
	static const char *label[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	struct check_limits	 lim = { 0, CHECK_GRACE_DEFAULT, -1, -1,
				    CHECK_TIMEOUT_DEFAULT };
	struct sigaction	 sa;
	struct strbuf		 perf;
	json_t		*reply, *t;
	const char	*state, *err, *name;
	char		*detail = NULL, *old, *refused, dur[64];
	double		 now, started, down_s;
	size_t		 i, total = 0, up = 0, stopped = 0, down;
	int		 status, level = CHECK_OK, bad, first;

	first = check_options(argc, argv, &lim);
	argc -= first;
	argv += first;

	/* -t: the whole check, connecting included. */
	snprintf(check_timeout_line, sizeof(check_timeout_line),
	    "TUNSUP UNKNOWN - no answer from tunsupd within %ld s\n",
	    lim.timeout);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = check_on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(lim.timeout);

	/* Anything that keeps us from knowing is UNKNOWN (3). */
	if (conn_connect() != 0)
		die(CHECK_UNKNOWN, "%s", conn_error);
	conn_open(0);
	reply = get_status(argc, argv, NULL, &status);
	alarm(0);
	if (status != 0) {
		printf("TUNSUP UNKNOWN - %s\n", reply_ok(reply) ?
		    "no such tunnel" : reply_error(reply));
		json_decref(reply);
		return CHECK_UNKNOWN;
	}

	memset(&perf, 0, sizeof(perf));
	now = now_wall();
	started = now - jnum(reply, "uptime_s", 0);
	json_array_foreach(json_object_get(reply, "tunnels"), i, t) {
		state = jstr(t, "state", "?");
		name = jstr(t, "name", "?");
		check_perf_label(&perf, name, "");
		sb_printf(&perf, "%d;;;0;1", strcmp(state, "up") == 0);
		if (strcmp(state, "stopped") == 0) {
			stopped++;
			continue;
		}
		total++;
		/*
		 * Degraded keeps its state while the session lives; the
		 * others cycle through connecting and backoff.
		 */
		if (strcmp(state, "up") == 0)
			down_s = 0;
		else if (strcmp(state, "degraded") == 0)
			down_s = now - jnum(t, "state_since", now);
		else
			down_s = now - down_since(t, started);
		check_perf_label(&perf, name, " down");
		sb_printf(&perf, "%.0fs;", down_s);
		check_perf_limit(&perf, lim.warn_s);
		check_perf_limit(&perf, lim.crit_s);
		sb_printf(&perf, "0;");
		if (strcmp(state, "up") == 0) {
			up++;
			if ((refused = forward_refusals(t,
			    CHECK_REFUSED_IN_ROW)) == NULL)
				continue;
			if (level < CHECK_WARNING)
				level = CHECK_WARNING;
			old = detail;
			xasprintf(&detail, "%s%s%s %s", old != NULL ? old : "",
			    old != NULL ? ", " : "", name, refused);
			free(old);
			free(refused);
			continue;
		}
		bad = down_s > lim.crit_s ? CHECK_CRITICAL :
		    down_s > lim.warn_s ? CHECK_WARNING : CHECK_OK;
		if (bad > level)
			level = bad;
		fmt_duration(down_s, dur, sizeof(dur));
		if ((err = jstr(t, "last_error", NULL)) == NULL)
			err = forward_error(t);
		old = detail;
		xasprintf(&detail, "%s%s%s %s for %s%s%s%s",
		    old != NULL ? old : "", old != NULL ? ", " : "",
		    name, state, dur,
		    err != NULL ? " (" : "", err != NULL ? err : "",
		    err != NULL ? ")" : "");
		free(old);
	}
	down = total - up;
	if (lim.crit_n >= 0 && (long)down > lim.crit_n)
		level = CHECK_CRITICAL;
	else if (lim.warn_n >= 0 && (long)down > lim.warn_n &&
	    level < CHECK_WARNING)
		level = CHECK_WARNING;
	printf("TUNSUP %s - %zu/%zu tunnels up", label[level], up, total);
	if (stopped > 0)
		printf(", %zu stopped", stopped);
	if (detail != NULL)
		printf("; %s", detail);
	printf(" | up=%zu;;;0;%zu total=%zu stopped=%zu down=%zu;", up, total,
	    total, stopped, down);
	if (lim.warn_n >= 0)
		printf("%ld", lim.warn_n);
	printf(";");
	if (lim.crit_n >= 0)
		printf("%ld", lim.crit_n);
	printf(";0;%zu%s\n", total, perf.s != NULL ? perf.s : "");
	free(perf.s);
	free(detail);
	json_decref(reply);
	return level;
}

/* ---- authorized-keys --------------------------------------------------- */

/* The first key line of a .pub file (caller frees). */
static char *
read_pubkey(const char *path)
{
	FILE	*f;
	char	*line = NULL, *cp, *key = NULL;
	size_t	 size = 0;
	ssize_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		die(EXIT_REFUSED, "%s: %s", path, strerror(errno));
	while ((n = getline(&line, &size, f)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		cp = line + strspn(line, " \t");
		if (*cp == '\0' || *cp == '#')
			continue;
		if (strncmp(cp, "ssh-", 4) != 0 &&
		    strncmp(cp, "ecdsa-", 6) != 0 &&
		    strncmp(cp, "sk-", 3) != 0)
			break;
		if (strpbrk(cp, " \t") == NULL)
			break;
		key = xstrdup(cp);
		break;
	}
	free(line);
	fclose(f);
	if (key == NULL)
		die(EXIT_REFUSED, "%s: not an OpenSSH public key", path);
	return key;
}

/*
 * Append name="value" to opts; 1 if done, 0 for a unix socket path, which
 * neither permitlisten nor permitopen can limit.
 */
static int
ak_append(char **opts, const char *name, const char *value)
{
	char	*old = *opts;

	if (*value == '/') {
		fprintf(stderr, "note: %s cannot limit the unix socket %s\n",
		    name, value);
		return 0;
	}
	xasprintf(opts, "%s,%s=\"%s\"", old, name, value);
	free(old);
	return 1;
}

/*
 * What a jump host must let the key open to reach the next hop: "host:port"
 * of a "[user@]host:port" from status, an IPv6 address in brackets. The
 * caller frees.
 */
static char *
ak_next_hop(const char *hop)
{
	const char	*at, *colon;
	char		*host, *s;

	if ((at = strrchr(hop, '@')) != NULL)
		hop = at + 1;
	if ((colon = strrchr(hop, ':')) == NULL)
		return xstrdup(hop);
	host = xstrndup(hop, colon - hop);
	xasprintf(&s, strchr(host, ':') != NULL ? "[%s]%s" : "%s%s", host,
	    colon);
	free(host);
	return s;
}

/*
 * With ProxyJump, a line for each jump host first (outermost first, each
 * after a comment naming it): no listening, and opening only the next hop.
 */
static void
ak_jumps(json_t *t, const char *key)
{
	json_t		*jumps = json_object_get(t, "jumps");
	size_t		 i, n = json_array_size(jumps);
	char		*server, *next;
	const char	*hop;

	if (n == 0)
		return;
	xasprintf(&server, "%s@%s:%.0f", jstr(t, "user", "?"),
	    jstr(t, "host", "?"), jnum(t, "port", 22));
	for (i = 0; i < n; i++) {
		hop = json_string_value(json_array_get(jumps, i));
		next = ak_next_hop(i + 1 < n ? json_string_value(
		    json_array_get(jumps, i + 1)) : server);
		printf("# jump host %zu of %zu, %s: on to %s only\n", i + 1, n,
		    hop != NULL ? hop : "?", next);
		printf("restrict,port-forwarding,permitlisten=\"%s\","
		    "permitopen=\"%s\",command=\"/bin/false\" %s\n", AK_CLOSED,
		    next, key);
		free(next);
	}
	printf("# the tunnel's server, %s\n", server);
	free(server);
}

/*
 * The authorized_keys line for a tunnel: "restrict" takes everything away,
 * "port-forwarding" gives forwarding back, limited by one permitlisten per
 * remote forward and one permitopen per local forward target. A direction
 * the tunnel does not use is closed with an address nothing answers on.
 */
static int
cmd_authorized_keys(int argc, char **argv)
{
	const struct fwd_kind_info *kind;
	json_t		*reply, *t, *f;
	const char	*listen, *target;
	char		*key, *listens, *opens, *raw;
	size_t		 i;
	int		 status, nlisten = 0, nopen = 0, any_open = 0;
	int		 remote_sock = 0;

	if (argc != 3)
		usage_error("authorized-keys: give a tunnel name and a "
		    "public key file");
	key = read_pubkey(argv[2]);
	conn_open(REPLY_TIMEOUT_S);
	reply = get_status(1, argv + 1, &raw, &status);
	free(raw);
	if (status != 0) {
		json_decref(reply);
		free(key);
		return status;
	}
	t = json_array_get(json_object_get(reply, "tunnels"), 0);

	listens = xstrdup("");
	opens = xstrdup("");
	json_array_foreach(json_object_get(t, "forwards"), i, f) {
		if ((kind = fwd_kind_by_name(jstr(f, "kind", ""))) == NULL)
			continue;	/* a kind newer than this tunsupctl */
		listen = jstr(f, "listen", "");
		target = jstr(f, "target", NULL);
		/* The server listens: permitlisten; it connects: permitopen. */
		if (!(kind->flags & FK_HERE)) {
			if (*listen == '/')
				remote_sock = 1;
			nlisten += ak_append(&listens, "permitlisten", listen);
		}
		else if (kind->flags & FK_SOCKS)
			any_open = 1;
		else if (target != NULL)
			nopen += ak_append(&opens, "permitopen", target);
	}
	if (nlisten == 0)
		ak_append(&listens, "permitlisten", AK_CLOSED);
	if (any_open) {
		/* permitopen cannot say "anywhere": leave it out. */
		fprintf(stderr, "note: a dynamic forward may open any "
		    "destination: no permitopen restriction\n");
		opens[0] = '\0';
	} else if (nopen == 0)
		ak_append(&opens, "permitopen", AK_CLOSED);
	if (remote_sock)
		fprintf(stderr, "note: OpenSSH has no per-key limit for unix "
		    "sockets: permitlisten does not apply to them, so this key "
		    "may listen on any path its account may write; limit the "
		    "account in the server's sshd_config (Match User ... / "
		    "AllowStreamLocalForwarding remote, StreamLocalBindMask, "
		    "StreamLocalBindUnlink: tunsupd.conf(5), RemoteForward)\n");
	ak_jumps(t, key);
	printf("restrict,port-forwarding%s%s,command=\"/bin/false\" %s\n",
	    listens, opens, key);

	free(listens);
	free(opens);
	free(key);
	json_decref(reply);
	return 0;
}

/* ---- metrics ----------------------------------------------------------- */

/*
 * Without a daemon, say so in the metrics too (tunsup_up 0) so that a
 * textfile collector exports it, and exit 3.
 */
static int
cmd_metrics(int argc, char **argv)
{
	json_t	*reply;
	int	 status;

	if (argc > 1 && argv[1][0] == '-')
		usage_error("metrics: unknown option %s", argv[1]);
	if (conn_connect() != 0) {
		fprintf(stderr, "tunsupctl: %s\n", conn_error);
		metrics_print_down(stdout);
		return EXIT_NODAEMON;
	}
	conn_open(REPLY_TIMEOUT_S);
	reply = get_status(argc - 1, argv + 1, NULL, &status);
	if (status == 0)
		metrics_print(stdout, reply, 0);
	json_decref(reply);
	return status;
}

/* ---- main -------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "socket",	required_argument,	NULL, 'S' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 },
	};
	const struct client_cmd	*cc;
	int			 ch, r;

	signal(SIGPIPE, SIG_IGN);
	/* "+": stop at the command; ssh options after it are not ours. */
	while ((ch = getopt_long(argc, argv, "+hjS:V", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json_output = 1;
			break;
		case 'S':
			free(socket_path);
			socket_path = xstrdup(optarg);
			break;
		case 'V':
			printf("tunsupctl %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage_print(stdout);
			return 0;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage_error("missing command");
	if ((cc = cmd_find(argv[0])) == NULL)
		usage_error("unknown command: %s", argv[0]);
	plugin_mode = (cc->flags & CC_PLUGIN) != 0;
	/* A plugin answers -h itself, with a plugin's status. */
	if (!plugin_mode && argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		cmd_help_print(cc);
		return 0;
	}
	if (json_output && (cc->flags & CC_NOJSON))
		usage_error("%s has no --json output", cc->name);
	if (socket_path == NULL)
		socket_path = ctl_client_path();

	r = cc->exec(argc, argv);
	if (fflush(stdout) != 0 && r == 0)
		r = EXIT_REFUSED;
	if (conn_fd != -1)
		close(conn_fd);
	free(conn_buf);
	free(socket_path);
	return r;
}
