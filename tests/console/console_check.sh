#!/usr/bin/env bash
# The console judge must flag exactly the bad logs: a WARN call trace, a KASAN
# report, a kmemleak leak and a VM that died before the end marker; and pass
# the clean one. The logs in logs/ are real consoles of the debug kernel,
# recorded by record-logs.sh (the reports come from the splat/ helper module).
. "$(dirname "$0")/../lib.sh"
here=$(dirname "$0")
check=$here/../../qemu/console-check.sh

tap_plan 5
judged_clean() { "$check" "$here/logs/$1.log" >/dev/null; }
flagged() { ! judged_clean "$1"; }
tap_check "clean log passes" judged_clean clean
tap_check "WARN call trace is flagged" flagged warn
tap_check "KASAN report is flagged" flagged kasan
tap_check "kmemleak leak is flagged" flagged kmemleak
tap_check "VM that died before the end marker is flagged" flagged died
tap_exit
