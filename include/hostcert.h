/*
 * hostcert.h: a server's OpenSSH host certificate checked as ssh(1) checks
 * it against the certificate authorities known_hosts names for the host
 * (tunsupd.conf(5), UserKnownHostsFile). libssh negotiates such a key but
 * does not look inside it; the format is OpenSSH's PROTOCOL.certkeys.
 */
#ifndef TUNSUP_HOSTCERT_H
#define TUNSUP_HOSTCERT_H

#include <stddef.h>
#include <time.h>

#include <libssh/libssh.h>

/* Is the key a certificate (of any kind)? */
int	 hostcert_is_cert(ssh_key);

/*
 * The certificate is accepted if it is a host certificate, valid at now,
 * for principal (patterns allowed, as ssh), with no critical option,
 * signed by one of the authorities cas (base64 public keys, as known_hosts
 * writes them) with a signature that verifies, and neither that authority
 * nor the certified key is in revoked (base64 public keys). 0, or -1 with
 * *why (allocated) saying what failed.
 */
int	 hostcert_check(ssh_key cert, const char *principal,
	    char *const *cas, size_t ncas, char *const *revoked,
	    size_t nrevoked, time_t now, char **why);

#endif
