#!/usr/bin/env bash
# Boot the cached test kernel with the host's root file system (virtme-ng),
# run a command inside, and judge the console.
#
#   qemu/run-vm.sh [--log FILE] COMMAND [ARGS...]
#
# Exit status: the command's, or 1 if the console shows a kernel report
# (qemu/console-check.sh) or the VM died before the command finished.
# KVM is used only when the CPU has VMX/SVM and /dev/kvm is usable
# (SMKEX_ACCEL=tcg|kvm overrides); otherwise TCG.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

log="$SMKEX_ROOT/build/vm/console.log"
if [ "${1:-}" = --log ]; then log=$2; shift 2; fi
[ $# -gt 0 ] || die "usage: qemu/run-vm.sh [--log FILE] COMMAND [ARGS...]"

kdir=$("$SMKEX_ROOT/scripts/kernel.sh" --dir)
[ -f "$kdir/.smkex-built" ] || die "no built kernel at $kdir: run scripts/kernel.sh"

accel=${SMKEX_ACCEL:-}
if [ -z "$accel" ]; then
  if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then accel=kvm; else accel=tcg; fi
fi
accel_opt=()
[ "$accel" = kvm ] || accel_opt=(--disable-kvm)

mkdir -p "$(dirname "$log")" "$SMKEX_ROOT/build/vm-out"
cmd=$(printf '%q ' "$SMKEX_ROOT/qemu/guest-run.sh" "$@")
step "vm: booting $kdir ($accel), console log $log"
# The guest sees the host root read-only and build/vm-out read-write.
# Kernel lines are kept in the log but not echoed, so the command's own output
# stays readable.
set +e
timeout "${SMKEX_VM_TIMEOUT:-1800}" vng --run "$kdir" "${accel_opt[@]}" --verbose \
  --memory "${SMKEX_VM_MEMORY:-2G}" --cpus 2 --disable-monitor --force-9p \
  --rwdir "$SMKEX_ROOT/build/vm-out" --cwd "$SMKEX_ROOT" \
  --append root=/dev/root --exec "$cmd" </dev/null 2>&1 \
  | tee "$log" | grep --line-buffered -avE '^\[ *[0-9]+\.[0-9]+\] '
vng_rc=${PIPESTATUS[0]}
set -e

rc=$(grep -aoE 'smkex-vm: end rc=[0-9]+' "$log" | tail -n1 | sed 's/.*rc=//')
if ! "$SMKEX_ROOT/qemu/console-check.sh" "$log"; then
  step "vm: FAILED (kernel report or VM died; vng exit $vng_rc)"
  exit 1
fi
step "vm: command exit status $rc, console clean"
exit "$rc"
