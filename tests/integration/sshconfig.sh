# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# SshConfig FILE: a tunnel names a host alias; HostName, Port, User,
# IdentityFile and UserKnownHostsFile come from an ssh_config file, values in
# the tunnel block win, and tunsupd -T shows the result.
. "$TESTLIB"
tlib_init

start_sshd bridge
BP=$(sshd_port bridge)
ECHO=$(free_port)
start_echo "$ECHO"
L=$(free_port)
cat >"$T/ssh_config" <<EOF2
Host other
    HostName 192.0.2.1
Host bri*
    HostName 127.0.0.1
    Port $BP
    User $(id -un)
    IdentityFile $T/id_ed25519
    UserKnownHostsFile $T/known_hosts
Host *
    Port 1
EOF2
cat >"$T/t.conf" <<EOF2
$(conf_header)
Tunnel viaalias
    HostName bridge-alias
    SshConfig $T/ssh_config
    IdentityAgent none
    LocalForward $L 127.0.0.1:$ECHO
EOF2
"$TUNSUPD" -T -f "$T/t.conf" >"$T/dump" || fail "tunsupd -T failed"
grep -qx "hostname 127.0.0.1" "$T/dump" || fail "-T hostname: $(grep hostname "$T/dump")"
grep -qx "port $BP" "$T/dump" || fail "-T port: $(grep '^port' "$T/dump")"
pass "tunsupd -T shows HostName and Port resolved through the ssh_config alias"

start_tunsupd "$T/t.conf"
wait_state viaalias up 15
echo_check "$L" 2 4096 || fail "echo through the aliased tunnel"
pass "a tunnel named by an ssh_config alias connects and forwards"
stop_tunsupd || fail "tunsupd exit status $?"

# ProxyJump naming another Host of the same file (the VPN-hub guide): the hop
# is resolved through the file as ssh -F resolves it, with its own HostName,
# Port, IdentityFile (the only key the hub takes), HostKeyAlias and
# UserKnownHostsFile (the hub's key only under its alias there); the hub lets
# that key on only to the site.
start_sshd hub
start_sshd site
HP=$(sshd_port hub)
SP=$(sshd_port site)
gen_key "$T/id_hub"
unauthorize hub
authorize hub "restrict,port-forwarding,permitopen=\"127.0.0.1:$SP\"" "$T/id_hub.pub"
host_key_line hub hub-key >"$T/kh_hub"
cat >"$T/hub_config" <<EOF2
Host site-*
    ProxyJump hub
    IdentityFile $T/id_ed25519
    UserKnownHostsFile $T/known_hosts
Host site-a
    HostName 127.0.0.1
    Port $SP
Host hub
    HostName 127.0.0.1
    Port $HP
    IdentityFile $T/id_hub
    HostKeyAlias hub-key
    UserKnownHostsFile $T/kh_hub
Host *
    User $(id -un)
    IdentitiesOnly yes
    BatchMode yes
    AddKeysToAgent yes
    IdentityAgent none
EOF2
chmod 600 "$T/hub_config"
ssh -F "$T/hub_config" site-a true </dev/null ||
	fail "the fixture: ssh -F hub_config site-a does not connect"
L2=$(free_port)
cat >"$T/hub.conf" <<EOF2
$(conf_header)
Tunnel hubsite
    HostName site-a
    SshConfig $T/hub_config
    IdentityAgent none
    LocalForward $L2 127.0.0.1:$ECHO
EOF2
"$TUNSUPD" -T -f "$T/hub.conf" >"$T/dump2" || fail "tunsupd -T failed"
grep -qx "proxyjump $(id -un)@127.0.0.1:$HP" "$T/dump2" ||
	fail "-T proxyjump: $(grep '^proxyjump' "$T/dump2")"
grep -qx "jumphost 1 hostkeyalias hub-key" "$T/dump2" ||
	fail "-T hop settings: $(grep '^jumphost' "$T/dump2")"
pass "tunsupd -T shows the hop resolved through the same file"
"$TUNSUPD" -t -f "$T/hub.conf" 2>"$T/t.err" || fail "tunsupd -t failed: $(cat "$T/t.err")"
[ "$(grep -c "hub_config:[0-9]*: ignored: AddKeysToAgent yes: " "$T/t.err")" = 1 ] ||
	fail "-t does not warn once about AddKeysToAgent: $(cat "$T/t.err")"
! grep -q "BatchMode" "$T/t.err" || fail "-t warns about BatchMode yes: $(cat "$T/t.err")"
pass "tunsupd -t names an ssh_config keyword it ignores, with its file:line"

start_tunsupd "$T/hub.conf"
wait_state hubsite up 15
echo_check "$L2" 2 4096 || fail "echo through the hub"
pass "ProxyJump to another Host of the SshConfig file: connected through the hop"
stop_tunsupd || fail "tunsupd exit status $?"
