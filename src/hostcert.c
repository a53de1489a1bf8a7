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
 * hostcert.c: OpenSSH host certificates checked as ssh(1) does (see
 * hostcert.h). A certificate is its type and nonce, the certified key's
 * fields, then its serial, type (user 1, host 2), key id, principals,
 * validity, critical options, extensions, a reserved string, the signing
 * authority's public key and that authority's signature over everything
 * before it (ssh-keygen(1), CERTIFICATES). The signature is verified here
 * with libcrypto: libssh keeps its verification functions to itself.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "hostcert.h"
#include "knownhosts.h"
#include "util.h"

#define HC_TYPE_USER	1
#define HC_TYPE_HOST	2

/* The kinds of certified key: the certificate's type, the key's. */
static const struct hc_kind {
	const char	*cert;
	const char	*plain;
	int		 nfields;	/* strings of the key, after the nonce */
} hc_kinds[] = {
	{ "ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519", 1 },
	{ "ssh-rsa-cert-v01@openssh.com", "ssh-rsa", 2 },
	{ "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256", 2 },
	{ "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384", 2 },
	{ "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ecdsa-sha2-nistp521", 2 },
};

/* The ECDSA authorities: key type, OpenSSL group, digest. */
static const struct hc_curve {
	const char	*type;
	const char	*group;
	const char	*md;
} hc_curves[] = {
	{ "ecdsa-sha2-nistp256", "prime256v1", "SHA256" },
	{ "ecdsa-sha2-nistp384", "secp384r1", "SHA384" },
	{ "ecdsa-sha2-nistp521", "secp521r1", "SHA512" },
};

/* A reader of the wire format: big-endian integers, length-first strings. */
struct hc_rd {
	const unsigned char	*p;
	size_t			 n;
};

/* A certificate's fields, pointing into its blob. */
struct hc_cert {
	const struct hc_kind	*kind;
	struct hc_rd		 key;		/* the certified key's fields */
	uint32_t		 type;
	struct hc_rd		 id;
	struct hc_rd		 principals;
	uint64_t		 after, before;
	struct hc_rd		 critical;
	struct hc_rd		 ca;		/* the authority's key blob */
	struct hc_rd		 sig;
	size_t			 signed_len;	/* bytes the signature covers */
};

