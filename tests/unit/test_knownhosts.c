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
 * test_knownhosts.c: known_hosts host patterns, marker lines and appends
 * (knownhosts.c). The hashed entries were made by OpenSSH's ssh-keygen -H.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "knownhosts.h"

#define K1	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMCkIgT3rOqdfCZjCENQALFf" \
		"tfFmZOAF3u7Wv7e6GPHy"
#define K2	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHF2cEomB5KwpgzE6V78eq66" \
		"UMz84RurzcLO8/7QxvuZ"
/* ssh-keygen -t rsa -b 1024: a key of another type */
#define RSA_BLOB	"AAAAB3NzaC1yc2EAAAADAQABAAAAgQDClIxDhBI47wjVeZFnPHFG1Ufe5gdP" \
	"u/PWxA4DcsnDRwhhDgPs7sMZr+d/t99bHi1cEMNax4J9moqeoCgG+xoXe+zz" \
	"ljAfrhm6UgEsPFDVll0sXtnpzcsZet9Bj9wJHk6GKbMQgHW/1zdtkV849o85" \
	"D5j3W4HnztJjNA/GoWHXjQ=="
/* ssh-keygen -H of "example.com" and "[127.0.0.1]:2222" */
#define H_EXAMPLE	"|1|0Tn4uqwRnfsX4HG+uc+yXdyWZgA=|" \
			"eHQPltPTMyhvCpx8rswbU7uUpKM="
#define H_LOOPBACK	"|1|Y1HWR3oz5jut32SHwYTpXopYRsQ=|" \
			"HqbE2IXcQ1mb4vig++DGbR04qaw="

static char	 dir[] = "/tmp/t_knownhosts.XXXXXX";

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char	*cmd;

	cr_assert(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
}

