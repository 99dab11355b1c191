#!/usr/bin/env bash
# Where a connection's time goes: the rate benchmark's exchange
# (tests/bench/handshake.sh, section 2) for COUNT sequential connections,
# plain MPTCP, plain MPTCP with the same two subflows (--joined) and SMKEX,
# captured on both client links, printed as one timeline per mode (and
# its packet count per path): ms since the first SYN, the path, the TCP
# flags and the payload length. Prints; asserts nothing. Run from the host:
#   make -C tests/handshake && qemu/run-vm.sh tests/bench/timeline.sh [COUNT]
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
COUNT=${1:-2}
CONCURRENT=$here/../handshake/concurrent
tmp=$(mktemp -d)
trap 'topo_destroy; rm -rf "$tmp"' EXIT
insmod "$here/../../smkex.ko" || exit 1
topo_create || exit 1

# capture NAME IFACE: tcpdump in the client namespace until killed.
capture() {
  ip netns exec "$NS_C" tcpdump --immediate-mode -U -n -i "$2" -w "$tmp/$1.pcap" tcp 2>"$tmp/$1.err" &
  wait_for 30 grep -q listening "$tmp/$1.err"
}

port=13100
for mode in plain joined smkex; do
  port=$((port + 1))
  arg=()
  case $mode in plain) arg=(--plain) ;; joined) arg=(--plain --joined) ;; esac
  capture "$mode-path1" c1; p1=$!
  capture "$mode-path2" c2; p2=$!
  ip netns exec "$NS_S" timeout 120 "$CONCURRENT" server "$port" "$COUNT" "${arg[@]}" >"$tmp/$mode.server" 2>&1 &
  spid=$!
  wait_for 60 ns_listening "$NS_S" "$port"
  ip netns exec "$NS_C" timeout 120 "$CONCURRENT" client "$SERVER_ADDR1" "$port" "$COUNT" --batch 1 "${arg[@]}" \
    >"$tmp/$mode.client" 2>&1
  wait "$spid"
  sleep 1
  kill "$p1" "$p2"; wait "$p1" "$p2" 2>/dev/null
  echo "== $mode: $(tail -n 1 "$tmp/$mode.client"); packets: path 1 $(tcpdump -nn -r "$tmp/$mode-path1.pcap" 2>/dev/null | wc -l), path 2 $(tcpdump -nn -r "$tmp/$mode-path2.pcap" 2>/dev/null | wc -l)"
  for path in 1 2; do
    tcpdump -nn -tt -r "$tmp/$mode-path$path.pcap" 2>/dev/null | sed "s/^/path$path /"
  done | sort -k2 -n | awk '
    NR == 1 { t0 = $2 }
    { flags = $0; sub(/.*Flags \[/, "", flags); sub(/\].*/, "", flags)
      printf "%8.1f ms  %s  %-21s > %-22s [%s] len %s\n", ($2 - t0) * 1000, $1, $4, $6, flags, $NF }'
done
