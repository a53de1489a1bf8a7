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
 * test_hostcert.c: host certificates read and judged as ssh does
 * (hostcert.c). The certificates were made by OpenSSH 9.2's ssh-keygen -s;
 * the tampered and truncated ones from them here.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hostcert.h"
#include "knownhosts.h"

/* ssh-keygen -t ed25519 / -t rsa -b 1024 / -t ecdsa -b 256: the authorities */
#define CA_ED	\
	"AAAAC3NzaC1lZDI1NTE5AAAAICxih2AlWFE82FakPoKIJkt8gFIdKnyNdFQm" \
	"UqZvHY3V"
#define CA_RSA	\
	"AAAAB3NzaC1yc2EAAAADAQABAAAAgQDX0kowwS24KRyjjrJZ8cKpziiGnRqE" \
	"9ROadOyZiNget/ptpn4QwqtuC53nPH726DmTG9DWNHAXHEQIt6Mv70ZQS2Bm" \
	"NUj3vEs7j8Y4WQUPTpjX3QBw/v9bXM6mAbKhf8xJAXMlMGRiIx1OZPi2QlvL" \
	"3oYWsA/wcglWs5WluV3Raw=="
#define CA_EC	\
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKx1n7MF" \
	"9qCscC2OqMK1gara+AQcJzwcU6I69+O2YDmINMsMYIwDYd11ignZw5/As4gK" \
	"IjfxPMUQCz65397pDiE="
/* the host key all certificates certify (ssh-keygen -t ed25519) */
#define HOST_KEY	\
	"AAAAC3NzaC1lZDI1NTE5AAAAIPnJjw4VXaXulxiML4Hs+wLMXZ8ZCCcQ3L0g" \
	"IIKuwNO4"
/* ssh-keygen -s caed -h -n host.example,*.wild.example -V 20200101:20400101 */
#define CERT_ED	\
	"AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIAj4Jagc" \
	"yLZQwNISyS0QFNbXNCGxpECepVMHx1DodDy5AAAAIPnJjw4VXaXulxiML4Hs" \
	"+wLMXZ8ZCCcQ3L0gIIKuwNO4AAAAAAAAAAAAAAACAAAAAmVkAAAAIgAAAAxo" \
	"b3N0LmV4YW1wbGUAAAAOKi53aWxkLmV4YW1wbGUAAAAAXgvhAAAAAACDqn6A" \
	"AAAAAAAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACAsYodgJVhRPNhW" \
	"pD6CiCZLfIBSHSp8jXRUJlKmbx2N1QAAAFMAAAALc3NoLWVkMjU1MTkAAABA" \
	"46220tuQLc9onUGFiipct4a5Nfdskd2rCGhwwjAyK7maUxZdzmJIVw5HgcHx" \
	"SDFmXTDFRYB5AEbTE+IU3bjuBQ=="
/* the same by the RSA authority (rsa-sha2-512), then by the ECDSA one */
#define CERT_RSA	\
	"AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIENrIAWi" \
	"DPabKpeiL8p0p57EOfarGjDQjMsj6tDELCpIAAAAIPnJjw4VXaXulxiML4Hs" \
	"+wLMXZ8ZCCcQ3L0gIIKuwNO4AAAAAAAAAAAAAAACAAAAA3JzYQAAABAAAAAM" \
	"aG9zdC5leGFtcGxlAAAAAF4L4QAAAAAAg6p+gAAAAAAAAAAAAAAAAAAAAJcA" \
	"AAAHc3NoLXJzYQAAAAMBAAEAAACBANfSSjDBLbgpHKOOslnxwqnOKIadGoT1" \
	"E5p07JmI2B63+m2mfhDCq24Lnec8fvboOZMb0NY0cBccRAi3oy/vRlBLYGY1" \
	"SPe8SzuPxjhZBQ9OmNfdAHD+/1tczqYBsqF/zEkBcyUwZGIjHU5k+LZCW8ve" \
	"hhawD/ByCVazlaW5XdFrAAAAlAAAAAxyc2Etc2hhMi01MTIAAACAN2jkT0Et" \
	"8pM8kM67npAn9Ni0LYH1u5NsCUatzJazzy/PHa6IJJ49yRCp4jUAn8nyGsXc" \
	"6tgv44G6Qihb2ezITZlh8vgA3MxbTNM/AcPPCvLYcmOXfCVh3QoWqsSvpSGo" \
	"7DGrrtFejLcbx5OV/XDeVe5ZLCtfVu9SqkzsXyupcjQ="
