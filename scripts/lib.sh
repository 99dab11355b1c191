# Shared shell helpers for scripts/ and qemu/. Source, do not run.

SMKEX_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Expensive builds live outside the work tree so that a fresh clone reuses them.
SMKEX_CACHE="${SMKEX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smkex}"
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '[smkex %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[smkex] error: %s\n' "$*" >&2; exit 1; }

# Bump when scripts/kernel.sh changes in a way that changes the build output.
KERNEL_RECIPE=1

# The cached kernel tree for the current inputs (see scripts/kernel.sh).
kernel_dir() {
  local key
  key=$( {
      echo "recipe $KERNEL_RECIPE"
      dpkg-query -W -f='${Version}\n' linux-source-6.12
      cat "$SMKEX_ROOT/qemu/smkex.config"
      rustc --version; clang --version | head -n1; ld.lld --version; bindgen --version
    } | sha256sum | cut -c1-16)
  echo "$SMKEX_CACHE/kernel-$key"
}
