# A thin wrapper around CMake; see README.md.
#   make          build the three executables into build/bin/
#   make test     install dependencies, build, run every test (ASan+UBSan, clang, libFuzzer)
#   make demo     install dependencies, build, run the local demo
#   make bench    build and run the benchmarks in bench/
#   make test-repeat  the release and test builds, then the ctest suite REPEAT times (default 20) under
#                     stress-ng load; prints which tests failed how often (not part of make test)
#   make fuzz     build every libFuzzer target into build-fuzz/ (clang, ASan+UBSan, coverage
#                 in every library) and run each for FUZZ_SECONDS (default 60) with its seeds
#                 and regression inputs; prints target, seconds, executions, exec/s, cov, ft,
#                 crashes; exits non-zero on a crash, naming the artefact (scripts/fuzz.py,
#                 tests/fuzz/README.md). FUZZ_ONLY=regex runs some targets only; FUZZ_NICE
#                 (default 10) is the nice level of the build and the runs.
#   make fault    the long fault suite (tests/fault/, docs/RELIABILITY.md): 1,000 containers,
#                 100 SIGKILLs, 20% API and EC2 faults, worker network cuts; prints its table.
#                 Needs root; FAULT_ARGS overrides (e.g. FAULT_ARGS="--seed 42"), LOCK=file flocks it
#   make deb      build the Debian package into build-pkg/ (packaging/, docs/PACKAGING.md)
#   make rpm      build the RPM into build-pkg/
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
REPEAT ?= 20
CTEST_ARGS ?=
LOCK ?=
FUZZ_SECONDS ?= 60
FUZZ_ONLY ?=
FUZZ_NICE ?= 10

FAULT_ARGS ?= --containers 1000 --kills 100 --fault-rate 0.2 --max-instances 8

.PHONY: all build build-test build-fuzz deps test test-repeat demo bench fuzz fault deb rpm clean

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

# Shake out timing-dependent tests: scripts/test_repeat.py (logs in build-test/test-repeat/).
# E.g. make test-repeat REPEAT=5 CTEST_ARGS="-LE fuzz" LOCK=/tmp/adc-rig.lock (flocked per run).
test-repeat: deps build build-test
	/usr/bin/python3 scripts/test_repeat.py --repeat $(REPEAT) --jobs $(JOBS) --build-dir build-test \
		$(if $(LOCK),--lock $(LOCK)) -- $(CTEST_ARGS)

# The fuzz build: as build-test (clang, ASan+UBSan, libFuzzer) at -O1, with every library
# instrumented for coverage (ADC_FUZZ_COVERAGE); only the fuzz targets are built.
build-fuzz:
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 \
		-DADC_SANITIZE=ON -DADC_FUZZ=ON -DADC_FUZZ_COVERAGE=ON >/dev/null
	nice -n $(FUZZ_NICE) cmake --build build-fuzz -j $(JOBS) --target fuzz_targets

fuzz: build-fuzz
	nice -n $(FUZZ_NICE) /usr/bin/python3 scripts/fuzz.py --build-dir build-fuzz \
		--seconds $(FUZZ_SECONDS) $(if $(FUZZ_ONLY),--only '$(FUZZ_ONLY)')

demo: deps build
	./scripts/demo.sh

bench: deps build
	./scripts/bench.sh

# The release build's executables (the short run in make test uses the sanitizer build).
fault: deps build
	$(if $(LOCK),flock $(LOCK)) env ADC_BIN_DIR=$(CURDIR)/build/bin \
		/usr/bin/python3 tests/fault/fault_run.py $(FAULT_ARGS)

deb: deps
	./packaging/build-package.sh deb

rpm: deps
	./packaging/build-package.sh rpm

clean:
	rm -rf build build-test build-fuzz build-pkg
