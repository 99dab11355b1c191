#!/usr/bin/env bash
# The whole comparison against the kernel's own MPTCP selftests, outside the
# README's test command: prepares them (scripts/mptcp-selftests.sh --slow),
# then in one VM boot runs every script of tests/peer/mptcp_selftests.sh's
# full list (or the ENTRY arguments, "LABEL|SCRIPT|ARG...|TIMEOUT_S") once
# without and once with smkex.ko loaded, and prints one result per selftest.
# Under TCG the full list takes hours; results go to build/vm-out/peer-full
# and build/logs/mptcp-peer.log.
#   scripts/mptcp-peer.sh [ENTRY...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$SMKEX_ROOT"
scripts/setup.sh
scripts/kernel.sh
make
scripts/mptcp-selftests.sh --slow "$(scripts/kernel.sh --dir)" build/mptcp-selftests
mkdir -p build/logs
SMKEX_VM_TIMEOUT=${SMKEX_VM_TIMEOUT:-36000} qemu/run-vm.sh --log build/logs/mptcp-peer-console.log \
  "$SMKEX_ROOT/tests/peer/mptcp_selftests.sh" --full "$SMKEX_ROOT/build/vm-out/peer-full" "$@" \
  | tee build/logs/mptcp-peer.log
qemu/console-check.sh build/logs/mptcp-peer-console.log
