#!/bin/sh
# install-azurite.sh - Azurite (the Azure Storage emulator, npm) for the Azure driver's blob
# tests: 3.35.0 is the newest release that runs on Node 20 (Debian's nodejs here). Installed
# under $AZURITE_PREFIX (default /opt/adc-azurite); idempotent, no network when present.
# Prints the path of the azurite-blob executable.
set -eu
prefix=${AZURITE_PREFIX:-/opt/adc-azurite}
version=3.35.0
bin=$prefix/node_modules/.bin/azurite-blob
if [ -x "$bin" ] && [ "$(cat "$prefix/.version" 2>/dev/null)" = "$version" ]; then
	echo "$bin"
	exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "install-azurite: npm is missing (apt-get install npm)" >&2; exit 1; }
mkdir -p "$prefix"
# Tests that run side by side may both get here: one installs, the other waits and finds it.
exec 9>"$prefix/.install.lock"
flock 9
if [ -x "$bin" ] && [ "$(cat "$prefix/.version" 2>/dev/null)" = "$version" ]; then
	echo "$bin"
	exit 0
fi
npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "azurite@$version" >&2
echo "$version" >"$prefix/.version"
echo "$bin"
