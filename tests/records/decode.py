#!/usr/bin/env python3
"""An outside decoder of the record layer (Documentation/protocol.md §10),
independent of the kernel and of the Rust crate: given a record stream (the
bytes one direction carried, after the handshake) and the connection's
record secret (SMKEX_RECORD_SECRET), derives the direction's key and IV,
opens every record with Python's cryptography (ChaCha20-Poly1305), checks
the header rules and the final Close, and prints the plaintext's length and
SHA-256 as the smkex CLI prints them ("N sha256 HEX").
    decode.py STREAM_FILE RECORD_SECRET_HEX c2s|s2c
Exit status 1 on any authentication or format error."""
import hashlib
import hmac
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

DATA, CLOSE, VERSION, TAG = 0x10, 0x11, 1, 16


def expand(prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand (RFC 5869) with SHA-256, one block (length <= 32)."""
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()[:length]


def main() -> int:
    stream = open(sys.argv[1], "rb").read()
    secret = bytes.fromhex(sys.argv[2])
    direction = sys.argv[3].encode()
    key = expand(secret, b"smkex v1 " + direction + b" record key", 32)
    iv = int.from_bytes(expand(secret, b"smkex v1 " + direction + b" record iv", 8), "little")
    aead = ChaCha20Poly1305(key)
    plain, at, seq, closed = hashlib.sha256(), 0, 0, False
    total = 0
    while at < len(stream):
        if closed:
            print(f"data after Close at offset {at}")
            return 1
        header = stream[at:at + 4]
        if len(header) < 4:
            print(f"truncated header at offset {at}")
            return 1
        kind, version, length = header[0], header[1], int.from_bytes(header[2:4], "big")
        ok_len = 17 <= length <= 16380 if kind == DATA else length == TAG
        if kind not in (DATA, CLOSE) or version != VERSION or not ok_len:
            print(f"malformed header {header.hex()} at offset {at}")
            return 1
        body = stream[at + 4:at + 4 + length]
        if len(body) < length:
            print(f"truncated record at offset {at}")
            return 1
        nonce = b"\0\0\0\0" + (iv ^ seq).to_bytes(8, "little")
        try:
            text = aead.decrypt(nonce, body, header)
        except InvalidTag:
            print(f"record {seq} at offset {at} does not authenticate")
            return 1
        plain.update(text)
        total += len(text)
        closed = kind == CLOSE
        at += 4 + length
        seq += 1
    if not closed:
        print("no Close at the end")
        return 1
    print(f"{total} sha256 {plain.hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
