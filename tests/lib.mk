# Included by each suite's Makefile (kselftest style): a suite lists its test
# programs in TEST_PROGS; `make -s list` prints them for tests/run.sh.
list:
	@echo $(TEST_PROGS)
.PHONY: list
