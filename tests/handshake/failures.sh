#!/usr/bin/env bash
# How the handshake fails, on both sides, with the documented reason, errno
# and counter, and without hanging: no second path (no independent path, at
# the deadline), the peer forbidding joins (C flag, at once), a server
# without SMKEX, a client without SMKEX. Then unload: refused while an SMKEX
# socket exists; a channel's subflow closing mid-handshake (at once). Runs
# in the VM.
. "$(dirname "$0")/../lib.sh"
here=$(dirname "$0")
KO=${SMKEX_KO:-$here/../../smkex.ko}
tmp=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; topo_destroy; rm -rf "$tmp"; }
trap cleanup EXIT

ENETUNREACH=101 EPROTO=71 ECONNRESET=104
XFER=$here/../xfer.py
tap_plan 20
insmod "$KO" || { tap_diag "insmod failed"; exit $KSFT_FAIL; }
echo 'module smkex +p' >/proc/dynamic_debug/control || tap_diag "dynamic debug not available"
topo_create || { tap_diag "topology set-up failed"; exit $KSFT_FAIL; }

show() { sed "s/^/# $1 client: /" "$tmp/$1.client"; sed "s/^/# $1 server: /" "$tmp/$1.server"; }
# failed_with FILE REASON [ERRNO]: the CLI's final report is a failed
# handshake with that reason (and errno).
last_field() { sed -n "s/^$2: //p" "$1" | tail -n 1; }
failed_with() {
  [ "$(last_field "$1" state)" = failed ] && [ "$(last_field "$1" reason | cut -d' ' -f1)" = "$2" ] &&
    { [ -z "${3:-}" ] || [ "$(last_field "$1" errno | cut -d' ' -f1)" = "$3" ]; }
}

# --- no second path: no endpoint and no announced address, so no subflow joins.
topo_no_path2
timeouts=$(smkex_counter "$NS_C" FailedNoIndependentPath)
start=$(date +%s%N)
# The server waits longer, so the client's timer decides and the server then
# sees the client's reset.
smkex_run "$tmp" timeout 10401 "$SERVER_ADDR1" --timeout-ms 2000 -- --timeout-ms 20000
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
show timeout
tap_diag "no second path: client gave up after $elapsed_ms ms (timeout 2000 ms)"
tap_check "no second path: the client fails with no-independent-path and ENETUNREACH" \
  failed_with "$tmp/timeout.client" 14 $ENETUNREACH
tap_check "no second path: the server then fails with peer-closed (the client reset it)" \
  failed_with "$tmp/timeout.server" 10
in_bounds() {
  local us
  us=$(out_field "$tmp/timeout.client" handshake_us)
  [ "$us" -ge 2000000 ] && [ "$us" -lt 20000000 ] && [ "$elapsed_ms" -lt 60000 ]
}
tap_check "no second path: it took the set timeout (2 s), not much more" in_bounds
tap_check "no second path: FailedNoIndependentPath counted, not FailedTimeout" \
  test "$(smkex_counter "$NS_C" FailedNoIndependentPath)" = $((timeouts + 1)) -a \
  "$(smkex_counter "$NS_C" FailedTimeout)" = 0
logged() { dmesg | grep -q 'smkex: client handshake failed: reason 14, errno 101'; }
tap_check "no second path: the failure is logged under dynamic debug" logged

# --- the server forbids joins to its address (MPTCP C flag, net.mptcp.allow_join_initial_addr_port=0)
# and the application named no other: the client fails at once.
topo_endpoint 4
ip netns exec "$NS_S" sysctl -qw net.mptcp.allow_join_initial_addr_port=0
start=$(date +%s%N)
smkex_run "$tmp" cflag 10406 "$SERVER_ADDR1" --timeout-ms 20000 -- --timeout-ms 20000
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
ip netns exec "$NS_S" sysctl -qw net.mptcp.allow_join_initial_addr_port=1
show cflag
tap_diag "C flag: client gave up after $elapsed_ms ms (timeout 20000 ms)"
tap_check "C flag: the client fails with no-independent-path and ENETUNREACH" \
  failed_with "$tmp/cflag.client" 14 $ENETUNREACH
tap_check "C flag: at once, not at the deadline" test "$elapsed_ms" -lt 15000

# --- a server without SMKEX (an MPTCP echo server): it echoes the client's
# key share back, a record the client never receives.
smkex_run "$tmp" plainserver 10402 "$SERVER_ADDR1" --timeout-ms 5000 -- --no-smkex
show plainserver
tap_check "server without SMKEX: the client fails with the unexpected-record reason and EPROTO" \
  failed_with "$tmp/plainserver.client" 4 $EPROTO
