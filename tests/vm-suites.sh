#!/usr/bin/env bash
# Runs inside the VM: every VM suite's test programs, each bounded by its
# suite's settings timeout, kselftest style. Each program's TAP goes to the
# console and to OUTDIR/SUITE.PROG.tap, its exit status to OUTDIR/SUITE.PROG.rc,
# for the host runner to count.
#   tests/vm-suites.sh OUTDIR SUITE...
. "$(dirname "$0")/lib.sh"
outdir=${1:?output directory}; shift
tests=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$outdir"
for suite in "$@"; do
  timeout_s=$(sed -n 's/^timeout=//p' "$tests/$suite/settings" 2>/dev/null)
  for prog in $(make -s -C "$tests/$suite" list); do
    echo "# suite $suite: $prog"
    timeout "${timeout_s:-300}" "$tests/$suite/$prog" 2>&1 | tee "$outdir/$suite.$prog.tap"
    echo "${PIPESTATUS[0]}" >"$outdir/$suite.$prog.rc"
  done
done
