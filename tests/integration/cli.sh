# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# cli: tunsupctl(1) against a daemon with a real sshd: the status
# table, its SINCE column and exit status, --json, start/stop/restart, exit
# codes, help and --help, add from an autossh command line, remove, reload,
# check, authorized-keys, watch and tunsupd -T NAME. check as a monitoring
# plugin: check_plugin.sh.
set -eu
. "$TESTLIB"
tlib_init

start_sshd br
ME=$(id -un)
P_WEB=$(free_port)
DEAD_PORT=$(free_port)	# nothing listens there

{
	conf_header
	tunnel_conf web br
	echo "    LocalForward 127.0.0.1:$P_WEB 127.0.0.1:$SSHD_PORT_BR"
	cat <<EOF
Tunnel off
    HostName 127.0.0.1
    Port $DEAD_PORT
    Enabled no
EOF
} >"$T/tunsupd.conf"

# row NAME: the status table row of NAME, from $T/out.
row() { awk -v n="$1" '$1 == n' "$T/out"; }

status_table() {
	expect_rc 0 ctl status
	head -1 "$T/out" | grep -Eq '^NAME +STATE +SINCE +FORWARDS +RECONNECTS +LAST-ERROR$' ||
	    fail "bad table header: $(head -1 "$T/out")"
	row web | grep -Eq '^web +up +[0-9]+(s|m[0-9]{2}s) +1/1 +0 +' ||
	    fail "bad row for web: '$(row web)'"
	row off | grep -Eq '^off +stopped +[0-9]+(s|m[0-9]{2}s) +0/0 +0 +-$' ||
	    fail "bad row for off: '$(row off)'"
	[ "$(wc -l <"$T/out")" = 3 ] || fail "table has $(wc -l <"$T/out") lines"
	pass "status prints a table: name, state, since, forwards, reconnects, error"

	expect_rc 0 ctl status off
	[ "$(wc -l <"$T/out")" = 2 ] && row off | grep -q stopped ||
	    fail "status off: $(cat "$T/out")"
	expect_rc 1 ctl status nope
	grep -qx "tunsupctl: no such tunnel: nope" "$T/err" || fail "status nope: $(cat "$T/err")"
	pass "status NAME shows that tunnel; an unknown one exits 1"

	expect_rc 0 ctl --json status
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is True and len(d["tunnels"]) == 2' \
	    "$T/out" || fail "--json status is not the daemon's reply: $(cat "$T/out")"
	expect_rc 0 ctl --json status web off
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [t["name"] for t in d["tunnels"]] == ["web","off"]' \
	    "$T/out" || fail "--json status web off: $(cat "$T/out")"
	pass "--json status prints valid JSON with the tunnels"
}

start_stop_restart() {
	expect_rc 0 ctl stop web
	[ ! -s "$T/out" ] || fail "stop printed: $(cat "$T/out")"
	wait_state web stopped 10
	expect_rc 0 ctl start web
	wait_state web up 20
	expect_rc 0 ctl restart web
	wait_state web up 20
	[ "$(tfield web connects)" -ge 3 ] || fail "restart did not reconnect"
	expect_rc 0 ctl stop --all
	wait_state web stopped 10
	expect_rc 0 ctl start --all
	wait_state web up 20
	wait_state off 'connecting|backoff' 10
	expect_rc 0 ctl stop off
	wait_state off stopped 10
	pass "start, stop, restart and --all exit 0 and do it"

	expect_rc 1 ctl stop nope
	grep -qx "tunsupctl: no such tunnel: nope" "$T/err" || fail "stop nope: $(cat "$T/err")"
	expect_rc 1 ctl restart web nope
	pass "an unknown tunnel exits 1 with the daemon's error"

	expect_rc 2 ctl
	expect_rc 2 ctl frob
	grep -q "usage:" "$T/err" || fail "no usage on an unknown command"
	expect_rc 2 ctl stop
	expect_rc 2 ctl stop --all web
	expect_rc 2 ctl remove
	expect_rc 2 ctl add onlyname
	expect_rc 2 ctl add x -Z 127.0.0.1
	expect_rc 2 ctl add x -W h:1 127.0.0.1
	pass "usage errors exit 2"

	expect_rc 3 "$TUNSUPCTL" -S "$T/nothing.sock" status
	grep -qx "tunsupctl: cannot connect to $T/nothing.sock: No such file or directory" "$T/err" ||
	    fail "no daemon: $(cat "$T/err")"
	pass "no daemon exits 3"
}

