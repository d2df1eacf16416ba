# A thin wrapper around CMake; see README.md.
#   make          build the three executables into build/bin/
#   make test     install dependencies, build, run every test (ASan+UBSan, clang, libFuzzer)
#   make demo     install dependencies, build, run the local demo
#   make bench    build and run the benchmarks in bench/
#   make deb      build the Debian package into build-pkg/ (packaging/, docs/PACKAGING.md)
#   make rpm      build the RPM into build-pkg/
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build build-test deps test demo bench deb rpm clean

all: build

deps:
	./scripts/install-deps.sh

build:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j $(JOBS)

# The test build: clang, AddressSanitizer + UndefinedBehaviorSanitizer, libFuzzer targets.
build-test:
	cmake -S . -B build-test -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
		-DADC_SANITIZE=ON -DADC_FUZZ=ON >/dev/null
	cmake --build build-test -j $(JOBS)

test: deps build build-test
	cd build-test && ctest --output-on-failure -j $(JOBS)

demo: deps build
	./scripts/demo.sh

bench: deps build
	./scripts/bench.sh

deb: deps
	./packaging/build-package.sh deb

rpm: deps
	./packaging/build-package.sh rpm

clean:
	rm -rf build build-test build-pkg
