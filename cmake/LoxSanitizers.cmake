# SPDX-License-Identifier: Apache-2.0
# Applies sanitizer flags to everything built after the call (the library,
# the tests, the examples), so that instrumented code never calls into an
# uninstrumented copy of itself.
function(lox_apply_sanitizers list)
  if(list STREQUAL "")
    return()
  endif()
  set(flags "-fsanitize=${list}" -fno-omit-frame-pointer -g)
  if(list MATCHES "undefined")
    list(APPEND flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${flags})
  add_link_options("-fsanitize=${list}")
  message(STATUS "lox: sanitizers enabled: ${list}")
endfunction()
