#!/usr/bin/env bash
# Runs inside the VM: the kernel's own MPTCP selftests (6.12,
# tools/testing/selftests/net/mptcp), each once without smkex.ko and once with
# it loaded, in the same boot; one TAP result per selftest: its checks passed
# with the module exactly as without it, and it exited the same way.
#
#   tests/peer/mptcp_selftests.sh --quick|--full OUTDIR [ENTRY...]
#
# The selftests must have been prepared on the host by
#   scripts/mptcp-selftests.sh [--slow] KDIR build/mptcp-selftests
# (SMKEX_MPTCP_SELFTESTS overrides that directory; it may be the prepared root
# or its net/mptcp). ENTRY, instead of the built-in lists below, is
# "LABEL|SCRIPT|ARG...|TIMEOUT_S". OUTDIR gets, per entry and pass (without, with):
# LABEL.PASS.log (the script's output), .rc (exit status), .secs, .results
# (one "STATUS<TAB>CHECK" line per check: pass, fail, skip or flaky), and
# PASS.dmesg. Environment: SMKEX_KO (default: smkex.ko at the repository
# root), SMKEX_MPTCP_TIMEOUT (seconds per script and pass, overrides the
# per-entry defaults, which assume TCG).
#
# The 6.12 scripts print a human line per check ("NN title ... [ OK ]",
# "[FAIL]", "[SKIP]") as they go and, at exit, a TAP block built by
# mptcp_lib.sh: "ok N - SCRIPT: NAME # time=Nms", "ok N - ... # SKIP time=..",
# "ok N - ... # IGNORE Flaky time=..", "not ok N - ... [# reason] time=..".
# A script killed by its timeout prints no TAP; its [ OK ]/[FAIL]/[SKIP]
# lines are compared instead (marked "partial").
. "$(dirname "$0")/../lib.sh"

root=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:-}
outdir=${2:-}
case $mode in --quick|--full) ;; *) outdir= ;; esac
[ -n "$outdir" ] || { echo "usage: $0 --quick|--full OUTDIR [LABEL|SCRIPT|ARG...|TIMEOUT_S]" >&2; exit 2; }
shift 2
KO=${SMKEX_KO:-$root/smkex.ko}
sel=${SMKEX_MPTCP_SELFTESTS:-$root/build/mptcp-selftests}
[ -f "$sel/net/mptcp/mptcp_lib.sh" ] && sel=$sel/net/mptcp

# LABEL|SCRIPT|ARGS...|TIMEOUT_S (the last field is the default timeout).
# mptcp_connect*.sh pick a random file size, netem loss/delay/reorder and
# ethtool offloads unless told; fixed values keep both passes comparable.
connect_args="-f|65536|-d|0|-l|0|-r|0|-e|tso"
quick=(
  "pm_netlink|pm_netlink.sh|600"
  "diag|diag.sh|600"
  "sockopt|mptcp_sockopt.sh|600"
  "join_subflows|mptcp_join.sh|-f|single subflow|multiple subflows|600"
)
full=(
  "pm_netlink|pm_netlink.sh|900"
  "diag|diag.sh|900"
  "sockopt|mptcp_sockopt.sh|900"
  "connect|mptcp_connect.sh|$connect_args|2400"
  "connect_mmap|mptcp_connect_mmap.sh|$connect_args|2400"
  "connect_sendfile|mptcp_connect_sendfile.sh|$connect_args|2400"
  "connect_checksum|mptcp_connect_checksum.sh|$connect_args|2400"
  "userspace_pm|userspace_pm.sh|900"
  "simult_flows|simult_flows.sh|900"
)
# mptcp_join.sh one group of tests at a time (its -X options), so that each
# is bounded, reported and compared on its own.
for g in f e s l t r a 6 4 M b p k S d m z F u I; do
  full+=("join_$g|mptcp_join.sh|-$g|1800")
done

