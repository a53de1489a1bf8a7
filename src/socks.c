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
 * socks.c: SOCKS4/4a/5 CONNECT handshake, server side, byte in/byte out.
 *
 * Input is taken one byte at a time into in[], which holds the message
 * being read (greeting, request, userid or name); after each byte the step
 * of the current phase looks at in[0..inlen) and decides. Every message
 * has a bounded length, checked as the bytes arrive, so in[] and out[]
 * cannot overflow and the result does not depend on how the input is cut.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "socks.h"
#include "sshconn.h"	/* the reasons of a refused channel */
#include "util.h"

enum socks_phase {
	PH_START,	/* the version byte */
	PH_S4_HEAD,	/* VN CD DSTPORT DSTIP */
	PH_S4_USER,	/* USERID NUL */
	PH_S4_HOST,	/* SOCKS4a: HOSTNAME NUL */
	PH_S5_GREET,	/* VER NMETHODS METHODS */
	PH_S5_REQ,	/* VER CMD RSV ATYP DST.ADDR DST.PORT */
	PH_DONE,	/* a request is complete, no reply yet */
	PH_OPEN,	/* granted */
	PH_FAILED,
};

#define SOCKS4_HEAD	8
#define SOCKS4_CONNECT	1
#define SOCKS4_GRANTED	0x5a
#define SOCKS4_REJECTED	0x5b

#define SOCKS5_VERSION	5
#define SOCKS5_NOAUTH	0x00
#define SOCKS5_NOMETHOD	0xff
#define SOCKS5_CONNECT	1
#define SOCKS5_IPV4	1
#define SOCKS5_DOMAIN	3
#define SOCKS5_IPV6	4

static enum socks_status socks_step_start(struct socks *);
static enum socks_status socks_step_s4_head(struct socks *);
static enum socks_status socks_step_s4_user(struct socks *);
static enum socks_status socks_step_s4_host(struct socks *);
static enum socks_status socks_step_s5_greet(struct socks *);
static enum socks_status socks_step_s5_req(struct socks *);

/* What to do with a byte in each reading phase. */
static enum socks_status (*const socks_steps[])(struct socks *) = {
	[PH_START] = socks_step_start,
	[PH_S4_HEAD] = socks_step_s4_head,
	[PH_S4_USER] = socks_step_s4_user,
	[PH_S4_HOST] = socks_step_s4_host,
	[PH_S5_GREET] = socks_step_s5_greet,
	[PH_S5_REQ] = socks_step_s5_req,
};

void
socks_init(struct socks *s)
{
	memset(s, 0, sizeof *s);
	s->phase = PH_START;
}

/* Queue bytes for the client. Return 0 or -1 if they do not fit. */
static int
socks_put(struct socks *s, const uint8_t *buf, size_t len)
{
	if (s->outoff > 0) {
		memmove(s->out, s->out + s->outoff, s->outlen - s->outoff);
		s->outlen -= s->outoff;
		s->outoff = 0;
	}
	if (len > sizeof s->out - s->outlen)
		return -1;
	memcpy(s->out + s->outlen, buf, len);
	s->outlen += len;
	return 0;
}

/* Queue the reply for the version spoken; code is a SOCKS5 reply code. */
static void
socks_put_reply(struct socks *s, int code)
{
	uint8_t	r[10];
	size_t	len;

	memset(r, 0, sizeof r);
	if (s->version == 4) {
		r[1] = code == SOCKS_OK ? SOCKS4_GRANTED : SOCKS4_REJECTED;
		len = SOCKS4_HEAD;
	} else {
		r[0] = SOCKS5_VERSION;
		r[1] = code;
		r[3] = SOCKS5_IPV4;	/* BND.ADDR 0.0.0.0, BND.PORT 0 */
		len = sizeof r;
	}
	/* Cannot fail: at most one method reply precedes it. */
	(void)socks_put(s, r, len);
}

static enum socks_status
socks_fail(struct socks *s)
{
	s->phase = PH_FAILED;
	return SOCKS_FAIL;
}

/* Refuse the request with a reply, then fail. */
static enum socks_status
socks_refuse(struct socks *s, int code)
{
	socks_put_reply(s, code);
	return socks_fail(s);
}

/* The current message is consumed: the next byte starts another. */
static enum socks_status
socks_next(struct socks *s, enum socks_phase phase)
{
	s->inlen = 0;
	s->phase = phase;
	return phase == PH_DONE ? SOCKS_REQUEST : SOCKS_MORE;
}

static enum socks_status
socks_step_start(struct socks *s)
{
	/* The version byte stays in in[]: it is part of the message. */
	switch (s->in[0]) {
	case 4:
		s->version = 4;
		s->phase = PH_S4_HEAD;
		return SOCKS_MORE;
	case SOCKS5_VERSION:
		s->version = SOCKS5_VERSION;
		s->phase = PH_S5_GREET;
		return SOCKS_MORE;
	}
	/* Not SOCKS (an HTTP proxy request, TLS...): no reply at all. */
	return socks_fail(s);
}

