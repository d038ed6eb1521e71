# hotswap - convenience wrapper around the CMake build.
#
#   make demo    build (release), show the default simulated chassis, run
#                hotswapd on it in real time with a narrated operator session
#   make demo-core   the core's own scripted session (no service)
#   make check   build with ASan + UBSan and run every test
#   make test T=test_fabric   build with sanitizers and run one test
#   make bench   run the benchmarks (release build), print their figures
#   make bench-linux   hotswapd vs the kernel alone on a Linux guest under
#                QEMU (docs/linux.md); part of make bench when QEMU is there
#   make qemu    build the bare-metal image and boot it under QEMU on this
#                terminal (its serial line protocol; docs/qemu.md);
#                make qemu ARCH=aarch64 for the aarch64 image on virt
#   make test-qemu   the images' test suite on QEMU alone (tests/qemu),
#                x86 and aarch64
#   make coverage   line and branch coverage of the tests per directory
#                and per file (gcc --coverage, gcovr; docs/testing.md)
#   make install DESTDIR=...  install from the release build
#   make mutate  plant realistic bugs one at a time and check the tests
#                catch each (scripts/mutate.py; minutes; not in check)
#
# Build trees live under build/ (out of tree; `make clean` removes them).

BUILD   ?= build
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE   ?= cmake
RELEASE := $(BUILD)/release
ASAN    := $(BUILD)/asan
CLANG   := $(BUILD)/clang
FUZZ    := $(BUILD)/fuzz
FUZZ_SECONDS ?= 20
SCAN    := $(BUILD)/scan
ARCH    ?= x86
QEMU_IMAGE_x86 := hotswap-qemu.elf
QEMU_IMAGE_aarch64 := hotswap-aarch64.elf

.PHONY: all demo demo-core check test bench bench-linux install clean slot-coverage qemu test-qemu clang scan fuzz mutate coverage

all: $(RELEASE)/.configured
	$(CMAKE) --build $(RELEASE) -j$(JOBS)

$(RELEASE)/.configured: CMakeLists.txt
	$(CMAKE) -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOTSWAP_TESTS=OFF
	@touch $@

$(ASAN)/.configured: CMakeLists.txt
	$(CMAKE) -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DHOTSWAP_SANITIZE=ON
	@touch $@

demo: all
	@echo "== the default chassis as built (hardware view) =="
	$(RELEASE)/hotswap-lspci -v
	@echo
	@echo "== hotswapd on that chassis in real time, driven with hotswapctl =="
	sh scripts/demo.sh $(RELEASE) .

# The core alone, without the service: the scripted session on the
# virtual clock (what make demo showed before hotswapd existed).
demo-core: all
	$(RELEASE)/hotswap-lspci -e
	$(RELEASE)/hotswap-demo

# Everything (tests included) also builds with clang at the same warnings
# and -Werror; the QEMU image is left out (gcc's 32-bit libgcc).
$(CLANG)/.configured: CMakeLists.txt
	CC=clang $(CMAKE) -S . -B $(CLANG) -DCMAKE_BUILD_TYPE=Debug -DHOTSWAP_QEMU_IMAGE=OFF -DHOTSWAP_AARCH64_IMAGE=OFF
	@touch $@

clang: $(CLANG)/.configured
	$(CMAKE) --build $(CLANG) -j$(JOBS)

# The clang static analyzer over the same build; fails on any report
# (docs/testing.md says how to read them).
scan:
	rm -rf $(SCAN)
	scan-build -o $(SCAN)/reports cmake -S . -B $(SCAN) -DCMAKE_BUILD_TYPE=Debug -DHOTSWAP_QEMU_IMAGE=OFF -DHOTSWAP_TESTS=OFF
	scan-build -o $(SCAN)/reports --status-bugs $(CMAKE) --build $(SCAN) -j$(JOBS)

