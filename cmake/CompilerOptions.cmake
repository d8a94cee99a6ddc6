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
