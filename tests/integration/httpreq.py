#!/usr/bin/env python3
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
"""httpreq.py: raw HTTP requests to tunsupd's metrics endpoint (tests).

  httpreq.py PORT REQUEST       send REQUEST (Python escapes allowed: \\r\\n),
                                print the response until the server closes
  httpreq.py PORT --hold N FILE open N connections that send nothing, write
                                "ready" to FILE, then wait until each is closed
                                by the server and print the seconds it took
  httpreq.py PORT --drip        send a request one byte every 0.5 s; print what
                                came back and after how many seconds
"""
import socket, sys, time

port = int(sys.argv[1])


def connect():
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def read_all(s):
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            break
        if not b:
            break
        out += b
    return out


if sys.argv[2] == "--hold":
    n, ready = int(sys.argv[3]), sys.argv[4]
    conns = [connect() for _ in range(n)]
    t0 = time.monotonic()
    open(ready, "w").write("ready\n")
    for s in conns:
        read_all(s)
    print("%.1f" % (time.monotonic() - t0))
elif sys.argv[2] == "--drip":
    s = connect()
    t0 = time.monotonic()
    req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"y" * 100
    got = b""
    for c in req:
        try:
            s.send(bytes([c]))
        except (BrokenPipeError, ConnectionResetError):
            break
        s.settimeout(0.5)
        try:
            got = s.recv(65536)
            if not got:
                break
        except socket.timeout:
            pass
    print("%s %.1f" % ("closed" if not got else "answered", time.monotonic() - t0))
else:
    s = connect()
    s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
    sys.stdout.write(read_all(s).decode("utf-8", "replace"))
