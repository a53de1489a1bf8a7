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
 * test_socks.c: the SOCKS4/4a/5 handshake (socks.c), bytes in and out.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "socks.h"
#include "sshconn.h"

#define PAYLOAD	"GET / HTTP/1.0\r\n\r\n"

static const uint8_t	s5_hello[] = { 0x05, 0x01, 0x00 };
static const uint8_t	s5_chosen[] = { 0x05, 0x00 };
static const uint8_t	s5_nomethod[] = { 0x05, 0xff };
static const uint8_t	s4_granted[] = { 0, 0x5a, 0, 0, 0, 0, 0, 0 };
static const uint8_t	s4_rejected[] = { 0, 0x5b, 0, 0, 0, 0, 0, 0 };

/* 04 CONNECT 127.0.0.1:80 userid "usr". */
static const uint8_t	s4_req[] = {
	0x04, 0x01, 0x00, 0x50, 0x7f, 0x00, 0x00, 0x01, 'u', 's', 'r', 0
};
/* 04 CONNECT 0.0.0.1:443, empty userid, "example.com". */
static const uint8_t	s4a_req[] = {
	0x04, 0x01, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x01, 0,
	'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', 0
};
/* CONNECT 10.0.0.1:22. */
static const uint8_t	s5_req_v4[] = {
	0x05, 0x01, 0x00, 0x01, 10, 0, 0, 1, 0x00, 0x16
};
/* CONNECT ::1:8080. */
static const uint8_t	s5_req_v6[] = {
	0x05, 0x01, 0x00, 0x04,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x1f, 0x90
};
/* CONNECT db.internal:5432. */
static const uint8_t	s5_req_name[] = {
	0x05, 0x01, 0x00, 0x03, 11,
	'd', 'b', '.', 'i', 'n', 't', 'e', 'r', 'n', 'a', 'l',
	0x15, 0x38
};

/* The SOCKS5 reply with code rep and BND 0.0.0.0:0. */
static void
s5_reply_bytes(uint8_t *r, int rep)
{
	memset(r, 0, 10);
	r[0] = 5;
	r[1] = rep;
	r[3] = 1;
}

static enum socks_status
feed(struct socks *s, const void *buf, size_t len, size_t *used)
{
	enum socks_status	st;
	size_t			u = (size_t)-1;

	st = socks_feed(s, buf, len, &u);
	cr_assert_leq(u, len);
	if (used != NULL)
		*used = u;
	return st;
}

/* One byte per call, stopping at the first status other than MORE. */
static enum socks_status
feed_bytes(struct socks *s, const void *buf, size_t len, size_t *used)
{
	const uint8_t		*p = buf;
	enum socks_status	 st = SOCKS_MORE;
	size_t			 i, u;

	for (i = 0; i < len; i++) {
		st = feed(s, p + i, 1, &u);
		if (st != SOCKS_MORE) {
			i += u;
			break;
		}
		cr_assert_eq(u, 1);
	}
	*used = i;
	return st;
}

static void
expect_out(struct socks *s, const void *want, size_t wantlen)
{
	const void	*out;
	size_t		 len;

	out = socks_out(s, &len);
	cr_assert_not_null(out);
	cr_assert_eq(len, wantlen, "output is %zu bytes, want %zu", len,
	    wantlen);
	cr_assert_eq(memcmp(out, want, len), 0, "output bytes differ");
	socks_out_consume(s, len);
	(void)socks_out(s, &len);
	cr_assert_eq(len, 0);
}

static void
expect_no_out(struct socks *s)
{
	size_t	len;

	(void)socks_out(s, &len);
	cr_assert_eq(len, 0);
}

/* Feeding buf fails with the SOCKS5 error reply rep, or SOCKS4 0x5b. */
static void
expect_refused(const void *buf, size_t len, int rep)
{
	struct socks	s;
	uint8_t		r[10];
	size_t		used;

	socks_init(&s);
	cr_assert_eq(feed(&s, buf, len, &used), SOCKS_FAIL);
	if (socks_version(&s) == 4)
		expect_out(&s, s4_rejected, sizeof s4_rejected);
	else {
		s5_reply_bytes(r, rep);
		expect_out(&s, r, sizeof r);
	}
	cr_assert_eq(feed(&s, buf, len, &used), SOCKS_FAIL);
	cr_assert_eq(used, 0);
}

