#!/usr/bin/env bash
# The quick subset of the kernel's MPTCP selftests for the README's test
# command: mptcp_sockopt.sh, the MPTCP socket options, the one MPTCP path
# smkex.ko hooks for sockets that did not opt in (setsockopt/getsockopt),
# without and with the module, in this boot (about 6 minutes under TCG).
# scripts/mptcp-peer.sh runs the whole comparison. Runs in the VM.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/mptcp_selftests.sh" --quick "${SMKEX_PEER_OUT:-$here/../../build/vm-out/peer}" \
  "sockopt|mptcp_sockopt.sh|400"
