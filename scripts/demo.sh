#!/usr/bin/env bash
# The main job: install what is missing, build the debug kernel (cached),
# smkex.ko and the smkex CLI, boot the VM, load the module, show the
# self-test result and modinfo, then run the CLI's server and client over the
# two-path topology and print both sides' outcome (equal fingerprints).
#   scripts/demo.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$SMKEX_ROOT"

if [ "${1:-}" = --guest ]; then
  # Inside the VM.
  . tests/lib.sh
  trap topo_destroy EXIT
  insmod smkex.ko
  echo "--- kernel log of smkex:"
  dmesg --notime | grep 'smkex:'
  echo "--- modinfo smkex.ko:"
  modinfo smkex.ko
  echo "--- two paths to the server's one address $SERVER_ADDR1: client c1 ==path 1 (10.1.x)==, client c2 (subflow endpoint) ==path 2 (10.2.x)=="
  topo_create
  out=$(mktemp -d)
  smkex_run "$out" demo 7000 "$SERVER_ADDR1" --bytes 100000 -- || true
  echo "--- server (smkex server 7000):"
  sed 's/^/  /' "$out/demo.server"
  echo "--- client (smkex client $SERVER_ADDR1 7000 --bytes 100000):"
  sed 's/^/  /' "$out/demo.client"
  c=$(out_field "$out/demo.client" fingerprint) s=$(out_field "$out/demo.server" fingerprint)
  if [ -n "$c" ] && [ "$c" = "$s" ]; then
    echo "--- both sides hold the same session key: fingerprint $c"
  else
    echo "--- the handshake did not complete on both sides"
  fi
  echo "--- /proc/net/smkex in the client namespace:"
  ip netns exec "$NS_C" cat /proc/net/smkex | grep -v ' 0$' | sed 's/^/  /'
  topo_destroy
  trap - EXIT
  rmmod smkex
  echo "--- unloaded: $(dmesg | grep -c 'smkex: unloaded') unload message(s)"
  [ -n "$c" ] && [ "$c" = "$s" ]
  exit
fi

scripts/setup.sh
scripts/kernel.sh
make
cargo build --quiet --release --manifest-path rust/Cargo.toml -p smkex-cli
qemu/run-vm.sh "$SMKEX_ROOT/scripts/demo.sh" --guest
