# Included by each suite's Makefile (kselftest style). A suite lists its test
# programs in TEST_PROGS and the binaries to build in TEST_GEN_FILES;
# `make` builds, `make -s list` prints the programs for tests/run.sh.
all: $(TEST_GEN_FILES)

list:
	@echo $(TEST_PROGS)

clean:
	rm -f $(TEST_GEN_FILES)

.PHONY: all list clean

# Suites whose tests run the smkex CLI (rust/cli) set NEEDS_SMKEX_CLI := 1.
ifdef NEEDS_SMKEX_CLI
all: smkex-cli
smkex-cli:
	cargo build --quiet --release --manifest-path ../../rust/Cargo.toml -p smkex-cli
.PHONY: smkex-cli
endif