add_remove() {
	local p_l p_r p_d
	p_l=$(free_port)
	p_r=$(free_port)
	p_d=$(free_port)
	# As pasted from an autossh line, options before and after the host.
	expect_rc 0 ctl add vpn -M 0 -fNT -L "127.0.0.1:$p_l:127.0.0.1:$SSHD_PORT_BR" \
	    -n -R "127.0.0.1:$p_r:localhost:22" -D"127.0.0.1:$p_d" \
	    -i "$T/id_ed25519" -o IdentitiesOnly=yes -o "IdentityAgent none" \
	    -oUserKnownHostsFile="$T/known_hosts" "$ME@127.0.0.1" -p "$SSHD_PORT_BR"
	grep -qx "note: -M 0: ignored: tunsupd probes the session itself (ServerAliveInterval) and each forward (ForwardProbe)" "$T/err" ||
	    fail "no note about -M: $(cat "$T/err")"
	ctl --json status vpn >"$T/vpn.json"
	[ "$(jget 'tunnels[0].host' <"$T/vpn.json")" = 127.0.0.1 ] || fail "host"
	[ "$(jget 'tunnels[0].port' <"$T/vpn.json")" = "$SSHD_PORT_BR" ] || fail "port"
	[ "$(jget 'tunnels[0].user' <"$T/vpn.json")" = "$ME" ] || fail "user"
	[ "$(jget 'tunnels[0].forwards[kind=local].listen' <"$T/vpn.json")" = "127.0.0.1:$p_l" ] ||
	    fail "local forward: $(cat "$T/vpn.json")"
	[ "$(jget 'tunnels[0].forwards[kind=local].target' <"$T/vpn.json")" = "127.0.0.1:$SSHD_PORT_BR" ] ||
	    fail "local target: $(cat "$T/vpn.json")"
	[ "$(jget 'tunnels[0].forwards[kind=remote].listen' <"$T/vpn.json")" = "127.0.0.1:$p_r" ] ||
	    fail "remote forward: $(cat "$T/vpn.json")"
	[ "$(jget 'tunnels[0].forwards[kind=remote].target' <"$T/vpn.json")" = "localhost:22" ] ||
	    fail "remote target: $(cat "$T/vpn.json")"
	[ "$(jget 'tunnels[0].forwards[kind=dynamic].listen' <"$T/vpn.json")" = "127.0.0.1:$p_d" ] ||
	    fail "dynamic forward: $(cat "$T/vpn.json")"
	# Its session and the local and remote forwards come up (the dynamic
	# one is the SOCKS code's business, not the CLI's).
	wait_for 20 '[ "$(fwd_field vpn 0 state)" = up ] && [ "$(fwd_field vpn 1 state)" = up ]'
	pass "add from an autossh command line: host, port, user and three forwards; it connects"

	expect_rc 1 ctl add vpn 127.0.0.1
	grep -qx "tunsupctl: tunnel exists: vpn" "$T/err" || fail "duplicate: $(cat "$T/err")"
	expect_rc 1 ctl add 'bad name' 127.0.0.1
	expect_rc 1 ctl add weird -o "NoSuchOption 1" 127.0.0.1
	grep -q "NoSuchOption" "$T/err" || fail "config error not shown: $(cat "$T/err")"
	expect_rc 1 ctl add weird -L 1 127.0.0.1
	grep -q "^tunsupctl: -L 1: LocalForward: " "$T/err" || fail "forward error: $(cat "$T/err")"
	expect_rc 1 ctl status weird
	pass "add refuses duplicates, bad names and bad options"

	expect_rc 0 ctl remove vpn
	expect_rc 1 ctl status vpn
	wait_for 10 "! port_listening $p_l"
	expect_rc 1 ctl remove vpn
	pass "remove forgets the tunnel and closes its listeners"
}