static enum socks_status
socks_step_s4_head(struct socks *s)
{
	const uint8_t	*p = s->in;

	if (s->inlen < SOCKS4_HEAD)
		return SOCKS_MORE;
	if (p[1] != SOCKS4_CONNECT)
		return socks_refuse(s, SOCKS_CMD_UNSUPPORTED);
	s->port = (p[2] << 8) | p[3];
	if (s->port == 0)
		return socks_refuse(s, SOCKS_NOT_ALLOWED);
	if (p[4] == 0 && p[5] == 0 && p[6] == 0) {
		/* 0.0.0.x, x != 0: SOCKS4a, the name follows the userid. */
		if (p[7] == 0)
			return socks_refuse(s, SOCKS_GENERAL_FAILURE);
		s->socks4a = 1;
	} else if (inet_ntop(AF_INET, p + 4, s->host, sizeof s->host) == NULL)
		return socks_refuse(s, SOCKS_GENERAL_FAILURE);
	return socks_next(s, PH_S4_USER);
}

static enum socks_status
socks_step_s4_user(struct socks *s)
{
	/* The userid is ignored; only its length matters. */
	if (s->in[s->inlen - 1] == '\0')
		return socks_next(s, s->socks4a ? PH_S4_HOST : PH_DONE);
	if (s->inlen > SOCKS_USERID_MAX)
		return socks_refuse(s, SOCKS_GENERAL_FAILURE);
	return SOCKS_MORE;
}

static enum socks_status
socks_step_s4_host(struct socks *s)
{
	size_t	len = s->inlen - 1;

	if (s->in[len] != '\0') {
		if (s->inlen > SOCKS_HOST_MAX)
			return socks_refuse(s, SOCKS_GENERAL_FAILURE);
		return SOCKS_MORE;
	}
	if (len == 0)
		return socks_refuse(s, SOCKS_GENERAL_FAILURE);
	memcpy(s->host, s->in, len);
	s->host[len] = '\0';
	return socks_next(s, PH_DONE);
}

static enum socks_status
socks_step_s5_greet(struct socks *s)
{
	static const uint8_t	 noauth[] = { SOCKS5_VERSION, SOCKS5_NOAUTH };
	static const uint8_t	 none[] = { SOCKS5_VERSION, SOCKS5_NOMETHOD };
	size_t			 n;

	/* in[0], the version, was taken in PH_START: inlen >= 2 here. */
	n = s->in[1];
	if (s->inlen < 2 + n)
		return SOCKS_MORE;
	if (n == 0 || memchr(s->in + 2, SOCKS5_NOAUTH, n) == NULL) {
		(void)socks_put(s, none, sizeof none);
		return socks_fail(s);
	}
	(void)socks_put(s, noauth, sizeof noauth);
	return socks_next(s, PH_S5_REQ);
}

/*
 * The full length of the SOCKS5 request in in[], once the header (and for
 * a name, its length byte) has arrived; 0 until then.
 */
static size_t
socks5_req_len(const struct socks *s)
{
	if (s->inlen < 4)
		return 0;
	switch (s->in[3]) {
	case SOCKS5_IPV4:
		return 4 + 4 + 2;
	case SOCKS5_IPV6:
		return 4 + 16 + 2;
	case SOCKS5_DOMAIN:
		if (s->inlen < 5)
			return 0;
		return 4 + 1 + s->in[4] + 2;
	}
	return 0;
}

static enum socks_status
socks_step_s5_req(struct socks *s)
{
	const uint8_t	*p = s->in;
	size_t		 len, namelen;
	int		 af;

	if (s->inlen == 4) {
		/* The header: check it before reading any address. */
		if (p[0] != SOCKS5_VERSION || p[2] != 0)
			return socks_refuse(s, SOCKS_GENERAL_FAILURE);
		if (p[1] != SOCKS5_CONNECT)
			return socks_refuse(s, SOCKS_CMD_UNSUPPORTED);
		if (p[3] != SOCKS5_IPV4 && p[3] != SOCKS5_IPV6 &&
		    p[3] != SOCKS5_DOMAIN)
			return socks_refuse(s, SOCKS_ATYP_UNSUPPORTED);
	}
	if (s->inlen == 5 && p[3] == SOCKS5_DOMAIN && p[4] == 0)
		return socks_refuse(s, SOCKS_GENERAL_FAILURE);
	if ((len = socks5_req_len(s)) == 0 || s->inlen < len)
		return SOCKS_MORE;

	s->port = (p[len - 2] << 8) | p[len - 1];
	if (s->port == 0)
		return socks_refuse(s, SOCKS_NOT_ALLOWED);
	if (p[3] == SOCKS5_DOMAIN) {
		namelen = p[4];
		if (memchr(p + 5, '\0', namelen) != NULL)
			return socks_refuse(s, SOCKS_GENERAL_FAILURE);
		memcpy(s->host, p + 5, namelen);
		s->host[namelen] = '\0';
	} else {
		af = p[3] == SOCKS5_IPV4 ? AF_INET : AF_INET6;
		if (inet_ntop(af, p + 4, s->host, sizeof s->host) == NULL)
			return socks_refuse(s, SOCKS_GENERAL_FAILURE);
	}
	return socks_next(s, PH_DONE);
}

