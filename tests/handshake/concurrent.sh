#!/usr/bin/env bash
# 32 SMKEX connections at once over the two paths: a client with
# non-blocking sockets and an epoll server (concurrent.c). epoll must report
# a connection ready only once its handshake is complete, and both ends of
# every connection must derive the same exporter output. Runs in the VM.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
KO=${SMKEX_KO:-$here/../../smkex.ko}
COUNT=32
tmp=$(mktemp -d)
trap 'topo_destroy; rm -rf "$tmp"' EXIT

tap_plan 7
insmod "$KO" || { tap_diag "insmod failed"; exit $KSFT_FAIL; }
topo_create || { tap_diag "topology set-up failed"; exit $KSFT_FAIL; }

ip netns exec "$NS_S" timeout 900 "$here/concurrent" server 10601 $COUNT >"$tmp/server" 2>&1 &
spid=$!
wait_for 60 ns_listening "$NS_S" 10601
start=$(date +%s)
ip netns exec "$NS_C" timeout 900 "$here/concurrent" client "$SERVER_ADDR1" 10601 $COUNT >"$tmp/client" 2>&1
crc=$?
wait "$spid"
src=$?
tap_diag "$COUNT connections in $(($(date +%s) - start)) s"
tap_diag "client: $(tr '\n' ' ' <"$tmp/client")"
tap_diag "server: $(tr '\n' ' ' <"$tmp/server")"
summary() { sed -n "s/.* $2 \([0-9]*\).*/\1/p" "$tmp/$1"; }
tap_check "client: all $COUNT handshakes complete, exporters match" test "$crc" = 0 -a "$(summary client complete)" = $COUNT
tap_check "server: all $COUNT handshakes complete, exporters match" test "$src" = 0 -a "$(summary server complete)" = $COUNT
tap_check "client: epoll never reported a connection ready before completion" test "$(summary client early_readiness)" = 0
tap_check "server: epoll never reported a connection ready before completion" test "$(summary server early_readiness)" = 0
tap_check "counters: $COUNT completed on each side" \
  test "$(smkex_counter "$NS_C" HandshakesCompleted)" = $COUNT -a "$(smkex_counter "$NS_S" HandshakesCompleted)" = $COUNT
tap_check "rmmod succeeds once the connections are gone" \
  sh -c 'for i in $(seq 100); do rmmod smkex 2>/dev/null && exit 0; sleep 0.2; done; exit 1'
tap_check "kmemleak clean" kmemleak_report
tap_exit
