# netpen_layer(NAME DEPS...): one static library from every .cpp below the
# calling directory (header-only while a layer has no sources yet).
function(netpen_layer name)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  list(FILTER sources EXCLUDE REGEX ".*/main\\.cpp$")
  if(sources)
    add_library(${name} STATIC ${sources})
    target_link_libraries(${name} PUBLIC netpen_options ${ARGN})
  else()
    add_library(${name} INTERFACE)
    target_link_libraries(${name} INTERFACE netpen_options ${ARGN})
  endif()
endfunction()
