# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# maxstartups (fault suite): 20 tunnels to one sshd that accepts at most 3
# unauthenticated connections at a time (MaxStartups 3). sshd drops the
# excess; every tunnel must come up all the same, by retrying (tunsupd(8), Liveness and retries: the
# daemon also bounds its handshakes in flight). Reports how many connections
# sshd dropped.
: "${TLIB_TIMEOUT:=150}"
. "$TESTLIB"
set -eu -o pipefail
tlib_init

N=20
# lib.sh appends "MaxStartups 100:30:200", and for MaxStartups sshd keeps the
# LAST value: drop that line from the generated config and start it again
start_sshd ms "MaxStartups 3"
stop_sshd ms
sed -i '/^MaxStartups 100:30:200$/d' "$T/ms/config"
start_sshd ms
# (not piped into grep -q: with pipefail, sshd's SIGPIPE would fail the test)
"$SSHD" -T -f "$T/ms/config" >"$T/ms/effective"
grep -qix 'maxstartups 3:[0-9]*:3' "$T/ms/effective" ||
    fail "sshd does not run with MaxStartups 3"
TP=$(free_port)
start_echo "$TP"
# about 2 s per handshake: 8 handshakes in flight meet MaxStartups 3
RP=$(free_port)
start_relay "$RP" "$SSHD_PORT_ms" --rate 1500
host_key_line ms "[127.0.0.1]:$RP" >>"$T/known_hosts"
declare -a LP
{
	conf_header
	for i in $(seq 1 "$N"); do
		LP[$i]=$(free_port)
		tunnel_conf "m$i" ms "$RP"
		echo "    LocalForward 127.0.0.1:${LP[$i]} 127.0.0.1:$TP"
	done
} >"$T/tunsupd.conf"

t0=$SECONDS
start_tunsupd "$T/tunsupd.conf"
# all_up: every tunnel up, counted in one status reply
all_up() {
	ctl --json status | python3 -c '
import json, sys
ts = json.load(sys.stdin)["tunnels"]
up = sum(1 for t in ts if t["state"] == "up")
print("%d of %d up" % (up, len(ts)))
sys.exit(0 if up == len(ts) == int(sys.argv[1]) else 1)' "$N"
}
wait_for 60 all_up
secs=$((SECONDS - t0))
for i in $(seq 1 "$N"); do
	echo_check "${LP[$i]}" 1 1024 20 >/dev/null || fail "tunnel m$i: forward unusable"
done
drops=$(grep -c 'drop connection' "$T/ms/sshd.log" || true)
lines=$(grep -Ec 'MaxStartups|drop connection' "$T/ms/sshd.log" || true)
[ "$drops" -gt 0 ] || fail "sshd dropped no connection: the fault did not happen"
failures=$(ctl --json status | python3 -c '
import json, sys
print(sum(t["failures"] for t in json.load(sys.stdin)["tunnels"]))')
log "sshd: $lines lines about MaxStartups, $drops connections dropped; tunnel failures: $failures"
pass "$N tunnels up within ${secs} s behind MaxStartups 3 (sshd dropped $drops, failures $failures), all forwards work"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
