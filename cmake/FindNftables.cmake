# Find module for libnftables (the nft command's library, Debian's
# libnftables-dev): pkg-config name libnftables, header
# <nftables/libnftables.h>. pkg-config only supplies search hints; the
# header and library are located directly. Provides Nftables::nftables
# and Nftables::headers (the header only, with NETPEN_NFTABLES_SONAME: netpen
# dlopen()s the library, backends/rootful/nft_libraries.hpp).
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_Nftables QUIET libnftables)
endif()
find_path(Nftables_INCLUDE_DIR NAMES nftables/libnftables.h HINTS ${PC_Nftables_INCLUDE_DIRS})
find_library(Nftables_LIBRARY NAMES nftables HINTS ${PC_Nftables_LIBRARY_DIRS})
set(Nftables_VERSION ${PC_Nftables_VERSION})
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Nftables
  REQUIRED_VARS Nftables_LIBRARY Nftables_INCLUDE_DIR
  VERSION_VAR Nftables_VERSION)
if(Nftables_FOUND AND NOT TARGET Nftables::nftables)
  add_library(Nftables::nftables UNKNOWN IMPORTED)
  set_target_properties(Nftables::nftables PROPERTIES
    IMPORTED_LOCATION "${Nftables_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Nftables_INCLUDE_DIR}")
endif()
if(Nftables_FOUND AND NOT TARGET Nftables::headers)
  include(${CMAKE_CURRENT_LIST_DIR}/SharedLibrarySoname.cmake)
  netpen_soname(Nftables_SONAME "${Nftables_LIBRARY}" libnftables.so.1)
  add_library(Nftables::headers INTERFACE IMPORTED)
  set_target_properties(Nftables::headers PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${Nftables_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "NETPEN_NFTABLES_SONAME=\"${Nftables_SONAME}\"")
endif()
