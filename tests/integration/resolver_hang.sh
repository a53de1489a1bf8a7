#!/bin/bash
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# resolver_hang.sh: names are looked up off the loop on a few worker threads
# (tunsupd(8), "Name resolution"), and a DNS server that never answers holds
# up only the tunnels whose names it should answer.
# Runs in a network and mount namespace of its own (unshare -n -m): the
# test's /etc/hosts names good*.tunsup.test 127.0.0.1, nsswitch.conf says
# "files dns", and resolv.conf points at a UDP socket on 127.0.0.77:53
# that keeps every query unanswered until told (SIGUSR1) to answer the ones
# it holds with NXDOMAIN. Needs root and unshare.
# - while hung1's name hangs, good comes up, and hung1's retries (a
#   ConnectTimeout each) all wait on one lookup: tunsupd keeps at most 4
#   worker threads and sends one query for the name;
# - a reload that removes hung1 and adds hung2 and good2 during the hang:
#   good2 comes up; hung2 stopped while its lookup hangs stays stopped when
#   the answers come, and nothing is said about it;
# - SIGTERM with a lookup hanging: tunsupd exits at once (status 0; under
#   --enable-sanitizers LeakSanitizer finds nothing).
if [ -z "${TUNSUP_IN_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root" >&2; exit 77; }
	command -v unshare >/dev/null || { echo "SKIP: unshare not installed" >&2; exit 77; }
	exec unshare -n -m --propagation private env TUNSUP_IN_NETNS=1 bash "$0" "$@"
fi
. "$TESTLIB"
set -eu -o pipefail
ip link set lo up || fail "cannot bring lo up in the namespace"
tlib_init
# A worker still blocked in glibc's DNS send at exit (exit does not wait for a
# hung lookup) holds res_send's own query buffer, which LeakSanitizer reports
# now and then (a CI run): glibc's, not ours.
printf 'leak:res_context_send\n' >"$T/lsan.supp"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$T/lsan.supp"

printf '127.0.0.1 localhost\n127.0.0.1 good.tunsup.test good2.tunsup.test\n' >"$T/hosts"
printf 'hosts: files dns\n' >"$T/nsswitch.conf"
printf 'nameserver 127.0.0.77\noptions timeout:30 attempts:1\n' >"$T/resolv.conf"
for f in hosts nsswitch.conf resolv.conf; do
	mount --bind "$T/$f" "/etc/$f" || fail "cannot bind-mount /etc/$f"
done

