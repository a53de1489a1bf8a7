# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# cli_ops: tunsupctl metrics (Prometheus text exposition for node_exporter's
# textfile collector) against live tunnels to a private sshd: the format
# checked by a small parser (HELP and TYPE before the samples, families in one
# piece, label escaping, no duplicate series) and the values checked against
# the status JSON; plus check on a degraded tunnel.
set -eu
. "$TESTLIB"
tlib_init

start_sshd br
P_ECHO=$(free_port)	# echo server: the target of the forwards
P_LOCAL=$(free_port)	# LocalForward listener
P_REMOTE=$(free_port)	# RemoteForward listener on the sshd's side
P_SOCKS=$(free_port)	# DynamicForward listener
P_HELD=$(free_port)	# held by another process: the server refuses it
P_DEAD=$(free_port)	# nothing listens there
# A backslash in a label value must come out escaped.
USOCK='a\b.sock'

start_echo "$P_ECHO"
# Something already listens on P_HELD, so sshd cannot listen there for us.
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(3600)
' "$P_HELD" </dev/null >/dev/null 2>&1 &
track $!
wait_for 10 "port_listening $P_HELD"

{
	conf_header
	tunnel_conf web br
	echo "    LocalForward 127.0.0.1:$P_LOCAL 127.0.0.1:$P_ECHO"
	echo "    LocalForward \"$T/$USOCK\" 127.0.0.1:$P_ECHO"
	echo "    RemoteForward 127.0.0.1:$P_REMOTE 127.0.0.1:$P_ECHO"
	echo "    DynamicForward 127.0.0.1:$P_SOCKS"
	tunnel_conf held br
	echo "    RemoteForward 127.0.0.1:$P_HELD 127.0.0.1:$P_ECHO"
	echo "    Enabled no"
	cat <<EOF
Tunnel off
    HostName 127.0.0.1
    Port $P_DEAD
    Enabled no
EOF
} >"$T/tunsupd.conf"

# prom_parse FILE: check FILE is valid text exposition and print its samples
# as JSON: {"name{label=\"v\",...}": value} with the labels sorted and
# unescaped values re-escaped canonically; exits 1 with the reason if not.
prom_parse() {
	python3 - "$1" <<'EOF'
import json, math, re, sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LNAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
if lines[-1] != "":
    sys.exit("the output does not end with a newline")
lines.pop()

def bad(n, why):
    sys.exit("line %d: %s: %r" % (n + 1, why, lines[n]))

def labels(n, text):
    """name="value",... with \\\\, \\" and \\n escapes -> dict."""
    out, i = {}, 0
    while i < len(text):
        m = re.compile(LNAME + "=\"").match(text, i)
        if not m:
            bad(n, "bad label at %r" % text[i:])
        key, i, val = m.group()[:-2], m.end(), ""
        while True:
            if i >= len(text):
                bad(n, "unterminated label value")
            c = text[i]
            if c == "\\":
                nxt = text[i + 1:i + 2]
                if nxt not in ("\\", "\"", "n"):
                    bad(n, "bad escape \\%s" % nxt)
                val += {"\\": "\\", "\"": "\"", "n": "\n"}[nxt]
                i += 2
            elif c == "\"":
                i += 1
                break
            elif c == "\n":
                bad(n, "raw newline in a label value")
            else:
                val += c
                i += 1
        if key in out:
            bad(n, "label %s twice" % key)
        out[key] = val
        if i < len(text):
            if text[i] != ",":
                bad(n, "expected , between labels")
            i += 1
    return out

helps, types, done, samples = {}, {}, set(), {}
current = None
for n, line in enumerate(lines):
    if line == "":
        bad(n, "empty line")
    if line.startswith("#"):
        m = re.fullmatch(r"# (HELP|TYPE) (%s) (.*)" % NAME, line)
        if not m:
            bad(n, "a comment that is neither HELP nor TYPE")
        kind, name, rest = m.groups()
        if name in done or (current is not None and current != name and
                            name in (helps.keys() | types.keys())):
            bad(n, "%s for %s after its samples" % (kind, name))
        if kind == "HELP":
            if name in helps:
                bad(n, "second HELP")
            if re.search(r"\\[^\\n]", rest):
                bad(n, "bad escape in HELP")
            helps[name] = rest
        else:
            if name in types:
                bad(n, "second TYPE")
            if rest not in TYPES:
                bad(n, "unknown type")
            types[name] = rest
        if current is not None and current != name:
            done.add(current)
        current = name
        continue
    m = re.fullmatch(r"(%s)(?:\{(.*)\})? (\S+)(?: (-?[0-9]+))?" % NAME, line)
    if not m:
        bad(n, "not a sample line")
    name, ltext, value = m.group(1), m.group(2) or "", m.group(3)
    if name not in types or name not in helps:
        bad(n, "sample before HELP and TYPE of %s" % name)
    if name != current:
        if name in done:
            bad(n, "samples of %s not in one group" % name)
        done.add(current)
        current = name
    try:
        v = float(value)
    except ValueError:
        bad(n, "bad value")
    if value.lower() not in ("+inf", "-inf", "nan") and not math.isfinite(v):
        bad(n, "bad value")
    if types[name] == "counter" and not name.endswith("_total"):
        bad(n, "a counter not named *_total")
    if types[name] == "counter" and v < 0:
        bad(n, "a negative counter")
    lab = labels(n, ltext)
    key = name + "{" + ",".join("%s=%s" % (k, json.dumps(lab[k]))
                                for k in sorted(lab)) + "}"
    if key in samples:
        bad(n, "duplicate series")
    samples[key] = v
for name in helps.keys() | types.keys():
    if name not in helps or name not in types:
        sys.exit("%s lacks HELP or TYPE" % name)
print(json.dumps(samples))
EOF
}

