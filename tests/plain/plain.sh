#!/usr/bin/env bash
# With smkex.ko loaded, sockets that never set an SMKEX option behave exactly
# as without it: MPTCP over the two-path topology (a secondary subflow joins
# over path 2) and plain TCP carry data intact, in IPv4 and IPv6, and hold no
# reference on the module. Runs in the VM.
. "$(dirname "$0")/../lib.sh"
here=$(dirname "$0")
KO=${SMKEX_KO:-$here/../../smkex.ko}
XFER=$here/../xfer.py
BYTES=1000000
tmp=$(mktemp -d)
trap 'topo_destroy; rm -rf "$tmp"' EXIT

tap_plan 12
insmod "$KO" || { tap_diag "insmod failed"; exit $KSFT_FAIL; }
topo_create || { tap_diag "topology set-up failed"; exit $KSFT_FAIL; }

# transfer NAME PROTO FAMILY SERVER_ADDR PORT: echo BYTES through a server in
# NS_S; both directions' checksums must match.
transfer() {
  local name=$1 proto=$2 family=$3 addr=$4 port=$5
  ip netns exec "$NS_S" timeout 300 "$XFER" server "$port" --proto "$proto" --family "$family" \
    >"$tmp/$name.server" 2>&1 &
  local spid=$!
  wait_for 60 ns_listening "$NS_S" "$port" || { tap_diag "$name: server did not listen"; return 1; }
  ip netns exec "$NS_C" timeout 300 "$XFER" client "$addr" "$port" "$BYTES" --proto "$proto" \
    --family "$family" >"$tmp/$name.client" 2>&1 || { tap_diag "$name: client failed: $(cat "$tmp/$name.client")"; return 1; }
  wait "$spid" || { tap_diag "$name: server failed: $(cat "$tmp/$name.server")"; return 1; }
  local c_sent c_recv s_recv
  c_sent=$(sed -n 's/^sent //p' "$tmp/$name.client")
  c_recv=$(sed -n 's/^received //p' "$tmp/$name.client")
  s_recv=$(sed -n 's/^received //p' "$tmp/$name.server")
  tap_diag "$name: client sent $c_sent; server received $s_recv; client received $c_recv"
  [ -n "$c_sent" ] && [ "$c_sent" = "$s_recv" ] && [ "$c_sent" = "$c_recv" ] \
    && [ "${c_sent%% *}" = "$BYTES" ]
}

joins_before=$(ns_counter "$NS_S" MPTcpExtMPJoinAckRx)
path2_before=$(ns_forwarded_tcp "$NS_R2")
tap_check "MPTCP over IPv4: $BYTES bytes each way intact" transfer mptcp4 mptcp 4 "$SERVER_ADDR1" 10001
joined() {
  [ "$(ns_counter "$NS_S" MPTcpExtMPJoinAckRx)" -gt "$1" ] && return 0
  tap_diag "server MPTCP counters: $(ip netns exec "$NS_S" nstat -az 'MPTcpExt*' | awk '$2 > 0 {printf "%s=%s ", $1, $2}')"
  tap_diag "client MPTCP counters: $(ip netns exec "$NS_C" nstat -az 'MPTcpExt*' | awk '$2 > 0 {printf "%s=%s ", $1, $2}')"
  return 1
}
tap_check "MPTCP over IPv4: a secondary subflow joined" joined "${joins_before:-0}"
# The secondary subflow's handshake and data went through path 2's router.
path2_used() { [ "$(ns_forwarded_tcp "$NS_R2")" -gt $(($1 + 10)) ]; }
tap_check "MPTCP over IPv4: path 2 carried the secondary subflow" path2_used "$path2_before"

topo_signal 6
joins_before=$(ns_counter "$NS_S" MPTcpExtMPJoinAckRx)
path2_before=$(ns_forwarded_tcp "$NS_R2")
tap_check "MPTCP over IPv6: $BYTES bytes each way intact" transfer mptcp6 mptcp 6 "$SERVER_ADDR1_V6" 10002
tap_check "MPTCP over IPv6: a secondary subflow joined" joined "${joins_before:-0}"
tap_check "MPTCP over IPv6: path 2 carried the secondary subflow" path2_used "$path2_before"

tap_check "TCP over IPv4: $BYTES bytes each way intact" transfer tcp4 tcp 4 "$SERVER_ADDR1" 10003
tap_check "TCP over IPv6: $BYTES bytes each way intact" transfer tcp6 tcp 6 "$SERVER_ADDR1_V6" 10004

refcnt_zero() { [ "$(cat /sys/module/smkex/refcnt)" = 0 ]; }
tap_check "sockets without SMKEX hold no module reference" refcnt_zero
no_module_log() { ! dmesg | grep -E 'smkex: .*(refused|error)'; }
tap_check "the module logged nothing about these sockets" no_module_log
tap_check "rmmod succeeds" rmmod smkex
tap_check "kmemleak clean" kmemleak_report
tap_exit
