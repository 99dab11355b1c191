#!/usr/bin/env bash
# The main job: install what is missing, build the debug kernel (cached) and
# smkex.ko, boot the VM, load the module, and show the self-test result and
# modinfo.
#   scripts/demo.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$SMKEX_ROOT"

if [ "${1:-}" = --guest ]; then
  # Inside the VM.
  insmod smkex.ko
  echo "--- kernel log of smkex:"
  dmesg --notime | grep 'smkex:'
  echo "--- modinfo smkex.ko:"
  modinfo smkex.ko
  rmmod smkex
  echo "--- unloaded: $(dmesg | grep -c 'smkex: unloaded') unload message(s)"
  exit 0
fi

scripts/setup.sh
scripts/kernel.sh
make
qemu/run-vm.sh "$SMKEX_ROOT/scripts/demo.sh" --guest
