#!/usr/bin/env bash
# Install everything the build and the tests need. Idempotent: every step
# checks first and says what it does; a second run installs nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Debian packages: kernel build (LLVM=1 toolchain, kconfig, libelf for objtool),
# VM (qemu, busybox for virtme-ng's initramfs), test tools (iproute2, nft,
# tcpdump, libnetfilter-queue for the path attacker).
DEB_PACKAGES=(
  build-essential clang lld llvm libclang-dev flex bison bc kmod cpio rsync
  libelf-dev libssl-dev dwarves xz-utils zstd python3 pahole
  qemu-system-x86 busybox-static
  iproute2 nftables tcpdump iputils-ping procps ethtool
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

# bindgen-cli: 0.69.5 is the version checked to work with 6.12 and clang 14.
BINDGEN_VERSION=0.69.5
if [ "$(bindgen --version 2>/dev/null | awk '{print $2}')" != "$BINDGEN_VERSION" ]; then
  step "cargo: installing bindgen-cli $BINDGEN_VERSION (about 2 minutes)"
  cargo install --locked --version "$BINDGEN_VERSION" bindgen-cli
else
  step "cargo: bindgen-cli $BINDGEN_VERSION present"
fi

# cargo-fuzz drives the protocol core's fuzz target (the test command runs it
# briefly); it needs the nightly-only sanitizer flags, allowed on this stable
# toolchain through RUSTC_BOOTSTRAP=1 in rust/proto/fuzz/run.sh.
FUZZ_VERSION=0.13.2
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$FUZZ_VERSION" ]; then
  step "cargo: installing cargo-fuzz $FUZZ_VERSION (about a minute)"
  cargo install --locked --version "$FUZZ_VERSION" cargo-fuzz
else
  step "cargo: cargo-fuzz $FUZZ_VERSION present"
fi

# virtme-ng boots a kernel build directory with the host's root file system.
VNG_VERSION=1.42
if [ "$(vng --version 2>/dev/null | awk '{print $2}')" != "$VNG_VERSION" ]; then
  step "pip: installing virtme-ng==$VNG_VERSION"
  python3 -m pip install -q "virtme-ng==$VNG_VERSION"
  hash -r
else
  step "pip: virtme-ng $VNG_VERSION present"
fi

step "setup complete"
