/*
 * tunsupctl: the command-line client of tunsupd (tunsupctl(1)). It speaks the
 * control protocol of tunsupd(8) with blocking I/O: one connection, one request
 * line, one reply line, and for "watch" a stream of event lines.
 *
 * Exit status: 0 success, 1 the daemon refused, 2 usage, 3 no daemon.
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
/* check warns of a forward whose last opens were all refused, this many. */
#define CHECK_REFUSED_IN_ROW	3
#define REPLY_TIMEOUT_S		30

/* Used where no real value exists: ssh never connects there. */
#define AK_CLOSED	"255.255.255.255:9"

struct client_cmd {
	const char	*name;
	const char	*args;
	int		(*exec)(int, char **);
};

static int	cmd_status(int, char **);
static int	cmd_start(int, char **);
static int	cmd_stop(int, char **);
static int	cmd_restart(int, char **);
static int	cmd_reload(int, char **);
static int	cmd_add(int, char **);
static int	cmd_remove(int, char **);
static int	cmd_forward(int, char **);
static int	cmd_cancel(int, char **);
static int	cmd_watch(int, char **);
static int	cmd_check(int, char **);
static int	cmd_authorized_keys(int, char **);
static int	cmd_metrics(int, char **);
static int	cmd_check_now(int, char **);

static const struct client_cmd client_cmds[] = {
	{ "status",		"[NAME ...]",			cmd_status },
	{ "start",		"NAME ... | --all",		cmd_start },
	{ "stop",		"NAME ... | --all",		cmd_stop },
	{ "restart",		"NAME ... | --all",		cmd_restart },
	{ "check-now",		"[NAME ... | --all]",		cmd_check_now },
	{ "reload",		"",				cmd_reload },
	{ "add",		"[--print] NAME [ssh|autossh] [ssh options] "
				"[user@]host",			cmd_add },
	{ "remove",		"NAME",				cmd_remove },
	{ "forward",		"NAME -L|-R|-D SPEC",		cmd_forward },
	{ "cancel",		"NAME -L|-R|-D SPEC",		cmd_cancel },
	{ "watch",		"",				cmd_watch },
	{ "check",		"[-g SECONDS] [NAME ...]",	cmd_check },
	{ "authorized-keys",	"NAME PUBKEY_FILE",		cmd_authorized_keys },
	{ "metrics",		"[NAME ...]",			cmd_metrics },
};

static char	*socket_path;
static int	 json_output;
static int	 conn_fd = -1;
static char	 conn_error[512];	/* why conn_connect() failed */
static char	*conn_buf;	/* bytes read past the last line */
static size_t	 conn_len;
static size_t	 conn_size;
static volatile sig_atomic_t interrupted;

static void __attribute__((noreturn))
usage(void)
{
	size_t	 i;

	fprintf(stderr, "usage: tunsupctl [-S socket] [--json] command "
	    "[args]\n       tunsupctl -h | -V\ncommands:\n");
	for (i = 0; i < nitems(client_cmds); i++) {
		fprintf(stderr, "    %s %s\n", client_cmds[i].name,
		    client_cmds[i].args);
	}
	exit(EXIT_USAGE);
}

static void __attribute__((format(printf, 1, 0)))
vwarnx(const char *fmt, va_list ap)
{
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
	exit(status);
}

static void __attribute__((format(printf, 1, 2), noreturn))
usage_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	usage();
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

static const char *
jstr(json_t *obj, const char *key, const char *dflt)
{
	const char	*s;

	s = json_string_value(json_object_get(obj, key));
	return s != NULL ? s : dflt;
}

static double
jnum(json_t *obj, const char *key, double dflt)
{
	json_t	*v;

	v = json_object_get(obj, key);
	return json_is_number(v) ? json_number_value(v) : dflt;
}

