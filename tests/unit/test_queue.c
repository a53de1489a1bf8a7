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
 * test_queue.c: include/compat/sys/queue.h, the list macros configure puts on the
 * include path where the libc has no <sys/queue.h> (musl). Included by its
 * path here, so they are tested on glibc too.
 */
#include "config.h"

#include <stddef.h>

#include <criterion/criterion.h>

#include "../../include/compat/sys/queue.h"

struct item {
	int			 v;
	TAILQ_ENTRY(item)	 tq;
	LIST_ENTRY(item)	 l;
};
TAILQ_HEAD(items, item);
LIST_HEAD(litems, item);

/* The values from first to last, and the same read through tqe_prev. */
static void
tq_expect(struct items *h, const int *want, int n)
{
	struct item	*it, **pp;
	int		 i = 0;

	TAILQ_FOREACH(it, h, tq) {
		cr_assert_lt(i, n);
		cr_assert_eq(it->v, want[i], "at %d", i);
		i++;
	}
	cr_assert_eq(i, n);
	cr_assert_eq(TAILQ_EMPTY(h), n == 0);
	/* tqh_last points at the last entry's next (or at the head). */
	cr_assert_null(*h->tqh_last);
	for (pp = h->tqh_last, i = n - 1; i >= 0; i--) {
		it = (struct item *)((char *)pp -
		    offsetof(struct item, tq.tqe_next));
		cr_assert_eq(it->v, want[i], "backwards at %d", i);
		pp = it->tq.tqe_prev;
	}
	cr_assert_eq(pp, &h->tqh_first);
}

Test(queue, tailq)
{
	struct items	 h = TAILQ_HEAD_INITIALIZER(h);
	struct item	 it[5], *v, *tv;
	int		 i;

	tq_expect(&h, NULL, 0);
	for (i = 0; i < 5; i++)
		it[i].v = i;
	TAILQ_INSERT_TAIL(&h, &it[1], tq);
	TAILQ_INSERT_TAIL(&h, &it[2], tq);
	TAILQ_INSERT_HEAD(&h, &it[0], tq);
	TAILQ_INSERT_TAIL(&h, &it[3], tq);
	tq_expect(&h, (int[]){ 0, 1, 2, 3 }, 4);
	TAILQ_REMOVE(&h, &it[1], tq);		/* middle */
	tq_expect(&h, (int[]){ 0, 2, 3 }, 3);
	TAILQ_REMOVE(&h, &it[3], tq);		/* last */
	TAILQ_INSERT_TAIL(&h, &it[4], tq);
	tq_expect(&h, (int[]){ 0, 2, 4 }, 3);
	TAILQ_REMOVE(&h, &it[0], tq);		/* first */
	tq_expect(&h, (int[]){ 2, 4 }, 2);
	cr_assert_eq(TAILQ_FIRST(&h), &it[2]);
	cr_assert_eq(TAILQ_NEXT(&it[2], tq), &it[4]);
	TAILQ_FOREACH_SAFE(v, &h, tq, tv)
		TAILQ_REMOVE(&h, v, tq);
	tq_expect(&h, NULL, 0);
	TAILQ_INIT(&h);
	TAILQ_INSERT_HEAD(&h, &it[3], tq);	/* into an empty list */
	TAILQ_INSERT_TAIL(&h, &it[4], tq);
	tq_expect(&h, (int[]){ 3, 4 }, 2);
}

Test(queue, list)
{
	struct litems	 h = LIST_HEAD_INITIALIZER(h);
	struct item	 it[3], *v;
	int		 i, n;

	cr_assert(LIST_EMPTY(&h));
	for (i = 0; i < 3; i++) {
		it[i].v = i;
		LIST_INSERT_HEAD(&h, &it[i], l);
	}
	n = 0;
	LIST_FOREACH(v, &h, l)
		cr_assert_eq(v->v, 2 - n++);
	cr_assert_eq(n, 3);
	LIST_REMOVE(&it[1], l);			/* middle */
	LIST_REMOVE(&it[2], l);			/* first */
	cr_assert_eq(LIST_FIRST(&h), &it[0]);
	cr_assert_null(LIST_NEXT(&it[0], l));
	LIST_REMOVE(&it[0], l);			/* the only one */
	cr_assert(LIST_EMPTY(&h));
	LIST_INIT(&h);
	cr_assert(LIST_EMPTY(&h));
}