/* Greeting then request; the request fails with reply rep. */
static void
expect_s5_refused(const uint8_t *req, size_t reqlen, int rep)
{
	struct socks	s;
	uint8_t		buf[600], r[12];

	cr_assert_leq(sizeof s5_hello + reqlen, sizeof buf);
	memcpy(buf, s5_hello, sizeof s5_hello);
	memcpy(buf + sizeof s5_hello, req, reqlen);
	socks_init(&s);
	cr_assert_eq(feed(&s, buf, sizeof s5_hello + reqlen, NULL), SOCKS_FAIL);
	memcpy(r, s5_chosen, 2);
	s5_reply_bytes(r + 2, rep);
	expect_out(&s, r, sizeof r);
}

/*
 * The first headlen bytes of req, then a field longer than max: refused
 * with 0x5b on its byte max + 1, fed all at once or byte by byte.
 */
static void
expect_s4_overlong(const uint8_t *req, size_t headlen, size_t max,
    int bytewise)
{
	uint8_t		buf[16 + 2000];
	struct socks	s;
	size_t		used;

	cr_assert_leq(headlen, 16);
	memcpy(buf, req, headlen);
	memset(buf + headlen, 'a', sizeof buf - headlen);
	socks_init(&s);
	if (bytewise)
		cr_assert_eq(feed_bytes(&s, buf, sizeof buf, &used),
		    SOCKS_FAIL);
	else
		cr_assert_eq(feed(&s, buf, sizeof buf, &used), SOCKS_FAIL);
	cr_assert_eq(used, headlen + max + 1);
	expect_out(&s, s4_rejected, sizeof s4_rejected);
	cr_assert_str_eq(socks_host(&s), "");
}

/* ---- SOCKS4 -------------------------------------------------------- */

Test(socks4, connect_ipv4)
{
	struct socks	s;
	size_t		used;

	socks_init(&s);
	cr_assert_eq(socks_version(&s), 0);
	cr_assert_str_eq(socks_host(&s), "");
	cr_assert_eq(socks_port(&s), 0);
	cr_assert_eq(feed(&s, s4_req, sizeof s4_req, &used), SOCKS_REQUEST);
	cr_assert_eq(used, sizeof s4_req);
	cr_assert_eq(socks_version(&s), 4);
	cr_assert_str_eq(socks_host(&s), "127.0.0.1");
	cr_assert_eq(socks_port(&s), 80);
	expect_no_out(&s);
	socks_reply(&s, SOCKS_OK);
	expect_out(&s, s4_granted, sizeof s4_granted);
}

Test(socks4, byte_at_a_time)
{
	struct socks	s;
	size_t		used;

	socks_init(&s);
	cr_assert_eq(feed_bytes(&s, s4_req, sizeof s4_req, &used),
	    SOCKS_REQUEST);
	cr_assert_eq(used, sizeof s4_req);
	cr_assert_str_eq(socks_host(&s), "127.0.0.1");
	cr_assert_eq(socks_port(&s), 80);
}

Test(socks4, empty_userid)
{
	static const uint8_t	req[] = { 4, 1, 0xff, 0xff, 192, 168, 1, 2, 0 };
	struct socks		s;
	size_t			used;

	socks_init(&s);
	cr_assert_eq(feed(&s, req, sizeof req, &used), SOCKS_REQUEST);
	cr_assert_eq(used, sizeof req);
	cr_assert_str_eq(socks_host(&s), "192.168.1.2");
	cr_assert_eq(socks_port(&s), 65535);
}

Test(socks4, pipelined_payload_not_consumed)
{
	uint8_t		buf[sizeof s4_req + sizeof PAYLOAD];
	struct socks	s;
	size_t		used;

	memcpy(buf, s4_req, sizeof s4_req);
	memcpy(buf + sizeof s4_req, PAYLOAD, sizeof PAYLOAD);
	socks_init(&s);
	cr_assert_eq(feed(&s, buf, sizeof buf, &used), SOCKS_REQUEST);
	cr_assert_eq(used, sizeof s4_req);
	/* Once complete, nothing more is taken. */
	cr_assert_eq(feed(&s, buf + used, sizeof buf - used, &used),
	    SOCKS_REQUEST);
	cr_assert_eq(used, 0);
}

