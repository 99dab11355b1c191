#!/usr/bin/env bash
# Checks on the built module that the kernel's own build does not make fatal:
#   scripts/check-module.sh smkex.ko build/kbuild.log
# - no SIMD/FPU register anywhere in the code (the kernel does not save them);
# - only relocation types the x86-64 module loader accepts;
# - no stack frame above the kernel's 64-bit FRAME_WARN (2048 bytes): the
#   Rust objects get no -Wframe-larger-than from the compiler;
# - no compiler, objtool or modpost warning in the build log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ko=${1:?module}
log=${2:?build log}
fail=0

simd=$(llvm-objdump -d --no-show-raw-insn "$ko" | grep -cE '%[xyz]mm[0-9]|%st\(|%mm[0-7]' || true)
if [ "$simd" != 0 ]; then
  echo "check: $simd instructions use SIMD/FPU registers:"
  llvm-objdump -d --no-show-raw-insn "$ko" | grep -E '%[xyz]mm[0-9]|%st\(|%mm[0-7]' | head -n 5
  fail=1
fi

# arch/x86/kernel/module.c: apply_relocate_add() handles exactly these.
allowed='^R_X86_64_(NONE|64|32|32S|PC32|PLT32|PC64)$'
bad=$(llvm-readelf -r "$ko" | awk '$3 ~ /^R_X86_64_/ {print $3}' | sort -u | grep -vE "$allowed" || true)
if [ -n "$bad" ]; then
  echo "check: relocation types the module loader rejects: $bad"
  fail=1
fi

frame_limit=2048
max_frame=$(llvm-objdump -d --no-show-raw-insn "$ko" | grep -oE 'subq?\s+\$[0-9]+, %rsp' \
  | grep -oE '[0-9]+' | sort -n | tail -n1)
if [ "${max_frame:-0}" -gt $frame_limit ]; then
  echo "check: a stack frame of $max_frame bytes (limit $frame_limit)"
  fail=1
fi

if grep -iE 'warning:|objtool: ' "$log"; then
  echo "check: build warnings above"
  fail=1
fi

[ $fail -eq 0 ] || die "$ko failed the object checks"
step "check: $ko has no SIMD registers, only loadable relocations, largest stack frame ${max_frame:-0} bytes, no build warnings"
