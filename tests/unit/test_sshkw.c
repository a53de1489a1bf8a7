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
 * test_sshkw.c: the ssh_config(5) keyword catalogue (sshkw.c) and how the
 * parser uses it.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "sshkw.h"

/* ssh_config(5) of OpenSSH 9.2 (man ssh_config), every keyword. */
static const char *const ssh92[] = {
	"AddKeysToAgent", "AddressFamily", "BatchMode", "BindAddress",
	"BindInterface", "CanonicalDomains", "CanonicalizeFallbackLocal",
	"CanonicalizeHostname", "CanonicalizeMaxDots",
	"CanonicalizePermittedCNAMEs", "CASignatureAlgorithms",
	"CertificateFile", "CheckHostIP", "Ciphers", "ClearAllForwardings",
	"Compression", "ConnectionAttempts", "ConnectTimeout", "ControlMaster",
	"ControlPath", "ControlPersist", "DynamicForward",
	"EnableEscapeCommandline", "EnableSSHKeysign", "EscapeChar",
	"ExitOnForwardFailure", "FingerprintHash", "ForkAfterAuthentication",
	"ForwardAgent", "ForwardX11", "ForwardX11Timeout",
	"ForwardX11Trusted", "GatewayPorts", "GlobalKnownHostsFile",
	"GSSAPIAuthentication", "GSSAPIClientIdentity",
	"GSSAPIDelegateCredentials", "GSSAPIKexAlgorithms",
	"GSSAPIKeyExchange", "GSSAPIRenewalForcesRekey",
	"GSSAPIServerIdentity", "GSSAPITrustDns", "HashKnownHosts", "Host",
	"HostbasedAcceptedAlgorithms", "HostbasedAuthentication",
	"HostKeyAlgorithms", "HostKeyAlias", "Hostname", "IdentitiesOnly",
	"IdentityAgent", "IdentityFile", "IgnoreUnknown", "Include", "IPQoS",
	"KbdInteractiveAuthentication", "KbdInteractiveDevices",
	"KexAlgorithms", "KnownHostsCommand", "LocalCommand", "LocalForward",
	"LogLevel", "LogVerbose", "MACs", "Match",
	"NoHostAuthenticationForLocalhost", "NumberOfPasswordPrompts",
	"PasswordAuthentication", "PermitLocalCommand", "PermitRemoteOpen",
	"PKCS11Provider", "Port", "PreferredAuthentications", "ProxyCommand",
	"ProxyJump", "ProxyUseFdpass", "PubkeyAcceptedAlgorithms",
	"PubkeyAuthentication", "RekeyLimit", "RemoteCommand", "RemoteForward",
	"RequestTTY", "RequiredRSASize", "RevokedHostKeys",
	"SecurityKeyProvider", "SendEnv", "ServerAliveCountMax",
	"ServerAliveInterval", "SessionType", "SetEnv", "StdinNull",
	"StreamLocalBindMask", "StreamLocalBindUnlink",
	"StrictHostKeyChecking", "SyslogFacility", "TCPKeepAlive", "Tunnel",
	"TunnelDevice", "UpdateHostKeys", "User", "UserKnownHostsFile",
	"VerifyHostKeyDNS", "VisualHostKey", "XAuthLocation",
	/* still accepted by its parser: old names, deprecated, unsupported */
	"PubkeyAcceptedKeyTypes", "HostbasedKeyTypes",
	"ChallengeResponseAuthentication", "DSAAuthentication",
	"SkeyAuthentication", "TISAuthentication", "IdentityFile2",
	"SmartcardDevice", "Cipher", "Protocol", "CompressionLevel",
	"FallbackToRsh", "GlobalKnownHostsFile2", "RhostsAuthentication",
	"UserKnownHostsFile2", "UseRoaming", "UseRsh", "UsePrivilegedPort",
	"AFSTokenPassing", "KerberosAuthentication", "KerberosTGTPassing",
	"RSAAuthentication", "RhostsRSAAuthentication",
	/* Debian's */
	"UseBlacklistedKeys", "ProtocolKeepAlives", "SetupTimeout",
};

/* tunsupd.conf(5) keywords that are tunsupd's own, not ssh's. */
static const char *const own[] = {
	"ControlGroup", "Enabled", "RetryMin", "RetryMax", "RetryNetworkMax",
	"ForwardProbe", "SshConfig", "IdentityPassphraseFile", "PasswordFile",
	"StateFile", "EventCommand", "EventCommandTimeout",
	"ForwardProbeInterval", "FallbackHost", "MetricsListen",
};

static int
in_list(const char *const *list, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcasecmp(list[i], name) == 0)
			return 1;
	}
	return 0;
}

static int
cfg_has(const char *name)
{
	const char	*kw;
	size_t		 i;
	int		 top;

	for (i = 0; (kw = cfg_keyword(i, &top)) != NULL; i++) {
		if (strcasecmp(kw, name) == 0)
			return 1;
	}
	return 0;
}

