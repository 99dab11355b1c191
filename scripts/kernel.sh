#!/usr/bin/env bash
# Unpack, configure and build the test kernel into a cache outside the work
# tree. The cache key covers every input that changes the result: the
# linux-source package version, the config fragment, the toolchain versions
# and the recipe revision below. A finished build is marked by a stamp file;
# an interrupted one is resumed by make. Prints the kernel tree on stdout's
# last line (`KDIR=<path>`), progress lines before it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FRAGMENT="$SMKEX_ROOT/qemu/smkex.config"
TARBALL=/usr/src/linux-source-6.12.tar.xz

kdir=$(kernel_dir)
# `kernel.sh --dir` only prints where the tree for the current inputs lives.
if [ "${1:-}" = --dir ]; then echo "$kdir"; exit 0; fi
log="$kdir.log"
mkdir -p "$(dirname "$kdir")"

if [ -f "$kdir/.smkex-built" ]; then
  step "kernel: cached build $kdir"
  echo "KDIR=$kdir"
  exit 0
fi

[ -f "$TARBALL" ] || die "$TARBALL missing: run scripts/setup.sh"
if [ ! -f "$kdir/Makefile" ]; then
  step "kernel: unpacking $TARBALL (about a minute)"
  tmp="$kdir.unpack"
  rm -rf "$tmp" && mkdir -p "$tmp"
  tar -C "$tmp" -xf "$TARBALL"
  mv "$tmp"/linux-source-6.12 "$kdir"
  rmdir "$tmp"
fi

cd "$kdir"
step "kernel: configuring (tinyconfig + qemu/smkex.config), log $log"
{
  make LLVM=1 tinyconfig
  scripts/kconfig/merge_config.sh -m .config "$FRAGMENT"
  make LLVM=1 olddefconfig
} >"$log" 2>&1 || die "kernel configuration failed, see $log"

# Every option of the fragment must have survived dependency resolution.
lost=0
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=*) opt=${line%%=*} ;;
    "# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *} ;;
    *) continue ;;
  esac
  if [ "${line:0:1}" = "#" ]; then
    grep -q "^$opt=" .config && { echo "  lost: $line"; lost=1; }
  else
    grep -qxF "$line" .config || { echo "  lost: $line (have: $(grep -E "^(# )?$opt[= ]" .config || echo absent))"; lost=1; }
  fi
done <"$FRAGMENT"
[ $lost -eq 0 ] || die "config fragment options lost in .config (dependencies missing?)"
make LLVM=1 rustavailable >>"$log" 2>&1 || die "Rust is not available for this kernel, see $log"

[ "${SMKEX_CONFIG_ONLY:-}" = 1 ] && { step "kernel: configured (SMKEX_CONFIG_ONLY)"; exit 0; }
step "kernel: building with LLVM=1 on $(nproc) cores (about 20 minutes the first time), log $log"
start=$(date +%s)
make LLVM=1 -j"$(nproc)" >>"$log" 2>&1 &
pid=$!
ticks=0
while kill -0 "$pid" 2>/dev/null; do
  sleep 5
  ticks=$((ticks + 1))
  [ $((ticks % 12)) = 0 ] && step "kernel: still building, $(( ($(date +%s) - start) / 60 )) min, $(grep -c '^ ' "$log") log lines"
done
wait "$pid" || { tail -n 30 "$log"; die "kernel build failed, see $log"; }
touch .smkex-built
step "kernel: built in $(( $(date +%s) - start )) s"
echo "KDIR=$kdir"
