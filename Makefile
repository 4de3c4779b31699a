# Thin wrapper around CMake/CTest plus the scripts in tools/.
# CI entry point: .ci/run (= make test).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= 2
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLM_WERROR=ON

.PHONY: build deps unit test demo asan format format-check clean distclean

deps:
	tools/deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

unit: build
	ctest --test-dir $(BUILD) -L unit --output-on-failure -j$(JOBS)

# The broker is stopped whatever happens (the EXIT trap keeps ctest's
# status); integration tests find it through CLM_KAFKA_BOOTSTRAP.
# With an ASan build present (make asan; .ci/run makes one first), two
# integration tests also run on its binaries: memory errors in claimsd and
# claimsctl show up only with real traffic.
ASAN_INTEGRATION ?= test_e2e test_replay
test: build
	trap 'tools/kafka.sh stop' EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; \
	tools/kafka.sh fetch start; \
	export CLM_KAFKA_BOOTSTRAP=$$(tools/kafka.sh bootstrap); \
	ctest --test-dir $(BUILD) --output-on-failure -j1; \
	if [[ -x $(ASAN_BUILD)/claimsd ]]; then \
		for t in $(ASAN_INTEGRATION); do \
			echo "== $$t on the ASan/UBSan build"; \
			ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			CLM_BUILD_DIR=$$PWD/$(ASAN_BUILD) bash tests/integration/$$t.sh >$(BUILD)/asan-$$t.log 2>&1 || \
				{ tail -n 60 $(BUILD)/asan-$$t.log; echo "$$t FAILED on the ASan build"; exit 1; }; \
			tail -n 1 $(BUILD)/asan-$$t.log; \
		done; \
	else echo "no $(ASAN_BUILD)/claimsd: run make asan to add the ASan integration runs"; fi

# The broker stays up afterwards for poking around; tools/kafka.sh stop.
demo: build
	tools/kafka.sh fetch start
	CLM_KAFKA_BOOTSTRAP=$$(tools/kafka.sh bootstrap) tools/demo.sh

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCLM_WERROR=ON \
		-DCLM_SANITIZE='address;undefined'
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir $(ASAN_BUILD) -L unit --output-on-failure -j$(JOBS)

# Tracked files plus new, not-ignored ones (so files not yet added are
# covered locally; on a CI clone this is exactly the tracked set).
FORMAT_FILES = git ls-files -z -c -o --exclude-standard -- '*.c' '*.h' ':!build*/*'
NEED_CLANG_FORMAT = command -v clang-format >/dev/null || \
	{ echo "clang-format not found (apt-get install clang-format)" >&2; exit 1; }

format:
	@$(NEED_CLANG_FORMAT)
	$(FORMAT_FILES) | xargs -0 -r clang-format -i --style=file

# Lists offending files rather than every diff hunk (--dry-run is very long).
format-check:
	@$(NEED_CLANG_FORMAT); rc=0; \
	while IFS= read -r -d '' f; do \
		clang-format --style=file "$$f" | cmp -s - "$$f" || \
			{ echo "needs clang-format: $$f"; rc=1; }; \
	done < <($(FORMAT_FILES)); \
	((rc == 0)) || echo "run 'make format' to fix" >&2; \
	exit $$rc

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# Also stops the broker and drops var/ (jars, Maven cache, broker data).
distclean: clean
	tools/kafka.sh stop
	rm -rf var
