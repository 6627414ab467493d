# INTERFACE target carrying the project's warning flags; link it PRIVATE.
add_library(netpen_warnings INTERFACE)
target_compile_options(netpen_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(NETPEN_WERROR)
  target_compile_options(netpen_warnings INTERFACE -Werror)
endif()
# GCC 12 warns -Wmismatched-new-delete on Asio's coroutine frames (its
# awaitable_frame_base has a class-specific operator new/delete pair that
# GCC 12's inliner misreads once a frame holds certain locals: a false
# positive, fixed in later GCC). Only that compiler loses the warning.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(netpen_warnings INTERFACE -Wno-mismatched-new-delete)
endif()
