# Checks that no typenet header includes one from a component above it
# (docs/architecture.md, "Components"). Run as a CTest test:
#   cmake -DINCLUDE_DIR=<repo>/include -P cmake/check_layering.cmake
#
# Each folder under include/typenet/ belongs to a layer; a header may include
# typenet headers only from the layers listed for its own. The components are
# nn (core, backend/cpu, layers, nn, models), io, vision (image, data), metrics
# and train. Inside nn, the backend interface (backend/*.hpp, backend/shared)
# sits on core; the backends (backend/cpu, backend/cuda, siblings) and the
# layers on the interface and core only; the umbrellas typenet.hpp and
# cuda.cuh on everything.
cmake_minimum_required(VERSION 3.25)

if(NOT INCLUDE_DIR)
  message(FATAL_ERROR "check_layering.cmake: pass -DINCLUDE_DIR=<repo>/include")
endif()

# layer -> the layers its headers may include (its own is always allowed).
set(_nn_layers config core backend backend/cpu layers nn models nn.hpp)
set(_allowed_config "")
set(_allowed_core config)
set(_allowed_backend config core)
set(_allowed_backend/cpu config core backend)
set(_allowed_layers config core backend)
set(_allowed_nn config core backend layers)
set(_allowed_models config core backend layers nn)
set(_allowed_nn.hpp ${_nn_layers})
set(_allowed_backend/cuda config core backend)
set(_allowed_cuda.cuh ${_nn_layers} backend/cuda typenet.hpp)
set(_allowed_io ${_nn_layers})
set(_allowed_io.hpp ${_nn_layers} io)
set(_allowed_image ${_nn_layers} io)
set(_allowed_data ${_nn_layers} io image)
set(_allowed_vision.hpp ${_nn_layers} io io.hpp image data)
set(_allowed_metrics ${_nn_layers})
set(_allowed_metrics.hpp ${_nn_layers} metrics)
set(_allowed_train ${_nn_layers} io image data metrics)
set(_allowed_train.hpp ${_nn_layers} io io.hpp image data vision.hpp metrics metrics.hpp train)
set(_allowed_typenet.hpp ${_nn_layers} io io.hpp image data vision.hpp metrics metrics.hpp train
                         train.hpp)

# The layer of a path relative to include/typenet.
function(_layer_of path out)
  if(path MATCHES "^backend/(cpu|cuda)/")
    set(${out} "backend/${CMAKE_MATCH_1}" PARENT_SCOPE)
  elseif(path MATCHES "^([a-z_]+)/")
    set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  elseif(path STREQUAL "config.hpp")
    set(${out} config PARENT_SCOPE)
  else()
    set(${out} "${path}" PARENT_SCOPE)
  endif()
endfunction()

file(GLOB_RECURSE _headers RELATIVE "${INCLUDE_DIR}/typenet" "${INCLUDE_DIR}/typenet/*.hpp"
     "${INCLUDE_DIR}/typenet/*.ipp" "${INCLUDE_DIR}/typenet/*.cuh")
set(_violations 0)
foreach(_header IN LISTS _headers)
  _layer_of("${_header}" _from)
  if(NOT DEFINED _allowed_${_from})
    message(SEND_ERROR "${_header}: folder '${_from}' has no layer in cmake/check_layering.cmake")
    math(EXPR _violations "${_violations} + 1")
    continue()
  endif()
  file(STRINGS "${INCLUDE_DIR}/typenet/${_header}" _includes REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]typenet/")
  foreach(_line IN LISTS _includes)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[\"<]typenet/([^\">]+)[\">].*$" "\\1" _target "${_line}")
    _layer_of("${_target}" _to)
    if(_to STREQUAL _from OR _to IN_LIST _allowed_${_from})
      continue()
    endif()
    message(SEND_ERROR "${_header} (layer ${_from}) includes typenet/${_target} (layer ${_to}), "
                       "which is not below it; allowed: ${_allowed_${_from}}")
    math(EXPR _violations "${_violations} + 1")
  endforeach()
endforeach()
list(LENGTH _headers _count)
if(_violations GREATER 0)
  message(FATAL_ERROR "${_violations} include(s) run upward across typenet's layers")
endif()
message(STATUS "${_count} headers, every include runs downward")
