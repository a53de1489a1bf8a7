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
 * test_cfg.c: the configuration parser (cfg.c).
 *
 * Every test runs with HOME set to a fresh temporary directory and no
 * SSH_AUTH_SOCK, so nothing depends on the user's real ~/.ssh.
 */
#include "config.h"

#include <sys/stat.h>

#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "util.h"
#include "unit.h"

#define TPATH	1024

static char	home[64];

static void
rm_tree(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	char		 sub[TPATH];

	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
			rm_tree(sub);
		}
		closedir(d);
		rmdir(path);
	} else
		unlink(path);
}

static void
setup(void)
{
	strcpy(home, "/tmp/t_cfg.XXXXXX");
	cr_assert_not_null(mkdtemp(home));
	setenv("HOME", home, 1);
	unsetenv("SSH_AUTH_SOCK");
}

static void
teardown(void)
{
	rm_tree(home);
}

TestSuite(cfg, .init = setup, .fini = teardown);

/* Write HOME/rel (its directory must exist); returns the full path. */
static char *
write_file(const char *rel, const char *text)
{
	static char	 path[TPATH];
	FILE		*f;

	snprintf(path, sizeof path, "%s/%s", home, rel);
	cr_assert_not_null(f = fopen(path, "w"), "%s", path);
	fputs(text, f);
	fclose(f);
	return path;
}

static void
make_dir(const char *rel)
{
	char	path[TPATH];

	snprintf(path, sizeof path, "%s/%s", home, rel);
	cr_assert_eq(mkdir(path, 0700), 0, "%s", path);
}

static struct cfg *
load_ok(const char *text)
{
	return unit_cfg("t.conf", text);
}

/* Load text that must fail; returns all messages joined (caller frees). */
static char *
load_err(const char *text)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct cfg		*cfg;
	char			*msg;

	cfg = cfg_load_string("t.conf", text, &errs);
	cr_assert_null(cfg, "expected an error for:\n%s", text);
	msg = cfg_errors_join(&errs);
	cr_assert_not_null(msg);
	cfg_errors_clear(&errs);
	return msg;
}

static void
expect_err(const char *text, const char *want)
{
	char	*msg;

	msg = load_err(text);
	cr_assert_str_eq(msg, want);
	free(msg);
}

/* The only tunnel of a one-tunnel config. */
static struct tunnel_spec *
only(struct cfg *cfg)
{
	cr_assert_eq(cfg->ntunnels, 1);
	return cfg->tunnels[0];
}

static char *
user_name(void)
{
	struct passwd	*pw;

	cr_assert_not_null(pw = getpwuid(getuid()));
	return pw->pw_name;
}

/* ---- syntax ------------------------------------------------------------- */

Test(cfg, basic_tunnel)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	cfg = load_ok("Tunnel bridge\n"
	    "    HostName bridge.example.com\n"
	    "    Port 2222\n"
	    "    User tunnel\n");
	t = only(cfg);
	cr_assert_str_eq(t->name, "bridge");
	cr_assert_str_eq(t->file, "t.conf");
	cr_assert_eq(t->line, 1);
	cr_assert_str_eq(t->hostname, "bridge.example.com");
	cr_assert_eq(t->port, 2222);
	cr_assert_str_eq(t->user, "tunnel");
	cfg_free(cfg);
}

Test(cfg, keywords_case_insensitive)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	cfg = load_ok("TUNNEL a\nhostname h\nPORT 23\nuSeR u\n"
	    "stricthostkeychecking ACCEPT-NEW\ncompression YES\n");
	t = only(cfg);
	cr_assert_str_eq(t->hostname, "h");
	cr_assert_eq(t->port, 23);
	cr_assert_str_eq(t->user, "u");
	cr_assert_eq(t->strict_host_key_checking, SHK_ACCEPT_NEW);
	cr_assert_eq(t->compression, 1);
	cfg_free(cfg);
}

Test(cfg, keyword_equals_forms)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	cfg = load_ok("Tunnel a\nHostName=h1\nPort = 24\nUser= u\n"
	    "LocalForward=8080 db:5432\n");
	t = only(cfg);
	cr_assert_str_eq(t->hostname, "h1");
	cr_assert_eq(t->port, 24);
	cr_assert_str_eq(t->user, "u");
	cr_assert_eq(t->nforwards, 1);
	cr_assert_str_eq(t->forwards[0].target_str, "db:5432");
	cfg_free(cfg);
}

Test(cfg, quoted_arguments)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	cfg = load_ok("Tunnel a\n"
	    "IdentityFile \"/keys/my key\"\n"
	    "IdentityFile '/keys/single quoted'\n"
	    "IdentityFile /keys/escaped\\ space\n"
	    "UserKnownHostsFile \"/kh/with \\\"quote\\\"\"\n"
	    "LocalForward \"/tmp/a b.sock\" db:1\n");
	t = only(cfg);
	cr_assert_eq(t->nidentity_files, 3);
	cr_assert_str_eq(t->identity_files[0], "/keys/my key");
	cr_assert_str_eq(t->identity_files[1], "/keys/single quoted");
	cr_assert_str_eq(t->identity_files[2], "/keys/escaped space");
	cr_assert_str_eq(t->user_known_hosts_file, "/kh/with \"quote\"");
	cr_assert_str_eq(t->forwards[0].listen.path, "/tmp/a b.sock");
	cfg_free(cfg);
}

Test(cfg, comments_blank_lines_crlf)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	cfg = load_ok("# a comment\n\n   \t\n"
	    "Tunnel a # trailing comment\r\n"
	    "  HostName h#notacomment\r\n"
	    "  # Port 99\n"
	    "  Port 25 # yes\n");
	t = only(cfg);
	cr_assert_str_eq(t->hostname, "h#notacomment");
	cr_assert_eq(t->port, 25);
	cfg_free(cfg);
}

Test(cfg, unterminated_quote)
{
	expect_err("Tunnel a\nIdentityFile \"/x\n",
	    "t.conf:2: unterminated quote");
}

Test(cfg, argument_count_errors)
{
	expect_err("Tunnel a\nHostName\nPort 1 2\nUser \"\"\n",
	    "t.conf:2: HostName: missing argument\n"
	    "t.conf:3: Port: too many arguments\n"
	    "t.conf:4: User: empty argument");
}

Test(cfg, empty_config)
{
	struct cfg	*cfg;

	cfg = load_ok("");
	cr_assert_eq(cfg->ntunnels, 0);
	cr_assert_null(cfg->control_group);
	cr_assert_str_eq(cfg->path, "t.conf");
	cfg_free(cfg);
}

/* ---- defaults, scopes --------------------------------------------------- */

Test(cfg, defaults_filled)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;
	char			 kh[TPATH];

	cfg = load_ok("Tunnel plain\n");
	t = only(cfg);
	cr_assert_eq(t->enabled, 1);
	cr_assert_str_eq(t->hostname, "plain");
	cr_assert_eq(t->port, 22);
	cr_assert_str_eq(t->user, user_name());
	cr_assert_eq(t->nidentity_files, 0);
	cr_assert_eq(t->identities_only, 0);
	cr_assert_str_eq(t->identity_agent, "none");
	snprintf(kh, sizeof kh, "%s/.ssh/known_hosts", home);
	cr_assert_str_eq(t->user_known_hosts_file, kh);
	cr_assert_eq(t->strict_host_key_checking, SHK_YES);
	cr_assert_null(t->host_key_alias);
	cr_assert_null(t->jumps);
	cr_assert_eq(t->njumps, 0);
	cr_assert_eq(t->connect_timeout_ms, 30000);
	cr_assert_eq(t->server_alive_interval_ms, 15000);
	cr_assert_eq(t->server_alive_count_max, 3);
	cr_assert_eq(t->nforwards, 0);
	cr_assert_eq(t->exit_on_forward_failure, 0);
	cr_assert_eq(t->gateway_ports, 0);
	cr_assert_eq(t->stream_local_bind_unlink, 0);
	cr_assert_null(t->ciphers);
	cr_assert_eq(t->compression, 0);
	cr_assert_eq(t->retry_min_ms, 1000);
	cr_assert_eq(t->retry_max_ms, 60000);
	cr_assert_eq(t->retry_network_max_ms, 5000);
	cr_assert_eq(t->forward_probe, 1);
	cr_assert_null(t->ssh_config);
	cfg_free(cfg);
}

Test(cfg, default_identity_files)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;
	char			 a[TPATH], b[TPATH];

	make_dir(".ssh");
	write_file(".ssh/id_rsa", "x");
	write_file(".ssh/id_ed25519", "x");
	cfg = load_ok("Tunnel a\n");
	t = only(cfg);
	snprintf(a, sizeof a, "%s/.ssh/id_ed25519", home);
	snprintf(b, sizeof b, "%s/.ssh/id_rsa", home);
	cr_assert_eq(t->nidentity_files, 2);
	cr_assert_str_eq(t->identity_files[0], a);
	cr_assert_str_eq(t->identity_files[1], b);
	cfg_free(cfg);

	/* An explicit IdentityFile replaces the default list. */
	cfg = load_ok("Tunnel a\nIdentityFile /k\n");
	t = only(cfg);
	cr_assert_eq(t->nidentity_files, 1);
	cr_assert_str_eq(t->identity_files[0], "/k");
	cfg_free(cfg);
}

Test(cfg, identity_agent)
{
	struct cfg	*cfg;

	setenv("SSH_AUTH_SOCK", "/run/agent.sock", 1);
	cfg = load_ok("Tunnel a\nTunnel b\nIdentityAgent none\n"
	    "Tunnel c\nIdentityAgent ~/agent\nTunnel d\n"
	    "IdentityAgent SSH_AUTH_SOCK\n");
	cr_assert_str_eq(cfg->tunnels[0]->identity_agent, "/run/agent.sock");
	cr_assert_str_eq(cfg->tunnels[1]->identity_agent, "none");
	cr_assert_str_eq(cfg->tunnels[2]->identity_agent,
	    strcat(strcpy((char[TPATH]){ 0 }, home), "/agent"));
	cr_assert_str_eq(cfg->tunnels[3]->identity_agent, "/run/agent.sock");
	cfg_free(cfg);
}

Test(cfg, tilde_expansion)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;
	char			 want[TPATH];

	cfg = load_ok("Tunnel a\nIdentityFile ~/.ssh/k\n"
	    "UserKnownHostsFile ~/kh\nIdentityFile /abs/~/x\n");
	t = only(cfg);
	snprintf(want, sizeof want, "%s/.ssh/k", home);
	cr_assert_str_eq(t->identity_files[0], want);
	cr_assert_str_eq(t->identity_files[1], "/abs/~/x");
	snprintf(want, sizeof want, "%s/kh", home);
	cr_assert_str_eq(t->user_known_hosts_file, want);
	cfg_free(cfg);
}

Test(cfg, top_level_defaults_and_override)
{
	struct cfg	*cfg;

	cfg = load_ok("ServerAliveInterval 5\nUser tunnel\nPort 2200\n"
	    "Tunnel a\n"
	    "Tunnel b\n  User other\n  ServerAliveInterval 0\n");
	cr_assert_eq(cfg->ntunnels, 2);
	cr_assert_str_eq(cfg->tunnels[0]->user, "tunnel");
	cr_assert_eq(cfg->tunnels[0]->server_alive_interval_ms, 5000);
	cr_assert_eq(cfg->tunnels[0]->port, 2200);
	cr_assert_str_eq(cfg->tunnels[1]->user, "other");
	cr_assert_eq(cfg->tunnels[1]->server_alive_interval_ms, 0);
	cr_assert_eq(cfg->tunnels[1]->port, 2200);
	/* The defaults stay as parsed. */
	cr_assert_str_eq(cfg->defaults.user, "tunnel");
	cr_assert_eq(cfg->defaults.enabled, CFG_UNSET);
	cfg_free(cfg);
}