Test(socks4, reply_rejected)
{
	struct socks	s;

	socks_init(&s);
	cr_assert_eq(feed(&s, s4_req, sizeof s4_req, NULL), SOCKS_REQUEST);
	socks_reply(&s, SOCKS_CONN_REFUSED);
	expect_out(&s, s4_rejected, sizeof s4_rejected);
	cr_assert_eq(feed(&s, "x", 1, NULL), SOCKS_FAIL);
}

Test(socks4, every_error_reply_is_5b)
{
	struct socks	s;
	int		code;

	for (code = SOCKS_GENERAL_FAILURE; code <= SOCKS_ATYP_UNSUPPORTED;
	    code++) {
		socks_init(&s);
		cr_assert_eq(feed(&s, s4_req, sizeof s4_req, NULL),
		    SOCKS_REQUEST);
		socks_reply(&s, code);
		expect_out(&s, s4_rejected, sizeof s4_rejected);
	}
}

/* BIND, an unknown command, port 0, address 0.0.0.0: 0x5b. */
Test(socks4, bad_header_refused)
{
	static const uint8_t	req[][9] = {
		{ 4, 2, 0, 80, 127, 0, 0, 1, 0 },
		{ 4, 0, 0, 80, 127, 0, 0, 1, 0 },
		{ 4, 1, 0, 0, 127, 0, 0, 1, 0 },
		{ 4, 1, 0, 80, 0, 0, 0, 0, 0 },
	};
	size_t			i;

	for (i = 0; i < sizeof req / sizeof req[0]; i++)
		expect_refused(req[i], sizeof req[i], 0);
}

Test(socks4, refused_on_the_header_alone)
{
	static const uint8_t	req[] = { 4, 2, 0, 80, 127, 0, 0, 1 };
	struct socks		s;
	size_t			used;

	socks_init(&s);
	cr_assert_eq(feed_bytes(&s, req, sizeof req, &used), SOCKS_FAIL);
	cr_assert_eq(used, sizeof req);
	expect_out(&s, s4_rejected, sizeof s4_rejected);
}

Test(socks4, userid_longest_accepted)
{
	uint8_t		buf[8 + SOCKS_USERID_MAX + 1];
	struct socks	s;
	size_t		used;

	memcpy(buf, s4_req, 8);
	memset(buf + 8, 'u', SOCKS_USERID_MAX);
	buf[sizeof buf - 1] = 0;
	socks_init(&s);
	cr_assert_eq(feed(&s, buf, sizeof buf, &used), SOCKS_REQUEST);
	cr_assert_eq(used, sizeof buf);
}

Test(socks4, userid_too_long)
{
	expect_s4_overlong(s4_req, 8, SOCKS_USERID_MAX, 0);
}

/* ---- SOCKS4a ------------------------------------------------------- */

Test(socks4a, connect_name)
{
	struct socks	s;
	size_t		used;

	socks_init(&s);
	cr_assert_eq(feed(&s, s4a_req, sizeof s4a_req, &used), SOCKS_REQUEST);
	cr_assert_eq(used, sizeof s4a_req);
	cr_assert_eq(socks_version(&s), 4);
	cr_assert_str_eq(socks_host(&s), "example.com");
	cr_assert_eq(socks_port(&s), 443);
	expect_no_out(&s);
	socks_reply(&s, SOCKS_OK);
	expect_out(&s, s4_granted, sizeof s4_granted);
}

Test(socks4a, byte_at_a_time_with_userid_and_payload)
{
	static const uint8_t	req[] = {
		4, 1, 0, 80, 0, 0, 0, 0xff, 'm', 'e', 0, 'h', 0,
		'p', 'a', 'y'
	};
	struct socks		s;
	size_t			used;

	socks_init(&s);
	cr_assert_eq(feed_bytes(&s, req, sizeof req, &used), SOCKS_REQUEST);
	cr_assert_eq(used, 13);
	cr_assert_str_eq(socks_host(&s), "h");
	cr_assert_eq(socks_port(&s), 80);
}

Test(socks4a, empty_name_refused)
{
	static const uint8_t	req[] = { 4, 1, 0, 80, 0, 0, 0, 1, 0, 0 };

	expect_refused(req, sizeof req, 0);
}

Test(socks4a, name_longest_accepted)
{
	uint8_t		buf[9 + SOCKS_HOST_MAX + 1];
	struct socks	s;

	memcpy(buf, s4a_req, 9);
	memset(buf + 9, 'a', SOCKS_HOST_MAX);
	buf[sizeof buf - 1] = 0;
	socks_init(&s);
	cr_assert_eq(feed(&s, buf, sizeof buf, NULL), SOCKS_REQUEST);
	cr_assert_eq(strlen(socks_host(&s)), SOCKS_HOST_MAX);
	cr_assert_eq(socks_host(&s)[0], 'a');
}

