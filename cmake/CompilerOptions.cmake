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
