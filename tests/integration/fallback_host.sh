# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# FallbackHost (tunsupd.conf(5)): a primary that cannot be reached sends the
# tunnel to its fallback, where a LocalForward and a RemoteForward serve; status
# names the server; the primary is tried beside the working session every
# RetryMax and, once it answers, the tunnel moves back session to session, its
# local listeners open throughout (the fallback's connections are closed); each server's host
# key is checked under its own name (HostKeyAlias is the primary's); a lost
# primary session ends on the fallback; -T dumps the list; a reload changes it.
. "$TESTLIB"
tlib_init

me=$(id -un)
start_sshd prim
start_sshd fb
start_sshd fb2
PRIM=$(sshd_port prim)
FB=$(sshd_port fb)
FB2=$(sshd_port fb2)
stop_sshd prim		# the primary is down when the daemon starts
stop_sshd fb2		# the second fallback comes in with the reload
ECHO=$(free_port)
start_echo "$ECHO"
read -r L R LA <<<"$(free_ports 3 | tr '\n' ' ')"

# hk: the fallback's known_hosts line has another key; al: the primary's key
# is known only under its HostKeyAlias, the fallback's under its own name.
ssh-keygen -q -t ed25519 -N '' -f "$T/otherkey" </dev/null
{
	host_key_line prim
	echo "[127.0.0.1]:$FB $(cut -d' ' -f1,2 "$T/otherkey.pub")"
} >"$T/kh_wrong"
{
	host_key_line prim myprimary
	host_key_line fb
} >"$T/kh_alias"

write_conf() {
	{
		conf_header
		tunnel_conf t prim
		echo "    FallbackHost $me@127.0.0.1:$1"
		echo "    LocalForward 127.0.0.1:$L 127.0.0.1:$ECHO"
		echo "    RemoteForward 127.0.0.1:$R 127.0.0.1:$ECHO"
		tunnel_conf hk prim | sed "s|$T/known_hosts|$T/kh_wrong|"
		echo "    FallbackHost 127.0.0.1:$FB"
		tunnel_conf al prim | sed "s|$T/known_hosts|$T/kh_alias|"
		echo "    HostKeyAlias myprimary"
		echo "    FallbackHost 127.0.0.1:$FB"
		echo "    LocalForward 127.0.0.1:$LA 127.0.0.1:$ECHO"
	} >"$T/t.conf"
}

# The pid listening on 127.0.0.1:PORT, and whether sshd NAME forked it.
listener_pid() {
	ss -ltnpH "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n1
}
listener_ino() {
	ss -ltneH "sport = :$1" | sed -n 's/.* ino:\([0-9]*\).*/\1/p' | head -n1
}
served_by() {
	local pid
	pid=$(listener_pid "$2")
	[ -n "$pid" ] && _tlib_descendants "$(sshd_pid "$1")" | grep -qx "$pid"
}

write_conf "$FB"
"$TUNSUPD" -t -f "$T/t.conf" 2>"$T/t.err" || fail "tunsupd -t: $(cat "$T/t.err")"

dump_and_errors() {
	"$TUNSUPD" -T -f "$T/t.conf" >"$T/dump" || fail "tunsupd -T"
	awk '/^tunnel t$/ { t = 1 } /^tunnel hk$/ { t = 0 } t' "$T/dump" |
	    grep -qx "fallbackhost $me@127.0.0.1:$FB" ||
	    fail "-T does not dump FallbackHost: $(grep -i fallback "$T/dump")"
	# Without a port: the tunnel's Port; without user@: the tunnel's User.
	awk '/^tunnel hk$/ { t = 1 } /^tunnel al$/ { t = 0 } t' "$T/dump" |
	    grep -qx "fallbackhost 127.0.0.1:$FB" || fail "hk's fallback dump"
	printf 'Tunnel x\n    FallbackHost a.example:2222\n    Port 2200\n    FallbackHost b@b.example\n' >"$T/two.conf"
	"$TUNSUPD" -T -f "$T/two.conf" | grep '^fallbackhost' >"$T/two.dump"
	printf 'fallbackhost a.example:2222\nfallbackhost b@b.example:2200\n' |
	    diff - "$T/two.dump" || fail "FallbackHost lines not in order with their defaults"
	printf 'Tunnel x\n    FallbackHost user@\n' >"$T/bad.conf"
	if "$TUNSUPD" -t -f "$T/bad.conf" 2>"$T/bad.err"; then
		fail "a bad FallbackHost was accepted"
	fi
	grep -q "bad.conf:2: FallbackHost: bad host 'user@'" "$T/bad.err" ||
	    fail "no file:line error: $(cat "$T/bad.err")"
	pass "-T dumps FallbackHost in order (the tunnel's User and Port filled in); a bad one is a file:line error"
}

