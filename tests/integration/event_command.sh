# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# EventCommand and LocalCommand (tunsupd.conf(5)). A hook that records its
# environment sees every change of state of a tunnel through connect, up, a
# server gone (backoff) and back up, in the order of the log, with the port
# the server bound for a RemoteForward 0, and its output is logged under the
# tunnel's name. A hook that hangs is stopped after EventCommandTimeout (one
# that ignores SIGTERM killed), the changes meanwhile coalesced into one run
# with TUNSUP_MISSED, while the tunnel comes up and the loop never stalls.
# Under a flapping server runs never overlap and every change is either run
# or counted as missed by the next run. LocalCommand runs after each session
# established, its tokens expanded, only with PermitLocalCommand yes. A file
# that others could write, or that is not root's or tunsupd's, may not set a
# command.
. "$TESTLIB"
tlib_init

start_sshd bridge
TARGET=$(free_port)
start_echo "$TARGET"
mkdir "$T/runs"

# record.sh DIR: one file per run, its TUNSUP_ variables, numbered in order.
cat >"$T/record.sh" <<'EOF'
#!/bin/sh
d=$1/$TUNSUP_TUNNEL
mkdir -p "$d"
n=$(ls "$d" | wc -l)
env | grep '^TUNSUP_' | sort >"$d/run.$(printf %04d "$n")"
echo "hook says $TUNSUP_PREVIOUS to $TUNSUP_STATE"
EOF
# hang.sh DIR: records as record.sh, then never ends (nor on SIGTERM if asked).
cat >"$T/hang.sh" <<'EOF'
#!/bin/sh
sh "$(dirname "$0")/record.sh" "$1" >/dev/null
echo $$ >>"$1/$TUNSUP_TUNNEL.pids"
[ "${2:-}" = stubborn ] && trap '' TERM
while :; do sleep 0.2; done
EOF
chmod +x "$T/record.sh" "$T/hang.sh"

{
	conf_header
	tunnel_conf watched bridge
	echo "    EventCommand $T/record.sh '$T/runs'"
	echo "    RemoteForward 0 127.0.0.1:$TARGET"
	echo "    RemoteForward 127.0.0.1:0 127.0.0.1:$TARGET"
	tunnel_conf hangs bridge
	echo "    EventCommand $T/hang.sh '$T/runs'"
	echo "    EventCommandTimeout 1"
	tunnel_conf stubborn bridge
	echo "    EventCommand $T/hang.sh '$T/runs' stubborn"
	echo "    EventCommandTimeout 1"
	tunnel_conf local bridge
	echo "    PermitLocalCommand yes"
	echo "    LocalCommand echo %n %h %p %r %u %% >>'$T/local.out'; echo local says hi"
	tunnel_conf notlocal bridge
	echo "    LocalCommand echo ran >>'$T/notlocal.out'"
} >"$T/t.conf"
"$TUNSUPD" -T -f "$T/t.conf" >"$T/dump" 2>&1 || fail "tunsupd -T: $(cat "$T/dump")"
grep -qxF "eventcommand $T/record.sh '$T/runs'" "$T/dump" ||
	fail "-T does not print the EventCommand as written: $(grep -i eventcommand "$T/dump")"
grep -qx "eventcommandtimeout 10" "$T/dump" || fail "-T: no default EventCommandTimeout 10s"
grep -qx "permitlocalcommand yes" "$T/dump" || fail "-T: no permitlocalcommand yes"
pass "-T prints the commands as written and EventCommandTimeout's default"

# Only root or tunsupd's user may set a command, in a file no one else writes.
for kw in EventCommand LocalCommand; do
	rm -f "$T/guard.conf"
	printf 'Tunnel x\n    HostName h\n    %s true\n' "$kw" >"$T/guard.conf"
	chmod 644 "$T/guard.conf"
	"$TUNSUPD" -t -f "$T/guard.conf" >"$T/t.out" 2>&1 || fail "root's file refused: $(cat "$T/t.out")"
	chmod 664 "$T/guard.conf"
	expect_rc 1 "$TUNSUPD" -t -f "$T/guard.conf"
	grep -q "guard.conf:3: $kw: refused in a file that is not root's or tunsupd's, or that others may write" "$T/err" ||
		fail "group-writable file: $(cat "$T/err")"
	chmod 644 "$T/guard.conf"
	chown nobody "$T/guard.conf"
	expect_rc 1 "$TUNSUPD" -t -f "$T/guard.conf"
	grep -q "guard.conf:3: $kw: refused" "$T/err" || fail "nobody's file: $(cat "$T/err")"
