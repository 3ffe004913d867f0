# cmake -DCOMPILER=<c++> -DFLAGS="<flag>|<flag>|..." -DSOURCE=<file.cpp> -P compile_fail.cmake
#
# Passes only if compiling SOURCE fails AND the compiler's output matches the
# regex on SOURCE's first line, `// expect: <regex>`. A file that compiles, or
# fails for another reason, fails the test.
foreach(_var IN ITEMS COMPILER SOURCE)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "compile_fail.cmake: ${_var} is not set")
  endif()
endforeach()

file(STRINGS "${SOURCE}" _first LIMIT_COUNT 1)
if(NOT _first MATCHES "^//[ \t]*expect:[ \t]*(.+)$")
  message(FATAL_ERROR "${SOURCE}: the first line must be `// expect: <regex>`")
endif()
string(STRIP "${CMAKE_MATCH_1}" _expect)

string(REPLACE "|" ";" _flags "${FLAGS}")
execute_process(
  COMMAND "${COMPILER}" ${_flags} "${SOURCE}"
  RESULT_VARIABLE _result
  OUTPUT_VARIABLE _output
  ERROR_VARIABLE _output)

if(_result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not (expected an error matching '${_expect}')")
endif()
if(NOT _output MATCHES "${_expect}")
  message(FATAL_ERROR "${SOURCE} failed to compile, but no diagnostic matches '${_expect}'. "
                      "The compiler said:\n${_output}")
endif()
# The first lines name the error; show them so a passing test still documents it.
string(REGEX MATCH "[^\n]*error[^\n]*" _first_error "${_output}")
message(STATUS "rejected as expected: ${_first_error}")