tap_check "server without SMKEX: FailedUnexpectedRecord counted" \
  test "$(smkex_counter "$NS_C" FailedUnexpectedRecord)" -ge 1

# --- a client without SMKEX: its first bytes are application data, not a record.
smkex_run "$tmp" plainclient 10403 "$SERVER_ADDR1" --no-smkex --bytes 1000 -- --timeout-ms 5000
show plainclient
protocol_error() {
  [ "$(last_field "$tmp/plainclient.server" state)" = failed ] &&
    [ "$(last_field "$tmp/plainclient.server" errno | cut -d' ' -f1)" = $EPROTO ]
}
tap_check "client without SMKEX: the server fails with a protocol reason and EPROTO" protocol_error
tap_check "client without SMKEX: its connection is reset, it does not hang" \
  test "$(cut -d' ' -f1 "$tmp/plainclient.rc")" != 124
tap_check "client without SMKEX: the client sees no echo of its data" \
  test "$(out_field "$tmp/plainclient.client" received | cut -d' ' -f1)" = 0

# --- the client closes mid-handshake (no second path again): the server ends.
topo_no_path2
ip netns exec "$NS_S" timeout 120 "$SMKEX_CLI" server 10404 --timeout-ms 60000 >"$tmp/closed.server" 2>&1 &
server_pid=$!
wait_for 60 ns_listening "$NS_S" 10404
closed_before=$(smkex_counter "$NS_C" HandshakesClosed)
ip netns exec "$NS_C" timeout 5 "$SMKEX_CLI" client "$SERVER_ADDR1" 10404 --timeout-ms 60000 \
  >"$tmp/closed.client" 2>&1
tap_check "client gone mid-handshake: the server fails with peer-closed and ECONNRESET" \
  wait_for 60 failed_with "$tmp/closed.server" 10 $ECONNRESET
tap_check "client gone mid-handshake: its handshake counted as closed (HandshakesClosed +1)" \
  test "$(smkex_counter "$NS_C" HandshakesClosed)" = $((closed_before + 1))
wait "$server_pid"
server_pid=
sed 's/^/# closed server: /' "$tmp/closed.server"
topo_endpoint 4

# --- channel 2's subflow closes while the client waits for the server's
# records on it (a plain MPTCP server that never answers): the client
# fails at once with channel-closed, long before its deadline.
topo_endpoint 4
joins=$(ns_counter "$NS_S" MPTcpExtMPJoinAckRx)
ip netns exec "$NS_S" timeout 120 "$XFER" recv-hex 10407 >"$tmp/chanclosed.server" 2>&1 &
server_pid=$!
wait_for 60 ns_listening "$NS_S" 10407
start=$(date +%s%N)
ip netns exec "$NS_C" timeout 120 "$SMKEX_CLI" client "$SERVER_ADDR1" 10407 --timeout-ms 30000 \
  >"$tmp/chanclosed.client" 2>&1 &
client_pid=$!
joined() { [ "$(ns_counter "$NS_S" MPTcpExtMPJoinAckRx)" -gt "${joins:-0}" ]; }
wait_for 30 joined || tap_diag "channel 2 did not join"
sleep 1	# the join's events reach the client's work; it sends its nonce
ip -n "$NS_C" mptcp endpoint flush	# closes the subflow from c2
wait "$client_pid"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null
server_pid=
sed 's/^/# chanclosed client: /' "$tmp/chanclosed.client"
tap_check "channel 2 closed mid-handshake: the client fails with channel-closed and ECONNRESET" \
  failed_with "$tmp/chanclosed.client" 15 $ECONNRESET
tap_check "channel 2 closed mid-handshake: at once ($elapsed_ms ms), not at the 30 s deadline" \
  test "$elapsed_ms" -lt 20000

# --- unload: refused while an SMKEX socket exists.
ip netns exec "$NS_S" timeout 120 "$SMKEX_CLI" server 10405 >"$tmp/unload.server" 2>&1 &
server_pid=$!
wait_for 60 ns_listening "$NS_S" 10405
tap_check "rmmod is refused while an SMKEX listener exists" sh -c '! rmmod smkex 2>/dev/null'
tap_check "the module is still loaded" test -d /sys/module/smkex
kill "$server_pid"; wait "$server_pid" 2>/dev/null
server_pid=
refs_zero() { [ "$(cat /sys/module/smkex/refcnt)" = 0 ]; }
no_refs() { wait_for 20 refs_zero; }
tap_check "after the last SMKEX socket closed, the module is free" no_refs
tap_check "rmmod succeeds" rmmod smkex
tap_check "kmemleak clean" kmemleak_report
tap_exit
