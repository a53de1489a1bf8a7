# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# journald (tunsupd(8), LOGGING): when stderr is journald's stream
# (JOURNAL_STREAM), each line goes to journald's native socket with
# PRIORITY, SYSLOG_IDENTIFIER=tunsupd and TUNSUP_TUNNEL for a tunnel's line,
# the program's name not repeated in MESSAGE, a message of several lines
# (a reload's errors) one entry per line; without the socket, stderr lines
# carry "<N>" priorities. journald itself is not running here: a socket of
# the test's own stands in for it ($TUNSUP_JOURNAL_SOCKET).
. "$TESTLIB"
tlib_init

start_sshd srv
DEAD=$(free_port)
{
	conf_header
	tunnel_conf good srv
	tunnel_conf bad srv "$DEAD"
} >"$T/t.conf"

# journald's native socket: each datagram one JSON object a line
python3 -c '
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
while True:
    d = s.recv(65536).decode()
    out.write(json.dumps(dict(l.split("=", 1) for l in d.split("\n") if l)) + "\n")
' "$T/journal.sock" "$T/journal.jsonl" &
track $!
wait_for 10 "[ -S '$T/journal.sock' ]"

: >"$T/tunsupd.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/tunsupd.log") \
TUNSUP_JOURNAL_SOCKET=$T/journal.sock start_tunsupd "$T/t.conf"
wait_state good up 15
wait_for 15 '[ "$(tfield bad failures)" -ge 1 ]'
# entries KEY=VALUE|KEY=PREFIX*...: how many entries have all of those
entries() { python3 -c '
import json, sys
want = [a.split("=", 1) for a in sys.argv[2:]]
def ok(e, k, v):
    x = e.get(k)
    if x is None:
        return False
    return x.startswith(v[:-1]) if v.endswith("*") else x == v
print(sum(1 for l in open(sys.argv[1])
          if all(ok(json.loads(l), k, v) for k, v in want)))' "$T/journal.jsonl" "$@"; }
# what tunsupd wrote on its stderr (the test's own marker lines aside)
stream() { grep -v '^----- start' "$T/tunsupd.log" || true; }
[ "$(entries PRIORITY=4 TUNSUP_TUNNEL=bad "MESSAGE=tunnel bad: connect to 127.0.0.1 port $DEAD*")" -ge 1 ] ||
	fail "no warning entry for tunnel bad: $(grep '"bad"' "$T/journal.jsonl" | head -3)"
[ "$(entries PRIORITY=6 TUNSUP_TUNNEL=good "MESSAGE=tunnel good: connecting -> forwarding*")" = 1 ] ||
	fail "no info entry for tunnel good"
[ "$(entries SYSLOG_IDENTIFIER=tunsupd "MESSAGE=tunsupd 0*")" = 1 ] || fail "no start entry"
! grep -q 'tunsupd\[' "$T/journal.jsonl" || fail "the program's name is repeated in MESSAGE"
! grep -q '"TUNSUP_TUNNEL"' <(grep 'control: listening' "$T/journal.jsonl") ||
	fail "a daemon line carries TUNSUP_TUNNEL"
[ -z "$(stream)" ] || fail "lines went to the stream too: $(stream | head -3)"
pass "journald: PRIORITY, SYSLOG_IDENTIFIER and TUNSUP_TUNNEL fields, the name once, nothing on the stream"

# A reload (SIGHUP) with two errors: one entry a line, each complete.
{
	conf_header
	tunnel_conf good srv
	echo "    Port notaport"
	echo "    ServerAliveCountMax lots"
} >"$T/t.conf"
kill -HUP "$TUNSUPD_PID"
reload_errors() { entries "MESSAGE=$T/t.conf:*"; }
wait_for 10 '[ "$(reload_errors)" -ge 2 ]'
! grep -q '\\n' <(grep "$T/t.conf:" "$T/journal.jsonl") || fail "an entry spans lines"
n=$(reload_errors)
[ "$(entries PRIORITY=3 "MESSAGE=reload failed, keeping the running set:")" = 1 ] ||
	fail "no entry for the reload's failure itself"
pass "a reload's errors: one entry per line ($n)"
stop_tunsupd || fail "tunsupd exit status $?"

# Without journald's socket: "<N>" priorities on the stream.
: >"$T/tunsupd.log"
{
	conf_header
	tunnel_conf bad srv "$DEAD"
} >"$T/t.conf"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/tunsupd.log") \
TUNSUP_JOURNAL_SOCKET=$T/no-journal.sock start_tunsupd "$T/t.conf"
wait_for 15 '[ "$(tfield bad failures)" -ge 1 ]'
stream | grep -q "^<4>tunnel bad: connect to 127.0.0.1 port $DEAD" ||
	fail "no <4> line: $(stream | head -5)"
stream | grep -q "^<6>tunsupd 0" || fail "no <6> start line"
! stream | grep -q "tunsupd\[" || fail "the program's name on the stream"
pass "without journald's socket: <N> priorities on stderr"
stop_tunsupd || fail "tunsupd exit status $?"
