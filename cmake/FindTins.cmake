# Find module for libtins 4.0. Debian's libtins.pc points its include dir at
# /usr/include/tins (generic header names), so we import on the parent
# directory and code writes #include <tins/tcp.h>. Provides Tins::tins.
find_path(Tins_INCLUDE_DIR NAMES tins/tins.h)
find_library(Tins_LIBRARY NAMES tins)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Tins REQUIRED_VARS Tins_LIBRARY Tins_INCLUDE_DIR)
if(Tins_FOUND AND NOT TARGET Tins::tins)
  add_library(Tins::tins UNKNOWN IMPORTED)
  set_target_properties(Tins::tins PROPERTIES
    IMPORTED_LOCATION "${Tins_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Tins_INCLUDE_DIR}")
endif()
