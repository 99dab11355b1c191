#!/usr/bin/env python3
"""Recomputes the test vectors of Documentation/protocol.md §9 with an
independent implementation (Python's `cryptography` for X25519, hashlib and
hmac for SHA-256, HMAC and HKDF) from the document's inputs and labels.

Usage: python3 rust/proto/tests/crosscheck_vectors.py   (exit 0 = all agree)
Not part of `cargo test`; the Rust test spec_vectors.rs checks the code.
"""
import hashlib
import hmac
import pathlib
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

SPEC = pathlib.Path(__file__).resolve().parents[3] / "Documentation" / "protocol.md"


def vectors():
    lines, inside = [], False
    for line in SPEC.read_text().splitlines():
        if line.strip() == "```smkex-vectors":
            inside = True
        elif inside and line.strip() == "```":
            break
        elif inside and "=" in line:
            lines.append(line)
    return {k.strip(): bytes.fromhex(v.strip()) for k, v in (l.split("=", 1) for l in lines)}


def public(priv):
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def expand(prk, info, length):
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out, i = out + t, i + 1
    return out[:length]


def record(ty, body):
    return bytes([ty, 1]) + len(body).to_bytes(2, "big") + body


def main():
    v = vectors()
    x, y = public(v["client_private"]), public(v["server_private"])
    z = X25519PrivateKey.from_private_bytes(v["client_private"]).exchange(X25519PublicKey.from_public_bytes(y))
    n_c, n_s = v["client_nonce"], v["server_nonce"]
    h = hashlib.sha256(b"smkex v1 binding hash" + x + n_c + y + n_s).digest()
    prk = hmac.new(n_c + n_s, z, hashlib.sha256).digest()
    fk = expand(prk, b"smkex v1 finished key" + h, 32)
    es = expand(prk, b"smkex v1 exporter secret" + h, 32)
    fin = hmac.new(fk, b"smkex v1 client finished" + h, hashlib.sha256).digest()
    label, context = v["exporter_label"], v["exporter_context"]
    info = b"smkex v1 exporter output" + bytes([32, len(label)]) + label + hashlib.sha256(context).digest()
    want = {
        "record_client_key_share": record(1, x),
        "record_client_nonce": record(2, n_c),
        "record_server_key_share": record(3, y),
        "record_server_nonce_hash": record(4, n_s + h),
        "record_client_finished": record(5, fin),
        "shared_secret_z": z,
        "transcript_hash_h": h,
        "hkdf_prk": prk,
        "session_key": expand(prk, b"smkex v1 session key" + h, 32),
        "finished_key": fk,
        "exporter_secret": es,
        "client_finished": fin,
        "exporter_output_32": expand(es, info, 32),
    }
    bad = [k for k, val in want.items() if v.get(k) != val]
    for k in want:
        print(("MISMATCH " if k in bad else "ok       ") + k)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
