# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# add_paste: `tunsupctl add` takes ssh and autossh lines as guides print them
# (the program and its path, AUTOSSH_* variables, autossh's -M, ssh's options
# before and after the host), against a real sshd; refusals quote the user's
# words; `add --print` prints a block that tunsupd -t loads.
set -eu
. "$TESTLIB"
tlib_init

start_sshd br
ME=$(id -un)

# The top level gives what the pasted lines leave to ~/.ssh: known hosts and
# no agent. The key comes from the line (-i, relative to the shell's cwd).
{
	conf_header
	echo "UserKnownHostsFile $T/known_hosts"
	echo "IdentityAgent none"
} >"$T/tunsupd.conf"

# banner PORT: the first line a connection to PORT reads (sshd's banner).
banner() {
	python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.settimeout(5)
print(s.recv(64).decode(errors="replace").splitlines()[0])
' "$1"
}

# no_add_location: no message points at "<add>", a line the user never saw.
no_add_location() {
	if grep -q '<add>' "$T/err" "$T/out"; then
		fail "a message names <add>: $(cat "$T/err")"
	fi
}

start_tunsupd "$T/tunsupd.conf"

bridge_guide() {
	local pr
	pr=$(free_port)
	# The bridge guide's autossh line, as pasted: autossh and its -M, -f,
	# -o both ways, TCPKeepAlive, options after the host, a relative -i.
	(cd "$T" && expect_rc 0 ctl add bridge autossh -M 0 -f -N \
	    -o "ServerAliveInterval 30" -o "ServerAliveCountMax 3" \
	    -o TCPKeepAlive=no -R "$pr:127.0.0.1:$SSHD_PORT_BR" \
	    "$ME@127.0.0.1" -p "$SSHD_PORT_BR" -i id_ed25519)
	grep -qx "note: -M 0: ignored: tunsupd probes the session itself (ServerAliveInterval) and each forward (ForwardProbe)" \
	    "$T/err" || fail "no note about -M: $(cat "$T/err")"
	wait_state bridge up 20
	wait_for 10 "port_listening $pr"
	case $(banner "$pr") in
	SSH-2.0-*) ;;
	*) fail "the remote forward does not reach its target" ;;
	esac
	[ "$(tfield bridge user)" = "$ME" ] || fail "user: $(tfield bridge user)"
	"$TUNSUPD" -T -f "$T/tunsupd.conf" >"$T/dump"
	awk '/^tunnel bridge$/ { t = 1 } t' "$T/dump" >"$T/bridge.dump"
	grep -qx "identityfile $T/id_ed25519" "$T/bridge.dump" ||
	    fail "the relative -i is not the shell's directory's: $(cat "$T/bridge.dump")"
	grep -qx "serveraliveinterval 30" "$T/bridge.dump" &&
	    grep -qx "serveralivecountmax 3" "$T/bridge.dump" ||
	    fail "the -o options: $(cat "$T/bridge.dump")"
	pass "the bridge guide's autossh line as pasted: the tunnel is up and its -R reaches sshd"
}

autossh_env() {
	local pl
	pl=$(free_port)
	expect_rc 0 ctl add envline AUTOSSH_GATETIME=0 AUTOSSH_POLL=30 \
	    /usr/bin/autossh -M 20000 -N -L "$pl:127.0.0.1:$SSHD_PORT_BR" \
	    -i "$T/id_ed25519" "$ME@127.0.0.1" -p "$SSHD_PORT_BR"
	grep -q "^note: AUTOSSH_GATETIME=0: ignored: tunsupd retries a failed first attempt too" "$T/err" &&
	    grep -qx "note: AUTOSSH_POLL=30: taken as ServerAliveInterval, unless the line sets that" "$T/err" ||
	    fail "notes: $(cat "$T/err")"
	wait_state envline up 20
	case $(banner "$pl") in
	SSH-2.0-*) ;;
	*) fail "the local forward does not reach its target" ;;
	esac
	"$TUNSUPD" -T -f "$T/tunsupd.conf" | awk '/^tunnel envline$/ { t = 1 } t' >"$T/env.dump"
	grep -qx "serveraliveinterval 30" "$T/env.dump" ||
	    fail "AUTOSSH_POLL with a monitoring port: $(cat "$T/env.dump")"
	pass "AUTOSSH_* variables and /usr/bin/autossh -M PORT: mapped or noted, the tunnel is up"
}

ssh_lines() {
	local pl pd
	pl=$(free_port)
	pd=$(free_port)
	expect_rc 0 ctl add four ssh -4 -N -L "$pl:127.0.0.1:$SSHD_PORT_BR" \
	    -i "$T/id_ed25519" -p "$SSHD_PORT_BR" "$ME@127.0.0.1"
	expect_rc 0 ctl add batch ssh -o BatchMode=yes -o ExitOnForwardFailure=yes \
	    -x -a -k -T -n -q -D "127.0.0.1:$pd" -i "$T/id_ed25519" \
	    -l "$ME" 127.0.0.1 -p "$SSHD_PORT_BR"
	wait_state four up 20
	wait_state batch up 20
	case $(banner "$pl") in
	SSH-2.0-*) ;;
	*) fail "ssh -4 -L: no forward" ;;
	esac
	wait_for 10 "port_listening $pd"
	pass "ssh -4 -N -L and ssh -o BatchMode=yes ... lines as pasted: both up"
}