static int
hc_u32(struct hc_rd *r, uint32_t *v)
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
hc_u64(struct hc_rd *r, uint64_t *v)
{
	uint32_t	hi, lo;

	if (hc_u32(r, &hi) != 0 || hc_u32(r, &lo) != 0)
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static int
hc_str(struct hc_rd *r, struct hc_rd *s)
{
	uint32_t	len;

	if (hc_u32(r, &len) != 0 || len > r->n)
		return -1;
	s->p = r->p;
	s->n = len;
	r->p += len;
	r->n -= len;
	return 0;
}

static int
hc_is(const struct hc_rd *s, const char *want)
{
	return s->n == strlen(want) && memcmp(s->p, want, s->n) == 0;
}

/* Split a certificate into its fields: 0, or -1 if it is malformed. */
static int
hc_parse(const unsigned char *blob, size_t n, struct hc_cert *c,
    char **why)
{
	struct hc_rd	 r = { blob, n }, type, s;
	uint64_t	 serial;
	size_t		 i;

	memset(c, 0, sizeof(*c));
	if (hc_str(&r, &type) != 0 || hc_str(&r, &s) != 0)
		goto bad;
	for (i = 0; i < nitems(hc_kinds); i++) {
		if (hc_is(&type, hc_kinds[i].cert))
			c->kind = &hc_kinds[i];
	}
	if (c->kind == NULL) {
		xasprintf(why, "its certificate type %.*s is not supported",
		    (int)(type.n > 64 ? 64 : type.n), (const char *)type.p);
		return -1;
	}
	c->key.p = r.p;
	for (i = 0; i < (size_t)c->kind->nfields; i++) {
		if (hc_str(&r, &s) != 0)
			goto bad;
	}
	c->key.n = (size_t)(r.p - c->key.p);
	if (hc_u64(&r, &serial) != 0 || hc_u32(&r, &c->type) != 0 ||
	    hc_str(&r, &c->id) != 0 || hc_str(&r, &c->principals) != 0 ||
	    hc_u64(&r, &c->after) != 0 || hc_u64(&r, &c->before) != 0 ||
	    hc_str(&r, &c->critical) != 0 || hc_str(&r, &s) != 0 ||
	    hc_str(&r, &s) != 0 || hc_str(&r, &c->ca) != 0)
		goto bad;
	c->signed_len = (size_t)(r.p - blob);
	if (hc_str(&r, &c->sig) != 0 || r.n != 0)
		goto bad;
	return 0;
bad:
	*why = xstrdup("its certificate is malformed");
	return -1;
}

/* Standard base64 of n bytes (allocated). */
static char *
hc_b64(const unsigned char *p, size_t n)
{
	char	*out;

	out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* The first of list that holds the key blob (p, n), or NULL. */
static const struct kh_keyref *
hc_find(const unsigned char *p, size_t n, const struct kh_keyref *list,
    size_t nlist)
{
	const struct kh_keyref	*found = NULL;
	char			*s = hc_b64(p, n);
	size_t			 i;

	for (i = 0; i < nlist && found == NULL; i++) {
		if (strcmp(s, list[i].blob) == 0)
			found = &list[i];
	}
	free(s);
	return found;
}

/* The certified key as a plain public key blob (allocated, *n its size). */
static unsigned char *
hc_plain_blob(const struct hc_cert *c, size_t *n)
{
	unsigned char	*out;
	size_t		 tlen = strlen(c->kind->plain);

	*n = 4 + tlen + c->key.n;
	out = xmalloc(*n);
	out[0] = (unsigned char)(tlen >> 24);
	out[1] = (unsigned char)(tlen >> 16);
	out[2] = (unsigned char)(tlen >> 8);
	out[3] = (unsigned char)tlen;
	memcpy(out + 4, c->kind->plain, tlen);
	memcpy(out + 4 + tlen, c->key.p, c->key.n);
	return out;
}

/* A public key from OSSL parameters built by bld (freed). */
static EVP_PKEY *
hc_pkey(const char *alg, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM	*params;
	EVP_PKEY_CTX	*pc = NULL;
	EVP_PKEY	*pkey = NULL;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pc = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pc) <= 0 ||
	    EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static EVP_PKEY *
hc_rsa_key(struct hc_rd *ca)
{
	struct hc_rd	 e, n;
	OSSL_PARAM_BLD	*bld;
	EVP_PKEY	*pkey = NULL;
	BIGNUM		*be = NULL, *bn = NULL;

	if (hc_str(ca, &e) != 0 || hc_str(ca, &n) != 0 || ca->n != 0 ||
	    (be = BN_bin2bn(e.p, (int)e.n, NULL)) == NULL ||
	    (bn = BN_bin2bn(n.p, (int)n.n, NULL)) == NULL)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be)) {
		OSSL_PARAM_BLD_free(bld);
		goto out;
	}
	pkey = hc_pkey("RSA", bld);
out:
	BN_free(be);
	BN_free(bn);
	return pkey;
}

static EVP_PKEY *
hc_ec_key(struct hc_rd *ca, const struct hc_curve *cv)
{
	struct hc_rd	 name, q;
	OSSL_PARAM_BLD	*bld;

	if (hc_str(ca, &name) != 0 || hc_str(ca, &q) != 0 || ca->n != 0 ||
	    !hc_is(&name, cv->type + strlen("ecdsa-sha2-")))
		return NULL;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		return NULL;
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    cv->group, 0) || !OSSL_PARAM_BLD_push_octet_string(bld,
	    OSSL_PKEY_PARAM_PUB_KEY, q.p, q.n)) {
		OSSL_PARAM_BLD_free(bld);
		return NULL;
	}
	return hc_pkey("EC", bld);
}

/* An ECDSA signature (mpint r, mpint s) in DER, as libcrypto wants it. */
static unsigned char *
hc_ec_sig(struct hc_rd blob, size_t *n)
{
	struct hc_rd	 r, s;
	ECDSA_SIG	*sig;
	BIGNUM		*br = NULL, *bs = NULL;
	unsigned char	*der = NULL;
	int		 len;

	if (hc_str(&blob, &r) != 0 || hc_str(&blob, &s) != 0 || blob.n != 0 ||
	    (sig = ECDSA_SIG_new()) == NULL)
		return NULL;
	br = BN_bin2bn(r.p, (int)r.n, NULL);
	bs = BN_bin2bn(s.p, (int)s.n, NULL);
	if (br == NULL || bs == NULL || ECDSA_SIG_set0(sig, br, bs) != 1) {
		BN_free(br);
		BN_free(bs);
	} else if ((len = i2d_ECDSA_SIG(sig, &der)) > 0)
		*n = (size_t)len;
	ECDSA_SIG_free(sig);
	return der;
}