Test(cfg, first_value_wins)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	cfg = load_ok("User first\nUser second\n"
	    "Tunnel a\nPort 1000\nPort 2000\nHostName x\nHostName y\n"
	    "Compression no\nCompression yes\n");
	t = only(cfg);
	cr_assert_eq(t->port, 1000);
	cr_assert_str_eq(t->hostname, "x");
	cr_assert_str_eq(t->user, "first");
	cr_assert_eq(t->compression, 0);
	cfg_free(cfg);
}

Test(cfg, identity_files_accumulate)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	cfg = load_ok("IdentityFile /top1\nIdentityFile /top2\n"
	    "Tunnel a\nIdentityFile /a1\n"
	    "Tunnel b\n");
	t = cfg->tunnels[0];
	cr_assert_eq(t->nidentity_files, 3);
	cr_assert_str_eq(t->identity_files[0], "/top1");
	cr_assert_str_eq(t->identity_files[1], "/top2");
	cr_assert_str_eq(t->identity_files[2], "/a1");
	cr_assert_eq(cfg->tunnels[1]->nidentity_files, 2);
	cfg_free(cfg);
}

Test(cfg, forwards_accumulate)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	cfg = load_ok("DynamicForward 1080\n"
	    "Tunnel a\nLocalForward 5432 db:5432\nRemoteForward 2220 "
	    "localhost:22\n");
	t = only(cfg);
	cr_assert_eq(t->nforwards, 3);
	cr_assert_eq(t->forwards[0].kind, FWD_DYNAMIC);
	cr_assert_eq(t->forwards[1].kind, FWD_LOCAL);
	cr_assert_eq(t->forwards[2].kind, FWD_REMOTE);
	cfg_free(cfg);
}

Test(cfg, all_flags_and_values)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	cfg = load_ok("ControlGroup tunsup\n"
	    "Tunnel a\nEnabled no\nIdentitiesOnly yes\n"
	    "StrictHostKeyChecking no\nHostKeyAlias bridge\n"
	    "ConnectTimeout 10\nServerAliveInterval 500ms\n"
	    "ServerAliveCountMax 5\nExitOnForwardFailure true\n"
	    "GatewayPorts yes\nStreamLocalBindUnlink yes\n"
	    "Ciphers aes128-gcm@openssh.com,chacha20-poly1305@openssh.com\n"
	    "Compression yes\nRetryMin 2s\nRetryMax 5m\nRetryNetworkMax 10s\n"
	    "ForwardProbe false\n");
	t = only(cfg);
	cr_assert_str_eq(cfg->control_group, "tunsup");
	cr_assert_eq(t->enabled, 0);
	cr_assert_eq(t->identities_only, 1);
	cr_assert_eq(t->strict_host_key_checking, SHK_NO);
	cr_assert_str_eq(t->host_key_alias, "bridge");
	cr_assert_eq(t->connect_timeout_ms, 10000);
	cr_assert_eq(t->server_alive_interval_ms, 500);
	cr_assert_eq(t->server_alive_count_max, 5);
	cr_assert_eq(t->exit_on_forward_failure, 1);
	cr_assert_eq(t->gateway_ports, 1);
	cr_assert_eq(t->stream_local_bind_unlink, 1);
	cr_assert_str_eq(t->ciphers,
	    "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com");
	cr_assert_eq(t->compression, 1);
	cr_assert_eq(t->retry_min_ms, 2000);
	cr_assert_eq(t->retry_max_ms, 300000);
	cr_assert_eq(t->retry_network_max_ms, 10000);
	cr_assert_eq(t->forward_probe, 0);
	cfg_free(cfg);
}

/* ---- value errors ------------------------------------------------------- */

Test(cfg, strict_host_key_checking_values)
{
	expect_err("Tunnel a\n\n\n\n\n\n\n\n\n\n\n"
	    "StrictHostKeyChecking maybe\n",
	    "t.conf:12: StrictHostKeyChecking: expected yes, no or "
	    "accept-new, got 'maybe'");
	expect_err("StrictHostKeyChecking ask\n",
	    "t.conf:1: StrictHostKeyChecking ask is not supported: a daemon "
	    "cannot ask (use yes or accept-new)");
}

Test(cfg, yes_no_errors)
{
	expect_err("Compression maybe\nTunnel a\nEnabled 1\n",
	    "t.conf:1: Compression: expected yes or no, got 'maybe'\n"
	    "t.conf:3: Enabled: expected yes or no, got '1'");
}

Test(cfg, port_errors)
{
	expect_err("Tunnel a\nPort 0\nPort 65536\nPort ssh\nPort -1\n",
	    "t.conf:2: Port: expected a number from 1 to 65535, got '0'\n"
	    "t.conf:3: Port: expected a number from 1 to 65535, got '65536'\n"
	    "t.conf:4: Port: expected a number from 1 to 65535, got 'ssh'\n"
	    "t.conf:5: Port: expected a number from 1 to 65535, got '-1'");
}

Test(cfg, number_and_time_errors)
{
	expect_err("ServerAliveCountMax 0\nConnectTimeout 0\n"
	    "RetryMin 0s\nServerAliveInterval soon\n",
	    "t.conf:1: ServerAliveCountMax: expected a number of at least 1, "
	    "got '0'\n"
	    "t.conf:2: ConnectTimeout: must be greater than 0\n"
	    "t.conf:3: RetryMin: must be greater than 0\n"
	    "t.conf:4: ServerAliveInterval: expected a time such as 30, 30s, "
	    "5m, 1h30m or 500ms, got 'soon'");
}

Test(cfg, retry_order_errors)
{
	expect_err("Tunnel a\nRetryMin 2m\nTunnel b\nRetryMax 10s\n"
	    "RetryMin 20s\n",
	    "t.conf:2: RetryMin (120s) is greater than RetryMax (60s)\n"
	    "t.conf:2: RetryMin (120s) is greater than RetryNetworkMax (5s)\n"
	    "t.conf:5: RetryMin (20s) is greater than RetryMax (10s)\n"
	    "t.conf:5: RetryMin (20s) is greater than RetryNetworkMax (5s)");
	/* Top-level conflicts are reported once, at the top level. */
	expect_err("RetryNetworkMax 500ms\nTunnel a\nTunnel b\n",
	    "t.conf:1: RetryMin (1s) is greater than RetryNetworkMax (500ms)");
}

Test(cfg, unknown_keyword_suggestion)
{
	expect_err("\n\nHostNme x\n",
	    "t.conf:3: unknown keyword 'HostNme' (did you mean 'HostName'?)");
	expect_err("serveraliveintervl 5\n",
	    "t.conf:1: unknown keyword 'serveraliveintervl' (did you mean "
	    "'ServerAliveInterval'?)");
	expect_err("Frobnicate yes\n", "t.conf:1: unknown keyword 'Frobnicate'");
}

/* CertificateFile accumulates like IdentityFile, the defaults' first. */
Test(cfg, certificate_files)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;
	char			 want[TPATH];

	cfg = load_ok("CertificateFile ~/d-cert.pub\nTunnel a\n"
	    "CertificateFile /t-cert.pub\nCertificateFile /u-cert.pub\n");
	t = only(cfg);
	cr_assert_eq(t->ncertificate_files, 3);
	snprintf(want, sizeof want, "%s/d-cert.pub", home);
	cr_assert_str_eq(t->certificate_files[0], want);
	cr_assert_str_eq(t->certificate_files[1], "/t-cert.pub");
	cr_assert_str_eq(t->certificate_files[2], "/u-cert.pub");
	cfg_free(cfg);
}

/* ProxyCommand takes the rest of its line as written, for /bin/sh. */
Test(cfg, proxy_command_whole_line)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;
	char			*dump;

	cfg = load_ok("ProxyCommand = sh -c 'nc \"%h\" %p'  # ours  \n"
	    "Tunnel a\nTunnel b\nProxyCommand none\n");
	cr_assert_eq(cfg->ntunnels, 2);
	t = cfg->tunnels[0];
	cr_assert_str_eq(t->proxy_command, "sh -c 'nc \"%h\" %p'  # ours");
	cr_assert_null(cfg->tunnels[1]->proxy_command);
	dump = tunnel_spec_dump(t);
	cr_assert(strstr(dump, "\nproxycommand sh -c 'nc \"%h\" %p'  # ours\n")
	    != NULL, "%s", dump);
	free(dump);
	cfg_free(cfg);
	expect_err("Tunnel a\nProxyCommand nc %h %k\n",
	    "t.conf:2: ProxyCommand: unknown token %k (it takes %h, %n, %p, "
	    "%r and %%)");
	expect_err("Tunnel a\nProxyCommand nc %\n",
	    "t.conf:2: ProxyCommand: a % ends the line (%% is one %)");
}

/* Warnings of a configuration that loads, joined as errors are. */
static char *
load_warn(const char *text)
{
	struct cfg	*cfg;
	char		*msg;

	cfg = load_ok(text);
	msg = cfg_errors_join(&cfg->warnings);
	cfg_free(cfg);
	return msg;
}

/*
 * The block of a real ~/.ssh/config pasted into a Tunnel (issue 15: 23
 * errors before): it loads, the keywords tunsupd honours mean what they
 * mean to ssh, the ones asking for what tunsupd does anyway say nothing.
 */
