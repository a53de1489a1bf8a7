# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# DynamicForward (SOCKS4, SOCKS4a, SOCKS5 CONNECT; names resolved by the
# server side as curl --socks5-hostname expects), correct error replies, junk
# closed without disturbing the tunnel, and reverse SOCKS (RemoteForward with
# no target).
. "$TESTLIB"
tlib_init
need_tool curl

start_sshd bridge
mkdir -p "$T/www"
mkdata "$T/www/blob" 8
HTTP=$(free_port)
start_http "$HTTP" "$T/www"
D=$(free_port)
R=$(free_port)
{
	conf_header
	tunnel_conf s bridge
	echo "    DynamicForward $D"
	echo "    RemoteForward $R"
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state s up 15
[ "$(fwd_field s 0 kind)" = dynamic ] || fail "kind $(fwd_field s 0 kind)"
[ "$(fwd_field s 1 kind)" = remote-dynamic ] || fail "kind $(fwd_field s 1 kind)"

curl -sf --max-time 30 --socks5-hostname "127.0.0.1:$D" -o "$T/g1" \
    "http://localhost:$HTTP/blob" || fail "curl --socks5-hostname"
[ "$(sha "$T/g1")" = "$(sha "$T/www/blob")" ] || fail "SOCKS5 download corrupted"
pass "SOCKS5 with the name resolved on the server side: 8 MiB intact"
curl -sf --max-time 30 --socks4a "127.0.0.1:$D" -o "$T/g2" \
    "http://localhost:$HTTP/blob" || fail "curl --socks4a"
[ "$(sha "$T/g2")" = "$(sha "$T/www/blob")" ] || fail "SOCKS4a download corrupted"
curl -sf --max-time 30 --socks4 "127.0.0.1:$D" -o "$T/g3" \
    "http://127.0.0.1:$HTTP/blob" || fail "curl --socks4"
curl -sf --max-time 30 --socks5 "127.0.0.1:$D" -o "$T/g4" \
    "http://127.0.0.1:$HTTP/blob" || fail "curl --socks5 (IPv4 address)"
pass "SOCKS4a, SOCKS4 and SOCKS5 with an address"

# Raw protocol checks: error replies, junk, pipelined payload.
CLOSED=$(free_port)
python3 - "$D" "$CLOSED" "$HTTP" <<'PY' || fail "raw SOCKS checks"
import socket, struct, sys
d, closed, http = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def conn():
    s = socket.create_connection(("127.0.0.1", d), 10)
    s.settimeout(15)
    return s
def recv_all(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            break
        b += c
    return b
def closed_now(s):
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
# SOCKS5 to a closed port: reply 05 (connection refused) or 01.
s = conn(); s.sendall(b"\x05\x01\x00")
assert recv_all(s, 2) == b"\x05\x00"
s.sendall(b"\x05\x01\x00\x01\x7f\x00\x00\x01" + struct.pack(">H", closed))
r = recv_all(s, 10)
assert r[:2] in (b"\x05\x05", b"\x05\x01"), r
assert closed_now(s)
# SOCKS5 BIND: command not supported (07).
s = conn(); s.sendall(b"\x05\x01\x00"); recv_all(s, 2)
s.sendall(b"\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50")
assert recv_all(s, 10)[:2] == b"\x05\x07"
assert closed_now(s)
# No acceptable method: 05 FF.
s = conn(); s.sendall(b"\x05\x01\x02")
assert recv_all(s, 2) == b"\x05\xff"
assert closed_now(s)
# SOCKS4 to a closed port: 00 5b.
s = conn(); s.sendall(b"\x04\x01" + struct.pack(">H", closed) + b"\x7f\x00\x00\x01u\x00")
assert recv_all(s, 8)[:2] == b"\x00\x5b"
assert closed_now(s)
# Junk (HTTP at a SOCKS port): closed.
s = conn(); s.sendall(b"GET / HTTP/1.0\r\n\r\n")
assert closed_now(s)
# Pipelined: greeting, request and the HTTP request in one write.
s = conn()
req = b"GET /blob HTTP/1.0\r\nHost: x\r\n\r\n"
s.sendall(b"\x05\x01\x00" + b"\x05\x01\x00\x01\x7f\x00\x00\x01" + struct.pack(">H", http) + req)
assert recv_all(s, 2) == b"\x05\x00"
assert recv_all(s, 10)[:2] == b"\x05\x00"
body = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    body += c
assert body.startswith(b"HTTP/1.0 200"), body[:40]
assert len(body) > 8 * 1048576
PY
[ "$(tstate s)" = up ] || fail "tunnel left up after junk: $(tstate s)"
pass "error replies (refused, BIND, no method, SOCKS4 reject), junk closed, pipelined request works; tunnel up"

# Reverse SOCKS: a client on the bridge's side uses the remote port.
curl -sf --max-time 30 --socks5-hostname "127.0.0.1:$R" -o "$T/g5" \
    "http://localhost:$HTTP/blob" || fail "reverse SOCKS curl"
[ "$(sha "$T/g5")" = "$(sha "$T/www/blob")" ] || fail "reverse SOCKS download corrupted"
python3 - "$R" "$CLOSED" <<'PY' || fail "reverse SOCKS refused reply"
import socket, struct, sys
r, closed = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", r), 10); s.settimeout(15)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
s.sendall(b"\x05\x01\x00\x01\x7f\x00\x00\x01" + struct.pack(">H", closed))
rep = s.recv(10)
assert rep[:2] == b"\x05\x05", rep
PY
pass "reverse SOCKS (RemoteForward without a target): download intact, refused target answered 05"

[ "$(fwd_field s 0 connections_total)" = 5 ] || fail "dynamic connections_total $(fwd_field s 0 connections_total)"

# The server restarts: both proxies come back in a new session.
c0=$(tfield s connects)
restart_sshd bridge
connects_above() { [ "$(tfield "$1" connects)" -gt "$2" ]; }
wait_for 20 connects_above s "$c0"
wait_state s up 20
curl -sf --max-time 30 --socks5-hostname "127.0.0.1:$D" -o "$T/g6" \
    "http://localhost:$HTTP/blob" || fail "SOCKS after the server restart"
curl -sf --max-time 30 --socks5-hostname "127.0.0.1:$R" -o "$T/g7" \
    "http://localhost:$HTTP/blob" || fail "reverse SOCKS after the server restart"
[ "$(sha "$T/g6")" = "$(sha "$T/www/blob")" ] && [ "$(sha "$T/g7")" = "$(sha "$T/www/blob")" ] ||
	fail "downloads after the restart corrupted"
pass "both proxies survive a server restart"
stop_tunsupd || fail "tunsupd exit status $?"
pass "clean shutdown"