done
pass "EventCommand and LocalCommand refused in a file others may write or own"

start_tunsupd "$T/t.conf"
over0=$(loopf turns_over_100ms)
for n in watched hangs stubborn local notlocal; do wait_state "$n" up 20; done

# The hanging hooks: each run stopped after 1 s; the changes that came while
# the first run hung (forwarding, up) ran once, as up with TUNSUP_MISSED=1.
runs_of() { ls "$T/runs/$1" 2>/dev/null | wc -l; }
for n in hangs stubborn; do
	wait_for 15 "[ \$(runs_of $n) -ge 2 ] && grep -q 'event command: killed by signal' <(grep 'tunnel $n:' '$T/tunsupd.log' | tail -n +2)"
	f=$T/runs/$n/run.0001
	grep -qx TUNSUP_STATE=up "$f" || fail "$n: second run not for up: $(cat "$f")"
	grep -qx TUNSUP_PREVIOUS=forwarding "$f" || fail "$n: $(cat "$f")"
	grep -qx TUNSUP_MISSED=1 "$f" || fail "$n: missed not 1: $(cat "$f")"
	for p in $(cat "$T/runs/$n.pids"); do wait_for 10 _tlib_gone "$p"; done
	grep -q "tunnel $n: event command: still running after 1 s: stopped" "$T/tunsupd.log" ||
		fail "$n: no log line for the stop"
done
grep -q "tunnel stubborn: event command: still running 2 s after SIGTERM: killed" "$T/tunsupd.log" ||
	fail "the hook ignoring SIGTERM was not killed"
[ "$(tfield hangs connects)" = 1 ] && [ "$(tstate hangs)" = up ] || fail "hanging hook disturbed its tunnel"
[ "$(loopf turns_over_100ms)" = "$over0" ] || fail "the loop stalled: turns_over_100ms $over0 -> $(loopf turns_over_100ms)"
pass "a hanging hook is stopped after EventCommandTimeout (SIGKILL if need be), changes meanwhile coalesced (TUNSUP_MISSED=1), tunnel and loop unaffected"

PORT1=$(fwd_field watched 0 bound_port)
PORT2=$(fwd_field watched 1 bound_port)
[ "$PORT1" -gt 0 ] && [ "$PORT2" -gt 0 ] || fail "bound ports: $PORT1 $PORT2"

# The server goes, the tunnel backs off, the server comes back.
restart_sshd bridge
wait_for 20 "[ \$(tfield watched connects) = 2 ] && [ \$(tstate watched) = up ]"
wait_for 20 "[ \$(tfield local connects) = 2 ] && [ \$(tstate local) = up ]"
wait_state notlocal up 20
NPORT1=$(fwd_field watched 0 bound_port)

# The log's changes of watched, in order, and the hook's runs: each run is
# the next change after the TUNSUP_MISSED changes before it that had no run
# of their own (one runs at a time; a fast reconnect may change the state
# twice while the run for the change before is still going), and every
# change is accounted for.
transitions() { sed -n "s/.*tunnel $1: \([a-z]*\) -> \([a-z]*\).*/\1 \2/p" "$T/tunsupd.log"; }
hook_accounts() {
	local f i=0 m
	local -a t
	mapfile -t t < <(transitions "$1")
	for f in "$T/runs/$1"/run.*; do
		m=$(sed -n 's/^TUNSUP_MISSED=//p' "$f")
		i=$((i + ${m:-0}))
		[ "${t[i]:-}" = "$(sed -n 's/^TUNSUP_PREVIOUS=//p' "$f") $(sed -n 's/^TUNSUP_STATE=//p' "$f")" ] ||
			return 1
		i=$((i + 1))
	done
	[ "$i" = "${#t[@]}" ]
}
wait_for 10 hook_accounts watched
transitions watched | tr '\n' ',' >"$T/seq"
case "$(cat "$T/seq")" in
"stopped connecting,connecting forwarding,forwarding up,up backoff,backoff connecting,"*"connecting forwarding,forwarding up,") ;;
*) fail "unexpected transitions: $(cat "$T/seq")" ;;
esac
f=$(grep -lx TUNSUP_STATE=up "$T/runs/watched"/run.* | head -n 1)
grep -qx "TUNSUP_TUNNEL=watched" "$f" || fail "TUNSUP_TUNNEL: $(cat "$f")"
grep -qx "TUNSUP_REASON=all forwards established" "$f" || fail "TUNSUP_REASON: $(cat "$f")"
grep -qx "TUNSUP_REMOTE_PORT_1=$PORT1" "$f" || fail "TUNSUP_REMOTE_PORT_1: $(cat "$f")"
grep -qx "TUNSUP_REMOTE_PORTS=localhost:0=$PORT1 127.0.0.1:0=$PORT2" "$f" || fail "TUNSUP_REMOTE_PORTS: $(cat "$f")"
f=$(grep -lx TUNSUP_STATE=backoff "$T/runs/watched"/run.* | head -n 1)
[ -n "$f" ] || fail "no run for backoff"
grep -qx "TUNSUP_REMOTE_PORTS=" "$f" || fail "backoff with ports: $(cat "$f")"
grep -q "^TUNSUP_REASON=." "$f" || fail "backoff without a reason: $(cat "$f")"
f=$(ls "$T/runs/watched"/run.* | tail -1)
grep -qx "TUNSUP_STATE=up" "$f" && grep -qx "TUNSUP_CONNECTS=2" "$f" &&
	grep -qx "TUNSUP_REMOTE_PORT_1=$NPORT1" "$f" || fail "last run: $(cat "$f")"
