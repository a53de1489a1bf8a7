# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# check_plugin: tunsupctl check as a monitoring plugin (tunsupctl(1), check):
# -h and -V, usage errors and timeouts UNKNOWN with one line on stdout, -t,
# -w/-c on the seconds a tunnel has been down, -W/-C on the number down,
# performance data per tunnel; with a real daemon and sshd.
set -eu
. "$TESTLIB"
tlib_init

start_sshd br
P_WEB=$(free_port)
DEAD_PORT=$(free_port)	# nothing listens there

{
	conf_header
	tunnel_conf web br
	echo "    LocalForward 127.0.0.1:$P_WEB 127.0.0.1:$SSHD_PORT_BR"
	cat <<EOF
Tunnel dead
    HostName 127.0.0.1
    Port $DEAD_PORT
Tunnel off
    HostName 127.0.0.1
    Port $DEAD_PORT
    Enabled no
EOF
} >"$T/tunsupd.conf"

# unknown_line: the plugin said UNKNOWN in exactly one line on stdout.
unknown_line() {
	[ "$(wc -l <"$T/out")" = 1 ] && grep -q '^TUNSUP UNKNOWN - ' "$T/out" ||
	    fail "$1: not one UNKNOWN line: $(cat "$T/out")"
}

help_version() {
	expect_rc 3 ctl check -h
	grep -q '^usage: tunsupctl .* check .*-t SECONDS' "$T/out" && grep -q -- '--critical' "$T/out" ||
	    fail "check -h: $(cat "$T/out")"
	expect_rc 3 ctl check --help
	expect_rc 3 ctl check -V
	grep -Eqx 'tunsupctl check [0-9]+\.[0-9]+.*' "$T/out" || fail "check -V: $(cat "$T/out")"
	expect_rc 3 ctl check --version
	pass "check -h and -V print on stdout and exit 3, as plugins do"
}

usage_errors() {
	local args
	for args in "-x" "--bogus" "-w" "-w soon" "-c -1" "-g soon" "-t 0" "-t 1.5" "-W many"; do
		# shellcheck disable=SC2086
		expect_rc 3 ctl check $args
		unknown_line "check $args"
		[ ! -s "$T/err" ] || fail "check $args wrote to stderr: $(cat "$T/err")"
	done
	expect_rc 3 ctl --json check
	unknown_line "--json check"
	grep -q "no --json output" "$T/out" || fail "--json check: $(cat "$T/out")"
	expect_rc 3 "$TUNSUPCTL" -S "$T/nothing.sock" check
	unknown_line "no daemon"
	expect_rc 3 ctl check nope
	unknown_line "check nope"
	pass "usage errors, no daemon and unknown tunnels: UNKNOWN (3), one line on stdout"
}

thresholds() {
	wait_state dead 'connecting|backoff' 10
	# The default: any tunnel down warns, critical after 60 s.
	expect_rc 1 ctl check
	grep -Eq "^TUNSUP WARNING - 1/2 tunnels up, 1 stopped; dead (connecting|backoff) for [0-9]+s" "$T/out" ||
	    fail "check: $(cat "$T/out")"
	expect_rc 0 ctl check -w 3600 -c 7200
	grep -q "^TUNSUP OK - 1/2 tunnels up" "$T/out" || fail "check -w 3600: $(cat "$T/out")"
	expect_rc 1 ctl check --warning=0 --critical=3600
	expect_rc 2 ctl check -c 0
	grep -q "^TUNSUP CRITICAL - 1/2 tunnels up" "$T/out" || fail "check -c 0: $(cat "$T/out")"
	expect_rc 2 ctl check -g0
	expect_rc 2 ctl check --grace=0
	pass "-w and -c (or -g) set the seconds down that warn and are critical"

	# One tunnel is down: more than COUNT down alerts.
	expect_rc 0 ctl check -w 3600 -c 7200 -W 1 -C 1
	expect_rc 1 ctl check -w 3600 -c 7200 -W 0
	grep -q "^TUNSUP WARNING" "$T/out" || fail "check -W 0: $(cat "$T/out")"
	expect_rc 2 ctl check -w 3600 -c 7200 -W 0 --critical-count=0
	grep -q "^TUNSUP CRITICAL" "$T/out" || fail "check -C 0: $(cat "$T/out")"
	expect_rc 0 ctl check -W 0 -C 0 web
	pass "-W and -C alert on the number of tunnels down"
}

perfdata() {
	expect_rc 1 ctl check -w 0 -c 3600 -W 1 -C 2
	[ "$(wc -l <"$T/out")" = 1 ] || fail "check prints more than one line: $(cat "$T/out")"
	python3 - "$T/out" <<'EOF' || fail "perfdata: $(cat "$T/out")"
import re, sys
line = open(sys.argv[1]).read().rstrip("\n")
text, perf = line.split(" | ")
# label=value[UOM];warn;crit;min;max, the label quoted if need be
items = dict((m.group(1).strip("'"), m.group(2))
             for m in re.finditer(r"('[^']*'|[^ =]+)=(\S+)", perf))
assert items["up"] == "1;;;0;2", items
assert items["total"] == "2" and items["stopped"] == "1", items
assert items["down"] == "1;1;2;0;2", items
assert items["web"] == "1;;;0;1", items
assert items["web down"] == "0s;0;3600;0;", items
assert items["dead"] == "0;;;0;1", items
assert re.fullmatch(r"\d+s;0;3600;0;", items["dead down"]), items
assert items["off"] == "0;;;0;1", items
assert "off down" not in items, items
EOF
	pass "perfdata: up, total, stopped, down with -W/-C, and per tunnel its state and seconds down with -w/-c"
}

timeout_opt() {
	local t0 t1 ms
	# A socket that takes the connection and never answers: a hung daemon.
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
open(sys.argv[2], "w").close()
time.sleep(120)' "$T/hung.sock" "$T/hung.ready" &
	track $!
	wait_for 10 "[ -e '$T/hung.ready' ]"
	t0=${EPOCHREALTIME/./}
	expect_rc 3 "$TUNSUPCTL" -S "$T/hung.sock" check -t 1
	t1=${EPOCHREALTIME/./}
	ms=$(((t1 - t0) / 1000))
	unknown_line "check -t 1"
	grep -q "within 1 s" "$T/out" || fail "check -t 1: $(cat "$T/out")"
	[ "$ms" -ge 900 ] && [ "$ms" -lt 3000 ] || fail "check -t 1 took $ms ms"
	log "check -t 1 on a hung daemon: $ms ms"
	t0=${EPOCHREALTIME/./}
	expect_rc 3 "$TUNSUPCTL" -S "$T/hung.sock" check
	t1=${EPOCHREALTIME/./}
	ms=$(((t1 - t0) / 1000))
	unknown_line "check (default timeout)"
	[ "$ms" -ge 9900 ] && [ "$ms" -lt 12000 ] || fail "check without -t took $ms ms, not 10 s"
	log "check on a hung daemon, default timeout: $ms ms"
	pass "-t SECONDS bounds the whole check (10 s by default): UNKNOWN, one line"
}

help_version
usage_errors
start_tunsupd "$T/tunsupd.conf"
wait_state web up 20
thresholds
perfdata
timeout_opt
stop_tunsupd
