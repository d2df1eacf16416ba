# adc_unit_test(NAME SOURCES... [LIBS ...]): a cmocka test binary registered with ctest.
function(adc_unit_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT})
endfunction()

# adc_fuzz_target(NAME SOURCES... LIBS ... [CORPUS dir]): a libFuzzer target, built only with
# ADC_FUZZ (clang), and a short ctest run of it (ADC_FUZZ_SECONDS, default 2; `make fuzz` runs long).
# Inputs that once crashed a target live in tests/fuzz/regress/<NAME>/ (tests/fuzz/README.md):
# both the ctest run and `make fuzz` (scripts/fuzz.py) give that directory as a corpus, so
# libFuzzer replays every one of them before it mutates anything. Each target is also listed
# in <build>/fuzz/targets.tsv (name, binary, seed dirs) and built by the `fuzz_targets` target,
# which is what `make fuzz` builds and runs.
set(ADC_FUZZ_SECONDS 2 CACHE STRING "seconds each fuzz target runs under ctest (make test; longer runs: -DADC_FUZZ_SECONDS=N)")
function(adc_fuzz_target name)
  cmake_parse_arguments(T "" "CORPUS" "SOURCES;LIBS" ${ARGN})
  if(NOT ADC_FUZZ)
    return()
  endif()
  add_executable(${name} ${T_SOURCES})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE ${T_LIBS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  set(workdir ${CMAKE_BINARY_DIR}/fuzz/${name}.corpus)
  file(MAKE_DIRECTORY ${workdir})
  set(seed "")
  if(T_CORPUS)
    set(seed ${T_CORPUS})
  endif()
  set(regress ${PROJECT_SOURCE_DIR}/tests/fuzz/regress/${name})
  if(IS_DIRECTORY ${regress})
    list(APPEND seed ${regress})
  endif()
  string(REPLACE ";" "\t" seed_cols "${seed}")
  set_property(GLOBAL APPEND PROPERTY ADC_FUZZ_TARGETS ${name})
  set_property(GLOBAL APPEND_STRING PROPERTY ADC_FUZZ_MANIFEST
               "${name}\t${CMAKE_BINARY_DIR}/fuzz/${name}\t${seed_cols}\n")
  add_test(NAME fuzz_${name}
           COMMAND ${name} -max_total_time=${ADC_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048
                   -print_final_stats=1 ${workdir} ${seed})
  set_tests_properties(fuzz_${name} PROPERTIES TIMEOUT 300 LABELS fuzz)
endfunction()

# After every adc_fuzz_target: the `fuzz_targets` target (all of them) and the manifest that
# scripts/fuzz.py reads (`make fuzz`).
function(adc_fuzz_finish)
  if(NOT ADC_FUZZ)
    return()
  endif()
  get_property(targets GLOBAL PROPERTY ADC_FUZZ_TARGETS)
  get_property(manifest GLOBAL PROPERTY ADC_FUZZ_MANIFEST)
  add_custom_target(fuzz_targets DEPENDS ${targets})
  file(WRITE ${CMAKE_BINARY_DIR}/fuzz/targets.tsv "${manifest}")
endfunction()
