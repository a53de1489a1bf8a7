# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# The ssh-agent is asked off the loop (tunsupd.conf(5), IdentityAgent): a key
# held only by an agent authenticates; an agent that takes its time holds up
# only its own tunnel (no loop turn over 100 ms, another tunnel restarts and
# comes up meanwhile); an agent that never answers is cut by ConnectTimeout,
# named in last_error, and its connection closed; the tunnel keeps retrying.
. "$TESTLIB"
set -eu -o pipefail
tlib_init
need_tool ssh-agent

start_sshd srv
gen_key "$T/id_agent"
cat "$T/id_agent.pub" >>"$T/srv/authorized_keys"
ssh-agent -D -a "$T/real.sock" >/dev/null 2>&1 &
track $!
wait_for 10 "[ -S '$T/real.sock' ]"
SSH_AUTH_SOCK=$T/real.sock ssh-add -q "$T/id_agent" 2>/dev/null || fail "ssh-add"
python3 "$TLIB_DIR/agent_relay.py" 0.5 "$T/slow.sock" "$T/real.sock" >"$T/slow.log" 2>&1 &
track $!
python3 "$TLIB_DIR/agent_relay.py" hang "$T/hang.sock" "$T/real.sock" >"$T/hang.log" 2>&1 &
track $!
wait_for 10 "[ -S '$T/slow.sock' ] && [ -S '$T/hang.sock' ]"

# agent_tunnel NAME SOCK: a tunnel whose only usable key is in the agent.
agent_tunnel() {
	tunnel_conf "$1" srv "" "$T/no_such_key" | grep -v IdentityAgent
	echo "    IdentityAgent $2"
}
{
	conf_header
	tunnel_conf quick srv
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state quick up 20
over0=$(loopf turns_over_100ms)

{
	conf_header
	tunnel_conf quick srv
	agent_tunnel slow "$T/slow.sock"
} >"$T/t.conf"
ctl reload >/dev/null
# Each of the agent's answers takes 0.5 s: meanwhile another tunnel restarts.
wait_for 10 'grep -q open "$T/slow.log"'
c0=$(tfield quick connects)
ctl restart quick >/dev/null
wait_for 10 '[ "$(tfield quick connects)" -gt '"$c0"' ] && [ "$(tstate quick)" = up ]'
wait_state slow up 20
fp=$(ssh-keygen -lf "$T/id_agent.pub" | awk '{ print $2 }')
grep -q "Accepted publickey for .* $fp" "$T/srv/sshd.log" ||
	fail "the server did not see the agent's key"
over1=$(loopf turns_over_100ms)
[ "$over1" = "$over0" ] ||
	fail "the loop stalled while the agent took its time: turns over 100 ms $over0 -> $over1"
pass "a slow agent: its key authenticates, no loop turn over 100 ms, another tunnel restarted meanwhile"

{
	conf_header
	tunnel_conf quick srv
	agent_tunnel hung "$T/hang.sock"
} >"$T/t.conf"
ctl reload >/dev/null
wait_for 15 '[ "$(tfield hung failures)" -ge 1 ]'
expect_error hung "^timeout during authentication after 3 s \(the agent at $T/hang.sock did not answer\)$" >/dev/null
wait_for 10 'grep -q closed "$T/hang.log"'
c0=$(tfield quick connects)
ctl restart quick >/dev/null
wait_for 10 '[ "$(tfield quick connects)" -gt '"$c0"' ] && [ "$(tstate quick)" = up ]'
wait_for 15 '[ "$(tfield hung failures)" -ge 2 ]'
over2=$(loopf turns_over_100ms)
[ "$over2" = "$over0" ] ||
	fail "the loop stalled while the agent was silent: turns over 100 ms $over0 -> $over2"
pass "an agent that never answers: cut by ConnectTimeout, its connection closed, retried; the loop never waited"
stop_tunsupd || fail "tunsupd exit status $?"
