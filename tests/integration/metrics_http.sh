# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# tunsupd's own metrics endpoint (tunsupd.conf(5) MetricsListen, tunsupd(8)
# METRICS): GET and HEAD /metrics only, the families of tunsupctl metrics and
# those only the daemon knows, a valid exposition (promtool check metrics),
# errors for everything else, and no client that can stall the loop: a client
# that never sends its request, one that sends it a byte at a time and more
# connections than the limit leave the tunnels and the loop alone.
. "$TESTLIB"
set -eu -o pipefail
tlib_init
need_tool promtool

req() { python3 "$TLIB_DIR/httpreq.py" "$@"; }
# conns_on PORT: established TCP connections to local PORT.
conns_on() {
	awk -v h="$(printf '%04X' "$1")" 'FNR > 1 && $4 == "01" {
	    n = split($2, a, ":"); if (a[n] == h) c++ } END { print c + 0 }' \
	    /proc/net/tcp /proc/net/tcp6
}

start_sshd srv
read -r MP LP EP MP2 <<<"$(free_ports 4 | xargs)"
start_echo "$EP"
{
	conf_header
	echo "MetricsListen $MP"
	tunnel_conf web srv
	echo "    LocalForward 127.0.0.1:$LP 127.0.0.1:$EP"
	tunnel_conf off srv
	echo "    Enabled no"
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state web up 20

# ---- the page -------------------------------------------------------------
req "$MP" 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/resp"
head -n1 "$T/resp" | grep -q '^HTTP/1.1 200 OK' || fail "GET /metrics: $(head -n1 "$T/resp")"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/resp" || fail "no exposition content type"
grep -qi '^Connection: close' "$T/resp" || fail "no Connection: close"
sed '1,/^\r$/d' "$T/resp" >"$T/page"
for want in 'tunsup_up 1' \
    'tunsup_tunnel_state{tunnel="web",state="up"} 1' \
    'tunsup_tunnel_state{tunnel="off",state="stopped"} 1' \
    'tunsup_config_last_reload_successful 1'; do
	grep -qxF "$want" "$T/page" || fail "the page lacks: $want"
done
grep -Eq '^tunsup_build_info\{version="[^"]+",libssh="[0-9][^"]*"\} 1$' "$T/page" ||
	fail "no tunsup_build_info: $(grep build_info "$T/page")"
started=$(awk '$1 == "tunsup_start_time_seconds" { print $2 }' "$T/page")
awk -v s="$started" -v now="$(date +%s)" 'BEGIN { exit !(s > now - 60 && s <= now + 1) }' ||
	fail "tunsup_start_time_seconds $started is not the start"
for le in 0.001 0.01 0.1 +Inf; do
	grep -q "^tunsup_loop_turn_seconds_bucket{le=\"$le\"} [0-9]" "$T/page" ||
		fail "no histogram bucket le=$le"
done
grep -q '^tunsup_loop_turn_seconds_sum [0-9]' "$T/page" || fail "no histogram _sum"
grep -q '^tunsup_loop_turn_seconds_count [1-9]' "$T/page" || fail "no histogram _count"
promtool check metrics <"$T/page" >"$T/lint" 2>&1 || { cat "$T/lint" >&2; fail "promtool check metrics failed"; }
pass "GET /metrics: a clean exposition with the tunnels, build info, start time, reload gauges, histogram"

# Everything tunsupctl metrics exports is there too.
ctl metrics | awk '$1 == "#" && $2 == "TYPE" { print $3 }' >"$T/ctl-families"
while read -r fam; do
	grep -q "^# TYPE $fam " "$T/page" || fail "the endpoint lacks $fam (tunsupctl metrics has it)"
done <"$T/ctl-families"
pass "the endpoint has all $(wc -l <"$T/ctl-families") families of tunsupctl metrics"

# ---- everything else ------------------------------------------------------
check_status() {
	local want=$1 request=$2 got
	got=$(req "$MP" "$request" | head -n1 | tr -d '\r')
	[ "$got" = "$want" ] || fail "request '$request' answered '$got', not '$want'"
}
check_status 'HTTP/1.1 404 Not Found' 'GET / HTTP/1.1\r\n\r\n'
check_status 'HTTP/1.1 404 Not Found' 'GET /metricsx HTTP/1.1\r\n\r\n'
check_status 'HTTP/1.1 405 Method Not Allowed' 'POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n'
check_status 'HTTP/1.1 405 Method Not Allowed' 'DELETE /metrics HTTP/1.0\r\n\r\n'
check_status 'HTTP/1.1 400 Bad Request' 'hello\r\n\r\n'
check_status 'HTTP/1.1 505 HTTP Version Not Supported' 'GET /metrics HTTP/1.7\r\n\r\n'
check_status 'HTTP/1.1 200 OK' 'GET /metrics?x=1 HTTP/1.0\r\n\r\n'
big=$(head -c 5000 /dev/zero | tr '\0' a)
check_status 'HTTP/1.1 431 Request Header Fields Too Large' "GET /metrics HTTP/1.1\\r\\nX: $big\\r\\n\\r\\n"
req "$MP" 'POST /metrics HTTP/1.1\r\n\r\n' | grep -q '^Allow: GET, HEAD' || fail "405 without Allow"
req "$MP" 'HEAD /metrics HTTP/1.1\r\n\r\n' >"$T/head"
head -n1 "$T/head" | grep -q '^HTTP/1.1 200 OK' || fail "HEAD /metrics: $(head -n1 "$T/head")"
[ -z "$(sed '1,/^\r$/d' "$T/head")" ] || fail "HEAD /metrics sent a body"
pass "404 for other paths, 405 (with Allow) for other methods, 400, 431, 505; HEAD has no body"

# ---- clients that never finish ----------------------------------------------
over0=$(status_json | jget loop.turns_over_100ms)
# All but one of the limit's connections never send a request...
req "$MP" --hold 7 "$T/held" >"$T/hold.out" 2>&1 &
HOLD=$!
track "$HOLD"
wait_for 10 "[ -s '$T/held' ]"
# ... and one sends a byte every half second: the limit is reached.
req "$MP" --drip >"$T/drip.out" 2>&1 &
DRIP=$!
track "$DRIP"
wait_for 10 "[ \$(conns_on $MP) -ge 8 ]"
# Above the limit: 503 at once.
check_status 'HTTP/1.1 503 Service Unavailable' 'GET /metrics HTTP/1.1\r\n\r\n'
# Meanwhile the tunnels and the control socket are served as ever.
echo_check "$LP" 4 65536 30
[ "$(tstate web)" = up ] || fail "web is $(tstate web) while the endpoint is held"
pass "7 silent connections and a dripping one: a ninth is answered 503, the forward and control socket serve"
# The deadline closes them all; then the endpoint serves again.
wait_pid "$HOLD" 15
wait_pid "$DRIP" 15
held=$(cat "$T/hold.out")
awk -v h="$held" 'BEGIN { exit !(h >= 4 && h <= 8) }' ||
	fail "silent connections closed after $held s, not about 5"
grep -q '^closed' "$T/drip.out" || fail "the dripping client: $(cat "$T/drip.out")"
check_status 'HTTP/1.1 200 OK' 'GET /metrics HTTP/1.1\r\n\r\n'
over1=$(status_json | jget loop.turns_over_100ms)
[ "$over1" = "$over0" ] || fail "loop turns over 100 ms went from $over0 to $over1"
pass "closed after ${held} s and $(cat "$T/drip.out"); no loop turn over 100 ms ($over0)"

# ---- reload ---------------------------------------------------------------
t0=$(req "$MP" 'GET /metrics HTTP/1.0\r\n\r\n' |
	awk '$1 == "tunsup_config_last_reload_success_timestamp_seconds" { print $2 }')
cp "$T/t.conf" "$T/good.conf"
echo "NoSuchKeyword 1" >>"$T/t.conf"
expect_rc 1 ctl reload
req "$MP" 'GET /metrics HTTP/1.0\r\n\r\n' >"$T/page"
grep -qx 'tunsup_config_last_reload_successful 0' "$T/page" || fail "a failed reload is not shown"
grep -qx "tunsup_config_last_reload_success_timestamp_seconds $t0" "$T/page" ||
	fail "a failed reload moved the success timestamp"
sed "s/^MetricsListen .*/MetricsListen 127.0.0.1:$MP2/" "$T/good.conf" >"$T/t.conf"
ctl reload >/dev/null
wait_for 10 "! port_listening $MP"
req "$MP2" 'GET /metrics HTTP/1.0\r\n\r\n' >"$T/page"
grep -qx 'tunsup_config_last_reload_successful 1' "$T/page" || fail "a good reload is not shown"
t1=$(awk '$1 == "tunsup_config_last_reload_success_timestamp_seconds" { print $2 }' "$T/page")
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b > a) }' || fail "success timestamp $t0 -> $t1"
pass "reload: failure shown (0, timestamp kept), success shown; MetricsListen moved to $MP2"