Test(socks4a, name_too_long)
{
	expect_s4_overlong(s4a_req, 9, SOCKS_HOST_MAX, 1);
}

/* ---- SOCKS5 -------------------------------------------------------- */

Test(socks5, connect_ipv4_in_two_steps)
{
	struct socks	s;
	uint8_t		r[10];
	size_t		used;

	socks_init(&s);
	cr_assert_eq(feed(&s, s5_hello, sizeof s5_hello, &used), SOCKS_MORE);
	cr_assert_eq(used, sizeof s5_hello);
	cr_assert_eq(socks_version(&s), 5);
	expect_out(&s, s5_chosen, sizeof s5_chosen);
	cr_assert_eq(feed(&s, s5_req_v4, sizeof s5_req_v4, &used),
	    SOCKS_REQUEST);
	cr_assert_eq(used, sizeof s5_req_v4);
	cr_assert_str_eq(socks_host(&s), "10.0.0.1");
	cr_assert_eq(socks_port(&s), 22);
	expect_no_out(&s);
	socks_reply(&s, SOCKS_OK);
	s5_reply_bytes(r, 0);
	expect_out(&s, r, sizeof r);
	/* Granted: still a request, nothing taken. */
	cr_assert_eq(feed(&s, "x", 1, &used), SOCKS_REQUEST);
	cr_assert_eq(used, 0);
}

Test(socks5, reply_behind_partly_written_method_reply)
{
	struct socks	s;
	uint8_t		r[11];

	socks_init(&s);
	cr_assert_eq(feed(&s, s5_hello, sizeof s5_hello, NULL), SOCKS_MORE);
	socks_out_consume(&s, 1);
	cr_assert_eq(feed(&s, s5_req_v4, sizeof s5_req_v4, NULL),
	    SOCKS_REQUEST);
	socks_reply(&s, SOCKS_CONN_REFUSED);
	r[0] = s5_chosen[1];
	s5_reply_bytes(r + 1, 5);
	expect_out(&s, r, sizeof r);
}

Test(socks5, greeting_request_and_payload_at_once)
{
	uint8_t		buf[64];
	uint8_t		r[12];
	struct socks	s;
	size_t		len, used;

	len = 0;
	memcpy(buf + len, s5_hello, sizeof s5_hello);
	len += sizeof s5_hello;
	memcpy(buf + len, s5_req_name, sizeof s5_req_name);
	len += sizeof s5_req_name;
	memcpy(buf + len, PAYLOAD, sizeof PAYLOAD - 1);
	len += sizeof PAYLOAD - 1;

	socks_init(&s);
	cr_assert_eq(feed(&s, buf, len, &used), SOCKS_REQUEST);
	cr_assert_eq(used, sizeof s5_hello + sizeof s5_req_name);
	cr_assert_str_eq(socks_host(&s), "db.internal");
	cr_assert_eq(socks_port(&s), 5432);
	/* The method reply, then the final reply behind it. */
	socks_reply(&s, SOCKS_HOST_UNREACHABLE);
	memcpy(r, s5_chosen, 2);
	s5_reply_bytes(r + 2, 4);
	expect_out(&s, r, sizeof r);
	cr_assert_eq(feed(&s, buf + used, len - used, &used), SOCKS_FAIL);
	cr_assert_eq(used, 0);
}

Test(socks5, byte_at_a_time_with_payload)
{
	uint8_t		buf[64];
	struct socks	s;
	size_t		len, used;

	len = 0;
	memcpy(buf + len, s5_hello, sizeof s5_hello);
	len += sizeof s5_hello;
	memcpy(buf + len, s5_req_v6, sizeof s5_req_v6);
	len += sizeof s5_req_v6;
	memcpy(buf + len, "abc", 3);
	len += 3;

	socks_init(&s);
	cr_assert_eq(feed_bytes(&s, buf, len, &used), SOCKS_REQUEST);
	cr_assert_eq(used, len - 3);
	cr_assert_str_eq(socks_host(&s), "::1");
	cr_assert_eq(socks_port(&s), 8080);
	expect_out(&s, s5_chosen, sizeof s5_chosen);
}