reload_cmd() {
	{ cat "$T/tunsupd.conf"; tunnel_conf extra br; echo "    Enabled no"; } >"$T/new.conf"
	cp "$T/new.conf" "$T/tunsupd.conf"
	expect_rc 0 ctl reload
	grep -qx "added: extra" "$T/out" || fail "reload output: $(cat "$T/out")"
	grep -qx "removed: -" "$T/out" || fail "reload output: $(cat "$T/out")"
	grep -Eq "^unchanged: (web off|off web)$" "$T/out" || fail "reload output: $(cat "$T/out")"
	expect_rc 0 ctl status extra
	echo "Bogus yes" >>"$T/tunsupd.conf"
	expect_rc 1 ctl reload
	grep -q "tunsupd.conf:[0-9]*:" "$T/err" || fail "reload error: $(cat "$T/err")"
	sed -i '/^Bogus yes$/d' "$T/tunsupd.conf"
	pass "reload lists added/removed/restarted/unchanged; a bad file exits 1"
}

check_cmd() {
	wait_state web up 20
	expect_rc 0 ctl check
	grep -Eq "^TUNSUP OK - 1/1 tunnels up, 2 stopped" "$T/out" || fail "check: $(cat "$T/out")"
	[ "$(wc -l <"$T/out")" = 1 ] || fail "check prints more than one line"
	expect_rc 0 ctl start off
	wait_state off 'connecting|backoff' 10
	expect_rc 1 ctl check -g 3600
	grep -Eq "^TUNSUP WARNING - 1/2 tunnels up" "$T/out" || fail "check warning: $(cat "$T/out")"
	expect_rc 2 ctl check --grace 0
	grep -Eq "^TUNSUP CRITICAL - 1/2 tunnels up" "$T/out" || fail "check critical: $(cat "$T/out")"
	expect_rc 0 ctl check web
	expect_rc 3 ctl check nope
	expect_rc 0 ctl stop off
	wait_state off stopped 10
	expect_rc 0 ctl check
	expect_rc 3 "$TUNSUPCTL" -S "$T/nothing.sock" check
	grep -q "^TUNSUP UNKNOWN" "$T/out" || fail "check without daemon: $(cat "$T/out")"
	pass "check: 0 all up, 1 not up, 2 not up past the grace period, 3 no daemon"
}

authorized_keys() {
	local p_r p_x line
	p_r=$(free_port)
	p_x=$(free_port)
	expect_rc 0 ctl authorized-keys web "$T/id_ed25519.pub"
	line="restrict,port-forwarding,permitlisten=\"255.255.255.255:9\",permitopen=\"127.0.0.1:$SSHD_PORT_BR\",command=\"/bin/false\" $(cat "$T/id_ed25519.pub")"
	[ "$(cat "$T/out")" = "$line" ] || fail "authorized-keys web: $(cat "$T/out")"

	# The line must really admit the tunnel on a locked-down account.
	start_sshd locked
	expect_rc 0 ctl add rt -o "IdentityFile $T/id_ed25519" -o "IdentityAgent none" \
	    -o "UserKnownHostsFile $T/known_hosts" -o "Enabled no" \
	    -R "127.0.0.1:$p_r:127.0.0.1:$p_x" "$ME@127.0.0.1" -p "$SSHD_PORT_LOCKED"
	expect_rc 0 ctl authorized-keys rt "$T/id_ed25519.pub"
	grep -q "permitlisten=\"127.0.0.1:$p_r\"" "$T/out" || fail "authorized-keys rt: $(cat "$T/out")"
	grep -q "permitopen=\"255.255.255.255:9\"" "$T/out" || fail "authorized-keys rt: $(cat "$T/out")"
	cp "$T/out" "$T/locked/authorized_keys"
	expect_rc 0 ctl start rt
	wait_state rt up 20
	wait_for 10 "port_listening $p_r"
	# And the restriction holds: a shell is refused, another port too.
	if tssh -p "$SSHD_PORT_LOCKED" "$ME@127.0.0.1" echo hello >"$T/out" 2>&1 &&
	    grep -q hello "$T/out"; then
		fail "the restricted key runs commands"
	fi
	expect_rc 0 ctl remove rt
	pass "authorized-keys prints a restricted line that admits exactly this tunnel"

	expect_rc 1 ctl authorized-keys web "$T/nothing.pub"
	echo "not a key" >"$T/bad.pub"
	expect_rc 1 ctl authorized-keys web "$T/bad.pub"
	expect_rc 1 ctl authorized-keys nope "$T/id_ed25519.pub"
	expect_rc 2 ctl authorized-keys web
	pass "authorized-keys rejects missing or bad key files and unknown tunnels"
}

