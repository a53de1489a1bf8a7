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
 * test_libssh_buffer.c: the bundled libssh's buffers, as a channel's held
 * data uses them (buffer-grow.patch; built only with the bundled libssh).
 * A packet's worth is added and as much taken, over and over, behind a
 * backlog that stays put: every byte comes out once and in order, and
 * libssh moves at most three bytes of backlog for each byte added.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <libssh/libssh.h>

#define CHUNK	32768

/* The byte at offset off of the stream. */
static uint8_t
stream_byte(uint64_t off)
{
	return (uint8_t)(off ^ (off >> 8) ^ (off >> 16));
}

static void
stream_fill(uint8_t *p, uint64_t off, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		p[i] = stream_byte(off + i);
}

/*
 * Behind a backlog of that many bytes, adds and takes total bytes, one
 * CHUNK at a time; returns how many bytes of backlog libssh moved.
 */
static uint64_t
churn(uint32_t backlog, uint64_t total)
{
	static uint8_t	 in[CHUNK], out[CHUNK];
	ssh_buffer	 b;
	uint64_t	 wr = 0, rd = 0, moved = 0;
	uint32_t	 live, n;
	void		*head;

	cr_assert_not_null(b = ssh_buffer_new());
	while (wr < backlog) {
		n = backlog - wr < CHUNK ? backlog - wr : CHUNK;
		stream_fill(in, wr, n);
		cr_assert_eq(ssh_buffer_add_data(b, in, n), 0);
		wr += n;
	}
	while (rd < total) {
		head = ssh_buffer_get(b);
		live = ssh_buffer_get_len(b);
		stream_fill(in, wr, CHUNK);
		cr_assert_eq(ssh_buffer_add_data(b, in, CHUNK), 0);
		wr += CHUNK;
		/* The backlog left its place: shifted, or copied by realloc(). */
		if (ssh_buffer_get(b) != head)
			moved += live;

		cr_assert_eq(ssh_buffer_get_data(b, out, CHUNK), CHUNK);
		stream_fill(in, rd, CHUNK);
		cr_assert(memcmp(out, in, CHUNK) == 0,
		    "bytes %llu to %llu of the stream differ",
		    (unsigned long long)rd, (unsigned long long)rd + CHUNK);
		rd += CHUNK;
		cr_assert_eq(ssh_buffer_get_len(b), backlog);
	}
	ssh_buffer_free(b);
	return moved;
}

/*
 * Backlogs just under a power of two, where libssh 0.11.5 moved the backlog
 * after every few chunks (19 and 39 bytes for each byte added), and at
 * three quarters of one.
 */
Test(libssh_buffer, held_backlog_moves_little)
{
	static const uint32_t	 backlogs[] = {
		300 << 10, (3 << 20) / 2, (19 << 20) / 10, (39 << 20) / 10,
	};
	const uint64_t		 total = 64 << 20;
	uint64_t		 moved;
	size_t			 i;

	for (i = 0; i < sizeof(backlogs) / sizeof(backlogs[0]); i++) {
		moved = churn(backlogs[i], total);
		cr_assert_leq(moved, 3 * total,
		    "a backlog of %u bytes: %llu bytes moved for %llu added",
		    backlogs[i], (unsigned long long)moved,
		    (unsigned long long)total);
	}
}