# libFuzzer harnesses (tests/fuzz/README.md): each runs its committed
# regressions, then FUZZ_SECONDS of fuzzing from its seed corpus.
$(FUZZ)/.configured: CMakeLists.txt
	CC=clang $(CMAKE) -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=Debug -DHOTSWAP_FUZZ=ON -DHOTSWAP_TESTS=OFF -DHOTSWAP_QEMU_IMAGE=OFF -DHOTSWAP_AARCH64_IMAGE=OFF
	@touch $@

fuzz: $(FUZZ)/.configured
	$(CMAKE) --build $(FUZZ) -j$(JOBS)
	sh scripts/fuzz.sh $(FUZZ) $(FUZZ_SECONDS)

check: $(ASAN)/.configured clang fuzz
	$(CMAKE) --build $(ASAN) -j$(JOBS)
	cd $(ASAN) && ctest --output-on-failure -j$(JOBS)

test: $(ASAN)/.configured
	$(CMAKE) --build $(ASAN) -j$(JOBS) --target $(T)
	cd $(ASAN) && ctest --output-on-failure -R '^$(T)$$'

# Mutation testing (docs/testing.md): each mutant of scripts/mutate.py
# rebuilt and its tests run in MUTATE_BUILD (a tree configured with the
# tests; default the ASan one), the source restored after each.
# make mutate ONLY=cpcihp,sim-   runs the mutants whose names match.
MUTATE_BUILD ?= $(ASAN)
mutate: $(ASAN)/.configured
	python3 scripts/mutate.py --build $(MUTATE_BUILD) --jobs $(JOBS) $(if $(ONLY),--only $(ONLY))

# The slot state table's coverage by the scenario suite (every cell).
slot-coverage: $(ASAN)/.configured
	$(CMAKE) --build $(ASAN) -j$(JOBS) --target test_slot_scenarios
	cd $(ASAN) && ./test_slot_scenarios | sed -n '/coverage/,/exercised/p'

# Line and branch coverage of the test suite per directory and per file
# (gcc --coverage, gcovr; docs/testing.md).  Not part of make check.
COVERAGE := $(BUILD)/coverage
RANDOM_COUNT ?= 500
coverage:
	JOBS=$(JOBS) sh scripts/coverage.sh $(COVERAGE) $(RANDOM_COUNT)

qemu: all
	sh scripts/qemu-run.sh $(RELEASE)/$(QEMU_IMAGE_$(ARCH)) ./hotswap-qmp.sock $(ARCH)

test-qemu: $(ASAN)/.configured
	$(CMAKE) --build $(ASAN) -j$(JOBS) --target hotswap-qemu.elf hotswap-aarch64
	python3 tests/qemu/run.py --image $(ASAN)/hotswap-qemu.elf
	python3 tests/qemu/run.py --arch aarch64 --image $(ASAN)/hotswap-aarch64.elf

bench: all
	$(RELEASE)/hotswap-bench-access
	sh bench/bench_size.sh $(CC)
	$(RELEASE)/hotswap-bench-enum
	sh bench/bench_scaling.sh $(RELEASE)/hotswap-bench-enum
	$(RELEASE)/hotswap-bench-alloc
	$(RELEASE)/hotswap-bench-catalog
	$(RELEASE)/hotswap-bench-clients
	python3 bench/qemu_bench.py --x86 $(RELEASE)/hotswap-qemu.elf \
		--aarch64 $(RELEASE)/hotswap-aarch64.elf
	python3 bench/web.py $(RELEASE) .
	@if command -v qemu-system-x86_64 >/dev/null && [ -x $(RELEASE)/hotswap-linux ]; then \
		$(MAKE) --no-print-directory bench-linux; \
	else echo "bench-linux skipped: no qemu-system-x86_64 or no Linux back-end"; fi

# The Linux back-end on Debian 12's kernel in a QEMU guest (docs/linux.md).
bench-linux: all
	python3 tests/linux/run.py --build $(RELEASE) --bench 5

install: all
	$(CMAKE) --install $(RELEASE) $(if $(DESTDIR),,--prefix /usr/local)

clean:
	rm -rf $(BUILD)
