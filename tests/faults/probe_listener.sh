# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# probe_listener (fault suite): the server's listener of a RemoteForward stops
# working while the session lives (a firewall there now refuses connections
# to it). Keepalives still pass; only ForwardProbe can notice. The forward must
# go failed (tunnel degraded, same session), and come back by itself (cancel,
# listen again, probe) once the path works, with no reconnect.
#
# All of it runs in a network namespace of its own (unshare -n), so the
# firewall rule (nft) touches nothing outside this test.
: "${TLIB_TIMEOUT:=120}"
if [ -z "${TUNSUP_IN_NETNS:-}" ]; then
	exec unshare -n env TUNSUP_IN_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
. "$TESTLIB"
set -eu -o pipefail
tlib_init
need_tool nft

start_sshd bridge
ECHO=$(free_port)
start_echo "$ECHO"
P=$(free_port)
{
	conf_header
	tunnel_conf v bridge
	echo "    RemoteForward $P 127.0.0.1:$ECHO"
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state v up 15
probes_over() { [ "$(fwd_field v 0 probes_ok)" -gt "$1" ]; }
wait_for 10 probes_over 0
c0=$(tfield v connects)

# The listener stops answering: connections to it are refused.
nft add table inet tunsup_test
nft add chain inet tunsup_test out '{ type filter hook output priority 0; }'
nft add rule inet tunsup_test out tcp dport "$P" reject with tcp reset
probe_failed() { case $(fwd_field v 0 error) in probe:*) ;; *) return 1;; esac; }
wait_for 15 probe_failed
[ "$(tfield v connects)" = "$c0" ] || fail "the session was replaced"
pass "a broken server-side listener is caught by the probe (forward error 'probe: ...'), same session"

# The path works again: the forward is asked for anew and comes back.
n0=$(fwd_field v 0 probes_ok)
nft delete table inet tunsup_test
wait_state v up 20
wait_for 10 probes_over "$n0"
[ "$(tfield v connects)" = "$c0" ] || fail "reconnected instead of re-listening"
echo_check "$P" 2 4096 || fail "echo through the forward after it came back"
pass "once the path works the forward is listened for again in the same session, probed ok, carries data"
stop_tunsupd || fail "tunsupd exit status $?"
