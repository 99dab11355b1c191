#!/usr/bin/env bash
# What the handshake costs, side by side in one VM boot over the two-path
# topology (Documentation/benchmarks.md derives the floor these numbers are
# read against). Prints numbers; asserts nothing. Run from the host:
#   make -C tests/handshake && make -C tests/bench && qemu/run-vm.sh tests/bench/handshake.sh [LATENCY_RUNS] [RATE_CONNECTIONS]
# RATE_CONNECTIONS 0 measures the latency only; SMKEX_KO names the module
# (default: the repository's smkex.ko), e.g. to compare two in one boot.
#
# 1. Latency: with netem RTTs of 0 (the emulator's own cost), 20 and 100 ms
#    on both paths, when each side completes, from connect() (client) or
#    the accept (server), and from the moment its channel 2 was usable
#    (SMKEX_INFO's channel_up_us), in RTTs; and the same messages after
#    channel 2 without SMKEX (tests/bench/exchange: two plain TCP
#    connections, no crypto), the floor as this network realizes it.
# 2. Connection rate: sequential connect + exchange + close, SMKEX against
#    plain MPTCP with the same two subflows (the client closes only once its
#    join is established and the server only at the client's close,
#    concurrent --joined) and against plain MPTCP as such (which often
#    closes before its join completes); --batch 1.
# 3. Server capacity: 256 clients at once against one epoll server, SMKEX
#    against plain MPTCP accepts, and the VM's CPU time per connection.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
RUNS=${1:-9}
RATE_N=${2:-100}
CONCURRENT=$here/../handshake/concurrent
EXCHANGE=$here/exchange
tmp=$(mktemp -d)
trap 'topo_destroy; rm -rf "$tmp"; kmemleak_autoscan on' EXIT
kmemleak_autoscan off
insmod "${SMKEX_KO:-$here/../../smkex.ko}" || exit 1
topo_create || exit 1
ROUTER_IFS="$NS_R1:r1c $NS_R1:r1s $NS_R2:r2c $NS_R2:r2s"

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "-" }'; }
# set_rtt MS: every router interface delays by half the RTT (each direction
# crosses one egress per router); 0 removes the delay.
set_rtt() {
  local d
  for d in $ROUTER_IFS; do
    tc -n "${d%%:*}" qdisc del dev "${d#*:}" root 2>/dev/null
    [ "$1" = 0 ] || tc -n "${d%%:*}" qdisc add dev "${d#*:}" root netem delay "$(($1 / 2))ms"
  done
}

# path_rtt_us DEV: the RTT to the server through the client's DEV as ping
# sees it (median of 9 after one warm-up), the emulator's forwarding cost
# included: netem's delay is the RTT asked for, this is the one the
# packets get, and the unit the floor is counted in.
path_rtt_us() {
  ip netns exec "$NS_C" ping -n -c 10 -i 0.2 -I "$1" "$SERVER_ADDR1" 2>/dev/null |
    sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' | tail -n +2 | awk '{ printf "%d\n", $1 * 1000 }' | median
}

# in_rtt US / in_ping US: US in the RTT asked for ($rtt) / in the RTT ping
# measured (the mean of both paths', $ping1 and $ping2).
in_rtt() { [ "$rtt" = 0 ] && echo "-" || awk -v us="$1" -v r="$rtt" 'BEGIN { printf "%.2f", us / (r * 1000) }'; }
in_ping() { awk -v us="$1" -v a="$ping1" -v b="$ping2" 'BEGIN { if (a + b) printf "%.2f", 2 * us / (a + b); else print "-" }'; }

# exchange_us PORT: the median time of RUNS rounds of the handshake's
# messages after channel 2 over plain TCP (tests/bench/exchange.c).
exchange_us() {
  ip netns exec "$NS_S" timeout 300 "$EXCHANGE" server "$1" "$RUNS" >/dev/null &
  local spid=$!
  wait_for 60 ns_listening "$NS_S" "$1"
  ip netns exec "$NS_C" timeout 300 "$EXCHANGE" client "$SERVER_ADDR1" "$1" "$RUNS" c2 |
    sed -n 's/^exchange_us //p' | median
  wait "$spid" || echo "exchange server failed" >&2
}

