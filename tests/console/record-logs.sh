#!/usr/bin/env bash
# Re-record the console logs in logs/ from real VM runs on the debug kernel:
# a clean run, a WARN, a KASAN use-after-free and a kmemleak leak (from the
# helper module in splat/), and a VM killed before the end marker. The
# console suite then checks the judge against them. Takes a few minutes;
# run it after changing the kernel configuration or the VM runner.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
kdir=$("$root/scripts/kernel.sh" --dir)
make -C "$kdir" LLVM=1 M="$here/splat" modules
ko=$here/splat/smkex_splat.ko

record() { # record NAME COMMAND...
  local name=$1; shift
  "$root/qemu/run-vm.sh" --log "$here/logs/$name.log" "$@" || true
}
record clean true
record warn insmod "$ko" kind=warn
record kasan insmod "$ko" kind=kasan
record kmemleak insmod "$ko" kind=leak
SMKEX_VM_TIMEOUT=100 record died sleep 600
make -C "$kdir" LLVM=1 M="$here/splat" clean
