#!/usr/bin/env bash
# What smkex.ko costs sockets that never set an SMKEX option, measured side
# by side in one VM boot: setsockopt on MPTCP and TCP sockets without the
# module, with it, and without it again (to see the noise). Prints numbers;
# asserts nothing. Run from the host:
#   make -C tests/bench && qemu/run-vm.sh tests/bench/bench.sh
here=$(cd "$(dirname "$0")" && pwd)
ko=$here/../../smkex.ko
"$here/sockopt_cost" without-module
insmod "$ko" || exit 1
"$here/sockopt_cost" with-module
rmmod smkex || exit 1
"$here/sockopt_cost" without-module-again
