// Unit tests for the rootless backend's small pieces: fd passing over a
// socketpair, status mapping, exec failure codes and symlink resolution.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "backends/common/fd_passing.hpp"
#include "backends/common/signal_relay.hpp"
#include "backends/rootless/mount_overlays.hpp"
#include "backends/common/sandbox_init.hpp"

using namespace netpen::backends;

TEST_CASE("a message and an fd cross a socketpair", "[rootless]") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
  unique_fd a(sv[0]), b(sv[1]);
  int p[2];
  REQUIRE(::pipe(p) == 0);
  unique_fd rd(p[0]), wr(p[1]);
  REQUIRE(send_message(a.get(), "ok", wr.get()));
  auto m = receive_message(b.get());
  REQUIRE(m);
  CHECK(m->payload == "ok");
  REQUIRE(m->fds.size() == 1);
  const unique_fd got = m->take_first();
  CHECK(::write(got.get(), "x", 1) == 1);
  char c = 0;
  CHECK(::read(rd.get(), &c, 1) == 1);
  CHECK(c == 'x');
  CHECK((::fcntl(got.get(), F_GETFD) & FD_CLOEXEC) != 0);

  REQUIRE(send_message(a.get(), "Etun-permission\x1fno access"));
  auto e = receive_message(b.get());
  REQUIRE(e);
  CHECK(e->fds.empty());
  CHECK(e->payload == "Etun-permission\x1fno access");

  a.reset();
  auto eof = receive_message(b.get());
  REQUIRE_FALSE(eof);
  CHECK(eof.error().code == "peer-gone");
}

TEST_CASE("wait statuses map to shell statuses", "[rootless]") {
  CHECK(shell_status(3 << 8) == 3);      // exited 3
  CHECK(shell_status(SIGTERM) == 143);   // killed by SIGTERM
  CHECK(shell_status(SIGKILL) == 137);
  CHECK(exec_failure_status(ENOENT) == 127);
  CHECK(exec_failure_status(EACCES) == 126);
}

TEST_CASE("symlinks are followed to their (possibly missing) target", "[rootless]") {
  char tmpl[] = "/tmp/netpen-unit-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  REQUIRE(::mkdir((dir + "/run").c_str(), 0755) == 0);
  REQUIRE(::symlink("run/stub.conf", (dir + "/rel").c_str()) == 0);
  REQUIRE(::symlink((dir + "/rel").c_str(), (dir + "/abs").c_str()) == 0);
  CHECK(rootless::resolve_symlinks(dir + "/abs") == dir + "/run/stub.conf");
  CHECK(rootless::resolve_symlinks(dir + "/plain") == dir + "/plain");
  ::unlink((dir + "/abs").c_str());
  ::unlink((dir + "/rel").c_str());
  ::rmdir((dir + "/run").c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("the init's exiting message carries the tree's status", "[rootless]") {
  using netpen::backends::exiting_message;
  using netpen::backends::parse_exiting_message;
  for (int status : {0, 1, 127, 137, 255}) CHECK(parse_exiting_message(exiting_message(status)) == status);
  CHECK_FALSE(parse_exiting_message("exiting"));
  CHECK_FALSE(parse_exiting_message("exiting "));
  CHECK_FALSE(parse_exiting_message("exiting 1x"));
  CHECK_FALSE(parse_exiting_message("exiting -1"));
  CHECK_FALSE(parse_exiting_message("exiting 256"));
  CHECK_FALSE(parse_exiting_message("exitingX 1"));
  CHECK_FALSE(parse_exiting_message("stopped"));
}
