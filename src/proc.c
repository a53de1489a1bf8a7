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
 * proc.c: commands the daemon runs (ProxyCommand, EventCommand and
 * LocalCommand, see tunsupd.conf(5)), without blocking the loop: started
 * with posix_spawn() through /bin/sh in a process group of their own, with
 * default signal handling; their standard error (and a run's standard
 * output) read a line at a time into the log under the tunnel's name; their
 * end heard through an ev_child watcher (libev reaps children on its default
 * loop, tunsupd's); stopped with SIGTERM to the group, and SIGKILL
 * PROC_KILL_AFTER seconds later if that was not enough. A run (proc_run)
 * is stopped that way when its time is up, and frees itself once reaped.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "util.h"

#define PROC_LINE_MAX	512

extern char	**environ;

struct proc {
	LIST_ENTRY(proc)	 entry;
	struct ev_loop		*loop;
	char			*name;		/* the tunnel, for the log */
	pid_t			 pid;
	ev_child		 child;
	int			 err_fd;
	ev_io			 err_io;
	char			 line[PROC_LINE_MAX];
	size_t			 len;
	char			*last;		/* its last line on stderr */
	int			 ended;		/* reaped: status is valid */
	int			 status;
	char			*why;		/* proc_ended()'s answer */
	ev_timer		 kill_timer;
	int			 stopped;	/* let go by its owner */
	const char		*label;		/* "proxy command", ... */
	/* A run: its time limit, and who hears of its end (NULL: no one). */
	int			 run;
	double			 timeout;
	ev_timer		 time_timer;
	void			(*done)(void *);
	void			*arg;
};

static LIST_HEAD(, proc) procs = LIST_HEAD_INITIALIZER(procs);

static void	proc_run_ended(struct proc *);

static void
proc_free(struct proc *p)
{
	LIST_REMOVE(p, entry);
	ev_child_stop(p->loop, &p->child);
	ev_timer_stop(p->loop, &p->kill_timer);
	ev_timer_stop(p->loop, &p->time_timer);
	if (p->err_fd != -1) {
		ev_io_stop(p->loop, &p->err_io);
		close(p->err_fd);
	}
	free(p->name);
	free(p->last);
	free(p->why);
	free(p);
}

/* One line of its standard error: logged, and kept as its last words. */
static void
proc_line(struct proc *p)
{
	p->line[p->len] = '\0';
	p->len = 0;
	if (p->line[0] == '\0')
		return;
	tlog_msg(p->name, LOG_LVL_INFO, "%s: %s", p->label, p->line);
	free(p->last);
	p->last = xstrdup(p->line);
}

/* Read what it wrote; at the end (or an error) stop reading. */
static void
proc_drain(struct proc *p)
{
	char	 buf[1024];
	ssize_t	 n, i;

	for (;;) {
		n = read(p->err_fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n' || p->len == sizeof(p->line) - 1)
				proc_line(p);
			if (buf[i] != '\n')
				p->line[p->len++] = buf[i];
		}
	}
	if (p->len > 0)
		proc_line(p);
	ev_io_stop(p->loop, &p->err_io);
	close(p->err_fd);
	p->err_fd = -1;
}

static void
proc_err_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct proc	*p = w->data;

	proc_drain(p);
}

static void
proc_child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct proc	*p = w->data;

	ev_child_stop(loop, w);
	if (!p->run)
		ev_timer_stop(loop, &p->kill_timer);
	ev_timer_stop(loop, &p->time_timer);
	p->ended = 1;
	p->status = w->rstatus;
	if (p->err_fd != -1)
		proc_drain(p);		/* its last words, if already written */
	if (p->run) {
		proc_run_ended(p);
		return;
	}
	if (p->stopped) {
		/* A child of its own may still hold stderr: not our wait. */
		proc_free(p);
	}
}

static void
proc_kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct proc	*p = w->data;

	if (!p->run) {
		if (!p->ended)
			kill(-p->pid, SIGKILL);
		return;
	}
	/* A run's group: what outlived the shell after SIGTERM goes too. */
	if (kill(-p->pid, SIGKILL) == 0)
		tlog_msg(p->name, LOG_LVL_WARN, "%s: still running %.3g s after "
		    "SIGTERM: killed", p->label, PROC_KILL_AFTER);
	if (p->ended)
		proc_free(p);
}

/*
 * The environment of a run: the daemon's without any TUNSUP_ variable of its
 * own, and env's. The strings are borrowed; the array is new.
 */
static char **
proc_environ(char *const *env)
{
	char	**e;
	size_t	  n = 0, m = 0, i;

	for (i = 0; environ[i] != NULL; i++)
		n++;
	for (i = 0; env != NULL && env[i] != NULL; i++)
		m++;
	e = xcalloc(n + m + 1, sizeof(*e));
	for (n = 0, i = 0; environ[i] != NULL; i++) {
		if (strncmp(environ[i], "TUNSUP_", 7) != 0)
			e[n++] = environ[i];
	}
	for (i = 0; i < m; i++)
		e[n++] = env[i];
	e[n] = NULL;
	return e;
}

/*
 * Spawn CMD ("exec CMD" if ex) through /bin/sh with in as its standard
 * input, out as its standard output and err as its standard error, in a
 * process group of its own; a new proc that reads err_rd (the other end of
 * err) into the log.
 */
