# Helpers shared by the test suites, the top-level runner and the VM wrapper.
# Source, do not run. Conventions follow kselftest: TAP output, exit codes
# 0 pass, 1 fail, 4 skip.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

# --- TAP results of one suite script
tap_n=0
tap_failed=0
tap_plan() { echo "TAP version 13"; echo "1..$1"; }
tap_ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
tap_fail() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
tap_skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP ${2:-}"; }
tap_diag() { echo "# $*"; }
# tap_check NAME COMMAND...: one result from a command's exit status.
tap_check() {
  local name=$1; shift
  if "$@"; then tap_ok "$name"; else tap_fail "$name"; fi
}
tap_exit() { [ "$tap_failed" -eq 0 ] && exit $KSFT_PASS || exit $KSFT_FAIL; }

# wait_for TIMEOUT_S COMMAND...: poll a condition instead of sleeping blind.
wait_for() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# --- kmemleak (debugfs). Objects younger than kmemleak's minimum age (5 s)
# are never reported, so a report waits that long after the code under test.
KMEMLEAK=/sys/kernel/debug/kmemleak
kmemleak_mount() {
  [ -e "$KMEMLEAK" ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null || true
  [ -w "$KMEMLEAK" ]
}
# Report-and-forget everything allocated so far (boot included), so that only
# later leaks are reported.
kmemleak_clear() { kmemleak_mount && echo scan >"$KMEMLEAK" && echo clear >"$KMEMLEAK"; }
# on|off: kmemleak's own scan thread (a scan every 10 minutes, seconds of
# CPU under TCG). Benchmarks switch it off, or a scan lands in whichever
# mode ran then; explicit scans (kmemleak_report, the harness's) still run.
kmemleak_autoscan() { kmemleak_mount && echo "scan=$1" >"$KMEMLEAK"; }
# Scan and print the report (empty when clean); returns 1 if anything leaked.
kmemleak_report() {
  kmemleak_mount || { echo "kmemleak: not available"; return 1; }
  sleep 6
  echo scan >"$KMEMLEAK"
  echo scan >"$KMEMLEAK"
  local report
  report=$(cat "$KMEMLEAK")
  [ -z "$report" ] && return 0
  echo "$report"
  return 1
}

# --- two-path topology (kselftest/mptcp style)
#
#   client ==c1== r1 ==s1== server      path 1: 10.1.1.0/24, 10.1.2.0/24
#          ==c2== r2 ==s2==             path 2: 10.2.1.0/24, 10.2.2.0/24
#
# The deployment SMKEX's channel-2 policy supports (Documentation/api.md):
# the server has one address, SERVER_ADDR1 (s1), reachable over both paths
# (r2 routes it to s2); the client has two interfaces, a route to the server
# through each (c2's less preferred) and a "subflow" endpoint on c2, whose
# subflow is bound to c2. It connects to SERVER_ADDR1 over path 1 (channel 1) and
# opens the second subflow from c2 to the same address over path 2
# (channel 2). No ADD_ADDR is accepted (topo_endpoint).
#
# The second deployment (topo_signal): the server announces its path-2
# address SERVER_ADDR2 and the client, whose application names that address
# with --peer-addr (SMKEX_PEER_ADDRS), accepts one ADD_ADDR and joins it.
# IPv6 mirrors both (fd01:/fd02:).
topo_suffix=$$
NS_C=smkex-c-$topo_suffix
NS_S=smkex-s-$topo_suffix
NS_R1=smkex-r1-$topo_suffix
NS_R2=smkex-r2-$topo_suffix
SERVER_ADDR1=10.1.2.1
SERVER_ADDR2=10.2.2.1
SERVER_ADDR1_V6=fd01:2::1
SERVER_ADDR2_V6=fd02:2::1
CLIENT_ADDR2=10.2.1.1
CLIENT_ADDR2_V6=fd02:1::1

topo_link() { # topo_link NS_A IF_A ADDR_A NS_B IF_B ADDR_B (addr with /len, v4 then v6)
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
  ip -n "$1" addr add "$3" dev "$2"
  ip -n "$4" addr add "$6" dev "$5"
  ip -n "$1" addr add "$7" dev "$2" nodad
  ip -n "$4" addr add "$8" dev "$5" nodad
  ip -n "$1" link set "$2" up
  ip -n "$4" link set "$5" up
}

topo_create() {
  local ns
  for ns in "$NS_C" "$NS_S" "$NS_R1" "$NS_R2"; do
    ip netns add "$ns" || return 1
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  done
  topo_link "$NS_C" c1 10.1.1.1/24 "$NS_R1" r1c 10.1.1.2/24 fd01:1::1/64 fd01:1::2/64
  topo_link "$NS_R1" r1s 10.1.2.2/24 "$NS_S" s1 10.1.2.1/24 fd01:2::2/64 fd01:2::1/64
  topo_link "$NS_C" c2 10.2.1.1/24 "$NS_R2" r2c 10.2.1.2/24 fd02:1::1/64 fd02:1::2/64
  topo_link "$NS_R2" r2s 10.2.2.2/24 "$NS_S" s2 10.2.2.1/24 fd02:2::2/64 fd02:2::1/64
  for ns in "$NS_R1" "$NS_R2"; do
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  done
  ip -n "$NS_C" route add 10.1.2.0/24 via 10.1.1.2
  ip -n "$NS_C" route add 10.2.2.0/24 via 10.2.1.2
  ip -n "$NS_S" route add 10.1.1.0/24 via 10.1.2.2
  ip -n "$NS_S" route add 10.2.1.0/24 via 10.2.2.2
  ip -n "$NS_C" -6 route add fd01:2::/64 via fd01:1::2
  ip -n "$NS_C" -6 route add fd02:2::/64 via fd02:1::2
  ip -n "$NS_S" -6 route add fd01:1::/64 via fd01:2::2
  ip -n "$NS_S" -6 route add fd02:1::/64 via fd02:2::2
  # Path 2 reaches the server's single address too.
  ip -n "$NS_R2" route add "$SERVER_ADDR1/32" via 10.2.2.1
  ip -n "$NS_R2" -6 route add "$SERVER_ADDR1_V6/128" via fd02:2::1
  # A second route to the server's network via c2, same prefix, less
  # preferred (IPv6 routes default to metric 1024): unbound sockets (channel
  # 1) take c1, while the subflow endpoint's socket, bound to c2, can only
  # take this one. (Source-based policy routing does the same; the test
  # kernel has no multiple routing tables.)
  ip -n "$NS_C" route add 10.1.2.0/24 via 10.2.1.2 dev c2 metric 100
  ip -n "$NS_C" -6 route add fd01:2::/64 via fd02:1::2 dev c2 metric 2048
  topo_endpoint 4
}

# topo_no_path2 [N]: no endpoint on either side, one subflow each, N
# ADD_ADDR accepted (default 0): no second subflow is ever opened.
topo_no_path2() {
  local ns
  for ns in "$NS_C" "$NS_S"; do
    ip -n "$ns" mptcp endpoint flush
    ip -n "$ns" mptcp limits set subflows 1 add_addr_accepted "${1:-0}"
  done
}

# topo_endpoint 4|6: the first deployment, for connections of that family:
# the client's "subflow" endpoint on c2, no ADD_ADDR sent or accepted.
topo_endpoint() {
  local addr=$CLIENT_ADDR2
  [ "$1" = 6 ] && addr=$CLIENT_ADDR2_V6
  topo_no_path2 0
  ip -n "$NS_C" mptcp endpoint add "$addr" dev c2 subflow
}

# topo_signal 4|6: the second deployment: the server announces its path-2
# address of that family only (with both announced, an IPv6 connection may
# join over IPv4) and the client accepts one ADD_ADDR.
topo_signal() {
  local addr=$SERVER_ADDR2
  [ "$1" = 6 ] && addr=$SERVER_ADDR2_V6
  topo_no_path2 1
  ip -n "$NS_S" mptcp endpoint add "$addr" dev s2 signal
}

topo_destroy() {
  local ns
  for ns in "$NS_C" "$NS_S" "$NS_R1" "$NS_R2"; do ip netns del "$ns" 2>/dev/null || true; done
  return 0
}

# A namespace's MIB counter by its nstat name (e.g. MPTcpExtMPJoinAckRx),
# read from /proc/net/netstat and snmp directly: header and value lines come
# in pairs that share a prefix ("MPTcpExt:").
ns_counter() {
  ip netns exec "$1" cat /proc/net/netstat /proc/net/snmp | awk -v want="$2" '
    { p = $1; sub(":", "", p) }
    seen[p]++ { for (i = 2; i <= NF; i++) if (p name[p, i] == want) print $i; next }
    { for (i = 2; i <= NF; i++) name[p, i] = $i }'
}
# TCP packets a forwarding namespace forwarded (nft counter, set up once).
ns_forwarded_tcp() {
  ip netns exec "$1" nft list table inet smkex_count >/dev/null 2>&1 ||
    ip netns exec "$1" nft -f - <<'NFT'
table inet smkex_count {
  chain forward {
    type filter hook forward priority -10; policy accept;
    meta l4proto tcp counter
  }
}
NFT
  ip netns exec "$1" nft list table inet smkex_count | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}
# Is something listening on TCP port $2 in namespace $1?
ns_listening() { ip netns exec "$1" ss -ltnH "sport = :$2" | grep -q .; }

# Every TCP packet path 1's router forwards goes to NFQUEUE 0, where the
# attack tests' attacker (tests/attack/attacker.c) reads it.
path1_to_queue() {
  ip netns exec "$NS_R1" nft -f - <<'NFT'
table inet smkex_attack {
  chain forward {
    type filter hook forward priority 0; policy accept;
    meta l4proto tcp queue num 0
  }
}
NFT
}

# --- the smkex CLI (rust/cli) between the topology's client and server
SMKEX_CLI=${SMKEX_CLI:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/rust/target/release/smkex}
# smkex_run OUTDIR NAME PORT SERVER_ADDR [CLIENT_ARG...] [-- SERVER_ARG...]:
# one server in NS_S, one client in NS_C; their outputs go to OUTDIR/NAME.client
# and OUTDIR/NAME.server, their exit statuses to OUTDIR/NAME.rc ("client server").
smkex_run() {
  local out=$1 name=$2 port=$3 addr=$4 cargs=() sargs=() spid crc src
  shift 4
  while [ $# -gt 0 ] && [ "$1" != -- ]; do cargs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  sargs=("$@")
  ip netns exec "$NS_S" timeout 600 "$SMKEX_CLI" server "$port" "${sargs[@]}" >"$out/$name.server" 2>&1 &
  spid=$!
  if ! wait_for 60 ns_listening "$NS_S" "$port"; then
    kill "$spid"; echo "server did not listen" >"$out/$name.client"; return 1
  fi
  ip netns exec "$NS_C" timeout 600 "$SMKEX_CLI" client "$addr" "$port" "${cargs[@]}" \
    >"$out/$name.client" 2>&1
  crc=$?
  wait "$spid"
  src=$?
  echo "$crc $src" >"$out/$name.rc"
}
# out_field FILE NAME: the value of the CLI's first "NAME: value" line.
out_field() { sed -n "s/^$2: //p" "$1" | head -n 1; }
# A counter of /proc/net/smkex in a namespace.
smkex_counter() { ip netns exec "$1" awk -v c="$2" '$1 == c {print $2}' /proc/net/smkex; }
# smkex_balance NS: every handshake started in NS ended exactly one way
# (started = completed + failed + closed during the handshake).
smkex_balance() {
  local started completed failed closed
  started=$(smkex_counter "$1" HandshakesStarted) completed=$(smkex_counter "$1" HandshakesCompleted)
  failed=$(smkex_counter "$1" HandshakesFailed) closed=$(smkex_counter "$1" HandshakesClosed)
  tap_diag "$1: started $started completed $completed failed $failed closed $closed"
  [ -n "$started" ] && [ "$started" = $((completed + failed + closed)) ]
}
# report_outcomes OUT CLIENT_OUTPUTS SERVER_OUTPUTS: the lines of
# `concurrent --report` on both sides (each argument a file or a glob),
# joined by the client's port into OUT (OUT.c and OUT.s are its sorted
# sides), one line per connection:
# PORT CLIENT SERVER, each side "complete:EXPORTER",
# "failed:REASON[:key-readable]" or "-" (that side never reported it).
report_outcomes() {
  local lines='$1 == "conn" { print $2, $3 ":" $4 ($5 ? ":" $5 : "") }'
  # shellcheck disable=SC2086 # globs on purpose
  awk "$lines" $2 | sort >"$1.c"
  # shellcheck disable=SC2086
  awk "$lines" $3 | sort >"$1.s"
  join -a 1 -a 2 -e - -o 0,1.2,2.2 "$1.c" "$1.s" >"$1"
}
# smkex_unload: rmmod once the last SMKEX socket is gone (bounded wait).
smkex_unload() {
  local i
  for i in $(seq 100); do rmmod smkex 2>/dev/null && return 0; sleep 0.2; done
  return 1
}
# reap_server PID: sets `reaped` to the exit status of a server whose client
# is done; one still waiting 30 s later (for a connection that ended before
# its accept) is stopped and reported as 124.
reap_server() {
  local i
  for i in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill "$1" 2>/dev/null
  wait "$1"
  reaped=$?
  [ "$i" = 300 ] && reaped=124
  return 0
}
