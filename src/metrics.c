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
/* metrics.c: the Prometheus text exposition of a status reply. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cfg.h"
#include "metrics.h"
#include "util.h"

const char *
jstr(json_t *obj, const char *key, const char *dflt)
{
	const char	*s;

	s = json_string_value(json_object_get(obj, key));
	return s != NULL ? s : dflt;
}

double
jnum(json_t *obj, const char *key, double dflt)
{
	json_t	*v;

	v = json_object_get(obj, key);
	return json_is_number(v) ? json_number_value(v) : dflt;
}

/*
 * Prometheus text exposition (format 0.0.4), as node_exporter's textfile
 * collector reads it: each family's HELP and TYPE, then all its samples,
 * one family after the other.
 */

/* The tunnel states (tunsupctl(1), STATES), each exported as 0 or 1. */
static const char *const metric_states[] = {
	"stopped", "connecting", "forwarding", "up", "degraded", "backoff",
};

/* Per forward families: the name, its help, its type and its status key. */
static const struct fwd_metric {
	const char	*name;
	const char	*help;
	const char	*type;
	const char	*key;
} fwd_metrics[] = {
	{ "tunsup_forward_connections_active",
	  "Connections open through the forward.", "gauge",
	  "connections_active" },
	{ "tunsup_forward_connections_total",
	  "Connections accepted by the forward.", "counter",
	  "connections_total" },
	{ "tunsup_forward_bytes_in_total",
	  "Bytes from the SSH channel to the local socket.", "counter",
	  "bytes_in" },
	{ "tunsup_forward_bytes_out_total",
	  "Bytes from the local socket into the SSH channel.", "counter",
	  "bytes_out" },
};

static void
metric_family(FILE *out, const char *name, const char *help,
    const char *type)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the exposition format wants: \\, \" and \n. */
static void
metric_label(FILE *out, const char *name, const char *value, int first)
{
	const char	*cp;

	fprintf(out, "%s%s=\"", first ? "" : ",", name);
	for (cp = value; *cp != '\0'; cp++) {
		if (*cp == '\\')
			fputs("\\\\", out);
		else if (*cp == '"')
			fputs("\\\"", out);
		else if (*cp == '\n')
			fputs("\\n", out);
		else
			fputc(*cp, out);
	}
	fputc('"', out);
}

/* A sample value: integers exactly, reals with all their digits. */
static void
metric_value(FILE *out, json_t *v)
{
	if (json_is_integer(v))
		fprintf(out, " %" JSON_INTEGER_FORMAT "\n",
		    json_integer_value(v));
	else
		fprintf(out, " %.17g\n", json_number_value(v));
}

/*
 * Forward i of a tunnel is exported unless an earlier one has the same kind
 * and listen address (the labels would repeat a series); that can only be
 * a forward that failed anyway.
 */
static int
metric_fwd_unique(json_t *fwds, size_t i)
{
	json_t	*f, *g;
	size_t	 j;

	f = json_array_get(fwds, i);
	for (j = 0; j < i; j++) {
		g = json_array_get(fwds, j);
		if (strcmp(jstr(f, "kind", ""), jstr(g, "kind", "")) == 0 &&
		    strcmp(jstr(f, "listen", ""), jstr(g, "listen", "")) == 0)
			return 0;
	}
	return 1;
}

static void
metric_fwd_labels(FILE *out, const char *name, json_t *t, json_t *f)
{
	fprintf(out, "%s{", name);
	metric_label(out, "tunnel", jstr(t, "name", ""), 1);
	metric_label(out, "kind", jstr(f, "kind", ""), 0);
	metric_label(out, "listen", jstr(f, "listen", ""), 0);
	fputc('}', out);
}

/* Per tunnel counters: NAME{tunnel="..."} VALUE, for a numeric KEY. */
static void
metric_tunnels(FILE *out, json_t *list, const char *name, const char *help,
    const char *type, const char *key)
{
	json_t	*t, *v;
	size_t	 i;

	metric_family(out, name, help, type);
	json_array_foreach(list, i, t) {
		if (!json_is_number(v = json_object_get(t, key)))
			continue;
		fprintf(out, "%s{", name);
		metric_label(out, "tunnel", jstr(t, "name", ""), 1);
		fputc('}', out);
		metric_value(out, v);
	}
}