to_fallback_at_start() {
	local t0 t1
	t0=$EPOCHREALTIME
	start_tunsupd "$T/t.conf"
	wait_for 10 '[ "$(tfield t fallback)" = 1 ] && state_is t up'
	t1=$EPOCHREALTIME
	log "up on the fallback $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s after the start"
	awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 1 + 5) }' ||
	    fail "up on the fallback after $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s (RetryNetworkMax 1s)"
	[ "$(tfield t server)" = "$me@127.0.0.1:$FB" ] || fail "server: $(tfield t server)"
	[ "$(tfield t host)" = 127.0.0.1 ] && [ "$(tfield t port)" = "$PRIM" ] ||
	    fail "host/port are no longer the configured primary"
	echo_check "$L" 4 100000 >/dev/null || fail "LocalForward through the fallback"
	echo_check "$R" 4 100000 >/dev/null || fail "RemoteForward on the fallback"
	served_by fb "$R" || fail "the RemoteForward does not listen on the fallback's sshd"
	ctl status | grep -qx "t: on FallbackHost 1, $me@127.0.0.1:$FB" ||
	    fail "tunsupctl status does not name the fallback: $(ctl status)"
	ctl metrics | grep -qx 'tunsup_tunnel_fallback{tunnel="t"} 1' ||
	    fail "metrics: $(ctl metrics | grep fallback)"
	pass "primary down: up through the fallback within RetryNetworkMax + 5 s; -L and -R carry data there; status and tunsup_tunnel_fallback name it"
}

host_keys_per_server() {
	wait_for 10 '[ "$(tfield al fallback)" = 1 ] && state_is al up'
	wait_for 15 'tfield hk last_error | grep -q "^FallbackHost 1 '"$me@127.0.0.1:$FB"': host key for 127.0.0.1 has CHANGED"'
	state_is hk up && fail "hk is up with a wrong key for the fallback"
	pass "each server's host key is checked under its own name: HostKeyAlias is the primary's, a wrong key for the fallback is refused"
}

back_to_primary() {
	local t0 t1 held prober ino
	# A connection through the fallback's session, held open.
	python3 - "$L" "$T/held.out" <<'PY' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
s.sendall(b"x\n")
assert s.recv(10) == b"x\n"
s.settimeout(30)
try:
    end = "closed" if s.recv(10) == b"" else "data"
except OSError as e:
    end = "error %s" % e
open(sys.argv[2], "w").write(end + "\n")
PY
	held=$!
	track "$held"
	# Connects to the local listener every 20 ms through the switch.
	python3 - "$L" "$T/probe.out" "$T/probe.stop" <<'PY' &
import os, socket, sys, time
refused = tries = 0
while not os.path.exists(sys.argv[3]):
    tries += 1
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2).close()
    except ConnectionRefusedError:
        refused += 1
    time.sleep(0.02)
