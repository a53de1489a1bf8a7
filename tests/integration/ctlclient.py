#!/usr/bin/env python3
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
"""A raw control-protocol client for the tunsup integration tests (stdlib only).

    ctlclient.py SOCK request JSON_LINE     send one line, print the reply line
    ctlclient.py SOCK concurrent N M        N clients at once, M requests each
    ctlclient.py SOCK slow                  half lines held while others are served
    ctlclient.py SOCK junk                  bad UTF-8, deep nesting, oversized lines
    ctlclient.py SOCK pipeline              requests pipelined, replies unread
    ctlclient.py SOCK flood TUNNEL          a subscriber that never reads is cut off
    ctlclient.py SOCK denied UID            (as root) become UID, be refused

Each mode exits 0 and prints one "ok - ..." line per check, or exits 1 with
"FAIL: ..." on stderr. Every wait has a deadline.
"""

import json
import os
import socket
import sys
import threading
import time

LINE_MAX = 64 * 1024
TIMEOUT = 20.0


def fail(msg):
    sys.stderr.write("FAIL: %s\n" % msg)
    sys.stderr.flush()
    os._exit(1)


def ok(msg):
    print("ok - %s" % msg, flush=True)


class Client:
    def __init__(self, path, timeout=TIMEOUT):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A blocking connect waits for room in a full listen backlog; a
        # non-blocking one (as a timeout makes it) fails with EAGAIN.
        self.s.connect(path)
        self.s.settimeout(timeout)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.s.sendall(data)

    def request(self, obj):
        self.send(json.dumps(obj) + "\n")
        return self.reply()

    def line(self):
        """The next line (bytes, without newline), or None at EOF."""
        while b"\n" not in self.buf:
            try:
                data = self.s.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def reply(self):
        line = self.line()
        if line is None:
            fail("the daemon closed the connection instead of replying")
        try:
            obj = json.loads(line.decode("utf-8"))
        except ValueError as e:
            fail("reply is not JSON (%s): %r" % (e, line[:200]))
        if not isinstance(obj, dict) or not isinstance(obj.get("ok"), bool):
            fail("reply without a boolean ok: %r" % line[:200])
        return obj

    def expect_eof(self, what):
        """Read until EOF: the daemon must close this connection."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            if time.monotonic() > deadline:
                fail("%s: connection not closed" % what)
            try:
                data = self.s.recv(65536)
            except ConnectionResetError:
                return
            except socket.timeout:
                fail("%s: connection not closed" % what)
            if not data:
                return
            self.buf += data

    def close(self):
        self.s.close()


def alive(path, what):
    c = Client(path)
    r = c.request({"cmd": "hello", "id": "alive"})
    c.close()
    if r.get("ok") is not True or r.get("id") != "alive":
        fail("daemon not answering after %s: %r" % (what, r))


def mode_request(path, line):
    c = Client(path)
    c.send(line + "\n")
    got = c.line()
    if got is None:
        fail("no reply")
    print(got.decode("utf-8", "replace"))


def mode_concurrent(path, n, m):
    """n clients connected at once, each sending m requests, some pipelined."""
    barrier = threading.Barrier(n, timeout=60)
    errors = []
    counts = [0] * n

    def one(i):
        try:
            c = Client(path, timeout=60)
            barrier.wait()
            reqs = []
            for j in range(m):
                rid = "%d-%d" % (i, j)
                kind = j % 4
                if kind == 0:
                    reqs.append(({"cmd": "hello", "id": rid}, True))
                elif kind == 1:
                    reqs.append(({"cmd": "status", "id": j}, True))
                elif kind == 2:
                    reqs.append(({"cmd": "nope%d" % i, "id": rid}, False))
                else:
                    reqs.append(({"id": rid, "cmd": "status",
                                  "tunnel": "a"}, True))
            # The first half pipelined in one write, the rest one by one.
            half = m // 2
            c.send("".join(json.dumps(r) + "\n" for r, _ in reqs[:half]))
            for req, want in reqs[:half]:
                check(c.reply(), req, want)
                counts[i] += 1
            for req, want in reqs[half:]:
                check(c.request(req), req, want)
                counts[i] += 1
            c.close()
        except Exception as e:  # noqa: BLE001 - report any failure
            errors.append("client %d: %r" % (i, e))

    def check(reply, req, want):
        if reply.get("id") != req["id"]:
            raise AssertionError("id %r answered as %r" % (req["id"],
                                                           reply.get("id")))
        if reply["ok"] is not want:
            raise AssertionError("%r: %r" % (req, reply))
        if req["cmd"] == "status" and want and \
                not isinstance(reply.get("tunnels"), list):
            raise AssertionError("status without tunnels: %r" % reply)
        if not want and reply.get("error") != "unknown command: %s" % \
                req["cmd"]:
            raise AssertionError("wrong error: %r" % reply)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        fail("%d of %d clients failed, first: %s" % (len(errors), n,
                                                      errors[0]))
    total = sum(counts)
    if total != n * m:
        fail("%d of %d requests answered" % (total, n * m))
    ok("%d concurrent clients x %d requests: %d replies with matching ids"
       % (n, m, total))


def mode_slow(path):
    slow = [Client(path) for _ in range(20)]
    # Each slow client sends half a request and waits.
    for i, c in enumerate(slow):
        c.send('{"cmd":"hello","id":%d' % i)
    fast = Client(path)
    for j in range(50):
        r = fast.request({"cmd": "status", "id": j})
        if r.get("id") != j or r["ok"] is not True:
            fail("fast client got %r" % r)
    ok("a client is served while 20 others hold half a line")
    # Byte by byte for one of them, then the rest complete.
    rest = "}\n"
    for ch in rest:
        slow[0].send(ch)
        time.sleep(0.001)
    r = slow[0].reply()
    if r.get("id") != 0 or r["ok"] is not True:
        fail("slow client 0 got %r" % r)
    for i, c in enumerate(slow[1:], 1):
        c.send(rest)
    for i, c in enumerate(slow[1:], 1):
        r = c.reply()
        if r.get("id") != i or r["ok"] is not True:
            fail("slow client %d got %r" % (i, r))
        c.close()
    ok("half lines completed later are answered, ids in order")
    # A reply is not sent before its line is complete.
    c = slow[0]
    c.send('{"cmd":"hello","id":"x"')
    c.s.settimeout(0.3)
    try:
        data = c.s.recv(100)
        fail("reply to an incomplete line: %r" % data)
    except socket.timeout:
        pass
    c.s.settimeout(TIMEOUT)
    c.send("}\r\n")
    if c.reply().get("id") != "x":
        fail("CRLF line not answered")
    ok("no reply before the newline; CRLF accepted")


def mode_junk(path):
    c = Client(path)

    def bad(data, what, needle):
        c.send(data)
        r = c.reply()
        if r["ok"] is not False or needle not in r.get("error", ""):
            fail("%s: %r" % (what, r))

    bad(b'{"cmd":"\xff\xfe\xfd"}\n', "invalid UTF-8", "invalid JSON")
    bad(b"\xc3\x28\x00\x01garbage\n", "binary junk", "invalid JSON")
    # Deeper than jansson's limit, shorter than a line.
    bad(b"[" * 30000 + b"]" * 30000 + b"\n", "deep nesting", "invalid JSON")
    bad(b'{"a":' * 10000 + b"1" + b"}" * 10000 + b"\n", "deep objects",
        "invalid JSON")
    bad(b'{"cmd":"hello"} {"cmd":"hello"}\n', "two objects on a line",
        "invalid JSON")
    bad(b'[{"cmd":"hello"}]\n', "an array", "must be a JSON object")
    bad(b'"hello"\n', "a string", "must be a JSON object")
    bad(b'{"cmd":42}\n', "cmd not a string", "cmd must be a string")
    bad(b'{"cmd":"stop","tunnel":{}}\n', "tunnel not a string",
        "must be a string")
    bad(b'{"cmd":"stop"}\n', "missing tunnel", "missing argument: tunnel")
    bad(b'{"cmd":"\\u0000"}\n', "NUL in cmd", "")
    c.send(b"\n\n   \n")
    r = c.request({"cmd": "hello", "id": 1})
    if r.get("id") != 1 or r["ok"] is not True:
        fail("connection unusable after junk: %r" % r)
    ok("junk lines get error replies and the connection stays usable")

    other = Client(path)
    # Exactly the limit is fine.
    pad = LINE_MAX - len('{"cmd":"hello","id":2,"p":""}')
    line = '{"cmd":"hello","id":2,"p":"%s"}' % ("x" * pad)
    assert len(line) == LINE_MAX
    c.send(line + "\n")
    r = c.reply()
    if r.get("id") != 2 or r["ok"] is not True:
        fail("a line of exactly 64 KiB refused: %r" % r)
    ok("a line of exactly 64 KiB is accepted")

    # One byte more, sent in pieces: error reply, then the connection closes.
    big = b'{"cmd":"hello","p":"' + b"y" * LINE_MAX + b'"}\n'
    try:
        for k in range(0, len(big), 7000):
            c.send(big[k:k + 7000])
    except (BrokenPipeError, ConnectionResetError):
        pass
    got = c.line()
    if got is None:
        fail("oversized line: closed without an error reply")
    r = json.loads(got)
    if r.get("ok") is not False or "too long" not in r.get("error", ""):
        fail("oversized line: %r" % r)
    c.expect_eof("oversized line")
    ok("an oversized line gets an error reply and the connection is closed")

    r = other.request({"cmd": "hello", "id": "o"})
    if r.get("id") != "o":
        fail("other client broken: %r" % r)
    # A never-ending line without a newline is cut off too.
    c2 = Client(path)
    try:
        for _ in range(200):
            c2.send(b"z" * 4096)
    except (BrokenPipeError, ConnectionResetError):
        pass
    got = c2.line()
    if got is None or b"too long" not in got:
        fail("endless line: %r" % got)
    c2.expect_eof("endless line")
    ok("a line that never ends is cut off at the limit")

    # Half a request and a hang-up, and a reset in the middle of a reply.
    c3 = Client(path)
    c3.send('{"cmd":"sta')
    c3.close()
    c4 = Client(path)
    c4.send('{"cmd":"status"}\n' * 200)
    c4.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    c4.close()
    alive(path, "junk")
    ok("the daemon answers after all of that")


def mode_flood(path, tunnel):
    """A subscriber that never reads is disconnected; others keep working."""
    sub = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sub.settimeout(TIMEOUT)
    sub.connect(path)
    sub.sendall(b'{"cmd":"subscribe","id":"s"}\n')

    ctl = Client(path)
    cut = False
    rounds = 0
    deadline = time.monotonic() + 60
    batch = 100
    while not cut:
        if time.monotonic() > deadline:
            fail("subscriber not disconnected after %d stop/start rounds"
                 % rounds)
        reqs = []
        for k in range(batch):
            reqs.append('{"cmd":"start","tunnel":"%s","id":%d}\n'
                        % (tunnel, 2 * k))
            reqs.append('{"cmd":"stop","tunnel":"%s","id":%d}\n'
                        % (tunnel, 2 * k + 1))
        ctl.send("".join(reqs))
        for k in range(2 * batch):
            r = ctl.reply()
            if r.get("id") != k or r["ok"] is not True:
                fail("control client during the flood: %r" % r)
        rounds += batch
        # Has the daemon dropped the subscriber? Peek without reading:
        # its socket reports EOF only once the daemon closed it and the
        # buffered bytes were consumed, so test with a zero-byte send.
        try:
            sub.send(b"\n", socket.MSG_DONTWAIT)
        except (BlockingIOError, socket.timeout):
            pass    # the daemon is not reading it, but it is connected
        except (BrokenPipeError, ConnectionResetError):
            cut = True
    ok("a subscriber that never reads is disconnected (%d stop/start rounds)"
       % rounds)

    # What it did receive is whole lines: the subscribe reply, then events.
    data = b""
    sub.settimeout(5)
    while True:
        try:
            chunk = sub.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
    lines = data.split(b"\n")[:-1]
    if not lines:
        fail("the subscriber received nothing")
    first = json.loads(lines[0])
    if first.get("id") != "s" or first.get("ok") is not True:
        fail("first line is not the subscribe reply: %r" % lines[0])
    for ln in lines[1:]:
        ev = json.loads(ln)
        if ev.get("event") not in ("state", "forward") or \
                ev.get("tunnel") != tunnel:
            fail("not an event: %r" % ln[:200])
    ok("the subscriber got %d whole event lines before the cut"
       % (len(lines) - 1))
    r = ctl.request({"cmd": "status", "tunnel": tunnel, "id": "after"})
    if r.get("id") != "after" or r["ok"] is not True:
        fail("status after the flood: %r" % r)
    alive(path, "the flood")
    ok("the daemon keeps answering")


def mode_pipeline(path):
    """Requests pipelined by a client that does not read its replies: the
    daemon stops reading it instead of buffering without bound, serves
    others meanwhile, and later answers every request in order."""
    import select
    c = Client(path)
    c.s.setblocking(False)
    sent = 0          # bytes
    pending = b""
    nreq = 0
    limit = 64 * 1024 * 1024
    while True:
        if not pending:
            pending = b"".join(b'{"cmd":"status","id":%d}\n' % (nreq + k)
                               for k in range(1000))
            nreq += 1000
        try:
            n = c.s.send(pending)
            sent += n
            pending = pending[n:]
        except BlockingIOError:
            _, w, _ = select.select([], [c.s], [], 1.0)
            if not w:
                break       # not read for a second: the daemon holds off
        if sent > limit:
            fail("the daemon read %d bytes of requests without any reply "
                 "being read" % sent)
    ok("a client that does not read its replies is not read either "
       "(%d KiB of requests taken)" % (sent // 1024))
    alive(path, "a pipelining client")
    ok("others are served meanwhile")

    # Send the rest in the background, read every reply in order.
    c.s.setblocking(True)
    c.s.settimeout(60)
    t = threading.Thread(target=c.s.sendall, args=(pending,))
    t.start()
    for k in range(nreq):
        r = c.reply()
        if r.get("id") != k or r["ok"] is not True:
            fail("reply %d: %r" % (k, {x: r.get(x) for x in ("ok", "id")}))
    t.join(60)
    c.close()
    ok("all %d pipelined requests answered in order" % nreq)


def mode_denied(path, uid):
    # Become another user (we are root), then knock.
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.geteuid() != uid:
        fail("could not become uid %d" % uid)
    c = Client(path)
    line = c.line()
    if line is None:
        fail("refused without an error line")
    r = json.loads(line)
    if r.get("ok") is not False or "permission denied" not in \
            r.get("error", ""):
        fail("refused peer got %r" % r)
    c.expect_eof("refused peer")
    ok("a peer of another uid is refused with an error line")


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    path, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if mode == "request":
        mode_request(path, args[0])
    elif mode == "concurrent":
        mode_concurrent(path, int(args[0]), int(args[1]))
    elif mode == "slow":
        mode_slow(path)
    elif mode == "junk":
        mode_junk(path)
    elif mode == "flood":
        mode_flood(path, args[0])
    elif mode == "pipeline":
        mode_pipeline(path)
    elif mode == "denied":
        mode_denied(path, int(args[0]))
    else:
        fail("unknown mode %s" % mode)


if __name__ == "__main__":
    main()