Test(cfg, ssh_config_block_pasted)
{
	struct cfg		*cfg;
	const struct tunnel_spec *t;
	char			*msg;

	cfg = load_ok("IgnoreUnknown UseKeychain\n"
	    "Tunnel bridge\n"
	    "  HostName bridge.example.net\n  User tunnel\n"
	    "  UseKeychain yes\n"
	    "  AddKeysToAgent no\n"
	    "  HashKnownHosts yes\n"
	    "  TCPKeepAlive no\n"
	    "  KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org\n"
	    "  HostKeyAlgorithms ssh-ed25519,rsa-sha2-512\n"
	    "  PubkeyAcceptedAlgorithms ssh-ed25519\n"
	    "  RekeyLimit 1G 1h\n"
	    "  BindAddress 127.0.0.2\n"
	    "  AddressFamily inet\n"
	    "  BatchMode yes\n  ForwardAgent no\n  PasswordAuthentication no\n"
	    "  ForwardX11 no\n  ControlMaster no\n  CheckHostIP no\n"
	    "  ClearAllForwardings no\n  SessionType none\n"
	    "  ExitOnForwardFailure yes\n  ServerAliveInterval=30\n"
	    "  serveralivecountmax = 4\n"
	    "  LocalForward 5432 localhost:5432\n");
	cr_assert_eq(cfg->warnings.n, 0, "%s", cfg->warnings.msg[0]);
	t = only(cfg);
	cr_assert_eq(t->hash_known_hosts, 1);
	cr_assert_eq(t->tcp_keep_alive, 0);
	cr_assert_str_eq(t->kex_algorithms,
	    "curve25519-sha256,curve25519-sha256@libssh.org");
	cr_assert_str_eq(t->host_key_algorithms, "ssh-ed25519,rsa-sha2-512");
	cr_assert_str_eq(t->pubkey_accepted_algorithms, "ssh-ed25519");
	cr_assert_eq(t->rekey_data, 1L << 30);
	cr_assert_eq(t->rekey_time_ms, 3600 * 1000L);
	cr_assert_str_eq(t->bind_address, "127.0.0.2");
	cr_assert_eq(t->address_family, CFG_AF_INET);
	cr_assert_eq(t->server_alive_interval_ms, 30 * 1000L);
	cr_assert_eq(t->server_alive_count_max, 4);
	cfg_free(cfg);

	/* what it cannot honour: a warning each, the tunnel still loads */
	msg = load_warn("Tunnel a\nAddKeysToAgent yes\nForwardAgent yes\n"
	    "PasswordAuthentication yes\nBatchMode no\nLogLevel DEBUG3\n"
	    "RemoteCommand ls -l\nControlMaster auto\n");
	cr_assert_str_eq(msg,
	    "t.conf:2: ignored: AddKeysToAgent yes: tunsupd never adds keys "
	    "to an agent\n"
	    "t.conf:3: ignored: ForwardAgent yes: tunsupd never forwards the "
	    "agent: it opens no session on the server\n"
	    "t.conf:4: ignored: PasswordAuthentication yes: tunsupd "
	    "authenticates with keys, and with a password only from "
	    "PasswordFile\n"
	    "t.conf:5: ignored: BatchMode no: tunsupd never asks anything\n"
	    "t.conf:6: ignored: LogLevel DEBUG3: tunsupd logs by its own "
	    "options (tunsupd -v, -q)\n"
	    "t.conf:7: ignored: RemoteCommand ls -l: tunsupd never opens a "
	    "session: no shell, command or terminal\n"
	    "t.conf:8: ignored: ControlMaster auto: tunsupd holds one session "
	    "per tunnel itself");
	free(msg);
}

/* Refused only where ignoring would weaken security or move traffic. */
Test(cfg, ssh_keywords_refused)
{
	expect_err("ProxyUseFdpass yes\nTunnel a\nHost x\nMatch all\n"
	    "ClearAllForwardings yes\nCanonicalizeHostname yes\n"
	    "PermitRemoteOpen db:5432\nRevokedHostKeys /etc/ssh/krl\n"
	    "PubkeyAuthentication no\n",
	    "t.conf:3: Host x is not supported: use \"Tunnel NAME\" blocks, "
	    "or \"SshConfig FILE\" to read an ssh_config\n"
	    "t.conf:4: Match all is not supported: use \"Tunnel NAME\" blocks, "
	    "or \"SshConfig FILE\" to read an ssh_config\n"
	    "t.conf:5: ClearAllForwardings yes is not supported: a tunnel's "
	    "forwards are what it is for: yes would clear them\n"
	    "t.conf:6: CanonicalizeHostname yes is not supported: tunsupd "
	    "connects to HostName as written\n"
	    "t.conf:7: PermitRemoteOpen db:5432 is not supported: tunsupd "
	    "cannot restrict the targets of a remote dynamic forward yet; "
	    "ignoring it would let the server open any\n"
	    "t.conf:8: RevokedHostKeys /etc/ssh/krl is not supported: tunsupd "
	    "cannot read a revocation list yet: use @revoked lines in "
	    "known_hosts\n"
	    "t.conf:9: PubkeyAuthentication no is not supported: tunsupd "
	    "authenticates with keys only: it cannot do without");
	expect_err("Tunnel a\nForwardAgent\n",
	    "t.conf:2: ForwardAgent: missing argument");
	/* ssh's Tunnel (tun devices), pasted: not a block named "no" */
	expect_err("Tunnel a\nHostName h\nTunnel no\nTunnel Ethernet\n",
	    "t.conf:3: Tunnel no: ssh's tun device forwarding is not "
	    "supported (and a tunnel cannot be named no)\n"
	    "t.conf:4: Tunnel Ethernet: ssh's tun device forwarding is not "
	    "supported (and a tunnel cannot be named Ethernet)");
	/* the values that ask for nothing else are fine */
	cfg_free(load_ok("ProxyCommand none\nTunnel a\n"
	    "PubkeyAuthentication yes\nCanonicalizeHostname no\n"
	    "PermitRemoteOpen any\nRevokedHostKeys none\n"));
}

/* Keywords are case-insensitive, "Keyword=value" and "Keyword = value". */
Test(cfg, ssh_keyword_forms)
{
	struct cfg		*cfg;
	const struct tunnel_spec *t;

	cfg = load_ok("Tunnel a\nkexalgorithms=curve25519-sha256\n"
	    "HASHKNOWNHOSTS = yes\nbatchmode=yes\nforwardagent = no\n"
	    "tcpKeepAlive\tno\n");
	cr_assert_eq(cfg->warnings.n, 0);
	t = only(cfg);
	cr_assert_str_eq(t->kex_algorithms, "curve25519-sha256");
	cr_assert_eq(t->hash_known_hosts, 1);
	cr_assert_eq(t->tcp_keep_alive, 0);
	cfg_free(cfg);
}

/* IgnoreUnknown: patterns of unknown keywords to skip, as ssh. */
Test(cfg, ignore_unknown)
{
	char	*msg;

	/* top level: for every tunnel; only lines after it, as ssh */
	expect_err("UseKeychain yes\nIgnoreUnknown usekeychain,Apple*\n"
	    "UseKeychain yes\nTunnel a\nAppleThing 1\nOtherThing 2\n",
	    "t.conf:1: unknown keyword 'UseKeychain'\n"
	    "t.conf:6: unknown keyword 'OtherThing'");
	/* in a block: that block's own wins over the top level's */
	expect_err("IgnoreUnknown A*\nTunnel a\nIgnoreUnknown B*\nBqqqqqq 1\n"
	    "Aqqqqqq 1\nTunnel b\nAqqqqqq 1\nBqqqqqq 1\n",
	    "t.conf:5: unknown keyword 'Aqqqqqq'\n"
	    "t.conf:8: unknown keyword 'Bqqqqqq'");
	/* a known keyword is never hidden by it: still judged */
	msg = load_warn("IgnoreUnknown *\nTunnel a\nAddKeysToAgent yes\n"
	    "Whatever 1\n");
	cr_assert_str_eq(msg, "t.conf:3: ignored: AddKeysToAgent yes: "
	    "tunsupd never adds keys to an agent");
	free(msg);
	expect_err("IgnoreUnknown *\nTunnel a\nCanonicalizeHostname yes\n",
	    "t.conf:3: CanonicalizeHostname yes is not supported: tunsupd "
	    "connects to HostName as written");
}

Test(cfg, new_ssh_keyword_values)
{
	expect_err("Tunnel a\nRekeyLimit 1X\nRekeyLimit 8\nRekeyLimit 1G soon\n"
	    "BindAddress localhost\nAddressFamily ipx\nRequiredRSASize 512\n"
	    "KexAlgorithms a;b\nBindInterface abcdefghijklmnopq\n",
	    "t.conf:2: RekeyLimit: expected an amount of data such as 1G, "
	    "512M or default (at least 16), got '1X'\n"
	    "t.conf:3: RekeyLimit: expected an amount of data such as 1G, "
	    "512M or default (at least 16), got '8'\n"
	    "t.conf:4: RekeyLimit: expected a time such as 1h or none, got "
	    "'soon'\n"
	    "t.conf:5: BindAddress: expected an IPv4 or IPv6 address, got "
	    "'localhost'\n"
	    "t.conf:6: AddressFamily: expected any, inet or inet6, got 'ipx'\n"
	    "t.conf:7: RequiredRSASize: expected a number of bits from 1024 "
	    "to 16384, got '512'\n"
	    "t.conf:8: KexAlgorithms: bad algorithm list 'a;b'\n"
	    "t.conf:9: BindInterface: interface name too long: "
	    "'abcdefghijklmnopq'");
	expect_err("Tunnel a\nAddressFamily inet6\nBindAddress 127.0.0.2\n",
	    "t.conf:1: BindAddress 127.0.0.2 is not an address of "
	    "AddressFamily inet6");
}

Test(cfg, errors_are_all_reported)
{
	char	*msg;

	msg = load_err("Port x\nTunnel a\nUser\nBogus 1\nTunnel b\nPort y\n");
	cr_assert_str_eq(msg,
	    "t.conf:1: Port: expected a number from 1 to 65535, got 'x'\n"
	    "t.conf:3: User: missing argument\n"
	    "t.conf:4: unknown keyword 'Bogus'\n"
	    "t.conf:6: Port: expected a number from 1 to 65535, got 'y'");
	free(msg);
}

Test(cfg, errors_are_capped)
{
	struct cfg_errors	 errs = { NULL, 0 };
	char			*text, *w;
	int			 i;

	w = text = malloc(1000 * 16);
	for (i = 0; i < 1000; i++)
		w += sprintf(w, "Port bad%d\n", i);
	cr_assert_null(cfg_load_string("t.conf", text, &errs));
	cr_assert_eq(errs.n, 100);
	cfg_errors_clear(&errs);
	cr_assert_eq(errs.n, 0);
	free(text);
}

/* ---- tunnels ------------------------------------------------------------ */

Test(cfg, duplicate_tunnel)
{
	expect_err("Tunnel a\nHostName x\n\nTunnel a\nPort x\n",
	    "t.conf:4: duplicate tunnel a (first defined at t.conf:1)\n"
	    "t.conf:5: Port: expected a number from 1 to 65535, got 'x'");
}

Test(cfg, bad_tunnel_names)
{
	char	text[256], want[512];

	expect_err("Tunnel a/b\nTunnel \"a b\"\n",
	    "t.conf:1: invalid tunnel name 'a/b' (expected 1 to 64 of A-Z "
	    "a-z 0-9 . _ -)\n"
	    "t.conf:2: invalid tunnel name 'a b' (expected 1 to 64 of A-Z "
	    "a-z 0-9 . _ -)");
	snprintf(text, sizeof text, "Tunnel %065d\n", 0);
	snprintf(want, sizeof want, "t.conf:1: invalid tunnel name '%065d' "
	    "(expected 1 to 64 of A-Z a-z 0-9 . _ -)", 0);
	expect_err(text, want);
	expect_err("Tunnel\n", "t.conf:1: Tunnel: missing argument");
}

Test(cfg, tunnel_name_valid)
{
	char	name[80];

	cr_assert(tunnel_name_valid("bridge-ssh"));
	cr_assert(tunnel_name_valid("a.b_c-D9"));
	memset(name, 'x', 64);
	name[64] = '\0';
	cr_assert(tunnel_name_valid(name));
	name[64] = 'x';
	name[65] = '\0';
	cr_assert_not(tunnel_name_valid(name));
	cr_assert_not(tunnel_name_valid(""));
	cr_assert_not(tunnel_name_valid(NULL));
	cr_assert_not(tunnel_name_valid("a b"));
	cr_assert_not(tunnel_name_valid("a/b"));
	cr_assert_not(tunnel_name_valid("é"));
}

Test(cfg, control_group_top_level_only)
{
	expect_err("Tunnel a\nControlGroup wheel\n",
	    "t.conf:2: ControlGroup is only allowed at top level, before the "
	    "first Tunnel");
}