Test(sshkw, every_ssh_keyword_is_known)
{
	size_t	i;

	for (i = 0; i < sizeof(ssh92) / sizeof(ssh92[0]); i++)
		cr_assert_not_null(sshkw_find(ssh92[i]), "%s", ssh92[i]);
	cr_assert_not_null(sshkw_find("hostname"));
	cr_assert_not_null(sshkw_find("KEXALGORITHMS"));
	cr_assert_null(sshkw_find("UseKeychain"), "Apple's, not OpenSSH's");
	cr_assert_null(sshkw_find("RetryMin"));
}

/* One entry per keyword, in order, each with a reason; no invention. */
Test(sshkw, table_shape)
{
	const struct sshkw	*k, *prev = NULL;
	size_t			 i;

	for (i = 0; (k = sshkw_get(i)) != NULL; i++) {
		cr_assert(in_list(ssh92, sizeof(ssh92) / sizeof(ssh92[0]),
		    k->name), "%s is no ssh keyword", k->name);
		cr_assert_not_null(k->why, "%s", k->name);
		cr_assert_neq(*k->why, '\0', "%s", k->name);
		if (prev != NULL)
			cr_assert_lt(strcasecmp(prev->name, k->name), 0,
			    "%s before %s", prev->name, k->name);
		prev = k;
	}
	cr_assert_eq(i, sizeof(ssh92) / sizeof(ssh92[0]));
}

/*
 * An honoured keyword is one the parser has; every keyword the parser has
 * is either ssh's (and honoured) or tunsupd's own.
 */
Test(sshkw, honoured_means_parsed)
{
	const struct sshkw	*k;
	const char		*kw;
	size_t			 i;
	int			 top;

	for (i = 0; (k = sshkw_get(i)) != NULL; i++) {
		if (k->use == SSHKW_HONOURED)
			cr_assert(cfg_has(k->name), "%s", k->name);
		else
			cr_assert_not(cfg_has(k->name), "%s", k->name);
	}
	for (i = 0; (kw = cfg_keyword(i, &top)) != NULL; i++) {
		k = sshkw_find(kw);
		if (k == NULL)
			cr_assert(in_list(own, sizeof(own) / sizeof(own[0]),
			    kw), "%s: neither ssh's nor tunsupd's own", kw);
		else
			cr_assert_eq(k->use, SSHKW_HONOURED, "%s", kw);
	}
}

Test(sshkw, judge)
{
	cr_assert_eq(sshkw_judge(sshkw_find("BatchMode"), "yes"), SSHKW_SAME);
	cr_assert_eq(sshkw_judge(sshkw_find("batchmode"), "TRUE"), SSHKW_SAME);
	cr_assert_eq(sshkw_judge(sshkw_find("BatchMode"), "no"),
	    SSHKW_IGNORED);
	cr_assert_eq(sshkw_judge(sshkw_find("ForwardAgent"), "no"),
	    SSHKW_SAME);
	cr_assert_eq(sshkw_judge(sshkw_find("ForwardAgent"), "yes"),
	    SSHKW_IGNORED);
	cr_assert_eq(sshkw_judge(sshkw_find("PasswordAuthentication"), "no"),
	    SSHKW_SAME);
	cr_assert_eq(sshkw_judge(sshkw_find("CanonicalizeHostname"), "no"),
	    SSHKW_SAME);
	cr_assert_eq(sshkw_judge(sshkw_find("CanonicalizeHostname"), "yes"),
	    SSHKW_REFUSED);
	cr_assert_eq(sshkw_judge(sshkw_find("ClearAllForwardings"), "yes"),
	    SSHKW_REFUSED);
	cr_assert_eq(sshkw_judge(sshkw_find("Match"), "all"), SSHKW_REFUSED);
	cr_assert_eq(sshkw_judge(sshkw_find("XAuthLocation"), "/x"),
	    SSHKW_SAME);
	cr_assert_eq(sshkw_judge(sshkw_find("GlobalKnownHostsFile"),
	    "/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2"), SSHKW_SAME);
	cr_assert_eq(sshkw_judge(sshkw_find("GlobalKnownHostsFile"),
	    "/tmp/kh"), SSHKW_REFUSED);
	/* "yes" is no prefix of "yesno", nor a word of "no|yes" by halves */
	cr_assert_eq(sshkw_judge(sshkw_find("BatchMode"), "ye"),
	    SSHKW_IGNORED);
	cr_assert_eq(sshkw_judge(sshkw_find("BatchMode"), "yess"),
	    SSHKW_IGNORED);
	cr_assert_eq(sshkw_judge(sshkw_find("KexAlgorithms"), "x"),
	    SSHKW_HONOURED);
}

Test(sshkw, ignore_unknown_patterns)
{
	cr_assert(sshkw_ignore_unknown("UseKeychain", "usekeychain"));
	cr_assert(sshkw_ignore_unknown("foo,UseKey*", "UseKeychain"));
	cr_assert(sshkw_ignore_unknown("Use?eychain", "UseKeychain"));
	cr_assert(sshkw_ignore_unknown("*", "anything"));
	cr_assert_not(sshkw_ignore_unknown("UseKey", "UseKeychain"));
	cr_assert_not(sshkw_ignore_unknown(",,", "x"));
	cr_assert_not(sshkw_ignore_unknown(NULL, "x"));
	cr_assert_not(sshkw_ignore_unknown("", "x"));
}
