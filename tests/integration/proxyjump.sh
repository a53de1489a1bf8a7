# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# ProxyJump in process: each hop a session over a direct-tcpip channel of the
# previous one. Two jump hosts whose keys only allow the next hop
# (permitopen), an HTTP download through a LocalForward at the far end, the
# chain surviving a jump host's restart, a refused hop named in last_error,
# and a hop without user@ logged in as the local user (as ssh -J), not as
# the tunnel's User.
. "$TESTLIB"
tlib_init

start_sshd target
start_sshd j2
start_sshd j1
TP=$(sshd_port target)
J2=$(sshd_port j2)
J1=$(sshd_port j1)
me=$(id -un)
# The jump hosts are locked down: each only lets us on to the next hop.
unauthorize j1
authorize j1 "restrict,port-forwarding,permitopen=\"127.0.0.1:$J2\",permitlisten=\"255.255.255.255:9\",command=\"/bin/false\"" "$T/id_ed25519.pub"
unauthorize j2
authorize j2 "restrict,port-forwarding,permitopen=\"127.0.0.1:$TP\",permitlisten=\"255.255.255.255:9\",command=\"/bin/false\"" "$T/id_ed25519.pub"

mkdir -p "$T/www"
mkdata "$T/www/blob" 32
HTTP=$(free_port)
start_http "$HTTP" "$T/www"
L=$(free_port)
{
	conf_header
	tunnel_conf chain target
	echo "    ProxyJump $me@127.0.0.1:$J1,$me@127.0.0.1:$J2"
	echo "    LocalForward $L 127.0.0.1:$HTTP"
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state chain up 20
[ "$(ctl --json status | jget 'tunnels[name=chain].jumps[1]')" = "$me@127.0.0.1:$J2" ] ||
	fail "status does not list the hops"
http_get "$L" blob "$T/got" || fail "HTTP download through the chain"
[ "$(sha "$T/got")" = "$(sha "$T/www/blob")" ] || fail "download corrupted"
pass "two locked-down jump hosts: 32 MiB HTTP download intact through the chain"

# authorized-keys gives a line for every host of the chain: installed on
# each, the chain still works.
ctl authorized-keys chain "$T/id_ed25519.pub" >"$T/ak" || fail "authorized-keys chain"
[ "$(grep -vc '^#' "$T/ak")" = 3 ] || fail "authorized-keys chain: $(cat "$T/ak")"
grep -qx "# jump host 1 of 2, $me@127.0.0.1:$J1: on to 127.0.0.1:$J2 only" "$T/ak" ||
	fail "no comment for the first hop: $(cat "$T/ak")"
grep -v '^#' "$T/ak" | sed -n 1p >"$T/j1/authorized_keys"
grep -v '^#' "$T/ak" | sed -n 2p >"$T/j2/authorized_keys"
grep -v '^#' "$T/ak" | sed -n 3p >"$T/target/authorized_keys"
grep -q "permitopen=\"127.0.0.1:$TP\"" "$T/j2/authorized_keys" ||
	fail "j2's line does not open the target: $(cat "$T/j2/authorized_keys")"
grep -q "permitopen=\"127.0.0.1:$HTTP\"" "$T/target/authorized_keys" ||
	fail "the target's line does not open the forward's target"
c0=$(tfield chain connects)
ctl restart chain >/dev/null
wait_for 20 '[ "$(tfield chain connects)" -gt '"$c0"' ] && [ "$(tstate chain)" = up ]'
http_get "$L" blob "$T/got1" || fail "HTTP download with the generated lines"
[ "$(sha "$T/got1")" = "$(sha "$T/www/blob")" ] || fail "download corrupted"
pass "authorized-keys: one line per host of the chain, each opening only the next; installed, the chain works"

# The middle hop restarts: the chain is rebuilt.
c0=$(tfield chain connects)
stop_sshd j2
not_up() { [ "$(tstate "$1")" != up ]; }
wait_for 15 not_up chain
restart_sshd j2
wait_state chain up 20
[ "$(tfield chain connects)" -gt "$c0" ] || fail "connects did not grow"
http_get "$L" blob "$T/got2" || fail "HTTP download after the restart"
[ "$(sha "$T/got2")" = "$(sha "$T/www/blob")" ] || fail "download corrupted after restart"
pass "a jump host restart: the chain reconnects and carries data again"

# A hop that refuses the next one: last_error names the jump host.
P2=$(free_port)
{
	conf_header
	tunnel_conf chain target
	echo "    ProxyJump $me@127.0.0.1:$J1,$me@127.0.0.1:$J2"
	echo "    LocalForward $L 127.0.0.1:$HTTP"
	tunnel_conf badhop target "$P2"
	echo "    ProxyJump $me@127.0.0.1:$J2"
} >"$T/t.conf"
ctl reload >/dev/null || fail "reload"
has_jump_error() { tfield badhop last_error | grep -q "jump host $me@127.0.0.1:$J2: cannot reach"; }
wait_for 15 has_jump_error
[ "$(tstate badhop)" != up ] || fail "badhop is up"
pass "a refused hop: last_error names the jump host ($(tfield badhop last_error | cut -c1-80)...)"

# A hop without user@: the local user there, the tunnel's User at the end.
if [ "$(id -u)" = 0 ]; then
	other=nobody
	{
		conf_header
		tunnel_conf chain target
		echo "    ProxyJump $me@127.0.0.1:$J1,$me@127.0.0.1:$J2"
		echo "    LocalForward $L 127.0.0.1:$HTTP"
		# tunnel_conf's User first would win: this block names its own
		tunnel_conf hopuser target | sed "s/^    User .*/    User $other/"
		echo "    ProxyJump 127.0.0.1:$J2"
	} >"$T/t.conf"
	ctl reload >/dev/null || fail "reload"
	# The target cannot let $other in (it may not read the test's
	# authorized_keys): its attempt there is what shows.
	wait_for 20 grep -q "publickey for $other from" "$T/target/sshd.log"
	[ "$(ctl --json status | jget 'tunnels[name=hopuser].jumps[0]')" = "$me@127.0.0.1:$J2" ] ||
		fail "status names the hop as $(ctl --json status | jget 'tunnels[name=hopuser].jumps[0]')"
	! grep -q "for $other from" "$T/j2/sshd.log" || fail "j2 saw a login as $other"
	tfield hopuser last_error | grep -q "^authentication failed for user $other:" ||
		fail "last_error: $(tfield hopuser last_error)"
	pass "a hop without user@: $me on the hop, $other (User) on the target"
else
	# Without root no second account can log in: the hop's user is still ours.
	{
		conf_header
		tunnel_conf hopuser target
		echo "    ProxyJump 127.0.0.1:$J2"
	} >"$T/t.conf"
	ctl reload >/dev/null || fail "reload"
	wait_state hopuser up 20
	[ "$(ctl --json status | jget 'tunnels[name=hopuser].jumps[0]')" = "$me@127.0.0.1:$J2" ] ||
		fail "status names the hop wrongly"
	pass "a hop without user@: logged in as $me"
fi

stop_tunsupd || fail "tunsupd exit status $?"
pass "clean shutdown"
