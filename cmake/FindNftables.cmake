# Find module for libnftables (the nft command's library, Debian's
# libnftables-dev): pkg-config name libnftables, header
# <nftables/libnftables.h>. pkg-config only supplies search hints; the
# header and library are located directly. netpen dlopen()s the library
# (backends/rootful/nft_libraries.hpp), so this provides Nftables::headers:
# the header directory and NETPEN_NFTABLES_SONAME, the name to open.
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
if(Nftables_FOUND)
  include(${CMAKE_CURRENT_LIST_DIR}/SharedLibrarySoname.cmake)
  netpen_dlopen_headers(Nftables::headers "${Nftables_INCLUDE_DIR}" "${Nftables_LIBRARY}" libnftables.so.1 NETPEN_NFTABLES_SONAME)
endif()
