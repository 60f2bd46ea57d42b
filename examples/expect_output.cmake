# SPDX-License-Identifier: Apache-2.0
# Runs PROGRAM and fails unless it exits 0 and its standard output is exactly
# EXPECTED (plus a final newline). Used as
#   cmake -DPROGRAM=... -DEXPECTED=... -P expect_output.cmake
# because a PASS_REGULAR_EXPRESSION alone would ignore the exit code (and so a
# sanitizer report after correct output).
execute_process(COMMAND "${PROGRAM}" OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}; output:\n${out}")
endif()
if(NOT out STREQUAL "${EXPECTED}\n")
  message(FATAL_ERROR "${PROGRAM} printed:\n${out}\nexpected:\n${EXPECTED}")
endif()
message(STATUS "${PROGRAM} printed ${EXPECTED}")
