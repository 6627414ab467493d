// [cli] rejected command lines: each error names the flag and the bad value
// (table-driven; files are temporary and removed after the test).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "tests/unit/cli_test_support.hpp"

using namespace netpen::app;
using namespace netpen::app::cli_test;

namespace {

struct bad_case {
  std::vector<std::string> args;
  std::string message_prefix;
  std::string code = "";  // checked when non-empty
};

std::string substitute(std::string s, const std::string& key, const std::string& value) {
  for (auto pos = s.find(key); pos != std::string::npos; pos = s.find(key, pos + value.size()))
    s.replace(pos, key.size(), value);
  return s;
}

void check_cases(const std::vector<bad_case>& cases, const std::vector<std::pair<std::string, std::string>>& vars = {}) {
  for (auto c : cases) {
    for (auto& a : c.args)
      for (const auto& [k, v] : vars) a = substitute(a, k, v);
    for (const auto& [k, v] : vars) c.message_prefix = substitute(c.message_prefix, k, v);
    std::string line;
    for (const auto& a : c.args) line += a + " ";
    INFO("netpen " << line);
    auto r = parse(c.args);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.substr(0, c.message_prefix.size()) == c.message_prefix);
    if (!c.code.empty()) CHECK(r.error().code == c.code);
    CHECK(r.error().message.find('\n') == std::string::npos);
  }
}

// error_of() in a forked child that dropped to nobody (uid/gid 65534);
// run as root.
std::string error_as_nobody(const std::vector<std::string>& args) {
  int out[2];
  REQUIRE(::pipe(out) == 0);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(out[0]);
    std::string text = "<could not become nobody>";
    try {
      if (::setresgid(65534, 65534, 65534) == 0 && ::setresuid(65534, 65534, 65534) == 0) text = error_of(args);
    } catch (...) {
      text = "<exception>";
    }
    (void)!::write(out[1], text.data(), text.size());
    ::_exit(0);
  }
  ::close(out[1]);
  std::string text;
  char buf[512];
  ssize_t n = 0;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  return text;
}

}  // namespace

TEST_CASE("usage errors: command, unknown flags, missing values, repeats", "[cli]") {
  check_cases({
      {{}, "no command given (usage: netpen [OPTIONS] -- COMMAND [ARGS...])", "usage"},
      {{"--"}, "no command given", "usage"},
      {{"-q"}, "no command given"},
      {{"--dns", "192.0.2.1"}, "no command given"},
      {{"--frob", "x"}, "unknown option '--frob'", "usage"},
      {{"--dsn", "1.1.1.1", "x"}, "unknown option '--dsn'; did you mean '--dns'?"},
      {{"--verbos", "x"}, "unknown option '--verbos'; did you mean '--verbose'?"},
      {{"--zzzzzzzz", "x"}, "unknown option '--zzzzzzzz'"},
      {{"-Z", "x"}, "unknown option '-Z'"},
      {{"-qZ", "x"}, "unknown option '-Z' in '-qZ'"},
      {{"--dns"}, "--dns needs a value", "usage"},
      {{"-d"}, "--dns needs a value"},
      {{"--dns", "--", "x"}, "--dns needs a value"},
      {{"--hosts-file"}, "--hosts-file needs a value"},
      {{"--quiet=yes", "x"}, "--quiet does not take a value"},
      {{"--dns", "1.1.1.1", "-d", "8.8.8.8", "x"}, "--dns given more than once"},
      {{"--hosts-file=a", "--hosts-file=b", "x"}, "--hosts-file given more than once"},
      {{"-o", "/tmp/a.pcapng", "-c", "/tmp/b.pcapng", "x"}, "--capture given more than once"},
      {{"-q", "-v", "x"}, "--quiet conflicts with --verbose", "usage"},
      {{"-qv", "x"}, "--quiet conflicts with --verbose"},
  });
}

