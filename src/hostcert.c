/*
 * hostcert.c: OpenSSH host certificates checked as ssh(1) does (see
 * hostcert.h). A certificate is the certified key's fields, then its
 * serial, type, key id, principals, validity, critical options,
 * extensions, the signing authority's public key and that authority's
 * signature over everything before it. Authorities with Ed25519 and RSA
 * keys (rsa-sha2-256, rsa-sha2-512) are verified here with libcrypto.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "hostcert.h"
#include "knownhosts.h"
#include "util.h"

#define CERT_TYPE_HOST	2

/* The kinds of certified key: the certificate's type, the key's. */
static const struct certkind {
	const char	*cert;
	const char	*plain;
	int		 nfields;	/* strings after the nonce */
} certkinds[] = {
	{ "ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519", 1 },
	{ "ssh-rsa-cert-v01@openssh.com", "ssh-rsa", 2 },
	{ "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256", 2 },
	{ "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384", 2 },
	{ "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ecdsa-sha2-nistp521", 2 },
};

/* A reader of the wire format: big-endian integers, length-first strings. */
struct rd {
	const unsigned char	*p;
	size_t			 n;
};

static int
rd_u32(struct rd *r, uint32_t *v)
{
	if (r->n < 4)
		return -1;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->n -= 4;
	return 0;
}