Test(socks5, ipv6_full_address)
{
	uint8_t		req[22] = { 5, 1, 0, 4,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0x01, 0xbb };
	struct socks	s;

	socks_init(&s);
	cr_assert_eq(feed(&s, s5_hello, sizeof s5_hello, NULL), SOCKS_MORE);
	cr_assert_eq(feed(&s, req, sizeof req, NULL), SOCKS_REQUEST);
	cr_assert_str_eq(socks_host(&s), "2001:db8::1");
	cr_assert_eq(socks_port(&s), 443);
}

Test(socks5, name_longest_accepted)
{
	uint8_t		req[4 + 1 + 255 + 2];
	struct socks	s;
	size_t		used;

	memcpy(req, s5_req_name, 4);
	req[4] = 255;
	memset(req + 5, 'n', 255);
	req[5 + 255] = 0x00;
	req[5 + 256] = 0x50;
	socks_init(&s);
	cr_assert_eq(feed(&s, s5_hello, sizeof s5_hello, NULL), SOCKS_MORE);
	cr_assert_eq(feed_bytes(&s, req, sizeof req, &used), SOCKS_REQUEST);
	cr_assert_eq(used, sizeof req);
	cr_assert_eq(strlen(socks_host(&s)), 255);
	cr_assert_eq(socks_port(&s), 80);
}

Test(socks5, noauth_among_many_methods)
{
	uint8_t		greet[2 + 255];
	struct socks	s;
	size_t		used;
	int		i;

	greet[0] = 5;
	greet[1] = 255;
	for (i = 0; i < 255; i++)
		greet[2 + i] = 254 - i;		/* 0x00 comes last */
	socks_init(&s);
	cr_assert_eq(feed(&s, greet, sizeof greet, &used), SOCKS_MORE);
	cr_assert_eq(used, sizeof greet);
	expect_out(&s, s5_chosen, sizeof s5_chosen);
}

Test(socks5, no_acceptable_method)
{
	static const uint8_t	greet[] = { 5, 2, 0x02, 0x01, 5, 1, 0, 1 };
	struct socks		s;
	size_t			used;

	socks_init(&s);
	cr_assert_eq(feed(&s, greet, sizeof greet, &used), SOCKS_FAIL);
	cr_assert_eq(used, 4);
	expect_out(&s, s5_nomethod, sizeof s5_nomethod);
}

Test(socks5, zero_methods)
{
	static const uint8_t	greet[] = { 5, 0, 5, 1, 0 };
	struct socks		s;
	size_t			used;

	socks_init(&s);
	cr_assert_eq(feed_bytes(&s, greet, sizeof greet, &used), SOCKS_FAIL);
	cr_assert_eq(used, 2);
	expect_out(&s, s5_nomethod, sizeof s5_nomethod);
}

Test(socks5, bind_and_udp_refused)
{
	static const uint8_t	bind[] = { 5, 2, 0, 1, 1, 2, 3, 4, 0, 80 };
	static const uint8_t	udp[] = { 5, 3, 0, 1, 1, 2, 3, 4, 0, 80 };
	static const uint8_t	other[] = { 5, 0x7f, 0, 1 };

	expect_s5_refused(bind, sizeof bind, 7);
	expect_s5_refused(udp, sizeof udp, 7);
	expect_s5_refused(other, sizeof other, 7);
}

Test(socks5, unknown_address_type_refused)
{
	static const uint8_t	t2[] = { 5, 1, 0, 2, 1, 2, 3, 4, 0, 80 };
	static const uint8_t	t0[] = { 5, 1, 0, 0 };
	static const uint8_t	tff[] = { 5, 1, 0, 0xff };

	expect_s5_refused(t2, sizeof t2, 8);
	expect_s5_refused(t0, sizeof t0, 8);
	expect_s5_refused(tff, sizeof tff, 8);
}

Test(socks5, bad_request_header_refused)
{
	static const uint8_t	ver[] = { 4, 1, 0, 1, 1, 2, 3, 4, 0, 80 };
	static const uint8_t	rsv[] = { 5, 1, 1, 1, 1, 2, 3, 4, 0, 80 };

	expect_s5_refused(ver, sizeof ver, 1);
	expect_s5_refused(rsv, sizeof rsv, 1);
}

Test(socks5, empty_name_refused)
{
	static const uint8_t	req[] = { 5, 1, 0, 3, 0, 0, 80 };

	expect_s5_refused(req, sizeof req, 1);
}

