#!/usr/bin/env bash
# Judge a VM console log the way MPTCP's CI does:
#   qemu/console-check.sh CONSOLE_LOG
# Prints every kernel report found (WARN/BUG call traces, KASAN, lockdep,
# UBSAN, atomic-sleep, kmemleak leaks, panics) and whether the guest reached
# the end marker of qemu/guest-run.sh. Exit 0 only for a clean log that
# reached the marker.
set -uo pipefail

log=${1:?console log}
[ -r "$log" ] || { echo "console-check: cannot read $log"; exit 1; }

# Kernel report openers. Lockdep, atomic-sleep and RCU reports start with
# "WARNING:" or "BUG:" lines; WARN() and oopses print "Call Trace:"; the
# kmemleak report (cat by qemu/guest-run.sh) lists "unreferenced object".
reports='Call Trace:|BUG: |WARNING: |UBSAN: |KASAN: |kernel BUG at|Kernel panic|Oops: |general protection fault|unreferenced object 0x|new suspected memory leaks|blocked for more than [0-9]+ seconds|rcu: INFO: .*detected stall'

bad=0
if grep -anE "$reports" "$log" >/tmp/console-check.$$; then
  echo "console-check: $(wc -l </tmp/console-check.$$) report line(s) in $log:"
  head -n 20 /tmp/console-check.$$ | sed 's/^/  /'
  bad=1
fi
rm -f /tmp/console-check.$$

if ! grep -aqE 'smkex-vm: end rc=[0-9]+' "$log"; then
  echo "console-check: the VM died before the end marker (see $log)"
  bad=1
fi
exit $bad
