# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# The open files limit: tunsupd raises its soft RLIMIT_NOFILE to the hard
# limit at start (each tunnel takes a descriptor, each connection two), and
# says so at debug level.
. "$TESTLIB"
tlib_init

start_sshd srv
{
	conf_header
	tunnel_conf lim srv
} >"$T/t.conf"

# Started with a soft limit of 256 under a hard one of 4096 (exec keeps the pid).
cat >"$T/tunsupd-limited" <<EOF
#!/bin/bash
ulimit -Sn 256 && ulimit -Hn 4096 || exit 1
exec "$TUNSUPD" "\$@"
EOF
chmod +x "$T/tunsupd-limited"
TUNSUPD=$T/tunsupd-limited start_tunsupd "$T/t.conf"
lim=$(grep '^Max open files' "/proc/$TUNSUPD_PID/limits")
echo "$lim" | grep -Eq '^Max open files +4096 +4096 ' || fail "tunsupd limits: $lim"
pass "tunsupd raised its soft open files limit from 256 to the hard limit, 4096"
grep -q "open files limit: 4096 (soft limit was 256)" "$T/tunsupd.log" ||
	fail "no debug line about the limit"
pass "and logged it at debug level"
wait_state lim up 15
stop_tunsupd || fail "tunsupd exit status $?"
pass "clean shutdown"
