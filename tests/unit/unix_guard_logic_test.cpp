// The Unix-socket guard's pure logic: sockaddr parsing, msghdr/iovec
// extraction, the verdict, allow-list paths, sock_diag reply parsing, and
// the init's hand-over message.
#include <catch2/catch.hpp>

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include <cstring>
#include <vector>

#include "backends/common/unix_guard_bound.hpp"
#include "backends/common/unix_guard_filter.hpp"
#include "backends/common/unix_guard_logic.hpp"

// The netlink alignment macros mix int and size_t.
#pragma GCC diagnostic ignored "-Wsign-conversion"

using namespace netpen::backends::unix_guard;

namespace {

std::vector<std::byte> address_bytes(const char* path, std::size_t path_len) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path, path_len);
  std::vector<std::byte> out(sizeof(sa_family_t) + path_len);
  std::memcpy(out.data(), &a, out.size());
  return out;
}

template <typename T>
void put(std::vector<std::byte>& b, std::size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

}  // namespace

TEST_CASE("unix guard: sockaddr kinds", "[unix_guard]") {
  auto p = parse_sockaddr(address_bytes("/run/docker.sock", 17));
  CHECK(p.kind == address_kind::pathname);
  CHECK(p.path == "/run/docker.sock");
  auto no_nul = parse_sockaddr(address_bytes("rel.sock", 8));  // no terminating NUL: the length says
  CHECK(no_nul.kind == address_kind::pathname);
  CHECK(no_nul.path == "rel.sock");
  CHECK(parse_sockaddr(address_bytes("\0abstract", 9)).kind == address_kind::abstract);
  CHECK(parse_sockaddr(address_bytes("", 0)).kind == address_kind::unnamed);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  std::vector<std::byte> inet(sizeof in);
  std::memcpy(inet.data(), &in, sizeof in);
  CHECK(parse_sockaddr(inet).kind == address_kind::not_unix);
  CHECK(parse_sockaddr({}).kind == address_kind::not_unix);
}

TEST_CASE("unix guard: msghdr and iovec fields", "[unix_guard]") {
  std::vector<std::byte> m(msghdr_size);
  put<std::uint64_t>(m, 0, 0x1000);
  put<std::uint32_t>(m, 8, 110);
  put<std::uint64_t>(m, 16, 0x2000);
  put<std::uint64_t>(m, 24, 2);
  put<std::uint64_t>(m, 32, 0);
  put<std::uint64_t>(m, 40, 0);
  auto f = parse_msghdr(m);
  REQUIRE(f);
  CHECK(f->name == 0x1000);
  CHECK(f->namelen == 110);
  CHECK(f->iov == 0x2000);
  CHECK(f->iovlen == 2);
  CHECK(f->controllen == 0);
  CHECK_FALSE(parse_msghdr(std::span(m).first(40)));
  static_assert(msghdr_size == sizeof(msghdr));

  std::vector<std::byte> iov(32);
  put<std::uint64_t>(iov, 0, 0xa);
  put<std::uint64_t>(iov, 8, 3);
  put<std::uint64_t>(iov, 16, 0xb);
  put<std::uint64_t>(iov, 24, 4);
  auto v = parse_iovecs(iov, 2);
  REQUIRE(v);
  CHECK((*v)[1] == std::pair<std::uint64_t, std::uint64_t>{0xb, 4});
  CHECK_FALSE(parse_iovecs(iov, 3));
}

