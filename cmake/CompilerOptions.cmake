# Warnings and sanitizers shared by every exportd target through exportd_options.
add_library(exportd_options INTERFACE)
# -Wno-missing-field-initializers: designated initializers that leave members at their defaults
# are the intended style, not a mistake.
target_compile_options(exportd_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wno-missing-field-initializers -Wimplicit-fallthrough -Wformat=2)
if(EXPORTD_WERROR)
  target_compile_options(exportd_options INTERFACE -Werror)
endif()
if(EXPORTD_SANITIZE)
  target_compile_options(exportd_options INTERFACE -fsanitize=${EXPORTD_SANITIZE} -fno-omit-frame-pointer
                         -fno-sanitize-recover=all)
  target_link_options(exportd_options INTERFACE -fsanitize=${EXPORTD_SANITIZE})
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