# ---- the keyword ------------------------------------------------------------
for bad in 0 65536 x:1 '[::1' localhost:9100 127.0.0.1: :$MP; do
	printf 'MetricsListen %s\n' "$bad" >"$T/bad.conf"
	expect_rc 1 "$TUNSUPD" -t -f "$T/bad.conf"
	grep -q "bad.conf:1: MetricsListen" "$T/err" || fail "MetricsListen $bad: $(cat "$T/err")"
done
printf 'Tunnel x\n    HostName h\n    MetricsListen 1\n' >"$T/bad.conf"
expect_rc 1 "$TUNSUPD" -t -f "$T/bad.conf"
grep -q "only allowed at top level" "$T/err" || fail "MetricsListen in a tunnel: $(cat "$T/err")"
stop_tunsupd
# A port in use: tunsupd says so and does not start.
{ echo "MetricsListen $MP2"; tunnel_conf web srv; } >"$T/busy.conf"
socat "TCP-LISTEN:$MP2,bind=127.0.0.1,reuseaddr" /dev/null </dev/null >/dev/null 2>&1 &
BUSY=$!
track "$BUSY"
wait_for 10 port_listening "$MP2"
expect_rc 1 "$TUNSUPD" -f "$T/busy.conf" -S "$T/busy.sock"
grep -q "MetricsListen $MP2: Address already in use" "$T/err" || fail "busy port: $(cat "$T/err")"
kill_pid "$BUSY" 5
# An address beyond loopback must be written out, and is warned about.
{ echo "MetricsListen 0.0.0.0:$MP2"; tunnel_conf web srv; } >"$T/t.conf"
start_tunsupd "$T/t.conf"
grep -q "MetricsListen 0.0.0.0:$MP2: the metrics are served beyond this host" "$T/tunsupd.log" ||
	fail "no warning for a non-loopback MetricsListen"
pass "bad values, a tunnel block and a busy port are refused; 0.0.0.0 is warned about"
