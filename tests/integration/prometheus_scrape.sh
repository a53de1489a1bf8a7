# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# A real Prometheus server (Debian's prometheus, started here on a free
# loopback port with its own configuration and storage, never the system
# service) scrapes tunsupd's endpoint (tunsupd.conf(5) MetricsListen) and
# loads contrib/prometheus/tunsup-rules.yml; its HTTP API then has tunsup_up
# and the tunnels' states, the scrape target is healthy and the rules load
# without alerting on a tunnel stopped on purpose. When tunsupd is gone, the
# target goes down (up 0), as TunsupDaemonDown expects.
. "$TESTLIB"
set -eu -o pipefail
tlib_init
need_tool prometheus promtool

start_sshd srv
read -r MP PP <<<"$(free_ports 2 | xargs)"
{
	conf_header
	echo "MetricsListen 127.0.0.1:$MP"
	tunnel_conf web srv
	tunnel_conf off srv
	echo "    Enabled no"
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state web up 20

cp "$TOP_SRCDIR/contrib/prometheus/tunsup-rules.yml" "$T/"
printf '%s\n' \
    'global:' \
    '  scrape_interval: 1s' \
    '  evaluation_interval: 1s' \
    'rule_files:' \
    "  - $T/tunsup-rules.yml" \
    'scrape_configs:' \
    '  - job_name: tunsup' \
    '    static_configs:' \
    "      - targets: ['127.0.0.1:$MP']" >"$T/prometheus.yml"
promtool check config "$T/prometheus.yml" >"$T/promtool.out" 2>&1 ||
	{ cat "$T/promtool.out" >&2; fail "promtool check config"; }
mkdir "$T/tsdb"
_tlib_server PROM_PID prometheus "$PP" "$T/prometheus.log" \
    prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address="127.0.0.1:$PP" --log.level=warn

# query PROMQL: the API's result vector, one "label=value,... value" line
# per sample (without the metric's name).
query() {
	python3 - "$PP" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
port, q = sys.argv[1], sys.argv[2]
url = "http://127.0.0.1:%s/api/v1/query?%s" % (port,
    urllib.parse.urlencode({"query": q}))
with urllib.request.urlopen(url, timeout=10) as r:
    d = json.load(r)
if d["status"] != "success":
    sys.exit("query failed: %s" % d)
for s in d["data"]["result"]:
    m = s["metric"]
    print(",".join("%s=%s" % (k, m[k]) for k in sorted(m)
        if k != "__name__"), s["value"][1])
PY
}
has() { query "$1" | grep -qxF "$2"; }

wait_for 30 "has tunsup_up 'instance=127.0.0.1:$MP,job=tunsup 1'"
pass "Prometheus scraped tunsup_up 1"
has 'up{job="tunsup"}' "instance=127.0.0.1:$MP,job=tunsup 1" ||
	fail "the target is not up: $(query up)"
has 'tunsup_tunnel_state{state="up"}' \
    "instance=127.0.0.1:$MP,job=tunsup,state=up,tunnel=web 1" ||
	fail "web is not up: $(query 'tunsup_tunnel_state{state="up"}')"
has 'tunsup_tunnel_state{tunnel="off",state="stopped"}' \
    "instance=127.0.0.1:$MP,job=tunsup,state=stopped,tunnel=off 1" ||
	fail "off is not stopped: $(query 'tunsup_tunnel_state{tunnel="off"}')"
query tunsup_build_info | grep -q '^instance=.*,libssh=.*,version=.* 1$' ||
	fail "no build info: $(query tunsup_build_info)"
query 'histogram_quantile(0.5, tunsup_loop_turn_seconds_bucket)' |
	grep -Eq '^instance=.* [0-9.e+-]+$' ||
	fail "no quantile from the histogram: $(query tunsup_loop_turn_seconds_bucket)"
pass "the series: web up, off stopped, build info, a loop turn quantile"

# The rules loaded and were evaluated; the stopped tunnel is no alert.
rules_ok() {
	python3 - "$PP" <<'PY'
import json, sys, urllib.request
url = "http://127.0.0.1:%s/api/v1/rules" % sys.argv[1]
with urllib.request.urlopen(url, timeout=10) as r:
    d = json.load(r)
rules = {r["name"]: r for g in d["data"]["groups"] for r in g["rules"]}
if "TunsupTunnelDown" not in rules:
    sys.exit("rules: %s" % sorted(rules))
bad = [n for n, r in rules.items() if r.get("health") != "ok"]
if bad:
    sys.exit("not evaluated, or unhealthy: %s" % bad)
PY
}
wait_for 30 rules_ok
query 'ALERTS{alertname="TunsupTunnelDown"}' >"$T/alerts"
[ ! -s "$T/alerts" ] || fail "a tunnel alerts: $(cat "$T/alerts")"
pass "tunsup-rules.yml is evaluated healthy; no alert for the stopped tunnel"

stop_tunsupd
wait_for 30 "has 'up{job=\"tunsup\"}' 'instance=127.0.0.1:$MP,job=tunsup 0'"
pass "tunsupd gone: up{job=\"tunsup\"} 0"
