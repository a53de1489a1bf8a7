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
 * wakecost: what this machine charges a process for waking up, so that idle-CPU
 * figures can be read. Prints two numbers, in microseconds of the process's own
 * CPU time (CLOCK_PROCESS_CPUTIME_ID):
 *
 *   wakecost wake GAP_MS   per wake-up from epoll_wait(GAP_MS), doing nothing
 *   wakecost page GAP_MS   per first read of a random page of a 32 MiB heap
 *                          touched once at start, one read per wake-up
 *
 * On bare metal both are a few microseconds; on some VMs they are hundreds.
 */
#include <sys/epoll.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
cpu_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double
wall_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	struct epoll_event	 ev;
	volatile char		*heap = NULL;
	size_t			 size = 32 << 20, pages = size / 4096, off;
	double			 t0, t, sum = 0;
	int			 ep, gap, n, i, page;
	long			 sink = 0;

	if (argc != 3 || (strcmp(argv[1], "wake") != 0 &&
	    strcmp(argv[1], "page") != 0)) {
		fprintf(stderr, "usage: wakecost wake|page GAP_MS\n");
		return 2;
	}
	page = strcmp(argv[1], "page") == 0;
	gap = atoi(argv[2]);
	if (gap < 1)
		gap = 1;
	n = 3000 / gap;		/* about 3 s */
	if (n < 5)
		n = 5;
	if (page) {
		heap = malloc(size);
		if (heap == NULL)
			return 1;
		memset((char *)heap, 1, size);
	}
	if ((ep = epoll_create1(0)) == -1)
		return 1;
	srandom(1);
	t0 = cpu_us();
	for (i = 0; i < n; i++) {
		epoll_wait(ep, &ev, 1, gap);
		if (page) {
			off = (size_t)(random() % pages) * 4096;
			t = wall_us();
			sink += heap[off];
			sum += wall_us() - t;
		}
	}
	if (page)
		printf("%.1f\n", sum / n);
	else
		printf("%.1f\n", (cpu_us() - t0) / n);
	return sink == -1;
}