Test(cfg, take_tunnel)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	cfg = load_ok("Tunnel a\nTunnel b\nTunnel c\n");
	t = cfg_take_tunnel(cfg, 1);
	cr_assert_str_eq(t->name, "b");
	cr_assert_eq(cfg->ntunnels, 2);
	cr_assert_str_eq(cfg->tunnels[0]->name, "a");
	cr_assert_str_eq(cfg->tunnels[1]->name, "c");
	cr_assert_null(cfg_take_tunnel(cfg, 2));
	tunnel_spec_free(t);
	cfg_free(cfg);
	tunnel_spec_free(NULL);
	cfg_free(NULL);
}

/* ---- Include ------------------------------------------------------------ */

Test(cfg, include_glob)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct cfg		*cfg;
	char			 main_path[TPATH];

	make_dir("conf.d");
	write_file("conf.d/20-b.conf", "Tunnel b\nHostName bhost\n");
	write_file("conf.d/10-a.conf", "User fromdefaults\n"
	    "Tunnel a\nHostName ahost\n");
	write_file("conf.d/ignored.txt", "Tunnel zzz\n");
	snprintf(main_path, sizeof main_path, "%s", write_file("main.conf",
	    "Port 2022\nInclude conf.d/*.conf\n"
	    "ServerAliveInterval 7\n"
	    "Tunnel c\n"));
	cfg = cfg_load(main_path, &errs);
	cr_assert_not_null(cfg, "%s", cfg_errors_join(&errs));
	cr_assert_eq(cfg->ntunnels, 3);
	cr_assert_str_eq(cfg->tunnels[0]->name, "a");
	cr_assert_str_eq(cfg->tunnels[1]->name, "b");
	cr_assert_str_eq(cfg->tunnels[2]->name, "c");
	cr_assert_str_eq(cfg->tunnels[0]->hostname, "ahost");
	cr_assert_eq(cfg->tunnels[1]->port, 2022);
	/* Lines before the included file's first Tunnel are defaults. */
	cr_assert_str_eq(cfg->tunnels[2]->user, "fromdefaults");
	/* A block ends with its file: line 3 is top level again. */
	cr_assert_eq(cfg->tunnels[1]->server_alive_interval_ms, 7000);
	cr_assert_eq(cfg->defaults.server_alive_interval_ms, 7000);
	cr_assert_eq(cfg->tunnels[0]->line, 2);
	cr_assert(strstr(cfg->tunnels[0]->file, "conf.d/10-a.conf") != NULL);
	cfg_free(cfg);
}

Test(cfg, include_no_match_and_tilde)
{
	struct cfg		*cfg;
	char			 text[TPATH * 2 + 64], want[TPATH * 3];

	write_file("inc.conf", "Tunnel x\n");
	cfg = load_ok("Include /nonexistent/dir/*.conf\n"
	    "Include ~/inc.conf\n");
	cr_assert_eq(cfg->ntunnels, 1);
	cr_assert_str_eq(cfg->tunnels[0]->name, "x");
	cfg_free(cfg);
	/* Several patterns on one line; the same file twice is a dup. */
	snprintf(text, sizeof text, "Include %s/inc.conf %s/inc.conf\n",
	    home, home);
	snprintf(want, sizeof want, "%s/inc.conf:1: duplicate tunnel x "
	    "(first defined at %s/inc.conf:1)", home, home);
	expect_err(text, want);
}

Test(cfg, include_errors_carry_file_and_line)
{
	struct cfg_errors	 errs = { NULL, 0 };
	char			*msg, want[TPATH * 3], inc[TPATH];
	char			 main_path[TPATH];

	snprintf(inc, sizeof inc, "%s", write_file("bad.conf",
	    "Tunnel a\n\nPort nope\n"));
	snprintf(main_path, sizeof main_path, "%s", write_file("main.conf",
	    "# main\nInclude bad.conf\nTunnel b\nInclude bad.conf\n"));
	cr_assert_null(cfg_load(main_path, &errs));
	msg = cfg_errors_join(&errs);
	snprintf(want, sizeof want,
	    "%s:3: Port: expected a number from 1 to 65535, got 'nope'\n"
	    "%s:4: Include is only allowed at top level, before the first "
	    "Tunnel", inc, main_path);
	cr_assert_str_eq(msg, want);
	free(msg);
	cfg_errors_clear(&errs);
}

Test(cfg, include_depth_limit)
{
	struct cfg_errors	 errs = { NULL, 0 };
	char			*msg, path[TPATH];

	snprintf(path, sizeof path, "%s", write_file("loop.conf",
	    "Include loop.conf\n"));
	cr_assert_null(cfg_load(path, &errs));
	msg = cfg_errors_join(&errs);
	cr_assert(strstr(msg, ":1: Include nested too deeply (more than "
	    "16 levels)") != NULL, "%s", msg);
	cr_assert_eq(errs.n, 1);
	free(msg);
	cfg_errors_clear(&errs);
}

Test(cfg, load_missing_file)
{
	struct cfg_errors	 errs = { NULL, 0 };

	cr_assert_null(cfg_load("/nonexistent/tunsupd.conf", &errs));
	cr_assert_eq(errs.n, 1);
	cr_assert_str_eq(errs.msg[0],
	    "/nonexistent/tunsupd.conf: No such file or directory");
	cfg_errors_clear(&errs);
}

/* ---- time --------------------------------------------------------------- */

Test(cfg, time_good)
{
	static const struct {
		const char	*s;
		long		 ms;
	} ok[] = {
		{ "0", 0 }, { "30", 30000 }, { "30s", 30000 },
		{ "5m", 300000 }, { "5M", 300000 }, { "1h30m", 5400000 },
		{ "2h", 7200000 }, { "1d", 86400000 }, { "1w", 604800000 },
		{ "500ms", 500 }, { "500MS", 500 }, { "1s500ms", 1500 },
		{ "1h30", 3630000 }, { "1W1D", 691200000 },
	};
	size_t	i;
	long	ms;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		ms = -2;
		cr_assert_eq(cfg_parse_time(ok[i].s, &ms), 0, "%s", ok[i].s);
		cr_assert_eq(ms, ok[i].ms, "%s: %ld", ok[i].s, ms);
	}
}

Test(cfg, time_bad)
{
	static const char *bad[] = {
		"", "-1", "+1", "s", "1x", "1.5s", " 1", "1 ", "1hh",
		"99999999999999999999", "9223372036854775807w",
		"9223372036854775807", "m5", "1y",
	};
	size_t	i;
	long	ms = 42;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(cfg_parse_time(bad[i], &ms), -1, "'%s'", bad[i]);
	cr_assert_eq(cfg_parse_time(NULL, &ms), -1);
	cr_assert_eq(ms, 42);
}

/* ---- forwards ----------------------------------------------------------- */

static void
fwd_ok(enum fwd_kind kind, const char *a1, const char *a2,
    struct fwd_spec *fwd)
{
	char	*err = NULL;

	cr_assert_eq(cfg_parse_forward(kind, a1, a2, fwd, &err), 0,
	    "%s %s: %s", a1, a2 == NULL ? "" : a2, err);
	cr_assert_null(err);
}

static void
fwd_bad(enum fwd_kind kind, const char *a1, const char *a2, const char *want)
{
	struct fwd_spec	 fwd;
	char		*err = NULL;

	cr_assert_eq(cfg_parse_forward(kind, a1, a2, &fwd, &err), -1,
	    "%s %s", a1, a2 == NULL ? "" : a2);
	cr_assert_not_null(err);
	if (want != NULL)
		cr_assert_str_eq(err, want);
	free(err);
}

Test(cfg, forward_local_tcp)
{
	struct fwd_spec	fwd;

	fwd_ok(FWD_LOCAL, "5432", "db.internal:5432", &fwd);
	cr_assert_eq(fwd.kind, FWD_LOCAL);
	cr_assert_null(fwd.listen.host);
	cr_assert_eq(fwd.listen.port, 5432);
	cr_assert_null(fwd.listen.path);
	cr_assert_str_eq(fwd.listen_str, "localhost:5432");
	cr_assert_str_eq(fwd.target.host, "db.internal");
	cr_assert_eq(fwd.target.port, 5432);
	cr_assert_str_eq(fwd.target_str, "db.internal:5432");
	fwd_spec_clear(&fwd);

	fwd_ok(FWD_LOCAL, "127.0.0.2:80", "web:8080", &fwd);
	cr_assert_str_eq(fwd.listen.host, "127.0.0.2");
	cr_assert_str_eq(fwd.listen_str, "127.0.0.2:80");
	fwd_spec_clear(&fwd);
}

Test(cfg, forward_ipv6)
{
	struct fwd_spec	fwd;

	fwd_ok(FWD_LOCAL, "[::1]:8080", "[fe80::1]:22", &fwd);
	cr_assert_str_eq(fwd.listen.host, "::1");
	cr_assert_eq(fwd.listen.port, 8080);
	cr_assert_str_eq(fwd.listen_str, "[::1]:8080");
	cr_assert_str_eq(fwd.target.host, "fe80::1");
	cr_assert_str_eq(fwd.target_str, "[fe80::1]:22");
	fwd_spec_clear(&fwd);

	fwd_bad(FWD_LOCAL, "::1:8080", "h:1", "LocalForward: bad listen "
	    "address '::1:8080' (IPv6 addresses go in brackets: [::1]:8080)");
	fwd_bad(FWD_LOCAL, "8080", "fe80::1:22", NULL);
	fwd_bad(FWD_LOCAL, "[::1]8080", "h:1", NULL);
	fwd_bad(FWD_LOCAL, "[]:8080", "h:1", NULL);
}

Test(cfg, forward_bind_all)
{
	struct fwd_spec	fwd;

	fwd_ok(FWD_LOCAL, "*:8080", "h:80", &fwd);
	cr_assert_str_eq(fwd.listen.host, "");
	cr_assert_str_eq(fwd.listen_str, "*:8080");
	fwd_spec_clear(&fwd);
	fwd_ok(FWD_DYNAMIC, ":1080", NULL, &fwd);
	cr_assert_str_eq(fwd.listen.host, "");
	cr_assert_str_eq(fwd.listen_str, "*:1080");
	cr_assert_null(fwd.target_str);
	fwd_spec_clear(&fwd);
	fwd_ok(FWD_REMOTE, "*:2220", "localhost:22", &fwd);
	cr_assert_str_eq(fwd.listen.host, "");
	cr_assert_str_eq(fwd.listen_str, "*:2220");
	fwd_spec_clear(&fwd);
}

Test(cfg, forward_unix_paths)
{
	struct fwd_spec	fwd;

	fwd_ok(FWD_LOCAL, "5432", "/run/postgresql/.s.PGSQL.5432", &fwd);
	cr_assert_str_eq(fwd.target.path, "/run/postgresql/.s.PGSQL.5432");
	cr_assert_eq(fwd.target.port, -1);
	cr_assert_null(fwd.target.host);
	cr_assert_str_eq(fwd.target_str, "/run/postgresql/.s.PGSQL.5432");
	fwd_spec_clear(&fwd);

	fwd_ok(FWD_LOCAL, "/tmp/l.sock", "db:5432", &fwd);
	cr_assert_str_eq(fwd.listen.path, "/tmp/l.sock");
	cr_assert_eq(fwd.listen.port, -1);
	cr_assert_str_eq(fwd.listen_str, "/tmp/l.sock");
	fwd_spec_clear(&fwd);

	fwd_ok(FWD_LOCAL, "/tmp/l.sock", "/tmp/r.sock", &fwd);
	cr_assert_str_eq(fwd.listen_str, "/tmp/l.sock");
	cr_assert_str_eq(fwd.target_str, "/tmp/r.sock");
	fwd_spec_clear(&fwd);
}

