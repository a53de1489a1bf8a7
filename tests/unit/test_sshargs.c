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
 * test_sshargs.c: ssh command lines as tunnel blocks (sshargs.c), checked
 * through the configuration parser: the block of a command line must mean
 * the same tunnel as the lines a user would write for it.
 */
#include "config.h"

#include <stdio.h>
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

/* The translation of a command line, which must succeed. */
static void
translate_sa(const char *line, struct sshargs *sa)
{
	char	*argv[MAXARGS], *buf, *err;
	int	 argc;

	argc = split(line, argv, &buf);
	cr_assert_eq(sshargs_parse(sa, argc, argv, "/home/u", &err), 0,
	    "%s: %s", line, err);
	cr_assert_null(err);
	free(buf);
}

/* The block of a command line; its notes in *note (may be NULL). */
static char *
translate(const char *line, char **note)
{
	struct sshargs	 sa;
	char		*block;

	translate_sa(line, &sa);
	block = sshargs_block(&sa, "");
	if (note != NULL) {
		*note = sa.notes;
		sa.notes = NULL;
	}
	sshargs_clear(&sa);
	return block;
}

static struct tunnel_spec *
parse(const char *text)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct tunnel_spec	*t;
	char			*msg;

	t = cfg_parse_tunnel(NULL, "t", text, &errs, NULL);
	msg = cfg_errors_join(&errs);
	cr_assert_not_null(t, "%s: %s", text, msg != NULL ? msg : "?");
	free(msg);
	cfg_errors_clear(&errs);
	return t;
}

/*
 * The command line's lines through the parser, as the daemon reads them:
 * the spec, or NULL with the messages in *msg.
 */
static struct tunnel_spec *
parse_line_of(const char *line, char **msg)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct tunnel_spec	*t;
	struct sshargs		 sa;

	translate_sa(line, &sa);
	t = cfg_parse_tunnel_lines(NULL, "t", "tunsupctl add", 0, sa.lines,
	    sa.nlines, &errs, NULL);
	*msg = cfg_errors_join(&errs);
	cfg_errors_clear(&errs);
	sshargs_clear(&sa);
	return t;
}

/* The command line means the same tunnel as the config lines. */
static void
expect_same(const char *line, const char *config)
{
	struct tunnel_spec	*a, *b;
	char			*da, *db, *msg;

	a = parse_line_of(line, &msg);
	cr_assert_not_null(a, "%s: %s", line, msg);
	b = parse(config);
	da = tunnel_spec_dump(a);
	db = tunnel_spec_dump(b);
	cr_assert_str_eq(da, db, "%s", line);
	cr_assert(tunnel_spec_equal(a, b), "%s", line);
	free(da);
	free(db);
	tunnel_spec_free(a);
	tunnel_spec_free(b);
}

/* Refused by the translation, with this message. */
static void
expect_error(const char *line, const char *want)
{
	struct sshargs	 sa;
	char		*argv[MAXARGS], *buf, *err;
	int		 argc;

	argc = split(line, argv, &buf);
	cr_assert_eq(sshargs_parse(&sa, argc, argv, NULL, &err), -1,
	    "%s accepted", line);
	cr_assert_null(sa.lines);
	cr_assert_null(sa.notes);
	cr_assert_not_null(err);
	cr_assert_str_eq(err, want, "%s", line);
	free(err);
	free(buf);
}

/* Translated, then refused by the parser with this message. */
static void
expect_refused(const char *line, const char *want)
{
	struct tunnel_spec	*t;
	char			*msg;

	t = parse_line_of(line, &msg);
	cr_assert_null(t, "%s accepted", line);
	cr_assert_not_null(msg);
	cr_assert_str_eq(msg, want, "%s", line);
	free(msg);
}

/* The notes of a line hold want. */
static void
expect_note(const char *line, const char *want)
{
	char	*block, *note;

	block = translate(line, &note);
	cr_assert_not_null(note, "%s: no note", line);
	cr_assert_not_null(strstr(note, want), "%s: notes:\n%s", line, note);
	free(block);
	free(note);
}

Test(sshargs, autossh_bridge_line)
{
	char	*block, *note;

	/* The bridge guide's line, autossh's -M included. */
	block = translate("-M 0 -N -R 2220:localhost:22 tunnel@vpn -p 22",
	    &note);
	cr_assert_str_eq(block, "RemoteForward 2220:localhost:22\n"
	    "User tunnel\nHostName vpn\nPort 22\n");
	cr_assert_str_eq(note, "-M 0: ignored: tunsupd probes the session "
	    "itself (ServerAliveInterval) and each forward (ForwardProbe)");
	free(block);
	free(note);
	expect_same("-M 0 -N -R 2220:localhost:22 tunnel@vpn -p 22",
	    "RemoteForward 2220 localhost:22\nUser tunnel\nHostName vpn\n"
	    "Port 22\n");
}