/* Take one byte into the current message and act on it. */
static enum socks_status
socks_byte(struct socks *s, uint8_t c)
{
	/* Each step bounds its message below SOCKS_IN_MAX; belt and braces. */
	if (s->inlen >= sizeof s->in)
		return socks_refuse(s, SOCKS_GENERAL_FAILURE);
	s->in[s->inlen++] = c;
	return socks_steps[s->phase](s);
}

enum socks_status
socks_feed(struct socks *s, const void *in, size_t len, size_t *used)
{
	const uint8_t		*p = in;
	size_t			 i = 0;
	enum socks_status	 st = SOCKS_MORE;

	switch (s->phase) {
	case PH_DONE:
	case PH_OPEN:
		st = SOCKS_REQUEST;
		break;
	case PH_FAILED:
		st = SOCKS_FAIL;
		break;
	default:
		while (i < len && st == SOCKS_MORE)
			st = socks_byte(s, p[i++]);
		break;
	}
	if (used != NULL)
		*used = i;
	return st;
}

const void *
socks_out(const struct socks *s, size_t *len)
{
	*len = s->outlen - s->outoff;
	return s->out + s->outoff;
}

void
socks_out_consume(struct socks *s, size_t n)
{
	if (n > s->outlen - s->outoff)
		n = s->outlen - s->outoff;
	s->outoff += n;
	if (s->outoff == s->outlen)
		s->outoff = s->outlen = 0;
}

const char *
socks_host(const struct socks *s)
{
	if (s->phase != PH_DONE && s->phase != PH_OPEN)
		return "";
	return s->host;
}

int
socks_port(const struct socks *s)
{
	if (s->phase != PH_DONE && s->phase != PH_OPEN)
		return 0;
	return s->port;
}

int
socks_version(const struct socks *s)
{
	return s->version;
}

void
socks_reply(struct socks *s, enum socks_reply code)
{
	if (s->phase != PH_DONE)
		return;
	if ((int)code < SOCKS_OK || (int)code > SOCKS_ATYP_UNSUPPORTED)
		code = SOCKS_GENERAL_FAILURE;
	socks_put_reply(s, code);
	s->phase = code == SOCKS_OK ? PH_OPEN : PH_FAILED;
}

/* Case-insensitive strstr. */
static int
socks_has(const char *s, const char *word)
{
	size_t	len = strlen(word);

	for (; *s != '\0'; s++) {
		if (strncasecmp(s, word, len) == 0)
			return 1;
	}
	return 0;
}

/*
 * The server's description of a refused channel: OpenSSH sends strerror()
 * or gai_strerror() of its connect, or nothing. The first line that
 * matches wins, so the specific ones come first.
 */
static const struct {
	const char		*word;
	enum socks_reply	 reply;
} socks_errors[] = {
	{ "prohibited", SOCKS_NOT_ALLOWED },
	{ "not permitted", SOCKS_NOT_ALLOWED },
	{ "permission denied", SOCKS_NOT_ALLOWED },
	{ "refused", SOCKS_CONN_REFUSED },
	{ "network is unreachable", SOCKS_NET_UNREACHABLE },
	{ "network unreachable", SOCKS_NET_UNREACHABLE },
	{ "no route", SOCKS_HOST_UNREACHABLE },
	{ "host is unreachable", SOCKS_HOST_UNREACHABLE },
	{ "host unreachable", SOCKS_HOST_UNREACHABLE },
	{ "name or service not known", SOCKS_HOST_UNREACHABLE },
	{ "no address associated", SOCKS_HOST_UNREACHABLE },
	{ "name resolution", SOCKS_HOST_UNREACHABLE },
	{ "nodename nor servname", SOCKS_HOST_UNREACHABLE },
	{ "does not resolve", SOCKS_HOST_UNREACHABLE },
	{ "unknown host", SOCKS_HOST_UNREACHABLE },
	{ "timed out", SOCKS_TTL_EXPIRED },
	{ "timeout", SOCKS_TTL_EXPIRED },
	/* The server has no direct-tcpip (dropbear -j): a policy. */
	{ "unknown channel type", SOCKS_NOT_ALLOWED },
	{ "connect failed", SOCKS_HOST_UNREACHABLE },
};

enum socks_reply
socks_reply_for(int reason, const char *desc)
{
	size_t	i;

	/* A policy, whatever the words: the client must not retry. */
	if (reason == SSHCHAN_PROHIBITED || reason == SSHCHAN_UNKNOWN_TYPE)
		return SOCKS_NOT_ALLOWED;
	for (i = 0; desc != NULL && i < nitems(socks_errors); i++) {
		if (socks_has(desc, socks_errors[i].word))
			return socks_errors[i].reply;
	}
	return reason == SSHCHAN_CONNECT_FAILED ? SOCKS_HOST_UNREACHABLE :
	    SOCKS_GENERAL_FAILURE;
}
