#!/usr/bin/env bash
# Build the crates the module uses (the protocol core smkex-proto with its
# dependencies, smkex-logic, smkex-uapi) as rlibs against the configured
# kernel's own `core` (route B of DESIGN.md §4): one Rust world, so the
# module crate calls them directly through `--extern`.
#
#   scripts/build-crates.sh KDIR OUTDIR
#
# Writes OUTDIR/crates.args (the rustc arguments Kbuild gives the module
# crate: one --extern per crate, -L for their dependencies) and
# OUTDIR/crates.o (the code of every rlib of the graph, of which
# scripts/link-crates.sh keeps what the module crate uses). The code-generation flags are the kernel's own, taken from
# KDIR/rust/.core.o.cmd, so KASAN, IBT, mitigations and the soft-float ABI
# follow the kernel's configuration (rustc refuses to mix sanitizer flags).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$(cd "${1:?KDIR}" && pwd)
out=$(mkdir -p "${2:?output dir}" && cd "$2" && pwd)
cmdfile="$kdir/rust/.core.o.cmd"
[ -f "$cmdfile" ] || die "$cmdfile missing: is $kdir a built kernel tree?"
[ -f "$kdir/rust/libcore.rmeta" ] || die "$kdir/rust/libcore.rmeta missing"

# Code-generation flags that must match the kernel; lints and crate-specific
# flags are left out.
mapfile -t kflags < <(head -n1 "$cmdfile" | tr ' ' '\n' | grep -E \
  '^-C(relocation-model|target-feature|jump-tables|no-redzone|code-model|force-unwind-tables|llvm-args|symbol-mangling-version)=|^-Z(cf-protection|tune-cpu|sanitizer|sanitizer-recover|function-return|patchable-function-entry|indirect-branch-cs-prefix)=')
# No sysroot: `core` and `compiler_builtins` are the kernel's (KDIR/rust).
# A section per function and object, so that the module link keeps only
# what the module uses (scripts/link-crates.sh).
flags="--sysroot=/dev/null -L $kdir/rust ${kflags[*]} -Zfunction-sections=y --cfg curve25519_dalek_backend=\"serial\""

# One target directory per kernel tree: the rlibs are tied to its `core`.
target_dir="$SMKEX_ROOT/rust/target/kernel-$(printf %s "$kdir" | sha256sum | cut -c1-12)"
step "crates: cargo build against $kdir/rust/libcore.rmeta"
# Custom target specs are unstable; the kernel's own build relies on
# RUSTC_BOOTSTRAP the same way.
RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags" cargo build --quiet --profile kernel \
  --manifest-path "$SMKEX_ROOT/rust/Cargo.toml" -p smkex-logic \
  --target "$kdir/scripts/target.json" -Zjson-target-spec \
  --target-dir "$target_dir" --message-format=json-render-diagnostics >"$out/cargo.json"

# Every rlib built for the kernel.
# Host artifacts (build scripts, proc-macros and their dependencies) are
# under TARGET_DIR/kernel, the kernel's under TARGET_DIR/target/kernel.
python3 - "$out/cargo.json" "$out" "$target_dir/target/" "$target_dir/kernel/deps" <<'PY'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
rlibs, deps, externs = [], set(), []
for m in msgs:
    if m.get("reason") != "compiler-artifact":
        continue
    for f in m["filenames"]:
        if f.endswith(".rlib") and f.startswith(sys.argv[3]):
            rlibs.append(f)
            deps.add(f.rsplit("/", 1)[0])
            name = m["target"]["name"].replace("-", "_")
            if name in ("smkex_proto", "smkex_logic", "smkex_uapi"):
                externs += ["--extern", f"{name}={f}"]
open(f"{sys.argv[2]}/rlibs", "w").write("\n".join(rlibs) + "\n")
# The host's deps too: rustc reads the metadata of the proc-macros
# (zeroize_derive) the crates were built with. One argument per line:
# rustc's @file syntax.
deps.add(sys.argv[4])
args = externs + [a for d in sorted(deps) for a in ("-L", f"dependency={d}")]
open(f"{sys.argv[2]}/crates.args.new", "w").write("\n".join(args) + "\n")
PY
[ "$(grep -c -x -- --extern "$out/crates.args.new")" = 3 ] || die "expected three --extern crates in $out/crates.args.new"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while read -r rlib; do
  for member in $(llvm-ar t "$rlib" | grep -E '\.o$'); do
    mkdir -p "$tmp/$i" && (cd "$tmp/$i" && llvm-ar x "$rlib" "$member")
    i=$((i + 1))
  done
done <"$out/rlibs"
ld.lld -r -o "$tmp/crates.o" "$tmp"/*/*.o
# Replace the outputs only when they changed, so an unchanged graph relinks nothing.
cmp -s "$tmp/crates.o" "$out/crates.o" || mv "$tmp/crates.o" "$out/crates.o"
cmp -s "$out/crates.args.new" "$out/crates.args" && rm "$out/crates.args.new" || mv "$out/crates.args.new" "$out/crates.args"
step "crates: $(wc -l <"$out/rlibs") rlibs, $i objects linked into $(basename "$out")/crates.o"