# sample NAME [LABEL=VALUE...]: the value of one series in $T/samples.json,
# "absent" if there is none; values print as integers when they are.
sample() {
	python3 - "$T/samples.json" "$@" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
lab = dict(a.split("=", 1) for a in sys.argv[3:])
key = sys.argv[2] + "{" + ",".join("%s=%s" % (k, json.dumps(lab[k]))
                                   for k in sorted(lab)) + "}"
v = s.get(key)
print("absent" if v is None else ("%d" % v if v == int(v) else repr(v)))
EOF
}

# metrics [NAME...]: run metrics, check the format, leave the samples in
# $T/samples.json and the text in $T/metrics.prom.
metrics() {
	expect_rc 0 ctl metrics "$@"
	cp "$T/out" "$T/metrics.prom"
	[ ! -s "$T/err" ] || fail "metrics wrote to stderr: $(cat "$T/err")"
	prom_parse "$T/metrics.prom" >"$T/samples.json" ||
	    fail "metrics output is not valid text exposition"
}

# want WANT NAME [LABEL=VALUE...]: that series has that value.
want() {
	local w=$1 got
	shift
	got=$(sample "$@")
	[ "$got" = "$w" ] || {
		cat "$T/metrics.prom" >&2
		fail "$*: $got, want $w"
	}
}

