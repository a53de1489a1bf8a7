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
 * fuzz_hostcert.c: libFuzzer target for OpenSSH host certificates
 * (hostcert.c), judged against a known_hosts with one @cert-authority (the
 * authority of the seed in tests/fuzz/corpus/hostcert) and one @revoked key.
 *
 * The input is a certificate's wire form. Invariants: the verdict is 0 or
 * a refusal, a refusal says why and an acceptance does not; the input is never
 * read past its end (AddressSanitizer).
 *
 *	fuzz_hostcert -max_len=4096 /tmp/corpus tests/fuzz/corpus/hostcert
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "hostcert.h"
#include "knownhosts.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* ssh-keygen -t ed25519: the seed's authority, and another key */
static struct kh_keyref	 cas[] = {
	{ "AAAAC3NzaC1lZDI1NTE5AAAAICxih2AlWFE82FakPoKIJkt8gFIdKnyNdFQmUqZvHY3V",
	    "kh:1" },
};
static struct kh_keyref	 revs[] = {
	{ "AAAAC3NzaC1lZDI1NTE5AAAAIMCkIgT3rOqdfCZjCENQALFftfFmZOAF3u7Wv7e6GPHy",
	    "kh:2" },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct kh_marks	 m;
	unsigned char	*copy;
	char		*why = NULL;
	int		 r;

	memset(&m, 0, sizeof(m));
	m.cas = cas;
	m.ncas = 1;
	m.revs = revs;
	m.nrevs = 1;
	/* an exact allocation, so that ASan sees a read past the end */
	copy = malloc(len > 0 ? len : 1);
	check(copy != NULL);
	memcpy(copy, data, len);
	r = hostcert_check_blob(copy, len, "host.example", &m, 1900000000,
	    &why);
	check(r == 0 || r == HOSTCERT_REFUSED || r == HOSTCERT_REVOKED);
	check((r == 0) == (why == NULL));
	free(why);
	free(copy);
	return 0;
}
