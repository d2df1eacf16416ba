# The build id travels in HELLO: a parent and a child from different builds (a package upgrade
# half done) refuse each other instead of misreading messages.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                OUTPUT_VARIABLE ADC_GIT_REV OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT ADC_GIT_REV)
  set(ADC_GIT_REV "nogit")
endif()
string(TIMESTAMP ADC_BUILD_TIME "%Y%m%dT%H%M%S" UTC)
string(RANDOM LENGTH 8 ALPHABET "0123456789abcdef" ADC_BUILD_NONCE)
set(ADC_VERSION ${PROJECT_VERSION})
set(ADC_BUILD_ID "${PROJECT_VERSION}-${ADC_GIT_REV}-${ADC_BUILD_TIME}-${ADC_BUILD_NONCE}")
configure_file(${CMAKE_SOURCE_DIR}/common/build_id.h.in ${CMAKE_BINARY_DIR}/generated/build_id.h @ONLY)
