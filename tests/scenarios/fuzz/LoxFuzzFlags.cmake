# SPDX-License-Identifier: Apache-2.0
# Included by the top-level CMakeLists.txt when LOX_FUZZ is ON, before
# anything is built: libFuzzer needs clang, and the whole build (liblox
# included) gets coverage instrumentation for the fuzzer plus ASan+UBSan,
# through the same machinery as LOX_SANITIZE.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "LOX_FUZZ=ON needs clang (libFuzzer), not ${CMAKE_CXX_COMPILER_ID}: "
                      "configure with CC=clang CXX=clang++ (Debian: apt-get install clang libclang-rt-14-dev)")
endif()
if(NOT LOX_SANITIZE STREQUAL "")
  message(FATAL_ERROR "LOX_FUZZ=ON brings its own sanitizers (address,undefined); leave LOX_SANITIZE empty")
endif()
lox_apply_sanitizers("fuzzer-no-link,address,undefined")
