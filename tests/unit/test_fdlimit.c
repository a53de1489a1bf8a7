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
 * test_fdlimit.c: the accept pause shared by every listener, driven by a
 * private loop on the real clock (about 4 s): a shortage pauses every
 * registered watcher, the timer resumes them, a shortage after the resume
 * pauses them again within the same episode (one warning), a quiet pause ends
 * it (one line), and the spare descriptors come back.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "fdlimit.h"
#include "log.h"

static struct ev_loop	*loop;
static struct fdlimit	*fl;
static int		 sp[2][2];
static ev_io		 io[2];
static struct fdlimit_listener fw[2];
static int		 warnings, ends;

static void
capture(enum log_level level, const char *msg, void *arg)
{
	if (strstr(msg, "not accepting on any listener") != NULL)
		warnings++;
	if (strstr(msg, "accepting again after") != NULL)
		ends++;
}

static void
never_cb(struct ev_loop *l, ev_io *w, int revents)
{
}

static void
setup(void)
{
	int	 i;

	log_register(capture, NULL);
	warnings = ends = 0;
	loop = ev_loop_new(EVFLAG_AUTO);
	fl = fdlimit_new(loop);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp[i]), 0);
		ev_io_init(&io[i], never_cb, sp[i][0], EV_READ);
		memset(&fw[i], 0, sizeof(fw[i]));
	}
}

static void
teardown(void)
{
	int	 i;

	fdlimit_free(fl);
	for (i = 0; i < 2; i++) {
		close(sp[i][0]);
		close(sp[i][1]);
	}
	ev_loop_destroy(loop);
	log_register(NULL, NULL);
}

static void
stop_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	ev_break(l, EVBREAK_ONE);
}

/* Run the loop for secs (every watcher here stays quiet). */
static void
run_for(double secs)
{
	ev_timer	 t;

	ev_timer_init(&t, stop_cb, secs, 0.);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
}

TestSuite(fdlimit, .init = setup, .fini = teardown, .timeout = 30);

Test(fdlimit, shortage_pauses_every_listener_and_resumes_again_and_again)
{
	fdlimit_watch(fl, &fw[0], &io[0]);
	fdlimit_watch(fl, &fw[1], &io[1]);
	cr_assert(ev_is_active(&io[0]) && ev_is_active(&io[1]));

	/* Not a shortage: nothing happens, errno is the caller's. */
	errno = EAGAIN;
	cr_assert_eq(fdlimit_accept_failed(&fw[0], EAGAIN), 0);
	cr_assert_eq(errno, EAGAIN);
	cr_assert(ev_is_active(&io[0]) && ev_is_active(&io[1]));

	cr_assert_eq(fdlimit_accept_failed(&fw[1], EMFILE), 1);
	cr_assert(!ev_is_active(&io[0]) && !ev_is_active(&io[1]),
	    "one listener's shortage pauses both");
	cr_assert(fdlimit_watching(&fw[0]) && fdlimit_watching(&fw[1]));
	cr_assert_eq(warnings, 1);

	/* Resumed after the pause, paused again: the same episode. */
	run_for(FDLIMIT_PAUSE * 1.2);
	cr_assert(ev_is_active(&io[0]) && ev_is_active(&io[1]),
	    "resumed after the pause");
	cr_assert_eq(fdlimit_accept_failed(&fw[0], ENFILE), 1);
	cr_assert(!ev_is_active(&io[0]) && !ev_is_active(&io[1]));
	run_for(FDLIMIT_PAUSE * 0.5);
	cr_assert(!ev_is_active(&io[0]) && !ev_is_active(&io[1]),
	    "the second pause lasts as long as the first");
	run_for(FDLIMIT_PAUSE * 0.7);
	cr_assert(ev_is_active(&io[0]) && ev_is_active(&io[1]),
	    "the second pause ends too");
	cr_assert_eq(warnings, 1, "one warning per episode");
	cr_assert_eq(ends, 0, "no end while the last resume may fail");

	/* A pause's worth of quiet after the resume ends the episode. */
	run_for(FDLIMIT_PAUSE * 1.2);
	cr_assert_eq(ends, 1);
	cr_assert(ev_is_active(&io[0]) && ev_is_active(&io[1]));

	/* A later shortage is a new episode. */
	cr_assert_eq(fdlimit_accept_failed(&fw[0], ENOBUFS), 1);
	cr_assert_eq(warnings, 2);
}

Test(fdlimit, listener_registered_while_paused_starts_at_the_resume)
{
	fdlimit_watch(fl, &fw[0], &io[0]);
	cr_assert_eq(fdlimit_accept_failed(&fw[0], EMFILE), 1);
	fdlimit_watch(fl, &fw[1], &io[1]);
	cr_assert(!ev_is_active(&io[1]), "a new listener waits for the resume");
	run_for(FDLIMIT_PAUSE * 1.2);
	cr_assert(ev_is_active(&io[0]) && ev_is_active(&io[1]));
}

Test(fdlimit, last_listener_gone_ends_the_episode)
{
	fdlimit_watch(fl, &fw[0], &io[0]);
	cr_assert_eq(fdlimit_accept_failed(&fw[0], EMFILE), 1);
	fdlimit_unwatch(&fw[0]);
	cr_assert(!fdlimit_watching(&fw[0]));
	cr_assert_eq(ends, 1);
	/* Nothing is left active: the loop returns at once. */
	cr_assert_eq(ev_run(loop, 0), 0);
	fdlimit_unwatch(&fw[0]);	/* twice is harmless */
}

Test(fdlimit, spares_are_given_up_and_taken_back_at_the_resume)
{
	fdlimit_watch(fl, &fw[0], &io[0]);
	cr_assert_eq(fdlimit_spare(fl), 1);
	cr_assert_eq(fdlimit_spare(fl), 1);
	cr_assert_eq(fdlimit_spare(fl), 0, "two spares, no more");
	cr_assert_eq(fdlimit_accept_failed(&fw[0], EMFILE), 1);
	run_for(FDLIMIT_PAUSE * 1.2);
	cr_assert_eq(fdlimit_spare(fl), 1, "taken back at the resume");
}