Test(socks5, name_with_nul_refused)
{
	static const uint8_t	req[] = { 5, 1, 0, 3, 3, 'a', 0, 'b', 0, 80 };

	expect_s5_refused(req, sizeof req, 1);
}

Test(socks5, port_zero_refused)
{
	static const uint8_t	req[] = { 5, 1, 0, 1, 1, 2, 3, 4, 0, 0 };
	static const uint8_t	name[] = { 5, 1, 0, 3, 1, 'h', 0, 0 };

	expect_s5_refused(req, sizeof req, 2);
	expect_s5_refused(name, sizeof name, 2);
}

Test(socks5, every_reply_code)
{
	struct socks	s;
	uint8_t		r[10];
	int		code;

	for (code = SOCKS_OK; code <= SOCKS_ATYP_UNSUPPORTED; code++) {
		socks_init(&s);
		cr_assert_eq(feed(&s, s5_hello, sizeof s5_hello, NULL),
		    SOCKS_MORE);
		cr_assert_eq(feed(&s, s5_req_v4, sizeof s5_req_v4, NULL),
		    SOCKS_REQUEST);
		socks_out_consume(&s, 2);
		socks_reply(&s, code);
		s5_reply_bytes(r, code);
		expect_out(&s, r, sizeof r);
		cr_assert_eq(feed(&s, "", 0, NULL),
		    code == SOCKS_OK ? SOCKS_REQUEST : SOCKS_FAIL);
	}
}

Test(socks5, out_of_range_reply_is_general_failure)
{
	struct socks	s;
	uint8_t		r[10];

	socks_init(&s);
	cr_assert_eq(feed(&s, s5_hello, sizeof s5_hello, NULL), SOCKS_MORE);
	cr_assert_eq(feed(&s, s5_req_v4, sizeof s5_req_v4, NULL),
	    SOCKS_REQUEST);
	socks_out_consume(&s, 2);
	socks_reply(&s, (enum socks_reply)42);
	s5_reply_bytes(r, 1);
	expect_out(&s, r, sizeof r);
}

/* ---- any version --------------------------------------------------- */

Test(socks, not_socks_no_reply)
{
	static const char	*bad[] = {
		"GET / HTTP/1.1\r\n", "CONNECT a:1 HTTP/1.1\r\n", "\x16\x03\x01",
		"\x00", "\x06", "\xff"
	};
	struct socks		s;
	size_t			i, len, used;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		len = bad[i][0] == '\0' ? 1 : strlen(bad[i]);
		socks_init(&s);
		cr_assert_eq(feed(&s, bad[i], len, &used), SOCKS_FAIL);
		cr_assert_eq(used, 1);
		expect_no_out(&s);
		cr_assert_eq(socks_version(&s), 0);
	}
}

Test(socks, empty_input)
{
	struct socks	s;
	size_t		used = 99;

	socks_init(&s);
	cr_assert_eq(socks_feed(&s, NULL, 0, &used), SOCKS_MORE);
	cr_assert_eq(used, 0);
	expect_no_out(&s);
}

Test(socks, reply_only_after_request)
{
	struct socks	s;
	uint8_t		r[12];

	socks_init(&s);
	socks_reply(&s, SOCKS_OK);
	expect_no_out(&s);
	cr_assert_eq(feed(&s, s5_hello, 2, NULL), SOCKS_MORE);
	socks_reply(&s, SOCKS_GENERAL_FAILURE);
	expect_no_out(&s);
	cr_assert_eq(feed(&s, s5_hello + 2, 1, NULL), SOCKS_MORE);
	cr_assert_eq(feed(&s, s5_req_v4, sizeof s5_req_v4, NULL),
	    SOCKS_REQUEST);
	socks_reply(&s, SOCKS_OK);
	socks_reply(&s, SOCKS_CONN_REFUSED);	/* ignored */
	memcpy(r, s5_chosen, 2);
	s5_reply_bytes(r + 2, 0);
	expect_out(&s, r, sizeof r);
}

Test(socks, out_consume_partial_and_clamped)
{
	struct socks	s;
	const uint8_t	*out;
	size_t		len;

	socks_init(&s);
	cr_assert_eq(feed(&s, s4_req, sizeof s4_req, NULL), SOCKS_REQUEST);
	socks_reply(&s, SOCKS_OK);
	socks_out_consume(&s, 3);
	out = socks_out(&s, &len);
	cr_assert_eq(len, 5);
	cr_assert_eq(memcmp(out, s4_granted + 3, 5), 0);
	socks_out_consume(&s, 1000);
	(void)socks_out(&s, &len);
	cr_assert_eq(len, 0);
	socks_out_consume(&s, 1);
	(void)socks_out(&s, &len);
	cr_assert_eq(len, 0);
}

