#!/bin/sh
# build-package.sh deb|rpm [OUTDIR] - `make deb` / `make rpm`: build the Debian package
# (debhelper, native format) or the RPM (rpmbuild) from this source tree, with the CMake
# install rules of the top CMakeLists.txt. The packages land in OUTDIR (default build-pkg/).
# The tree is copied first (the files git knows, tracked or new, not the build dirs), so
# the build never writes into the source tree.
set -eu
kind=${1:?usage: build-package.sh deb|rpm [OUTDIR]}
top=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$top/build-pkg}
mkdir -p "$out"
out=$(cd "$out" && pwd)
version=$(sed -n 's/^project(arvados-dispatch-cloud VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")
[ -n "$version" ] || { echo "build-package: no version in CMakeLists.txt" >&2; exit 1; }
work=$(mktemp -d "$out/.work-$kind.XXXXXX")
trap 'rm -rf "$work"' EXIT
src="$work/arvados-dispatch-cloud-$version"
mkdir -p "$src"
(cd "$top" && git ls-files -z -c -o --exclude-standard | xargs -0 tar -cf - --no-recursion) |
	tar -xf - -C "$src"
jobs=$(nproc 2>/dev/null || echo 2)

case $kind in
deb)
	cp -a "$src/packaging/debian" "$src/debian"
	(cd "$src" && DEB_BUILD_OPTIONS="parallel=$jobs nocheck ${DEB_BUILD_OPTIONS:-}" \
		dpkg-buildpackage -us -uc -b) >"$out/build-deb.log" 2>&1 ||
		{ tail -40 "$out/build-deb.log" >&2; echo "build-package: dpkg-buildpackage failed (log: $out/build-deb.log)" >&2; exit 1; }
	for f in "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo; do
		[ -e "$f" ] && mv "$f" "$out/"
	done
	ls "$out"/arvados-dispatch-cloud_"$version"_*.deb
	;;
rpm)
	mkdir -p "$work/rpm/SOURCES"
	tar -czf "$work/rpm/SOURCES/arvados-dispatch-cloud-$version.tar.gz" -C "$work" \
		"arvados-dispatch-cloud-$version"
	# --nodeps: on the Debian build host the BuildRequires are dpkg packages, which the
	# (empty) rpm database does not know; CMake checks every one of them itself.
	rpmbuild --nodeps --define "_topdir $work/rpm" --define "adc_version $version" \
		--define "_smp_mflags -j$jobs" --define "debug_package %{nil}" \
		-bb "$src/packaging/rpm/arvados-dispatch-cloud.spec" >"$out/build-rpm.log" 2>&1 ||
		{ tail -40 "$out/build-rpm.log" >&2; echo "build-package: rpmbuild failed (log: $out/build-rpm.log)" >&2; exit 1; }
	mv "$work"/rpm/RPMS/*/arvados-dispatch-cloud-"$version"-*.rpm "$out/"
	ls "$out"/arvados-dispatch-cloud-"$version"-*.rpm
	;;
*)
	echo "build-package: unknown kind \"$kind\" (deb or rpm)" >&2
	exit 2
	;;
esac
