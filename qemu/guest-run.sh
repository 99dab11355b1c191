#!/usr/bin/env bash
# Runs inside the VM (started by qemu/run-vm.sh): the command, then a kmemleak
# scan whose report goes to the console, then the end marker with the
# command's exit status. The host judges the console (qemu/console-check.sh).
. "$(dirname "$0")/../tests/lib.sh"

kmemleak_clear
echo "=== smkex-vm: begin"
"$@"
rc=$?
kmemleak_report
echo "=== smkex-vm: end rc=$rc"
