#!/bin/sh
# bench.sh - run every benchmark built from bench/ and print its figures (make bench).
# Benchmarks are never part of make test: these machines are shared and noisy.
set -eu
cd "$(dirname "$0")/.."
found=0
for b in build/bench-bin/*; do
	[ -x "$b" ] || continue
	found=1
	echo "== $(basename "$b")"
	"$b"
done
[ "$found" = 1 ] || echo "bench: no benchmarks built yet"
