#!/usr/bin/env python3
"""Recomputes the record-layer test vectors of Documentation/protocol.md §10
(the `smkex-record-vectors` block) with an independent implementation:
Python's `cryptography` for X25519 and ChaCha20-Poly1305 (RFC 8439), hashlib
and hmac for SHA-256, HMAC and HKDF, from the block's handshake inputs and
the labels of §4 and §10.

Usage: python3 rust/proto/tests/crosscheck_records.py   (exit 0 = all agree)
Prints one TAP line per check. Not part of `cargo test`; the Rust test
record_vectors.rs checks the code against the same block.
"""
import hashlib
import hmac
import pathlib
import sys

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from crosscheck_vectors import expand, public  # noqa: E402  (the handshake's own helpers)

SPEC = pathlib.Path(__file__).resolve().parents[3] / "Documentation" / "protocol.md"

INPUTS = {"client_private", "client_nonce", "server_private", "server_nonce"}
# Values given in decimal; every other value is hex.
DECIMAL = {"c2s_seq1_plaintext_len", "c2s_seq1_data_len"}


def block(tag):
    """The `name = value` lines of the one fenced block marked `tag`."""
    blocks, lines, inside = [], [], False
    for line in SPEC.read_text().splitlines():
        if not inside and line.strip() == "```" + tag:
            inside, lines = True, []
        elif inside and line.strip() == "```":
            inside = False
            blocks.append(lines)
        elif inside and line.strip():
            lines.append(line)
    if len(blocks) != 1:
        raise SystemExit(f"Bail out! expected exactly one {tag} block, found {len(blocks)}")
    out = {}
    for line in blocks[0]:
        name, value = (s.strip() for s in line.split("=", 1))
        if name in out:
            raise SystemExit(f"Bail out! duplicate vector {name}")
        out[name] = int(value) if name in DECIMAL else bytes.fromhex(value)
    return out


def nonce96(iv, seq):
    """00 00 00 00 ‖ LE64(LE64⁻¹(iv) XOR seq)."""
    return bytes(4) + (int.from_bytes(iv, "little") ^ seq).to_bytes(8, "little")


def seal(key, iv, seq, kind, plaintext):
    """One record: header (type, version 1, BE16 ciphertext+tag length) ‖
    ChaCha20-Poly1305(key, nonce, plaintext, AAD = header)."""
    header = bytes([kind, 1]) + (len(plaintext) + 16).to_bytes(2, "big")
    return header + ChaCha20Poly1305(key).encrypt(nonce96(iv, seq), plaintext, header)


def header_ok(record):
    """The strict header rules of §10 (type, version, length range, whole)."""
    kind, version, length = record[0], record[1], int.from_bytes(record[2:4], "big")
    legal = {0x10: range(17, 16381), 0x11: range(16, 17)}.get(kind, range(0))
    return version == 1 and length in legal and len(record) == 4 + length


def opened(key, iv, seq, record):
    """The plaintext of a record, or None if it does not open."""
    try:
        return ChaCha20Poly1305(key).decrypt(nonce96(iv, seq), record[4:], record[:4])
    except Exception:  # cryptography.exceptions.InvalidTag
        return None


def main():
    v = block("smkex-record-vectors")
    hs = block("smkex-vectors")
    checks = []

    def check(name, ok):
        checks.append((name, bool(ok)))

    def equal(name, want):
        check(name, v.get(name) == want)

    for name in sorted(INPUTS):
        check(f"{name} equals §9's", v.get(name) == hs.get(name))
    x, y = public(v["client_private"]), public(v["server_private"])
    z = X25519PrivateKey.from_private_bytes(v["client_private"]).exchange(
        X25519PublicKey.from_public_bytes(y))
    n_c, n_s = v["client_nonce"], v["server_nonce"]
    h = hashlib.sha256(b"smkex v1 binding hash" + x + n_c + y + n_s).digest()
    prk = hmac.new(n_c + n_s, z, hashlib.sha256).digest()
    secret = expand(prk, b"smkex v1 record secret" + h, 32)
    equal("transcript_hash_h", h)
    equal("hkdf_prk", prk)
    equal("record_secret", secret)
    check("record_secret equals §9's", hs.get("record_secret") == secret)

    keys = {}
    for d in ("c2s", "s2c"):
        keys[d] = (expand(secret, f"smkex v1 {d} record key".encode(), 32),
                   expand(secret, f"smkex v1 {d} record iv".encode(), 8))
        equal(f"{d}_key", keys[d][0])
        equal(f"{d}_iv", keys[d][1])
    equal("c2s_seq2_nonce96", nonce96(keys["c2s"][1], 2))

    big = bytes(i % 251 for i in range(16364))
    equal("c2s_seq1_plaintext_len", len(big))
    c2s1 = seal(*keys["c2s"], 1, 0x10, big)
    equal("c2s_seq1_data_len", len(c2s1))
    equal("c2s_seq1_data_sha256", hashlib.sha256(c2s1).digest())
    check("c2s_seq1_data is the largest record (16384)", len(c2s1) == 16384 and header_ok(c2s1))
    records = [
        ("c2s_seq0_data", "c2s", 0, 0x10, v.get("c2s_seq0_plaintext")),
        ("c2s_seq2_close", "c2s", 2, 0x11, b""),
        ("s2c_seq0_data", "s2c", 0, 0x10, v.get("s2c_seq0_plaintext")),
        ("s2c_seq1_close", "s2c", 1, 0x11, b""),
    ]
    equal("c2s_seq0_plaintext", b"hello, smkex")
    check("s2c_seq0_plaintext is short text", 0 < len(v.get("s2c_seq0_plaintext", b"")) < 64)
    for name, d, seq, kind, plaintext in records:
        want = seal(*keys[d], seq, kind, plaintext)
        equal(name, want)
        record = v.get(name, b"")
        check(f"{name}: header", header_ok(record) and record[0] == kind)
        check(f"{name}: opens to its plaintext", opened(*keys[d], seq, record) == plaintext)
        other = "s2c" if d == "c2s" else "c2s"
        check(f"{name}: does not open with {other} keys", opened(*keys[other], seq, record) is None)
        check(f"{name}: does not open at seq {seq + 1}", opened(*keys[d], seq + 1, record) is None)
        flipped = bytearray(record)
        flipped[len(flipped) // 2] ^= 1
        check(f"{name}: does not open with a flipped bit", opened(*keys[d], seq, bytes(flipped)) is None)

    # Every line of the block is an input or was checked above.
    unchecked = set(v) - INPUTS - {name.split(":")[0].split(" ")[0] for name, _ in checks}
    check("every vector is checked" + (f" (not: {sorted(unchecked)})" if unchecked else ""), not unchecked)

    print(f"1..{len(checks)}")
    for i, (name, ok) in enumerate(checks, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    failed = sum(not ok for _, ok in checks)
    print(f"# {len(checks) - failed}/{len(checks)} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
