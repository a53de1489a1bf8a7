# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# non_utf8: text that is not UTF-8 (here a HostName with two such bytes, as the
# report had it) never makes a tunnel vanish from status or its events from
# watch: the daemon writes such bytes as \xNN.
. "$TESTLIB"
tlib_init

start_sshd bridge
DEAD=$(free_port)
{
	conf_header
	tunnel_conf good bridge
	# the last error quotes the name: resolving it fails
	printf 'Tunnel odd\n    HostName bad\377\376.invalid\n    Port %s\n' "$DEAD"
} >"$T/t.conf"
"$TUNSUPD" -t -f "$T/t.conf" >/dev/null || fail "tunsupd -t refuses the file"
start_tunsupd "$T/t.conf"
"$TUNSUPCTL" -S "$SOCK" --json watch >"$T/watch.out" 2>&1 &
track $!
wait_state good up 15
# the first attempt failed: its error quotes the name
wait_for 15 'tfield odd last_error | grep -q bad'

[ "$(tfield odd host)" = 'bad\xff\xfe.invalid' ] || fail "host: $(tfield odd host)"
tfield odd last_error | grep -qF 'bad\xff\xfe.invalid' ||
	fail "last_error: $(tfield odd last_error)"
expect_rc 1 ctl status	# odd is not up
grep -q '^odd ' "$T/out" || fail "odd missing from the status table: $(cat "$T/out")"
pass "a tunnel whose HostName is not UTF-8 stays in status, the bytes as \\xNN"

# the whole reply is valid JSON and UTF-8, and so is every event line
ctl --json status | python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))' ||
	fail "status is not valid UTF-8 JSON"
restart_rc=0
ctl restart odd || restart_rc=$?
[ "$restart_rc" = 0 ] || fail "restart odd: exit $restart_rc"
wait_for 10 grep -q '"tunnel":"odd".*"to":"connecting"' "$T/watch.out"
python3 - "$T/watch.out" <<'PY' || fail "an event line is not valid UTF-8 JSON"
import json, sys
for line in open(sys.argv[1], "rb"):
    json.loads(line.decode("utf-8"))
PY
pass "its events reach watch, every line valid UTF-8 JSON"
