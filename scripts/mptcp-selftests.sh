#!/usr/bin/env bash
# Prepare the kernel's own MPTCP selftests (tools/testing/selftests/net/mptcp)
# for tests/peer/mptcp_selftests.sh, which runs them in the VM without and
# with smkex.ko. Runs on the host; idempotent (copies only what changed,
# rebuilds only what is older than its inputs). Writes only below OUTDIR.
#
#   scripts/mptcp-selftests.sh [--slow] KDIR OUTDIR
#
# KDIR is the built test kernel tree (scripts/kernel.sh --dir); it is only
# read. OUTDIR gets the kselftest install layout the scripts expect:
#   OUTDIR/net/lib.sh, OUTDIR/net/net_helper.sh   (sourced as ../lib.sh ...)
#   OUTDIR/net/mptcp/*.sh, settings, config and the four C programs
#   OUTDIR/src/net/...                            (pristine copies)
#   OUTDIR/usr/include                            (the kernel's uapi headers,
#                                                  for building only)
# The C programs are built as the selftests' Makefile + lib.mk build them:
#   cc -Wall -Wl,--no-as-needed -O2 -g -I$HDR -isystem $HDR -D_GNU_SOURCE=
# against the uapi headers exported from KDIR the way `make headers_install`
# does (scripts/headers_install.sh over include/uapi, arch/x86/include/uapi
# and their generated/ twins), without running make in KDIR.
#
# --slow: also patch timing constants of diag.sh, pm_netlink.sh,
# mptcp_sockopt.sh, userspace_pm.sh and net_helper.sh for a slow (TCG, KASAN,
# lockdep) guest; every change is listed in OUTDIR/net/mptcp/TUNING. Without
# it the scripts are verbatim.
set -euo pipefail

slow=0
if [ "${1:-}" = --slow ]; then slow=1; shift; fi
[ $# -eq 2 ] || { echo "usage: $0 [--slow] KDIR OUTDIR" >&2; exit 2; }
kdir=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
src=$kdir/tools/testing/selftests/net
CC=${CC:-gcc}

say() { printf '[mptcp-selftests] %s\n' "$*"; }
die() { printf '[mptcp-selftests] error: %s\n' "$*" >&2; exit 1; }

[ -f "$src/mptcp/mptcp_lib.sh" ] ||
  die "$src/mptcp missing (KDIR must be a full tree; /usr/src/linux-source-6.12.tar.xz has one)"
for d in include/uapi arch/x86/include/uapi arch/x86/include/generated/uapi; do
  [ -d "$kdir/$d" ] || die "$kdir/$d missing: KDIR must be a built kernel tree"
done

# copy_if_changed SRC DST: leave DST (and its mtime) alone when it already
# holds SRC's content, so that what is built from it stays up to date.
copy_if_changed() {
  cmp -s "$1" "$2" || cp -p "$1" "$2"
}

# --- 1. uapi headers (once per kernel tree; ~20 s)
hdr=$out/usr/include
stamp=$out/usr/.headers-from
want_stamp="$kdir $(stat -c %Y "$kdir/include/generated/uapi/linux/version.h" 2>/dev/null || echo 0)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_stamp" ]; then
  say "exporting uapi headers of $kdir to $hdr"
  rm -rf "$out/usr" && mkdir -p "$hdr" "$out/usr/.build/scripts"
  # headers_install.sh runs scripts/unifdef relative to the current directory.
  "$CC" -O2 -o "$out/usr/.build/scripts/unifdef" "$kdir/scripts/unifdef.c"
  (
    cd "$out/usr/.build"
    for base in include/uapi arch/x86/include/uapi include/generated/uapi arch/x86/include/generated/uapi; do
      [ -d "$kdir/$base" ] || continue
      (cd "$kdir/$base" && find . -name '*.h' | sort) | while read -r h; do
        h=${h#./}
        # A header in the source tree wins over a generated one (as Kbuild).
        case $base in *generated*) [ -e "$hdr/$h" ] && continue ;; esac
        mkdir -p "$(dirname "$hdr/$h")"
        sh "$kdir/scripts/headers_install.sh" "$kdir/$base/$h" "$hdr/$h"
      done
    done
  )
  rm -rf "$out/usr/.build"
  echo "$want_stamp" >"$stamp"
fi