grep -q "tunnel watched: event command: hook says forwarding to up" "$T/tunsupd.log" ||
	fail "the hook's output is not in the log under the tunnel's name"
pass "every change had a run or was counted in the next run's TUNSUP_MISSED ($(tr ',' '\n' <"$T/seq" | grep -c .) of them), the runs with their variables and the ports of RemoteForward 0 ($PORT1, then $NPORT1)"

# LocalCommand: once per session, tokens expanded, output logged.
wait_for 10 "[ \$(wc -l <'$T/local.out') = 2 ]"
want="local 127.0.0.1 $(sshd_port bridge) $(id -un) $(id -un) %"
[ "$(sort -u "$T/local.out")" = "$want" ] || fail "LocalCommand: $(cat "$T/local.out") (want $want)"
grep -q "tunnel local: local command: local says hi" "$T/tunsupd.log" || fail "LocalCommand output not logged"
[ ! -e "$T/notlocal.out" ] || fail "LocalCommand ran without PermitLocalCommand yes"
pass "LocalCommand runs after each session (2), tokens expanded, only with PermitLocalCommand yes"

# A flapping server: hooks that take a while never overlap; each change is run
# or counted missed by the run after it; the last change is run.
cat >"$T/slow.sh" <<EOF
#!/bin/sh
mkdir '$T/lock' 2>/dev/null || echo overlap >>'$T/overlap'
sh '$T/record.sh' '$T/runs' >/dev/null
sleep 0.4
rmdir '$T/lock'
EOF
chmod +x "$T/slow.sh"
{
	conf_header
	tunnel_conf flappy bridge
	echo "    EventCommand $T/slow.sh"
	echo "    RemoteForward 0 127.0.0.1:$TARGET"
} >"$T/t.conf"
ctl reload >/dev/null
wait_state flappy up 20
for i in 1 2 3 4; do
	stop_sshd bridge
	wait_state flappy backoff 10
	_tlib_start_sshd bridge
	wait_state flappy up 20
done
ntrans=$(transitions flappy | wc -l)
count_done() {
	local runs missed
	runs=$(runs_of flappy)
	missed=$(grep -h '^TUNSUP_MISSED=' "$T/runs/flappy"/run.* | sed 's/.*=//' | paste -sd+ | bc)
	[ $((runs + missed)) = "$ntrans" ] && [ ! -d "$T/lock" ]
}
wait_for 20 count_done
[ ! -e "$T/overlap" ] || fail "hook runs overlapped"
[ "$(runs_of flappy)" -lt "$ntrans" ] || fail "no change was coalesced: $(runs_of flappy) runs for $ntrans changes"
grep -qx TUNSUP_STATE=up "$(ls "$T/runs/flappy"/run.* | tail -1)" || fail "the last change did not run"
pass "flapping: $ntrans changes, $(runs_of flappy) runs, never two at once, the rest counted in TUNSUP_MISSED"

stop_tunsupd || fail "tunsupd exit status $?"
