# netpen_soname(OUT LIBRARY FALLBACK): the SONAME recorded in a shared
# library (what dlopen() should ask for), read with objdump; FALLBACK when
# it cannot be read.
function(netpen_soname out library fallback)
  set(soname "${fallback}")
  find_program(NETPEN_OBJDUMP NAMES objdump)
  if(NETPEN_OBJDUMP)
    execute_process(COMMAND ${NETPEN_OBJDUMP} -p ${library} OUTPUT_VARIABLE dump ERROR_QUIET)
    if(dump MATCHES "SONAME +([^\n ]+)")
      set(soname "${CMAKE_MATCH_1}")
    endif()
  endif()
  set(${out} "${soname}" PARENT_SCOPE)
endfunction()

# netpen_dlopen_headers(TARGET INCLUDE_DIR LIBRARY FALLBACK DEFINE): an
# imported INTERFACE target for a library netpen dlopen()s instead of
# linking: its header directory, and DEFINE="<its soname>" to open it by.
function(netpen_dlopen_headers target include_dir library fallback define)
  if(TARGET ${target})
    return()
  endif()
  netpen_soname(soname "${library}" "${fallback}")
  add_library(${target} INTERFACE IMPORTED)
  set_target_properties(${target} PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${include_dir}"
    INTERFACE_COMPILE_DEFINITIONS "${define}=\"${soname}\"")
endfunction()
