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
 * socks.h: the server side of a SOCKS4, SOCKS4a and SOCKS5 (RFC 1928)
 * CONNECT handshake, without transport: bytes from the client go in with
 * socks_feed(), bytes for the client come out of socks_out(). No sockets,
 * no loop, no allocation, so it can be unit-tested and fuzzed alone.
 *
 * Only CONNECT without authentication is offered. Typical use:
 *
 *	socks_init(&s);
 *	on input:  st = socks_feed(&s, buf, len, &used);
 *	           write socks_out() to the client, socks_out_consume();
 *	           SOCKS_MORE: wait for more input;
 *	           SOCKS_FAIL: flush the output, then close;
 *	           SOCKS_REQUEST: open a channel to socks_host():socks_port(),
 *	           keep buf[used..len) (pipelined payload) for the channel,
 *	           then socks_reply(), flush, and relay (or close on error).
 */
#ifndef TUNSUP_SOCKS_H
#define TUNSUP_SOCKS_H

#include <stddef.h>
#include <stdint.h>

enum socks_status {
	SOCKS_MORE = 0,		/* need more input */
	SOCKS_REQUEST = 1,	/* a CONNECT request is complete */
	SOCKS_FAIL = -1,	/* give up once the output is flushed */
};

/* SOCKS5 reply codes (RFC 1928 section 6); SOCKS4 has only granted/not. */
enum socks_reply {
	SOCKS_OK = 0,
	SOCKS_GENERAL_FAILURE = 1,
	SOCKS_NOT_ALLOWED = 2,
	SOCKS_NET_UNREACHABLE = 3,
	SOCKS_HOST_UNREACHABLE = 4,
	SOCKS_CONN_REFUSED = 5,
	SOCKS_TTL_EXPIRED = 6,
	SOCKS_CMD_UNSUPPORTED = 7,
	SOCKS_ATYP_UNSUPPORTED = 8,
};

#define SOCKS_USERID_MAX	255	/* SOCKS4 userid, without the NUL */
#define SOCKS_HOST_MAX		255	/* domain name (SOCKS4a, SOCKS5) */
/* Largest message kept whole: SOCKS5 request with a 255-byte name. */
#define SOCKS_IN_MAX		(4 + 1 + SOCKS_HOST_MAX + 2)
/* Method selection (2) and one final or error reply (10) at most. */
#define SOCKS_OUT_MAX		32

/* Fields are private to socks.c; it is public so it can be embedded. */
struct socks {
	int		 version;	/* 0 until the first byte, then 4 or 5 */
	int		 phase;
	int		 socks4a;	/* SOCKS4 with a name after the userid */
	size_t		 inlen;		/* bytes of the current message */
	uint8_t		 in[SOCKS_IN_MAX];
	size_t		 outoff;
	size_t		 outlen;
	uint8_t		 out[SOCKS_OUT_MAX];
	char		 host[SOCKS_HOST_MAX + 1];
	int		 port;
};

void		 socks_init(struct socks *);
/*
 * Feed len bytes of input; *used (if not NULL) is set to the bytes taken.
 * Input stops being taken at the end of a complete request, so bytes the
 * client pipelined after it are left to the caller. Once the request is
 * complete, calls take nothing and return SOCKS_REQUEST; once failed,
 * they take nothing and return SOCKS_FAIL.
 */
enum socks_status socks_feed(struct socks *, const void *in, size_t len,
		    size_t *used);
/* Bytes waiting for the client; never NULL. */
const void	*socks_out(const struct socks *, size_t *len);
/* n bytes of socks_out() were written (n is clamped to what is waiting). */
void		 socks_out_consume(struct socks *, size_t n);
/*
 * The destination of a complete request: "1.2.3.4", "::1" (no brackets),
 * or the name as the client sent it. "" and 0 before that.
 */
const char	*socks_host(const struct socks *);
int		 socks_port(const struct socks *);
/* 4 or 5; 0 before the first byte. */
int		 socks_version(const struct socks *);
/*
 * Queue the final reply to a complete request (ignored otherwise, and
 * after the first call). SOCKS5: VER REP RSV ATYP=1 0.0.0.0 port 0;
 * SOCKS4: 0x00 then 0x5a (SOCKS_OK) or 0x5b, then six zero bytes. After an
 * error reply, socks_feed() returns SOCKS_FAIL.
 */
void		 socks_reply(struct socks *, enum socks_reply);
/*
 * The reply that best matches a refused channel open: its RFC 4254 reason
 * (SSHCHAN_* of sshconn.h, 0 if none) and the server's description (may be
 * NULL).
 */
enum socks_reply socks_reply_for(int reason, const char *desc);

#endif
