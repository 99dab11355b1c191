#!/usr/bin/env bash
# Every VM benchmark in one boot, so that their ratios compare numbers taken
# side by side (Documentation/benchmarks.md): the cost for sockets that did
# not opt in (tests/bench/bench.sh), the transfer after the handshake
# (tests/bench/transfer.sh), the handshake's latency against its floor,
# the connection rate and the server capacity (tests/bench/handshake.sh),
# and the record layer's AEAD in the kernel against user space.
# Prints numbers, asserts nothing; the output also goes to build/logs/bench.log.
#   scripts/bench.sh [--guest]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$SMKEX_ROOT"

if [ "${1:-}" = --guest ]; then
  echo "=== setsockopt cost for sockets that did not opt in"
  tests/bench/bench.sh
  echo "=== record layer AEAD: in the kernel (lib/crypto) and in user space (OpenSSL), 32 MiB each"
  insmod smkex.ko record_bench_mib=32 && dmesg | grep 'record layer benchmark' | tail -n 1 && rmmod smkex
  tests/bench/aead_bench.py 32
  echo "=== transfer after the handshake (4 MB each way, 5 rounds)"
  tests/bench/transfer.sh 4 5
  echo "=== handshake latency, connection rate, server capacity"
  tests/bench/handshake.sh
  exit
fi

scripts/setup.sh
scripts/kernel.sh
make
make -C tests/handshake all
make -C tests/bench all
mkdir -p build/logs
qemu/run-vm.sh --log build/logs/bench-console.log "$SMKEX_ROOT/scripts/bench.sh" --guest | tee build/logs/bench.log