TEST_CASE("unix guard: verdict", "[unix_guard]") {
  resolved_socket host{true, 10, 500, "/run/user/1000/bus"};
  bound_set bound{{10, 77}};
  std::vector<allow_entry> none;
  CHECK(judge(host, none, bound) == verdict::refused);
  resolved_socket inside{true, 10, 77, "/tmp/x/app.sock"};
  CHECK(judge(inside, none, bound) == verdict::allowed_inside);
  // A file entry allows its inode, not its name (a symlink to it is the same inode; another file is not).
  std::vector<allow_entry> file{{"/run/user/1000/bus", false, 10, 500}};
  CHECK(judge(host, file, {}) == verdict::allowed_by_rule);
  resolved_socket other{true, 10, 501, "/run/user/1000/bus"};
  CHECK(judge(other, file, {}) == verdict::refused);
  std::vector<allow_entry> dir{{"/run/user/1000", true, 10, 1}};
  CHECK(judge(host, dir, {}) == verdict::allowed_by_rule);
  resolved_socket sibling{true, 10, 9, "/run/user/10000/bus"};
  CHECK(judge(sibling, dir, {}) == verdict::refused);
  resolved_socket nameless{true, 10, 9, ""};  // real path unknown: only inode rules apply
  CHECK(judge(nameless, dir, {}) == verdict::refused);
  resolved_socket plain_file{false, 10, 500, "/run/user/1000/bus"};
  CHECK(judge(plain_file, file, bound) == verdict::not_a_socket);
}

TEST_CASE("unix guard: allow-list paths", "[unix_guard]") {
  CHECK(absolute_normalized("/run//x/./y/", "/home") == "/run/x/y");
  CHECK(absolute_normalized("s.sock", "/home/u") == "/home/u/s.sock");
  CHECK(absolute_normalized("../a/../b", "/home/u") == "/home/b");
  CHECK(absolute_normalized("/..", "/") == "/");
  CHECK_FALSE(absolute_normalized("", "/"));
  CHECK(is_below("/run/a/b", "/run/a"));
  CHECK(is_below("/run/a", "/run/a"));
  CHECK_FALSE(is_below("/run/ab", "/run/a"));
  CHECK(is_below("/x", "/"));
}

TEST_CASE("unix guard: sock_diag replies", "[unix_guard]") {
  const std::size_t first = NLMSG_SPACE(sizeof(unix_diag_msg) + NLA_HDRLEN + sizeof(unix_diag_vfs));
  std::vector<std::byte> buf(first + NLMSG_SPACE(sizeof(int)));
  nlmsghdr h{};
  h.nlmsg_len = NLMSG_LENGTH(sizeof(unix_diag_msg) + NLA_HDRLEN + sizeof(unix_diag_vfs));
  h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  std::memcpy(buf.data(), &h, sizeof h);
  nlattr a{};
  a.nla_len = NLA_HDRLEN + sizeof(unix_diag_vfs);
  a.nla_type = UNIX_DIAG_VFS;
  const std::size_t attr_at = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(unix_diag_msg));
  std::memcpy(buf.data() + attr_at, &a, sizeof a);
  unix_diag_vfs vfs{};
  vfs.udiag_vfs_ino = 4242;
  vfs.udiag_vfs_dev = (8U << 20) | 3U;  // the kernel's encoding of 8:3
  std::memcpy(buf.data() + attr_at + NLA_HDRLEN, &vfs, sizeof vfs);
  nlmsghdr done{};
  done.nlmsg_len = NLMSG_LENGTH(sizeof(int));
  done.nlmsg_type = NLMSG_DONE;
  std::memcpy(buf.data() + NLMSG_ALIGN(h.nlmsg_len), &done, sizeof done);
  bound_set out;
  int error = 0;
  CHECK_FALSE(parse_diag_replies(buf, out, error));  // DONE seen
  CHECK(error == 0);
  CHECK(out.contains({makedev(8, 3), 4242}));
  bound_set partial;
  CHECK(parse_diag_replies(std::span(buf).first(NLMSG_ALIGN(h.nlmsg_len)), partial, error));  // more to come
  CHECK(partial.size() == 1);
}

TEST_CASE("unix guard: the init's hand-over message", "[unix_guard]") {
  auto n = netpen::backends::parse_unix_guard_message("guard 7 9");
  REQUIRE(n);
  CHECK(n->listener == 7);
  CHECK(n->diag == 9);
  CHECK_FALSE(netpen::backends::parse_unix_guard_message("guard 7"));
  CHECK_FALSE(netpen::backends::parse_unix_guard_message("guard 7 9 1"));
  CHECK_FALSE(netpen::backends::parse_unix_guard_message("guard -1 9"));
  CHECK_FALSE(netpen::backends::parse_unix_guard_message("ok"));
}