#define CERT_EC	\
	"AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIAITZ6je" \
	"CC1VjRrSfEslcR/Xrpmdzc3EE6FM47U/tbxaAAAAIPnJjw4VXaXulxiML4Hs" \
	"+wLMXZ8ZCCcQ3L0gIIKuwNO4AAAAAAAAAAAAAAACAAAAAmVjAAAAEAAAAAxo" \
	"b3N0LmV4YW1wbGUAAAAAXgvhAAAAAACDqn6AAAAAAAAAAAAAAAAAAAAAaAAA" \
	"ABNlY2RzYS1zaGEyLW5pc3RwMjU2AAAACG5pc3RwMjU2AAAAQQSsdZ+zBfag" \
	"rHAtjqjCtYGq2vgEHCc8HFOiOvfjtmA5iDTLDGCMA2HddYoJ2cOfwLOICiI3" \
	"8TzFEAs+ud/e6Q4hAAAAYwAAABNlY2RzYS1zaGEyLW5pc3RwMjU2AAAASAAA" \
	"ACA+4h94yDz+KOmP59bhkO5Z+SvJYX742lgxA2F7MCjGlwAAACALp9WOb0Za" \
	"hV1BckWqUHXkkktDQtnpwZknKf0ciJb19Q=="
/* ssh-keygen -s caed without -h: a user certificate */
#define CERT_USER	\
	"AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIBgd44W+" \
	"uYUOxKvFSQaekylLB8IIHj04LRVHBLYSp0YWAAAAIPnJjw4VXaXulxiML4Hs" \
	"+wLMXZ8ZCCcQ3L0gIIKuwNO4AAAAAAAAAAAAAAABAAAABHVzZXIAAAAQAAAA" \
	"DGhvc3QuZXhhbXBsZQAAAABeC+EAAAAAAIOqfoAAAAAAAAAAggAAABVwZXJt" \
	"aXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJk" \
	"aW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJt" \
	"aXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwAAAAtz" \
	"c2gtZWQyNTUxOQAAACAsYodgJVhRPNhWpD6CiCZLfIBSHSp8jXRUJlKmbx2N" \
	"1QAAAFMAAAALc3NoLWVkMjU1MTkAAABAQ3Kr+aILwX1C8HgCGO6nNhIZELsk" \
	"zy69E54U675kRzOjy9EQj6yb+TcksjBxuM8eXFfa7y8ETjXR/pfswcVAAA=="
/* ssh-keygen -s caed -h without -n: no principals */
#define CERT_ANY	\
	"AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIF/i29L1" \
	"5rak4l0RFA88Tglt9pdNLzGtMIBdPDcc7rD2AAAAIPnJjw4VXaXulxiML4Hs" \
	"+wLMXZ8ZCCcQ3L0gIIKuwNO4AAAAAAAAAAAAAAACAAAAA2FueQAAAAAAAAAA" \
	"XgvhAAAAAACDqn6AAAAAAAAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAA" \
	"ACAsYodgJVhRPNhWpD6CiCZLfIBSHSp8jXRUJlKmbx2N1QAAAFMAAAALc3No" \
	"LWVkMjU1MTkAAABA+2pJZA5SmjScg1iY5SFFhxU0NlmgZ7wUg1rCf0MCCzuy" \
	"TOTIuK8DZRhlUokKeuKol4ErHie/8xtZvsSLRMGrBg=="

#define T_2020	1577836800	/* 2020-01-01T00:00:00Z: valid from */
#define T_2040	2208988800	/* 2040-01-01T00:00:00Z: valid before */
#define T_NOW	1900000000	/* 2030 */

/* The blob of base64 b64 (allocated, *n its length). */
static unsigned char *
blob_of(const char *b64, size_t *n)
{
	size_t		 len = strlen(b64), pad = 0;
	unsigned char	*out;
	int		 r;

	while (pad < len && b64[len - 1 - pad] == '=')
		pad++;
	out = malloc(len / 4 * 3 + 3);
	cr_assert_not_null(out);
	r = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);
	cr_assert_geq(r, (int)pad);
	*n = (size_t)r - pad;
	return out;
}

