# SPDX-License-Identifier: GPL-2.0
# Build smkex.ko against a configured and built kernel tree.
#
#   make                 # against the cached test kernel (scripts/kernel.sh)
#   make KDIR=/path      # against another Rust-enabled 6.12 tree
#   make check           # build, then check the object (see scripts/check-module.sh)
#   make clean
SHELL := /bin/bash
KDIR ?= $(shell scripts/kernel.sh --dir)
KBUILD := $(MAKE) -C $(KDIR) LLVM=1 M=$(CURDIR)
CRATES := build/crates
BUILD_LOG := build/kbuild.log

all: check

# cargo decides what is stale; the outputs are rewritten only when they changed.
crates: FORCE
	scripts/build-crates.sh $(KDIR) $(CRATES)

smkex.ko: crates FORCE
	set -o pipefail; $(KBUILD) modules 2>&1 | tee $(BUILD_LOG)

check: smkex.ko
	scripts/check-module.sh smkex.ko $(BUILD_LOG)

clean:
	$(KBUILD) clean
	rm -rf build

.PHONY: all check clean crates FORCE