TEST_CASE("option --dns rejects what is not an address or port", "[cli]") {
  check_cases({
      {{"--dns", "1.2.3", "x"}, "--dns: '1.2.3' is not an IPv4 or IPv6 address", "bad-value"},
      {{"-d", "example.com", "x"}, "--dns: 'example.com' is not an IPv4 or IPv6 address"},
      {{"--dns=", "x"}, "--dns: empty value", "bad-value"},
      {{"--dns", "256.1.1.1", "x"}, "--dns: '256.1.1.1' is not an IPv4 or IPv6 address"},
      {{"--dns", "1.1.1.1:0", "x"}, "--dns: '0' is not a port (1-65535)"},
      {{"--dns", "1.1.1.1:65536", "x"}, "--dns: '65536' is not a port (1-65535)"},
      {{"--dns", "1.1.1.1:", "x"}, "--dns: '' is not a port"},
      {{"--dns", "1.1.1.1:5x", "x"}, "--dns: '5x' is not a port"},
      {{"--dns", "[2001:db8::1]:99999", "x"}, "--dns: '99999' is not a port"},
      {{"--dns", "[1.1.1.1]:53", "x"}, "--dns: '1.1.1.1' is not an IPv6 address"},
      {{"--dns", "[2001:db8::1", "x"}, "--dns: '[2001:db8::1' is not an IPv4 or IPv6 address"},
      {{"--dns", "2001:db8::zz", "x"}, "--dns: '2001:db8::zz' is not an IPv4 or IPv6 address"},
  });
}

TEST_CASE("option --hosts-file must be readable and well-formed", "[cli]") {
  temp_file bad_addr("192.0.2.1 ok.lab\nnot-an-ip name\n");
  temp_file no_name("# header\n192.0.2.1\n");
  temp_file bad_name("192.0.2.1 bad!name\n");
  check_cases(
      {
          {{"--hosts-file", "/nonexistent/hosts", "x"},
           "--hosts-file: cannot read '/nonexistent/hosts': No such file or directory", "bad-value"},
          {{"--hosts-file", "/tmp", "x"}, "--hosts-file: cannot read '/tmp': Is a directory"},
          {{"--hosts-file", "{bad_addr}", "x"}, "--hosts-file: {bad_addr}:2: 'not-an-ip' is not an IPv4 or IPv6 address"},
          {{"--hosts-file", "{no_name}", "x"}, "--hosts-file: {no_name}:2: "},
          {{"--hosts-file", "{bad_name}", "x"}, "--hosts-file: {bad_name}:1: 'bad!name'"},
      },
      {{"{bad_addr}", bad_addr.path()}, {"{no_name}", no_name.path()}, {"{bad_name}", bad_name.path()}});
}

TEST_CASE("option --hosts-file unreadable by permission", "[cli]") {
  temp_file secret("192.0.2.1 a.lab\n");
  ::chmod(secret.path().c_str(), 0);
  const std::vector<std::string> args{"--hosts-file", secret.path(), "x"};
  const std::string want = "--hosts-file: cannot read '" + secret.path() + "': Permission denied";
  if (::geteuid() != 0) {
    CHECK(error_of(args) == want);
    return;
  }
  // Root reads any file: the parse runs in a child that is nobody.
  CHECK(error_as_nobody(args) == want);
}

TEST_CASE("backend values and conflicts", "[cli]") {
  check_cases({
      {{"--network-backend", "kvm", "x"}, "--network-backend: 'kvm' is not rootless-internal or rootful", "bad-value"},
      {{"--root", "--network-backend", "rootless-internal", "x"},
       "--root conflicts with --network-backend rootless-internal"},
      {{"--run-as-root", "x"}, "--run-as-root requires --root"},
      {{"-i", "eth0", "x"}, "--iface requires --root"},
      {{"--root", "-i", "bad/name", "x"}, "--iface: 'bad/name' is not a network interface name"},
      {{"--root", "--iface", "averyveryverylongname", "x"}, "--iface: 'averyveryverylongname'"},
  });
}
