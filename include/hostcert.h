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
 * hostcert.h: a server's OpenSSH host certificate checked as ssh(1) checks
 * it against the known_hosts lines for the host: @cert-authority names the
 * authorities that may sign it, @revoked the authorities and keys refused
 * (tunsupd.conf(5), UserKnownHostsFile). libssh negotiates such a key (the
 * bundled libssh's host-cert-kex patch) but does not look inside it. The
 * format is OpenSSH's (ssh-keygen(1), CERTIFICATES).
 */
#ifndef TUNSUP_HOSTCERT_H
#define TUNSUP_HOSTCERT_H

#include <stddef.h>
#include <time.h>

#include <libssh/libssh.h>

struct kh_marks;

/* Is the key a certificate (of any kind)? */
int	 hostcert_is_cert(ssh_key);

/*
 * The certificate (its wire form: blob, n) is accepted for principal (the
 * HostKeyAlias, else the host name) if neither its authority nor its key
 * is @revoked in m, its authority is one of m's @cert-authority keys, the
 * authority's signature verifies (Ed25519, ECDSA, RSA with SHA-2), it is a
 * host certificate, valid at now, listing principal (patterns with * and
 * ?; no principals: any host) and without critical options. 0, or
 * HOSTCERT_REFUSED, or HOSTCERT_REVOKED (its authority or key is @revoked:
 * nothing may accept it), with *why (allocated) naming the reason and the
 * known_hosts FILE:LINE that applies.
 */
#define HOSTCERT_REFUSED	(-1)
#define HOSTCERT_REVOKED	(-2)

int	 hostcert_check_blob(const unsigned char *blob, size_t n,
	    const char *principal, const struct kh_marks *m, time_t now,
	    char **why);
/* The same for a certificate as libssh gives it. */
int	 hostcert_check(ssh_key cert, const char *principal,
	    const struct kh_marks *m, time_t now, char **why);

/*
 * The certified key without its certificate (ssh falls back to it when no
 * authority vouches), or NULL.
 */
ssh_key	 hostcert_plain_key(ssh_key cert);

#endif