format_and_values() {
	local f st fl kind listen got
	wait_state web up 20
	# The SOCKS forward once, the local and remote ones with a round trip.
	echo_check "$P_LOCAL" 2 1000 >/dev/null || fail "local forward"
	echo_check "$P_REMOTE" 1 3000 >/dev/null || fail "remote forward"
	curl -s -o /dev/null --max-time 10 --socks5-hostname "127.0.0.1:$P_SOCKS" \
	    "http://127.0.0.1:$P_ECHO/" || true
	wait_for 10 '[ "$(fwd_field web 0 connections_active)" = 0 ] &&
	    [ "$(fwd_field web 2 connections_active)" = 0 ] &&
	    [ "$(fwd_field web 3 connections_total)" -ge 1 ] &&
	    [ "$(tfield web keepalive.rtt_ms)" != null ]'

	metrics
	status_json >"$T/status.json"
	pass "metrics prints valid text exposition (HELP/TYPE first, families whole, no duplicates)"

	want 1 tunsup_up
	for st in stopped connecting forwarding up degraded backoff; do
		want "$([ "$st" = up ] && echo 1 || echo 0)" tunsup_tunnel_state tunnel=web state="$st"
		want "$([ "$st" = stopped ] && echo 1 || echo 0)" tunsup_tunnel_state tunnel=off state="$st"
	done
	want "$(jget 'tunnels[name=web].connects' <"$T/status.json")" tunsup_tunnel_connects_total tunnel=web
	want 0 tunsup_tunnel_connects_total tunnel=off
	want "$(jget 'tunnels[name=web].failures' <"$T/status.json")" tunsup_tunnel_failures_total tunnel=web
	[ "$(sample tunsup_tunnel_keepalive_rtt_seconds tunnel=web)" != absent ] ||
	    fail "no keepalive rtt for web"
	python3 -c 'import sys; v = float(sys.argv[1]); assert 0 < v < 5, v' \
	    "$(sample tunsup_tunnel_keepalive_rtt_seconds tunnel=web)" || fail "rtt out of range"
	want absent tunsup_tunnel_keepalive_rtt_seconds tunnel=off
	pass "tunnel state, connects, failures and rtt (only when known) as in the status"

	for f in 0 1 2 3; do
		kind=$(jget "tunnels[name=web].forwards[$f].kind" <"$T/status.json")
		listen=$(jget "tunnels[name=web].forwards[$f].listen" <"$T/status.json")
		want 1 tunsup_forward_up tunnel=web kind="$kind" listen="$listen"
		# Read before the status: a probe may have moved a counter since.
		for fl in connections_total bytes_in bytes_out; do
			got=$(sample "tunsup_forward_${fl%_total}_total" tunnel=web kind="$kind" listen="$listen")
			[ "$got" != absent ] && [ "$got" -le "$(jget "tunnels[name=web].forwards[$f].$fl" <"$T/status.json")" ] ||
			    fail "$kind $listen: $fl $got, status $(jget "tunnels[name=web].forwards[$f].$fl" <"$T/status.json")"
		done
		[ "$(sample tunsup_forward_connections_active tunnel=web kind="$kind" listen="$listen")" != absent ] ||
		    fail "$kind $listen: no connections_active"
	done
	# The names: connections_active is a gauge, the rest counters.
	want 0 tunsup_forward_connections_active tunnel=web kind=local listen="127.0.0.1:$P_LOCAL"
	want 2 tunsup_forward_connections_total tunnel=web kind=local listen="127.0.0.1:$P_LOCAL"
	want 2000 tunsup_forward_bytes_in_total tunnel=web kind=local listen="127.0.0.1:$P_LOCAL"
	want 2000 tunsup_forward_bytes_out_total tunnel=web kind=local listen="127.0.0.1:$P_LOCAL"
	[ "$(sample tunsup_forward_bytes_out_total tunnel=web kind=remote listen="127.0.0.1:$P_REMOTE")" -ge 3000 ] ||
	    fail "remote forward bytes_out"
	[ "$(sample tunsup_forward_connections_total tunnel=web kind=dynamic listen="127.0.0.1:$P_SOCKS")" -ge 1 ] ||
	    fail "dynamic forward connections_total"
	grep -qF "listen=\"${T//\\/\\\\}/a\\\\b.sock\"" "$T/metrics.prom" ||
	    fail "the backslash in $T/$USOCK is not escaped: $(grep 'sock' "$T/metrics.prom")"
	want 1 tunsup_forward_up tunnel=web kind=local listen="$T/$USOCK"
	grep -E '^# TYPE tunsup_forward_connections_active gauge$' "$T/metrics.prom" >/dev/null &&
	    grep -E '^# TYPE tunsup_forward_bytes_in_total counter$' "$T/metrics.prom" >/dev/null &&
	    grep -E '^# TYPE tunsup_tunnel_state gauge$' "$T/metrics.prom" >/dev/null ||
	    fail "TYPE lines"
	pass "forward up, connections and bytes per tunnel, kind and listen (label values escaped)"

	metrics web
	want absent tunsup_tunnel_state tunnel=off state=stopped
	want 1 tunsup_tunnel_state tunnel=web state=up
	expect_rc 1 ctl metrics nope
	grep -qx "tunsupctl: no such tunnel: nope" "$T/err" || fail "metrics nope: $(cat "$T/err")"
	expect_rc 2 ctl metrics --frob
	expect_rc 3 "$TUNSUPCTL" -S "$T/nothing.sock" metrics
	prom_parse "$T/out" >"$T/samples.json" || fail "metrics without a daemon: $(cat "$T/out")"
	want 0 tunsup_up
	pass "metrics NAME; an unknown tunnel exits 1; no daemon: tunsup_up 0 and exit 3"
}

degraded() {
	local fwd
	expect_rc 0 ctl start held
	wait_state held degraded 20
	fwd="tunsup_forward_up tunnel=held kind=remote listen=127.0.0.1:$P_HELD"
	metrics held
	want 1 tunsup_tunnel_state tunnel=held state=degraded
	want 0 tunsup_tunnel_state tunnel=held state=up
	want 0 $fwd
	fwd_field held 0 error | grep -q "server refused to listen on 127.0.0.1:$P_HELD" ||
	    fail "forward error: $(fwd_field held 0 error)"
	expect_rc 1 ctl status held	# not up
	grep -Eq "^held +degraded +[0-9]+s +0/1 +0 +server refused to listen on 127.0.0.1:$P_HELD: " "$T/out" ||
	    fail "status of a degraded tunnel: $(cat "$T/out")"
	expect_rc 1 ctl check -g 3600
	grep -Eq "^TUNSUP WARNING - 1/2 tunnels up, 1 stopped; held degraded for [0-9]+s \(server refused to listen on 127.0.0.1:$P_HELD: " "$T/out" ||
	    fail "check degraded: $(cat "$T/out")"
	expect_rc 2 ctl check -g 0 held
	grep -Eq "^TUNSUP CRITICAL - 0/1 tunnels up; held degraded for [0-9]+s \(server refused" "$T/out" ||
	    fail "check degraded past the grace: $(cat "$T/out")"
	expect_rc 0 ctl check web
	pass "a refused remote forward: degraded in metrics (forward_up 0), its error in status and check, check 1 then 2"
	expect_rc 0 ctl stop held
	wait_state held stopped 10
	expect_rc 0 ctl check
}

start_tunsupd "$T/tunsupd.conf"
format_and_values
degraded
