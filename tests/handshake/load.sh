#!/usr/bin/env bash
# Load: SEQUENTIAL handshakes one after the other (default 1000), then
# CONCURRENT at once against one epoll server (default 256), over the two
# paths (concurrent.c). Zero failures, equal exporters on both ends of every
# connection, counters that add up on each side (started = completed +
# failed + closed during the handshake), unload, kmemleak. Runs in the VM.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
KO=${SMKEX_KO:-$here/../../smkex.ko}
SEQUENTIAL=${SMKEX_LOAD_SEQUENTIAL:-1000}
CONCURRENT=${SMKEX_LOAD_CONCURRENT:-256}
tmp=$(mktemp -d)
trap 'topo_destroy; rm -rf "$tmp"' EXIT

tap_plan 9
insmod "$KO" || { tap_diag "insmod failed"; exit $KSFT_FAIL; }
topo_create || { tap_diag "topology set-up failed"; exit $KSFT_FAIL; }

# run NAME PORT COUNT [CLIENT OPTIONS]: server and client, both summaries.
run() {
  local name=$1 port=$2 count=$3 start
  shift 3
  ip netns exec "$NS_S" timeout 900 "$here/concurrent" server "$port" "$count" >"$tmp/$name.server" 2>&1 &
  local spid=$!
  wait_for 60 ns_listening "$NS_S" "$port"
  start=$(date +%s%N)
  ip netns exec "$NS_C" timeout 900 "$here/concurrent" client "$SERVER_ADDR1" "$port" "$count" "$@" \
    >"$tmp/$name.client" 2>&1
  echo $? >"$tmp/$name.crc"
  wait "$spid"
  echo $? >"$tmp/$name.src"
  tap_diag "$name: $count connections in $((($(date +%s%N) - start) / 1000000)) ms"
  tap_diag "$name client: $(tr '\n' ' ' <"$tmp/$name.client")"
  tap_diag "$name server: $(tr '\n' ' ' <"$tmp/$name.server")"
}
summary() { sed -n "s/.* $2 \([0-9]*\).*/\1/p" "$tmp/$1"; }
all_complete() { # NAME COUNT
  test "$(cat "$tmp/$1.crc")" = 0 -a "$(cat "$tmp/$1.src")" = 0 \
    -a "$(summary "$1.client" complete)" = "$2" -a "$(summary "$1.server" complete)" = "$2" \
    -a "$(summary "$1.client" early_readiness)" = 0 -a "$(summary "$1.server" early_readiness)" = 0
}
# Every handshake ended one way, all of them completed.
counters_add_up() { # NS COMPLETED
  smkex_balance "$1" && [ "$(smkex_counter "$1" HandshakesCompleted)" = "$2" ] &&
    [ "$(smkex_counter "$1" HandshakesFailed)" = 0 ]
}

run sequential 10611 "$SEQUENTIAL" --batch 1
tap_check "$SEQUENTIAL sequential handshakes: all complete, exporters equal, never ready early" \
  all_complete sequential "$SEQUENTIAL"
run concurrent 10612 "$CONCURRENT"
tap_check "$CONCURRENT concurrent handshakes: all complete, exporters equal, never ready early" \
  all_complete concurrent "$CONCURRENT"
total=$((SEQUENTIAL + CONCURRENT))
tap_check "client counters add up: started = completed + failed + closed, $total completed" \
  counters_add_up "$NS_C" $total
tap_check "server counters add up: started = completed + failed + closed, $total completed" \
  counters_add_up "$NS_S" $total
tap_check "no connection refused for want of a pending provenance record" \
  test "$(smkex_counter "$NS_S" AcceptRefusedUntracked)" = 0
tap_check "no mismatched exporter on either side" \
  test "$(summary sequential.server mismatches)$(summary concurrent.server mismatches)" = 00
tap_check "no connection error on either side" \
  test "$(summary sequential.client errors)$(summary concurrent.client errors)$(summary sequential.server errors)$(summary concurrent.server errors)" = 0000
tap_check "rmmod succeeds once the connections are gone" smkex_unload
tap_check "kmemleak clean" kmemleak_report
tap_exit
