# cmake -DBUILD_DIR=... -DWORK_DIR=... -DCONSUMER_SOURCE=... [-DCXX_COMPILER=...]
#       [-DCXX_FLAGS=...] [-DBUILD_TYPE=...] [-DGENERATOR=...] -P install_consumer.cmake
#
# Proves the installed package works: installs BUILD_DIR into a fresh prefix,
# configures CONSUMER_SOURCE (find_package(typenet CONFIG REQUIRED)) against
# that prefix only, builds it and runs it.
foreach(_var IN ITEMS BUILD_DIR WORK_DIR CONSUMER_SOURCE)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "install_consumer.cmake: ${_var} is not set")
  endif()
endforeach()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

set(_prefix "${WORK_DIR}/prefix")
set(_build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _result)
  if(NOT _result EQUAL 0)
    message(FATAL_ERROR "install_consumer: ${what} failed (${_result})")
  endif()
endfunction()

run_step("install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${_prefix}"
         --config "${BUILD_TYPE}")

set(_configure "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE}" -B "${_build}"
    "-DCMAKE_PREFIX_PATH=${_prefix}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
    # Only the fresh prefix may provide typenet, not a copy installed on the system.
    "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF")
if(GENERATOR)
  list(APPEND _configure -G "${GENERATOR}")
endif()
if(CXX_COMPILER)
  list(APPEND _configure "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(CXX_FLAGS)
  list(APPEND _configure "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}")
endif()
run_step("configure" ${_configure})

file(STRINGS "${_build}/CMakeCache.txt" _found REGEX "^typenet_DIR:")
message(STATUS "consumer found ${_found}")
if(NOT _found MATCHES "^typenet_DIR:PATH=${_prefix}/")
  message(FATAL_ERROR "install_consumer: typenet was found outside the fresh prefix ${_prefix}")
endif()

run_step("build" "${CMAKE_COMMAND}" --build "${_build}" --config "${BUILD_TYPE}")

foreach(_program IN ITEMS typenet_consumer typenet_consumer_compiled typenet_consumer_nn)
  unset(_consumer CACHE)
  find_program(_consumer ${_program} PATHS "${_build}" "${_build}/${BUILD_TYPE}" NO_DEFAULT_PATH)
  if(NOT _consumer)
    message(FATAL_ERROR "install_consumer: the consumer program ${_program} was not built")
  endif()
  run_step("run ${_program}" "${_consumer}")
endforeach()
