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
 * metrics.h: the Prometheus text exposition of a status reply, shared by
 * tunsupctl metrics (node_exporter's textfile collector) and tunsupd's
 * MetricsListen endpoint (tunsupd.conf(5)).
 */
#ifndef TUNSUP_METRICS_H
#define TUNSUP_METRICS_H

#include <stdio.h>

#include <jansson.h>

/* Also the families only the daemon itself can tell (tunsupd(8), METRICS). */
#define METRICS_DAEMON	0x1

/* Print the families of a status reply (tunsupctl(1), metrics) to out. */
void	metrics_print(FILE *out, json_t *reply, int flags);
/* What tunsupctl metrics prints when no daemon answers: tunsup_up 0. */
void	metrics_print_down(FILE *out);

/* A string member of obj, or dflt; a number member, or dflt. */
const char	*jstr(json_t *obj, const char *key, const char *dflt);
double		 jnum(json_t *obj, const char *key, double dflt);

#endif
