# Installation and the Debian package (issue 20 §7; docs/packaging.md).
#  - `cmake --install BUILD --strip` installs bin/netpen stripped, and the
#    docs (README.md, docs/*.md) under share/doc/netpen; the man page and the
#    shell completions add their own install() rules where they are made.
#  - `cpack -G DEB` (in BUILD, after building netpen) makes
#    netpen_VERSION_ARCH.deb from the same install rules, stripped.
# Dependencies: dpkg-shlibdeps (dpkg-dev) finds what the binary links; it
# cannot see the libraries netpen dlopen()s for --root (libnftables,
# libnftnl: backends/rootful/nft_libraries.hpp), so their packages are
# added by hand, found from the very sonames the binary opens. newuidmap
# (uidmap) is only a fallback of the rootless backend, used where the kernel
# refuses the direct id map: Suggests, not Depends.
include(GNUInstallDirs)
include(${CMAKE_CURRENT_LIST_DIR}/SharedLibrarySoname.cmake)

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
file(GLOB NETPEN_DOC_PAGES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${NETPEN_DOC_PAGES} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# netpen_package_of(OUT LIBRARY SONAME_FALLBACK): the Debian package that
# ships LIBRARY's soname file (dpkg-query -S), else the Debian policy name
# (libfoo.so.1 -> libfoo1, libfoo2.so.3 -> libfoo2-3).
function(netpen_package_of out library fallback)
  netpen_soname(soname "${library}" "${fallback}")
  get_filename_component(dir "${library}" DIRECTORY)
  get_filename_component(real "${dir}/${soname}" REALPATH)
  set(package "")
  find_program(NETPEN_DPKG_QUERY dpkg-query)
  if(NETPEN_DPKG_QUERY)
    foreach(candidate "${dir}/${soname}" "${real}")
      execute_process(COMMAND ${NETPEN_DPKG_QUERY} -S "${candidate}" OUTPUT_VARIABLE owner ERROR_QUIET
                      RESULT_VARIABLE rc)
      if(rc EQUAL 0 AND owner MATCHES "^([^:,]+)")
        set(package "${CMAKE_MATCH_1}")
        break()
      endif()
    endforeach()
  endif()
  if(NOT package AND soname MATCHES "^lib(.+)\\.so\\.([0-9]+)$")
    set(name "${CMAKE_MATCH_1}")
    set(version "${CMAKE_MATCH_2}")
    if(name MATCHES "[0-9]$")
      set(package "lib${name}-${version}")
    else()
      set(package "lib${name}${version}")
    endif()
  endif()
  set(${out} "${package}" PARENT_SCOPE)
endfunction()

netpen_package_of(NETPEN_NFTABLES_PACKAGE "${Nftables_LIBRARY}" libnftables.so.1)
netpen_package_of(NETPEN_NFTNL_PACKAGE "${Nftnl_LIBRARY}" libnftnl.so.11)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME netpen)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "netpen")
set(CPACK_PACKAGE_CONTACT "netpen maintainers <netpen@example.invalid>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "netpen maintainers <netpen@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "run a command in a network sandbox that observes and polices its traffic")
# The extended description (CPack puts the summary above it as the synopsis).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "netpen runs a command tree in its own network namespace, without root
(user namespaces and a userspace relay) or with --root (veth, nftables,
NFQUEUE). It logs every flow and DNS answer, enforces allow and deny
lists by name or address, captures packets, and reports what the command
reached. `netpen doctor` checks what the host needs.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # netpen_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${NETPEN_NFTABLES_PACKAGE}, ${NETPEN_NFTNL_PACKAGE}")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "uidmap")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_INSTALL_DIRECTORY /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
