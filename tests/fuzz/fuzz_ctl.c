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
 * fuzz_ctl.c: libFuzzer target for the control protocol (ctl_cmds.c): the
 * request parser and every command handler, without the socket.
 *
 * One daemon, created once from a tiny configuration: tunnel "t", disabled,
 * to 127.0.0.1 port 1. Each input is split into lines; each line goes to
 * ctl_dispatch_line() and its reply is checked (an object with a boolean
 * "ok") and serialised. The loop never runs while a tunnel is wanted, so a
 * tunnel that a command starts never gets past "connecting": no connection
 * is made, no listener bound. Name lookups are cut off (getaddrinfo and open
 * are wrapped at link time, see Makefile.am: only numeric hosts resolve) so
 * an added tunnel cannot reach DNS or read a file. After each input the daemon is put back as it was: runtime tunnels
 * removed, "t" stopped (and re-added if the input removed it).
 *
 * An input that begins with '!' comes from a ControlGroup member (an
 * operator), whose requests must never change the set of tunnels or what a
 * tunnel is made of; any other input from the daemon's owner.
 *
 * libFuzzer writes new inputs into its first corpus directory: keep the
 * seeds clean with a scratch one first,
 *	fuzz_ctl -max_len=4096 /tmp/corpus tests/fuzz/corpus/ctl
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <jansson.h>

#include "cfg.h"
#include "ctl.h"
#include "daemon.h"
#include "fuzz.h"
#include "log.h"
#include "tunnel.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

/* Linked with -Wl,--wrap=getaddrinfo,--wrap=open. */
int	__real_getaddrinfo(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **);
int	__wrap_getaddrinfo(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **);
int	__wrap_open(const char *, int, ...);


#define FUZZ_TUNNEL	"t"
#define FUZZ_BODY							\
	"HostName 127.0.0.1\n"						\
	"Port 1\n"							\
	"Enabled no\n"							\
	"ConnectTimeout 1\n"						\
	"LocalForward 127.0.0.1:1 127.0.0.1:1\n"			\
	"RemoteForward 1 127.0.0.1:1\n"					\
	"DynamicForward 127.0.0.1:2\n"
#define FUZZ_CONFIG							\
	"RetryMin 1s\n"							\
	"ServerAliveInterval 5\n"					\
	"Tunnel " FUZZ_TUNNEL "\n"					\
	FUZZ_BODY

static struct daemon	*fuzz_daemon;

/* No DNS: numeric addresses only, a name fails at once. */
int
__wrap_getaddrinfo(const char *host, const char *serv,
    const struct addrinfo *hints, struct addrinfo **res)
{
	if (hints == NULL || !(hints->ai_flags & AI_NUMERICHOST)) {
		*res = NULL;
		return EAI_AGAIN;
	}
	return __real_getaddrinfo(host, serv, hints, res);
}

/* No files: an added tunnel's SshConfig cannot be read. */
int
__wrap_open(const char *path, int flags, ...)
{
	errno = ENOENT;
	return -1;
}

static void
fuzz_log_hook(enum log_level level, const char *msg, void *arg)
{
	check(msg != NULL);
	(void)strlen(msg);
}

static void
fuzz_add_t(struct daemon *d)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct tunnel_spec	*spec;
	char			*err = NULL;

	spec = cfg_parse_tunnel(d->cfg, FUZZ_TUNNEL, FUZZ_BODY, &errs, NULL);
	check(spec != NULL && errs.n == 0);
	check(daemon_tunnel_add(d, spec, &err) == 0);	/* spec stolen */
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct ev_loop		*loop;
	struct cfg		*cfg;

	log_register(fuzz_log_hook, NULL);
	log_set_level(LOG_LVL_TRACE);
	cfg = cfg_load_string("fuzz.conf", FUZZ_CONFIG, &errs);
	check(cfg != NULL && errs.n == 0);
	check((loop = ev_loop_new(0)) != NULL);
	fuzz_daemon = daemon_new(loop, cfg, NULL);	/* cfg stolen */
	check(fuzz_daemon != NULL);
	check(daemon_tunnel_count(fuzz_daemon) == 1);
	return 0;
}