# Help on stdout with status 0: tunsupctl --help, help [COMMAND] and
# COMMAND --help; --json is refused by the commands that have no JSON.
help_cmds() {
	local c
	for c in --help -h help; do
		expect_rc 0 ctl $c
		head -1 "$T/out" | grep -q '^usage: tunsupctl ' || fail "$c: $(cat "$T/out")"
		grep -q '^    check-now ' "$T/out" || fail "$c lists no commands: $(cat "$T/out")"
		[ ! -s "$T/err" ] || fail "$c wrote to stderr: $(cat "$T/err")"
	done
	expect_rc 0 ctl help status
	grep -qx 'usage: tunsupctl \[-S socket\] \[--json\] status \[NAME ...\]' "$T/out" ||
	    fail "help status: $(cat "$T/out")"
	expect_rc 0 ctl status --help
	grep -q '^usage: tunsupctl .* status ' "$T/out" && [ ! -s "$T/err" ] ||
	    fail "status --help: $(cat "$T/out" "$T/err")"
	for c in start stop restart check-now reload add remove forward cancel watch \
	    authorized-keys metrics help; do
		expect_rc 0 ctl "$c" --help
		grep -q "^usage: tunsupctl .* $c" "$T/out" || fail "$c --help: $(cat "$T/out")"
		[ "$(wc -l <"$T/out")" -ge 3 ] || fail "$c --help says nothing: $(cat "$T/out")"
	done
	expect_rc 2 ctl help nope
	grep -q "unknown command: nope" "$T/err" || fail "help nope: $(cat "$T/err")"
	pass "--help, help [COMMAND] and COMMAND --help print on stdout and exit 0"

	expect_rc 2 ctl --json metrics
	grep -q "metrics has no --json output" "$T/err" && [ ! -s "$T/out" ] ||
	    fail "--json metrics: $(cat "$T/out" "$T/err")"
	expect_rc 2 ctl --json authorized-keys web "$T/id_ed25519.pub"
	grep -q "authorized-keys has no --json output" "$T/err" || fail "--json authorized-keys: $(cat "$T/err")"
	expect_rc 2 ctl --json add --print x 127.0.0.1
	grep -q "no --json output" "$T/err" || fail "--json add --print: $(cat "$T/err")"
	expect_rc 0 ctl --json stop off
	jget ok <"$T/out" | grep -qx true || fail "--json stop: $(cat "$T/out")"
	expect_rc 0 ctl --json check-now web
	jget ok <"$T/out" | grep -qx true || fail "--json check-now: $(cat "$T/out")"
	pass "--json prints the reply, or is refused where there is no JSON"
}

