# systemd Type=notify: READY=1, STATUS= "N of M tunnels up" following the
# tunnels, WATCHDOG=1 from the loop when WATCHDOG_USEC is set, STOPPING=1 on
# SIGTERM. A python listener stands in for systemd's notify socket.
. "$TESTLIB"
tlib_init

start_sshd bridge
L=$(free_port)
ECHO=$(free_port)
start_echo "$ECHO"
python3 - "$T/notify.sock" "$T/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode() + "\n")
PY
track $!
wait_for 5 test -S "$T/notify.sock"
{
	conf_header
	tunnel_conf n bridge
	echo "    LocalForward $L 127.0.0.1:$ECHO"
} >"$T/t.conf"
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 start_tunsupd "$T/t.conf"
wait_state n up 15
wait_for 5 grep -qx "READY=1" "$T/notify.log"
wait_for 5 grep -qx "STATUS=1 of 1 tunnels up" "$T/notify.log"
pass "READY=1, then STATUS=1 of 1 tunnels up"
n1=$(grep -c "^WATCHDOG=1" "$T/notify.log" || true)
wait_for 5 sh -c "[ \$(grep -c '^WATCHDOG=1' '$T/notify.log') -ge $((n1 + 3)) ]"
pass "WATCHDOG=1 keeps coming from the loop"
ctl stop n >/dev/null
wait_for 5 grep -qx "STATUS=0 of 0 tunnels up" "$T/notify.log"
pass "STATUS follows the tunnels"
stop_tunsupd || fail "tunsupd exit status $?"
wait_for 5 grep -qx "STOPPING=1" "$T/notify.log"
pass "STOPPING=1 on SIGTERM"