open(sys.argv[2], "w").write("%d %d\n" % (refused, tries))
PY
	prober=$!
	track "$prober"
	sleep 0.2	# the prober runs before the primary is back (not a sync)
	connects=$(tfield t connects)
	ino=$(listener_ino "$L")
	[ -n "$ino" ] || fail "no listener on $L"
	t0=$EPOCHREALTIME
	start_sshd prim
	wait_for 10 '[ "$(tfield t fallback)" = 0 ] && state_is t up'
	t1=$EPOCHREALTIME
	touch "$T/probe.stop"
	wait_pid "$prober" 10 || fail "the prober failed"
	log "back on the primary $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s after it started"
	awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 2 + 4) }' ||
	    fail "back on the primary after $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s (RetryMax 2s)"
	[ "$(tfield t server)" = "$me@127.0.0.1:$PRIM" ] || fail "server: $(tfield t server)"
	[ "$(tfield t connects)" = $((connects + 1)) ] || fail "connects $connects -> $(tfield t connects)"
	wait_pid "$held" 10 || fail "the held connection's client failed"
	[ "$(cat "$T/held.out")" = closed ] || fail "held connection: $(cat "$T/held.out")"
	read -r refused tries <"$T/probe.out"
	[ "$refused" = 0 ] || fail "the local listener refused $refused of $tries connects during the switch"
	[ "$(listener_ino "$L")" = "$ino" ] || fail "the local listener was replaced"
	# No attempt, no backoff between the fallback and the primary.
	sed -n '/FallbackHost 1)$/,$p' "$T/tunsupd.log" | grep '^tunsupd\[.*tunnel t:' |
	    sed -n '/answers again/,$p' >"$T/switch.log"
	grep -q "up -> forwarding (back to the primary server)" "$T/switch.log" ||
	    fail "no switch in the log: $(cat "$T/switch.log")"
	grep -q -- "-> backoff\|-> connecting" "$T/switch.log" &&
	    fail "the switch went through backoff: $(cat "$T/switch.log")"
	echo_check "$L" 4 100000 >/dev/null || fail "LocalForward after the switch"
	wait_for 10 served_by prim "$R"
	echo_check "$R" 4 100000 >/dev/null || fail "RemoteForward on the primary"
	wait_for 10 '[ "$(tfield al fallback)" = 0 ] && state_is al up'
	# A fallback that refused its host key sends the next attempt on.
	wait_for 10 '[ "$(tfield hk fallback)" = 0 ] && state_is hk up'
	pass "primary back: the tunnel moves over within RetryMax + 4 s, session to session (no backoff; the local listener stayed open: $tries connects, none refused), the fallback's connections closed, -R back on the primary"
}

primary_lost() {
	local t0 t1
	t0=$EPOCHREALTIME
	stop_sshd prim
	wait_for 10 '[ "$(tfield t fallback)" = 1 ] && state_is t up'
	t1=$EPOCHREALTIME
	log "on the fallback $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s after the primary stopped"
	# A lost session is retried on its server once (RetryMax), then the
	# refused connect (RetryNetworkMax) moves on.
	awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 2 + 1 + 4) }' ||
	    fail "on the fallback after $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s"
	echo_check "$L" 2 100000 >/dev/null || fail "LocalForward after the failover"
	wait_for 10 served_by fb "$R"
	pass "primary lost while in use: the tunnel is on the fallback within RetryMax + RetryNetworkMax + 4 s"
}

reload_fallbacks() {
	start_sshd fb2
	write_conf "$FB2"
	ctl reload >/dev/null || fail "reload"
	wait_for 15 '[ "$(tfield t server)" = "'"$me@127.0.0.1:$FB2"'" ] && state_is t up'
	[ "$(tfield t fallback)" = 1 ] || fail "fallback: $(tfield t fallback)"
	echo_check "$L" 2 100000 >/dev/null || fail "LocalForward through the new fallback"
	wait_for 10 served_by fb2 "$R"
	pass "reload with a changed FallbackHost: the tunnel restarts onto the new fallback"
}

dump_and_errors
to_fallback_at_start
host_keys_per_server
back_to_primary
primary_lost
reload_fallbacks
stop_tunsupd
