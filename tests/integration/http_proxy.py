#!/usr/bin/env python3
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
"""An HTTP CONNECT proxy on 127.0.0.1 for the ProxyCommand tests: each
request line is printed ("CONNECT host:port"), the target connected and the
bytes relayed both ways until either side closes; a target that refuses
gets "502 Bad Gateway".

usage: http_proxy.py PORT
"""
import socket
import sys
import threading


def pipe(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def serve(c):
    head = b""
    while b"\r\n\r\n" not in head:
        b = c.recv(4096)
        if not b:
            c.close()
            return
        head += b
    head, rest = head.split(b"\r\n\r\n", 1)
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    print(line, flush=True)
    parts = line.split()
    if len(parts) < 2 or parts[0] != "CONNECT":
        c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
        c.close()
        return
    host, port = parts[1].rsplit(":", 1)
    try:
        t = socket.create_connection((host.strip("[]"), int(port)), 5)
    except OSError:
        c.sendall(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
        c.close()
        return
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    if rest:
        t.sendall(rest)
    threading.Thread(target=pipe, args=(t, c), daemon=True).start()
    pipe(c, t)


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


main()
