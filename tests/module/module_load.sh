#!/usr/bin/env bash
# Load, describe and unload smkex.ko; repeat; check for leaks. Runs in the VM.
. "$(dirname "$0")/../lib.sh"
KO=${SMKEX_KO:-$(dirname "$0")/../../smkex.ko}

loaded() { grep -q '^smkex ' /proc/modules; }

tap_plan 13
[ -r "$KO" ] || { tap_diag "no module at $KO"; exit $KSFT_FAIL; }
dmesg -C

tap_check "insmod succeeds" insmod "$KO"
tap_check "module is listed in /proc/modules" loaded
tap_check "self-test result is in dmesg" bash -c "dmesg | grep -q 'smkex: self-test passed: X25519 (RFC 7748), SHA-256, HKDF-SHA256 (RFC 5869), handshake (spec vectors)'"
tap_check "random-key handshake self-test result is in dmesg" bash -c "dmesg | grep -q 'smkex: self-test passed: handshake with random keys in kernel memory'"
tap_check "record layer self-test (kernel ChaCha20-Poly1305 against protocol.md §10) is in dmesg" bash -c "dmesg | grep -q 'smkex: self-test passed: record layer'"
tap_diag "$(dmesg | grep 'smkex:' | tr '\n' ' ')"

info=$(modinfo "$KO")
tap_diag "modinfo:"; echo "$info" | sed 's/^/#   /'
modinfo_has() { echo "$info" | grep -qE "$1"; }
tap_check "modinfo: name, license, description, version" \
  bash -c 'for f in "^name: +smkex$" "^license: +GPL$" "^description: +SMKEX" "^version: +[0-9]+\.[0-9]+\.[0-9]+$"; do echo "$0" | grep -qE "$f" || exit 1; done' "$info"
tap_check "modinfo: parameter handshake_timeout_ms" modinfo_has '^parm: +handshake_timeout_ms:.*\(uint\)$'

tap_check "rmmod succeeds" rmmod smkex
tap_check "module is gone after rmmod" bash -c '! grep -q "^smkex " /proc/modules'

out_of_range() { ! insmod "$KO" handshake_timeout_ms=5 2>/dev/null && ! loaded; }
tap_check "insmod rejects an out-of-range parameter" out_of_range

param_honoured() {
  insmod "$KO" handshake_timeout_ms=2500 || return 1
  local v; v=$(cat /sys/module/smkex/parameters/handshake_timeout_ms)
  rmmod smkex && [ "$v" = 2500 ]
}
tap_check "insmod applies a valid parameter" param_honoured

cycle() {
  local i
  for i in $(seq 1 10); do
    insmod "$KO" || { tap_diag "insmod $i failed"; return 1; }
    rmmod smkex || { tap_diag "rmmod $i failed"; return 1; }
  done
  [ "$(dmesg | grep -c 'smkex: self-test passed')" -ge 12 ]
}
tap_check "10 load/unload cycles" cycle

tap_check "kmemleak clean after the cycles" kmemleak_report
tap_exit
