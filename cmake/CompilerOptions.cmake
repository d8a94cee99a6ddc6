# Warnings and sanitizers shared by every exportd target through exportd_options; the test
# sources take exportd_test_options instead (below).
add_library(exportd_warnings INTERFACE)
# -Wno-missing-field-initializers: designated initializers that leave members at their defaults
# are the intended style, not a mistake.
target_compile_options(exportd_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wno-missing-field-initializers -Wimplicit-fallthrough -Wformat=2)
if(EXPORTD_WERROR)
  target_compile_options(exportd_warnings INTERFACE -Werror)
endif()
add_library(exportd_options INTERFACE)
target_link_libraries(exportd_options INTERFACE exportd_warnings)
add_library(exportd_test_options INTERFACE)
target_link_libraries(exportd_test_options INTERFACE exportd_warnings)
if(EXPORTD_SANITIZE)
  target_compile_options(exportd_options INTERFACE -fsanitize=${EXPORTD_SANITIZE} -fno-omit-frame-pointer
                         -fno-sanitize-recover=all)
  target_link_options(exportd_options INTERFACE -fsanitize=${EXPORTD_SANITIZE})
  # The test sources are compiled without UBSan's checks: at -O0 they cost a third of a test
  # file's compile time (most of CI's build), and what they would check there is the tests' own
  # code. The code under test (every library, and the exportd binary the integration tests
  # start) keeps them; the tests link the same runtimes.
  string(REPLACE "," ";" exportd_test_sanitizers "${EXPORTD_SANITIZE}")
  list(REMOVE_ITEM exportd_test_sanitizers undefined)
  list(JOIN exportd_test_sanitizers "," exportd_test_sanitizers)
  if(exportd_test_sanitizers)
    target_compile_options(exportd_test_options INTERFACE -fsanitize=${exportd_test_sanitizers}
                           -fno-omit-frame-pointer -fno-sanitize-recover=all)
  endif()
  target_link_options(exportd_test_options INTERFACE -fsanitize=${EXPORTD_SANITIZE})
endif()

# EXPORTD_LINKER: the linker every target links with (-fuse-ld=...), e.g. lld; empty for the
# compiler's default. deploy/test.sh picks lld when it is installed: the suite links some 150
# sanitized test executables, which ld.lld does about three times as fast as ld.bfd.
set(EXPORTD_LINKER "" CACHE STRING "Linker for -fuse-ld= (e.g. lld, gold); empty for the default")
if(EXPORTD_LINKER)
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=${EXPORTD_LINKER}" exportd_linker_works_${EXPORTD_LINKER})
  if(NOT exportd_linker_works_${EXPORTD_LINKER})
    message(FATAL_ERROR "EXPORTD_LINKER=${EXPORTD_LINKER}: the compiler cannot link with "
                        "-fuse-ld=${EXPORTD_LINKER} (is it installed?)")
  endif()
  add_link_options(-fuse-ld=${EXPORTD_LINKER})
endif()

# EXPORTD_FUZZ: every exportd library gets libFuzzer's coverage instrumentation plus ASan/UBSan;
# the fuzz executables (tests/fuzz) add the libFuzzer runtime with -fsanitize=fuzzer. -O1: at -O0
# the fuzzers run several times slower, and Debug's -g still gives full stacks.
if(EXPORTD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "EXPORTD_FUZZ=ON needs clang (libFuzzer); the compiler is "
                        "${CMAKE_CXX_COMPILER_ID}. Use a separate build directory configured with "
                        "CC=clang CXX=clang++ (or -DCMAKE_CXX_COMPILER=clang++).")
  endif()
  if(EXPORTD_SANITIZE)
    message(FATAL_ERROR "EXPORTD_FUZZ=ON sets its own sanitizers; leave EXPORTD_SANITIZE empty")
  endif()
  target_compile_options(exportd_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                         -fno-sanitize-recover=all -fno-omit-frame-pointer -O1)
  target_link_options(exportd_options INTERFACE -fsanitize=address,undefined)
endif()
