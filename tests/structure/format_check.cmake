# Fails when a C++ file of the repository differs from what the repository's .clang-format makes of it, and names the
# files. clang-format is pinned to one major version (CLANG_FORMAT, found by tests/CMakeLists.txt): another version
# formats some constructs differently. Run as: cmake -DSOURCE_DIR=<repo> -DCLANG_FORMAT=<program> -P format_check.cmake
# Fix with: clang-format-19 -i <files> (docs/development.md, "Formatting").
cmake_policy(SET CMP0009 NEW)  # do not follow symbolic links
if(NOT CLANG_FORMAT OR NOT EXISTS "${CLANG_FORMAT}")
  message(FATAL_ERROR "clang-format-19 was not found when the build was configured (scripts/setup.sh installs it)")
endif()
set(files "")
foreach(folder IN ITEMS theory optim train verify tests notebooks bench python examples)
  file(GLOB_RECURSE found LIST_DIRECTORIES false "${SOURCE_DIR}/${folder}/*.cpp" "${SOURCE_DIR}/${folder}/*.hpp"
       "${SOURCE_DIR}/${folder}/*.h")
  list(APPEND files ${found})
endforeach()
list(LENGTH files count)
if(count EQUAL 0)
  message(FATAL_ERROR "no C++ file found under ${SOURCE_DIR}")
endif()
set(unformatted "")
foreach(file IN LISTS files)
  execute_process(COMMAND "${CLANG_FORMAT}" --style=file --dry-run -Werror "${file}"
                  RESULT_VARIABLE status OUTPUT_QUIET ERROR_QUIET)
  if(NOT status EQUAL 0)
    string(REPLACE "${SOURCE_DIR}/" "" name "${file}")
    string(APPEND unformatted "\n  ${name}")
  endif()
endforeach()
if(unformatted)
  message(FATAL_ERROR "files not formatted by .clang-format (clang-format-19 -i <file>):${unformatted}")
endif()
message(STATUS "${count} C++ files formatted")
