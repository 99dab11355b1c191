#!/usr/bin/env bash
# Build the protocol core for the kernel (route A of DESIGN.md §4) and write
# the one relocatable object the module links.
#
#   scripts/build-proto.sh KDIR OUT.o
#
# The crate graph (rust/proto-kernel -> smkex-proto -> dalek, sha2, ...) is
# built as a staticlib with its own `core`, for the kernel's target.json and
# with the code-generation flags the kernel used for its own `core`
# (taken from KDIR/rust/.core.o.cmd, so KASAN, IBT and mitigations follow the
# kernel's configuration). Fat LTO folds the graph into one object; only that
# object is taken from the archive, and every symbol but the C ABI is made
# local so nothing can clash with the kernel's own Rust symbols.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?KDIR}
out=${2:?output object}
cmdfile="$kdir/rust/.core.o.cmd"
[ -f "$cmdfile" ] || die "$cmdfile missing: is $kdir a built kernel tree?"

# Code-generation flags that must match the kernel; lints and crate-specific
# flags are left out.
mapfile -t kflags < <(head -n1 "$cmdfile" | tr ' ' '\n' | grep -E \
  '^-C(relocation-model|target-feature|jump-tables|no-redzone|code-model|force-unwind-tables|llvm-args)=|^-Z(cf-protection|tune-cpu|sanitizer|sanitizer-recover|function-return|patchable-function-entry|function-sections|indirect-branch-cs-prefix)=')
flags="${kflags[*]} --cfg curve25519_dalek_backend=\"serial\""

target_dir="$SMKEX_ROOT/rust/target"
step "proto: cargo build for $kdir/scripts/target.json"
# -Zbuild-std and custom target specs are unstable; the kernel build itself
# relies on RUSTC_BOOTSTRAP the same way.
RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags" cargo build --quiet --release \
  --manifest-path "$SMKEX_ROOT/rust/Cargo.toml" -p smkex-proto-kernel \
  --target "$kdir/scripts/target.json" -Zbuild-std=core,compiler_builtins -Zjson-target-spec \
  --target-dir "$target_dir"

lib="$target_dir/target/release/libsmkex_proto_kernel.a"
member=$(llvm-ar t "$lib" | grep -E '^smkex_proto_kernel-.*\.o$')
[ "$(echo "$member" | wc -l)" = 1 ] || die "expected one crate object in $lib, got: $member"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && llvm-ar x "$lib" "$member")

# Keep exactly the C ABI (the #[no_mangle] extern "C" functions) global.
llvm-nm --defined-only --extern-only "$tmp/$member" | awk '$3 ~ /^smkex_proto_/ {print $3}' >"$tmp/keep"
[ -s "$tmp/keep" ] || die "no smkex_proto_* symbols in $member"
llvm-objcopy --keep-global-symbols="$tmp/keep" "$tmp/$member" "$tmp/out.o"
# Replace the output only when it changed, so an unchanged core relinks nothing.
cmp -s "$tmp/out.o" "$out" || mv "$tmp/out.o" "$out"
step "proto: $(basename "$out") exports $(tr '\n' ' ' <"$tmp/keep")"
