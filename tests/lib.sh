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
