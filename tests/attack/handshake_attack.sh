#!/usr/bin/env bash
# An active attacker on path 1 (NFQUEUE in path 1's forwarding namespace)
# rewrites a key share in flight, with a valid TCP checksum: first the
# server's, then the client's. The client must detect it (binding-hash
# reason, EKEYREJECTED, counter) and neither side may complete. The attacker
# must have rewritten at least one record, so that a detection can never
# come from an attacker that did nothing. Runs in the VM.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
KO=${SMKEX_KO:-$here/../../smkex.ko}
tmp=$(mktemp -d)
attacker_pid=
cleanup() { [ -n "$attacker_pid" ] && kill "$attacker_pid" 2>/dev/null; topo_destroy; rm -rf "$tmp"; }
trap cleanup EXIT

EKEYREJECTED=129
tap_plan 13
insmod "$KO" || { tap_diag "insmod failed"; exit $KSFT_FAIL; }
topo_create || { tap_diag "topology set-up failed"; exit $KSFT_FAIL; }
path1_to_queue || { tap_diag "nft failed"; exit $KSFT_FAIL; }

# attack NAME HEADER PORT: run one handshake while the attacker flips the
# first key-share byte of records starting with HEADER on path 1.
attack() {
  ip netns exec "$NS_R1" "$here/attacker" --queue 0 --match "$2" --offset 4 \
    >"$tmp/$1.attacker" 2>&1 &
  attacker_pid=$!
  wait_for 30 grep -q ready "$tmp/$1.attacker" || return 1
  smkex_run "$tmp" "$1" "$3" "$SERVER_ADDR1" --timeout-ms 5000 -- --timeout-ms 5000
  kill -TERM "$attacker_pid"; wait "$attacker_pid"
  attacker_pid=
  sed "s/^/# $1 client: /" "$tmp/$1.client"
  sed "s/^/# $1 server: /" "$tmp/$1.server"
  tap_diag "$1 attacker: $(tr '\n' ' ' <"$tmp/$1.attacker")"
}
rewrote() { [ "$(sed -n 's/.*rewritten \([0-9]*\).*/\1/p' "$tmp/$1.attacker")" -ge 1 ]; }
client_detects() {
  [ "$(out_field "$tmp/$1.client" state)" = failed ] &&
    [ "$(out_field "$tmp/$1.client" reason | cut -d' ' -f1)" = 1 ] &&
    [ "$(out_field "$tmp/$1.client" errno | cut -d' ' -f1)" = $EKEYREJECTED ]
}
# The server may first see the client's reset as a poll error while its own
# state still says handshake; what matters is that it never completes.
server_not_complete() {
  ! grep -q '^state: complete' "$tmp/$1.server" && grep -q '^state: failed' "$tmp/$1.server"
}
no_key() { ! grep -q '^fingerprint:' "$tmp/$1.client" "$tmp/$1.server"; }

for target in server:03010020:10501 client:01010020:10502; do
  IFS=: read -r who header port <<<"$target"
  before=$(smkex_counter "$NS_C" FailedBindingHashMismatch)
  attack "$who-share" "$header" "$port"
  tap_check "$who key share: the attacker rewrote at least one record on path 1" rewrote "$who-share"
  tap_check "$who key share: the client detects it (binding hash, EKEYREJECTED)" client_detects "$who-share"
  tap_check "$who key share: FailedBindingHashMismatch counted" \
    test "$(smkex_counter "$NS_C" FailedBindingHashMismatch)" = $((before + 1))
  tap_check "$who key share: the server does not complete" server_not_complete "$who-share"
  tap_check "$who key share: neither side reports a key" no_key "$who-share"
done
tap_check "no handshake completed under attack" test "$(smkex_counter "$NS_S" HandshakesCompleted)" = 0
tap_check "rmmod succeeds" sh -c 'for i in $(seq 50); do rmmod smkex 2>/dev/null && exit 0; sleep 0.2; done; exit 1'
tap_check "kmemleak clean" kmemleak_report
tap_exit