/* Every way of cutting a handshake in two gives the same result. */
Test(socks, any_split_same_result)
{
	uint8_t		buf[128];
	struct socks	s;
	size_t		len, cut, u1, u2, olen;
	const uint8_t	*out;

	len = 0;
	memcpy(buf + len, s5_hello, sizeof s5_hello);
	len += sizeof s5_hello;
	memcpy(buf + len, s5_req_name, sizeof s5_req_name);
	len += sizeof s5_req_name;
	memcpy(buf + len, "tail", 4);
	len += 4;

	for (cut = 0; cut <= len; cut++) {
		socks_init(&s);
		if (feed(&s, buf, cut, &u1) == SOCKS_MORE) {
			cr_assert_eq(u1, cut);
			cr_assert_eq(feed(&s, buf + cut, len - cut, &u2),
			    SOCKS_REQUEST);
		} else
			u2 = 0;
		cr_assert_eq(u1 + u2, len - 4, "cut at %zu", cut);
		cr_assert_str_eq(socks_host(&s), "db.internal");
		cr_assert_eq(socks_port(&s), 5432);
		out = socks_out(&s, &olen);
		cr_assert_eq(olen, 2);
		cr_assert_eq(memcmp(out, s5_chosen, 2), 0);
	}
}

/* ---- reply codes from channel open failures ------------------------ */

Test(socks_reply_for, reasons_and_openssh_texts)
{
	static const struct {
		int			 reason;
		const char		*desc;
		enum socks_reply	 want;
	} t[] = {
		/* A policy whatever the words. */
		{ SSHCHAN_PROHIBITED, "", SOCKS_NOT_ALLOWED },
		{ SSHCHAN_PROHIBITED, "open failed", SOCKS_NOT_ALLOWED },
		{ SSHCHAN_UNKNOWN_TYPE, "", SOCKS_NOT_ALLOWED },
		/* OpenSSH's connect errors: strerror() or gai_strerror(). */
		{ SSHCHAN_CONNECT_FAILED, "Connection refused",
		    SOCKS_CONN_REFUSED },
		{ SSHCHAN_CONNECT_FAILED, "connect failed: Connection refused",
		    SOCKS_CONN_REFUSED },
		{ SSHCHAN_CONNECT_FAILED, "CONNECTION REFUSED",
		    SOCKS_CONN_REFUSED },
		{ SSHCHAN_CONNECT_FAILED, "Network is unreachable",
		    SOCKS_NET_UNREACHABLE },
		{ SSHCHAN_CONNECT_FAILED, "No route to host",
		    SOCKS_HOST_UNREACHABLE },
		{ SSHCHAN_CONNECT_FAILED, "Name or service not known",
		    SOCKS_HOST_UNREACHABLE },
		{ SSHCHAN_CONNECT_FAILED, "Temporary failure in name resolution",
		    SOCKS_HOST_UNREACHABLE },
		{ SSHCHAN_CONNECT_FAILED, "Connection timed out",
		    SOCKS_TTL_EXPIRED },
		{ SSHCHAN_CONNECT_FAILED, "", SOCKS_HOST_UNREACHABLE },
		{ SSHCHAN_CONNECT_FAILED, NULL, SOCKS_HOST_UNREACHABLE },
		/* Words of a policy under another reason. */
		{ SSHCHAN_RESOURCE, "administratively prohibited",
		    SOCKS_NOT_ALLOWED },
		{ 0, "unknown channel type", SOCKS_NOT_ALLOWED },
		{ SSHCHAN_RESOURCE, "resource shortage", SOCKS_GENERAL_FAILURE },
		{ 0, "", SOCKS_GENERAL_FAILURE },
		{ 0, NULL, SOCKS_GENERAL_FAILURE },
	};
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		cr_assert_eq(socks_reply_for(t[i].reason, t[i].desc), t[i].want,
		    "%d \"%s\": %d, want %d", t[i].reason,
		    t[i].desc != NULL ? t[i].desc : "(null)",
		    socks_reply_for(t[i].reason, t[i].desc), t[i].want);
}
