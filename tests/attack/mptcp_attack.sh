#!/usr/bin/env bash
# An MPTCP-aware attacker on path 1 (tests/attack/mptcp_attacker.c): it
# learns both MPTCP keys from MP_CAPABLE, so it forges valid ADD_ADDR and
# MP_JOIN HMACs, sets the C flag and builds valid DSS mappings. In separate
# runs it tries to become the man in the middle or to slip a forged
# channel-2 record past the provenance rule (Documentation/protocol.md §7):
#  a. it rewrites the server's ADD_ADDR to an address routed over path 1,
#     and replaces both key shares (full MITM attempt); then, in the
#     endpoint deployment, it sets the C flag;
#  b. its own MP_JOIN to the server, carrying a forged ClientNonce, before
#     the genuine join (path 2 delayed);
#  c. a forged ClientNonce injected on subflow 1 with a valid DSS mapping
#     (with a control run against plain MPTCP, where the forgery reaches the
#     application);
#  d. b, with the rogue subflow reset right after the server acknowledged it.
# Every run asserts that the attacker acted (its counters) and that the
# client never completes: it fails closed with the documented reason.
# Runs in the VM.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
KO=${SMKEX_KO:-$here/../../smkex.ko}
XFER=$here/../xfer.py
tmp=$(mktemp -d)
attacker_pid=
cleanup() { [ -n "$attacker_pid" ] && kill "$attacker_pid" 2>/dev/null; topo_destroy; rm -rf "$tmp"; }
trap cleanup EXIT

ENETUNREACH=101 EKEYREJECTED=129
# The 36-byte client key share comes first; a forged ClientNonce record
# (type 2, version 1, length 32) follows it in the client's stream.
FORGED_NONCE=02010020$(printf 'cc%.0s' $(seq 32))
STEERED=10.1.2.99
ROGUE_SRC=10.1.1.77

tap_plan 24
insmod "$KO" || { tap_diag "insmod failed"; exit $KSFT_FAIL; }
topo_create || { tap_diag "topology set-up failed"; exit $KSFT_FAIL; }
path1_to_queue || { tap_diag "nft failed"; exit $KSFT_FAIL; }
# The steered address stands for one the attacker DNATs to the server's
# path-1 address: the server answers on it itself, so the join to it
# crosses path 1 exactly as it would through a DNAT.
ip -n "$NS_S" addr add "$STEERED/24" dev s1

atk_start() { # atk_start NAME ARGS...: the attacker on path 1's queue
  local name=$1; shift
  ip netns exec "$NS_R1" "$here/mptcp_attacker" --queue 0 "$@" >"$tmp/$name.attacker" 2>"$tmp/$name.attacker.err" &
  attacker_pid=$!
  wait_for 30 grep -q ready "$tmp/$name.attacker"
}
atk_stop() { # atk_stop NAME: its counters, then the outcome of both ends
  kill -TERM "$attacker_pid"; wait "$attacker_pid"
  attacker_pid=
  tap_diag "$1 attacker: $(grep -v '^mptcp_attacker' "$tmp/$1.attacker" | awk '$2 != 0' | tr '\n' ' ')"
  [ -f "$tmp/$1.client" ] || return 0
  grep -E '^(state|reason|errno|channel|fingerprint)' "$tmp/$1.client" | sed "s/^/# $1 client: /"
  grep -E '^(state|reason|errno|channel|fingerprint)' "$tmp/$1.server" | sed "s/^/# $1 server: /"
}
# acted NAME COUNTER...: every counter of that run's attacker is at least 1.
acted() {
  local name=$1 c; shift
  for c in "$@"; do [ "$(awk -v k="$c" '$1 == k {print $2}' "$tmp/$name.attacker")" -ge 1 ] || return 1; done
}
last_field() { sed -n "s/^$2: //p" "$1" | tail -n 1; }
failed_with() { # failed_with FILE REASON ERRNO
  [ "$(last_field "$1" state)" = failed ] && [ "$(last_field "$1" reason | cut -d' ' -f1)" = "$2" ] &&
    [ "$(last_field "$1" errno | cut -d' ' -f1)" = "$3" ]
}
never_completes() { ! grep -q '^state: complete' "$tmp/$1.client" "$tmp/$1.server"; }
no_key() { ! grep -q '^fingerprint:' "$tmp/$1.client" "$tmp/$1.server"; }
no_outcome() { never_completes "$1" && no_key "$1"; }
delay_path2() { ip netns exec "$NS_R2" tc qdisc add dev r2s root netem delay "$1"; }
undelay_path2() { ip netns exec "$NS_R2" tc qdisc del dev r2s root 2>/dev/null; true; }

# --- a. ADD_ADDR steering and a full MITM attempt. The server announces its
# path-2 address, which the application names (--peer-addr); the attacker
# rewrites it to an address routed over path 1.
topo_signal 4
atk_start steer --steer-add-addr "$STEERED" --mitm
smkex_run "$tmp" steer 10701 "$SERVER_ADDR1" --peer-addr "$SERVER_ADDR2" --timeout-ms 4000 \
  -- --timeout-ms 20000
atk_stop steer
tap_check "a. steering: the attacker rewrote the ADD_ADDR with a valid HMAC" \
  acted steer add_addr_rewritten add_addr_hmac_verified
tap_check "a. steering: the client joined the steered address across path 1" acted steer steered_join_syn
tap_check "a. steering: the attacker replaced key shares (MITM attempt)" acted steer records_rewritten
tap_check "a. steering: the client refuses the steered subflow: no independent path, ENETUNREACH" \
  failed_with "$tmp/steer.client" 14 $ENETUNREACH
