// The Unix-socket guard's pure logic (no I/O): what a trapped connect/send
// asks for, and whether a resolved socket inode may be reached. The guard
// itself is described in unix_guard_supervisor.hpp.
//   - sockaddr parsing: an AF_UNIX address is unnamed (autobind), abstract
//     (leading NUL; per network namespace, so already the tree's own) or a
//     pathname (sun_path up to its first NUL, as the kernel reads it);
//   - msghdr destination extraction from the raw bytes of a struct msghdr
//     read out of the tree's memory (x86_64 layout, the only ABI trapped);
//   - the verdict: a pathname socket is allowed when its inode is one a
//     socket of the sandbox's network namespace is bound to (the tree made
//     it), when it is an --allow-unix file, or when its real path lies
//     below an --allow-unix directory; else refused;
//   - allow-list paths: made absolute against a cwd and normalized.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netpen::backends::unix_guard {

enum class address_kind {
  not_unix,  // another family (or too short to tell)
  unnamed,   // AF_UNIX with no path (autobind / sizeof(sa_family_t))
  abstract,  // AF_UNIX, sun_path[0] == '\0'
  pathname,  // AF_UNIX with a path
};

struct parsed_address {
  address_kind kind = address_kind::not_unix;
  std::string path;  // pathname only
};

// `bytes` are the addrlen bytes the tree passed (already bounded by the
// caller to sizeof(sockaddr_un)).
parsed_address parse_sockaddr(std::span<const std::byte> bytes);

// The fields of a struct msghdr (x86_64) that matter here.
struct msghdr_fields {
  std::uint64_t name = 0;      // user pointer to the destination, 0: none
  std::uint32_t namelen = 0;
  std::uint64_t iov = 0;       // user pointer to the iovec array
  std::uint64_t iovlen = 0;
  std::uint64_t control = 0;   // ancillary data
  std::uint64_t controllen = 0;
};
inline constexpr std::size_t msghdr_size = 56;   // sizeof(struct msghdr) on x86_64
inline constexpr std::size_t mmsghdr_size = 64;  // sizeof(struct mmsghdr): msghdr + msg_len, padded
std::optional<msghdr_fields> parse_msghdr(std::span<const std::byte> bytes);
// An iovec array's (base, len) pairs; nullopt if the bytes are short.
std::optional<std::vector<std::pair<std::uint64_t, std::uint64_t>>> parse_iovecs(std::span<const std::byte> bytes,
                                                                                  std::size_t count);

// A socket inode as netpen resolved it in the tree's view.
struct resolved_socket {
  bool is_socket = false;
  dev_t dev = 0;
  ino_t ino = 0;
  std::string real_path;  // where it is on the host (readlink of the opened fd), for directory entries
};

// --allow-unix entries, resolved by netpen when checked: files by inode,
// directories by path.
struct allow_entry {
  std::string path;  // absolute, normalized
  bool directory = false;
  dev_t dev = 0;     // files: the inode the path names now
  ino_t ino = 0;
};

// The sockets bound inside the sandbox's network namespace (sock_diag's
// vfs dev/inode, dev already converted to the stat() encoding).
using bound_set = std::set<std::pair<dev_t, ino_t>>;

enum class verdict {
  allowed_inside,   // a socket the tree bound
  allowed_by_rule,  // --allow-unix
  not_a_socket,     // ECONNREFUSED, as the kernel would say
  refused,          // EACCES + event
};
verdict judge(const resolved_socket& s, const std::vector<allow_entry>& allow, const bound_set& bound);

// True when `path` is `dir` or lies below it (both absolute and normalized).
bool is_below(std::string_view path, std::string_view dir);
// `path` made absolute against `cwd` and normalized lexically (".", "..",
// repeated and trailing slashes); nullopt for an empty path.
std::optional<std::string> absolute_normalized(std::string_view path, std::string_view cwd);

// sock_diag's udiag_vfs_dev is the kernel's dev_t (major << 20 | minor);
// stat() gives the userspace encoding.
dev_t kernel_dev_to_user(std::uint32_t kdev);

}  // namespace netpen::backends::unix_guard