/*
 * Does the authority's signature verify over the signed bytes? 1 yes, 0
 * no, -1 an authority of a kind not checked here (*why set).
 */
static int
hc_verify(const struct hc_cert *c, const unsigned char *data, char **why)
{
	struct hc_rd	 ca = c->ca, sig = c->sig, type, stype, sblob, pk;
	const char	*md = NULL;
	unsigned char	*der = NULL;
	const unsigned char *sp;
	size_t		 i, slen;
	EVP_PKEY	*pkey = NULL;
	EVP_MD_CTX	*ctx = NULL;
	int		 r = 0;

	if (hc_str(&ca, &type) != 0 || hc_str(&sig, &stype) != 0 ||
	    hc_str(&sig, &sblob) != 0 || sig.n != 0)
		return 0;
	sp = sblob.p;
	slen = sblob.n;
	if (hc_is(&type, "ssh-ed25519")) {
		if (!hc_is(&stype, "ssh-ed25519") || hc_str(&ca, &pk) != 0 ||
		    pk.n != 32 || ca.n != 0)
			return 0;
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    pk.p, pk.n);
	} else if (hc_is(&type, "ssh-rsa")) {
		/* ssh-rsa (SHA-1) signatures: refused, as ssh does. */
		if (hc_is(&stype, "rsa-sha2-256"))
			md = "SHA256";
		else if (hc_is(&stype, "rsa-sha2-512"))
			md = "SHA512";
		else
			return 0;
		pkey = hc_rsa_key(&ca);
	} else {
		for (i = 0; i < nitems(hc_curves); i++) {
			if (hc_is(&type, hc_curves[i].type))
				break;
		}
		if (i == nitems(hc_curves)) {
			xasprintf(why, "its authority's key type %.*s is not "
			    "supported (use an Ed25519, ECDSA or RSA "
			    "certificate authority)",
			    (int)(type.n > 64 ? 64 : type.n),
			    (const char *)type.p);
			return -1;
		}
		if (!hc_is(&stype, hc_curves[i].type) ||
		    (der = hc_ec_sig(sblob, &slen)) == NULL)
			return 0;
		sp = der;
		md = hc_curves[i].md;
		pkey = hc_ec_key(&ca, &hc_curves[i]);
	}
	if (pkey != NULL && (ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, pkey,
	    NULL) == 1 && EVP_DigestVerify(ctx, sp, slen, data,
	    c->signed_len) == 1)
		r = 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	OPENSSL_free(der);
	return r;
}

/* The SHA256 fingerprint of a key blob, as ssh prints it (allocated). */
static char *
hc_fingerprint(const struct hc_rd *key)
{
	unsigned char	 h[32];
	char		*b, *fp;
	size_t		 len;

	if (EVP_Digest(key->p, key->n, h, NULL, EVP_sha256(), NULL) != 1)
		return xstrdup("?");
	b = hc_b64(h, sizeof(h));
	len = strlen(b);
	while (len > 0 && b[len - 1] == '=')
		b[--len] = '\0';
	xasprintf(&fp, "SHA256:%s", b);
	free(b);
	return fp;
}

/* Is principal one of the certificate's? No principals: any host. */
static int
hc_principal_ok(struct hc_rd list, const char *principal, char **names)
{
	struct hc_rd	 s;
	char		*name, *all;
	int		 found = list.n == 0;

	*names = NULL;
	while (list.n > 0) {
		if (hc_str(&list, &s) != 0)
			return -1;
		xasprintf(&name, "%.*s", (int)s.n, (const char *)s.p);
		if (strlen(name) == s.n && kh_pattern_matches(name, principal))
			found = 1;
		if (*names == NULL)
			*names = name;
		else {
			xasprintf(&all, "%s,%s", *names, name);
			free(*names);
			free(name);
			*names = all;
		}
	}
	return found;
}

static const char *
hc_when(uint64_t t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 tt;

	if (t > (uint64_t)INT32_MAX * 64)
		return "forever";
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return "?";
	return buf;
}

