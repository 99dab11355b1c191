#!/usr/bin/env bash
# Install everything the build and the tests need. Idempotent: every step
# checks first and says what it does; a second run installs nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Debian packages: kernel build (LLVM=1 toolchain, kconfig, libelf for objtool),
# VM (qemu, busybox for virtme-ng's initramfs), test tools (iproute2, nft,
# tcpdump, libnetfilter-queue for the path attacker, iptables for the kernel's
# MPTCP selftests).
DEB_PACKAGES=(
  build-essential clang lld llvm libclang-dev flex bison bc kmod cpio rsync
  libelf-dev libssl-dev dwarves xz-utils zstd python3 python3-cryptography pahole
  qemu-system-x86 busybox-static
  iproute2 nftables iptables tcpdump iputils-ping procps ethtool
  libnetfilter-queue-dev libmnl-dev pkg-config
  linux-source-6.12
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt: installing ${missing[*]}"
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
    apt-get update -q
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  step "apt: all ${#DEB_PACKAGES[@]} packages present"
fi

# Rust: the kernel build needs the standard library sources (it builds its own
# `core`); the protocol crate's kernel object is built with -Zbuild-std.
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  step "rustup: adding rust-src"
  rustup component add rust-src
else
  step "rustup: rust-src present"
fi

# ensure_tool INSTALLER PACKAGE VERSION COMMAND...: install PACKAGE at VERSION
# with INSTALLER (cargo or pip) unless COMMAND already reports that version as
# the second word of its output.
ensure_tool() {
  local installer=$1 package=$2 version=$3; shift 3
  if [ "$("$@" 2>/dev/null | awk '{print $2; exit}')" = "$version" ]; then
    step "$installer: $package $version present"
    return
  fi
  step "$installer: installing $package $version"
  case $installer in
    cargo) cargo install --locked --version "$version" "$package" ;;
    pip) python3 -m pip install -q "$package==$version" ;;
  esac
  hash -r
}

# bindgen-cli: 0.69.5 is the version checked to work with 6.12 and clang 14.
ensure_tool cargo bindgen-cli 0.69.5 bindgen --version
# cargo-fuzz drives the protocol core's fuzz targets (the test command runs
# them briefly); their nightly-only sanitizer flags are allowed on this stable
# toolchain through RUSTC_BOOTSTRAP=1 in rust/proto/fuzz/run.sh.
ensure_tool cargo cargo-fuzz 0.13.2 cargo fuzz --version
# virtme-ng boots a kernel build directory with the host's root file system.
ensure_tool pip virtme-ng 1.42 vng --version

step "setup complete"
