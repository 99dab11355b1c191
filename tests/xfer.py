#!/usr/bin/env python3
"""Transfers over MPTCP or TCP for the VM tests.

  xfer.py server PORT [--proto mptcp|tcp] [--family 4|6]
  xfer.py client ADDR PORT BYTES [--proto mptcp|tcp] [--family 4|6]
  xfer.py recv-hex PORT [--proto ...] [--family ...]
  xfer.py send-hex ADDR PORT HEX[,HEX...] [--pause S] [--proto ...] [--family ...]

server/client: the client sends BYTES pseudo-random bytes and shuts down its
write side; the server echoes everything back. Each side prints `sent N
sha256 H` and `received N sha256 H`, so the test can compare both directions.

recv-hex/send-hex: one connection carries exactly the given bytes (chunks
separated by commas are sent --pause seconds apart); the receiver prints
what arrived as `received HEX`.
"""
import argparse
import hashlib
import random
import socket
import sys
import time

IPPROTO_MPTCP = 262
CHUNK = 65536


def make_socket(args):
    family = socket.AF_INET6 if args.family == 6 else socket.AF_INET
    proto = IPPROTO_MPTCP if args.proto == "mptcp" else socket.IPPROTO_TCP
    return socket.socket(family, socket.SOCK_STREAM, proto)


def accept_one(args):
    """One connection; the listener stays open while it lasts, because MPTCP
    receives the secondary subflow's join on the listening port."""
    lsock = make_socket(args)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("::" if args.family == 6 else "0.0.0.0", args.port))
    lsock.listen(1)
    conn, _ = lsock.accept()
    return conn, lsock


def server(args):
    conn, lsock = accept_one(args)
    digest, total = hashlib.sha256(), 0
    while data := conn.recv(CHUNK):
        digest.update(data)
        total += len(data)
        conn.sendall(data)
    conn.shutdown(socket.SHUT_WR)
    print(f"received {total} sha256 {digest.hexdigest()}")
    print(f"sent {total} sha256 {digest.hexdigest()}")
    conn.close()
    lsock.close()


def receive_into(sock, digest):
    """Reads until EOF, or until nothing is ready on a non-blocking socket;
    returns the byte count."""
    count = 0
    try:
        while True:
            data = sock.recv(CHUNK)
            if not data:
                break
            digest.update(data)
            count += len(data)
    except BlockingIOError:
        pass
    return count


def client(args):
    sock = make_socket(args)
    sock.connect((args.addr, args.port))
    rng = random.Random(args.bytes)
    sent, total = hashlib.sha256(), 0
    received, rtotal = hashlib.sha256(), 0
    while total < args.bytes:
        chunk = rng.randbytes(min(CHUNK, args.bytes - total))
        sock.sendall(chunk)
        sent.update(chunk)
        total += len(chunk)
        # Drain the echo as we go so neither side's buffers fill up.
        sock.setblocking(False)
        rtotal += receive_into(sock, received)
        sock.setblocking(True)
    sock.shutdown(socket.SHUT_WR)
    rtotal += receive_into(sock, received)
    print(f"sent {total} sha256 {sent.hexdigest()}")
    print(f"received {rtotal} sha256 {received.hexdigest()}")


def recv_hex(args):
    conn, lsock = accept_one(args)
    data = b""
    while chunk := conn.recv(CHUNK):
        data += chunk
    print(f"received {data.hex()}")
    conn.close()
    lsock.close()


def send_hex(args):
    sock = make_socket(args)
    sock.connect((args.addr, args.port))
    for i, chunk in enumerate(args.hex.split(",")):
        if i:
            time.sleep(args.pause)
        sock.sendall(bytes.fromhex(chunk))
    sock.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client", "recv-hex", "send-hex"])
    p.add_argument("rest", nargs="+")
    p.add_argument("--proto", choices=["mptcp", "tcp"], default="mptcp")
    p.add_argument("--family", type=int, choices=[4, 6], default=4)
    p.add_argument("--pause", type=float, default=0.0)
    args = p.parse_args()
    if args.mode == "server":
        (args.port,) = map(int, args.rest)
        server(args)
    elif args.mode == "recv-hex":
        (args.port,) = map(int, args.rest)
        recv_hex(args)
    elif args.mode == "send-hex":
        args.addr, port, args.hex = args.rest
        args.port = int(port)
        send_hex(args)
    else:
        args.addr, port, nbytes = args.rest
        args.port, args.bytes = int(port), int(nbytes)
        client(args)


if __name__ == "__main__":
    sys.exit(main())
