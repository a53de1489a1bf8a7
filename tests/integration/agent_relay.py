#!/usr/bin/env python3
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
"""An ssh-agent in front of another, slow or silent, for the agent tests:
each request is passed to the agent at UPSTREAM after DELAY seconds and its
answer passed back; with "hang" instead of a delay, requests are read and
never answered. Prints "open" and "closed" for each client.

usage: agent_relay.py DELAY|hang LISTEN_PATH UPSTREAM_PATH
"""
import socket
import struct
import sys
import threading
import time


def read_msg(f):
    hdr = f.read(4)
    if len(hdr) < 4:
        return None
    return hdr + f.read(struct.unpack(">I", hdr)[0])


def serve(c, delay, upstream):
    print("open", flush=True)
    f = c.makefile("rb")
    u = None
    while True:
        msg = read_msg(f)
        if msg is None:
            break
        if delay == "hang":
            continue
        time.sleep(float(delay))
        if u is None:
            u = socket.socket(socket.AF_UNIX)
            u.connect(upstream)
            uf = u.makefile("rb")
        u.sendall(msg)
        c.sendall(read_msg(uf))
    print("closed", flush=True)
    c.close()


def main():
    delay, path, upstream = sys.argv[1:4]
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(8)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, delay, upstream),
                         daemon=True).start()


main()