# The silent DNS server: one line per query received ("QUERY name") into
# $T/dns.log; SIGUSR1 answers the held ones (NXDOMAIN), later ones are held.
cat >"$T/dns.py" <<'EOF'
import signal, socket, sys
log = open(sys.argv[1], "a", buffering=1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.77", 53))
held = []
def qname(d):
    i, labels = 12, []
    while i < len(d) and d[i]:
        labels.append(d[i + 1:i + 1 + d[i]].decode("ascii", "replace"))
        i += 1 + d[i]
    return ".".join(labels), i + 5
def answer(signum, frame):
    for d, peer in held:
        end = qname(d)[1]
        # same id and question, QR RD RA, NXDOMAIN, no other records
        s.sendto(d[:2] + b"\x81\x83" + b"\x00\x01" + b"\x00" * 6 + d[12:end], peer)
    log.write("ANSWERED %d\n" % len(held))
    held.clear()
signal.signal(signal.SIGUSR1, answer)
log.write("READY\n")
while True:
    try:
        d, peer = s.recvfrom(4096)
    except InterruptedError:
        continue
    held.append((d, peer))
    log.write("QUERY %s\n" % qname(d)[0])
EOF
: >"$T/dns.log"
python3 "$T/dns.py" "$T/dns.log" &
DNS_PID=$!
track "$DNS_PID"
wait_for 5 "grep -q READY '$T/dns.log'"

start_sshd srv
queries() { grep -c "^QUERY $1\$" "$T/dns.log" || true; }
threads() { ls "/proc/$TUNSUPD_PID/task" | wc -l; }

# conf NAME...: a tunnel NAME to NAME.tunsup.test for each (the sshd's host
# key known under the same name), retrying after a 1 s ConnectTimeout; hung3
# waits 30 s, so that it is still waiting when the answers come.
conf() {
	local n
	conf_header
	for n in "$@"; do
		tunnel_conf "$n" srv |
		    sed "s/HostName 127.0.0.1/HostName $n.tunsup.test/"
		if [ "$n" = hung3 ]; then
			echo "    ConnectTimeout 30"
		else
			echo "    ConnectTimeout 1"
		fi
		host_key_line srv "[$n.tunsup.test]:$(sshd_port srv)" >>"$T/known_hosts"
	done
}
conf hung1 good >"$T/tunsupd.conf"
start_tunsupd "$T/tunsupd.conf"
wait_for 5 "[ \$(queries hung1.tunsup.test) -ge 1 ]"
wait_state good up 10
pass "good comes up while hung1's DNS server does not answer"

# ConnectTimeout 1, RetryNetworkMax 1s: a retry every two seconds or so.
wait_for 20 "[ \"\$(tfield hung1 failures)\" -ge 4 ]"
[ "$(tstate hung1)" != up ] || fail "hung1 is up"
n=$(queries hung1.tunsup.test)
# A and AAAA: one lookup sends two queries.
[ "$n" -le 2 ] || fail "hung1: $n queries for $(tfield hung1 failures) attempts"
n=$(threads)
[ "$n" -le 5 ] || fail "tunsupd has $n threads (the loop and at most 4 workers)"
pass "hung1's $(tfield hung1 failures) attempts wait on one lookup; tunsupd has $n threads"

conf good good2 hung2 hung3 >"$T/tunsupd.conf"
ctl reload >/dev/null || fail "reload failed"
wait_state good2 up 10
[ "$(tstate good)" = up ] || fail "good is $(tstate good) after the reload"
ctl status hung1 >/dev/null 2>&1 && fail "hung1 still there after the reload"
wait_for 5 "[ \$(queries hung2.tunsup.test) -ge 1 ] && [ \$(queries hung3.tunsup.test) -ge 1 ]"
pass "a reload during the hang: hung1 removed, good2 up"

ctl stop hung2 >/dev/null || fail "stop hung2 failed"
[ "$(tstate hung2)" = stopped ] || fail "hung2 is $(tstate hung2)"
mark=$(wc -l <"$T/tunsupd.log")
kill -USR1 "$DNS_PID"
wait_for 5 "grep -q ANSWERED '$T/dns.log'"
# The answers reach the workers: hung3, still waiting, hears its own; the
# removed hung1 and the stopped hung2 hear nothing.
wait_for 10 "tfield hung3 last_error | grep -q 'cannot resolve hung3'"
[ "$(tstate hung2)" = stopped ] || fail "hung2 is $(tstate hung2) after its lookup answered"
if tail -n +"$mark" "$T/tunsupd.log" | grep 'hung1\|hung2.*resolv'; then
	fail "a cancelled lookup was heard of"
fi
pass "hung2 stopped during its lookup stays stopped when the answer comes"

# A lookup hanging at exit: hung2 again (a fresh query, held).
before=$(queries hung2.tunsup.test)
ctl start hung2 >/dev/null
wait_for 5 "[ \$(queries hung2.tunsup.test) -gt $before ]"
t0=$(_tlib_now_us)
rc=0
stop_tunsupd || rc=$?
ms=$((($(_tlib_now_us) - t0) / 1000))
[ "$rc" = 0 ] || { cat "$T/tunsupd.log" >&2; fail "tunsupd exited with status $rc"; }
[ "$ms" -lt 1500 ] || fail "tunsupd took ${ms} ms to exit with a lookup hanging"
if grep -q 'LeakSanitizer\|AddressSanitizer' "$T/tunsupd.log"; then
	fail "sanitizer report in the log"
fi
pass "SIGTERM with a lookup hanging: tunsupd exits in ${ms} ms, status 0"
