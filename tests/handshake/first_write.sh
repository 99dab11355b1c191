#!/usr/bin/env bash
# The client's first write after its handshake is not held behind its last
# record. Record 5 is small, and Nagle holds a small segment while the last
# small one sent is unacknowledged: without care the application's first
# write waited one RTT for record 5's ACK. With an RTT of 300 ms on both
# paths, the client's first data segment after record 5 must leave before
# that ACK comes back (an order on the wire, not a time). Leaks are left to
# the VM run's closing kmemleak scan. Runs in the VM.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
KO=${SMKEX_KO:-$here/../../smkex.ko}
RTT_MS=300
PORT=10651
tmp=$(mktemp -d)
cpid=
trap '[ -n "$cpid" ] && kill "$cpid" 2>/dev/null; topo_destroy; rm -rf "$tmp"' EXIT

tap_plan 4
insmod "$KO" || { tap_diag "insmod failed"; exit $KSFT_FAIL; }
topo_create || { tap_diag "topology set-up failed"; exit $KSFT_FAIL; }
for d in "$NS_R1:r1c" "$NS_R1:r1s" "$NS_R2:r2c" "$NS_R2:r2s"; do
  tc -n "${d%%:*}" qdisc add dev "${d#*:}" root netem delay "$((RTT_MS / 2))ms"
done

# On the client's path-1 link both directions are seen in the client's order.
ip netns exec "$NS_C" tcpdump --immediate-mode -U -n -i c1 -w "$tmp/c1.pcap" "tcp port $PORT" 2>"$tmp/tcpdump" &
cpid=$!
wait_for 30 grep -q listening "$tmp/tcpdump"
ip netns exec "$NS_S" timeout 120 "$here/concurrent" server $PORT 1 >"$tmp/server" 2>&1 &
spid=$!
wait_for 60 ns_listening "$NS_S" $PORT
ip netns exec "$NS_C" timeout 120 "$here/concurrent" client "$SERVER_ADDR1" $PORT 1 >"$tmp/client" 2>&1
crc=$?
wait "$spid"
src=$?
sleep 0.5
kill -INT "$cpid"; wait "$cpid" 2>/dev/null; cpid=

tap_check "the handshake completed on both sides with equal exporters" test "$crc" = 0 -a "$src" = 0

# Relative sequence numbers; client-to-server segments with payload are
# record 1, record 5 (36 bytes each) and the first write (the 32-byte exporter).
tcpdump -nn -tt -r "$tmp/c1.pcap" 2>/dev/null >"$tmp/c1.txt"
awk -v srv="$SERVER_ADDR1." '
  function field(name,   i) { for (i = 1; i < NF; i++) if ($i == name) return $(i + 1); return "" }
  {
    len = $NF + 0; from_client = index($5, srv) == 1
    if (from_client && len > 0) {
      n++
      if (n == 2) { split(field("seq"), s, /[:,]/); rec5_end = s[2] + 0; rec5_len = len; rec5_t = $1 }
      if (n == 3) { write_t = $1; write_len = len }
    } else if (!from_client && rec5_end && !ack_t && field("ack") + 0 >= rec5_end) {
      ack_t = $1
    }
  }
  END {
    printf "record5_len %d write_len %d write_after_record5_ms %.1f ack_after_record5_ms %.1f\n",
      rec5_len, write_len, write_t ? (write_t - rec5_t) * 1000 : -1, ack_t ? (ack_t - rec5_t) * 1000 : -1
  }' "$tmp/c1.txt" >"$tmp/order"
tap_diag "$(cat "$tmp/order") (RTT $RTT_MS ms)"
field() { sed -n "s/.*\b$1 \([-0-9.]*\).*/\1/p" "$tmp/order"; }
tap_check "the capture saw record 5 (36 bytes) and the first write (32 bytes) on path 1" \
  test "$(field record5_len)" = 36 -a "$(field write_len)" = 32
tap_check "the first write left before record 5's ACK came back" \
  awk -v w="$(field write_after_record5_ms)" -v a="$(field ack_after_record5_ms)" 'BEGIN { exit !(w >= 0 && (a < 0 || w < a)) }'
tap_check "rmmod succeeds once the connection is gone" smkex_unload
tap_exit
