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
 * log.c: levelled logging with an optional capture hook (tests).
 *
 * Elsewhere each line goes to stderr as "tunsupd[LEVEL]: message". Under
 * systemd, stderr is a stream to journald (JOURNAL_STREAM names it as
 * "device:inode"): each line goes to journald's native socket instead, as
 * fields (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, and TUNSUP_TUNNEL for a
 * tunnel's), so that "journalctl -p warning" and "journalctl
 * TUNSUP_TUNNEL=NAME" work and the program's name is not written twice;
 * if that socket cannot take it, the line goes to stderr prefixed "<N>",
 * which journald reads as its priority (sd-daemon(3)). A message of
 * several lines is logged a line at a time, each complete.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define JOURNAL_SOCKET	"/run/systemd/journal/socket"

static int		 log_level = LOG_LVL_INFO;
static log_hook_fn	 log_hook;
static void		*log_hook_arg;
static int		 journal = -1;	/* -1: not looked at yet */
static int		 journal_fd = -1;
static pthread_mutex_t	 log_mtx = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
	"error", "warning", "info", "debug", "trace",
};

/* syslog(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
static const int level_prio[] = { 3, 4, 6, 7, 7 };

void
log_set_level(int level)
{
	if (level < LOG_LVL_ERR)
		level = LOG_LVL_ERR;
	if (level > LOG_LVL_TRACE)
		level = LOG_LVL_TRACE;
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

void
log_register(log_hook_fn fn, void *arg)
{
	log_hook = fn;
	log_hook_arg = arg;
}

/*
 * Is stderr journald's stream? Then connect to its native socket
 * ($TUNSUP_JOURNAL_SOCKET for tests). Looked at once.
 */
static void
log_journal_init(void)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	unsigned long		 dev, ino;
	const char		*s, *path;

	journal = 0;
	if ((s = getenv("JOURNAL_STREAM")) == NULL ||
	    sscanf(s, "%lu:%lu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &sb) != 0 || sb.st_dev != dev ||
	    sb.st_ino != ino)
		return;
	journal = 1;
	if ((path = getenv("TUNSUP_JOURNAL_SOCKET")) == NULL)
		path = JOURNAL_SOCKET;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* Never waits: a full socket sends the line to stderr instead. */
	journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (journal_fd != -1 && connect(journal_fd, (struct sockaddr *)&sun,
	    sizeof(sun)) != 0) {
		close(journal_fd);
		journal_fd = -1;
	}
}

/* One line to journald's socket; 0, or -1 if it did not take it. */
static int
log_journal(enum log_level level, const char *tunnel, const char *line)
{
	char	*dgram;
	ssize_t	 n;
	int	 len;

	if (journal_fd == -1)
		return -1;
	len = xasprintf(&dgram, "MESSAGE=%s\nPRIORITY=%d\n"
	    "SYSLOG_IDENTIFIER=tunsupd\n%s%s%s", line, level_prio[level],
	    tunnel != NULL ? "TUNSUP_TUNNEL=" : "",
	    tunnel != NULL ? tunnel : "", tunnel != NULL ? "\n" : "");
	n = send(journal_fd, dgram, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
	free(dgram);
	return n == len ? 0 : -1;
}

/*
 * Lines come from the loop and from the threads that ask an agent (libssh's
 * own log at -vvvv): one at a time, the journal looked at once.
 */
static void
log_line(enum log_level level, const char *tunnel, const char *line)
{
	pthread_mutex_lock(&log_mtx);
	if (log_hook != NULL)
		log_hook(level, line, log_hook_arg);
	else {
		if (journal == -1)
			log_journal_init();
		if (!journal || log_journal(level, tunnel, line) != 0) {
			if (journal)
				fprintf(stderr, "<%d>%s\n", level_prio[level],
				    line);
			else
				fprintf(stderr, "tunsupd[%s]: %s\n",
				    level_names[level], line);
		}
	}
	pthread_mutex_unlock(&log_mtx);
}

/*
 * Format a message and log it a line at a time, each line with prefix
 * (a tunnel's "tunnel NAME: ").
 */
static void
log_lines(enum log_level level, const char *tunnel, const char *prefix,
    const char *fmt, va_list ap)
{
	char	 msg[2048], line[2200], *cp, *nl;

	if ((int)level > log_level && log_hook == NULL)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (cp = msg; cp != NULL; cp = nl) {
		if ((nl = strchr(cp, '\n')) != NULL)
			*nl++ = '\0';
		if (*cp == '\0' && nl == NULL && cp != msg)
			break;		/* a trailing newline */
		snprintf(line, sizeof(line), "%s%s", prefix != NULL ?
		    prefix : "", cp);
		log_line(level, tunnel, line);
	}
}

void
log_vmsg(enum log_level level, const char *prefix, const char *fmt,
    va_list ap)
{
	log_lines(level, NULL, prefix, fmt, ap);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_lines(level, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
tlog_msg(const char *name, enum log_level level, const char *fmt, ...)
{
	char	 prefix[96];
	va_list	 ap;

	snprintf(prefix, sizeof(prefix), "tunnel %s: ", name);
	va_start(ap, fmt);
	log_lines(level, name, prefix, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "tunsupd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}
