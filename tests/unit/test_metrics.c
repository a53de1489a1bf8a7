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
 * test_metrics.c: the exposition of a status reply (metrics.c) and the
 * metrics endpoint's request parser and addresses (metrics_http.c).
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "metrics.h"
#include "metrics_http.h"

static const char status_text[] =
    "{\"ok\":true,\"version\":\"1.2\",\"libssh\":\"0.11.5\","
    "\"uptime_s\":10.5,\"started\":1700000000.25,"
    "\"reload\":{\"successful\":false,\"success_time\":1700000001.5},"
    "\"loop\":{\"turns\":100,\"longest_turn_ms\":150.0,"
    "\"turn_ms_sum\":2500.0,\"turns_over_100ms\":2,"
    "\"turns_over_1ms\":30,\"turns_over_10ms\":5,\"turns_batched\":7},"
    "\"tunnels\":[{\"name\":\"we\\\"b\",\"state\":\"backoff\"}]}";

/* metrics_print of status_text with flags, as one string (caller frees). */
static char *
print_status(int flags)
{
	json_t	*reply;
	FILE	*f;
	char	*out = NULL;
	size_t	 len = 0;

	reply = json_loads(status_text, 0, NULL);
	cr_assert_not_null(reply);
	f = open_memstream(&out, &len);
	cr_assert_not_null(f);
	metrics_print(f, reply, flags);
	fclose(f);
	json_decref(reply);
	return out;
}

static void
expect_line(const char *page, const char *line)
{
	char	*want;

	cr_assert(asprintf(&want, "\n%s\n", line) > 0);
	cr_assert_not_null(strstr(page, want), "no line %s in:\n%s", line,
	    page);
	free(want);
}

Test(metrics, histogram_from_turns_over)
{
	char	*page;

	page = print_status(METRICS_DAEMON);
	/* Buckets sorted by limit: turns no longer than it. */
	expect_line(page, "tunsup_loop_turn_seconds_bucket{le=\"0.001\"} 70");
	expect_line(page, "tunsup_loop_turn_seconds_bucket{le=\"0.01\"} 95");
	expect_line(page, "tunsup_loop_turn_seconds_bucket{le=\"0.1\"} 98");
	expect_line(page, "tunsup_loop_turn_seconds_bucket{le=\"+Inf\"} 100");
	expect_line(page, "tunsup_loop_turn_seconds_sum 2.500000");
	expect_line(page, "tunsup_loop_turn_seconds_count 100");
	cr_assert(strstr(page, "le=\"0.01\"") > strstr(page, "le=\"0.001\""));
	free(page);
}

Test(metrics, daemon_families)
{
	char	*page;

	page = print_status(METRICS_DAEMON);
	expect_line(page, "tunsup_build_info{version=\"1.2\",libssh=\"0.11.5\"} 1");
	expect_line(page, "tunsup_start_time_seconds 1700000000.250");
	expect_line(page, "tunsup_config_last_reload_successful 0");
	expect_line(page, "tunsup_config_last_reload_success_timestamp_seconds "
	    "1700000001.500");
	expect_line(page, "tunsup_tunnel_state{tunnel=\"we\\\"b\",state=\"backoff\"} 1");
	free(page);
}

Test(metrics, textfile_route_unchanged)
{
	char	*page;

	page = print_status(0);
	cr_assert_null(strstr(page, "tunsup_build_info"));
	cr_assert_null(strstr(page, "tunsup_loop_turn_seconds"));
	expect_line(page, "tunsup_loop_turns_over_total{ms=\"100\"} 2");
	expect_line(page, "tunsup_loop_batched_turns_total 7");
	expect_line(page, "tunsup_uptime_seconds 10.500");
	free(page);
}

static int
parse(const char *req, int *head)
{
	return metrics_http_parse(req, strlen(req), head);
}

Test(metrics_http, parse)
{
	static const struct {
		const char	*req;
		int		 code;
		int		 head;
	} cases[] = {
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, 0 },
		{ "HEAD /metrics HTTP/1.0\n\n", 200, 1 },
		{ "GET /metrics?a=b HTTP/1.1\r\n\r\n", 200, 0 },
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n", 0, 0 },
		{ "GET /metr", 0, 0 },
		{ "", 0, 0 },
		{ "GET / HTTP/1.1\r\n\r\n", 404, 0 },
		{ "GET /metricsx HTTP/1.1\r\n\r\n", 404, 0 },
		{ "GET /Metrics HTTP/1.1\r\n\r\n", 404, 0 },
		{ "POST /metrics HTTP/1.1\r\n\r\n", 405, 0 },
		{ "get /metrics HTTP/1.1\r\n\r\n", 405, 0 },
		{ "GET /metrics HTTP/2.0\r\n\r\n", 400, 0 },
		{ "GET /metrics HTTP/1.2\r\n\r\n", 505, 0 },
		{ "GET  /metrics HTTP/1.1\r\n\r\n", 400, 0 },
		{ "GET /metrics HTTP/1.1 x\r\n\r\n", 400, 0 },
		{ "GET /metrics\r\n\r\n", 400, 0 },
		{ "G(T /metrics HTTP/1.1\r\n\r\n", 400, 0 },
		{ "\r\n\r\n", 400, 0 },
	};
	size_t	i;
	int	head;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_eq(parse(cases[i].req, &head), cases[i].code,
		    "%s", cases[i].req);
		cr_expect_eq(head, cases[i].head, "%s", cases[i].req);
	}
	/* A NUL anywhere in the head. */
	cr_expect_eq(metrics_http_parse("GET /\0metrics HTTP/1.1\r\n\r\n", 27,
	    &head), 400);
}

Test(metrics_http, parse_bounded)
{
	char	buf[MHTTP_REQUEST_MAX];
	int	head;

	memset(buf, 'a', sizeof(buf));
	cr_expect_eq(metrics_http_parse(buf, sizeof(buf) - 1, &head), 0);
	cr_expect_eq(metrics_http_parse(buf, sizeof(buf), &head), 431);
}

Test(metrics_http, address)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	socklen_t		 len;
	char			*err = NULL;
	static const char *const bad[] = {
		"", "0", "65536", "x", "x:1", "localhost:9100", "[::1",
		"[::1]", "::1:9100x", "127.0.0.1:", "1.2.3.4:-1", "123456",
		":9100", "[]:9100",
	};
	size_t			 i;

	cr_assert_eq(metrics_http_address("9947", &ss, &len, &err), 0);
	cr_expect_eq(ss.ss_family, AF_INET);
	cr_expect_eq(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	cr_expect_eq(ntohs(sin->sin_port), 9947);
	cr_assert_eq(metrics_http_address("[::1]:9947", &ss, &len, &err), 0);
	cr_expect_eq(ss.ss_family, AF_INET6);
	cr_assert_eq(metrics_http_address("0.0.0.0:1", &ss, &len, &err), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(metrics_http_address(bad[i], &ss, &len, &err), -1,
		    "%s", bad[i]);
		cr_expect(err != NULL && strstr(err, "MetricsListen") != NULL,
		    "%s: %s", bad[i], err != NULL ? err : "(null)");
		free(err);
		err = NULL;
	}
}
