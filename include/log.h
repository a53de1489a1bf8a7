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
/* log.h: levelled logging to stderr, a per-tunnel prefix, and a test hook. */
#ifndef TUNSUP_LOG_H
#define TUNSUP_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
	LOG_LVL_TRACE,
};

typedef void (*log_hook_fn)(enum log_level, const char *msg, void *arg);

void	log_set_level(int);
int	log_get_level(void);
/* Send messages to fn instead of stderr (tests); NULL restores stderr. */
void	log_register(log_hook_fn fn, void *arg);

void	log_msg(enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_vmsg(enum log_level, const char *prefix, const char *fmt, va_list)
	    __attribute__((format(printf, 3, 0)));

#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_trace(...)	log_msg(LOG_LVL_TRACE, __VA_ARGS__)

/* Messages prefixed "tunnel NAME: ". */
void	tlog_msg(const char *name, enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#define tlog_err(t, ...)	tlog_msg((t)->spec->name, LOG_LVL_ERR, __VA_ARGS__)
#define tlog_warn(t, ...)	tlog_msg((t)->spec->name, LOG_LVL_WARN, __VA_ARGS__)
#define tlog_info(t, ...)	tlog_msg((t)->spec->name, LOG_LVL_INFO, __VA_ARGS__)
#define tlog_debug(t, ...)	tlog_msg((t)->spec->name, LOG_LVL_DEBUG, __VA_ARGS__)
#define tlog_trace(t, ...)	tlog_msg((t)->spec->name, LOG_LVL_TRACE, __VA_ARGS__)

/* Print "tunsupd: message" and exit(1). Only before the loop runs. */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
