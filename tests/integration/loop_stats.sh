# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# Loop turns (tunsupctl(1) status "loop", metrics tunsup_loop_*): the daemon
# counts the turns of its event loop and those longer than 1, 10 and 100 ms, and
# keeps the longest; under load it waits a little before the next poll, and
# counts those turns too. A stall is shown with one of the things that still block
# the loop on purpose: opening a private key protected by a passphrase (its
# key derivation, once per file). And the loop must not stall
# while a tunnel behind a slow link is fed: libssh sends with a blocking send(),
# so the pump may only give it what the socket can take at once.
. "$TESTLIB"
set -eu -o pipefail
need_tool strace
tlib_init

start_sshd srv
{
	conf_header
	tunnel_conf quick srv
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state quick up 20

t1=$(loopf turns)
t2=$(loopf turns)
[ "$t2" -gt "$t1" ] || fail "loop.turns did not grow between two status requests ($t1, $t2)"
pass "loop.turns counts the turns ($t1, then $t2)"
over0=$(loopf turns_over_100ms)

# A key protected by a passphrase (32 rounds of bcrypt, about 0.3 s here):
# opening it is synchronous, once per file.
ssh-keygen -q -t ed25519 -a 32 -N 'slow to open' -f "$T/id_slow" </dev/null
cat "$T/id_slow.pub" >>"$T/srv/authorized_keys"
printf 'slow to open\n' >"$T/id_slow.pass"
chmod 0600 "$T/id_slow.pass"
{
	conf_header
	tunnel_conf quick srv
	tunnel_conf slow srv "" "$T/id_slow"
	echo "    IdentityPassphraseFile $T/id_slow.pass"
} >"$T/t.conf"
ctl reload >/dev/null
wait_state slow up 20

over1=$(loopf turns_over_100ms)
longest=$(loopf longest_turn_ms)
[ "$over1" -gt "$over0" ] ||
	fail "opening the key did not count as a turn over 100 ms ($over0 -> $over1)"
awk -v l="$longest" 'BEGIN { exit !(l >= 100) }' ||
	fail "loop.longest_turn_ms is $longest after a stall over 100 ms"
pass "a stalled loop counts: turns over 100 ms $over0 -> $over1, longest $longest ms"

m=$(ctl metrics)
grep -qx "tunsup_loop_turns_over_total{ms=\"100\"} $over1" <<<"$m" ||
	fail "metrics lack tunsup_loop_turns_over_total{ms=\"100\"} $over1: $(grep loop <<<"$m")"
grep -q '^tunsup_loop_turns_total [1-9]' <<<"$m" || fail "metrics lack tunsup_loop_turns_total"
grep -Eq '^tunsup_loop_longest_turn_seconds (0\.[1-9]|[1-9])' <<<"$m" ||
	fail "metrics: tunsup_loop_longest_turn_seconds is not the stall"
pass "metrics show the loop's turns"

# Wake-ups batched under load (doc/design.md, "The receive path"): after a
# turn that read 64 KiB or more from the sessions the loop sleeps up to 0.3 ms
# (libev's nanosleep) before it polls again; turns that read less do not.
# strace counts the daemon's sleeps while small echoes cross a LocalForward,
# while 32 MiB come down another, and while small echoes cross again. How
# long a batched turn's sleep is depends on how long the turn took (0.3 ms
# less that), so on a loaded machine it may be none at all (a CI run had 9
# batched turns and no sleep): the download is checked by its batched turns,
# and the sleeps are only logged; the echoes must have neither.
EP=$(free_port)
start_echo "$EP"
SRC=$(free_port)
mkdata "$T/down.bin" 32
start_source "$SRC" "$T/down.bin"
LE=$(free_port)
LD=$(free_port)
{
	conf_header
	tunnel_conf quick srv
	tunnel_conf slow srv "" "$T/id_slow"
	echo "    IdentityPassphraseFile $T/id_slow.pass"
	tunnel_conf bulk srv
	echo "    LocalForward $LE 127.0.0.1:$EP"
	echo "    LocalForward $LD 127.0.0.1:$SRC"
} >"$T/t.conf"
ctl reload >/dev/null
wait_state bulk up 20
# sleeps WHAT CMD...: the daemon's sleeps (a line each) while CMD runs
sleeps() {
	local what=$1 spid
	shift
	strace -f --seccomp-bpf -e trace=nanosleep,clock_nanosleep -e signal=none \
	    -o "$T/sleeps.$what" -p "$TUNSUPD_PID" 2>"$T/strace.$what" &
	spid=$!
	track "$spid"
	wait_for 10 "grep -q attached '$T/strace.$what'"
	"$@" >/dev/null || fail "$what: $* failed"
	kill -INT "$spid"
	wait_pid "$spid" 10 || true
	grep -c nanosleep "$T/sleeps.$what" || true
}
small() {
	local i
	for i in 1 2 3 4 5 6 7 8; do
		echo_check "$LE" 1 4000 20 || return 1
	done
}
b0=$(loopf turns_batched)
n=$(sleeps quiet small)
b1=$(loopf turns_batched)
[ "$n" = 0 ] || fail "the loop slept $n times while only small echoes crossed"
[ "$b1" = "$b0" ] || fail "small echoes counted as batched turns ($b0 -> $b1)"
n=$(sleeps bulk tcp_recv "$LD" "$T/got.bin" 60)
b2=$(loopf turns_batched)
_tlib_same "$T/down.bin" "$T/got.bin" $((32 * 1048576)) "32 MiB down the LocalForward"
[ "$b2" -gt "$b1" ] || fail "loop.turns_batched did not grow with the download ($b1 -> $b2)"
pass "32 MiB down a LocalForward, intact: turns_batched $b1 -> $b2, $n sleeps before a poll"
n=$(sleeps after small)
b3=$(loopf turns_batched)
[ "$n" = 0 ] || fail "the loop still slept ($n times) after the download"
[ "$b3" = "$b2" ] || fail "small echoes after the download counted as batched ($b2 -> $b3)"
pass "small echoes before and after: no sleep, turns_batched unchanged"
grep -qx "tunsup_loop_batched_turns_total $b3" <<<"$(ctl metrics)" ||
	fail "metrics lack tunsup_loop_batched_turns_total $b3"
pass "metrics show the batched turns"

# Four uploads into a tunnel whose server is behind a 2 MB/s relay: its socket
# buffer fills up, and no turn of the loop may wait for it.
SP=$(free_port)
_tlib_server DISCARD_PID discard "$SP" "$T/socat.log" \
    socat -u "TCP-LISTEN:$SP,bind=127.0.0.1,reuseaddr,fork" OPEN:/dev/null
RP=$(free_port)
start_relay "$RP" "$SSHD_PORT_srv" --rate 2000000
host_key_line srv "[127.0.0.1]:$RP" >>"$T/known_hosts"
LP=$(free_port)
{
	conf_header
	tunnel_conf quick srv
	tunnel_conf slow srv "" "$T/id_slow"
	echo "    IdentityPassphraseFile $T/id_slow.pass"
	tunnel_conf narrow srv "$RP"
	echo "    LocalForward $LP 127.0.0.1:$SP"
} >"$T/t.conf"
ctl reload >/dev/null
wait_state narrow up 20
mkdata "$T/up.bin" 16
over0=$(loopf turns_over_100ms)
ups=()
for i in 1 2 3 4; do
	timeout 6 socat -u "OPEN:$T/up.bin" "TCP:127.0.0.1:$LP" 2>/dev/null &
	ups+=($!)
done
wait "${ups[@]}" || true
over1=$(loopf turns_over_100ms)
sent=$(fwd_field narrow 0 bytes_out)
[ "$sent" -gt 8000000 ] || fail "the uploads did not get through the relay ($sent bytes)"
[ "$over1" = "$over0" ] ||
	fail "the loop stalled while feeding the 2 MB/s link: turns over 100 ms $over0 -> $over1"
pass "no turn over 100 ms while 4 uploads fill a 2 MB/s link ($sent bytes sent)"

# The link is still full: the DISCONNECT waits for room behind what libssh
# has queued (tests/faults/sigterm_stalled.sh). SIGTERM must still end in a
# clean exit.
rc=0
stop_tunsupd || rc=$?
[ "$rc" = 0 ] || fail "tunsupd exited with status $rc on SIGTERM while its link was full"
pass "SIGTERM with a full link: exit 0"