tap_check "a. steering: neither side completes" never_completes steer
tap_check "a. steering: no key on either side" no_key steer

# --- a'. The endpoint deployment: the attacker sets the C flag (no join to
# the server's only address) and the application named no other address.
topo_endpoint 4
atk_start cflag --steer-add-addr "$STEERED" --deny-join-id0 --mitm
start=$(date +%s%N)
smkex_run "$tmp" cflag 10702 "$SERVER_ADDR1" --timeout-ms 20000 -- --timeout-ms 20000
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
atk_stop cflag
tap_diag "C flag: the client gave up after $elapsed_ms ms (timeout 20000 ms)"
tap_check "a'. C flag: the attacker set it in the server's SYN/ACK" acted cflag c_flag_set
tap_check "a'. C flag: the client fails with no independent path, ENETUNREACH" \
  failed_with "$tmp/cflag.client" 14 $ENETUNREACH
tap_check "a'. C flag: at once, not at the deadline" test "$elapsed_ms" -lt 15000
tap_check "a'. C flag: neither side completes, no key" no_outcome cflag

# --- b. A rogue MP_JOIN from an address routed via path 1, before the
# genuine join (path 2 delayed), carrying a forged ClientNonce. The server
# may take it as channel 2 (it cannot judge paths): the genuine client's
# check is what must fail.
ip -n "$NS_S" mptcp limits set subflows 2 add_addr_accepted 0
delay_path2 1000ms
atk_start rogue --rogue-join "$ROGUE_SRC" --payload "$FORGED_NONCE" --dsn-offset 36 --when-seen 36
smkex_run "$tmp" rogue 10703 "$SERVER_ADDR1" --timeout-ms 6000 -- --timeout-ms 6000
atk_stop rogue
tap_check "b. rogue join: the attacker's subflow joined and the server acknowledged its forged nonce" \
  acted rogue rogue_join_established rogue_data_acked
tap_check "b. rogue join: the client fails" test "$(last_field "$tmp/rogue.client" state)" = failed
tap_check "b. rogue join: neither side completes, no key" \
  no_outcome rogue

# --- d. The same rogue join, reset as soon as the server acknowledged the
# forged nonce (its bytes must not be forgotten with the subflow).
atk_start shortlived --rogue-join "$ROGUE_SRC" --payload "$FORGED_NONCE" --dsn-offset 36 \
  --when-seen 36 --rst-after
smkex_run "$tmp" shortlived 10704 "$SERVER_ADDR1" --timeout-ms 6000 -- --timeout-ms 6000
atk_stop shortlived
tap_check "d. short-lived join: the attacker's subflow carried the forged nonce, then was reset" \
  acted shortlived rogue_data_acked rogue_rst_sent
tap_check "d. short-lived join: neither side completes, no key" \
  no_outcome shortlived
ip -n "$NS_S" mptcp limits set subflows 1 add_addr_accepted 0

# --- c. A forged ClientNonce injected on subflow 1 with a valid DSS mapping
# while path 2 is delayed, so that MPTCP keeps the forgery.
integrity_before=$(smkex_counter "$NS_S" FailedChannelIntegrity)
atk_start inject --inject-dss --payload "$FORGED_NONCE" --dsn-offset 36 --when-seen 36
smkex_run "$tmp" inject 10705 "$SERVER_ADDR1" --timeout-ms 6000 -- --timeout-ms 6000
atk_stop inject
tap_check "c. DSS injection: the attacker injected the forged record on subflow 1" acted inject dss_injected
tap_check "c. DSS injection: the server refuses it: channel integrity, EKEYREJECTED" \
  failed_with "$tmp/inject.server" 11 $EKEYREJECTED
tap_check "c. DSS injection: FailedChannelIntegrity counted" \
  test "$(smkex_counter "$NS_S" FailedChannelIntegrity)" -gt "$integrity_before"
tap_check "c. DSS injection: neither side completes, no key" \
  no_outcome inject

# The control: the same injection against plain MPTCP delivers the forgery
# to the application, so the technique itself works.
GENUINE1=$(printf 'aa%.0s' $(seq 36)) GENUINE2=$(printf 'bb%.0s' $(seq 36))
atk_start control --inject-dss --payload "$FORGED_NONCE" --dsn-offset 36 --when-seen 36
ip netns exec "$NS_S" timeout 60 "$XFER" recv-hex 10706 >"$tmp/control.server" 2>&1 &
spid=$!
wait_for 30 ns_listening "$NS_S" 10706
ip netns exec "$NS_C" timeout 60 "$XFER" send-hex "$SERVER_ADDR1" 10706 "$GENUINE1,$GENUINE2" --pause 1.5 \
  >"$tmp/control.client" 2>&1
wait "$spid"
atk_stop control
tap_diag "control: the plain MPTCP server received $(cat "$tmp/control.server")"
tap_check "control: the attacker injected on plain MPTCP too" acted control dss_injected
tap_check "control: plain MPTCP delivers the injected bytes to the application" \
  grep -q "^received ${GENUINE1}${FORGED_NONCE}" "$tmp/control.server"
undelay_path2

tap_check "no handshake completed on either side under attack" \
  test "$(smkex_counter "$NS_C" HandshakesCompleted)" = 0 -a "$(smkex_counter "$NS_S" HandshakesCompleted)" = 0
tap_check "rmmod succeeds" sh -c 'for i in $(seq 50); do rmmod smkex 2>/dev/null && exit 0; sleep 0.2; done; exit 1'
tap_check "kmemleak clean" kmemleak_report
tap_exit