static int
rd_u64(struct rd *r, uint64_t *v)
{
	uint32_t	hi, lo;

	if (rd_u32(r, &hi) != 0 || rd_u32(r, &lo) != 0)
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static int
rd_str(struct rd *r, struct rd *s)
{
	uint32_t	len;

	if (rd_u32(r, &len) != 0 || len > r->n)
		return -1;
	s->p = r->p;
	s->n = len;
	r->p += len;
	r->n -= len;
	return 0;
}

static int
rd_is(const struct rd *s, const char *want)
{
	return s->n == strlen(want) && memcmp(s->p, want, s->n) == 0;
}

/* Standard base64 of n bytes (allocated). */
static char *
b64(const unsigned char *p, size_t n)
{
	char	*out;

	out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* Is the public key blob (p, n) one of list (base64)? */
static int
in_list(const unsigned char *p, size_t n, char *const *list, size_t nlist)
{
	char	*s = b64(p, n);
	size_t	 i;
	int	 found = 0;

	for (i = 0; i < nlist && !found; i++)
		found = strcmp(s, list[i]) == 0;
	free(s);
	return found;
}

/* The certificate's bytes: its public key blob, decoded. */
static unsigned char *
cert_blob(ssh_key cert, size_t *n)
{
	unsigned char	*out;
	char		*s = NULL;
	size_t		 len, pad = 0;
	int		 r;

	if (ssh_pki_export_pubkey_base64(cert, &s) != SSH_OK)
		return NULL;
	len = strlen(s);
	while (len > pad && s[len - 1 - pad] == '=')
		pad++;
	out = xmalloc(len / 4 * 3 + 3);
	r = EVP_DecodeBlock(out, (unsigned char *)s, (int)len);
	ssh_string_free_char(s);
	if (r < 0 || (size_t)r < pad) {
		free(out);
		return NULL;
	}
	*n = (size_t)r - pad;
	return out;
}

static EVP_PKEY *
rsa_key(struct rd *ca)
{
	struct rd	 e, n;
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*pc = NULL;
	EVP_PKEY	*pkey = NULL;
	BIGNUM		*be = NULL, *bn = NULL;

	if (rd_str(ca, &e) != 0 || rd_str(ca, &n) != 0 ||
	    (be = BN_bin2bn(e.p, (int)e.n, NULL)) == NULL ||
	    (bn = BN_bin2bn(n.p, (int)n.n, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pc) <= 0 ||
	    EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(be);
	BN_free(bn);
	return pkey;
}

/*
 * Does sig (type and blob) by the authority's key ca verify over the
 * signed bytes? 1 yes, 0 no, -1 a kind of key or signature not checked
 * here (*why set).
 */
static int
verify(struct rd ca, struct rd sig, const unsigned char *data, size_t n,
    char **why)
{
	struct rd	 type, stype, sblob, pk;
	const EVP_MD	*md = NULL;
	EVP_PKEY	*pkey = NULL;
	EVP_MD_CTX	*ctx;
	int		 r = 0;

	if (rd_str(&ca, &type) != 0 || rd_str(&sig, &stype) != 0 ||
	    rd_str(&sig, &sblob) != 0)
		return 0;
	if (rd_is(&type, "ssh-ed25519")) {
		if (!rd_is(&stype, "ssh-ed25519") || rd_str(&ca, &pk) != 0 ||
		    pk.n != 32)
			return 0;
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    pk.p, pk.n);
	} else if (rd_is(&type, "ssh-rsa")) {
		/* ssh-rsa (SHA-1) signatures: refused, as OpenSSH 8.8 on. */
		if (rd_is(&stype, "rsa-sha2-256"))
			md = EVP_sha256();
		else if (rd_is(&stype, "rsa-sha2-512"))
			md = EVP_sha512();
		else
			return 0;
		pkey = rsa_key(&ca);
	} else {
		xasprintf(why, "its authority's key type %.*s is not supported "
		    "(use an Ed25519 or RSA certificate authority)",
		    (int)type.n, (const char *)type.p);
		return -1;
	}
	if (pkey == NULL || (ctx = EVP_MD_CTX_new()) == NULL) {
		EVP_PKEY_free(pkey);
		return 0;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) == 1 &&
	    EVP_DigestVerify(ctx, sblob.p, sblob.n, data, n) == 1)
		r = 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return r;
}

int
hostcert_is_cert(ssh_key key)
{
	const char	*t = ssh_key_type_to_char(ssh_key_type(key));

	return t != NULL && strstr(t, "-cert-v01@openssh.com") != NULL;
}

int
hostcert_check(ssh_key cert, const char *principal, char *const *cas,
    size_t ncas, char *const *revoked, size_t nrevoked, time_t now,
    char **why)
{
	const struct certkind	*kind = NULL;
	struct rd		 r, s, type, keyfields, principals, crit, ca, sig;
	unsigned char		*blob, *plain = NULL;
	const unsigned char	*keystart;
	char			*name;
	uint64_t		 serial, after, before;
	uint32_t		 ctype;
	size_t			 n, i, plen;
	int			 ok = -1, found = 0;

	*why = NULL;
	if ((blob = cert_blob(cert, &n)) == NULL) {
		*why = xstrdup("its certificate cannot be read");
		return -1;
	}
	r.p = blob;
	r.n = n;
	if (rd_str(&r, &type) != 0 || rd_str(&r, &s) != 0)
		goto bad;
	for (i = 0; i < nitems(certkinds); i++) {
		if (rd_is(&type, certkinds[i].cert))
			kind = &certkinds[i];
	}
	if (kind == NULL) {
		xasprintf(why, "its certificate type %.*s is not supported",
		    (int)type.n, (const char *)type.p);
		goto out;
	}
	keystart = r.p;
	for (i = 0; i < (size_t)kind->nfields; i++) {
		if (rd_str(&r, &s) != 0)
			goto bad;
	}
	keyfields.p = keystart;
	keyfields.n = (size_t)(r.p - keystart);
	if (rd_u64(&r, &serial) != 0 || rd_u32(&r, &ctype) != 0 ||
	    rd_str(&r, &s) != 0 || rd_str(&r, &principals) != 0 ||
	    rd_u64(&r, &after) != 0 || rd_u64(&r, &before) != 0 ||
	    rd_str(&r, &crit) != 0 || rd_str(&r, &s) != 0 ||
	    rd_str(&r, &s) != 0 || rd_str(&r, &ca) != 0)
		goto bad;
	n = (size_t)(r.p - blob);	/* what the authority signed */
	if (rd_str(&r, &sig) != 0 || r.n != 0)
		goto bad;

	if (ctype != CERT_TYPE_HOST) {
		*why = xstrdup("its certificate is not a host certificate");
		goto out;
	}
	if ((uint64_t)now < after || (uint64_t)now >= before) {
		xasprintf(why, "its certificate is %s",
		    (uint64_t)now < after ? "not valid yet" : "expired");
		goto out;
	}
	if (crit.n != 0) {
		*why = xstrdup("its certificate has a critical option "
		    "tunsupd does not know");
		goto out;
	}
	while (principals.n > 0 && !found) {
		if (rd_str(&principals, &s) != 0)
			goto bad;
		xasprintf(&name, "%.*s", (int)s.n, (const char *)s.p);
		found = kh_host_match(name, principal);
		free(name);
	}
	if (!found) {
		xasprintf(why, "its certificate is not valid for %s "
		    "(principals)", principal);
		goto out;
	}
	if (!in_list(ca.p, ca.n, cas, ncas)) {
		*why = xstrdup("its certificate is signed by an authority "
		    "known_hosts does not name for it");
		goto out;
	}
	/* The certified key, as a plain public key blob: @revoked? */
	plen = 4 + strlen(kind->plain) + keyfields.n;
	plain = xmalloc(plen);
	i = strlen(kind->plain);
	plain[0] = (unsigned char)(i >> 24);
	plain[1] = (unsigned char)(i >> 16);
	plain[2] = (unsigned char)(i >> 8);
	plain[3] = (unsigned char)i;
	memcpy(plain + 4, kind->plain, i);
	memcpy(plain + 4 + i, keyfields.p, keyfields.n);
	if (in_list(ca.p, ca.n, revoked, nrevoked) ||
	    in_list(plain, plen, revoked, nrevoked)) {
		xasprintf(why, "its %s is marked @revoked in known_hosts",
		    in_list(ca.p, ca.n, revoked, nrevoked) ?
		    "certificate authority" : "key");
		goto out;
	}
	switch (verify(ca, sig, blob, n, why)) {
	case 1:
		ok = 0;
		break;
	case 0:
		*why = xstrdup("its certificate's signature does not verify");
		break;
	}
	goto out;
bad:
	*why = xstrdup("its certificate is malformed");
out:
	free(plain);
	free(blob);
	return ok;
}