Test(cfg, forward_remote)
{
	struct fwd_spec	fwd;

	fwd_ok(FWD_REMOTE, "2220", "localhost:22", &fwd);
	cr_assert_eq(fwd.kind, FWD_REMOTE);
	cr_assert_str_eq(fwd.listen.host, "localhost");
	cr_assert_eq(fwd.listen.port, 2220);
	cr_assert_str_eq(fwd.listen_str, "localhost:2220");
	cr_assert_str_eq(fwd.target_str, "localhost:22");
	fwd_spec_clear(&fwd);

	fwd_ok(FWD_REMOTE, "10.0.0.1:2220", "localhost:22", &fwd);
	cr_assert_str_eq(fwd.listen.host, "10.0.0.1");
	fwd_spec_clear(&fwd);

	/* Port 0: the server picks. */
	fwd_ok(FWD_REMOTE, "0", "localhost:22", &fwd);
	cr_assert_eq(fwd.listen.port, 0);
	fwd_spec_clear(&fwd);
	fwd_bad(FWD_LOCAL, "0", "h:1", "LocalForward: bad listen port '0' "
	    "(expected 1 to 65535)");
	fwd_bad(FWD_DYNAMIC, "0", NULL, NULL);
	fwd_bad(FWD_REMOTE, "2220", "h:0", "RemoteForward: bad target port "
	    "'0' (expected 1 to 65535)");
}

Test(cfg, forward_remote_dynamic)
{
	struct fwd_spec	fwd;

	fwd_ok(FWD_REMOTE, "1080", NULL, &fwd);
	cr_assert_eq(fwd.kind, FWD_REMOTE_DYNAMIC);
	cr_assert_str_eq(fwd.listen.host, "localhost");
	cr_assert_str_eq(fwd.listen_str, "localhost:1080");
	cr_assert_null(fwd.target_str);
	cr_assert_null(fwd.target.host);
	fwd_spec_clear(&fwd);

	fwd_ok(FWD_REMOTE_DYNAMIC, "[::]:1080", NULL, &fwd);
	cr_assert_eq(fwd.kind, FWD_REMOTE_DYNAMIC);
	cr_assert_str_eq(fwd.listen_str, "[::]:1080");
	fwd_spec_clear(&fwd);
}

/* A socket on the server: only with a libssh that has streamlocal-forward. */
Test(cfg, remote_unix_socket)
{
	struct fwd_spec	 fwd;
	char		*err = NULL;
	int		 r;

	r = cfg_parse_forward(FWD_REMOTE, "/tmp/remote.sock", "localhost:22",
	    &fwd, &err);
#ifdef HAVE_SSH_STREAMLOCAL
	cr_assert_eq(r, 0, "%s", err);
	cr_assert_str_eq(fwd.listen.path, "/tmp/remote.sock");
	cr_assert_str_eq(fwd.listen_str, "/tmp/remote.sock");
	cr_assert_str_eq(fwd.target_str, "localhost:22");
	fwd_spec_clear(&fwd);
	fwd_ok(FWD_REMOTE, "/tmp/remote.sock:/run/local.sock", NULL, &fwd);
	cr_assert_str_eq(fwd.listen.path, "/tmp/remote.sock");
	cr_assert_str_eq(fwd.target.path, "/run/local.sock");
	fwd_spec_clear(&fwd);
#else
	cr_assert_eq(r, -1);
	cr_assert_not_null(strstr(err, "needs streamlocal-forward@openssh.com"),
	    "%s", err);
	cr_assert_not_null(strstr(err, "bundled libssh"), "%s", err);
	free(err);
#endif
	fwd_bad(FWD_REMOTE, "/tmp/remote.sock", NULL,
	    "RemoteForward on a unix socket is not supported (a socket path "
	    "on the server needs a target: RemoteForward /path host:port)");
}

Test(cfg, forward_rejections)
{
	fwd_bad(FWD_DYNAMIC, "/tmp/socks.sock", NULL,
	    "DynamicForward on a unix socket is not supported");
	fwd_bad(FWD_LOCAL, "8080", NULL, "LocalForward: missing target "
	    "(expected host:port or /unix/socket)");
	fwd_bad(FWD_LOCAL, "8080", "host", "LocalForward: bad target 'host' "
	    "(expected host:port, [v6addr]:port or /unix/socket)");
	fwd_bad(FWD_LOCAL, "8080", ":22", NULL);
	fwd_bad(FWD_LOCAL, "8080", "*:22", NULL);
	fwd_bad(FWD_LOCAL, "http", "h:1", NULL);
	fwd_bad(FWD_LOCAL, "", "h:1", "LocalForward: missing listen port");
	fwd_bad(FWD_DYNAMIC, "1080", "h:1",
	    "DynamicForward: too many arguments");
	fwd_bad(FWD_LOCAL, "99999", "h:1", NULL);
}

Test(cfg, forward_combined_form)
{
	struct fwd_spec	fwd;

	fwd_ok(FWD_LOCAL, "8080:db:5432", NULL, &fwd);
	cr_assert_str_eq(fwd.listen_str, "localhost:8080");
	cr_assert_str_eq(fwd.target_str, "db:5432");
	fwd_spec_clear(&fwd);
	fwd_ok(FWD_LOCAL, "[::1]:8080:[fe80::2]:22", NULL, &fwd);
	cr_assert_str_eq(fwd.listen_str, "[::1]:8080");
	cr_assert_str_eq(fwd.target_str, "[fe80::2]:22");
	fwd_spec_clear(&fwd);
	fwd_ok(FWD_LOCAL, "8080:/run/x.sock", NULL, &fwd);
	cr_assert_str_eq(fwd.target.path, "/run/x.sock");
	fwd_spec_clear(&fwd);
	fwd_ok(FWD_REMOTE, "2220:localhost:22", NULL, &fwd);
	cr_assert_eq(fwd.kind, FWD_REMOTE);
	cr_assert_str_eq(fwd.listen_str, "localhost:2220");
	fwd_spec_clear(&fwd);
	fwd_ok(FWD_REMOTE, "0.0.0.0:2220:localhost:22", NULL, &fwd);
	cr_assert_str_eq(fwd.listen_str, "0.0.0.0:2220");
	fwd_spec_clear(&fwd);
	fwd_ok(FWD_REMOTE, "127.0.0.1:1080", NULL, &fwd);
	cr_assert_eq(fwd.kind, FWD_REMOTE_DYNAMIC);
	fwd_spec_clear(&fwd);
}

Test(cfg, forward_keywords_in_file)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	cfg = load_ok("Tunnel a\nLocalForward 5432 db:5432\n"
	    "DynamicForward 1080\nRemoteForward 2220 localhost:22\n"
	    "RemoteForward 1081\nLocalForward 10.1.1.1:80 web:80\n"
	    "Tunnel b\nGatewayPorts yes\nLocalForward 5432 db:5432\n"
	    "DynamicForward 1080\n");
	t = cfg->tunnels[0];
	cr_assert_eq(t->nforwards, 5);
	cr_assert_null(t->forwards[0].listen.host);
	cr_assert_str_eq(t->forwards[0].listen_str, "localhost:5432");
	cr_assert_eq(t->forwards[1].kind, FWD_DYNAMIC);
	cr_assert_str_eq(t->forwards[1].listen_str, "localhost:1080");
	cr_assert_str_eq(t->forwards[2].listen.host, "localhost");
	cr_assert_eq(t->forwards[3].kind, FWD_REMOTE_DYNAMIC);
	cr_assert_str_eq(t->forwards[4].listen_str, "10.1.1.1:80");
	t = cfg->tunnels[1];
	cr_assert_null(t->forwards[0].listen.host);
	cr_assert_str_eq(t->forwards[0].listen_str, "*:5432");
	cr_assert_str_eq(t->forwards[1].listen_str, "*:1080");
	cfg_free(cfg);
	expect_err("Tunnel a\nRemoteForward /tmp/x.sock\n"
	    "DynamicForward 1080 x\n",
	    "t.conf:2: RemoteForward on a unix socket is not supported (a "
	    "socket path on the server needs a target: RemoteForward /path "
	    "host:port)\n"
	    "t.conf:3: DynamicForward: too many arguments");
}

Test(cfg, fwd_kind_names)
{
	cr_assert_str_eq(fwd_kind_name(FWD_LOCAL), "local");
	cr_assert_str_eq(fwd_kind_name(FWD_REMOTE), "remote");
	cr_assert_str_eq(fwd_kind_name(FWD_DYNAMIC), "dynamic");
	cr_assert_str_eq(fwd_kind_name(FWD_REMOTE_DYNAMIC), "remote-dynamic");
}

/* ---- ProxyJump, none values --------------------------------------------- */

Test(cfg, proxy_jump_chain)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	cfg = load_ok("Tunnel a\nProxyJump jump@bastion.example.com,"
	    "inner:2222,root@[fd00::1]:22,ssh://u@h:23\n");
	t = only(cfg);
	cr_assert_eq(t->njumps, 4);
	cr_assert_str_eq(t->jumps[0].user, "jump");
	cr_assert_str_eq(t->jumps[0].host, "bastion.example.com");
	cr_assert_eq(t->jumps[0].port, 22);
	cr_assert_null(t->jumps[1].user);
	cr_assert_str_eq(t->jumps[1].host, "inner");
	cr_assert_eq(t->jumps[1].port, 2222);
	cr_assert_str_eq(t->jumps[2].user, "root");
	cr_assert_str_eq(t->jumps[2].host, "fd00::1");
	cr_assert_str_eq(t->jumps[3].user, "u");
	cr_assert_eq(t->jumps[3].port, 23);
	cfg_free(cfg);
}

Test(cfg, proxy_jump_errors)
{
	const char	*why = "(expected [user@]host[:port], comma-separated, "
	    "IPv6 in brackets)";
	char		 want[1024];

	snprintf(want, sizeof want,
	    "t.conf:2: ProxyJump: bad jump host in 'a,,b' %s\n"
	    "t.conf:3: ProxyJump: bad jump host in '@h' %s\n"
	    "t.conf:4: ProxyJump: bad jump host in 'h:99999' %s\n"
	    "t.conf:5: ProxyJump: bad jump host in 'fe80::1' %s",
	    why, why, why, why);
	expect_err("Tunnel a\nProxyJump a,,b\nProxyJump @h\n"
	    "ProxyJump h:99999\nProxyJump fe80::1\n", want);
}

Test(cfg, none_overrides_default)
{
	struct cfg	*cfg;

	write_file("ssh_config", "Host *\n");
	cfg = load_ok("ProxyJump bastion\nHostKeyAlias shared\n"
	    "Tunnel a\n"
	    "Tunnel b\nProxyJump none\nHostKeyAlias none\n");
	cr_assert_eq(cfg->tunnels[0]->njumps, 1);
	cr_assert_str_eq(cfg->tunnels[0]->jumps[0].host, "bastion");
	cr_assert_str_eq(cfg->tunnels[0]->host_key_alias, "shared");
	cr_assert_null(cfg->tunnels[1]->jumps);
	cr_assert_eq(cfg->tunnels[1]->njumps, 0);
	cr_assert_null(cfg->tunnels[1]->host_key_alias);
	cfg_free(cfg);
}

/* ---- cfg_parse_tunnel --------------------------------------------------- */

