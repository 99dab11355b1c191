#!/usr/bin/env bash
# The in-kernel handshake over the two-path topology, IPv4 and IPv6, between
# the smkex CLI's client and server: both complete with the same key,
# exporter and transcript hash; channel 1 is the path-1 subflow and channel
# 2 the path-2 one (the client's second interface to the same server
# address); a capture in each forwarding namespace shows every record on its
# own path only; a second connection gets other keys; 10 MB cross each way
# intact afterwards. The second deployment: a server address announced by
# ADD_ADDR is channel 2 only if the application named it (SMKEX_PEER_ADDRS);
# otherwise the client fails with "no independent path". Runs in the VM.
. "$(dirname "$0")/../lib.sh"
here=$(dirname "$0")
KO=${SMKEX_KO:-$here/../../smkex.ko}
BIG=${SMKEX_BIG_BYTES:-10000000}
tmp=$(mktemp -d)
captures=()
cleanup() { for p in "${captures[@]}"; do kill "$p" 2>/dev/null; done; topo_destroy; rm -rf "$tmp"; }
trap cleanup EXIT

tap_plan 36
insmod "$KO" || { tap_diag "insmod failed"; exit $KSFT_FAIL; }
topo_create || { tap_diag "topology set-up failed"; exit $KSFT_FAIL; }

