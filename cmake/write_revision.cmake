# Writes OUTPUT, a header defining DISSECT_GIT_REVISION: the short commit of SOURCE_DIR, with "-dirty" when tracked
# files differ from it, or "unknown" outside a git checkout. Run at every build by verify/CMakeLists.txt; the file is
# rewritten only when its text changes, so the build after an unchanged revision recompiles nothing.
# Run as: cmake -DSOURCE_DIR=<repo> -DOUTPUT=<header> -P write_revision.cmake
execute_process(COMMAND git rev-parse --short HEAD WORKING_DIRECTORY "${SOURCE_DIR}"
  OUTPUT_VARIABLE revision OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR NOT revision)
  set(revision "unknown")
else()
  execute_process(COMMAND git diff-index --quiet HEAD -- WORKING_DIRECTORY "${SOURCE_DIR}"
    RESULT_VARIABLE dirty OUTPUT_QUIET ERROR_QUIET)
  if(NOT dirty EQUAL 0)
    string(APPEND revision "-dirty")
  endif()
endif()
set(text "#pragma once\n// Generated at build time by cmake/write_revision.cmake.\n#define DISSECT_GIT_REVISION \"${revision}\"\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" current)
else()
  set(current "")
endif()
if(NOT current STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()
