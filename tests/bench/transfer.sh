#!/usr/bin/env bash
# What SMKEX costs the connections that opt in, side by side in one VM boot
# over the two-path topology: the handshake's duration (SMKEX_INFO) and a
# transfer after it, against plain MPTCP, and with the record layer
# (SMKEX_RECORDS, every byte sealed and opened in the kernel), alternating
# so that all three see the same noise. Prints numbers; asserts nothing. Run from the host:
#   make -C tests/handshake && qemu/run-vm.sh tests/bench/transfer.sh [MB] [ROUNDS]
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
MB=${1:-4}
ROUNDS=${2:-3}
tmp=$(mktemp -d)
trap 'topo_destroy; rm -rf "$tmp"; kmemleak_autoscan on' EXIT
kmemleak_autoscan off
insmod "$here/../../smkex.ko" || exit 1
topo_create || exit 1
port=11000
ms() { echo $(( $(date +%s%N) / 1000000 )); }
for round in $(seq "$ROUNDS"); do
  for mode in plain smkex records; do
    args=()
    [ $mode = plain ] && args=(--no-smkex)
    [ $mode = records ] && args=(--records)
    port=$((port + 1))
    start=$(ms)
    smkex_run "$tmp" run "$port" "$SERVER_ADDR1" --bytes $((MB * 1000000)) "${args[@]}" -- "${args[@]}"
    took=$(($(ms) - start))
    intact=no
    [ "$(out_field "$tmp/run.client" sent)" = "$(out_field "$tmp/run.client" received)" ] && intact=yes
    echo "round $round $mode: $MB MB each way in $took ms, intact $intact, handshake_us $(out_field "$tmp/run.client" handshake_us)"
  done
done | tee "$tmp/results"
for mode in plain smkex records; do
  printf '%s median: %s ms\n' "$mode" \
    "$(awk -v m="$mode:" '$3 == m {print $9}' "$tmp/results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
done
rmmod smkex
