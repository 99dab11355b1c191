#!/usr/bin/env bash
# Builds the fuzz targets and runs them for about SECONDS in total (default
# 60): two fifths on the protocol core's state machine ("session"), a fifth
# on its handshake record parser ("parser"), a fifth on the kernel module's
# pure decisions ("logic": option parsing, record reassembly, provenance),
# a fifth on the record layer's reader and round trip ("records"); each at
# least one second. Prints each target's execution count and the total.
# Exits non-zero if a target crashes (the reproducer is left in
# rust/proto/fuzz/artifacts/<target>/) or the build fails, 0 otherwise.
#
# Needs cargo-fuzz (0.13.2); on a stable toolchain RUSTC_BOOTSTRAP=1 admits
# the -Z flags cargo-fuzz passes (sanitizer instrumentation).
set -euo pipefail

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || (( seconds < 2 )); then
    echo "usage: $0 SECONDS (>= 2)" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."   # rust/proto: cargo fuzz finds fuzz/ from here

export RUSTC_BOOTSTRAP=1
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}
cargo_fuzz=(cargo fuzz)
if ! cargo fuzz --version >/dev/null 2>&1; then
    if [[ -x "$HOME/.cargo/bin/cargo-fuzz" ]]; then
        cargo_fuzz=("$HOME/.cargo/bin/cargo-fuzz" fuzz)
    else
        echo "run.sh: cargo-fuzz not found (cargo install --locked --version 0.13.2 cargo-fuzz)" >&2
        exit 2
    fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "fuzz: building targets"
if ! "${cargo_fuzz[@]}" build -O >"$log" 2>&1; then
    cat "$log" >&2
    echo "fuzz: build FAILED" >&2
    exit 1
fi

session_time=$(( seconds * 2 / 5 ))
parser_time=$(( seconds / 5 ))
logic_time=$(( seconds / 5 ))
records_time=$(( seconds - session_time - parser_time - logic_time ))
# -max_total_time=0 would mean no limit.
(( session_time >= 1 )) || session_time=1
(( parser_time >= 1 )) || parser_time=1
(( logic_time >= 1 )) || logic_time=1
(( records_time >= 1 )) || records_time=1
total=0
status=0

for spec in "session:$session_time" "parser:$parser_time" "logic:$logic_time" "records:$records_time"; do
    target=${spec%%:*}
    secs=${spec##*:}
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    echo "fuzz: running $target for ${secs}s"
    # The first corpus directory receives new inputs (gitignored); the
    # committed seeds are read only.
    if "${cargo_fuzz[@]}" run -O "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
        :
    else
        status=$?
        echo "fuzz: $target FAILED (exit $status); last lines of its log:" >&2
        tail -n 40 "$log" >&2
    fi
    runs=$(sed -n 's/^Done \([0-9][0-9]*\) runs in .*/\1/p' "$log" | tail -n 1)
    if [[ -z $runs ]]; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
    fi
    runs=${runs:-0}
    echo "fuzz: $target executions: $runs"
    total=$(( total + runs ))
    if (( status != 0 )); then
        break
    fi
done

echo "fuzz: total executions: $total"
exit "$status"
