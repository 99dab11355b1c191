#!/usr/bin/env python3
"""User-space ChaCha20-Poly1305 (Python's cryptography, i.e. OpenSSL) on the
record layer's full records, to set beside the module's in-kernel rate
(smkex.ko record_bench_mib=N): seals, then opens, N MiB of 16364-byte
plaintexts with 4-byte associated data and 96-bit nonces, and prints MB/s.
    tests/bench/aead_bench.py [MIB]"""
import sys
import time

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

PLAINTEXT = 16364
mib = int(sys.argv[1]) if len(sys.argv) > 1 else 32
records = -(-(mib << 20) // PLAINTEXT)
aead = ChaCha20Poly1305(bytes(range(32)))
text = bytes(i % 251 for i in range(PLAINTEXT))
header = b"\x10\x01\x40\x00"
nonces = [b"\0\0\0\0" + seq.to_bytes(8, "little") for seq in range(records)]
for n in nonces[:16]:  # warm-up: OpenSSL's first calls set up its tables
    aead.encrypt(n, text, header)
start = time.perf_counter_ns()
sealed = [aead.encrypt(n, text, header) for n in nonces]
mid = time.perf_counter_ns()
for n, c in zip(nonces, sealed):
    aead.decrypt(n, c, header)
end = time.perf_counter_ns()
total = records * PLAINTEXT
print(f"user-space AEAD benchmark: {records} records of {PLAINTEXT} bytes: "
      f"seal {(mid - start) // 1000} us ({total * 1000 // max(mid - start, 1)} MB/s), "
      f"open {(end - mid) // 1000} us ({total * 1000 // max(end - mid, 1)} MB/s)")
