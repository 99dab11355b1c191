#!/usr/bin/env bash
# The SOL_SMKEX API under a bounded multi-threaded fuzzer (sockopt_fuzz.c):
# random options, lengths, values and pointers (NULL, unmapped, straddling
# a page end) on sockets in every state. Every failure must carry a
# documented errno; the module must unload afterwards (no socket reference
# left). Splats and leaks are judged on the VM console. Runs in the VM.
here=$(dirname "$0")
KO=${SMKEX_KO:-$here/../../smkex.ko}
SECONDS_TO_RUN=${SMKEX_FUZZ_API_SECONDS:-20}
insmod "$KO" || exit 1
"$here/sockopt_fuzz" "$SECONDS_TO_RUN" 4 "${SMKEX_FUZZ_SEED:-$RANDOM}"
rc=$?
# Sockets of the fuzzer close with it; their handshakes and RCU frees end.
for _ in $(seq 50); do rmmod smkex 2>/dev/null && break; sleep 0.2; done
if grep -q '^smkex ' /proc/modules; then
  echo "not ok 5 - smkex.ko unloads after the fuzzer"; rc=1
else
  echo "ok 5 - smkex.ko unloads after the fuzzer"
fi
exit $rc
