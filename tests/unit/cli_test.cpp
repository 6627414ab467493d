// [cli] accepted command lines: shapes, GNU conventions, values parsed into
// run_config, help/version/completion.
#include <catch2/catch.hpp>

#include "tests/unit/cli_test_support.hpp"

using namespace netpen::app;
using namespace netpen::app::cli_test;

TEST_CASE("command after -- and without --", "[cli]") {
  auto c = config_of({"--", "curl", "-v", "https://example.com"});
  CHECK(c.command == std::vector<std::string>{"curl", "-v", "https://example.com"});
  c = config_of({"curl", "-v", "--", "x"});
  CHECK(c.command == std::vector<std::string>{"curl", "-v", "--", "x"});
  c = config_of({"-q", "true", "--dns", "1.1.1.1"});
  CHECK(c.command == std::vector<std::string>{"true", "--dns", "1.1.1.1"});
  CHECK(c.quiet);
  CHECK_FALSE(c.dns);
  c = config_of({"--", "--weird-command-name"});
  CHECK(c.command == std::vector<std::string>{"--weird-command-name"});
  c = config_of({"--", "doctor"});
  CHECK(c.command == std::vector<std::string>{"doctor"});
  c = config_of({"-v", "doctor"});
  CHECK(c.command == std::vector<std::string>{"doctor"});
  CHECK(c.verbose);
  c = config_of({"-", "x"});
  CHECK(c.command == std::vector<std::string>{"-", "x"});
}

TEST_CASE("defaults", "[cli]") {
  auto c = config_of({"true"});
  CHECK(c.backend == backend_kind::rootless);
  CHECK_FALSE(c.dns);
  CHECK_FALSE(c.hosts_file);
  CHECK_FALSE(c.quiet);
  CHECK_FALSE(c.verbose);
  CHECK_FALSE(c.dry_run);
  CHECK(c.prompt_timeout_s == 30);
  CHECK(c.capture_at == capture_point::child);
}

TEST_CASE("option --dns forms", "[cli]") {
  struct row {
    std::vector<std::string> args;
    std::string address;
    std::uint16_t port;
    bool v6;
  };
  const std::vector<row> rows{
      {{"--dns", "192.0.2.53", "x"}, "192.0.2.53", 53, false},
      {{"--dns=192.0.2.53:5353", "x"}, "192.0.2.53", 5353, false},
      {{"-d", "2001:db8::53", "x"}, "2001:db8::53", 53, true},
      {{"-d[2001:db8::53]:5300", "x"}, "2001:db8::53", 5300, true},
      {{"-d", "[::1]", "x"}, "::1", 53, true},
      {{"-d127.0.0.53", "x"}, "127.0.0.53", 53, false},
      {{"--dns", "10.0.0.1:65535", "--", "x"}, "10.0.0.1", 65535, false},
  };
  for (const auto& r : rows) {
    INFO(r.args.front());
    auto c = config_of(r.args);
    REQUIRE(c.dns);
    CHECK(c.dns->address == r.address);
    CHECK(c.dns->port == r.port);
    CHECK(c.dns->v6 == r.v6);
  }
}

TEST_CASE("option --hosts-file is read and kept", "[cli]") {
  temp_file hosts("# comment\n\n192.0.2.10 web.lab web   # trailing\n2001:db8::10\tweb6.lab\n");
  auto c = config_of({"--hosts-file", hosts.path(), "x"});
  REQUIRE(c.hosts_file);
  CHECK(*c.hosts_file == hosts.path());
  CHECK(c.hosts_file_contents.find("web6.lab") != std::string::npos);
  c = config_of({"--hosts-file=" + hosts.path(), "x"});
  CHECK(c.hosts_file);
}

TEST_CASE("output flags and short clusters", "[cli]") {
  auto c = config_of({"-q", "--dry-run", "x"});
  CHECK(c.quiet);
  CHECK(c.dry_run);
  c = config_of({"-v", "-v", "x"});
  CHECK(c.verbose);
  c = config_of({"-qd", "192.0.2.1", "x"});
  CHECK(c.quiet);
  REQUIRE(c.dns);
  CHECK(c.dns->address == "192.0.2.1");
  c = config_of({"-qd192.0.2.2", "x"});
  REQUIRE(c.dns);
  CHECK(c.dns->address == "192.0.2.2");
}