Test(cfg, parse_tunnel_basic)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct tunnel_spec	*t;

	t = cfg_parse_tunnel(NULL, "vpn", "HostName vpn.example.com\n"
	    "RemoteForward 2220 localhost:22\nPort 2222", &errs, NULL);
	cr_assert_not_null(t, "%s", cfg_errors_join(&errs));
	cr_assert_str_eq(t->name, "vpn");
	cr_assert_str_eq(t->file, "<add>");
	cr_assert_str_eq(t->hostname, "vpn.example.com");
	cr_assert_eq(t->port, 2222);
	cr_assert_eq(t->nforwards, 1);
	cr_assert_eq(t->retry_max_ms, 60000);
	tunnel_spec_free(t);
	cr_assert_eq(errs.n, 0);
}

Test(cfg, parse_tunnel_with_base)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct cfg		*base;
	struct tunnel_spec	*t;

	base = load_ok("User tunnel\nIdentityFile /etc/tunsup/id\n"
	    "ServerAliveInterval 5\nTunnel other\nUser nobody\n");
	t = cfg_parse_tunnel(base, "new", "IdentityFile /k2\n"
	    "ServerAliveInterval 9\n", &errs, NULL);
	cr_assert_not_null(t);
	cr_assert_str_eq(t->user, "tunnel");
	cr_assert_eq(t->server_alive_interval_ms, 9000);
	cr_assert_eq(t->nidentity_files, 2);
	cr_assert_str_eq(t->identity_files[0], "/etc/tunsup/id");
	cr_assert_str_eq(t->identity_files[1], "/k2");
	tunnel_spec_free(t);
	cfg_free(base);
}

Test(cfg, parse_tunnel_errors)
{
	struct cfg_errors	 errs = { NULL, 0 };
	char			*msg;

	cr_assert_null(cfg_parse_tunnel(NULL, "x", "HostName h\n"
	    "Tunnel y\nControlGroup g\nInclude /etc/*\nPort 0\n"
	    "RetryMin 2m", &errs, NULL));
	msg = cfg_errors_join(&errs);
	cr_assert_str_eq(msg,
	    "<add>:2: Tunnel is not allowed here: the add command names the "
	    "tunnel\n"
	    "<add>:3: ControlGroup is only allowed at top level, before the "
	    "first Tunnel\n"
	    "<add>:4: Include is only allowed at top level, before the first "
	    "Tunnel\n"
	    "<add>:5: Port: expected a number from 1 to 65535, got '0'\n"
	    "<add>:6: RetryMin (120s) is greater than RetryMax (60s)\n"
	    "<add>:6: RetryMin (120s) is greater than RetryNetworkMax (5s)");
	free(msg);
	cfg_errors_clear(&errs);

	cr_assert_null(cfg_parse_tunnel(NULL, "bad name", "", &errs, NULL));
	cr_assert_str_eq(errs.msg[0], "<add>: invalid tunnel name 'bad name' "
	    "(expected 1 to 64 of A-Z a-z 0-9 . _ -)");
	cfg_errors_clear(&errs);
	cr_assert_null(cfg_parse_tunnel(NULL, NULL, "", &errs, NULL));
	cfg_errors_clear(&errs);
}

/* ---- dump, equal -------------------------------------------------------- */

Test(cfg, dump_exact)
{
	struct cfg	*cfg;
	char		*dump;

	cfg = load_ok("Tunnel office\n"
	    "HostName office-gw.example.com\nUser me\n"
	    "IdentityFile \"/k/a key\"\nIdentityAgent none\n"
	    "UserKnownHostsFile /kh\nStrictHostKeyChecking accept-new\n"
	    "ProxyJump jump@bastion,[fd00::1],h:2200\n"
	    "ServerAliveInterval 1500ms\n"
	    "LocalForward 5432 db.internal:5432\nDynamicForward 1080\n"
	    "RemoteForward 2220 localhost:22\nRemoteForward [::1]:1081\n"
	    "Ciphers aes256-ctr\nRetryMax 2m\n");
	dump = tunnel_spec_dump(only(cfg));
	cr_assert_str_eq(dump,
	    "tunnel office\n"
	    "enabled yes\n"
	    "hostname office-gw.example.com\n"
	    "port 22\n"
	    "user me\n"
	    "identityfile \"/k/a key\"\n"
	    "identitiesonly no\n"
	    "identityagent none\n"
	    "userknownhostsfile /kh\n"
	    "stricthostkeychecking accept-new\n"
	    "hostkeyalias none\n"
	    "proxyjump jump@bastion,[fd00::1]:22,h:2200\n"
	    "connecttimeout 30\n"
	    "serveraliveinterval 1500ms\n"
	    "serveralivecountmax 3\n"
	    "localforward localhost:5432 db.internal:5432\n"
	    "dynamicforward localhost:1080\n"
	    "remoteforward localhost:2220 localhost:22\n"
	    "remoteforward [::1]:1081\n"
	    "exitonforwardfailure no\n"
	    "gatewayports no\n"
	    "streamlocalbindunlink no\n"
	    "ciphers aes256-ctr\n"
	    "compression no\n"
	    "retrymin 1\n"
	    "retrymax 120\n"
	    "retrynetworkmax 5\n"
	    "forwardprobe yes\n"
	    "sshconfig none\n"
	    "proxyusefdpass no\n"
	    "rekeylimit 0 0\n"
	    "tcpkeepalive yes\n"
	    "addressfamily any\n"
	    "hashknownhosts no\n"
	    "requiredrsasize 1024\n"
	    "forwardprobeinterval 0\n"
	    "eventcommandtimeout 10\n"
	    "permitlocalcommand no\n");
	free(dump);
	cfg_free(cfg);
}

/* The dump (minus its tunnel line) parses back to an equal spec. */
Test(cfg, dump_round_trip)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct cfg		*cfg;
	struct tunnel_spec	*t, *u;
	char			*dump, *body;

	cfg = load_ok("Tunnel rt\nHostName h\nPort 2\nUser odd.user\n"
	    "IdentityFile /a\nIdentityFile \"/b c\"\nProxyJump x@[::1]:5,y\n"
	    "LocalForward /tmp/s.sock /tmp/t.sock\n"
	    "RemoteForward *:2220 [::1]:22\nGatewayPorts yes\n"
	    "LocalForward 99 h:1\nCiphers aes128-ctr\nRetryMin 250ms\n"
	    "KexAlgorithms +diffie-hellman-group14-sha1\nMACs hmac-sha2-256\n"
	    "HostKeyAlgorithms ssh-ed25519,rsa-sha2-256\n"
	    "PubkeyAcceptedKeyTypes -ssh-rsa\nRekeyLimit 512M 1h\n"
	    "TCPKeepAlive no\nBindAddress ::1\nBindInterface lo\n"
	    "AddressFamily inet6\nHashKnownHosts yes\n"
	    "RequiredRSASize 2048\nIgnoreUnknown UseKeychain,Foo*\n");
	t = only(cfg);
	dump = tunnel_spec_dump(t);
	body = strchr(dump, '\n') + 1;
	u = cfg_parse_tunnel(NULL, "rt", body, &errs, NULL);
	cr_assert_not_null(u, "%s\n%s", cfg_errors_join(&errs), body);
	cr_assert(tunnel_spec_equal(t, u));
	free(dump);
	tunnel_spec_free(u);
	cfg_free(cfg);
}

Test(cfg, spec_equal)
{
	struct cfg	*a, *b;

	a = load_ok("Tunnel x\nHostName h\nLocalForward 1 h:1\n");
	b = load_ok("Tunnel x\nhostname=h\nLocalForward localhost:1 h:1\n");
	cr_assert(tunnel_spec_equal(a->tunnels[0], b->tunnels[0]));
	cr_assert(tunnel_spec_equal(a->tunnels[0], a->tunnels[0]));
	cr_assert_not(tunnel_spec_equal(a->tunnels[0], NULL));
	cfg_free(b);
	b = load_ok("Tunnel x\nHostName h\nLocalForward 2 h:1\n");
	cr_assert_not(tunnel_spec_equal(a->tunnels[0], b->tunnels[0]));
	cfg_free(b);
	b = load_ok("Tunnel x\nHostName h\nLocalForward 1 h:1\nEnabled no\n");
	cr_assert_not(tunnel_spec_equal(a->tunnels[0], b->tunnels[0]));
	cfg_free(b);
	cfg_free(a);
}

/* ---- SshConfig ---------------------------------------------------------- */

static const char *ssh_config_text =
    "# a user's ssh config\n"
    "Host bridge !bridge-old\n"
    "    HostName bridge.example.com\n"
    "    User tunnel\n"
    "    Port 2022\n"
    "    IdentityFile ~/.ssh/bridge\n"
    "    ProxyJump jump@bastion:2200\n"
    "    ForwardAgent yes\n"
    "Match user nobody-here exec \"false\"\n"
    "    User matched\n"
    "Host b*\n"
    "    HostName %h.fallback.example.com\n"
    "    HostKeyAlias alias-%h\n"
    "    UserKnownHostsFile ~/.ssh/kh_b\n"
    "    IdentityFile ~/.ssh/second\n"
    "Host *\n"
    "    User everyone\n";

Test(cfg, ssh_config_alias)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;
	char			 text[TPATH + 256], want[TPATH];
	char			*sc;

	sc = write_file("ssh_config", ssh_config_text);
	snprintf(text, sizeof text, "SshConfig %s\n"
	    "Tunnel bridge\n"
	    "Tunnel t2\nHostName bridge\nPort 22\nUser mine\n"
	    "Tunnel boat\n"
	    "Tunnel bridge-old\n"
	    "Tunnel other\nSshConfig none\n", sc);
	cfg = load_ok(text);
	cr_assert_eq(cfg->ntunnels, 5);

	t = cfg->tunnels[0];
	cr_assert_str_eq(t->hostname, "bridge.example.com");
	cr_assert_str_eq(t->user, "tunnel");
	cr_assert_eq(t->port, 2022);
	cr_assert_eq(t->nidentity_files, 2);
	snprintf(want, sizeof want, "%s/.ssh/bridge", home);
	cr_assert_str_eq(t->identity_files[0], want);
	/* The hop is resolved through the same file: "Host b*". */
	cr_assert_eq(t->njumps, 1);
	cr_assert_str_eq(t->jumps[0].host, "bastion.fallback.example.com");
	cr_assert_str_eq(t->jumps[0].user, "jump");
	cr_assert_eq(t->jumps[0].port, 2200);
	cr_assert_str_eq(t->jumps[0].host_key_alias, "alias-%h");
	cr_assert_eq(t->jumps[0].nidentity_files, 1);
	snprintf(want, sizeof want, "%s/.ssh/second", home);
	cr_assert_str_eq(t->jumps[0].identity_files[0], want);
	cr_assert_str_eq(t->host_key_alias, "alias-%h");
	cr_assert(strstr(t->ssh_config, "/ssh_config") != NULL);

	/* HostName is the alias; what the tunnel set wins. */
	t = cfg->tunnels[1];
	cr_assert_str_eq(t->hostname, "bridge.example.com");
	cr_assert_eq(t->port, 22);
	cr_assert_str_eq(t->user, "mine");

	t = cfg->tunnels[2];
	cr_assert_str_eq(t->hostname, "boat.fallback.example.com");
	cr_assert_str_eq(t->user, "everyone");
	snprintf(want, sizeof want, "%s/.ssh/kh_b", home);
	cr_assert_str_eq(t->user_known_hosts_file, want);

	/* Negated: only "b*" and "*" apply. */
	t = cfg->tunnels[3];
	cr_assert_str_eq(t->hostname, "bridge-old.fallback.example.com");
	cr_assert_eq(t->port, 22);

	t = cfg->tunnels[4];
	cr_assert_str_eq(t->hostname, "other");
	cr_assert_null(t->ssh_config);
	cr_assert_str_eq(t->user, user_name());
	cfg_free(cfg);
}