echo "== 1. handshake latency ($RUNS connections per RTT, medians; us and RTTs)"
port=12000
for rtt in 0 20 100; do
  set_rtt "$rtt"
  ping1=$(path_rtt_us c1); ping2=$(path_rtt_us c2)
  echo "rtt $rtt ms: measured by ping: path 1 $ping1 us, path 2 $ping2 us"
  : >"$tmp/lat"
  for i in $(seq "$RUNS"); do
    port=$((port + 1))
    smkex_run "$tmp" lat "$port" "$SERVER_ADDR1" --timeout-ms 30000 -- --timeout-ms 30000
    [ "$(out_field "$tmp/lat.client" state)" = complete ] || { echo "rtt $rtt run $i: not complete"; continue; }
    echo "$(out_field "$tmp/lat.client" handshake_us) $(out_field "$tmp/lat.client" channel1_up_us)" \
      "$(out_field "$tmp/lat.client" channel2_up_us) $(out_field "$tmp/lat.server" handshake_us)" \
      "$(out_field "$tmp/lat.server" channel2_up_us)" >>"$tmp/lat"
  done
  c_done=$(awk '{ print $1 }' "$tmp/lat" | median)
  c_ch1=$(awk '{ print $2 }' "$tmp/lat" | median)
  c_ch2=$(awk '{ print $3 }' "$tmp/lat" | median)
  c_after=$(awk '{ print $1 - $3 }' "$tmp/lat" | median)
  s_done=$(awk '{ print $4 }' "$tmp/lat" | median)
  s_after=$(awk '{ print $4 - $5 }' "$tmp/lat" | median)
  echo "rtt $rtt ms: client: channel 1 usable $c_ch1 us ($(in_rtt "$c_ch1") RTT), channel 2 usable $c_ch2 us ($(in_rtt "$c_ch2") RTT)," \
    "complete $c_done us ($(in_rtt "$c_done") RTT from connect, $c_after us = $(in_rtt "$c_after") RTT after channel 2);" \
    "server: complete $s_done us ($(in_rtt "$s_done") RTT from accept, $s_after us = $(in_rtt "$s_after") RTT after its channel 2)"
  echo "rtt $rtt ms, in the measured RTT: client complete $(in_ping "$c_after") RTT after channel 2 (floor 1)," \
    "server $(in_ping "$s_after") RTT after its channel 2 (floor 2)"
  port=$((port + 1))
  x_us=$(exchange_us "$port")
  above=$(awk -v c="$c_after" -v x="$x_us" 'BEGIN { if (c x ~ /^[0-9]+$/) print c - x; else print "-" }')
  echo "rtt $rtt ms: the same messages after channel 2 over plain TCP: $x_us us ($(in_ping "$x_us") measured RTT);" \
    "the client's complete - U is $above us above it ($(in_ping "$above") measured RTT)"
done
set_rtt 0
[ "$RATE_N" = 0 ] && { rmmod smkex; exit 0; }

# rate NAME PORT COUNT BATCH [--plain [--joined]]: one client/server run; prints its
# connections per second and the VM's busy CPU ms per connection.
busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
rate() {
  local name=$1 port=$2 count=$3 batch=$4 start ms cpu0 cpu1
  shift 4
  ip netns exec "$NS_S" timeout 900 "$CONCURRENT" server "$port" "$count" "$@" >"$tmp/$name.server" 2>&1 &
  local spid=$!
  wait_for 60 ns_listening "$NS_S" "$port"
  cpu0=$(busy_jiffies)
  start=$(date +%s%N)
  ip netns exec "$NS_C" timeout 900 "$CONCURRENT" client "$SERVER_ADDR1" "$port" "$count" --batch "$batch" "$@" \
    >"$tmp/$name.client" 2>&1
  wait "$spid"
  ms=$((($(date +%s%N) - start) / 1000000))
  cpu1=$(busy_jiffies)
  awk -v n="$count" -v ms="$ms" -v j=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v what="$name" \
      -v out="$(tail -n 1 "$tmp/$name.client")" \
    'BEGIN { printf "%s: %d connections in %d ms: %.1f per second, %.2f CPU ms per connection (%s)\n",
             what, n, ms, n * 1000 / ms, j * 1000 / hz / n, out }'
}
ratios() { # FILE BASELINE: median rates of the smkex and BASELINE lines, and their ratio
  local s p sc pc
  s=$(grep '^smkex:' "$1" | sed 's/.*: \([0-9.]*\) per second.*/\1/' | median)
  p=$(grep "^$2:" "$1" | sed 's/.*: \([0-9.]*\) per second.*/\1/' | median)
  sc=$(grep '^smkex:' "$1" | sed 's/.* \([0-9.]*\) CPU ms.*/\1/' | median)
  pc=$(grep "^$2:" "$1" | sed 's/.* \([0-9.]*\) CPU ms.*/\1/' | median)
  awk -v s="$s" -v p="$p" -v sc="$sc" -v pc="$pc" -v b="$2" 'BEGIN {
    printf "median: smkex %.1f/s, %s %.1f/s, ratio %.3f; CPU per connection smkex %.2f ms, %s %.2f ms, difference %.2f ms (both ends)\n",
           s, b, p, s / p, sc, b, pc, sc - pc }'
}

# The baseline "with the same two subflows": plain MPTCP whose client closes
# only once its join is established, and whose server closes only at the
# client's close, so that the join completes on both ends (concurrent's
# --joined), as an SMKEX connection cannot complete before its join; plain
# MPTCP as such often closes before its join completes.
echo "== 2. connection rate: $RATE_N sequential connections, 3 rounds alternating"
: >"$tmp/rate"
for round in 1 2 3; do
  rate plain $((12500 + round * 3)) "$RATE_N" 1 --plain | tee -a "$tmp/rate"
  rate joined $((12501 + round * 3)) "$RATE_N" 1 --plain --joined | tee -a "$tmp/rate"
  rate smkex $((12502 + round * 3)) "$RATE_N" 1 | tee -a "$tmp/rate"
done
ratios "$tmp/rate" joined
ratios "$tmp/rate" plain

echo "== 3. server capacity: 256 clients at once, 3 rounds alternating"
: >"$tmp/cap"
for round in 1 2 3; do
  rate plain $((12600 + round * 2)) 256 256 --plain | tee -a "$tmp/cap"
  rate smkex $((12601 + round * 2)) 256 256 | tee -a "$tmp/cap"
done
ratios "$tmp/cap" plain
for ns in "$NS_C" "$NS_S"; do smkex_balance "$ns"; done
rmmod smkex