/* ---- status ------------------------------------------------------------ */

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
	double		 now, connects;
	int		 width[ST_COLS], k, status;

	conn_open(REPLY_TIMEOUT_S);
	reply = get_status(argc - 1, argv + 1, &raw, &status);
	if (json_output) {
		printf("%s\n", raw);
		goto out;
	}
	if (!reply_ok(reply))
		goto out;

	now = now_wall();
	list = json_object_get(reply, "tunnels");
	n = json_array_size(list);
	rows = xcalloc(n, sizeof(*rows));
	for (k = 0; k < ST_COLS; k++)
		width[k] = strlen(header[k]);
	json_array_foreach(list, i, t) {
		rows[i] = xcalloc(ST_COLS, sizeof(**rows));
		rows[i][0] = xstrdup(jstr(t, "name", "?"));
		rows[i][1] = xstrdup(jstr(t, "state", "?"));
		fmt_duration(now - jnum(t, "state_since", now), buf,
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

static int
each_tunnel(int argc, char **argv, const char *cmd)
{
	int	 i, all = 0, r = 0, names = 0;

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

static int
cmd_start(int argc, char **argv)
{
	return each_tunnel(argc, argv, "start");
}

static int
cmd_stop(int argc, char **argv)
{
	return each_tunnel(argc, argv, "stop");
}

static int
cmd_restart(int argc, char **argv)
{
	return each_tunnel(argc, argv, "restart");
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
 * forward, cancel: one forward of a live tunnel in ssh's form ("-L
 * 8080:db:5432"), sent as the line of a tunnel block it would be.
 */
static int
forward_change(int argc, char **argv, const char *cmd)
{
	static const struct {
		const char	*opt;
		const char	*keyword;
	} opts[] = {
		{ "-L", "LocalForward" },
		{ "-R", "RemoteForward" },
		{ "-D", "DynamicForward" },
	};
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
cmd_forward(int argc, char **argv)
{
	return forward_change(argc, argv, "forward");
}

static int
cmd_cancel(int argc, char **argv)
{
	return forward_change(argc, argv, "cancel");
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
add_print(const char *name, const struct sshargs *sa)
{
	struct tunnel_spec	*spec;
	struct cfg_errors	 errs = { NULL, 0 };
	char			*block;
	size_t			 i;

	spec = cfg_parse_tunnel_lines(NULL, name, "tunsupctl add", 0,
	    sa->lines, sa->nlines, &errs);
	if (spec == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "tunsupctl: %s\n", errs.msg[i]);
		cfg_errors_clear(&errs);
		return EXIT_REFUSED;
	}
	tunnel_spec_free(spec);
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
 * The options of check: -g SECONDS, -gSECONDS, --grace SECONDS or
 * --grace=SECONDS. Returns the index of the first tunnel name.
 */
static int
check_options(int argc, char **argv, double *grace)
{
	const char	*a, *v;
	char		*end;
	int		 i;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1;
		if (a[0] != '-')
			break;
		if (strcmp(a, "-g") == 0 || strcmp(a, "--grace") == 0) {
			if (++i >= argc)
				usage_error("check: %s needs a value", a);
			v = argv[i];
		} else if (strncmp(a, "--grace=", 8) == 0)
			v = a + 8;
		else if (strncmp(a, "-g", 2) == 0)
			v = a + 2;
		else
			usage_error("check: unknown option %s", a);
		errno = 0;
		*grace = strtod(v, &end);
		if (*v == '\0' || *end != '\0' || errno != 0 || *grace < 0 ||
		    !isfinite(*grace))
			usage_error("check: bad grace period: %s", v);
	}
	return i;
}

static int
cmd_check(int argc, char **argv)
{
	static const char *label[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	json_t		*reply, *t;
	const char	*state, *err;
	char		*detail = NULL, *old, *refused, dur[64];
	double		 grace = CHECK_GRACE_DEFAULT, now, started, since;
	size_t		 i, total = 0, up = 0, stopped = 0;
	int		 status, level = CHECK_OK, bad, first;

	first = check_options(argc, argv, &grace);
	argc -= first;
	argv += first;

	/* Nagios: anything that keeps us from knowing is UNKNOWN (3). */
	if (conn_connect() != 0) {
		printf("TUNSUP UNKNOWN - %s\n", conn_error);
		return CHECK_UNKNOWN;
	}
	conn_open(REPLY_TIMEOUT_S);
	reply = get_status(argc, argv, NULL, &status);
	if (status != 0) {
		printf("TUNSUP UNKNOWN - %s\n", reply_ok(reply) ?
		    "no such tunnel" : reply_error(reply));
		json_decref(reply);
		return CHECK_UNKNOWN;
	}

	now = now_wall();
	started = now - jnum(reply, "uptime_s", 0);
	json_array_foreach(json_object_get(reply, "tunnels"), i, t) {
		state = jstr(t, "state", "?");
		if (strcmp(state, "stopped") == 0) {
			stopped++;
			continue;
		}
		total++;
		if (strcmp(state, "up") == 0) {
			up++;
			if ((refused = forward_refusals(t,
			    CHECK_REFUSED_IN_ROW)) == NULL)
				continue;
			if (level < CHECK_WARNING)
				level = CHECK_WARNING;
			old = detail;
			xasprintf(&detail, "%s%s%s %s", old != NULL ? old : "",
			    old != NULL ? ", " : "", jstr(t, "name", "?"),
			    refused);
			free(old);
			free(refused);
			continue;
		}
		/*
		 * Degraded keeps its state while the session lives; the
		 * others cycle through connecting and backoff.
		 */
		if (strcmp(state, "degraded") == 0)
			since = jnum(t, "state_since", now);
		else
			since = down_since(t, started);
		bad = now - since > grace ? CHECK_CRITICAL : CHECK_WARNING;
		if (bad > level)
			level = bad;
		fmt_duration(now - since, dur, sizeof(dur));
		if ((err = jstr(t, "last_error", NULL)) == NULL)
			err = forward_error(t);
		old = detail;
		xasprintf(&detail, "%s%s%s %s for %s%s%s%s",
		    old != NULL ? old : "", old != NULL ? ", " : "",
		    jstr(t, "name", "?"), state, dur,
		    err != NULL ? " (" : "", err != NULL ? err : "",
		    err != NULL ? ")" : "");
		free(old);
	}
	printf("TUNSUP %s - %zu/%zu tunnels up", label[level], up, total);
	if (stopped > 0)
		printf(", %zu stopped", stopped);
	if (detail != NULL)
		printf("; %s", detail);
	printf(" | up=%zu;;;0;%zu total=%zu stopped=%zu\n", up, total, total,
	    stopped);
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
 * Prometheus text exposition (format 0.0.4), as node_exporter's textfile
 * collector reads it: each family's HELP and TYPE, then all its samples,
 * one family after the other.
 */

/* The tunnel states (tunsupctl(1), STATES), each exported as 0 or 1. */
static const char *const metric_states[] = {
	"stopped", "connecting", "forwarding", "up", "degraded", "backoff",
};

/* Per forward families: the name, its help, its type and its status key. */
static const struct fwd_metric {
	const char	*name;
	const char	*help;
	const char	*type;
	const char	*key;
} fwd_metrics[] = {
	{ "tunsup_forward_connections_active",
	  "Connections open through the forward.", "gauge",
	  "connections_active" },
	{ "tunsup_forward_connections_total",
	  "Connections accepted by the forward.", "counter",
	  "connections_total" },
	{ "tunsup_forward_bytes_in_total",
	  "Bytes from the SSH channel to the local socket.", "counter",
	  "bytes_in" },
	{ "tunsup_forward_bytes_out_total",
	  "Bytes from the local socket into the SSH channel.", "counter",
	  "bytes_out" },
};

static void
metric_family(const char *name, const char *help, const char *type)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the exposition format wants: \\, \" and \n. */
static void
metric_label(const char *name, const char *value, int first)
{
	const char	*cp;

	printf("%s%s=\"", first ? "" : ",", name);
	for (cp = value; *cp != '\0'; cp++) {
		if (*cp == '\\')
			fputs("\\\\", stdout);
		else if (*cp == '"')
			fputs("\\\"", stdout);
		else if (*cp == '\n')
			fputs("\\n", stdout);
		else
			putchar(*cp);
	}
	putchar('"');
}

/* A sample value: integers exactly, reals with all their digits. */
static void
metric_value(json_t *v)
{
	if (json_is_integer(v))
		printf(" %" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	else
		printf(" %.17g\n", json_number_value(v));
}

/*
 * Forward i of a tunnel is exported unless an earlier one has the same kind
 * and listen address (the labels would repeat a series); that can only be
 * a forward that failed anyway.
 */
static int
metric_fwd_unique(json_t *fwds, size_t i)
{
	json_t	*f, *g;
	size_t	 j;

	f = json_array_get(fwds, i);
	for (j = 0; j < i; j++) {
		g = json_array_get(fwds, j);
		if (strcmp(jstr(f, "kind", ""), jstr(g, "kind", "")) == 0 &&
		    strcmp(jstr(f, "listen", ""), jstr(g, "listen", "")) == 0)
			return 0;
	}
	return 1;
}

static void
metric_fwd_labels(const char *name, json_t *t, json_t *f)
{
	printf("%s{", name);
	metric_label("tunnel", jstr(t, "name", ""), 1);
	metric_label("kind", jstr(f, "kind", ""), 0);
	metric_label("listen", jstr(f, "listen", ""), 0);
	putchar('}');
}

/* Per tunnel counters: NAME{tunnel="..."} VALUE, for a numeric KEY. */
static void
metric_tunnels(json_t *list, const char *name, const char *help,
    const char *type, const char *key)
{
	json_t	*t, *v;
	size_t	 i;

	metric_family(name, help, type);
	json_array_foreach(list, i, t) {
		if (!json_is_number(v = json_object_get(t, key)))
			continue;
		printf("%s{", name);
		metric_label("tunnel", jstr(t, "name", ""), 1);
		putchar('}');
		metric_value(v);
	}
}

/* The daemon's loop turns (status "loop"), if it reports them. */
static void
metric_loop(json_t *loop)
{
	const char	*key;
	json_t		*v;
	int		 ms;

	if (!json_is_object(loop))
		return;
	metric_family("tunsup_loop_turns_total", "Turns of tunsupd's event "
	    "loop.", "counter");
	printf("tunsup_loop_turns_total %.0f\n", jnum(loop, "turns", 0));
	metric_family("tunsup_loop_turns_over_total", "Loop turns longer than "
	    "ms milliseconds: nothing else was served meanwhile.", "counter");
	json_object_foreach(loop, key, v) {
		if (sscanf(key, "turns_over_%dms", &ms) == 1 &&
		    json_is_number(v))
			printf("tunsup_loop_turns_over_total{ms=\"%d\"} %.0f\n",
			    ms, json_number_value(v));
	}
	metric_family("tunsup_loop_longest_turn_seconds", "The longest loop "
	    "turn since tunsupd started.", "gauge");
	printf("tunsup_loop_longest_turn_seconds %.6f\n",
	    jnum(loop, "longest_turn_ms", 0) / 1000.0);
}

/* Names of a refused open's reasons in status, as label values. */
static const char *const metric_refusal_reasons[] = {
	"administratively prohibited", "connect failed",
	"unknown channel type", "resource shortage", "other",
};

/* Refused channel opens of the forwards that open channels (-L, -D). */
static void
metric_refusals(json_t *list)
{
	const struct fwd_kind_info *kind;
	json_t		*t, *f, *fwds, *counts;
	char		 label[64], *cp;
	size_t		 i, j, k;

	metric_family("tunsup_forward_opens_refused_total", "Channel opens "
	    "of the forward the server refused, by RFC 4254 reason.",
	    "counter");
	json_array_foreach(list, i, t) {
		fwds = json_object_get(t, "forwards");
		json_array_foreach(fwds, j, f) {
			kind = fwd_kind_by_name(jstr(f, "kind", ""));
			counts = json_object_get(f, "opens_refused");
			if (kind == NULL || !(kind->flags & FK_HERE) ||
			    !json_is_object(counts) ||
			    !metric_fwd_unique(fwds, j))
				continue;
			for (k = 0; k < nitems(metric_refusal_reasons); k++) {
				snprintf(label, sizeof(label), "%s",
				    metric_refusal_reasons[k]);
				for (cp = label; *cp != '\0'; cp++)
					*cp = *cp == ' ' ? '_' : *cp;
				printf("tunsup_forward_opens_refused_total{");
				metric_label("tunnel", jstr(t, "name", ""), 1);
				metric_label("kind", jstr(f, "kind", ""), 0);
				metric_label("listen", jstr(f, "listen", ""),
				    0);
				metric_label("reason", label, 0);
				printf("} %.0f\n", jnum(counts,
				    metric_refusal_reasons[k], 0));
			}
		}
	}
}

static void
metric_print(json_t *reply)
{
	const struct fwd_metric	*m;
	json_t			*list, *t, *f, *fwds, *rtt;
	const char		*state;
	size_t			 i, j, k;
	int			 known;

	list = json_object_get(reply, "tunnels");

	metric_family("tunsup_up", "Whether tunsupd answered on its control "
	    "socket.", "gauge");
	printf("tunsup_up 1\n");
	metric_family("tunsup_uptime_seconds", "Seconds since tunsupd "
	    "started.", "gauge");
	printf("tunsup_uptime_seconds %.3f\n", jnum(reply, "uptime_s", 0));
	metric_loop(json_object_get(reply, "loop"));

	metric_family("tunsup_tunnel_state", "Tunnel state: 1 for the "
	    "current state, 0 for the others.", "gauge");
	json_array_foreach(list, i, t) {
		state = jstr(t, "state", "");
		known = 0;
		for (k = 0; k < nitems(metric_states); k++) {
			known |= strcmp(state, metric_states[k]) == 0;
			printf("tunsup_tunnel_state{");
			metric_label("tunnel", jstr(t, "name", ""), 1);
			metric_label("state", metric_states[k], 0);
			printf("} %d\n", strcmp(state, metric_states[k]) == 0);
		}
		if (!known && *state != '\0') {
			printf("tunsup_tunnel_state{");
			metric_label("tunnel", jstr(t, "name", ""), 1);
			metric_label("state", state, 0);
			printf("} 1\n");
		}
	}
	metric_tunnels(list, "tunsup_tunnel_connects_total", "SSH sessions "
	    "established.", "counter", "connects");
	metric_tunnels(list, "tunsup_tunnel_failures_total", "Connection "
	    "attempts and sessions that failed.", "counter", "failures");

	metric_family("tunsup_tunnel_keepalive_rtt_seconds", "Round trip "
	    "time of the last keepalive answered (absent until one is).",
	    "gauge");
	json_array_foreach(list, i, t) {
		rtt = json_object_get(json_object_get(t, "keepalive"),
		    "rtt_ms");
		if (!json_is_number(rtt))
			continue;
		printf("tunsup_tunnel_keepalive_rtt_seconds{");
		metric_label("tunnel", jstr(t, "name", ""), 1);
		printf("} %.9g\n", json_number_value(rtt) / 1000.0);
	}

	metric_family("tunsup_forward_up", "Whether the forward is "
	    "established.", "gauge");
	json_array_foreach(list, i, t) {
		fwds = json_object_get(t, "forwards");
		json_array_foreach(fwds, j, f) {
			if (!metric_fwd_unique(fwds, j))
				continue;
			metric_fwd_labels("tunsup_forward_up", t, f);
			printf(" %d\n", strcmp(jstr(f, "state", ""), "up") == 0);
		}
	}
	metric_refusals(list);
	for (k = 0; k < nitems(fwd_metrics); k++) {
		m = &fwd_metrics[k];
		metric_family(m->name, m->help, m->type);
		json_array_foreach(list, i, t) {
			fwds = json_object_get(t, "forwards");
			json_array_foreach(fwds, j, f) {
				if (!metric_fwd_unique(fwds, j) ||
				    !json_is_number(json_object_get(f, m->key)))
					continue;
				metric_fwd_labels(m->name, t, f);
				metric_value(json_object_get(f, m->key));
			}
		}
	}
}

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
		metric_family("tunsup_up", "Whether tunsupd answered on its "
		    "control socket.", "gauge");
		printf("tunsup_up 0\n");
		return EXIT_NODAEMON;
	}
	conn_open(REPLY_TIMEOUT_S);
	reply = get_status(argc - 1, argv + 1, NULL, &status);
	if (status == 0)
		metric_print(reply);
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
	const struct client_cmd	*cc = NULL;
	size_t			 i;
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
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage_error("missing command");
	for (i = 0; i < nitems(client_cmds); i++) {
		if (strcmp(client_cmds[i].name, argv[0]) == 0)
			cc = &client_cmds[i];
	}
	if (cc == NULL)
		usage_error("unknown command: %s", argv[0]);
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