int
hostcert_check_blob(const unsigned char *blob, size_t n,
    const char *principal, const struct kh_marks *m, time_t now,
    char **why)
{
	const struct kh_keyref	*ca, *rev;
	struct hc_cert		 c;
	unsigned char		*plain = NULL;
	char			*cafp = NULL, *names = NULL, b1[32], b2[32];
	size_t			 plen;
	int			 ok = HOSTCERT_REFUSED, r;

	*why = NULL;
	if (hc_parse(blob, n, &c, why) != 0)
		return HOSTCERT_REFUSED;
	cafp = hc_fingerprint(&c.ca);
	/* Revocation first, whatever else the certificate says (as ssh). */
	plain = hc_plain_blob(&c, &plen);
	if ((rev = hc_find(c.ca.p, c.ca.n, m->revs, m->nrevs)) != NULL) {
		xasprintf(why, "its certificate authority (%s) is marked "
		    "@revoked at %s", cafp, rev->where);
		ok = HOSTCERT_REVOKED;
		goto out;
	}
	if ((rev = hc_find(plain, plen, m->revs, m->nrevs)) != NULL) {
		xasprintf(why, "its key is marked @revoked at %s", rev->where);
		ok = HOSTCERT_REVOKED;
		goto out;
	}
	if ((ca = hc_find(c.ca.p, c.ca.n, m->cas, m->ncas)) == NULL) {
		xasprintf(why, "its certificate is signed by an authority "
		    "(%s) that no @cert-authority line for %s names", cafp,
		    principal);
		goto out;
	}
	if ((r = hc_verify(&c, blob, why)) != 1) {
		if (r == 0)
			xasprintf(why, "its certificate's signature by the "
			    "authority of %s does not verify", ca->where);
		goto out;
	}
	if (c.type != HC_TYPE_HOST) {
		xasprintf(why, "its certificate is a %s certificate, not a "
		    "host certificate (ssh-keygen -h) (authority at %s)",
		    c.type == HC_TYPE_USER ? "user" : "unknown kind of",
		    ca->where);
		goto out;
	}
	if ((uint64_t)now < c.after || (uint64_t)now >= c.before) {
		xasprintf(why, "its certificate is %s (valid from %s to %s; "
		    "authority at %s)", (uint64_t)now < c.after ?
		    "not valid yet" : "expired", hc_when(c.after, b1,
		    sizeof(b1)), hc_when(c.before, b2, sizeof(b2)), ca->where);
		goto out;
	}
	if ((r = hc_principal_ok(c.principals, principal, &names)) != 1) {
		if (r == -1)
			*why = xstrdup("its certificate is malformed");
		else
			xasprintf(why, "its certificate is not valid for %s "
			    "(principals: %s; authority at %s)", principal,
			    names, ca->where);
		goto out;
	}
	if (c.critical.n != 0) {
		xasprintf(why, "its certificate has critical options, which "
		    "no host certificate may have (authority at %s)",
		    ca->where);
		goto out;
	}
	ok = 0;
out:
	free(names);
	free(cafp);
	free(plain);
	return ok;
}

/* The certificate's bytes: its public key blob, decoded (allocated). */
static unsigned char *
hc_key_blob(ssh_key key, size_t *n)
{
	unsigned char	*out;
	char		*s = NULL;
	size_t		 len, pad = 0;
	int		 r;

	if (ssh_pki_export_pubkey_base64(key, &s) != SSH_OK)
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

int
hostcert_is_cert(ssh_key key)
{
	const char	*t = ssh_key_type_to_char(ssh_key_type(key));

	return t != NULL && strstr(t, "-cert-v01@openssh.com") != NULL;
}

int
hostcert_check(ssh_key cert, const char *principal,
    const struct kh_marks *m, time_t now, char **why)
{
	unsigned char	*blob;
	size_t		 n;
	int		 r;

	if ((blob = hc_key_blob(cert, &n)) == NULL) {
		*why = xstrdup("its certificate cannot be read");
		return HOSTCERT_REFUSED;
	}
	r = hostcert_check_blob(blob, n, principal, m, now, why);
	free(blob);
	return r;
}

ssh_key
hostcert_plain_key(ssh_key cert)
{
	struct hc_cert	 c;
	unsigned char	*blob, *plain = NULL;
	char		*why = NULL, *b64 = NULL;
	size_t		 n, plen;
	ssh_key		 key = NULL;

	if ((blob = hc_key_blob(cert, &n)) == NULL)
		return NULL;
	if (hc_parse(blob, n, &c, &why) == 0) {
		plain = hc_plain_blob(&c, &plen);
		b64 = hc_b64(plain, plen);
		if (ssh_pki_import_pubkey_base64(b64,
		    ssh_key_type_from_name(c.kind->plain), &key) != SSH_OK)
			key = NULL;
	}
	free(why);
	free(b64);
	free(plain);
	free(blob);
	return key;
}