/* Lines as guides print them, with the program and its environment. */
Test(sshargs, pasted_with_the_program)
{
	char	*block, *note;

	expect_same("autossh -M 0 -f -N -o ServerAliveInterval=30 "
	    "-o ServerAliveCountMax=3 -R 2222:localhost:22 user@host -p 2200 "
	    "-i key",
	    "ServerAliveInterval 30\nServerAliveCountMax 3\n"
	    "RemoteForward 2222 localhost:22\nUser user\nHostName host\n"
	    "Port 2200\nIdentityFile /home/u/key\n");
	expect_same("/usr/bin/autossh -M 20000 -N -L 8080:db:5432 host",
	    "LocalForward 8080 db:5432\nHostName host\n");
	expect_same("ssh -N -T -L 8080:db:5432 bob@host",
	    "LocalForward 8080 db:5432\nUser bob\nHostName host\n");
	expect_same("/usr/local/bin/ssh -nNf host", "HostName host\n");
	/* A host named ssh is a host when nothing follows. */
	expect_same("ssh", "HostName ssh\n");

	/* autossh's poll is ServerAliveInterval while it monitors... */
	block = translate("AUTOSSH_GATETIME=0 AUTOSSH_POLL=30 /usr/bin/autossh "
	    "-M 20000 -N host", &note);
	cr_assert_str_eq(block, "HostName host\nServerAliveInterval 30\n");
	cr_assert_str_eq(note, "AUTOSSH_GATETIME=0: ignored: tunsupd retries "
	    "a failed first attempt too, with backoff (RetryMin, RetryMax)\n"
	    "-M 20000: ignored: tunsupd probes the session itself "
	    "(ServerAliveInterval) and each forward (ForwardProbe)\n"
	    "AUTOSSH_POLL=30: taken as ServerAliveInterval, unless the line "
	    "sets that");
	free(block);
	free(note);
	/* ...the line's own value first... */
	expect_same("AUTOSSH_POLL=30 autossh -M 20000 -o ServerAliveInterval=5 "
	    "host", "ServerAliveInterval 5\nHostName host\n");
	expect_same("AUTOSSH_PORT=20000 AUTOSSH_POLL=7 autossh host",
	    "ServerAliveInterval 7\nHostName host\n");
	/* ...and nothing without a monitoring port. */
	expect_note("AUTOSSH_POLL=30 autossh -M 0 host", "AUTOSSH_POLL=30: "
	    "ignored: without a monitoring port (-M 0) autossh polls nothing");
	expect_same("AUTOSSH_POLL=30 autossh -M 0 host", "HostName host\n");
	expect_same("SSH_AUTH_SOCK=/run/a.sock ssh host",
	    "IdentityAgent /run/a.sock\nHostName host\n");
}

/* ssh's -M is a flag (connection sharing); autossh's takes a port. */
Test(sshargs, dash_m_by_program)
{
	expect_same("ssh -M -N host", "HostName host\n");
	expect_note("ssh -M -N host", "-M: ignored: tunsupd holds one session "
	    "per tunnel itself");
	expect_same("autossh -M 20000:20001 host", "HostName host\n");
	expect_error("autossh -M x host", "-M x: expected autossh's -M "
	    "port[:echo_port]");
}

/* Every option of ssh(1) is known: a keyword, a note or a refusal. */
Test(sshargs, every_ssh_option)
{
	static const char	 flags[] = "46AaCfGgKkMNnqsTtVvXxYy";
	static const char	 with_arg[] = "BbcDEeFIiJLlmOoPpQRSWw";
	struct sshargs		 sa;
	char			*argv[3], opt[3], *err;
	const char		*s;
	int			 r;

	for (s = flags; *s != '\0'; s++) {
		snprintf(opt, sizeof(opt), "-%c", *s);
		argv[0] = "ssh";
		argv[1] = opt;
		argv[2] = "host";
		r = sshargs_parse(&sa, 3, argv, NULL, &err);
		cr_assert(r == 0 || strstr(err, ": refused: ") != NULL,
		    "%s: %s", opt, err);
		if (r == 0)
			sshargs_clear(&sa);
		free(err);
	}
	for (s = with_arg; *s != '\0'; s++) {
		snprintf(opt, sizeof(opt), "-%c", *s);
		argv[0] = opt;
		argv[1] = "1";
		argv[2] = "host";
		r = sshargs_parse(&sa, 3, argv, NULL, &err);
		cr_assert(r == 0 || strstr(err, ": refused: ") != NULL ||
		    strstr(err, " needs a value") != NULL, "%s: %s", opt, err);
		if (r == 0)
			sshargs_clear(&sa);
		free(err);
	}
	expect_error("-Z h", "-Z: unknown ssh option");
	expect_error("-ZN h", "-Z (in -ZN): unknown ssh option");
}