TEST_CASE("option --network-backend rootless-internal is accepted", "[cli]") {
  auto r = parse({"--network-backend", "rootless-internal", "x"});
  REQUIRE(r);
  CHECK(std::get<run_config>(*r).backend == backend_kind::rootless);
  CHECK(parse({"--network-backend=rootless-internal", "--", "x"}));
}

TEST_CASE("help and version", "[cli]") {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"-h"}, {"-q", "-h"}, {"--frob", "--help"}, {"-h", "--dns", "bad"}, {"--dns", "bad", "--help"}}) {
    INFO(args.front());
    auto r = parse(args);
    REQUIRE(r);
    REQUIRE(std::holds_alternative<help_command>(*r));
  }
  auto help = std::get<help_command>(*parse({"--help"})).text;
  for (const char* needle :
       {"Usage:", "netpen [OPTIONS] -- COMMAND [ARGS...]", "netpen completion bash|zsh|fish", "Backend:",
        "DNS and names:", "Proxy:", "Capture:", "Policy:", "Egress and host access:", "Output:", "--root",
        "--network-backend", "--run-as-root", "-d, --dns", "--hosts-file", "-p, --proxy", "-U, --proxy-user",
        "-P, --proxy-password", "--proxy-password-file", "--proxy-insecure", "--proxy-only", "-o, --output, -c, --capture PATH",
        "-C, --capture-point", "--offline", "--block-private", "--block-metadata", "--allow",
        "--allow-file", "--deny", "--deny-file", "--default-policy", "--interactive", "--prompt-timeout",
        "--fail-on-leak", "-i, --iface", "--host-port", "--publish", "--analyse", "--log, --flow-log PATH",
        "--summary", "--summary-format", "-q, --quiet", "-v, --verbose", "--dry-run", "-h, --help", "-V, --version",
        "NETPEN_DEBUG", "Exit status"}) {
    INFO(needle);
    CHECK(help.find(needle) != std::string::npos);
  }
  CHECK(help.find("Backend:") < help.find("DNS and names:"));
  CHECK(help.find("Egress and host access:") < help.find("Output:"));

  for (const auto& args : std::vector<std::vector<std::string>>{{"--version"}, {"-V"}, {"-q", "-V", "x"}}) {
    auto r = parse(args);
    REQUIRE(r);
    CHECK(std::holds_alternative<version_command>(*r));
  }
  // After the command starts, --help belongs to the command.
  auto c = config_of({"curl", "--help"});
  CHECK(c.command == std::vector<std::string>{"curl", "--help"});
}

TEST_CASE("each subcommand has its own help", "[cli]") {
  for (std::string sub : {"doctor", "cleanup", "completion", "create", "exec", "destroy", "list", "report"}) {
    for (std::string flag : {"--help", "-h"}) {
      auto r = parse({sub, flag});
      REQUIRE(r);
      REQUIRE(std::holds_alternative<help_command>(*r));
      const std::string& text = std::get<help_command>(*r).text;
      CHECK(text.starts_with("Usage: netpen " + sub));
      CHECK(text.find("Backend:") == std::string::npos);  // not the run options' help
    }
  }
  auto report = std::get<help_command>(*parse({"report", "--help"})).text;
  for (const char* format : {"text", "markdown", "json", "html", "profile"})
    CHECK(report.find(std::string("--format ") + format) != std::string::npos);
}

TEST_CASE("completion shells", "[cli]") {
  for (std::string shell : {"bash", "zsh", "fish"}) {
    auto r = parse({"completion", shell});
    REQUIRE(r);
    REQUIRE(std::holds_alternative<completion_command>(*r));
    CHECK(std::get<completion_command>(*r).shell == shell);
  }
  auto r = parse({"completion", "--help"});
  REQUIRE(r);
  CHECK(std::holds_alternative<help_command>(*r));
}