Test(cfg, ssh_config_errors)
{
	char	text[TPATH + 64], want[TPATH * 2], *sc, *msg;

	expect_err("SshConfig /nonexistent/ssh_config\n",
	    "t.conf:1: SshConfig: cannot read /nonexistent/ssh_config: No "
	    "such file or directory");
	sc = write_file("bad_ssh_config", "Host *\n\n  Port twenty\n"
	    "  ProxyJump a,,b\n");
	snprintf(text, sizeof text, "SshConfig %s\nTunnel a\nTunnel b\n", sc);
	snprintf(want, sizeof want,
	    "%s:3: Port: expected a number from 1 to 65535, got 'twenty'\n"
	    "%s:4: ProxyJump: bad jump host in 'a,,b' (expected "
	    "[user@]host[:port], comma-separated, IPv6 in brackets)", sc, sc);
	msg = load_err(text);
	cr_assert_str_eq(msg, want);
	free(msg);
}

/* The messages of loading text through the ssh_config sc (one tunnel x). */
static char *
sc_err(const char *sc_text)
{
	char	text[TPATH + 64], sc[TPATH];

	snprintf(sc, sizeof sc, "%s", write_file("sc", sc_text));
	snprintf(text, sizeof text, "SshConfig %s\nTunnel x\n", sc);
	return load_err(text);
}

static struct tunnel_spec *
sc_spec(struct cfg **cfg, const char *sc_text, const char *block)
{
	char	text[TPATH + 256], sc[TPATH];

	snprintf(sc, sizeof sc, "%s", write_file("sc", sc_text));
	snprintf(text, sizeof text, "SshConfig %s\nTunnel x\n%s", sc, block);
	*cfg = load_ok(text);
	return only(*cfg);
}

static void
expect_sc_err(const char *sc_text, int line, const char *want)
{
	char	full[TPATH * 2], *msg;

	msg = sc_err(sc_text);
	snprintf(full, sizeof full, "%s/sc:%d: %s", home, line, want);
	cr_assert_str_eq(msg, full);
	free(msg);
}

Test(cfg, ssh_config_match_exec)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	expect_sc_err("Host x\nMatch exec \"true\"\n  Port 2\n", 2,
	    "Match exec is not supported: tunsupd runs no command to read "
	    "its configuration");
	/* As ssh: not run once an earlier criterion is false. */
	t = sc_spec(&cfg, "Match originalhost y exec \"true\"\n  Port 2\n"
	    "Match !originalhost y\n  Port 3\n", "");
	cr_assert_eq(t->port, 3);
	cfg_free(cfg);
	expect_sc_err("Match host\n", 1, "Match host: missing argument");
	expect_sc_err("Match tagged x\n", 1,
	    "Match: unsupported criterion 'tagged'");
	expect_sc_err("Match all host x\n", 1,
	    "Match all must appear alone or after canonical or final");
}

Test(cfg, ssh_config_first_value_and_final_pass)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;
	char			 want[TPATH];

	/* "Match final" matches in a second pass, where Host is the HostName. */
	t = sc_spec(&cfg, "host x\n  HOSTNAME=Real.Example\n"
	    "Host x\n  Port 5\n"
	    "Match final\n  Port 6\n  IdentityFile ~/k1\n"
	    "Host real.example\n  User second\n  IdentityFile ~/k2\n"
	    "Host *\n  IdentityFile ~/k1\n", "");
	cr_assert_str_eq(t->hostname, "real.example");
	cr_assert_eq(t->port, 5);
	cr_assert_str_eq(t->user, "second");
	cr_assert_eq(t->nidentity_files, 2);
	snprintf(want, sizeof want, "%s/k1", home);
	cr_assert_str_eq(t->identity_files[0], want);
	cfg_free(cfg);
	/* Host patterns take the name as given: "Host X" is not "x". */
	t = sc_spec(&cfg, "Host X\n  Port 7\n", "");
	cr_assert_eq(t->port, 22);
	cr_assert_str_eq(t->hostname, "x");
	cfg_free(cfg);
}

Test(cfg, ssh_config_include)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;
	char			*msg, want[TPATH * 2], path[TPATH];

	make_dir(".ssh");
	make_dir(".ssh/inc");
	write_file(".ssh/inc/b.conf", "Host x\n  User from-b\n  Port 2\n");
	write_file(".ssh/inc/a.conf", "Port 1\n");
	write_file(".ssh/cond", "User from-cond\n");
	/* Relative to ~/.ssh, in lexical order; under a false block: nothing. */
	t = sc_spec(&cfg, "Host y\n  Include cond\nHost x\n"
	    "  Include inc/*.conf inc/none*\n", "");
	cr_assert_eq(t->port, 1);
	cr_assert_str_eq(t->user, "from-b");
	cfg_free(cfg);
	/* Included files writable by others are refused, as by ssh. */
	snprintf(path, sizeof path, "%s/.ssh/inc/a.conf", home);
	cr_assert_eq(chmod(path, 0666), 0);
	msg = sc_err("Include inc/a.conf\n");
	snprintf(want, sizeof want, "%s/sc:1: Include %s: bad owner or "
	    "permissions (as ssh, an included file must be ours or root's "
	    "and writable by no one else)", home, path);
	cr_assert_str_eq(msg, want);
	free(msg);
}

Test(cfg, ssh_config_tokens)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;
	char			 want[TPATH];

	setenv("TUNSUP_T", "env", 1);
	t = sc_spec(&cfg, "Host x\n  HostName %h.example\n  User u\n"
	    "  IdentityFile ~/%r@%h:%p-%n-%%\n"
	    "  IdentityFile ${TUNSUP_T}/%k\n"
	    "  UserKnownHostsFile %d/kh\n", "Port 2022\nHostKeyAlias ka\n");
	snprintf(want, sizeof want, "%s/u@x.example:2022-x-%%", home);
	cr_assert_str_eq(t->identity_files[0], want);
	cr_assert_str_eq(t->identity_files[1], "env/ka");
	snprintf(want, sizeof want, "%s/kh", home);
	cr_assert_str_eq(t->user_known_hosts_file, want);
	cfg_free(cfg);
	expect_sc_err("IdentityFile ~/%z\n", 1,
	    "IdentityFile: unknown token %z");
	expect_sc_err("IdentityFile ${TUNSUP_UNSET_VAR}/k\n", 1,
	    "IdentityFile: environment variable TUNSUP_UNSET_VAR is not set");
}

Test(cfg, ssh_config_keywords)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;

	/* Unused ones are ignored (a warning), unless IgnoreUnknown says. */
	t = sc_spec(&cfg, "IgnoreUnknown Use*\nUseKeychain yes\n"
	    "ForwardAgent yes\nControlPath ~/.ssh/%C\nProxyCommand none\n",
	    "");
	cr_assert_null(t->jumps);
	cfg_free(cfg);
	/* Taken whole, quotes and all, as ssh takes it. */
	t = sc_spec(&cfg, "Host x\n  ProxyCommand sh -c 'nc \"%h\" %p'\n",
	    "HostName x\n");
	cr_assert_str_eq(t->proxy_command, "sh -c 'nc \"%h\" %p'");
	cfg_free(cfg);
	/* Refused: ignoring them would change where traffic goes. */
	expect_sc_err("CanonicalizeHostname yes\n", 1, "CanonicalizeHostname "
	    "yes is not supported: tunsupd connects to HostName as written");
	expect_sc_err("ClearAllForwardings yes\n", 1, "ClearAllForwardings "
	    "yes is not supported: a tunnel's forwards are what it is for: "
	    "yes would clear them");
	expect_sc_err("RetryMin 5\n", 1,
	    "RetryMin is not an ssh_config keyword");
	expect_sc_err("Port 0\n", 1,
	    "Port: expected a number from 1 to 65535, got '0'");
	/* The tunnel's own ProxyJump wins over the file's ProxyCommand. */
	t = sc_spec(&cfg, "Host x\n  ProxyCommand nc %h %p\n",
	    "ProxyJump j:2\n");
	cr_assert_eq(t->njumps, 1);
	cr_assert_str_eq(t->jumps[0].host, "j");
	cr_assert_eq(t->jumps[0].port, 2);
	cfg_free(cfg);
}

Test(cfg, ssh_config_jump_chain)
{
	struct cfg		*cfg;
	struct tunnel_spec	*t;
	char			*dump, want[TPATH];

	/* The first hop's own ProxyJump is followed; the others' are not. */
	t = sc_spec(&cfg, "Host x\n  ProxyJump mid,u@last:99\n"
	    "Host mid\n  HostName 10.0.0.2\n  ProxyJump outer\n  User m\n"
	    "Host outer\n  HostName 10.0.0.1\n  Port 2\n  HostKeyAlias o\n"
	    "Host last\n  HostName 10.0.0.3\n  ProxyJump nowhere\n"
	    "  Port 5\n  User l\n  IdentityFile ~/lk\n", "");
	cr_assert_eq(t->njumps, 3);
	dump = tunnel_spec_dump(t);
	snprintf(want, sizeof want, "proxyjump %s@10.0.0.1:2,m@10.0.0.2,"
	    "u@10.0.0.3:99\n", user_name());
	cr_assert(strstr(dump, want) != NULL, "%s", dump);
	cr_assert(strstr(dump, "jumphost 1 hostkeyalias o\n") != NULL);
	cr_assert(strstr(dump, "jumphost 3 identityfile ") != NULL);
	cr_assert_str_eq(t->jumps[0].user, user_name());
	free(dump);
	cfg_free(cfg);
	expect_sc_err("Host x\n  ProxyJump a\nHost a\n  ProxyJump b\n"
	    "Host b\n  ProxyJump a\n", 4, "ProxyJump: more than 16 jump hosts "
	    "(do the hosts name each other?)");
	expect_sc_err("Host x\n  ProxyJump a\nHost a\n  ProxyCommand nc\n", 4,
	    "ProxyCommand for jump host a is not supported: tunsupd runs a "
	    "ProxyCommand only for a tunnel without ProxyJump");
}

/* ---- the shipped example ------------------------------------------------ */

/* etc/tunsupd.conf, found from this source file's path. */
static char *
example_text(void)
{
	char	 path[TPATH], *s, *text;
	FILE	*f;
	long	 len;

	snprintf(path, sizeof path, "%s", __FILE__);
	cr_assert_not_null(s = strstr(path, "tests/unit/test_cfg.c"));
	strcpy(s, "etc/tunsupd.conf");
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, len + 1);
	cr_assert_eq(fread(text, 1, len, f), (size_t)len);
	fclose(f);
	return text;
}

Test(cfg, example_config_parses)
{
	struct cfg	*cfg;
	char		*text;

	text = example_text();
	cfg = load_ok(text);
	cr_assert_eq(cfg->ntunnels, 0);
	cfg_free(cfg);
	free(text);
}