# --- 2. pristine copies (OUTDIR/src) and runnable ones (OUTDIR/net)
mkdir -p "$out/src/net/mptcp" "$out/net/mptcp"
for f in lib.sh net_helper.sh; do copy_if_changed "$src/$f" "$out/src/net/$f"; done
for f in "$src"/mptcp/*.sh "$src"/mptcp/*.c "$src/mptcp/settings" "$src/mptcp/config" "$src/mptcp/Makefile"; do
  copy_if_changed "$f" "$out/src/net/mptcp/$(basename "$f")"
done
changed=0

# --- 3. tuning for slow guests (opt-in). Each substitution must match, else
# the upstream script changed and the tuning must be revisited.
tuning_log=$out/net/mptcp/TUNING
: >"$tuning_log.new"
sub() { # sub FILE NAME SED-S-COMMAND
  sed -n "${3}p" "$1" | grep -q . || die "--slow: '$3' does not match $2"
  sed -i "$3" "$1"
  echo "$2: $3" >>"$tuning_log.new"
}
tune() { # tune FILE BASENAME
  case $2 in
    net_helper.sh)
      # wait_local_port_listen: 10 x 0.1 s -> 300 x 0.1 s
      sub "$1" "$2" 's/for i in \$(seq 10); do/for i in $(seq 300); do/' ;;
    diag.sh)
      # mptcp_connect's poll timeout (an idle listener exits after it) 30 -> 180 s
      sub "$1" "$2" 's/^timeout_poll=30$/timeout_poll=180/'
      # each connection stays open 20 s after its input ends -> 150 s
      sub "$1" "$2" 's/-w 20/-w 150/g'
      # wait_msk_nr: 20 polls of 1 s -> 150
      sub "$1" "$2" 's/^\tlocal timeout=20$/\tlocal timeout=150/'
      # wait_connected and chk_msk_inuse: 10 polls of 0.1 s -> 100
      sub "$1" "$2" 's/for i in \$(seq 10); do/for i in $(seq 100); do/'
      sub "$1" "$2" 's/for _ in \$(seq 10); do/for _ in $(seq 100); do/'
      # 100 clients and 100 listeners, each its own `ip netns exec`, -> 20
      sub "$1" "$2" 's/^NR_CLIENTS=100$/NR_CLIENTS=20/'
      sub "$1" "$2" 's/^NR_SERVERS=100$/NR_SERVERS=20/' ;;
    mptcp_sockopt.sh)
      # the client starts 1 s after its server: wait for the listener instead
      sub "$1" "$2" 's/^\tsleep 1$/\tmptcp_lib_wait_local_port_listen "${listener_ns}" "${port}"/' ;;
    userspace_pm.sh)
      # netlink events are read back after fixed sleeps: 0.5 s -> 2 s, 1 s -> 4 s
      sub "$1" "$2" 's/^\(\t*\)sleep 0\.5$/\1sleep 2/'
      sub "$1" "$2" 's/^\(\t*\)sleep 1$/\1sleep 4/' ;;
    mptcp_join.sh)
      # the endpoint tests (-I) keep one transfer running through all their
      # endpoint changes and kill it after; under TCG those changes outlast
      # its 120 s bound: 120 -> 900 s
      sub "$1" "$2" 's/{ timeout_test=120 /{ timeout_test=900 /'
      # speed=slow (1 KB at 50 bytes per write, one write per 0.2 s: about
      # 4 s) must outlast the endpoint removals the removal checks make
      # during it; under TCG the removals' netns execs took longer and the
      # client's removal never happened (-6, -p): 50 -> 20 bytes, about 10 s
      sub "$1" "$2" 's/extra_args="-r 50"$/extra_args="-r 20"/' ;;
    simult_flows.sh)
      # each transfer must end within its shaped rate's time plus a slack
      # (50 ms, +550 on a debug kernel); under TCG the guest forwards less
      # than the 13 to 20 Mbit/s shaped, and the transfers took 11 to 17 s
      # against 8.5 to 12.5 s in both passes: 50 -> 8000 ms
      sub "$1" "$2" 's/^slack=50$/slack=8000/' ;;
    pm_netlink.sh)
      # "id limit" adds and deletes ids 10..255 first (492 netns execs);
      # ids 245..255 keep the upper edge with 22
      sub "$1" "$2" 's/for i in \$(seq 10 255); do/for i in $(seq 245 255); do/' ;;
  esac
}

# install_script SRC DST: DST is SRC, tuned when --slow.
install_script() {
  local tmp=$2.new
  cp -p "$1" "$tmp"
  [ $slow = 0 ] || tune "$tmp" "$(basename "$2")"
  if cmp -s "$tmp" "$2"; then rm -f "$tmp"; else mv "$tmp" "$2"; changed=1; fi
  case $2 in *.sh) chmod +x "$2" ;; esac
}
for f in lib.sh net_helper.sh; do install_script "$out/src/net/$f" "$out/net/$f"; done
for f in "$out"/src/net/mptcp/*.sh "$out/src/net/mptcp/settings" "$out/src/net/mptcp/config"; do
  install_script "$f" "$out/net/mptcp/$(basename "$f")"
done
if [ $slow = 1 ]; then mv "$tuning_log.new" "$tuning_log"; else rm -f "$tuning_log.new" "$tuning_log"; fi

# --- 4. the C programs (TEST_GEN_FILES of the selftests' Makefile)
cflags=(-Wall -Wl,--no-as-needed -O2 -g -I"$hdr" -isystem "$hdr" -D_GNU_SOURCE=)
for p in mptcp_connect pm_nl_ctl mptcp_sockopt mptcp_inq; do
  c=$out/src/net/mptcp/$p.c
  b=$out/net/mptcp/$p
  if [ ! -x "$b" ] || [ "$c" -nt "$b" ] || [ "$stamp" -nt "$b" ]; then
    say "building $p"
    "$CC" "${cflags[@]}" "$c" -o "$b.tmp"
    mv "$b.tmp" "$b"
    changed=1
  fi
done

say "ready: $out/net/mptcp ($( [ $slow = 1 ] && echo 'tuned for slow guests, see TUNING' || echo verbatim ); $( [ $changed = 1 ] && echo updated || echo unchanged ))"
