#!/bin/sh
# demo.sh - the local cluster demo (make demo); see README.md and scripts/demo.py.
# It needs root (the loopback instance is this machine; the helpers switch users): without
# it, it runs itself again through sudo.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "demo: needs root (or sudo)" >&2; exit 1; }
	exec sudo ADC_BIN_DIR="${ADC_BIN_DIR:-}" DEMO_SECONDS="${DEMO_SECONDS:-}" \
		DEMO_ONCE="${DEMO_ONCE:-}" DEMO_LOG_LEVEL="${DEMO_LOG_LEVEL:-}" \
		/usr/bin/python3 scripts/demo.py "$@"
fi
exec /usr/bin/python3 scripts/demo.py "$@"
