#!/bin/sh
# demo.sh - run the dispatcher locally (make demo). See README.md.
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 scripts/demo.py "$@"
