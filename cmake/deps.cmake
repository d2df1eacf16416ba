# Every dependency is a Debian package (scripts/install-deps.sh installs them); see docs/DEPENDENCIES.md.
find_package(PkgConfig REQUIRED)
# libuv: 1.44 (Debian 12's 1.44.2, the version tested) and later 1.x. 1.45 moved the timer step
# of uv_run() from the top of a pass to its end; nothing here depends on either order: the
# product's loops run UV_RUN_DEFAULT and end with uv_stop(), and the tests wait through
# tests/support/uv_wait.h, never with a bare UV_RUN_ONCE loop (issue 18, docs/DEPENDENCIES.md).
pkg_check_modules(UV REQUIRED IMPORTED_TARGET libuv>=1.44)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl>=7.88)
pkg_check_modules(SSH REQUIRED IMPORTED_TARGET libssh>=0.10)
pkg_check_modules(FYAML REQUIRED IMPORTED_TARGET libfyaml>=0.7)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson>=1.7)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp>=2.5)
pkg_check_modules(EXPAT REQUIRED IMPORTED_TARGET expat)
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq>=15)
# The management HTTP server (HTTP parsing, TLS through GnuTLS), driven from the libuv loop.
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd>=0.9.75)
# mbedTLS 2.28 ships no .pc file.
find_library(MBEDTLS_LIB mbedtls REQUIRED)
find_library(MBEDX509_LIB mbedx509 REQUIRED)
find_library(MBEDCRYPTO_LIB mbedcrypto REQUIRED)
add_library(adc_mbedtls INTERFACE)
target_link_libraries(adc_mbedtls INTERFACE ${MBEDTLS_LIB} ${MBEDX509_LIB} ${MBEDCRYPTO_LIB})
