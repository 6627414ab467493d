# INTERFACE target carrying the project's warning flags; link it PRIVATE.
add_library(netpen_warnings INTERFACE)
target_compile_options(netpen_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(NETPEN_WERROR)
  target_compile_options(netpen_warnings INTERFACE -Werror)
endif()
