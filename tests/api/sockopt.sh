#!/usr/bin/env bash
# The SOL_SMKEX socket-option API (sockopt_test, kselftest_harness), then
# unloading once every SMKEX socket is closed. Runs in the VM.
here=$(dirname "$0")
KO=${SMKEX_KO:-$here/../../smkex.ko}
insmod "$KO" || exit 1
"$here/sockopt_test"
rc=$?
rmmod smkex || { echo "# rmmod failed after the API tests"; rc=1; }
exit $rc
