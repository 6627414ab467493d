# Every third-party dependency, resolved once, as imported targets.
find_package(Threads REQUIRED)
find_package(Asio REQUIRED)
find_package(Tins REQUIRED)
find_package(Mnl REQUIRED)
find_package(Nftables REQUIRED)
find_package(Nftnl REQUIRED)
# OpenSSL (TLS to https:// proxies) from Debian's libssl-dev. Linked
# statically by default: loading and relocating the shared libcrypto and
# libssl costs about 2 ms of every run's start-up (docs/performance.md).
# The price: netpen must be rebuilt to pick up OpenSSL security updates;
# -DNETPEN_STATIC_OPENSSL=OFF links the shared libraries instead.
option(NETPEN_STATIC_OPENSSL "Link OpenSSL statically (faster start-up)" ON)
if(NETPEN_STATIC_OPENSSL)
  set(OPENSSL_USE_STATIC_LIBS TRUE)
endif()
find_package(OpenSSL REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
# toml++ (Debian's libtomlplusplus-dev) for profiles, used header-only so
# a run loads no extra shared library (start-up cost, docs/performance.md).
find_path(TOMLPP_INCLUDE_DIR NAMES toml++/toml.h REQUIRED)
add_library(netpen_toml INTERFACE)
target_include_directories(netpen_toml SYSTEM INTERFACE ${TOMLPP_INCLUDE_DIR})
target_compile_definitions(netpen_toml INTERFACE TOML_HEADER_ONLY=1 TOML_ENABLE_FORMATTERS=1)
# libseccomp (Debian's libseccomp-dev), linked statically for the same
# start-up reason: the tree's Unix-socket guard and netpen's own allow-list
# (docs/security.md).
find_path(SECCOMP_INCLUDE_DIR NAMES seccomp.h REQUIRED)
find_library(SECCOMP_STATIC_LIBRARY NAMES libseccomp.a REQUIRED)
add_library(netpen_seccomp INTERFACE)
target_include_directories(netpen_seccomp SYSTEM INTERFACE ${SECCOMP_INCLUDE_DIR})
target_link_libraries(netpen_seccomp INTERFACE ${SECCOMP_STATIC_LIBRARY})
# liburing (Debian's liburing-dev), linked statically like libseccomp: the
# tap's io_uring (net/relay/tap_ring.hpp).
find_path(URING_INCLUDE_DIR NAMES liburing.h REQUIRED)
find_library(URING_STATIC_LIBRARY NAMES liburing.a REQUIRED)
add_library(netpen_uring INTERFACE)
target_include_directories(netpen_uring SYSTEM INTERFACE ${URING_INCLUDE_DIR})
target_link_libraries(netpen_uring INTERFACE ${URING_STATIC_LIBRARY})
if(NETPEN_BUILD_TESTS)
  find_package(Catch2 REQUIRED)
endif()

# Common compile settings for every netpen target.
add_library(netpen_options INTERFACE)
target_link_libraries(netpen_options INTERFACE netpen_warnings netpen_sanitizers)
target_include_directories(netpen_options INTERFACE ${PROJECT_SOURCE_DIR})
target_compile_definitions(netpen_options INTERFACE NETPEN_VERSION="${PROJECT_VERSION}")
# Only link what is used: every shared library costs startup time.
target_link_options(netpen_options INTERFACE -Wl,--as-needed)
