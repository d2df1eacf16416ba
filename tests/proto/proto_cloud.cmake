# The cloud verbs (proto/proto_cloud.{h,c}): round trips, bounds and the mutation sweep in
# test_proto_cloud, and one libFuzzer target per decoder seeded from the sample encodings.
adc_unit_test(test_proto_cloud SOURCES test_proto_cloud.c proto_cloud_cases.c proto_cases.c
              LIBS adc_proto)
target_include_directories(test_proto_cloud PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
if(ADC_FUZZ)
  add_executable(proto_cloud_corpus_gen proto_cloud_corpus_gen.c proto_cloud_cases.c proto_cases.c)
  target_include_directories(proto_cloud_corpus_gen PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(proto_cloud_corpus_gen PRIVATE adc_proto)
  set(PROTO_CLOUD_SEEDS ${CMAKE_BINARY_DIR}/fuzz/proto-cloud-seeds)
  add_custom_command(OUTPUT ${PROTO_CLOUD_SEEDS}/.stamp
                     COMMAND proto_cloud_corpus_gen ${PROTO_CLOUD_SEEDS}
                     COMMAND ${CMAKE_COMMAND} -E touch ${PROTO_CLOUD_SEEDS}/.stamp
                     DEPENDS proto_cloud_corpus_gen
                     COMMENT "proto: writing cloud-verb fuzz seed corpora")
  add_custom_target(proto_cloud_seeds ALL DEPENDS ${PROTO_CLOUD_SEEDS}/.stamp)
endif()
# Decoders compiled into each target so that -fsanitize=fuzzer instruments them.
foreach(n create create_ans list list_ans destroy destroy_ans tags err_ans prices prices_ans
          qgroup qgroup_ans stats stats_ans)
  adc_fuzz_target(fuzz_proto_cloud_${n}
                  SOURCES fuzz_proto_cloud_${n}.c proto_cloud_cases.c proto_cases.c
                          ${PROJECT_SOURCE_DIR}/proto/proto_codec.c
                          ${PROJECT_SOURCE_DIR}/proto/proto_msgs.c
                          ${PROJECT_SOURCE_DIR}/proto/proto_cloud.c
                          ${PROJECT_SOURCE_DIR}/proto/proto_cloud_fields.c
                          ${PROJECT_SOURCE_DIR}/proto/proto_types.c
                  LIBS adc_common CORPUS ${PROTO_CLOUD_SEEDS}/cloud_${n})
  if(TARGET fuzz_proto_cloud_${n})
    target_include_directories(fuzz_proto_cloud_${n} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
                               ${PROJECT_SOURCE_DIR}/proto)
    add_dependencies(fuzz_proto_cloud_${n} proto_cloud_seeds)
  endif()
endforeach()