/* known_hosts: the authority of line 1, optionally a @revoked key. */
static void
marks(struct kh_marks *m, const char *ca, const char *revoked)
{
	static struct kh_keyref	 cas[1], revs[1];

	memset(m, 0, sizeof(*m));
	cas[0].blob = (char *)ca;
	cas[0].where = (char *)"kh:1";
	m->cas = cas;
	m->ncas = 1;
	if (revoked != NULL) {
		revs[0].blob = (char *)revoked;
		revs[0].where = (char *)"kh:2";
		m->revs = revs;
		m->nrevs = 1;
	}
}

/* The verdict on certificate b64 (blob possibly changed by tamper). */
static int
judge(const char *b64, const char *ca, const char *revoked,
    const char *principal, time_t now, char **why)
{
	struct kh_marks	 m;
	unsigned char	*blob;
	size_t		 n;
	int		 r;

	blob = blob_of(b64, &n);
	marks(&m, ca, revoked);
	r = hostcert_check_blob(blob, n, principal, &m, now, why);
	free(blob);
	return r;
}

static void
refused(const char *b64, const char *ca, const char *revoked,
    const char *principal, time_t now, const char *want)
{
	char	*why = NULL;

	cr_assert_lt(judge(b64, ca, revoked, principal, now, &why), 0);
	cr_assert_not_null(why);
	cr_assert_not_null(strstr(why, want), "'%s' lacks '%s'", why, want);
	free(why);
}

static void
accepted(const char *b64, const char *ca, const char *principal,
    time_t now)
{
	char	*why = NULL;

	cr_assert_eq(judge(b64, ca, NULL, principal, now, &why), 0,
	    "refused: %s", why != NULL ? why : "?");
	cr_assert_null(why);
}

Test(hostcert, valid_by_each_kind_of_authority)
{
	accepted(CERT_ED, CA_ED, "host.example", T_NOW);
	accepted(CERT_RSA, CA_RSA, "host.example", T_NOW);
	accepted(CERT_EC, CA_EC, "host.example", T_NOW);
}

Test(hostcert, principals)
{
	accepted(CERT_ED, CA_ED, "a.wild.example", T_NOW);
	refused(CERT_ED, CA_ED, NULL, "wild.example", T_NOW,
	    "its certificate is not valid for wild.example (principals: "
	    "host.example,*.wild.example; authority at kh:1)");
	refused(CERT_RSA, CA_RSA, NULL, "other.example", T_NOW,
	    "not valid for other.example");
	/* none: any host, as ssh */
	accepted(CERT_ANY, CA_ED, "whatever.example", T_NOW);
}

Test(hostcert, validity_window)
{
	accepted(CERT_ED, CA_ED, "host.example", T_2020);
	accepted(CERT_ED, CA_ED, "host.example", T_2040 - 1);
	refused(CERT_ED, CA_ED, NULL, "host.example", T_2020 - 1,
	    "its certificate is not valid yet (valid from "
	    "2020-01-01T00:00:00Z to 2040-01-01T00:00:00Z; authority at kh:1)");
	refused(CERT_ED, CA_ED, NULL, "host.example", T_2040,
	    "its certificate is expired");
}

Test(hostcert, user_certificate)
{
	refused(CERT_USER, CA_ED, NULL, "host.example", T_NOW,
	    "its certificate is a user certificate, not a host certificate");
}

/* The verdict alone on b64 for host.example, now. */
static int
verdict(const char *b64, const char *ca, const char *revoked)
{
	char	*why = NULL;
	int	 r;

	r = judge(b64, ca, revoked, "host.example", T_NOW, &why);
	free(why);
	return r;
}

Test(hostcert, authority_unknown_or_revoked)
{
	refused(CERT_ED, CA_RSA, NULL, "host.example", T_NOW,
	    "signed by an authority (SHA256:");
	refused(CERT_ED, CA_RSA, NULL, "host.example", T_NOW,
	    "that no @cert-authority line for host.example names");
	refused(CERT_ED, CA_ED, CA_ED, "host.example", T_NOW,
	    "its certificate authority (SHA256:");
	refused(CERT_ED, CA_ED, CA_ED, "host.example", T_NOW,
	    "is marked @revoked at kh:2");
	refused(CERT_EC, CA_EC, HOST_KEY, "host.example", T_NOW,
	    "its key is marked @revoked at kh:2");
	/* a revocation wins over every other reason */
	refused(CERT_USER, CA_RSA, HOST_KEY, "nowhere", T_2040,
	    "@revoked");
	cr_assert_eq(verdict(CERT_ED, CA_ED, CA_ED), HOSTCERT_REVOKED);
	cr_assert_eq(verdict(CERT_ED, CA_ED, HOST_KEY), HOSTCERT_REVOKED);
	cr_assert_eq(verdict(CERT_ED, CA_RSA, NULL), HOSTCERT_REFUSED);
}

