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
 * sshkw.c: the ssh_config(5) keyword catalogue (see sshkw.h).
 *
 * One entry per keyword OpenSSH 9.2 reads (ssh_config(5), and the
 * deprecated and unsupported names its parser still accepts), in
 * alphabetical order. tunsupd.conf(5) lists the same keywords in its
 * SSH_CONFIG KEYWORDS section; tests/integration/docs.sh keeps both equal.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sshkw.h"
#include "util.h"

#define H(n, w)		{ n, SSHKW_HONOURED, NULL, w }
#define SAME(n, w)	{ n, SSHKW_SAME, NULL, w }
#define IGN(n, v, w)	{ n, SSHKW_IGNORED, v, w }
#define REF(n, v, w)	{ n, SSHKW_REFUSED, v, w }

#define W_OWN		"see KEYWORDS"
#define W_NOCMD		"tunsupd never opens a session: no shell, command or " \
			"terminal"
#define W_NOX11		"tunsupd never forwards X11"
#define W_NOMUX		"tunsupd holds one session per tunnel itself"
#define W_KEYONLY	"tunsupd authenticates with keys, and with a password " \
			"only from PasswordFile"
#define W_OLD		"obsolete, OpenSSH ignores it too"
#define W_LOG		"tunsupd logs by its own options (tunsupd -v, -q)"
#define W_CANON		"tunsupd connects to HostName as written"
#define W_CASIG		"certificate authorities may sign as ssh allows by default " \
			"(Ed25519, ECDSA, RSA with SHA-2; not ssh-rsa)"

