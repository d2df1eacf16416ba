#!/bin/sh
# install-deps.sh - install every build and test dependency from Debian's packages.
# Idempotent: does nothing (and needs no network) when everything is already installed.
# Runs apt-get as root, or through sudo.
set -eu

PKGS="
build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
libmicrohttpd-dev prometheus wrk
libuv1-dev libcurl4-openssl-dev libssh-dev libfyaml-dev libcjson-dev libmbedtls-dev
libsystemd-dev libseccomp-dev libcap-dev libcmocka-dev libexpat1-dev
gdb valgrind heaptrack procps psmisc iproute2 ca-certificates openssl curl stress-ng
openssh-server openssh-client dropbear-bin
python3 python3-botocore python3-boto3 python3-yaml python3-cryptography
libpq-dev postgresql postgresql-client python3-dnspython
python3-azure nodejs npm
systemd
dpkg-dev debhelper fakeroot lintian rpm rpmlint scdoc mandoc file
"

missing=""
for p in $PKGS; do
	# A nodejs that bundles npm (NodeSource's, as on these machines) conflicts with Debian's
	# npm package: an npm on PATH is enough.
	if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then
		continue
	fi
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "install-deps: all dependencies present"
	"$(dirname "$0")/install-azurite.sh" >/dev/null
	exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install:$missing" >&2; exit 1; }
	SUDO=sudo
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing
# Azurite (npm) for the Azure driver's blob tests.
"$(dirname "$0")/install-azurite.sh" >/dev/null