#define FUZZ_MAX_TUNNELS	64

/* The tunnels and their specs, in order; -1 if there are too many. */
static int
fuzz_snapshot(struct daemon *d, const void **out)
{
	struct tunnel	*t;
	int		 n = 0;

	TAILQ_FOREACH(t, &d->tunnels, entry) {
		if (n + 2 > 2 * FUZZ_MAX_TUNNELS)
			return -1;
		out[n++] = t;
		out[n++] = t->spec;
	}
	return n;
}

static void
fuzz_line(struct daemon *d, const char *line, size_t len,
    const struct ctl_peer *peer)
{
	const void	*before[2 * FUZZ_MAX_TUNNELS], *after[2 * FUZZ_MAX_TUNNELS];
	json_t		*reply;
	char		*out;
	int		 sub = 0, nb, na;

	nb = fuzz_snapshot(d, before);
	reply = ctl_dispatch_line(d, line, len, peer, &sub);
	if (peer->access == CTL_ACCESS_OPERATOR && nb != -1) {
		/* The same tunnels, each with the same spec. */
		na = fuzz_snapshot(d, after);
		check(na == nb);
		check(memcmp(before, after, nb * sizeof(before[0])) == 0);
	}
	check(reply != NULL);
	check(json_is_object(reply));
	check(json_is_boolean(json_object_get(reply, "ok")));
	check(sub == 0 || sub == 1);
	out = json_dumps(reply, JSON_COMPACT);
	check(out != NULL);
	free(out);
	json_decref(reply);
}

static int
fuzz_any_wanted(struct daemon *d)
{
	struct tunnel	*t;

	TAILQ_FOREACH(t, &d->tunnels, entry) {
		if (t->wanted || t->conn != NULL ||
		    ev_is_active(&t->timers[TT_RETRY]))
			return 1;
	}
	return 0;
}

/* Back to one stopped tunnel "t". */
static void
fuzz_reset(struct daemon *d)
{
	struct tunnel	*t;
	char		*err;

	for (;;) {
		TAILQ_FOREACH(t, &d->tunnels, entry) {
			if (strcmp(t->spec->name, FUZZ_TUNNEL) != 0)
				break;
		}
		if (t == NULL)
			break;
		err = NULL;
		check(daemon_tunnel_remove(d, t->spec->name, &err) == 0);
	}
	if ((t = daemon_tunnel_find(d, FUZZ_TUNNEL)) == NULL)
		fuzz_add_t(d);
	else
		tunnel_stop(t, "fuzz reset");
	check(daemon_tunnel_count(d) == 1);
	check(d->handshakes == 0 && TAILQ_EMPTY(&d->handshake_wait));
	check(!fuzz_any_wanted(d));
	/*
	 * Nothing is wanted, no session exists and no timer of a tunnel runs:
	 * one non-blocking pass lets the resolver free the lookups of the
	 * sessions the input started and stopped (they would pile up, and
	 * every input would look like a leak). No other watcher is active.
	 */
	ev_run(d->loop, EVRUN_NOWAIT);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ctl_peer owner = { 0, CTL_ACCESS_OWNER };
	static const struct ctl_peer operator = { 4242, CTL_ACCESS_OPERATOR };
	const struct ctl_peer	*peer;
	const char	*p = (const char *)data, *end = p + size, *nl;
	char		*line;
	size_t		 len;

	peer = &owner;
	if (size > 0 && data[0] == '!') {
		peer = &operator;
		p++;
	}
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		len = (size_t)(nl - p);
		/* An exact-size copy, so ASan sees any read past len. */
		line = malloc(len > 0 ? len : 1);
		check(line != NULL);
		memcpy(line, p, len);
		fuzz_line(fuzz_daemon, line, len, peer);
		free(line);
		p = nl + 1;
	}
	fuzz_reset(fuzz_daemon);
	return 0;
}
