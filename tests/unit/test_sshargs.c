/*
 * test_sshargs.c: ssh command lines as tunnel blocks (sshargs.c), checked
 * through the configuration parser: the block of a command line must mean
 * the same tunnel as the lines a user would write for it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cfg.h"
#include "sshargs.h"
#include "util.h"

#define MAXARGS	32

static char	home[] = "/tmp";

static void
setup(void)
{
	/* The parser fills in default identities from $HOME/.ssh. */
	setenv("HOME", home, 1);
	unsetenv("SSH_AUTH_SOCK");
}

TestSuite(sshargs, .init = setup);

/* Split a command line at spaces (no quoting: the tests need none). */
static int
split(const char *line, char **argv, char **buf)
{
	char	*cp, *word;
	int	 argc = 0;

	*buf = xstrdup(line);
	for (cp = *buf; (word = strsep(&cp, " ")) != NULL;) {
		if (*word == '\0')
			continue;
		cr_assert_lt(argc, MAXARGS);
		argv[argc++] = word;
	}
	return argc;
}

/* The block of a command line; its note in *note (may be NULL). */
static char *
translate(const char *line, char **note)
{
	char	*argv[MAXARGS], *buf, *block, *err, *n;
	int	 argc;

	argc = split(line, argv, &buf);
	cr_assert_eq(sshargs_translate(argc, argv, &block, &n, &err), 0,
	    "%s: %s", line, err);
	cr_assert_null(err);
	free(buf);
	if (note != NULL)
		*note = n;
	else
		free(n);
	return block;
}

static struct tunnel_spec *
parse(const char *text)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct tunnel_spec	*t;
	char			*msg;

	t = cfg_parse_tunnel(NULL, "t", text, &errs);
	msg = cfg_errors_join(&errs);
	cr_assert_not_null(t, "%s: %s", text, msg != NULL ? msg : "?");
	free(msg);
	cfg_errors_clear(&errs);
	return t;
}

/* The command line means the same tunnel as the config lines. */
static void
expect_same(const char *line, const char *config)
{
	struct tunnel_spec	*a, *b;
	char			*block, *da, *db;

	block = translate(line, NULL);
	a = parse(block);
	b = parse(config);
	da = tunnel_spec_dump(a);
	db = tunnel_spec_dump(b);
	cr_assert_str_eq(da, db, "%s\nblock:\n%s", line, block);
	cr_assert(tunnel_spec_equal(a, b), "%s", line);
	free(da);
	free(db);
	tunnel_spec_free(a);
	tunnel_spec_free(b);
	free(block);
}

static void
expect_error(const char *line, const char *want)
{
	char	*argv[MAXARGS], *buf, *block, *note, *err;
	int	 argc;

	argc = split(line, argv, &buf);
	cr_assert_eq(sshargs_translate(argc, argv, &block, &note, &err), -1,
	    "%s accepted", line);
	cr_assert_null(block);
	cr_assert_null(note);
	cr_assert_not_null(err);
	cr_assert_str_eq(err, want, "%s", line);
	free(err);
	free(buf);
}

Test(sshargs, autossh_bridge_line)
{
	char	*block, *note;

	/* The bridge guide's line, autossh's -M included. */
	block = translate("-M 0 -N -R 2220:localhost:22 tunnel@vpn -p 22",
	    &note);
	cr_assert_str_eq(block, "RemoteForward 2220:localhost:22\n"
	    "User tunnel\nHostName vpn\nPort 22\n");
	cr_assert_str_eq(note, "autossh -M ignored: tunsupd probes liveness "
	    "itself");
	free(block);
	free(note);
	expect_same("-M 0 -N -R 2220:localhost:22 tunnel@vpn -p 22",
	    "RemoteForward 2220 localhost:22\nUser tunnel\nHostName vpn\n"
	    "Port 22\n");
}

Test(sshargs, forwards_as_ssh_reads_them)
{
	expect_same("-L 8080:db:5432 -L :8081:db:5432 -L [::1]:8082:[::1]:22 "
	    "-L /tmp/l.sock:db:5432 -L 8083:/run/db.sock h",
	    "LocalForward 8080 db:5432\nLocalForward *:8081 db:5432\n"
	    "LocalForward [::1]:8082 [::1]:22\n"
	    "LocalForward /tmp/l.sock db:5432\n"
	    "LocalForward 8083 /run/db.sock\nHostName h\n");
	expect_same("-R 2220:localhost:22 -R 0.0.0.0:2221:localhost:22 "
	    "-R 1080 -R :1081 h",
	    "RemoteForward 2220 localhost:22\n"
	    "RemoteForward 0.0.0.0:2221 localhost:22\n"
	    "RemoteForward 1080\nRemoteForward *:1081\nHostName h\n");
	expect_same("-D 1080 -D 127.0.0.2:1081 -D :1082 h",
	    "DynamicForward 1080\nDynamicForward 127.0.0.2:1081\n"
	    "DynamicForward *:1082\nHostName h\n");
}

Test(sshargs, options_and_flags)
{
	/* Combined flags, attached arguments, options after the host. */
	expect_same("-fNTgC -p2222 -i/k/id -l bob -J jump@bastion:2200 "
	    "-c aes128-gcm@openssh.com h -F none",
	    "GatewayPorts yes\nCompression yes\nPort 2222\n"
	    "IdentityFile /k/id\nUser bob\nProxyJump jump@bastion:2200\n"
	    "Ciphers aes128-gcm@openssh.com\nHostName h\nSshConfig none\n");
	/* -o as Key=Value and as "Key Value"; -- is ignored. */
	expect_same("-o ServerAliveInterval=5 -o StrictHostKeyChecking=accept-new "
	    "-- h",
	    "ServerAliveInterval 5\nStrictHostKeyChecking accept-new\n"
	    "HostName h\n");
	expect_same("-qvn ssh://alice@[::1]:2200",
	    "User alice\nHostName ::1\nPort 2200\n");
	/* Values the parser would split or unquote: quoted and escaped. */
	expect_same("-i /k/it's -i /k/a\\b -i /k/#1 h",
	    "IdentityFile \"/k/it's\"\nIdentityFile \"/k/a\\\\b\"\n"
	    "IdentityFile \"/k/#1\"\nHostName h\n");
}

Test(sshargs, errors)
{
	expect_error("-X h", "unsupported ssh option -X");
	expect_error("-fX h", "unsupported ssh option -X");
	expect_error("h -p", "option -p needs an argument");
	expect_error("-N", "missing [user@]host");
	expect_error("h uptime", "unexpected argument uptime (remote commands "
	    "are not supported)");
	expect_error("@h", "empty user in @h");
	expect_error("bob@", "empty host in bob@");
	expect_error("-o =x h", "bad -o option: =x");
	expect_error("-o Port h", "-o Port needs a value");
	expect_error("-l a\"b h", "cannot express a value with a double quote "
	    "or a newline: a\"b");
	expect_error("-L nonsense h", "bad forwarding specification -L "
	    "nonsense: LocalForward: missing target (expected host:port or "
	    "/unix/socket)");
	expect_error("-D 1080:h:22 h", "bad forwarding specification -D "
	    "1080:h:22: DynamicForward: bad listen address '1080:h:22' (IPv6 "
	    "addresses go in brackets: [::1]:8080)");
}
