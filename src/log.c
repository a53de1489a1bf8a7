/* log.c: levelled logging to stderr with an optional capture hook. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static int		 log_level = LOG_LVL_INFO;
static log_hook_fn	 log_hook;
static void		*log_hook_arg;

static const char *const level_names[] = {
	"error", "warning", "info", "debug", "trace",
};

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

void
log_vmsg(enum log_level level, const char *prefix, const char *fmt,
    va_list ap)
{
	char	 msg[2048];
	size_t	 n;

	if ((int)level > log_level && log_hook == NULL)
		return;
	n = 0;
	if (prefix != NULL)
		n = (size_t)snprintf(msg, sizeof(msg), "%s", prefix);
	if (n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	if (log_hook != NULL) {
		log_hook(level, msg, log_hook_arg);
		return;
	}
	fprintf(stderr, "tunsupd[%s]: %s\n", level_names[level], msg);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(level, NULL, fmt, ap);
	va_end(ap);
}

void
tlog_msg(const char *name, enum log_level level, const char *fmt, ...)
{
	char	 prefix[96];
	va_list	 ap;

	snprintf(prefix, sizeof(prefix), "tunnel %s: ", name);
	va_start(ap, fmt);
	log_vmsg(level, prefix, fmt, ap);
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