if [ $# -gt 0 ]; then entries=("$@")
elif [ "$mode" = --quick ]; then entries=("${quick[@]}")
else entries=("${full[@]}"); fi

mkdir -p "$outdir"
loaded() { grep -q '^smkex ' /proc/modules; }

# results LOG: "STATUS<TAB>CHECK" per check, from the TAP block if there is
# one, else from the human lines. A check seen twice gets " (2)" etc.
results() {
  awk '
    function add(st, name) { n[name]++; if (n[name] > 1) name = name " (" n[name] ")"; out[++k] = st "\t" name }
    /^TAP version 13$/ { tap = 1; k = 0; delete n; delete out; next }
    tap && /^(not )?ok [0-9]+ - / {
      st = /^not ok/ ? "fail" : / # SKIP/ ? "skip" : / # IGNORE Flaky/ ? "flaky" : "pass"
      name = $0; sub(/^(not )?ok [0-9]+ - /, "", name)
      sub(/ #.*$/, "", name); sub(/ time=[0-9]+ms$/, "", name)
      add(st, name); next
    }
    !tap && /\[( OK |FAIL|SKIP|IGNO)\]/ {
      st = /\[ OK \]/ ? "pass" : /\[FAIL\]/ ? "fail" : /\[SKIP\]/ ? "skip" : "flaky"
      name = $0; sub(/ *\[( OK |FAIL|SKIP|IGNO)\].*$/, "", name)
      sub(/ *\(duration +[0-9]+ms\)/, "", name); gsub(/^ +| +$/, "", name)  # mptcp_connect.sh
      if (/^[0-9][0-9][0-9] /) group = name        # mptcp_join test title line
      if (name !~ /^[0-9]+ /) name = group " / " name
      add(st, "partial: " name)
    }
    /^[0-9][0-9][0-9] / && !/\[/ { group = $0 }
    END { for (i = 1; i <= k; i++) print out[i] }
  ' "$1"
}

# A script cleans up after itself unless its timeout killed it: then end the
# processes in the namespaces it left and delete those, so that the next
# script (or pass) starts clean.
netns_before=$(ip netns list | awk '{print $1}')
netns_cleanup() {
  local ns
  for ns in $(ip netns list | awk '{print $1}'); do
    grep -qxF "$ns" <<<"$netns_before" && continue
    ip netns pids "$ns" | xargs -r kill -9 2>/dev/null
    ip netns delete "$ns"
  done
}

# run_entry PASS ENTRY: one script, bounded, from a private copy of the
# selftests directory (the scripts run ./pm_nl_ctl etc. from there and the
# host's tree is read-only in the VM).
run_entry() {
  local pass=$1 label script tmo args=() f start rc
  IFS='|' read -r -a f <<<"$2"
  label=${f[0]}; script=${f[1]}; tmo=${f[-1]}
  args=("${f[@]:2:${#f[@]}-3}")
  tmo=${SMKEX_MPTCP_TIMEOUT:-$tmo}
  local base=$outdir/$label.$pass
  echo "# $pass: $script ${args[*]} (timeout ${tmo}s)"
  start=$(date +%s)
  (cd "$work/net/mptcp" && NO_COLOR=1 timeout -k 30 "$tmo" "./$script" "${args[@]}") >"$base.log" 2>&1 </dev/null
  rc=$?
  echo $(( $(date +%s) - start )) >"$base.secs"
  echo "$rc" >"$base.rc"
  results "$base.log" >"$base.results"
  netns_cleanup
  echo "#   rc $rc, $(cut -f1 "$base.results" | sort | uniq -c | awk '{printf "%s %s ", $1, $2}')in $(cat "$base.secs") s"
}

# common A B: "N D", the number of checks both results files report and of
# those among them whose outcome differs.
common() {
  awk -F '\t' 'NR == FNR { st[$2] = $1; next } ($2 in st) { n++; if (st[$2] != $1) d++ }
    END { print n + 0, d + 0 }' "$1" "$2"
}

summary() { # summary BASE: counts for a diag line
  local b=$1
  printf 'rc %s, %s s, %s pass, %s fail, %s skip, %s flaky' "$(cat "$b.rc")" "$(cat "$b.secs")" \
    "$(grep -c '^pass' "$b.results")" "$(grep -c '^fail' "$b.results")" \
    "$(grep -c '^skip' "$b.results")" "$(grep -c '^flaky' "$b.results")"
}

tap_plan $(( ${#entries[@]} + 2 ))
if [ ! -x "$sel/pm_nl_ctl" ] || [ ! -f "$sel/mptcp_lib.sh" ] || [ ! -f "$sel/../lib.sh" ]; then
  tap_diag "no prepared selftests at $sel: run scripts/mptcp-selftests.sh KDIR build/mptcp-selftests"
  exit $KSFT_FAIL
fi
[ -r "$KO" ] || { tap_diag "no module at $KO"; exit $KSFT_FAIL; }
loaded && { tap_diag "smkex is already loaded; the first pass must run without it"; exit $KSFT_FAIL; }
[ -f "$sel/TUNING" ] && tap_diag "selftests tuned for slow guests: $(tr '\n' ';' <"$sel/TUNING")"

work=$(mktemp -d /tmp/mptcp-selftests.XXXXXX)
cp -a "$sel/.." "$work/net"

dmesg -C
for e in "${entries[@]}"; do run_entry without "$e"; done
dmesg >"$outdir/without.dmesg"

dmesg -C
tap_check "insmod smkex.ko" insmod "$KO"
if loaded; then
  for e in "${entries[@]}"; do run_entry with "$e"; done
fi
dmesg >"$outdir/with.dmesg"

for e in "${entries[@]}"; do
  IFS='|' read -r -a f <<<"$e"
  label=${f[0]}; name="mptcp selftest $label"
  a=$outdir/$label.without; b=$outdir/$label.with
  tap_diag "$label: ${f[*]:1:${#f[@]}-2}"
  if ! loaded || [ ! -f "$b.rc" ]; then tap_fail "$name: same results with and without smkex (module not loaded)"; continue; fi
  tap_diag "$label without smkex: $(summary "$a")"
  tap_diag "$label with smkex:    $(summary "$b")"
  # Checks whose outcome differs, both ways.
  diff <(sort "$a.results") <(sort "$b.results") | sed -n 's/^</#   only without:/p; s/^>/#   only with:   /p' | head -n 40
  if [ ! -s "$a.results" ]; then
    tap_fail "$name: same results with and without smkex (no checks reported without it; see $a.log)"
  elif ! grep -q '^pass' "$a.results" && ! grep -q '^pass' "$b.results" &&
       [ "$(cat "$a.rc")" = "$(cat "$b.rc")" ]; then
    # Nothing ran (a missing tool or kernel feature): nothing was compared.
    tap_skip "$name: same results with and without smkex" "no check passed in either pass, rc $(cat "$a.rc")"
  elif [ "$(cat "$a.rc")" = "$(cat "$b.rc")" ] &&
       cmp -s <(grep '^pass' "$a.results" | sort) <(grep '^pass' "$b.results" | sort); then
    tap_ok "$name: same results with and without smkex"
  elif [ "$(cat "$a.rc")" = 124 ] && [ "$(cat "$b.rc")" = 124 ] &&
       read -r both differ < <(common "$a.results" "$b.results") && [ "$both" -gt 0 ] && [ "$differ" = 0 ]; then
    # Both passes hit the cap at different points: the checks both reached
    # agree, but what only one of them reached was not compared.
    tap_skip "$name: same results with and without smkex" \
      "both passes hit the ${SMKEX_MPTCP_TIMEOUT:-${f[-1]}} s cap; the $both checks both reached agree"
  else
    tap_fail "$name: same results with and without smkex"
  fi
done

tap_check "rmmod smkex" rmmod smkex
rm -rf "$work"
tap_exit
