# Find module for libnftnl (low-level nftables netlink, Debian's
# libnftnl-dev): header <libnftnl/rule.h>. Provides Nftnl::nftnl.
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
