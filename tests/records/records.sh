#!/usr/bin/env bash
# The record layer (SMKEX_RECORDS) over the two-path topology, between the
# smkex CLI's client and server (the server echoes): the data arrives intact
# both ways over IPv4 and IPv6, with large blocking writes and with small
# non-blocking ones; records were sealed and opened on both sides; a capture
# on each path holds none of a known plaintext, which the same transfer
# without records does show (the control); a path-1 attacker that flips
# bytes of the ciphertext makes the connection fail with EBADMSG (reason
# 16 or 17, counted), never deliver altered data. Runs in the VM.
. "$(dirname "$0")/../lib.sh"
here=$(dirname "$0")
KO=${SMKEX_KO:-$here/../../smkex.ko}
BIG=${SMKEX_RECORDS_BYTES:-10000000}
MARKER=SMKEX-RECORDS-PLAINTEXT-MARKER-7f3a
EBADMSG=74
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; topo_destroy; rm -rf "$tmp"; }
trap cleanup EXIT

tap_plan 41
insmod "$KO" || { tap_diag "insmod failed"; exit $KSFT_FAIL; }
topo_create || { tap_diag "topology set-up failed"; exit $KSFT_FAIL; }

show() { grep -E '^(state|reason|errno|records|sent|received|send|recv)' "$tmp/$1.client" | sed "s/^/# $1 client: /"; }
# intact NAME BYTES: the client sent BYTES and got all of them back, and the
# server received the same.
intact() {
  local sent recv srv
  sent=$(out_field "$tmp/$1.client" sent) recv=$(out_field "$tmp/$1.client" received)
  srv=$(out_field "$tmp/$1.server" received)
  [ "${sent%% *}" = "$2" ] && [ "$sent" = "$recv" ] && [ "$sent" = "$srv" ]
}
# moved NS COUNTER BEFORE: the counter grew by at least 2 (one record each way).
moved() { [ "$(smkex_counter "$1" "$2")" -ge $(($3 + 2)) ]; }

# transfer NAME FAMILY ADDR PORT [CLIENT_ARG...]: records on both sides.
transfer() {
  local name=$1 fam=$2 addr=$3 port=$4
  shift 4
  topo_endpoint "$fam"
  smkex_run "$tmp" "$name" "$port" "$addr" --family "$fam" --records "$@" -- --family "$fam" --records
  show "$name"
}

sealed_c=$(smkex_counter "$NS_C" RecordsSealed) opened_s=$(smkex_counter "$NS_S" RecordsOpened)
transfer v4 4 "$SERVER_ADDR1" 10401 --bytes "$BIG"
tap_check "IPv4: $BIG bytes each way with records, intact" intact v4 "$BIG"
tap_check "IPv4: the client sealed records (RecordsSealed)" moved "$NS_C" RecordsSealed "$sealed_c"
tap_check "IPv4: the server opened records (RecordsOpened)" moved "$NS_S" RecordsOpened "$opened_s"
transfer v6 6 "$SERVER_ADDR1_V6" 10402 --bytes "$BIG"
tap_check "IPv6: $BIG bytes each way with records, intact" intact v6 "$BIG"
transfer small 4 "$SERVER_ADDR1" 10403 --bytes 300000 --write-size 97 --nonblock
tap_check "non-blocking 97-byte writes: 300000 bytes each way intact" intact small 300000
transfer odd 6 "$SERVER_ADDR1_V6" 10404 --bytes 1000003 --write-size 65536 --nonblock
tap_check "non-blocking 64 KiB writes over IPv6: 1000003 bytes each way intact" intact odd 1000003

# --- call by call (semantics.c): MSG_PEEK, MSG_WAITALL, SO_RCVTIMEO,
# non-blocking recv and poll, MSG_OOB, sendfile, shutdown, SMKEX_INFO.
topo_endpoint 4
ip netns exec "$NS_S" timeout 120 "$here/semantics" server 10428 >"$tmp/sem.server" 2>&1 &
spid=$!
wait_for 60 ns_listening "$NS_S" 10428
ip netns exec "$NS_C" timeout 120 "$here/semantics" client "$SERVER_ADDR1" 10428 >"$tmp/sem.client" 2>&1
wait "$spid"
grep '^#' "$tmp/sem.server" "$tmp/sem.client" | sed 's/^/# /'
# relay FILE SIDE: the program's own results as this suite's.
relay() {
  local line
  while IFS= read -r line; do
    case $line in
      "not ok "*) tap_fail "$2: ${line#not ok * - }" ;;
      "ok "*) tap_ok "$2: ${line#ok * - }" ;;
    esac
  done <"$1"
}
relay "$tmp/sem.server" "semantics, server"
relay "$tmp/sem.client" "semantics, client"
tap_check "semantics: both sides reported all their results (9 and 3)" \
  test "$(grep -c '^\(not \)\?ok ' "$tmp/sem.server") $(grep -c '^\(not \)\?ok ' "$tmp/sem.client")" = "9 3"

