# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# RemoteForward 0: the port each forward reports (status bound_port) is the one
# sshd bound for that very request (tunsupd.conf(5), RemoteForward). Three
# RemoteForward 0 in one tunnel, each to its own target, through a relay that
# passes on what sshd sends every 0.4 s in one write; a watcher connects to every
# port sshd's session starts to listen on as soon as it appears, so that the
# channel open for it arrives together with sshd's reply to the listen request
# (as it does on a busy session). libssh 0.11.5 read the port from the last
# packet it decoded, here the channel open: the request failed with the port
# lost. The bundled libssh's global-request-reply-port patch keeps the reply's
# own port: every forward is up at once and its port reaches its own target.
# With any other libssh (--with-libssh=system) the forward says the reply was
# lost and asks again, and a port it reports is still its own.
. "$TESTLIB"
set -eu -o pipefail
tlib_init

start_sshd bridge
RELAY=$(free_port)
start_relay "$RELAY" "$SSHD_PORT_bridge" --hold 0.4
host_key_line bridge "[127.0.0.1]:$RELAY" >>"$T/known_hosts"

names="alpha beta gamma"
for n in $names; do
	p=$(free_port)
	_tlib_server pid "target $n" "$p" "$T/socat.log" \
	    socat "TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr,fork" "SYSTEM:echo $n"
	printf -v "TP_$n" '%s' "$p"
done

# the watcher: every TCP port a process of sshd's starts to listen on gets a
# connection at once (only sshd's: other tests may run on this machine)
python3 - "$SSHD_PID_bridge" "$SSHD_PORT_bridge" >"$T/watcher.log" 2>&1 <<'PY' &
import os, socket, sys, time
root, own = int(sys.argv[1]), int(sys.argv[2])
seen = set()
def children():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = set(), [root]
    while todo:
        p = todo.pop()
        out.add(p)
        todo.extend(kids.get(p, []))
    return out
def inodes(pids):
    ino = set()
    for p in pids:
        try:
            for fd in os.listdir("/proc/%d/fd" % p):
                t = os.readlink("/proc/%d/fd/%s" % (p, fd))
                if t.startswith("socket:["):
                    ino.add(t[8:-1])
        except OSError:
            pass
    return ino
while True:
    ino = inodes(children())
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            c = line.split()
            port = int(c[1].split(":")[1], 16)
            if c[3] == "0A" and c[9] in ino and port != own and port not in seen:
                seen.add(port)
                try:
                    s = socket.create_connection(("127.0.0.1", port), 2)
                    print("connected to %d" % port, flush=True)
                    s.close()
                except OSError as e:
                    print("port %d: %s" % (port, e), flush=True)
    time.sleep(0.005)
PY
track $!

{
	conf_header
	tunnel_conf zero bridge "$RELAY"
	for n in $names; do
		v=TP_$n
		echo "    RemoteForward 0 127.0.0.1:${!v}"
	done
} >"$T/t.conf"
start_tunsupd "$T/t.conf"

# each reported port reaches its own target: forward i is names[i]
own_target() {
	local i=0 n port got
	for n in $names; do
		port=$(fwd_field zero "$i" bound_port)
		if [ "$port" != null ]; then
			got=$(timeout 10 socat -u "TCP:127.0.0.1:$port" - 2>/dev/null) || got="(no answer)"
			[ "$got" = "$n" ] ||
			    fail "forward $i (to $n) reports port $port, which reaches '$got'"
		fi
		i=$((i + 1))
	done
}

if "$TUNSUPD" -V | sed -n 2p | grep -q 'global-request-reply-port\.patch'; then
	wait_state zero up 30
	grep -q "connected to" "$T/watcher.log" || fail "the watcher connected to nothing"
	# the race happened: a channel open came in with a reply, before the
	# forward knew its port (that connection is refused, harmlessly)
	grep -q "zero: server opened a channel for localhost:[0-9]*, which no forward of ours listens on" \
	    "$T/tunsupd.log" || fail "no channel open arrived with a reply: the test proves nothing"
	own_target
	! grep -q "zero: .* -> degraded" "$T/tunsupd.log" ||
	    fail "a forward was refused or lost on the way: $(grep -- '-> degraded' "$T/tunsupd.log")"
	pass "three RemoteForward 0 in one tunnel: each up at the first request, each port reaches its own target"
else
	wait_for 30 'grep -q "reply was lost by libssh" "$T/tunsupd.log"'
	own_target
	pass "with this libssh a lost RemoteForward 0 reply is named and retried; the ports reported are each forward's own"
fi

stop_tunsupd || fail "tunsupd exit status $?"
pass "clean shutdown"
