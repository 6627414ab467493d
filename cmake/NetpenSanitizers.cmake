# INTERFACE target for the sanitizers: ASan+UBSan when NETPEN_SANITIZE is
# set, ThreadSanitizer when NETPEN_TSAN is. The two cannot share a binary.
add_library(netpen_sanitizers INTERFACE)
if(NETPEN_SANITIZE AND NETPEN_TSAN)
  message(FATAL_ERROR "NETPEN_SANITIZE (ASan+UBSan) and NETPEN_TSAN cannot be combined: pick one")
endif()
if(NETPEN_SANITIZE)
  target_compile_options(netpen_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(netpen_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
# TSan does not model std::atomic_thread_fence; g++ warns (-Wtsan) at each
# of Asio's fenced blocks. Asio's hand-offs between threads go through its
# mutexes, which TSan does see, so the warning is only noise here.
if(NETPEN_TSAN)
  target_compile_options(netpen_sanitizers INTERFACE -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  target_link_options(netpen_sanitizers INTERFACE -fsanitize=thread)
endif()

# netpen_sanitizer_defaults(TARGET): an executable's built-in sanitizer
# options (cmake/tsan_default_options.cpp in the TSan build).
function(netpen_sanitizer_defaults target)
  if(NETPEN_TSAN)
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/cmake/tsan_default_options.cpp)
  endif()
endfunction()