static const struct sshkw sshkw[] = {
	IGN("AddKeysToAgent", "no", "tunsupd never adds keys to an agent"),
	H("AddressFamily", W_OWN),
	IGN("AFSTokenPassing", NULL, W_OLD),
	IGN("BatchMode", "yes|true", "tunsupd never asks anything"),
	H("BindAddress", W_OWN),
	H("BindInterface", W_OWN),
	SAME("CanonicalDomains", W_CANON),
	SAME("CanonicalizeFallbackLocal", W_CANON),
	REF("CanonicalizeHostname", "no|false", W_CANON),
	SAME("CanonicalizeMaxDots", W_CANON),
	SAME("CanonicalizePermittedCNAMEs", W_CANON),
	IGN("CASignatureAlgorithms", NULL, W_CASIG),
	H("CertificateFile", W_OWN),
	IGN("ChallengeResponseAuthentication", "no|false", W_KEYONLY),
	IGN("CheckHostIP", "no|false",
	    "tunsupd checks the host key under the host's name only"),
	IGN("Cipher", NULL, W_OLD),
	H("Ciphers", W_OWN),
	REF("ClearAllForwardings", "no|false",
	    "a tunnel's forwards are what it is for: yes would clear them"),
	H("Compression", W_OWN),
	IGN("CompressionLevel", NULL, W_OLD),
	IGN("ConnectionAttempts", NULL,
	    "tunsupd retries for ever, with backoff (RetryMin, RetryMax)"),
	H("ConnectTimeout", W_OWN),
	IGN("ControlMaster", "no|false", W_NOMUX),
	IGN("ControlPath", "none", W_NOMUX),
	IGN("ControlPersist", "no|false", W_NOMUX),
	IGN("DSAAuthentication", "yes|true", W_OLD),
	H("DynamicForward", W_OWN),
	SAME("EnableEscapeCommandline", W_NOCMD),
	IGN("EnableSSHKeysign", "no|false", W_KEYONLY),
	SAME("EscapeChar", W_NOCMD),
	H("ExitOnForwardFailure", W_OWN),
	IGN("FallbackToRsh", NULL, W_OLD),
	IGN("FingerprintHash", "sha256",
	    "tunsupd shows SHA256 fingerprints"),
	SAME("ForkAfterAuthentication",
	    "tunsupd runs in the background already"),
	IGN("ForwardAgent", "no|false",
	    "tunsupd never forwards the agent: it opens no session on the "
	    "server"),
	IGN("ForwardX11", "no|false", W_NOX11),
	SAME("ForwardX11Timeout", W_NOX11),
	SAME("ForwardX11Trusted", W_NOX11),
	H("GatewayPorts", W_OWN),
	REF("GlobalKnownHostsFile",
	    "/etc/ssh/ssh_known_hosts|/etc/ssh/ssh_known_hosts "
	    "/etc/ssh/ssh_known_hosts2",
	    "tunsupd trusts /etc/ssh/ssh_known_hosts only, for now"),
	IGN("GlobalKnownHostsFile2", NULL, W_OLD),
	IGN("GSSAPIAuthentication", "no|false", W_KEYONLY),
	SAME("GSSAPIClientIdentity", W_KEYONLY),
	IGN("GSSAPIDelegateCredentials", "no|false", W_KEYONLY),
	SAME("GSSAPIKexAlgorithms", W_KEYONLY),
	IGN("GSSAPIKeyExchange", "no|false", W_KEYONLY),
	SAME("GSSAPIRenewalForcesRekey", W_KEYONLY),
	SAME("GSSAPIServerIdentity", W_KEYONLY),
	SAME("GSSAPITrustDns", W_KEYONLY),
	H("HashKnownHosts", W_OWN),
	REF("Host", NULL, "use \"Tunnel NAME\" blocks, or \"SshConfig FILE\" "
	    "to read an ssh_config"),
	SAME("HostbasedAcceptedAlgorithms", W_KEYONLY),
	IGN("HostbasedAuthentication", "no|false", W_KEYONLY),
	SAME("HostbasedKeyTypes", W_KEYONLY),
	H("HostKeyAlgorithms", W_OWN),
	H("HostKeyAlias", W_OWN),
	H("HostName", W_OWN),
	H("IdentitiesOnly", W_OWN),
	H("IdentityAgent", W_OWN),
	H("IdentityFile", W_OWN),
	IGN("IdentityFile2", NULL, W_OLD),
	H("IgnoreUnknown", W_OWN),
	H("Include", "tunsupd's own Include, at top level only"),
	IGN("IPQoS", NULL, "tunsupd leaves the type of service as it is"),
	IGN("KbdInteractiveAuthentication", "no|false", W_KEYONLY),
	SAME("KbdInteractiveDevices", W_KEYONLY),
	IGN("KerberosAuthentication", NULL, W_OLD),
	IGN("KerberosTGTPassing", NULL, W_OLD),
	H("KexAlgorithms", W_OWN),
	IGN("KnownHostsCommand", "none",
	    "not supported: tunsupd reads known_hosts files only"),
	H("LocalCommand", W_OWN),
	H("LocalForward", W_OWN),
	IGN("LogLevel", NULL, W_LOG),
	IGN("LogVerbose", NULL, W_LOG),
	H("MACs", W_OWN),
	REF("Match", NULL, "use \"Tunnel NAME\" blocks, or \"SshConfig FILE\" "
	    "to read an ssh_config"),
	IGN("NoHostAuthenticationForLocalhost", "no|false",
	    "tunsupd checks every host key, localhost's too"),
	SAME("NumberOfPasswordPrompts", W_KEYONLY),
	IGN("PasswordAuthentication", "no|false", W_KEYONLY),
	H("PermitLocalCommand", W_OWN),
	REF("PermitRemoteOpen", "any",
	    "tunsupd cannot restrict the targets of a remote dynamic forward "
	    "yet; ignoring it would let the server open any"),
	IGN("PKCS11Provider", "none", "PKCS#11 keys are not supported"),
	H("Port", W_OWN),
	IGN("PreferredAuthentications", "publickey", W_KEYONLY),
	IGN("Protocol", "2", W_OLD),
	IGN("ProtocolKeepAlives", NULL, "Debian's old name for "
	    "ServerAliveInterval: use that"),
	H("ProxyCommand", W_OWN),
	H("ProxyJump", W_OWN),
	H("ProxyUseFdpass", W_OWN),
	H("PubkeyAcceptedAlgorithms", W_OWN),
	H("PubkeyAcceptedKeyTypes", "the old name of PubkeyAcceptedAlgorithms"),
	REF("PubkeyAuthentication", "yes|true",
	    "tunsupd authenticates with keys only: it cannot do without"),
	H("RekeyLimit", W_OWN),
	IGN("RemoteCommand", "none", W_NOCMD),
	H("RemoteForward", W_OWN),
	IGN("RequestTTY", "no|false", W_NOCMD),
	H("RequiredRSASize", W_OWN),
	REF("RevokedHostKeys", "none",
	    "tunsupd cannot read a revocation list yet: use @revoked lines in "
	    "known_hosts"),
	IGN("RhostsAuthentication", NULL, W_OLD),
	IGN("RhostsRSAAuthentication", NULL, W_OLD),
	IGN("RSAAuthentication", NULL, W_OLD),
	IGN("SecurityKeyProvider", "internal",
	    "FIDO security keys are not supported"),
	IGN("SendEnv", NULL, W_NOCMD),
	H("ServerAliveCountMax", W_OWN),
	H("ServerAliveInterval", W_OWN),
	IGN("SessionType", "none", W_NOCMD),
	IGN("SetEnv", NULL, W_NOCMD),
	IGN("SetupTimeout", NULL, "Debian's old name for ConnectTimeout: "
	    "use that"),
	IGN("SkeyAuthentication", "no|false", W_OLD),
	IGN("SmartcardDevice", "none", "PKCS#11 keys are not supported"),
	SAME("StdinNull", "tunsupd reads no standard input"),
	REF("StreamLocalBindMask", "0177|177",
	    "tunsupd creates forwarded sockets with mode 0600 only, for now"),
	H("StreamLocalBindUnlink", W_OWN),
	H("StrictHostKeyChecking", W_OWN),
	IGN("SyslogFacility", NULL, W_LOG),
	H("TCPKeepAlive", W_OWN),
	IGN("TISAuthentication", "no|false", W_OLD),
	H("Tunnel", "tunsupd's own Tunnel NAME starts a tunnel block; ssh's "
	    "tun device forwarding is not supported, and Tunnel yes, no, "
	    "point-to-point or ethernet is an error"),
	IGN("TunnelDevice", NULL, "tun devices are not supported"),
	IGN("UpdateHostKeys", "no|false",
	    "tunsupd records a host key only under StrictHostKeyChecking "
	    "accept-new"),
	IGN("UseBlacklistedKeys", NULL, W_OLD),
	IGN("UsePrivilegedPort", "no|false", W_OLD),
	H("User", W_OWN),
	H("UserKnownHostsFile", W_OWN),
	IGN("UserKnownHostsFile2", NULL, W_OLD),
	IGN("UseRoaming", NULL, W_OLD),
	IGN("UseRsh", NULL, W_OLD),
	IGN("VerifyHostKeyDNS", "no|false",
	    "tunsupd trusts known_hosts only, never DNS"),
	IGN("VisualHostKey", "no|false", "tunsupd shows no host key art"),
	SAME("XAuthLocation", W_NOX11),
};

const struct sshkw *
sshkw_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(sshkw); i++) {
		if (strcasecmp(name, sshkw[i].name) == 0)
			return &sshkw[i];
	}
	return NULL;
}

const struct sshkw *
sshkw_get(size_t i)
{
	return i < nitems(sshkw) ? &sshkw[i] : NULL;
}

enum sshkw_use
sshkw_judge(const struct sshkw *k, const char *value)
{
	if (k->use == SSHKW_HONOURED)
		return SSHKW_HONOURED;
	if (k->values != NULL && list_has_word(k->values, '|', value))
		return SSHKW_SAME;
	return k->use;
}

int
sshkw_ignore_unknown(const char *patterns, const char *keyword)
{
	char	*list, *pat, *next;
	int	 found = 0;

	if (patterns == NULL)
		return 0;
	list = xstrdup(patterns);
	for (pat = list; pat != NULL && !found; pat = next) {
		if ((next = strchr(pat, ',')) != NULL)
			*next++ = '\0';
		if (*pat != '\0' && fnmatch(pat, keyword, FNM_CASEFOLD) == 0)
			found = 1;
	}
	free(list);
	return found;
}
