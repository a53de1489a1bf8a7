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
 * proc.h: a command the daemon runs (ProxyCommand, EventCommand,
 * LocalCommand), through /bin/sh in a process group of its own, without
 * blocking the loop.
 */
#ifndef TUNSUP_PROC_H
#define TUNSUP_PROC_H

#include <ev.h>

struct proc;

/*
 * Run "exec CMD" through /bin/sh with both ends of a socketpair's one side
 * as its standard input and output; *fd gets the other side (blocking,
 * close-on-exec). Its standard error goes to the log, a line at a time,
 * under name. The loop must be libev's default loop (the only one that
 * hears of children). NULL with errno set on failure.
 */
struct proc	*proc_start(struct ev_loop *, const char *name, const char *cmd,
		    int *fd);
/*
 * Run CMD through /bin/sh (as ssh runs a LocalCommand) with /dev/null as its standard input and
 * its standard output and error into the log, a line at a time, under name
 * and label ("event command: ..."); env (NAME=VALUE strings, NULL-ended, may
 * be NULL) is added to the daemon's environment, whose own TUNSUP_ variables
 * are left out. After timeout seconds (0: never) it is stopped as
 * proc_stop() does. Once reaped, how it ended is logged (warn unless it
 * exited with 0), done(arg) is called (unless NULL or detached) and the proc
 * is freed. NULL with errno set on failure.
 */
struct proc	*proc_run(struct ev_loop *, const char *name, const char *label,
		    const char *cmd, char *const *env, double timeout,
		    void (*done)(void *), void *arg);
/* A run's owner goes: its end is heard by no one; the time limit holds. */
void		 proc_detach(struct proc *);
/*
 * What the command has to say for itself, for an error message: how it
 * ended, if it did ("exited with status 1", "killed by signal 9"), and its
 * last line of standard error ("said: ..." while it runs); NULL if neither.
 */
const char	*proc_why(struct proc *);
/*
 * Let go of it: SIGTERM to its group unless it ended, SIGKILL if it has not
 * ended PROC_KILL_AFTER seconds later; freed once reaped.
 */
void		 proc_stop(struct proc *);
/* At exit: kill what is left and forget it. */
void		 proc_cleanup(void);

#define PROC_KILL_AFTER	2.0

#endif
