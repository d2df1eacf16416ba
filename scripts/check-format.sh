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
bad=0
for f in $files; do
	[ -f "$f" ] || continue
	if ! "$CF" --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "check-format: $f is not formatted (clang-format -i $f)" >&2
		bad=$((bad + 1))
	fi
done
[ "$bad" -eq 0 ] || { echo "check-format: $bad file(s) not formatted" >&2; exit 1; }
echo "check-format: $(echo "$files" | wc -l) files formatted"
