#!/usr/bin/env bash
# Long soaks, outside the README's test command (their numbers go into
# Documentation/benchmarks.md): in one VM boot on the debug kernel, ROUNDS
# rounds of tests/handshake/load.sh (each 1,000 sequential and 256
# concurrent handshakes, counters, unload, kmemleak: 10 rounds = 10,000
# sequential handshakes), then the SOL_SMKEX API fuzzer for API_SECONDS;
# the console is judged as in the tests. Then, on the host, the protocol
# core's and the module logic's fuzzers for FUZZ_SECONDS (0 skips them, to
# run rust/proto/fuzz/run.sh on its own, e.g. at nice 19 beside the VM).
#   scripts/soak.sh [ROUNDS [API_SECONDS [FUZZ_SECONDS]]]     (defaults 10 600 3600)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$SMKEX_ROOT"
if [ "${1:-}" = --guest ]; then
  shift
  rounds=$1 api=$2 failed=0
  for r in $(seq "$rounds"); do
    echo "=== load round $r of $rounds"
    tests/handshake/load.sh || failed=$((failed + 1))
  done
  echo "=== API fuzzer, $api s"
  SMKEX_FUZZ_API_SECONDS=$api tests/api/sockopt_fuzz.sh || failed=$((failed + 1))
  echo "=== soak: $failed failed parts"
  exit $((failed > 0))
fi

ROUNDS=${1:-10}
API_SECONDS=${2:-600}
FUZZ_SECONDS=${3:-3600}
scripts/setup.sh
scripts/kernel.sh
make
make -C tests/handshake all
make -C tests/api all
mkdir -p build/logs
start=$(date +%s)
rc=0
SMKEX_VM_TIMEOUT=$((ROUNDS * 600 + API_SECONDS + 600)) \
  qemu/run-vm.sh --log build/logs/soak-console.log "$SMKEX_ROOT/scripts/soak.sh" --guest "$ROUNDS" "$API_SECONDS" \
  | tee build/logs/soak.log || rc=1
qemu/console-check.sh build/logs/soak-console.log || rc=1
echo "soak: VM part $(( $(date +%s) - start )) s, status $rc"
if [ "$FUZZ_SECONDS" -gt 0 ]; then
  rust/proto/fuzz/run.sh "$FUZZ_SECONDS" || rc=1
fi
exit $rc
