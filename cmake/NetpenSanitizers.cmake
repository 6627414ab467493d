# INTERFACE target that turns on ASan+UBSan when NETPEN_SANITIZE is set.
add_library(netpen_sanitizers INTERFACE)
if(NETPEN_SANITIZE)
  target_compile_options(netpen_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(netpen_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