/* The daemon's loop turns (status "loop"), if it reports them. */
static void
metric_loop(FILE *out, json_t *loop)
{
	const char	*key;
	json_t		*v;
	int		 ms;

	if (!json_is_object(loop))
		return;
	metric_family(out, "tunsup_loop_turns_total", "Turns of tunsupd's "
	    "event loop.", "counter");
	fprintf(out, "tunsup_loop_turns_total %.0f\n",
	    jnum(loop, "turns", 0));
	metric_family(out, "tunsup_loop_turns_over_total", "Loop turns "
	    "longer than ms milliseconds: nothing else was served meanwhile.",
	    "counter");
	json_object_foreach(loop, key, v) {
		if (sscanf(key, "turns_over_%dms", &ms) == 1 &&
		    json_is_number(v))
			fprintf(out, "tunsup_loop_turns_over_total"
			    "{ms=\"%d\"} %.0f\n", ms, json_number_value(v));
	}
	if (json_is_number(json_object_get(loop, "turns_batched"))) {
		metric_family(out, "tunsup_loop_batched_turns_total", "Loop "
		    "turns that read 64 KiB or more from the sessions, after "
		    "which the loop waited up to 0.3 ms to read more at once.",
		    "counter");
		fprintf(out, "tunsup_loop_batched_turns_total %.0f\n",
		    jnum(loop, "turns_batched", 0));
	}
	metric_family(out, "tunsup_loop_longest_turn_seconds", "The longest "
	    "loop turn since tunsupd started.", "gauge");
	fprintf(out, "tunsup_loop_longest_turn_seconds %.6f\n",
	    jnum(loop, "longest_turn_ms", 0) / 1000.0);
}

/* Names of a refused open's reasons in status, as label values. */
static const char *const metric_refusal_reasons[] = {
	"administratively prohibited", "connect failed",
	"unknown channel type", "resource shortage", "other",
};

/* Refused channel opens of the forwards that open channels (-L, -D). */
static void
metric_refusals(FILE *out, json_t *list)
{
	const struct fwd_kind_info *kind;
	json_t		*t, *f, *fwds, *counts;
	char		 label[64], *cp;
	size_t		 i, j, k;

	metric_family(out, "tunsup_forward_opens_refused_total", "Channel "
	    "opens of the forward the server refused, by RFC 4254 reason.",
	    "counter");
	json_array_foreach(list, i, t) {
		fwds = json_object_get(t, "forwards");
		json_array_foreach(fwds, j, f) {
			kind = fwd_kind_by_name(jstr(f, "kind", ""));
			counts = json_object_get(f, "opens_refused");
			if (kind == NULL || !(kind->flags & FK_HERE) ||
			    !json_is_object(counts) ||
			    !metric_fwd_unique(fwds, j))
				continue;
			for (k = 0; k < nitems(metric_refusal_reasons); k++) {
				snprintf(label, sizeof(label), "%s",
				    metric_refusal_reasons[k]);
				for (cp = label; *cp != '\0'; cp++)
					*cp = *cp == ' ' ? '_' : *cp;
				fprintf(out, "tunsup_forward_opens_refused_"
				    "total{");
				metric_label(out, "tunnel",
				    jstr(t, "name", ""), 1);
				metric_label(out, "kind",
				    jstr(f, "kind", ""), 0);
				metric_label(out, "listen",
				    jstr(f, "listen", ""), 0);
				metric_label(out, "reason", label, 0);
				fprintf(out, "} %.0f\n", jnum(counts,
				    metric_refusal_reasons[k], 0));
			}
		}
	}
}

/*
 * The loop turns as a histogram: turns no longer than each limit (all
 * turns less those over it), +Inf, the sum of their durations and their
 * count.
 */
static void
metric_loop_histogram(FILE *out, json_t *loop)
{
	const char	*key;
	json_t		*v;
	double		 turns, over[8];
	int		 ms[8], n = 0, i, j, x;

	if (!json_is_object(loop))
		return;
	turns = jnum(loop, "turns", 0);
	json_object_foreach(loop, key, v) {
		if (n < (int)nitems(ms) &&
		    sscanf(key, "turns_over_%dms", &x) == 1 &&
		    json_is_number(v)) {
			/* Kept sorted by limit, as buckets must be. */
			for (i = n; i > 0 && ms[i - 1] > x; i--) {
				ms[i] = ms[i - 1];
				over[i] = over[i - 1];
			}
			ms[i] = x;
			over[i] = json_number_value(v);
			n++;
		}
	}
	metric_family(out, "tunsup_loop_turn_seconds", "Durations of "
	    "tunsupd's event loop turns.", "histogram");
	for (j = 0; j < n; j++)
		fprintf(out, "tunsup_loop_turn_seconds_bucket{le=\"%g\"} "
		    "%.0f\n", ms[j] / 1000.0, turns - over[j]);
	fprintf(out, "tunsup_loop_turn_seconds_bucket{le=\"+Inf\"} %.0f\n",
	    turns);
	fprintf(out, "tunsup_loop_turn_seconds_sum %.6f\n",
	    jnum(loop, "turn_ms_sum", 0) / 1000.0);
	fprintf(out, "tunsup_loop_turn_seconds_count %.0f\n", turns);
}