refusals() {
	expect_rc 2 ctl add agent ssh -NfA -i "$T/id_ed25519" "$ME@127.0.0.1"
	grep -qx "tunsupctl: add: -A (in -NfA): refused: tunsupd never forwards an agent: the server could use your keys while the tunnel is up" \
	    "$T/err" || fail "-A: $(cat "$T/err")"
	expect_rc 2 ctl add stdio ssh -W db:5432 bastion
	grep -q "^tunsupctl: add: -W db:5432: refused: " "$T/err" || fail "-W: $(cat "$T/err")"
	expect_rc 2 ctl add cmd ssh -N host uptime
	grep -qx "tunsupctl: add: uptime: refused: tunsupd runs no remote command" "$T/err" ||
	    fail "remote command: $(cat "$T/err")"
	# The daemon's parser names the words too, not a line of a block.
	expect_rc 1 ctl add alive ssh -o ServerAliveInterval=often -N host
	grep -qx "tunsupctl: -o ServerAliveInterval=often: ServerAliveInterval: expected a time such as 30, 30s, 5m, 1h30m or 500ms, got 'often'" \
	    "$T/err" || fail "-o error: $(cat "$T/err")"
	no_add_location
	expect_rc 1 ctl add port ssh -N -p 0 host
	grep -qx "tunsupctl: -p 0: Port: expected a number from 1 to 65535, got '0'" "$T/err" ||
	    fail "-p error: $(cat "$T/err")"
	expect_rc 1 ctl add fwd ssh -N -L nonsense host
	grep -q "^tunsupctl: -L nonsense: LocalForward: " "$T/err" || fail "-L error: $(cat "$T/err")"
	no_add_location
	for n in agent stdio cmd alive port fwd; do
		expect_rc 1 ctl status "$n"
	done
	pass "refusals name the option the user wrote and why; nothing is added"
}

print_block() {
	local pr
	pr=$(free_port)
	# No daemon needed: the socket does not exist.
	(cd "$T" && expect_rc 0 "$TUNSUPCTL" -S "$T/nothing.sock" add --print printed \
	    autossh -M 0 -f -N -o "ServerAliveInterval 30" -o "ServerAliveCountMax 3" \
	    -o TCPKeepAlive=no -R "$pr:127.0.0.1:$SSHD_PORT_BR" "$ME@127.0.0.1" \
	    -p "$SSHD_PORT_BR" -i id_ed25519)
	head -1 "$T/out" | grep -qx "Tunnel printed" || fail "--print: $(cat "$T/out")"
	grep -qx "    RemoteForward $pr:127.0.0.1:$SSHD_PORT_BR" "$T/out" &&
	    grep -qx "    IdentityFile $T/id_ed25519" "$T/out" &&
	    grep -qx "    HostName 127.0.0.1" "$T/out" ||
	    fail "--print block: $(cat "$T/out")"
	grep -q "^note: -M 0: ignored" "$T/err" || fail "--print notes: $(cat "$T/err")"
	{ cat "$T/tunsupd.conf"; cat "$T/out"; } >"$T/printed.conf"
	"$TUNSUPD" -t -f "$T/printed.conf" 2>"$T/t.err" || fail "tunsupd -t: $(cat "$T/t.err")"
	"$TUNSUPD" -T -f "$T/printed.conf" | awk '/^tunnel printed$/ { t = 1 } t' >"$T/printed.dump"
	grep -qx "remoteforward localhost:$pr 127.0.0.1:$SSHD_PORT_BR" "$T/printed.dump" ||
	    fail "the printed block's dump: $(cat "$T/printed.dump")"
	expect_rc 1 ctl status printed
	# And the parser's refusals without a daemon too.
	expect_rc 1 "$TUNSUPCTL" -S "$T/nothing.sock" add --print p ssh -p 0 host
	grep -qx "tunsupctl: -p 0: Port: expected a number from 1 to 65535, got '0'" "$T/err" ||
	    fail "--print refusal: $(cat "$T/err")"
	pass "add --print prints a block tunsupd -t loads, with its notes, and adds nothing"
}

# What ssh would do and tunsupd does not is added with the note tunsupd -t
# would print as a warning, through the daemon and with --print.
catalogue_notes() {
	local pr
	pr=$(free_port)
	(cd "$T" && expect_rc 0 ctl add noted ssh -N -o ForwardX11=yes \
	    -o VisualHostKey=yes -R "$pr:127.0.0.1:$SSHD_PORT_BR" \
	    "$ME@127.0.0.1" -p "$SSHD_PORT_BR" -i id_ed25519)
	grep -qx "note: -o ForwardX11=yes: ignored: ForwardX11 yes: tunsupd never forwards X11" "$T/err" &&
	    grep -qx "note: -o VisualHostKey=yes: ignored: VisualHostKey yes: tunsupd shows no host key art" "$T/err" ||
	    fail "add: no catalogue notes: $(cat "$T/err")"
	wait_state noted up 20
	expect_rc 0 ctl remove noted
	expect_rc 0 "$TUNSUPCTL" -S "$T/nothing.sock" add --print p ssh -N \
	    -o SendEnv=LANG "$ME@127.0.0.1"
	grep -qx "note: -o SendEnv=LANG: ignored: SendEnv LANG: tunsupd never opens a session: no shell, command or terminal" "$T/err" ||
	    fail "add --print: no catalogue note: $(cat "$T/err")"
	pass "options tunsupd ignores are added with tunsupd -t's warning as a note (daemon and --print)"
}

bridge_guide
catalogue_notes
autossh_env
ssh_lines
refusals
print_block
