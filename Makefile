# A thin wrapper over CMake presets (see CMakePresets.json), as neovim does.
#
#   make            debug build with -Werror (build/dev)
#   make test       install what is missing, build with ASan+UBSan, run every
#                   test: unit, fuzz corpus replay, interop with real OTP
#   make run        the live demo (scripts/run): a mixed edist/BEAM cluster
#   make ci         what .ci/run does: format check, gcc and clang -Werror
#                   builds, optimised -Werror build, exported-symbol check,
#                   make test, and interop tests of the optimised build's
#                   statically linked programs
#   make fuzz       libFuzzer binaries (clang) in build/fuzz
#   make bench      release build and every benchmark under bench/
#   make format     clang-format the tree in place

JOBS ?= 2
SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

.PHONY: all bootstrap test run ci fuzz bench format format-check clang \
        release-check release-test symbols clean

all:
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)

bootstrap:
	scripts/bootstrap

test: bootstrap
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

run:
	scripts/bootstrap --demo
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	scripts/run

clang: bootstrap
	cmake --preset clang >/dev/null
	cmake --build --preset clang -j $(JOBS)

# The optimised build (what make run and the benchmarks use) must be
# warning-free too: -O2 finds what -O0 does not.
release-check: bootstrap
	cmake --preset release -DEDIST_WERROR=ON >/dev/null
	cmake --build --preset release -j $(JOBS)

# The optimised build's programs are linked statically (static-pie;
# docs/design-notes.md), unlike the sanitizer build's that make test runs:
# the interop tests that need only the programs run against them too.
RELEASE_TESTS = test_node_basic test_node_ipv6 test_rpc test_cli_watch \
                test_mesh_transitive test_demo
release-test: release-check
	@if readelf -l build/release/cli/edist | grep -q 'program interpreter'; then \
	    echo "release-test: the programs are dynamically linked (an archive is missing: see cmake's output)"; \
	else \
	    echo "release-test: the programs are static-pie"; \
	fi
	@for t in $(RELEASE_TESTS); do \
	    echo "release-test: $$t"; \
	    rc=0; EDIST_BUILD=$(CURDIR)/build/release \
	        timeout -k 5 300 bash tests/interop/$$t.sh || rc=$$?; \
	    if [ $$rc -eq 77 ]; then echo "release-test: $$t skipped"; \
	    elif [ $$rc -ne 0 ]; then exit $$rc; fi; \
	done

fuzz: bootstrap
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

bench: bootstrap
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	scripts/bench

format:
	clang-format -i $(SOURCES)

format-check:
	clang-format --dry-run -Werror $(SOURCES)

# The shared library must export only edist_* symbols.
symbols: all
	scripts/check-symbols build/dev/src/libedist.so

ci: bootstrap format-check all clang release-check symbols test release-test

clean:
	rm -rf build