# --- many connections at once, non-blocking with epoll (concurrent.c): the
# exporter and the answer travel in records, and epoll reports a connection
# readable only with plaintext.
topo_endpoint 4
ip netns exec "$NS_S" timeout 300 "$here/../handshake/concurrent" server 10430 64 --records >"$tmp/conc.server" 2>&1 &
spid=$!
wait_for 60 ns_listening "$NS_S" 10430
ip netns exec "$NS_C" timeout 300 "$here/../handshake/concurrent" client "$SERVER_ADDR1" 10430 64 --records \
  >"$tmp/conc.client" 2>&1
crc=$?
wait "$spid"
src=$?
tap_diag "concurrent client: $(tr '\n' ' ' <"$tmp/conc.client")"
tap_diag "concurrent server: $(tr '\n' ' ' <"$tmp/conc.server")"
tap_check "64 concurrent connections with records: all complete, exporters match through records" \
  test "$crc $src" = "0 0"
early() { sed -n 's/.* early_readiness \([0-9]*\).*/\1/p' "$tmp/conc.$1"; }
tap_check "64 concurrent connections with records: epoll never reported one ready early" \
  test "$(early client) $(early server)" = "0 0"

# --- no plaintext on the wire: captures of both paths during a transfer of
# a repeated marker, with records and, as the control, without.
capture() { # capture NAME NS IF
  ip netns exec "$2" tcpdump --immediate-mode -U -n -i "$3" -w "$tmp/$1.pcap" tcp 2>"$tmp/$1.tcpdump" &
  pids+=($!)
  wait_for 30 grep -q listening "$tmp/$1.tcpdump"
}
captures_stop() {
  local p
  sleep 1
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  pids=()
}
marker_count() { grep -a -o "$MARKER" "$tmp/$1.pcap" | wc -l; }
topo_endpoint 4
for mode in plain records; do
  capture "$mode.path1" "$NS_R1" r1c
  capture "$mode.path2" "$NS_R2" r2c
  args=(); [ $mode = records ] && args=(--records)
  smkex_run "$tmp" "$mode" $((10410 + ${#mode})) "$SERVER_ADDR1" --bytes 2000000 --pattern "$MARKER" "${args[@]}" \
    -- "${args[@]}"
  captures_stop
  tap_diag "$mode: marker seen $(marker_count "$mode.path1") times on path 1, $(marker_count "$mode.path2") on path 2"
done
tap_check "control: without records the marker is on the wire" test "$(($(marker_count plain.path1) + $(marker_count plain.path2)))" -gt 0
tap_check "with records: the transfer is intact" intact records 2000000
tap_check "with records: no marker in the capture of path 1" test "$(marker_count records.path1)" = 0
tap_check "with records: no marker in the capture of path 2" test "$(marker_count records.path2)" = 0
both_paths_used() { [ "$(stat -c %s "$tmp/records.path1.pcap")" -gt 100000 ] && [ "$(stat -c %s "$tmp/records.path2.pcap")" -gt 100000 ]; }
tap_check "with records: both paths carried data (captures over 100 kB each)" both_paths_used

# --- records across both subflows with one path lossy: 5 % loss (and
# delay) on path 2 in both directions during a 4 MB transfer each way.
topo_endpoint 4
for dev in r2c r2s; do tc -n "$NS_R2" qdisc add dev "$dev" root netem delay 5ms 2ms loss 5%; done
smkex_run "$tmp" lossy 10426 "$SERVER_ADDR1" --bytes 4000000 --records -- --records
dropped=0
for dev in r2c r2s; do
  n=$(tc -n "$NS_R2" -s qdisc show dev "$dev" | sed -n 's/.*dropped \([0-9]*\).*/\1/p' | head -n 1)
  dropped=$((dropped + ${n:-0}))
  tc -n "$NS_R2" qdisc del dev "$dev" root
done
show lossy
tap_check "lossy path 2: netem really dropped packets ($dropped)" test "$dropped" -ge 1
tap_check "lossy path 2: 4000000 bytes each way with records, intact" intact lossy 4000000
tap_check "lossy path 2: no error on either side" \
  sh -c "! grep -q '^errno:' '$tmp/lossy.client' '$tmp/lossy.server'"

# --- the wire format is the documented one: a server without records (SMKEX
# still on) keeps the byte stream it reads, and a decoder outside the kernel
# (decode.py, Python's cryptography) opens it with the record secret that
# server reads from SMKEX_RECORD_SECRET into exactly the client's bytes.
topo_endpoint 4
smkex_run "$tmp" raw 10425 "$SERVER_ADDR1" --bytes 1000000 --records -- --show-key --sink "$tmp/raw.stream"
secret=$(out_field "$tmp/raw.server" record_secret)
decoded=$("$here/decode.py" "$tmp/raw.stream" "${secret:-none}" c2s)
tap_diag "decoder: $decoded; client sent: $(out_field "$tmp/raw.client" sent)"
tap_check "an outside decoder opens the captured records into exactly the bytes sent" \
  test -n "$secret" -a "$decoded" = "$(out_field "$tmp/raw.client" sent)"
tap_check "a peer without records: its end of stream, without a Close, fails the client with EBADMSG (truncated), as documented" \
  grep -q "^errno: $EBADMSG " "$tmp/raw.client"

# --- a path-1 attacker alters the ciphertext with the packet mutator, which
# fixes the TCP checksum so that only the record layer can notice: "flip"
# flips bits of a byte, "replay" puts an earlier payload of the same length
# (either direction) in a packet's place, i.e. replays, reorders or reflects
# pieces of records. The receiver must fail with EBADMSG, counted.
path1_to_queue
record_failures() {
  echo $(( $(smkex_counter "$NS_C" FailedRecordAuth) + $(smkex_counter "$NS_S" FailedRecordAuth) +
           $(smkex_counter "$NS_C" FailedRecordMalformed) + $(smkex_counter "$NS_S" FailedRecordMalformed) ))
}
# attack MODE PORT PAST: one 4 MB records transfer through the mutator.
attack() {
  local mode=$1 before mutator acted
  ip netns exec "$NS_R1" "$here/../faults/mutator" --queue 0 --seed 4242 --rate 20 --min-payload 400 --only "$mode" \
    >"$tmp/$mode.mutator" 2>"$tmp/$mode.mutator.log" &
  mutator=$!
  pids+=($mutator)
  wait_for 30 grep -q ready "$tmp/$mode.mutator" || tap_diag "mutator not ready"
  before=$(record_failures)
  smkex_run "$tmp" "$mode" "$2" "$SERVER_ADDR1" --bytes 4000000 --records -- --records
  kill -TERM "$mutator"; wait "$mutator"; pids=()
  show "$mode"
  grep -E '^(errno|recv|send|reason): ' "$tmp/$mode.server" | sed "s/^/# $mode server: /"
  tap_diag "$mode: $(tail -n 1 "$tmp/$mode.mutator")"
  acted=$(sed -n "s/.* $3 \([0-9]*\).*/\1/p" "$tmp/$mode.mutator" | tail -n 1)
  tap_check "$mode: the attacker really altered packets on path 1 (${acted:-0} $3)" test "${acted:-0}" -ge 1
  ebadmsg() { grep -h '^errno: ' "$tmp/$mode.client" "$tmp/$mode.server" | grep -q "^errno: $EBADMSG "; }
  tap_check "$mode: the connection fails with EBADMSG" ebadmsg
  tap_check "$mode: the failure is counted (FailedRecordAuth or FailedRecordMalformed)" \
    test "$(record_failures)" -gt "$before"
  not_intact() { ! intact "$mode" 4000000; }
  tap_check "$mode: the altered transfer is not reported intact" not_intact
}
attack flip 10420 flipped
attack replay 10421 replayed
ip netns exec "$NS_R1" nft delete table inet smkex_attack

tap_check "SMKEX sockets closed: rmmod succeeds" smkex_unload
tap_check "kmemleak clean" kmemleak_report
tap_exit
