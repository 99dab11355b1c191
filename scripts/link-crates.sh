#!/usr/bin/env bash
# Keep of the crates' code (scripts/build-crates.sh) only what the module
# crate reaches, the way a final link would: every rlib is linked whole, so
# without this the module would carry all of curve25519-dalek (including
# table builders with half-megabyte stack frames that nothing calls).
#
#   scripts/link-crates.sh OUT.o CRATES.o MODULE_CRATE.o
#
# Called by Kbuild (rust/smkex_crates.o). The roots are the symbols the
# module crate's object leaves undefined and the crates define; GNU ld
# collects the sections reachable from them (lld refuses --gc-sections with
# -r) and merges the per-function sections back into one of each kind.
set -euo pipefail

out=${1:?output} crates=${2:?crates object} module=${3:?module crate object}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

llvm-nm --undefined-only --format=just-symbols "$module" | sort -u >"$tmp/wanted"
llvm-nm --defined-only --extern-only --format=just-symbols "$crates" | sort -u >"$tmp/defined"
comm -12 "$tmp/wanted" "$tmp/defined" | sed 's/^/--require-defined=/' >"$tmp/roots"
[ -s "$tmp/roots" ] || { echo "link-crates: $module uses nothing of $crates" >&2; exit 1; }

cat >"$tmp/merge.lds" <<'LDS'
SECTIONS {
  .text : { *(.text .text.*) }
  .rodata : { *(.rodata .rodata.*) }
  .data.rel.ro : { *(.data.rel.ro .data.rel.ro.*) }
  .data : { *(.data .data.*) }
  .bss : { *(.bss .bss.*) }
  /* KASAN's registration of the crates' globals runs as a module constructor. */
  .init_array : { KEEP(*(.init_array .init_array.*)) }
  /* Modules run no destructors. */
  /DISCARD/ : { *(.fini_array .fini_array.*) }
}
LDS
ld.bfd -r --gc-sections @"$tmp/roots" -T "$tmp/merge.lds" -o "$out" "$crates"