static char *
path_in(const char *name)
{
	char	*p;

	cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static char *
write_file(const char *name, const char *text)
{
	char	*p = path_in(name);
	FILE	*f;

	cr_assert_not_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
	return p;
}

static char *
read_file(const char *p)
{
	static char	 buf[8192];
	FILE		*f;
	size_t		 n;

	cr_assert_not_null(f = fopen(p, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The public key of a K1/K2 line. */
static ssh_key
key_of(const char *line)
{
	ssh_key	 k = NULL;

	cr_assert_eq(ssh_pki_import_pubkey_base64(strchr(line, ' ') + 1,
	    SSH_KEYTYPE_ED25519, &k), SSH_OK);
	return k;
}

Test(kh, lookup_name)
{
	char	*n;

	n = kh_lookup_name("Example.COM", 22);
	cr_assert_str_eq(n, "example.com");
	free(n);
	n = kh_lookup_name("127.0.0.1", 2222);
	cr_assert_str_eq(n, "[127.0.0.1]:2222");
	free(n);
}

Test(kh, patterns)
{
	cr_assert(kh_host_match("example.com", "example.com"));
	cr_assert(kh_host_match("EXAMPLE.com", "example.com"));
	cr_assert_not(kh_host_match("example.com", "example.org"));
	cr_assert(kh_host_match("a.org,example.com,b.org", "example.com"));
	cr_assert(kh_host_match("*.example.com", "www.example.com"));
	cr_assert_not(kh_host_match("*.example.com", "example.com"));
	cr_assert(kh_host_match("*", "anything"));
	cr_assert(kh_host_match("host?", "host1"));
	cr_assert_not(kh_host_match("host?", "host12"));
	cr_assert(kh_host_match("h*t*z", "hxxtyyz"));
	cr_assert_not(kh_host_match("h*t*z", "hxxtyy"));
	/* a negated match wins, wherever it stands */
	cr_assert_not(kh_host_match("*.example.com,!bad.example.com",
	    "bad.example.com"));
	cr_assert_not(kh_host_match("!bad.example.com,*.example.com",
	    "bad.example.com"));
	cr_assert(kh_host_match("*.example.com,!bad.example.com",
	    "ok.example.com"));
	/* a negation alone matches nothing */
	cr_assert_not(kh_host_match("!bad", "good"));
	/* ports: the bracketed form is a name of its own */
	cr_assert(kh_host_match("[127.0.0.1]:2222", "[127.0.0.1]:2222"));
	cr_assert_not(kh_host_match("127.0.0.1", "[127.0.0.1]:2222"));
	cr_assert_not(kh_host_match("[127.0.0.1]:2222", "127.0.0.1"));
	cr_assert(kh_host_match("[127.0.0.*]:*", "[127.0.0.1]:2222"));
	cr_assert_not(kh_host_match("", "x"));
	cr_assert_not(kh_host_match(",,", "x"));
}

/* Stars backtrack one at a time: no exponential blow-up. */
Test(kh, pattern_backtracking, .timeout = 2)
{
	char	 name[201], pat[201];
	int	 i;

	memset(name, 'a', 200);
	name[200] = '\0';
	for (i = 0; i < 100; i++) {
		pat[2 * i] = '*';
		pat[2 * i + 1] = 'a';
	}
	pat[199] = 'b';
	pat[200] = '\0';
	cr_assert_not(kh_host_match(pat, name));
	pat[199] = 'a';
	cr_assert(kh_host_match(pat, name));
	cr_assert(kh_host_match("*a*?*a", "xxaxxxaxa"));
	cr_assert_not(kh_host_match("*a*?*a", "xxaxxxax"));
}

Test(kh, hashed)
{
	cr_assert(kh_host_match(H_EXAMPLE, "example.com"));
	cr_assert_not(kh_host_match(H_EXAMPLE, "example.org"));
	cr_assert(kh_host_match(H_LOOPBACK, "[127.0.0.1]:2222"));
	cr_assert_not(kh_host_match(H_LOOPBACK, "127.0.0.1"));
	/* damaged entries match nothing */
	cr_assert_not(kh_host_match("|1|", "example.com"));
	cr_assert_not(kh_host_match("|1|abc", "example.com"));
	cr_assert_not(kh_host_match("|1|0Tn4uqwRnfsX4HG+uc+yXdyWZgA=|", "x"));
	cr_assert_not(kh_host_match("|1|***|eHQPltPTMyhvCpx8rswbU7uUpKM=",
	    "example.com"));
}

Test(kh, parse_lines)
{
	struct kh_entry	 e;
	char		 buf[512];

#define PARSE(s)	(snprintf(buf, sizeof(buf), "%s", s), \
			    kh_parse_line(buf, &e))
	cr_assert_eq(PARSE(""), KH_LINE_BLANK);
	cr_assert_eq(PARSE("   \t\n"), KH_LINE_BLANK);
	cr_assert_eq(PARSE("# comment"), KH_LINE_BLANK);
	cr_assert_eq(PARSE("#!/bin/sh"), KH_LINE_BLANK);
	cr_assert_eq(PARSE("example.com " K1), KH_LINE_ENTRY);
	cr_assert_eq(e.marker, KH_MARK_NONE);
	cr_assert_str_eq(e.hosts, "example.com");
	cr_assert_str_eq(e.type, "ssh-ed25519");
	cr_assert_eq(PARSE("example.com " K1 " a comment\r\n"), KH_LINE_ENTRY);
	cr_assert_eq(PARSE("@revoked * " K1), KH_LINE_ENTRY);
	cr_assert_eq(e.marker, KH_MARK_REVOKED);
	cr_assert_str_eq(e.hosts, "*");
	cr_assert_eq(PARSE("  @cert-authority *.example.com " K1),
	    KH_LINE_ENTRY);
	cr_assert_eq(e.marker, KH_MARK_CERT_AUTHORITY);
	cr_assert_eq(PARSE(H_LOOPBACK " " K1), KH_LINE_ENTRY);
	/* what is not a known_hosts line */
	cr_assert_eq(PARSE("@other * " K1), KH_LINE_INVALID);
	cr_assert_eq(PARSE("@revoked " K1), KH_LINE_INVALID);
	/* authorized_keys lines */
	cr_assert_eq(PARSE(K1 " user@host"), KH_LINE_INVALID);
	cr_assert_eq(PARSE("command=\"/bin/sh\" " K1), KH_LINE_INVALID);
	cr_assert_eq(PARSE("restrict " K1), KH_LINE_INVALID);
	cr_assert_eq(PARSE("no-pty,no-agent-forwarding " K1), KH_LINE_INVALID);
	cr_assert_eq(PARSE("host.example,PTY " K1), KH_LINE_INVALID);
	cr_assert_eq(PARSE("pty.example.com,restricted " K1), KH_LINE_ENTRY);
	cr_assert_eq(PARSE("from=\"10.0.0.1\",no-pty " K1), KH_LINE_INVALID);
	cr_assert_eq(PARSE("root:x:0:0:root:/root:/bin/bash"), KH_LINE_INVALID);
	cr_assert_eq(PARSE("echo hello world"), KH_LINE_INVALID);
	cr_assert_eq(PARSE("example.com ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIMCk"),
	    KH_LINE_INVALID);	/* the blob says ed25519 */
	cr_assert_eq(PARSE("example.com ssh-ed25519 !!!!"), KH_LINE_INVALID);
	cr_assert_eq(PARSE("example.com ssh-ed25519"), KH_LINE_INVALID);
	cr_assert_eq(PARSE("|1|x|y " K1), KH_LINE_INVALID);
#undef PARSE
}

Test(kh, scan_markers, .init = setup, .fini = teardown)
{
	struct kh_marks	 m = { 0 };
	ssh_key		 k1 = key_of(K1), k2 = key_of(K2);
	char		*p, *want;

	p = write_file("kh",
	    "# test\n"
	    "example.com " K1 "\n"
	    "@revoked other.org " K1 "\n"
	    "@revoked *.example.com,!ok.example.com " K2 "\n"
	    "@cert-authority *.corp " K1 "\n"
	    "@revoked " H_LOOPBACK " " K1 "\n");
	kh_scan(p, "example.com", k1, &m);
	cr_assert_null(m.revoked);
	cr_assert_null(m.cert_authority);

	kh_scan(p, "www.example.com", k1, &m);
	cr_assert_null(m.revoked, "revoked is K2, not K1");
	kh_scan(p, "www.example.com", k2, &m);
	cr_assert(asprintf(&want, "%s:4", p) > 0);
	cr_assert_str_eq(m.revoked, want);
	free(want);
	kh_marks_clear(&m);
	kh_scan(p, "ok.example.com", k2, &m);
	cr_assert_null(m.revoked, "negated");

	kh_scan(p, "build.corp", k2, &m);
	cr_assert(asprintf(&want, "%s:5", p) > 0);
	cr_assert_str_eq(m.cert_authority, want);
	free(want);
	cr_assert_null(m.revoked);
	kh_marks_clear(&m);

	kh_scan(p, "[127.0.0.1]:2222", k1, &m);
	cr_assert(asprintf(&want, "%s:6", p) > 0);
	cr_assert_str_eq(m.revoked, want, "a hashed @revoked line");
	free(want);
	kh_marks_clear(&m);

	/* absent, or not a regular file: nothing, and no wait on a FIFO */
	kh_scan("/nonexistent/kh", "example.com", k1, &m);
	kh_scan("/dev/null", "example.com", k1, &m);
	free(p);
	p = path_in("fifo");
	cr_assert_eq(mkfifo(p, 0600), 0);
	kh_scan(p, "example.com", k1, &m);
	cr_assert_null(m.revoked);
	free(p);
	ssh_key_free(k1);
	ssh_key_free(k2);
}

static const char	*line = "[127.0.0.1]:2222 " K2 "\n";

Test(kh, append_known_hosts, .init = setup, .fini = teardown)
{
	char	*p, *why = NULL, *want;

	/* an existing known_hosts file, markers and hashed lines included */
	p = write_file("kh", "# mine\n\nexample.com " K1 "\n"
	    "@revoked * " K1 "\n" H_EXAMPLE " " K1 "\n");
	cr_assert_eq(kh_append(p, line, &why), 0, "%s", why);
	cr_assert(asprintf(&want, "# mine\n\nexample.com " K1 "\n"
	    "@revoked * " K1 "\n" H_EXAMPLE " " K1 "\n%s", line) > 0);
	cr_assert_str_eq(read_file(p), want);
	free(want);
	free(p);

	/* the last line had no newline: it does not swallow ours */
	p = write_file("nonl", "example.com " K1);
	cr_assert_eq(kh_append(p, line, &why), 0, "%s", why);
	cr_assert(asprintf(&want, "example.com " K1 "\n%s", line) > 0);
	cr_assert_str_eq(read_file(p), want);
	free(want);
	free(p);

	/* empty, absent, absent in a missing directory */
	p = write_file("empty", "");
	cr_assert_eq(kh_append(p, line, &why), 0, "%s", why);
	cr_assert_str_eq(read_file(p), line);
	free(p);
	p = path_in("new");
	cr_assert_eq(kh_append(p, line, &why), 0, "%s", why);
	cr_assert_str_eq(read_file(p), line);
	free(p);
	p = path_in("sub/known_hosts");
	cr_assert_eq(kh_append(p, line, &why), 0, "%s", why);
	cr_assert_str_eq(read_file(p), line);
	free(p);
}

/* Refused: *why names the reason, and the file is unchanged. */
static void
refused(const char *name, const char *text, const char *reason)
{
	char	*p, *why = NULL;

	p = write_file(name, text);
	cr_assert_eq(kh_append(p, line, &why), -1, "%s accepted", name);
	cr_assert_not_null(strstr(why, reason), "%s: %s", name, why);
	cr_assert_str_eq(read_file(p), text);
	free(why);
	free(p);
}

Test(kh, append_refused, .init = setup, .fini = teardown)
{
	char	*p, *why = NULL, *target;

	refused("authorized_keys", K1 " user@host\n", "authorized_keys:1 is "
	    "not a known_hosts entry");
	refused("authorized_keys2", "example.com " K1 "\n"
	    "command=\"/bin/true\" " K1 "\n", "authorized_keys2:2 is not");
	refused("authorized_keys3", "example.com " K1 "\n"
	    "restrict,port-forwarding " K1 " tunnel\n", "authorized_keys3:2");
	refused("passwd", "root:x:0:0:root:/root:/bin/bash\n", "passwd:1");
	refused("script", "#!/bin/sh\necho pwned\n", "script:2");
	refused("binary", "example.com " K1 "\n\x7f" "ELF\x01\n", "binary:2");

	/* not a regular file */
	p = path_in("fifo");
	cr_assert_eq(mkfifo(p, 0600), 0);
	cr_assert_eq(kh_append(p, line, &why), -1);
	cr_assert_not_null(strstr(why, "not a regular file"), "%s", why);
	free(why);
	free(p);
	p = path_in("dir");
	cr_assert_eq(mkdir(p, 0700), 0);
	cr_assert_eq(kh_append(p, line, &why), -1);
	free(why);
	free(p);

	/* a link to nowhere is not created through */
	p = path_in("dangling");
	target = path_in("target");
	cr_assert_eq(symlink(target, p), 0);
	cr_assert_eq(kh_append(p, line, &why), -1);
	cr_assert_not_null(strstr(why, "symbolic link"), "%s", why);
	cr_assert_neq(access(target, F_OK), 0);
	free(why);
	free(target);
	free(p);
}

/* The plain entries decide as ssh does: same key, same type, other type. */
Test(kh, verdict, .init = setup, .fini = teardown)
{
	struct kh_marks	 m = { 0 };
	ssh_key		 k1 = key_of(K1), k2 = key_of(K2);
	char		*p, *want;

	p = write_file("kh",
	    "example.com " K1 "\n"
	    "my_host,other " K2 "\n"
	    "rsa.example ssh-rsa " RSA_BLOB "\n"
	    "@revoked bad.example " K1 "\n"
	    "bad.example " K1 "\n");
	kh_scan(p, "example.com", k1, &m);
	cr_assert_eq(kh_marks_verdict(&m), KH_KNOWN);
	cr_assert_str_eq(m.types, "ssh-ed25519");
	kh_marks_clear(&m);

	kh_scan(p, "example.com", k2, &m);
	cr_assert_eq(kh_marks_verdict(&m), KH_CHANGED);
	cr_assert(asprintf(&want, "%s:1", p) > 0);
	cr_assert_str_eq(m.changed, want);
	free(want);
	kh_marks_clear(&m);

	/* an underscore is a name like any other */
	kh_scan(p, "my_host", k2, &m);
	cr_assert_eq(kh_marks_verdict(&m), KH_KNOWN);
	kh_marks_clear(&m);

	kh_scan(p, "rsa.example", k1, &m);
	cr_assert_eq(kh_marks_verdict(&m), KH_OTHER);
	cr_assert_str_eq(m.types, "ssh-rsa");
	kh_marks_clear(&m);

	kh_scan(p, "nowhere.example", k1, &m);
	cr_assert_eq(kh_marks_verdict(&m), KH_UNKNOWN);
	cr_assert_null(m.types);
	kh_marks_clear(&m);

	/* @revoked wins over an entry with the same key */
	kh_scan(p, "bad.example", k1, &m);
	cr_assert_eq(kh_marks_verdict(&m), KH_REVOKED);
	kh_marks_clear(&m);

	/* a type is listed once, however many files say it */
	kh_scan(p, "example.com", NULL, &m);
	kh_scan(p, "example.com", NULL, &m);
	cr_assert_str_eq(m.types, "ssh-ed25519");
	kh_marks_clear(&m);
	ssh_key_free(k1);
	ssh_key_free(k2);
	free(p);
}

/* A learned entry reads back, in clear or hashed (HashKnownHosts). */
Test(kh, entry_line, .init = setup, .fini = teardown)
{
	struct kh_marks	 m = { 0 };
	struct kh_entry	 e;
	ssh_key		 k1 = key_of(K1);
	char		*ln, *copy, *p;

	ln = kh_entry_line("[my_host]:2222", k1, 0);
	cr_assert_str_eq(ln, "[my_host]:2222 " K1 "\n");
	free(ln);

	ln = kh_entry_line("[my_host]:2222", k1, 1);
	cr_assert_eq(strncmp(ln, "|1|", 3), 0, "%s", ln);
	cr_assert_null(strstr(ln, "my_host"));
	copy = strdup(ln);
	cr_assert_eq(kh_parse_line(copy, &e), KH_LINE_ENTRY, "%s", ln);
	cr_assert(kh_host_match(e.hosts, "[my_host]:2222"));
	cr_assert_not(kh_host_match(e.hosts, "my_host"));
	free(copy);
	p = write_file("kh", ln);
	kh_scan(p, "[my_host]:2222", k1, &m);
	cr_assert_eq(kh_marks_verdict(&m), KH_KNOWN);
	kh_marks_clear(&m);
	free(ln);
	free(p);
	ssh_key_free(k1);
}
