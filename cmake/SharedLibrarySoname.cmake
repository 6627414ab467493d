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