/* With its example settings ("#Keyword", "#\tKeyword") uncommented. */
Test(cfg, example_settings_parse)
{
	struct cfg	*cfg;
	char		*text, *out, *line, *nl, *w;

	text = example_text();
	w = out = calloc(1, strlen(text) + 1);
	for (line = text; line != NULL && *line != '\0'; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		if (line[0] == '#' && line[1] != ' ' && line[1] != '#' &&
		    line[1] != '\0' && strstr(line, "SshConfig") == NULL)
			line++;
		w += sprintf(w, "%s\n", line);
	}
	cfg = load_ok(out);
	/* bridge, double tunnel, sockets, three hub sites, SOCKS */
	cr_assert_eq(cfg->ntunnels, 7);
	cr_assert_str_eq(cfg->tunnels[0]->name, "bridge-ssh");
	cr_assert_str_eq(cfg->tunnels[0]->forwards[0].listen_str,
	    "localhost:2220");
	cr_assert_str_eq(cfg->tunnels[0]->user_known_hosts_file,
	    "/etc/tunsup/known_hosts");
	cr_assert_str_eq(cfg->tunnels[1]->jumps[0].host,
	    "bastion.example.com");
	cr_assert_eq(cfg->tunnels[1]->njumps, 2);
	cr_assert_str_eq(cfg->tunnels[3]->forwards[0].listen_str,
	    "localhost:22201");
	cr_assert_eq(cfg->tunnels[2]->nforwards, 5);
	cr_assert_str_eq(cfg->control_group, "tunsup");
	cfg_free(cfg);
	free(out);
	free(text);
}

/* ---- forwards that would collide ---------------------------------------- */

Test(cfg, duplicate_local_listen_is_an_error, .init = setup, .fini = teardown)
{
	expect_err("Tunnel a\n"
	    "  LocalForward 8080 h:80\n"
	    "  DynamicForward localhost:8080\n",
	    "t.conf:1: tunnel a: two local forwards listen on localhost:8080");
}

Test(cfg, duplicate_from_defaults_is_an_error, .init = setup, .fini = teardown)
{
	expect_err("RemoteForward 2220 localhost:22\n"
	    "Tunnel a\n"
	    "  RemoteForward localhost:2220 localhost:2222\n",
	    "t.conf:2: tunnel a: two remote forwards listen on localhost:2220");
}

Test(cfg, same_port_local_and_remote_is_fine, .init = setup, .fini = teardown)
{
	struct cfg	*cfg;

	cfg = load_ok("Tunnel a\n"
	    "  LocalForward 2220 h:22\n"
	    "  RemoteForward 2220 localhost:22\n"
	    "  LocalForward 127.0.0.1:2220 h:22\n");
	cr_assert_eq(only(cfg)->nforwards, 3);
	cfg_free(cfg);
}

/* Each RemoteForward 0 gets a port of its own from the server. */
Test(cfg, several_remote_port_0_are_fine, .init = setup, .fini = teardown)
{
	struct cfg	*cfg;

	cfg = load_ok("Tunnel a\n"
	    "  RemoteForward 0 h:22\n"
	    "  RemoteForward 0 h:80\n"
	    "  RemoteForward localhost:0 h:443\n");
	cr_assert_eq(only(cfg)->nforwards, 3);
	cfg_free(cfg);
}

Test(cfg, include_of_a_fifo_is_an_error_not_a_hang, .init = setup,
    .fini = teardown, .timeout = 5)
{
	char	 path[TPATH + 16], text[TPATH + 64];
	char	*msg;

	snprintf(path, sizeof(path), "%s/fifo.conf", home);
	cr_assert_eq(mkfifo(path, 0600), 0);
	snprintf(text, sizeof(text), "Include %s\nTunnel a\n", path);
	msg = load_err(text);
	cr_assert_not_null(strstr(msg, "not a regular file"), "%s", msg);
	free(msg);
}

/*
 * Reload keeps a tunnel whose spec is "equal", and equality is decided on
 * the -T dump: every keyword of a tunnel must show in it, or a change to it
 * would be ignored on reload. Each keyword of the parser's table needs two
 * values here, and the tunnels they make must differ.
 */
Test(cfg, every_keyword_changes_the_spec, .init = setup, .fini = teardown)
{
	static const struct {
		const char	*kw;
		const char	*a, *b;
	} values[] = {
		{ "Enabled",			"yes",		"no" },
		{ "HostName",			"a",		"b" },
		{ "Port",			"22",		"2222" },
		{ "User",			"alice",	"bob" },
		{ "IdentityFile",		"/k/a",		"/k/b" },
		{ "IdentitiesOnly",		"yes",		"no" },
		{ "IdentityAgent",		"none",		"/run/agent" },
		{ "UserKnownHostsFile",		"/k/h1",	"/k/h2" },
		{ "StrictHostKeyChecking",	"yes",		"accept-new" },
		{ "HostKeyAlias",		"a",		"b" },
		{ "ProxyJump",			"j1",		"j2" },
		{ "ConnectTimeout",		"5",		"6" },
		{ "ServerAliveInterval",	"5",		"6" },
		{ "ServerAliveCountMax",	"3",		"4" },
		{ "LocalForward",		"8080 db:1",	"8080 db:2" },
		{ "RemoteForward",		"2220 h:22",	"2220 h:23" },
		{ "DynamicForward",		"1080",		"1081" },
		{ "ExitOnForwardFailure",	"yes",		"no" },
		{ "GatewayPorts",		"yes",		"no" },
		{ "StreamLocalBindUnlink",	"yes",		"no" },
		{ "Ciphers",			"aes128-ctr",	"aes256-ctr" },
		{ "Compression",		"yes",		"no" },
		{ "RetryMin",			"1s",		"2s" },
		{ "RetryMax",			"30s",		"40s" },
		{ "RetryNetworkMax",		"3s",		"4s" },
		{ "ForwardProbe",		"yes",		"no" },
		{ "FallbackHost",		"b:2222",	"u@b:2222" },
		{ "SshConfig",			"none",		"SSHCONFIG" },
		{ "ProxyCommand",		"nc %h %p",	"none" },
		{ "CertificateFile",		"/c/a-cert.pub", "/c/b-cert.pub" },
		{ "IdentityPassphraseFile",	"/p",		"credential:k" },
		{ "PasswordFile",		"credential:pw", "/pw" },
		{ "IgnoreUnknown",		"A*",		"B*" },
		{ "KexAlgorithms",		"curve25519-sha256", "+k" },
		{ "HostKeyAlgorithms",		"ssh-ed25519",	"-ssh-rsa" },
		{ "PubkeyAcceptedAlgorithms",	"ssh-ed25519",	"^x" },
		{ "PubkeyAcceptedKeyTypes",	"ssh-ed25519",	"^x" },
		{ "MACs",			"hmac-sha2-256", "hmac-sha1" },
		{ "RekeyLimit",			"1G",		"1G 1h" },
		{ "TCPKeepAlive",		"yes",		"no" },
		{ "ProxyUseFdpass",		"yes",		"no" },
		{ "BindAddress",		"127.0.0.2",	"::1" },
		{ "BindInterface",		"lo",		"eth0" },
		{ "AddressFamily",		"inet",		"any" },
		{ "HashKnownHosts",		"yes",		"no" },
		{ "RequiredRSASize",		"2048",		"1024" },
		{ "EventCommand",		"echo %s $X",	"none" },
		{ "EventCommandTimeout",	"1s",		"2s" },
		{ "LocalCommand",		"echo %h",	"echo %p" },
		{ "PermitLocalCommand",		"yes",		"no" },
		{ "ForwardProbeInterval",	"0",		"1m" },
	};
	struct cfg_errors	 errs = { NULL, 0 };
	struct tunnel_spec	*ta, *tb, *ta2, *tc;
	const char		*kw, *vb;
	char			 sshcfg[TPATH], *text, *msg;
	size_t			 i, j;
	int			 top, found;
	FILE			*f;

	snprintf(sshcfg, sizeof sshcfg, "%s/ssh_config", home);
	cr_assert_not_null(f = fopen(sshcfg, "w"));
	fclose(f);
	for (i = 0; (kw = cfg_keyword(i, &top)) != NULL; i++) {
		if (top)
			continue;
		found = 0;
		for (j = 0; j < sizeof(values) / sizeof(values[0]); j++) {
			if (strcmp(values[j].kw, kw) != 0)
				continue;
			found = 1;
			vb = strcmp(values[j].b, "SSHCONFIG") == 0 ? sshcfg :
			    values[j].b;
			/* The keyword's line first: the first value wins. */
			xasprintf(&text, "%s %s\nHostName h\n", kw, values[j].a);
			ta = cfg_parse_tunnel(NULL, "t", text, &errs, NULL);
			ta2 = cfg_parse_tunnel(NULL, "t", text, &errs, NULL);
			free(text);
			xasprintf(&text, "%s %s\nHostName h\n", kw, vb);
			tb = cfg_parse_tunnel(NULL, "t", text, &errs, NULL);
			free(text);
			msg = cfg_errors_join(&errs);
			cr_assert(ta != NULL && ta2 != NULL && tb != NULL,
			    "%s: %s", kw, msg != NULL ? msg : "?");
			free(msg);
			cfg_errors_clear(&errs);
			cr_assert(tunnel_spec_equal(ta, ta2), "%s", kw);
			/* forward and cancel start from a copy: nothing lost */
			tc = tunnel_spec_copy(tb);
			cr_assert(tunnel_spec_equal(tb, tc),
			    "%s: lost by tunnel_spec_copy", kw);
			tunnel_spec_free(tc);
			cr_assert(!tunnel_spec_equal(ta, tb),
			    "%s %s and %s %s: same spec (not in the dump?)",
			    kw, values[j].a, kw, vb);
			tunnel_spec_free(ta);
			tunnel_spec_free(ta2);
			tunnel_spec_free(tb);
		}
		cr_assert(found, "keyword %s has no values in this test: add "
		    "them, and make sure tunnel_spec_dump() shows it", kw);
	}
}

/* EventCommand and LocalCommand: taken whole; LocalCommand's tokens checked. */
Test(cfg, commands)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct tunnel_spec	*t;
	char			*msg;

	t = cfg_parse_tunnel(NULL, "t", "HostName h\n"
	    "EventCommand  logger -t \"tunsup %s\" 100%  \n"
	    "LocalCommand=echo '%n %h:%p %r %u %d %l %L %%'\n"
	    "PermitLocalCommand yes\nForwardProbeInterval 2m\n", &errs, NULL);
	cr_assert_not_null(t);
	cr_assert_str_eq(t->event_command, "logger -t \"tunsup %s\" 100%");
	cr_assert_str_eq(t->local_command, "echo '%n %h:%p %r %u %d %l %L %%'");
	cr_assert_eq(t->permit_local_command, 1);
	cr_assert_eq(t->forward_probe_interval_ms, 120000);
	cr_assert_eq(t->event_command_timeout_ms, 10000);
	tunnel_spec_free(t);

	cr_assert_null(cfg_parse_tunnel(NULL, "t", "HostName h\n"
	    "LocalCommand echo %z\nLocalCommand echo 5%\nEventCommand\n"
	    "EventCommandTimeout 0\n", &errs, NULL));
	msg = cfg_errors_join(&errs);
	cr_assert_str_eq(msg,
	    "<add>:2: LocalCommand: unknown token %z (it takes %d, %h, %l, "
	    "%L, %n, %p, %r, %u and %%)\n"
	    "<add>:3: LocalCommand: a % ends the line (%% is one %)\n"
	    "<add>:4: EventCommand: missing argument\n"
	    "<add>:5: EventCommandTimeout: must be greater than 0");
	free(msg);
	cfg_errors_clear(&errs);
}
