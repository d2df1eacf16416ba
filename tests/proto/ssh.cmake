# The worker operations of proto_ssh.h (sshd-pool's messages 50-63): round trips, value checks,
# the mutation sweep, and one libFuzzer target per decoder, seeded from the valid samples.
adc_unit_test(test_proto_ssh SOURCES test_proto_ssh.c proto_ssh_cases.c proto_cases.c LIBS adc_proto)
target_include_directories(test_proto_ssh PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})

if(ADC_FUZZ)
  add_executable(proto_ssh_corpus_gen proto_ssh_corpus_gen.c proto_ssh_cases.c proto_cases.c)
  target_link_libraries(proto_ssh_corpus_gen PRIVATE adc_proto)
  target_include_directories(proto_ssh_corpus_gen PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  set(PROTO_SSH_SEEDS ${CMAKE_BINARY_DIR}/fuzz/proto-ssh-seeds)
  add_custom_command(OUTPUT ${PROTO_SSH_SEEDS}/.stamp
                     COMMAND proto_ssh_corpus_gen ${PROTO_SSH_SEEDS}
                     COMMAND ${CMAKE_COMMAND} -E touch ${PROTO_SSH_SEEDS}/.stamp
                     DEPENDS proto_ssh_corpus_gen
                     COMMENT "proto: writing the ssh fuzz seed corpora")
  add_custom_target(proto_ssh_seeds ALL DEPENDS ${PROTO_SSH_SEEDS}/.stamp)
endif()

set(PROTO_SSH_FUZZ_SRC ${PROJECT_SOURCE_DIR}/proto/proto_codec.c ${PROJECT_SOURCE_DIR}/proto/proto_msgs.c
    ${PROJECT_SOURCE_DIR}/proto/proto_types.c ${PROJECT_SOURCE_DIR}/proto/proto_ssh.c
    ${PROJECT_SOURCE_DIR}/proto/proto_ssh_check.c)
foreach(n verify target deploy run_probe start kill ans)
  adc_fuzz_target(fuzz_proto_ssh_${n} SOURCES fuzz_proto_ssh_${n}.c proto_ssh_cases.c proto_cases.c
                  ${PROTO_SSH_FUZZ_SRC} LIBS adc_common CORPUS ${PROTO_SSH_SEEDS}/ssh_${n})
  if(TARGET fuzz_proto_ssh_${n})
    target_include_directories(fuzz_proto_ssh_${n} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
                               ${PROJECT_SOURCE_DIR}/proto)
    add_dependencies(fuzz_proto_ssh_${n} proto_ssh_seeds)
  endif()
endforeach()