static struct proc *
proc_spawn(struct ev_loop *loop, const char *name, const char *label,
    const char *cmd, int ex, char *const *env, int in, int out, int err,
    int err_rd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t	 at;
	sigset_t		 none, all;
	struct proc		*p;
	char			*line, *argv[4], **envp;
	int			 r;
	pid_t			 pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err, STDERR_FILENO);
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
#endif
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	xasprintf(&line, "%s%s", ex ? "exec " : "", cmd);
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = line;
	argv[3] = NULL;
	envp = env != NULL ? proc_environ(env) : environ;
	r = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, envp);
	if (envp != environ)
		free(envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(line);
	if (r != 0) {
		errno = r;
		return NULL;
	}
	fd_nonblock(err_rd);

	p = xcalloc(1, sizeof(*p));
	p->loop = loop;
	p->name = xstrdup(name);
	p->label = label;
	p->pid = pid;
	p->err_fd = err_rd;
	ev_child_init(&p->child, proc_child_cb, pid, 0);
	p->child.data = p;
	ev_child_start(loop, &p->child);
	ev_io_init(&p->err_io, proc_err_cb, p->err_fd, EV_READ);
	p->err_io.data = p;
	ev_io_start(loop, &p->err_io);
	ev_timer_init(&p->kill_timer, proc_kill_cb, PROC_KILL_AFTER, 0.);
	p->kill_timer.data = p;
	LIST_INSERT_HEAD(&procs, p, entry);
	return p;
}

struct proc *
proc_start(struct ev_loop *loop, const char *name, const char *cmd, int *fd)
{
	struct proc	*p;
	int		 sv[2], ep[2], r;

	if (!ev_is_default_loop(loop)) {
		errno = ENOTSUP;
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return NULL;
	if (pipe2(ep, O_CLOEXEC) == -1) {
		r = errno;
		close(sv[0]);
		close(sv[1]);
		errno = r;
		return NULL;
	}
	p = proc_spawn(loop, name, "proxy command", cmd, 1, NULL, sv[1], sv[1],
	    ep[1], ep[0]);
	r = errno;
	close(sv[1]);
	close(ep[1]);
	if (p == NULL) {
		close(sv[0]);
		close(ep[0]);
		errno = r;
		return NULL;
	}
	*fd = sv[0];
	return p;
}

/* A run's time is up: stop it as proc_stop would, its owner still hears. */
static void
proc_time_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct proc	*p = w->data;

	if (p->ended)
		return;
	tlog_msg(p->name, LOG_LVL_WARN, "%s: still running after %.3g s: "
	    "stopped", p->label, p->timeout);
	kill(-p->pid, SIGTERM);
	ev_timer_start(p->loop, &p->kill_timer);
}

/* A run was reaped: say how it ended, tell its owner, and go. */
static void
proc_run_ended(struct proc *p)
{
	const char	*why;

	why = proc_why(p);
	if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0)
		tlog_msg(p->name, LOG_LVL_DEBUG, "%s: %s", p->label, why);
	else
		tlog_msg(p->name, LOG_LVL_WARN, "%s: %s", p->label, why);
	if (p->done != NULL)
		p->done(p->arg);
	p->done = NULL;
	/* Stopped: its group gets SIGKILL when the time comes (proc_kill_cb). */
	if (!ev_is_active(&p->kill_timer))
		proc_free(p);
}

struct proc *
proc_run(struct ev_loop *loop, const char *name, const char *label,
    const char *cmd, char *const *env, double timeout,
    void (*done)(void *), void *arg)
{
	struct proc	*p;
	int		 op[2], in, r;

	if (!ev_is_default_loop(loop)) {
		errno = ENOTSUP;
		return NULL;
	}
	if ((in = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (pipe2(op, O_CLOEXEC) == -1) {
		r = errno;
		close(in);
		errno = r;
		return NULL;
	}
	p = proc_spawn(loop, name, label, cmd, 0, env, in, op[1], op[1],
	    op[0]);
	r = errno;
	close(in);
	close(op[1]);
	if (p == NULL) {
		close(op[0]);
		errno = r;
		return NULL;
	}
	p->run = 1;
	p->done = done;
	p->arg = arg;
	p->timeout = timeout;
	ev_timer_init(&p->time_timer, proc_time_cb, timeout, 0.);
	p->time_timer.data = p;
	if (timeout > 0)
		ev_timer_start(loop, &p->time_timer);
	return p;
}

void
proc_detach(struct proc *p)
{
	if (p != NULL)
		p->done = NULL;
}

const char *
proc_why(struct proc *p)
{
	char	 how[64] = "ended";

	if (p->err_fd != -1)
		proc_drain(p);		/* what it said before the end */
	if (WIFEXITED(p->status))
		snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(p->status));
	else if (WIFSIGNALED(p->status))
		snprintf(how, sizeof(how), "killed by signal %d",
		    WTERMSIG(p->status));
	free(p->why);
	p->why = NULL;
	if (p->ended && p->last != NULL)
		xasprintf(&p->why, "%s: %s", how, p->last);
	else if (p->ended)
		p->why = xstrdup(how);
	else if (p->last != NULL)
		xasprintf(&p->why, "said: %s", p->last);
	return p->why;
}

void
proc_stop(struct proc *p)
{
	if (p == NULL)
		return;
	p->stopped = 1;
	if (p->ended) {
		proc_free(p);
		return;
	}
	kill(-p->pid, SIGTERM);
	ev_timer_start(p->loop, &p->kill_timer);
}

void
proc_cleanup(void)
{
	struct proc	*p;

	while ((p = LIST_FIRST(&procs)) != NULL) {
		if (!p->ended)
			kill(-p->pid, SIGKILL);
		proc_free(p);
	}
}
