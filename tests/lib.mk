# Included by each suite's Makefile (kselftest style). A suite lists its test
# programs in TEST_PROGS and the binaries to build in TEST_GEN_FILES;
# `make` builds, `make -s list` prints the programs for tests/run.sh.
all: $(TEST_GEN_FILES)

list:
	@echo $(TEST_PROGS)

clean:
	rm -f $(TEST_GEN_FILES)

.PHONY: all list clean
