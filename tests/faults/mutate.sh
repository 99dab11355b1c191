#!/usr/bin/env bash
# A packet mutator on both paths (mutator.c, NFQUEUE in each router): a
# share of the packets carrying handshake bytes is flipped, truncated,
# duplicated or held back behind the next one, over many connections, IPv4
# and IPv6. Every connection must either complete with equal keys on both
# sides or fail closed (no key on the failing side, a precise reason), and
# never complete with unequal keys; none may hang. Runs in the VM.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
KO=${SMKEX_KO:-$here/../../smkex.ko}
CONCURRENT=$here/../handshake/concurrent
V4=${SMKEX_MUTATE_V4:-40}
V6=${SMKEX_MUTATE_V6:-20}
RATE=${SMKEX_MUTATE_RATE:-30}
tmp=$(mktemp -d)
mutators=()
cleanup() { for p in "${mutators[@]}"; do kill "$p" 2>/dev/null; done; topo_destroy; rm -rf "$tmp"; }
trap cleanup EXIT

tap_plan 12
insmod "$KO" || { tap_diag "insmod failed"; exit $KSFT_FAIL; }
topo_create || { tap_diag "topology set-up failed"; exit $KSFT_FAIL; }
# A connection whose bytes were cut short must end at a bound, not hang.
echo 5000 >/sys/module/smkex/parameters/handshake_timeout_ms

# Each router queues the TCP packets it forwards to its own mutator.
for r in 1 2; do
  ns=$NS_R1; [ $r = 2 ] && ns=$NS_R2
  ip netns exec "$ns" nft -f - <<'NFT'
table inet smkex_mutate {
  chain forward {
    type filter hook forward priority 0; policy accept;
    meta l4proto tcp queue num 0
  }
}
NFT
  ip netns exec "$ns" "$here/mutator" --queue 0 --seed $((r * 1009)) --rate "$RATE" \
    >"$tmp/mutator$r.out" 2>"$tmp/mutator$r.log" &
  mutators+=($!)
  wait_for 30 grep -q ready "$tmp/mutator$r.out" || tap_diag "mutator $r not ready"
done

# run_family FAMILY ADDR COUNT PORT: COUNT connections one after the other,
# one epoll client and server process (concurrent --report), each printing
# a line per connection: "conn PORT complete EXPORTER" or "conn PORT failed
# REASON [key-readable]".
run_family() {
  local spid
  topo_endpoint "$1"
  ip netns exec "$NS_S" timeout 900 "$CONCURRENT" server "$4" "$3" --family "$1" --report \
    >"$tmp/v$1.server" 2>&1 &
  spid=$!
  wait_for 60 ns_listening "$NS_S" "$4"
  ip netns exec "$NS_C" timeout 900 "$CONCURRENT" client "$2" "$4" "$3" --batch 1 --family "$1" --report \
    >"$tmp/v$1.client" 2>&1
  local crc=$?
  reap_server "$spid"
  echo "$crc $reaped" >"$tmp/v$1.rc"
  tap_diag "IPv$1: client $(tail -n 1 "$tmp/v$1.client"); server $(tail -n 1 "$tmp/v$1.server"); exit statuses $(cat "$tmp/v$1.rc")"
}
run_family 4 "$SERVER_ADDR1" "$V4" 11001
run_family 6 "$SERVER_ADDR1_V6" "$V6" 11002

# One line per connection, both sides side by side (lib.sh).
report_outcomes "$tmp/outcomes" "$tmp/v?.client" "$tmp/v?.server"
count() { awk "$1" "$tmp/outcomes" | wc -l; }
complete_equal=$(count '$2 ~ /^complete/ && $2 == $3')
unequal=$(count '$2 ~ /^complete/ && $3 ~ /^complete/ && $2 != $3')
client_only=$(count '$2 ~ /^complete/ && $3 ~ /^failed/')
server_only=$(count '$3 ~ /^complete/ && $2 ~ /^failed/')
both_failed=$(count '$2 ~ /^failed/ && $3 ~ /^failed/')
unreported=$(count '$2 == "-" || $3 == "-"')
open_key=$(count '/key-readable/')
awk '!($2 ~ /^complete/ && $3 ~ /^complete/) { print "# not complete on both sides: " $0 }' "$tmp/outcomes"
awk '$2 ~ /^complete/ && $3 ~ /^complete/ && $2 != $3 { print "# UNEQUAL: " $0 }' "$tmp/outcomes"

for p in "${mutators[@]}"; do kill -TERM "$p"; wait "$p"; done
mutators=()
for r in 1 2; do tap_diag "path $r $(cat "$tmp/mutator$r.out" | tail -n 1)"; done
total() { sed -n "s/.* $1 \([0-9]*\).*/\1/p" "$tmp"/mutator?.out | awk '{ s += $1 } END { print s + 0 }'; }
tap_diag "$((V4 + V6)) connections: $complete_equal complete with equal keys, $both_failed failed on both sides, $client_only complete only on the client (the server refused its Finished), $server_only only on the server, $unreported not reported by a side"
for kind in flipped truncated duplicated reordered; do
  tap_check "the mutator really acted on both paths: $(total "$kind") packets $kind" test "$(total "$kind")" -ge 1
done
tap_check "never complete with unequal keys" test "$unequal" = 0
tap_check "a side that did not complete holds no key (fails closed)" test "$open_key" = 0
tap_check "every connection ended on both sides within its bound, no early readiness or error" \
  test "$unreported/$(cat "$tmp/v4.rc")/$(cat "$tmp/v6.rc")" = "0/0 0/0 0"
tap_check "every connection accounted for: $((V4 + V6)) on both sides" \
  test "$(wc -l <"$tmp/outcomes")" = $((V4 + V6))
tap_check "both outcomes seen: some connections complete, some fail closed" \
  test "$complete_equal" -ge 1 -a $((both_failed + client_only + server_only)) -ge 1
both_balanced() { smkex_balance "$NS_C" && smkex_balance "$NS_S"; }
tap_check "counters add up on both sides (started = completed + failed + closed)" both_balanced
tap_check "rmmod succeeds once the connections are gone" smkex_unload
tap_check "kmemleak clean" kmemleak_report
tap_exit