# Record headers (type, version, length) and the channel each is pinned to.
RECORDS="01010020:1 02010020:2 03010020:1 04010040:2 05010020:1"
# capture_start NAME NS IF: packet capture on a forwarding namespace's interface.
capture_start() {
  # Immediate mode: a capture stopped by SIGINT keeps every packet it saw.
  ip netns exec "$2" tcpdump --immediate-mode -U -n -i "$3" -w "$tmp/$1.pcap" tcp \
    2>"$tmp/$1.tcpdump" &
  captures+=($!)
  wait_for 30 grep -q listening "$tmp/$1.tcpdump"
}
capture_stop() {
  local p
  sleep 1
  for p in "${captures[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  captures=()
}
# records_in NAME FAMILY HEADER: packets whose TCP payload starts with HEADER.
records_in() {
  local payload
  if [ "$2" = 6 ]; then
    payload="ip6[(40 + ((ip6[52] & 0xf0) >> 2)):4]"	# no extension headers here
  else
    payload="tcp[((tcp[12] & 0xf0) >> 2):4]"
  fi
  tcpdump -n -r "$tmp/$1.pcap" "$payload = 0x$3" 2>/dev/null | wc -l
}
# pinned NAME FAMILY PATH: every record type on its own channel's path only.
pinned() {
  local r header chan n ok=0 seen=""
  for r in $RECORDS; do
    header=${r%:*} chan=${r#*:}
    n=$(records_in "$1.path$3" "$2" "$header")
    seen+="$header:$n "
    if [ "$chan" = "$3" ]; then [ "$n" -ge 1 ] || ok=1; else [ "$n" = 0 ] || ok=1; fi
  done
  tap_diag "$1 path $3 record packets: $seen($(tail -n 3 "$tmp/$1.path$3.tcpdump" | tr '\n' ' '))"
  return $ok
}

both_complete() {
  [ "$(out_field "$tmp/$1.client" state)" = complete ] && [ "$(out_field "$tmp/$1.server" state)" = complete ]
}
same_on_both_sides() {
  local f c s
  for f in fingerprint export transcript_hash; do
    c=$(out_field "$tmp/$1.client" "$f") s=$(out_field "$tmp/$1.server" "$f")
    [ -n "$c" ] && [ "$c" = "$s" ] || { tap_diag "$1: $f differs: '$c' vs '$s'"; return 1; }
  done
}
# channels NAME C1_LOCAL S1 C2_LOCAL S2: the client's channel lines.
channels() {
  local c1 c2
  c1=$(out_field "$tmp/$1.client" channel1) c2=$(out_field "$tmp/$1.client" channel2)
  tap_diag "$1: channel 1 $c1, channel 2 $c2"
  [[ $c1 == "$2":*" -> $3":* || $c1 == "[$2]":*" -> [$3]":* ]] &&
    [[ $c2 == "$4":*" -> $5":* || $c2 == "[$4]":*" -> [$5]":* ]]
}
# timeline FILE: 0 < channel1_up_us <= channel2_up_us <= handshake_us on the
# client; on the server both channels exist when it is accepted or soon after.
timeline() {
  local c1 c2 d
  c1=$(out_field "$tmp/$1" channel1_up_us) c2=$(out_field "$tmp/$1" channel2_up_us)
  d=$(out_field "$tmp/$1" handshake_us)
  tap_diag "$1: channel 1 usable at $c1 us, channel 2 at $c2 us, complete at $d us"
  [ "${c1:-0}" -gt 0 ] && [ "${c2:-0}" -gt 0 ] && [ "$c2" -le "$d" ] && [ "$c1" -le "$d" ] &&
    { [[ $1 == *.server ]] || [ "$c1" -le "$c2" ]; }
}
differ() {
  local f
  for f in fingerprint export; do
    [ "$(out_field "$tmp/$1.client" "$f")" != "$(out_field "$tmp/$2.client" "$f")" ] || return 1
  done
}
transfer_intact() {
  local sent recv srv
  sent=$(out_field "$tmp/$1.client" sent) recv=$(out_field "$tmp/$1.client" received)
  srv=$(out_field "$tmp/$1.server" received)
  tap_diag "$1: client sent $sent; server received $srv; client received $recv"
  [ "${sent%% *}" = "$2" ] && [ "$sent" = "$recv" ] && [ "$sent" = "$srv" ]
}

# run_family FAMILY SERVER_ADDR1 CLIENT1 SERVER1 CLIENT2 SERVER2 PORT
run_family() {
  local fam=$1 addr=$2 name=v$1
  topo_endpoint "$fam"
  capture_start "$name.path1" "$NS_R1" r1c
  capture_start "$name.path2" "$NS_R2" r2c
  smkex_run "$tmp" "$name" "$7" "$addr" --family "$fam" --export smkex-test --bytes 1000 \
    -- --family "$fam" --export smkex-test
  capture_stop
  sed 's/^/# client: /' "$tmp/$name.client"
  sed 's/^/# server: /' "$tmp/$name.server"
  tap_check "IPv$fam: both sides complete the handshake" both_complete "$name"
  tap_check "IPv$fam: session key fingerprint, exporter and transcript hash equal on both sides" \
    same_on_both_sides "$name"
  tap_check "IPv$fam: channel 1 is the path-1 subflow, channel 2 the path-2 subflow" \
    channels "$name" "$3" "$4" "$5" "$6"
  tap_check "IPv$fam: capture on path 1: records 1, 3, 5 only" pinned "$name" "$fam" 1
  tap_check "IPv$fam: capture on path 2: records 2, 4 only" pinned "$name" "$fam" 2
  tap_check "IPv$fam: application data after the handshake intact" transfer_intact "$name" 1000
  tap_check "IPv$fam: SMKEX_INFO's channel times: channel 1 then channel 2 usable, both before the end" \
    timeline "$name.client"
  tap_check "IPv$fam: the server's channel times: both usable, before the end" timeline "$name.server"
  smkex_run "$tmp" "$name.again" "$(($7 + 1))" "$addr" --family "$fam" --export smkex-test \
    -- --family "$fam" --export smkex-test
  tap_check "IPv$fam: a second connection completes" both_complete "$name.again"
  tap_check "IPv$fam: a second connection has another session key and exporter" \
    differ "$name" "$name.again"
}

started=$(smkex_counter "$NS_C" HandshakesStarted)
run_family 4 "$SERVER_ADDR1" 10.1.1.1 10.1.2.1 10.2.1.1 10.1.2.1 10101
run_family 6 "$SERVER_ADDR1_V6" fd01:1::1 fd01:2::1 fd02:1::1 fd01:2::1 10201

# --- the second deployment: the server announces its path-2 address.
ENETUNREACH=101
last_field() { sed -n "s/^$2: //p" "$1" | tail -n 1; }
topo_signal 4
smkex_run "$tmp" named 10111 "$SERVER_ADDR1" --peer-addr "$SERVER_ADDR2" --bytes 1000 \
  --export smkex-test -- --export smkex-test
sed 's/^/# named client: /' "$tmp/named.client"
tap_check "announced address named by the application: both sides complete" both_complete named
tap_check "announced address named by the application: same keys on both sides" \
  same_on_both_sides named
tap_check "announced address named by the application: it is channel 2" \
  channels named 10.1.1.1 10.1.2.1 10.2.1.1 "$SERVER_ADDR2"
nip_before=$(smkex_counter "$NS_C" FailedNoIndependentPath)
joins_before=$(ns_counter "$NS_C" MPTcpExtMPJoinSynTx)
smkex_run "$tmp" unnamed 10112 "$SERVER_ADDR1" --timeout-ms 3000 -- --timeout-ms 20000
sed 's/^/# unnamed client: /' "$tmp/unnamed.client"
joined_unnamed() { [ "$(ns_counter "$NS_C" MPTcpExtMPJoinSynTx)" -gt "${joins_before:-0}" ]; }
tap_check "address learned only from ADD_ADDR: the client did join it" joined_unnamed
no_path() {
  [ "$(last_field "$tmp/unnamed.client" state)" = failed ] &&
    [ "$(last_field "$tmp/unnamed.client" reason | cut -d' ' -f1)" = 14 ] &&
    [ "$(last_field "$tmp/unnamed.client" errno | cut -d' ' -f1)" = $ENETUNREACH ]
}
tap_check "address learned only from ADD_ADDR: never channel 2, the client fails (no independent path, ENETUNREACH)" no_path
tap_check "address learned only from ADD_ADDR: FailedNoIndependentPath counted" \
  test "$(smkex_counter "$NS_C" FailedNoIndependentPath)" = $((nip_before + 1))
tap_check "address learned only from ADD_ADDR: no key on either side" \
  sh -c "! grep -q '^fingerprint:' '$tmp/unnamed.client' '$tmp/unnamed.server'"

counted() { [ "$(smkex_counter "$1" "$2")" = "$3" ]; }
tap_check "client counters: 6 handshakes started" counted "$NS_C" HandshakesStarted $((started + 6))
tap_check "client counters: 5 completed" counted "$NS_C" HandshakesCompleted 5
tap_check "server counters: 5 completed" counted "$NS_S" HandshakesCompleted 5
tap_check "client: one handshake failed (no independent path)" counted "$NS_C" HandshakesFailed 1

topo_endpoint 4
start=$(date +%s)
smkex_run "$tmp" big 10301 "$SERVER_ADDR1" --bytes "$BIG"
grep -E '^(state|reason|errno|channel)' "$tmp/big.client" | sed 's/^/# big client: /'
tap_diag "$BIG bytes each way in $(($(date +%s) - start)) s"
tap_check "$BIG bytes each way after the handshake, checksums intact" transfer_intact big "$BIG"

# After completion, a disconnect (connect(AF_UNSPEC)) ends SMKEX for good.
EISCONN=106
smkex_run "$tmp" reconnect 10302 "$SERVER_ADDR1" --bytes 1000 --reconnect
sed -n '/^disconnect:/,$p' "$tmp/reconnect.client" | sed 's/^/# reconnect client: /'
reconnect_refused() {
  [ "$(out_field "$tmp/reconnect.client" state)" = complete ] &&
    [ "$(last_field "$tmp/reconnect.client" state)" = failed ] &&
    [ "$(last_field "$tmp/reconnect.client" reason | cut -d' ' -f1)" = 12 ] &&
    [ "$(out_field "$tmp/reconnect.client" reconnect | cut -d' ' -f1)" = $EISCONN ] &&
    ! sed -n '/^disconnect:/,$p' "$tmp/reconnect.client" | grep -q '^fingerprint:'
}
tap_check "after completion, a disconnect ends SMKEX (failed, local error, no key) and connect() is refused (EISCONN)" \
  reconnect_refused

refs_zero() { [ "$(cat /sys/module/smkex/refcnt)" = 0 ]; }
no_refs() { wait_for 20 refs_zero; }
tap_check "closed SMKEX sockets release the module" no_refs
tap_check "rmmod succeeds" rmmod smkex
tap_check "kmemleak clean" kmemleak_report
tap_exit
