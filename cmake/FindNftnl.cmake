# Find module for libnftnl (low-level nftables netlink, Debian's
# libnftnl-dev): header <libnftnl/rule.h>. Provides Nftnl::nftnl and
# Nftnl::headers (the header only, with NETPEN_NFTNL_SONAME for dlopen()).
find_path(Nftnl_INCLUDE_DIR NAMES libnftnl/rule.h)
find_library(Nftnl_LIBRARY NAMES nftnl)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Nftnl REQUIRED_VARS Nftnl_LIBRARY Nftnl_INCLUDE_DIR)
if(Nftnl_FOUND AND NOT TARGET Nftnl::nftnl)
  add_library(Nftnl::nftnl UNKNOWN IMPORTED)
  set_target_properties(Nftnl::nftnl PROPERTIES
    IMPORTED_LOCATION "${Nftnl_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Nftnl_INCLUDE_DIR}")
endif()
if(Nftnl_FOUND AND NOT TARGET Nftnl::headers)
  include(${CMAKE_CURRENT_LIST_DIR}/SharedLibrarySoname.cmake)
  netpen_soname(Nftnl_SONAME "${Nftnl_LIBRARY}" libnftnl.so.11)
  add_library(Nftnl::headers INTERFACE IMPORTED)
  set_target_properties(Nftnl::headers PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${Nftnl_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "NETPEN_NFTNL_SONAME=\"${Nftnl_SONAME}\"")
endif()
