# Find module for libnftnl (low-level nftables netlink, Debian's
# libnftnl-dev): header <libnftnl/rule.h>. netpen dlopen()s the library
# (backends/rootful/nft_libraries.hpp), so this provides Nftnl::headers:
# the header directory and NETPEN_NFTNL_SONAME, the name to open.
find_path(Nftnl_INCLUDE_DIR NAMES libnftnl/rule.h)
find_library(Nftnl_LIBRARY NAMES nftnl)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Nftnl REQUIRED_VARS Nftnl_LIBRARY Nftnl_INCLUDE_DIR)
if(Nftnl_FOUND)
  include(${CMAKE_CURRENT_LIST_DIR}/SharedLibrarySoname.cmake)
  netpen_dlopen_headers(Nftnl::headers "${Nftnl_INCLUDE_DIR}" "${Nftnl_LIBRARY}" libnftnl.so.11 NETPEN_NFTNL_SONAME)
endif()