/* What tunsupd does anyway passes; what means nothing here is a note. */
Test(sshargs, no_meaning_for_a_tunnel)
{
	char	*block, *note;

	expect_same("ssh -a -x -k -N -T -n -f host", "HostName host\n");
	expect_note("ssh -v -v -N host", "-v: ignored: tunsupd logs to its "
	    "standard error or syslog (tunsupd -v, -q)");
	expect_note("ssh -E /tmp/ssh.log host", "-E /tmp/ssh.log: ignored");
	expect_note("ssh -NX host", "-X (in -NX): ignored: tunsupd runs no "
	    "command that would use X11");
	expect_note("ssh -S /tmp/ctl host", "-S /tmp/ctl: ignored: tunsupd "
	    "holds one session per tunnel itself");
	expect_same("ssh -o BatchMode=yes -o ForwardAgent=no host",
	    "HostName host\n");
	expect_same("ssh -v -q -E /tmp/l -t host", "HostName host\n");
	/* A note once, however often the option is given. */
	block = translate("ssh -v -v -vv -v host", &note);
	cr_assert_str_eq(note, "-v: ignored: tunsupd logs to its standard "
	    "error or syslog (tunsupd -v, -q)\n-v (in -vv): ignored: tunsupd "
	    "logs to its standard error or syslog (tunsupd -v, -q)");
	free(block);
	free(note);
}

/* -4, -6, -b and TCPKeepAlive: the parser's keywords where it has them. */
Test(sshargs, keywords_or_notes)
{
	struct tunnel_spec	*t;
	char			*block, *note, *msg;

	block = translate("ssh -4 -b 127.0.0.1 -o TCPKeepAlive=no -N host",
	    &note);
	if (cfg_keyword_known("AddressFamily"))
		cr_assert_not_null(strstr(block, "AddressFamily inet\n"));
	else
		cr_assert_not_null(strstr(note, "-4: ignored"));
	if (cfg_keyword_known("TCPKeepAlive"))
		cr_assert_not_null(strstr(block, "TCPKeepAlive no\n"));
	else
		cr_assert_not_null(strstr(note, "-o TCPKeepAlive=no: ignored"));
	free(block);
	free(note);
	t = parse_line_of("ssh -4 -b 127.0.0.1 -o TCPKeepAlive=no -N host",
	    &msg);
	cr_assert_not_null(t, "%s", msg);
	tunnel_spec_free(t);
}

/* Relative paths are the user's directory's. */
Test(sshargs, relative_paths)
{
	expect_same("-i key -i /abs/k -i ~/k host",
	    "IdentityFile /home/u/key\nIdentityFile /abs/k\n"
	    "IdentityFile ~/k\nHostName host\n");
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
	expect_error("h -p", "-p: needs an argument");
	expect_error("h -Np", "-p (in -Np): needs an argument");
	expect_error("-N", "missing [user@]host");
	expect_error("h uptime", "uptime: refused: tunsupd runs no remote "
	    "command");
	expect_error("@h", "@h: empty user");
	expect_error("bob@", "bob@: empty host");
	expect_error("-o =x h", "-o =x: expected -o Keyword=value");
	expect_error("-o Port h", "-o Port: Port needs a value");
	expect_error("-o Tunnel=yes h", "-o Tunnel=yes: refused: tun devices "
	    "are not supported");
}

/* A refusal quotes the user's words and says why. */
Test(sshargs, refusals_quote_the_words)
{
	expect_error("autossh -M 0 -NfA host", "-A (in -NfA): refused: tunsupd "
	    "never forwards an agent: the server could use your keys while "
	    "the tunnel is up");
	expect_error("ssh -A host", "-A: refused: tunsupd never forwards an "
	    "agent: the server could use your keys while the tunnel is up");
	expect_error("ssh -W db:5432 host", "-W db:5432: refused: it joins "
	    "standard input and output to a port, and a tunnel has neither: "
	    "use -L, or ProxyJump to go through a host");
	expect_error("ssh -Wdb:5432 host", "-Wdb:5432: refused: it joins "
	    "standard input and output to a port, and a tunnel has neither: "
	    "use -L, or ProxyJump to go through a host");
	expect_error("ssh -Nw 0:0 host", "-w 0:0 (in -Nw): refused: tun devices "
	    "are not supported");
	expect_error("FOO=1 ssh host", "FOO=1: refused: neither autossh nor "
	    "ssh reads FOO");
	expect_error("-fX -Z h", "-Z: unknown ssh option");
	/* The parser's messages name the words they are about. */
	expect_refused("ssh -o ServerAliveInterval=abc host", "-o "
	    "ServerAliveInterval=abc: ServerAliveInterval: expected a time "
	    "such as 30, 30s, 5m, 1h30m or 500ms, got 'abc'");
	expect_refused("ssh -p 0 host", "-p 0: Port: expected a number from 1 "
	    "to 65535, got '0'");
	expect_refused("ssh -L nonsense h", "-L nonsense: LocalForward: missing "
	    "target (expected host:port or /unix/socket)");
	expect_refused("ssh -D 1080:h:22 h", "-D 1080:h:22: DynamicForward: "
	    "bad listen address '1080:h:22' (IPv6 addresses go in brackets: "
	    "[::1]:8080)");
	expect_refused("ssh -L 8080:a:1 -L 8080:b:2 h", "tunsupctl add: tunnel "
	    "t: two local forwards listen on localhost:8080");
}
