#!/usr/bin/env bash
# The one-path attacker tool that the attack tests rely on: queued by
# nftables in path 1's forwarding namespace, it must rewrite a key-share
# record crossing path 1 (with a TCP checksum the receiver accepts), count
# exactly that, and leave everything else alone. Runs in the VM.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
XFER=$here/../xfer.py
tmp=$(mktemp -d)
attacker_pid=
cleanup() { [ -n "$attacker_pid" ] && kill "$attacker_pid" 2>/dev/null; topo_destroy; rm -rf "$tmp"; }
trap cleanup EXIT

# A server key-share record: type 3, version 1, length 32, then Y.
KEY=$(printf 'aa%.0s' $(seq 32))
RECORD=03010020$KEY
TAMPERED=03010020ab${KEY:2}
TRAILER=$(printf 'hello' | od -An -tx1 | tr -d ' \n')

tap_plan 6
topo_create || { tap_diag "topology set-up failed"; exit $KSFT_FAIL; }
path1_to_queue || { tap_diag "nft failed"; exit $KSFT_FAIL; }
ip netns exec "$NS_R1" "$here/attacker" --queue 0 --match 03010020 --offset 4 \
  >"$tmp/attacker.out" 2>"$tmp/attacker.err" &
attacker_pid=$!
tap_check "attacker is ready on the queue" wait_for 30 grep -q ready "$tmp/attacker.out"

# send_over NAME ADDR PORT: one TCP connection carrying RECORD+TRAILER.
send_over() {
  ip netns exec "$NS_S" timeout 120 "$XFER" recv-hex "$3" --proto tcp >"$tmp/$1" 2>&1 &
  local spid=$!
  wait_for 60 ns_listening "$NS_S" "$3" || return 1
  ip netns exec "$NS_C" timeout 120 "$XFER" send-hex "$2" "$3" "$RECORD$TRAILER" --proto tcp || return 1
  wait "$spid"
}
received() { sed -n 's/^received //p' "$tmp/$1"; }

send_over path1 "$SERVER_ADDR1" 10011
tap_diag "path 1 delivered $(received path1)"
tap_check "path 1: the key share arrives with one bit flipped, the rest intact" \
  test "$(received path1)" = "$TAMPERED$TRAILER"
send_over path2 "$SERVER_ADDR2" 10012
tap_check "path 2: the same record arrives untouched" test "$(received path2)" = "$RECORD$TRAILER"

kill -TERM "$attacker_pid"
wait "$attacker_pid"
tap_check "attacker exits cleanly" test $? = 0
attacker_pid=
tap_diag "$(cat "$tmp/attacker.out" "$tmp/attacker.err" | tr '\n' ' ')"
rewritten=$(sed -n 's/.*rewritten \([0-9]*\).*/\1/p' "$tmp/attacker.out")
tap_check "attacker reports exactly one rewrite" test "${rewritten:-x}" = 1
tap_check "kmemleak clean" kmemleak_report
tap_exit