/* What only the daemon's own endpoint exports (tunsupd(8), METRICS). */
static void
metric_daemon(FILE *out, json_t *reply)
{
	json_t	*reload;

	metric_family(out, "tunsup_build_info", "The version of tunsupd and "
	    "of the libssh it runs with.", "gauge");
	fprintf(out, "tunsup_build_info{");
	metric_label(out, "version", jstr(reply, "version", ""), 1);
	metric_label(out, "libssh", jstr(reply, "libssh", ""), 0);
	fprintf(out, "} 1\n");
	metric_family(out, "tunsup_start_time_seconds", "When tunsupd "
	    "started, in seconds since the Unix epoch.", "gauge");
	fprintf(out, "tunsup_start_time_seconds %.3f\n",
	    jnum(reply, "started", 0));
	reload = json_object_get(reply, "reload");
	metric_family(out, "tunsup_config_last_reload_successful", "Whether "
	    "the last configuration reload succeeded (1 before any).",
	    "gauge");
	fprintf(out, "tunsup_config_last_reload_successful %d\n",
	    json_is_false(json_object_get(reload, "successful")) ? 0 : 1);
	metric_family(out, "tunsup_config_last_reload_success_timestamp_"
	    "seconds", "When the configuration was last loaded successfully "
	    "(at start or by a reload).", "gauge");
	fprintf(out, "tunsup_config_last_reload_success_timestamp_seconds "
	    "%.3f\n", jnum(reload, "success_time", jnum(reply, "started", 0)));
	metric_loop_histogram(out, json_object_get(reply, "loop"));
}

void
metrics_print_down(FILE *out)
{
	metric_family(out, "tunsup_up", "Whether tunsupd answered on its "
	    "control socket.", "gauge");
	fprintf(out, "tunsup_up 0\n");
}

void
metrics_print(FILE *out, json_t *reply, int flags)
{
	const struct fwd_metric	*m;
	json_t			*list, *t, *f, *fwds, *rtt;
	const char		*state;
	size_t			 i, j, k;
	int			 known;

	list = json_object_get(reply, "tunnels");

	metric_family(out, "tunsup_up", "Whether tunsupd answered on its "
	    "control socket.", "gauge");
	fprintf(out, "tunsup_up 1\n");
	metric_family(out, "tunsup_uptime_seconds", "Seconds since tunsupd "
	    "started.", "gauge");
	fprintf(out, "tunsup_uptime_seconds %.3f\n",
	    jnum(reply, "uptime_s", 0));
	metric_loop(out, json_object_get(reply, "loop"));

	metric_family(out, "tunsup_tunnel_state", "Tunnel state: 1 for the "
	    "current state, 0 for the others.", "gauge");
	json_array_foreach(list, i, t) {
		state = jstr(t, "state", "");
		known = 0;
		for (k = 0; k < nitems(metric_states); k++) {
			known |= strcmp(state, metric_states[k]) == 0;
			fprintf(out, "tunsup_tunnel_state{");
			metric_label(out, "tunnel", jstr(t, "name", ""), 1);
			metric_label(out, "state", metric_states[k], 0);
			fprintf(out, "} %d\n",
			    strcmp(state, metric_states[k]) == 0);
		}
		if (!known && *state != '\0') {
			fprintf(out, "tunsup_tunnel_state{");
			metric_label(out, "tunnel", jstr(t, "name", ""), 1);
			metric_label(out, "state", state, 0);
			fprintf(out, "} 1\n");
		}
	}
	metric_tunnels(out, list, "tunsup_tunnel_connects_total", "SSH "
	    "sessions established.", "counter", "connects");
	metric_tunnels(out, list, "tunsup_tunnel_failures_total", "Connection "
	    "attempts and sessions that failed.", "counter", "failures");
	metric_tunnels(out, list, "tunsup_tunnel_fallback", "The server in "
	    "use or tried: 0 the HostName, N the Nth FallbackHost.", "gauge",
	    "fallback");

	metric_family(out, "tunsup_tunnel_keepalive_rtt_seconds", "Round trip "
	    "time of the last keepalive answered (absent until one is).",
	    "gauge");
	json_array_foreach(list, i, t) {
		rtt = json_object_get(json_object_get(t, "keepalive"),
		    "rtt_ms");
		if (!json_is_number(rtt))
			continue;
		fprintf(out, "tunsup_tunnel_keepalive_rtt_seconds{");
		metric_label(out, "tunnel", jstr(t, "name", ""), 1);
		fprintf(out, "} %.9g\n", json_number_value(rtt) / 1000.0);
	}

	metric_family(out, "tunsup_forward_up", "Whether the forward is "
	    "established.", "gauge");
	json_array_foreach(list, i, t) {
		fwds = json_object_get(t, "forwards");
		json_array_foreach(fwds, j, f) {
			if (!metric_fwd_unique(fwds, j))
				continue;
			metric_fwd_labels(out, "tunsup_forward_up", t, f);
			fprintf(out, " %d\n",
			    strcmp(jstr(f, "state", ""), "up") == 0);
		}
	}
	metric_refusals(out, list);
	for (k = 0; k < nitems(fwd_metrics); k++) {
		m = &fwd_metrics[k];
		metric_family(out, m->name, m->help, m->type);
		json_array_foreach(list, i, t) {
			fwds = json_object_get(t, "forwards");
			json_array_foreach(fwds, j, f) {
				if (!metric_fwd_unique(fwds, j) ||
				    !json_is_number(json_object_get(f,
				    m->key)))
					continue;
				metric_fwd_labels(out, m->name, t, f);
				metric_value(out, json_object_get(f, m->key));
			}
		}
	}
	if (flags & METRICS_DAEMON)
		metric_daemon(out, reply);
}
