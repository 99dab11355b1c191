#!/usr/bin/env bash
# Run every test of smkex: host tests, then the VM suites on the debug kernel.
# Installs and builds what it needs first (scripts/setup.sh, scripts/kernel.sh,
# make). Prints each result as TAP and ends with `N passed, N failed`.
# Exit status 0 only if nothing failed.
set -uo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
cd "$SMKEX_ROOT"

HOST_SUITES=(console)
VM_SUITES=(module api plain handshake records attack faults peer)
FUZZ_SECONDS=${SMKEX_FUZZ_SECONDS:-60}

passed=0 failed=0 skipped=0 n=0
result() { # result ok|fail|skip NAME [REASON]
  n=$((n + 1))
  case $1 in
    ok) passed=$((passed + 1)); echo "ok $n - $2" ;;
    fail) failed=$((failed + 1)); echo "not ok $n - $2" ;;
    skip) skipped=$((skipped + 1)); echo "ok $n - $2 # SKIP ${3:-}" ;;
  esac
}
# Re-number one suite's TAP lines into the run's results. A suite that exits
# non-zero without reporting a failure gets one.
collect() { # collect SUITE_NAME OUTPUT_FILE EXIT_STATUS
  local name=$1 file=$2 rc=$3 line fails=0
  while IFS= read -r line; do
    case $line in
      "not ok "*) result fail "$name: $(sed -E 's/^not ok [0-9]+ (- )?//' <<<"$line")"; fails=1 ;;
      "ok "*"# SKIP"*) result skip "$name: $(sed -E 's/^ok [0-9]+ (- )?(.*) # SKIP.*/\2/' <<<"$line")" "${line##*# SKIP}" ;;
      "ok "*) result ok "$name: $(sed -E 's/^ok [0-9]+ (- )?//' <<<"$line")" ;;
      "#"*) echo "$line" ;;
    esac
  done <"$file"
  [ "$rc" = 0 ] || [ "$rc" = 4 ] || [ $fails = 1 ] || result fail "$name: exited with status $rc"
}
# Run a command as one result, keeping its output in build/logs/NAME.log.
run_step() { # run_step NAME COMMAND...
  local name=$1; shift
  local log="build/logs/${name//[^a-zA-Z0-9_.-]/_}.log"
  if "$@" >"$log" 2>&1; then result ok "$name"; else result fail "$name (see $log)"; tail -n 20 "$log" | sed 's/^/# /'; fi
}

mkdir -p build/logs
echo "TAP version 13"
step "run: set-up" ; scripts/setup.sh >build/logs/setup.log 2>&1 || { tail -n 30 build/logs/setup.log; die "set-up failed"; }
kernel_ok=1
scripts/kernel.sh | sed -u 's/^/# /' || kernel_ok=0
[ $kernel_ok = 1 ] && result ok "kernel: debug kernel built" || result fail "kernel: debug kernel built"

# --- host tests
if cargo test --manifest-path rust/Cargo.toml -p smkex-proto -p smkex-logic -p smkex-uapi >build/logs/cargo-test.log 2>&1; then rc=0; else rc=$?; fi
sed -nE 's/^test (.+) \.\.\. (ok|FAILED|ignored)$/\2 \1/p' build/logs/cargo-test.log >build/logs/cargo-test.results
while read -r status name; do
  case $status in ok) result ok "cargo test: $name" ;; FAILED) result fail "cargo test: $name" ;; ignored) result skip "cargo test: $name" ignored ;; esac
done <build/logs/cargo-test.results
[ $rc = 0 ] || grep -q '^FAILED' build/logs/cargo-test.results || result fail "cargo test exited with status $rc (see build/logs/cargo-test.log)"
# The spec's vectors recomputed by an independent implementation (Python's
# hashlib/hmac and cryptography), so that spec, host crate and kernel cannot drift.
run_step "spec vectors: handshake recomputed in Python" python3 rust/proto/tests/crosscheck_vectors.py
run_step "spec vectors: record layer recomputed in Python (cryptography's ChaCha20-Poly1305)" python3 rust/proto/tests/crosscheck_records.py
run_step "cargo clippy: smkex-proto denies warnings" cargo clippy --manifest-path rust/Cargo.toml -p smkex-proto -- -D warnings
run_step "cargo clippy: smkex-logic denies warnings" cargo clippy --manifest-path rust/Cargo.toml -p smkex-logic --all-targets -- -D warnings
run_step "cargo clippy: smkex CLI denies warnings" cargo clippy --release --manifest-path rust/Cargo.toml -p smkex-cli -- -D warnings
if [ -x rust/proto/fuzz/run.sh ]; then
  run_step "fuzz: protocol core, record layer and module logic for ${FUZZ_SECONDS}s without a crash" rust/proto/fuzz/run.sh "$FUZZ_SECONDS"
  grep -iE 'exec|runs' "build/logs/fuzz__protocol_core__record_layer_and_module_logic_for_${FUZZ_SECONDS}s_without_a_crash.log" | tail -n 3 | sed 's/^/# /'
else
  result fail "fuzz: rust/proto/fuzz/run.sh missing"
fi
for suite in "${HOST_SUITES[@]}"; do
  for prog in $(make -s -C "tests/$suite" list); do
    "tests/$suite/$prog" >"build/logs/$suite.tap" 2>&1; collect "$suite" "build/logs/$suite.tap" $?
  done
done

# --- module build and VM suites
build_vm_suites() { local s; for s in "${VM_SUITES[@]}"; do make -C "tests/$s" all || return 1; done; }
if [ $kernel_ok = 1 ] && run_step "build: smkex.ko (no SIMD, loadable relocations, objtool clean)" make \
   && run_step "build: VM suite programs" build_vm_suites; then
  vm_out=build/vm-out/results
  rm -rf "$vm_out"
  # The suites take about 35 minutes under TCG: more than run-vm.sh's default bound.
  SMKEX_VM_TIMEOUT=${SMKEX_VM_TIMEOUT:-3600} qemu/run-vm.sh --log build/logs/vm-console.log tests/vm-suites.sh "$vm_out" "${VM_SUITES[@]}" >build/logs/vm.log 2>&1
  echo "# vm exit status $?"
  for suite in "${VM_SUITES[@]}"; do
    for prog in $(make -s -C "tests/$suite" list); do
      if [ -f "$vm_out/$suite.$prog.rc" ]; then
        collect "$suite" "$vm_out/$suite.$prog.tap" "$(cat "$vm_out/$suite.$prog.rc")"
      else
        result fail "$suite: $prog did not run (see build/logs/vm.log)"
      fi
    done
  done
  if qemu/console-check.sh build/logs/vm-console.log >build/logs/console-check.log; then
    result ok "vm: console clean (no Call Trace, KASAN, lockdep or kmemleak report) and end reached"
  else
    result fail "vm: console clean (see build/logs/console-check.log)"; sed 's/^/# /' build/logs/console-check.log
  fi
else
  result fail "vm: suites not run (no kernel or module)"
fi

echo "1..$n"
[ $skipped = 0 ] && echo "$passed passed, $failed failed" || echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