/* Flip one bit at offset off (from the end if negative) and judge. */
static void
tampered(const char *b64, const char *ca, long off, const char *want)
{
	struct kh_marks	 m;
	unsigned char	*blob;
	size_t		 n;
	char		*why = NULL;

	blob = blob_of(b64, &n);
	blob[off < 0 ? (long)n + off : off] ^= 0x01;
	marks(&m, ca, NULL);
	cr_assert_eq(hostcert_check_blob(blob, n, "host.example", &m, T_NOW,
	    &why), -1);
	cr_assert_not_null(strstr(why, want), "'%s' lacks '%s'", why, want);
	free(why);
	free(blob);
}

Test(hostcert, bad_signature)
{
	/* in the signature, and in the signed serial number */
	tampered(CERT_ED, CA_ED, -1, "its certificate's signature by the "
	    "authority of kh:1 does not verify");
	tampered(CERT_RSA, CA_RSA, -1, "does not verify");
	tampered(CERT_EC, CA_EC, -3, "does not verify");
	tampered(CERT_ED, CA_ED, 4 + 32 + 4 + 32 + 4 + 32 + 7,
	    "does not verify");
}

Test(hostcert, malformed)
{
	unsigned char	*blob, *longer;
	struct kh_marks	 m;
	size_t		 n, i;
	char		*why = NULL;

	blob = blob_of(CERT_ED, &n);
	marks(&m, CA_ED, NULL);
	for (i = 0; i < n; i++) {
		cr_assert_eq(hostcert_check_blob(blob, i, "host.example", &m,
		    T_NOW, &why), -1, "%zu bytes accepted", i);
		cr_assert_not_null(why);
		free(why);
		why = NULL;
	}
	longer = malloc(n + 1);
	cr_assert_not_null(longer);
	memcpy(longer, blob, n);
	longer[n] = 0;
	cr_assert_eq(hostcert_check_blob(longer, n + 1, "host.example", &m,
	    T_NOW, &why), -1);
	cr_assert_str_eq(why, "its certificate is malformed");
	free(why);
	free(longer);
	free(blob);
	/* a type that is no certificate */
	blob = blob_of(HOST_KEY, &n);
	cr_assert_eq(hostcert_check_blob(blob, n, "host.example", &m, T_NOW,
	    &why), -1);
	cr_assert_str_eq(why, "its certificate type ssh-ed25519 is not "
	    "supported");
	free(why);
	free(blob);
}

Test(hostcert, libssh_keys)
{
	ssh_key		 cert = NULL, plain, host = NULL;
	struct kh_marks	 m;
	char		*why = NULL;

	cr_assert_eq(ssh_pki_import_pubkey_base64(CERT_ED,
	    SSH_KEYTYPE_ED25519_CERT01, &cert), SSH_OK);
	cr_assert_eq(ssh_pki_import_pubkey_base64(HOST_KEY,
	    SSH_KEYTYPE_ED25519, &host), SSH_OK);
	cr_assert(hostcert_is_cert(cert));
	cr_assert(!hostcert_is_cert(host));
	marks(&m, CA_ED, NULL);
	cr_assert_eq(hostcert_check(cert, "host.example", &m, T_NOW, &why), 0);
	cr_assert_eq(hostcert_check(cert, "other.example", &m, T_NOW, &why),
	    -1);
	cr_assert_not_null(strstr(why, "not valid for other.example"));
	free(why);
	plain = hostcert_plain_key(cert);
	cr_assert_not_null(plain);
	cr_assert_eq(ssh_key_cmp(plain, host, SSH_KEY_CMP_PUBLIC), 0);
	cr_assert_null(hostcert_plain_key(host));
	ssh_key_free(plain);
	ssh_key_free(host);
	ssh_key_free(cert);
}