# The table's exit status: 0 all up or stopped, 1 one is not up. SINCE: how
# long a tunnel has been down, through its backoffs and attempts.
status_exit_since() {
	local want got
	wait_state web up 20
	expect_rc 0 ctl stop off
	expect_rc 0 ctl status
	expect_rc 0 ctl start off
	wait_state off 'connecting|backoff' 10
	expect_rc 1 ctl status
	row off | grep -Eq '^off +(connecting|backoff) ' || fail "status: $(cat "$T/out")"
	expect_rc 0 ctl status web
	expect_rc 0 ctl --json status
	pass "status exits 1 while a tunnel is not up, 0 with --json or when all are up or stopped"

	# Attempts and backoffs have moved state_since on, at least 2 s after.
	wait_for 30 'ctl --json status | python3 -c "
import json, sys
t = [t for t in json.load(sys.stdin)[\"tunnels\"] if t[\"name\"] == \"off\"][0]
sys.exit(0 if t[\"state_since\"] - t[\"down_since\"] >= 2 else 1)"'
	want=$(ctl --json status | python3 -c '
import json, sys, time
t = [t for t in json.load(sys.stdin)["tunnels"] if t["name"] == "off"][0]
print(int(time.time() - t["down_since"]))')
	expect_rc 1 ctl status off
	got=$(row off | awk '{ print $3 }' | python3 -c '
import re, sys
m = re.fullmatch(r"(?:(\d+)m)?(\d+)s", sys.stdin.read().strip())
print(int(m.group(1) or 0) * 60 + int(m.group(2)) if m else -1)')
	[ "$got" -ge "$want" ] || fail "SINCE of off is ${got}s, down for ${want}s: $(cat "$T/out")"
	expect_rc 0 ctl stop off
	wait_state off stopped 10
	pass "SINCE counts from when the tunnel went down (${got}s), not from its last attempt"
}

# tunsupd -T NAME: that tunnel's effective configuration only.
dump_one() {
	expect_rc 0 "$TUNSUPD" -T -f "$T/tunsupd.conf" web
	[ "$(grep -c '^tunnel ' "$T/out")" = 1 ] && grep -qx 'tunnel web' "$T/out" ||
	    fail "-T web: $(cat "$T/out")"
	grep -q "localforward 127.0.0.1:$P_WEB " "$T/out" || fail "-T web lacks its forward: $(cat "$T/out")"
	expect_rc 0 "$TUNSUPD" -T -f "$T/tunsupd.conf"
	[ "$(grep -c '^tunnel ' "$T/out")" -ge 2 ] || fail "-T: $(cat "$T/out")"
	expect_rc 1 "$TUNSUPD" -T -f "$T/tunsupd.conf" nope
	grep -q "no tunnel nope" "$T/err" && [ ! -s "$T/out" ] || fail "-T nope: $(cat "$T/out" "$T/err")"
	expect_rc 2 "$TUNSUPD" -T -f "$T/tunsupd.conf" web off
	pass "tunsupd -T NAME prints that tunnel's configuration; an unknown one exits 1"
}

watch_cmd() {
	local wpid jpid rc=0
	# Not through ctl(): $! must be tunsupctl itself, not a subshell.
	"$TUNSUPCTL" -S "$SOCK" watch >"$T/watch.out" 2>"$T/watch.err" &
	wpid=$!
	track "$wpid"
	"$TUNSUPCTL" -S "$SOCK" --json watch >"$T/watchj.out" 2>&1 &
	jpid=$!
	track "$jpid"
	# The watchers subscribe asynchronously: cycle until both saw it.
	wait_for 20 'ctl stop web && ctl start web &&
	    grep -Eq "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z web [a-z]+ -> stopped \(.+\)$" "$T/watch.out" &&
	    grep -q "\"event\":\"state\"" "$T/watchj.out"'
	wait_for 20 'grep -Eq "Z web stopped -> connecting" "$T/watch.out"'
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    ev = json.loads(line)
    assert ev["event"] in ("state", "forward"), ev
' "$T/watchj.out" || fail "--json watch lines are not events: $(head -3 "$T/watchj.out")"
	kill -INT "$wpid"
	wait_pid "$wpid" 10 || rc=$?
	[ "$rc" = 0 ] || fail "watch exited $rc on SIGINT"
	kill_pid "$jpid"
	wait_state web up 20
	pass "watch prints one line per event; --json watch the raw events"
}

start_tunsupd "$T/tunsupd.conf"
wait_state web up 20
status_table
start_stop_restart
add_remove
reload_cmd
check_cmd
help_cmds
status_exit_since
dump_one
authorized_keys
watch_cmd
