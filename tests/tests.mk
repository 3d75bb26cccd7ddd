# Test targets, included by the top-level Makefile.
.PHONY: test
test: all
	bash tests/run
