# hotswap - convenience wrapper around the CMake build.
#
#   make demo    build (release) and show the default simulated chassis
#   make check   build with ASan + UBSan and run every test
#   make test T=test_fabric   build with sanitizers and run one test
#   make install DESTDIR=...  install from the release build
#
# Build trees live under build/ (out of tree; `make clean` removes them).

BUILD   ?= build
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE   ?= cmake
RELEASE := $(BUILD)/release
ASAN    := $(BUILD)/asan

.PHONY: all demo check test install clean

all: $(RELEASE)/.configured
	$(CMAKE) --build $(RELEASE) -j$(JOBS)

$(RELEASE)/.configured: CMakeLists.txt
	$(CMAKE) -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOTSWAP_TESTS=OFF
	@touch $@

$(ASAN)/.configured: CMakeLists.txt
	$(CMAKE) -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DHOTSWAP_SANITIZE=ON
	@touch $@

demo: all
	$(RELEASE)/hotswap-lspci -v

check: $(ASAN)/.configured
	$(CMAKE) --build $(ASAN) -j$(JOBS)
	cd $(ASAN) && ctest --output-on-failure -j$(JOBS)

test: $(ASAN)/.configured
	$(CMAKE) --build $(ASAN) -j$(JOBS) --target $(T)
	cd $(ASAN) && ctest --output-on-failure -R '^$(T)$$'

install: all
	$(CMAKE) --install $(RELEASE) $(if $(DESTDIR),,--prefix /usr/local)

clean:
	rm -rf $(BUILD)
