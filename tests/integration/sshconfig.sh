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
