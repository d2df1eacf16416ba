#!/bin/sh
# check-format.sh - fail when a C file differs from what clang-format (.clang-format) makes of it.
# Fix with: git ls-files '*.c' '*.h' | xargs clang-format -i
set -eu
cd "$(dirname "$0")/.."
CF=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$CF" ] || { echo "check-format: clang-format not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
	files=$(git ls-files '*.c' '*.h')
else
	files=$(find common proto dispatcherd cloudd sshd-pool tests bench -name '*.[ch]')
fi
# One clang-format process for every file (one per file took 30 s on a loaded 2-core machine).
# shellcheck disable=SC2086
if out=$("$CF" --dry-run -Werror $files 2>&1); then
	echo "check-format: $(echo "$files" | wc -l) files formatted"
	exit 0
fi
echo "$out" | grep -o '^[^:]*\.[ch]:' | sort -u | sed 's/:$//' | while read -r f; do
	echo "check-format: $f is not formatted (clang-format -i $f)" >&2
done
echo "check-format: some files are not formatted" >&2
exit 1
