#!/bin/sh
# bench_smoke.sh BENCH_BIN_DIR - each benchmark script of `make bench` once, at a tiny size: it
# must finish (exit 0) and print its goal lines. The figures themselves are not checked (never
# timed assertions in tests). The bench programs exit without freeing what they built, so
# LeakSanitizer is off for them here; the code they drive has its own leak-checked tests.
set -eu
b="$1"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

run() {
	echo "== $*"
	if ! "$@" >"$out" 2>&1; then
		cat "$out"
		echo "bench_smoke: $1 failed" >&2
		exit 1
	fi
	grep -q "goal" "$out" || { cat "$out"; echo "bench_smoke: $1 printed no goal" >&2; exit 1; }
	grep "goal" "$out" | head -3
}

run /usr/bin/python3 "$b/spot_check_bench.py" 2
ADC_BENCH_QUEUED=200 ADC_BENCH_INSTANCES=20 ADC_BENCH_SETTLE=1 run "$b/bench_e2e_scale"
ADC_BENCH_CONTAINERS=40 ADC_BENCH_MAX_INSTANCES=2 ADC_BENCH_PER_INSTANCE=4 \
	run "$b/bench_e2e_throughput"
ADC_BENCH_PROBE_TOTAL=40 ADC_BENCH_PROBE_DROPBEAR=2 ADC_BENCH_PROBE_GOOD=4 \
	ADC_BENCH_PROBE_HUNG=1 ADC_BENCH_PROBE_ROUNDS=1 ADC_BENCH_PROBE_SCENARIOS=mixed \
	run /usr/bin/python3 "$b/sshpool_bench.py"
echo "bench_smoke: every script finished"
