// [cli] flags whose features a later issue delivers: values validated first,
// then "--X is not supported yet"; subcommands; policy entry syntax.
#include <catch2/catch.hpp>

#include "app/cli/policy_entry.hpp"
#include "app/cli/validators.hpp"
#include "tests/unit/cli_test_support.hpp"

using namespace netpen::app;
using namespace netpen::app::cli_test;

namespace {

void check_errors(const std::vector<std::pair<std::vector<std::string>, std::string>>& rows) {
  for (const auto& [args, prefix] : rows) {
    std::string line;
    for (const auto& a : args) line += a + " ";
    INFO("netpen " << line);
    std::string msg = error_of(args);
    CHECK(msg.substr(0, prefix.size()) == prefix);
  }
}

}  // namespace

TEST_CASE("the rootful backend is chosen by --root or --network-backend", "[cli]") {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--root", "x"},
           {"--network-backend", "rootful", "x"},
           {"--root", "--run-as-root", "x"},
           {"--root", "--proxy", "socks5://192.0.2.1:1080", "x"},
           {"--root", "--iface", "eth0", "x"}}) {
    auto r = parse(args);
    REQUIRE(r);
    const auto& c = std::get<netpen::app::run_config>(*r);
    CHECK(c.backend == netpen::app::backend_kind::rootful);
    CHECK(c.run_as_root == (args[1] == "--run-as-root"));
  }
}

TEST_CASE("policy flags are accepted", "[cli]") {
  temp_file allow("# scope\nexample.com\n*.example.org:443\n10.0.0.0/8\n[2001:db8::1]:8443\n");
  auto r = parse({"--offline", "--block-private", "--block-metadata", "--fail-on-leak", "x"});
  REQUIRE(r);
  const auto& c = std::get<netpen::app::run_config>(*r);
  CHECK((c.offline && c.block_private && c.block_metadata && c.fail_on_leak));
  auto inter = parse({"--interactive", "--prompt-timeout", "5", "x"});
  REQUIRE(inter);
  CHECK(std::get<netpen::app::run_config>(*inter).interactive);
  CHECK(std::get<netpen::app::run_config>(*inter).prompt_timeout_s == 5);
  auto lists = parse({"--allow", "example.com,*.example.org:443", "--allow-file", allow.path(), "--deny",
                      "[2001:db8::/32]:443", "--default-policy", "deny", "x"});
  REQUIRE(lists);
  const auto& l = std::get<netpen::app::run_config>(*lists);
  CHECK(l.allow.size() == 6);
  CHECK(l.deny.size() == 1);
  REQUIRE(l.default_policy_choice);
  CHECK(*l.default_policy_choice == netpen::app::default_policy::deny);
}

TEST_CASE("bad values of later flags come before not supported", "[cli]") {
  temp_file bad_allow("example.com\n\nbad entry!\n");
  const std::string missing = "/nonexistent/file";
  check_errors({
      {{"-p", "ftp://h:21", "x"}, "--proxy: unsupported proxy scheme 'ftp' (http, https, socks5, socks5h)"},
      {{"-p", "proxy.lab:3128", "x"}, "--proxy: 'proxy.lab:3128' is not a proxy URI"},
      {{"-p", "http://proxy.lab", "x"}, "--proxy: 'http://proxy.lab': the proxy port is missing"},
      {{"-p", "http://proxy.lab:0", "x"}, "--proxy: '0' is not a port (1-65535)"},
      {{"-p", "http://2001:db8::1:3128", "x"}, "--proxy: 'http://2001:db8::1:3128': an IPv6 proxy address needs brackets"},
      {{"-p", "http://[2001:db8::zz]:3128", "x"}, "--proxy: '2001:db8::zz' is not an IPv6 address"},
      {{"-p", "http://pro_xy!:3128", "x"}, "--proxy: 'pro_xy!' is not a host name or IP address"},
      {{"-p", "http://u:p%zz@h:1", "x"}, "--proxy: 'http://u:***@h:1': bad percent-encoding in the password"},
      {{"-p", "http://h:1/path", "x"}, "--proxy: 'http://h:1/path': a proxy URI has no path"},
      {{"-p", "http://:3128", "x"}, "--proxy: 'http://:3128': the proxy host is missing"},
      {{"--proxy-user", "me", "x"}, "--proxy-user requires --proxy"},
      {{"--proxy-only", "x"}, "--proxy-only requires --proxy"},
      {{"--proxy-insecure", "x"}, "--proxy-insecure requires --proxy"},
      {{"-p", "http://h:1", "--proxy-insecure", "x"}, "--proxy-insecure requires an https:// proxy"},
      {{"-p", "http://u@h:1", "-U", "v", "x"}, "--proxy-user conflicts with the user name in --proxy"},
      {{"-p", "http://h:1", "-P", "pw", "x"}, "a proxy password needs a user name"},
      {{"-p", "http://h:1", "-U", "u", "-P", "a", "--proxy-password-file", "/etc/hostname", "x"},
       "--proxy-password conflicts with --proxy-password-file"},
      {{"-p", "http://h:1", "--proxy-password-file", missing, "x"},
       "--proxy-password-file: cannot read '/nonexistent/file': No such file or directory"},
      {{"-o", "/nonexistent/dir/x.pcapng", "x"}, "--output: directory '/nonexistent/dir' does not exist"},
      {{"-c", "/nonexistent/dir/x.pcapng", "x"}, "--capture: directory '/nonexistent/dir' does not exist"},
      {{"-o", "/tmp", "x"}, "--output: '/tmp' is a directory"},
      {{"-C", "egress", "x"}, "--capture-point requires --output"},
      {{"-o", "/tmp/x.pcapng", "-C", "wire", "x"}, "--capture-point: 'wire' is not child, egress, wire-egress or both"},
      {{"--allow", "exa mple.com", "x"}, "--allow: 'exa mple.com' is not a domain, *.domain, IP address or CIDR"},
      {{"--allow", "example.com,,x.org", "x"}, "--allow: empty entry in 'example.com,,x.org'"},
      {{"--deny", "10.0.0.0/33", "x"}, "--deny: '10.0.0.0/33': prefix length 33 is more than 32"},
      {{"--deny", "2001:db8::/129", "x"}, "--deny: '2001:db8::/129': prefix length 129 is more than 128"},
      {{"--deny", "example.com:0", "x"}, "--deny: 'example.com:0': '0' is not a port (1-65535)"},
      {{"--allow-file", bad_allow.path(), "x"},
       "--allow-file: " + bad_allow.path() + ":3: 'bad entry!' is not a domain"},
      {{"--deny-file", missing, "x"}, "--deny-file: cannot read '/nonexistent/file'"},
      {{"--default-policy", "maybe", "x"}, "--default-policy: 'maybe' is not allow or deny"},
      {{"--offline", "--allow", "example.com", "x"}, "--allow conflicts with --offline"},
      {{"--offline", "-p", "http://h:1", "x"}, "--proxy conflicts with --offline"},
      {{"--interactive", "--default-policy", "allow", "x"}, "--interactive conflicts with --default-policy allow"},
      {{"--prompt-timeout", "10", "x"}, "--prompt-timeout requires --interactive"},
      {{"--interactive", "--prompt-timeout", "0", "x"}, "--prompt-timeout: '0' is not a positive number of seconds"},
      {{"--interactive", "--prompt-timeout", "-5", "x"}, "--prompt-timeout: '-5' is not a positive number of seconds"},
      {{"--interactive", "--prompt-timeout=1.5", "x"}, "--prompt-timeout: '1.5' is not a positive number"},
      {{"--host-port", "80,70000", "x"}, "--host-port: '70000' is not a port (1-65535) or port range"},
      {{"--host-port", "9010-9000", "x"}, "--host-port: '9010-9000' is an empty port range"},
      {{"--host-port", "80,", "x"}, "--host-port: empty entry in the port list '80,'"},
      {{"--log", "/nonexistent/dir/f.jsonl", "x"}, "--log: directory '/nonexistent/dir' does not exist"},
      {{"--summary-format", "yaml", "x"}, "--summary-format: 'yaml' is not text or json"},
      {{"--proxy-only"}, "--proxy-only requires --proxy"},
  });
}

TEST_CASE("values of later flags are parsed", "[cli]") {
  // Reach the values by parsing `create NAME [OPTIONS]` pieces through the
  // public validators.
  auto proxy = cli::parse_proxy_uri("--proxy", "SOCKS5H://Us%65r:p%40ss@Proxy.Lab:1080/");
  REQUIRE(proxy);
  CHECK(proxy->scheme == proxy_scheme::socks5h);
  CHECK(proxy->host == "proxy.lab");
  CHECK(proxy->port == 1080);
  CHECK(proxy->user == "User");
  CHECK(proxy->password == "p@ss");
  auto v6 = cli::parse_proxy_uri("-p", "https://[2001:db8::1]:443");
  REQUIRE(v6);
  CHECK(v6->host_v6);
  CHECK(v6->host == "2001:db8::1");
  auto ports = cli::parse_port_list("--host-port", "80, 9000-9010");
  REQUIRE(ports);
  REQUIRE(ports->size() == 2);
  CHECK(ports->at(1).first == 9000);
  CHECK(ports->at(1).last == 9010);
}

TEST_CASE("policy entry syntax", "[cli]") {
  using netpen::policy::rule_kind;
  struct row {
    std::string text;
    rule_kind kind;
    std::string normalised;  // rule.text
    unsigned prefix;
    std::optional<std::uint16_t> port;
  };
  const std::vector<row> rows{
      {"example.com", rule_kind::domain, "example.com", 0, {}},
      {"Example.COM.", rule_kind::domain, "example.com", 0, {}},
      {"example.com:443", rule_kind::domain, "example.com:443", 0, 443},
      {"*.example.com", rule_kind::wildcard, "*.example.com", 0, {}},
      {"*.example.com:8443", rule_kind::wildcard, "*.example.com:8443", 0, 8443},
      {"93.184.216.34", rule_kind::address, "93.184.216.34", 32, {}},
      {"93.184.216.34:80", rule_kind::address, "93.184.216.34:80", 32, 80},
      {"10.0.0.0/8", rule_kind::cidr, "10.0.0.0/8", 8, {}},
      {"10.0.0.0/8:22", rule_kind::cidr, "10.0.0.0/8:22", 8, 22},
      {"2001:db8::1", rule_kind::address, "2001:db8::1", 128, {}},
      {"[2001:db8::1]:443", rule_kind::address, "[2001:db8::1]:443", 128, 443},
      {"2001:db8::/32", rule_kind::cidr, "2001:db8::/32", 32, {}},
      {"[2001:db8::/32]:53", rule_kind::cidr, "[2001:db8::/32]:53", 32, 53},
      {"localhost", rule_kind::domain, "localhost", 0, {}},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    auto e = cli::parse_policy_entry(r.text);
    REQUIRE(e);
    CHECK(e->kind == r.kind);
    CHECK(e->text == r.normalised);
    CHECK(e->prefix == r.prefix);
    CHECK(e->port == r.port);
    CHECK(e->origin.empty());
  }
  for (const char* bad : {"", "*", "*.", "**.example.com", "ex*ample.com", "1.2.3", "1.2.3.4.5", "10.0.0.0/", "10.0.0.0/x",
                          "example.com/8", "[1.2.3.4]:80", "[2001:db8::1", "-bad.com", "a..b", "example.com:",
                          "example.com:http", "http://example.com"}) {
    INFO(bad);
    CHECK_FALSE(cli::parse_policy_entry(bad));
  }
}

TEST_CASE("subcommands", "[cli]") {
  temp_file log("{}\n");
  check_errors({
      {{"doctor", "--root", "--root"}, "doctor: --root given more than once"},
      {{"doctor", "extra"}, "doctor: unexpected argument 'extra'"},
      {{"doctor", "--format", "xml"}, "doctor: --format: 'xml' is not text or json"},
      {{"doctor", "--frob"}, "doctor: unknown option '--frob'"},
      {{"cleanup", "extra"}, "cleanup: unexpected argument 'extra'"},
      {{"list", "--format=xml"}, "list: --format: 'xml' is not text or json"},
      {{"list", "extra"}, "list: unexpected argument 'extra'"},
      {{"destroy"}, "destroy: missing sandbox NAME"},
      {{"destroy", "../x"}, "destroy: '../x' is not a sandbox name"},
      {{"destroy", "Box1"}, "destroy: 'Box1' is not a sandbox name"},
      {{"report", log.path(), "--format", "pdf"}, "report: --format: 'pdf' is not text, markdown, json, html or profile"},
      {{"create", "box1", "--dns", "bad"}, "--dns: 'bad' is not an IPv4 or IPv6 address"},
      {{"create", "box1", "curl"}, "create: unexpected argument 'curl'"},
      {{"create"}, "create: missing sandbox NAME"},
      {{"create", "box.1"}, "create: 'box.1' is not a sandbox name"},
      {{"create", "box1", "--exec-group"}, "create: --exec-group needs a value"},
      {{"create", "box1", "--exec-group", "a", "--exec-group=b"}, "create: --exec-group given more than once"},
      {{"exec", "box1"}, "exec: no command given"},
      {{"exec", "-box"}, "exec: '-box' is not a sandbox name"},
      {{"completion"}, "completion: missing shell (bash, zsh or fish)"},
      {{"completion", "powershell"}, "completion: 'powershell' is not bash, zsh or fish"},
      {{"completion", "bash", "zsh"}, "completion: unexpected argument 'zsh'"},
  });
  auto created = parse({"create", "box1", "--dns", "1.1.1.1", "--exec-group=agents", "--deny", "10.0.0.0/8"});
  REQUIRE(created);
  const auto* create = std::get_if<create_command>(&*created);
  REQUIRE(create != nullptr);
  CHECK(create->name == "box1");
  CHECK(create->exec_group == "agents");
  CHECK(create->run.deny.size() == 1);
  CHECK(create->run.command.empty());
  auto ported = parse({"create", "box1", "--host-port", "8080", "--publish", "9090:80"});  // every run option applies
  REQUIRE(ported);
  const auto* with_ports = std::get_if<create_command>(&*ported);
  REQUIRE(with_ports != nullptr);
  CHECK(with_ports->run.host_ports.size() == 1);
  CHECK(with_ports->run.publish.size() == 1);
  auto exec = parse({"exec", "box1", "--", "sh", "-c", "exit 7"});
  REQUIRE(exec);
  REQUIRE(std::get_if<exec_command>(&*exec) != nullptr);
  CHECK(std::get<exec_command>(*exec).command == std::vector<std::string>{"sh", "-c", "exit 7"});
  auto exec_no_dashes = parse({"exec", "box1", "id", "-u"});
  REQUIRE(exec_no_dashes);
  CHECK(std::get<exec_command>(*exec_no_dashes).command == std::vector<std::string>{"id", "-u"});
  auto list = parse({"list", "--format", "json"});
  REQUIRE(list);
  CHECK(std::get<list_command>(*list).format == output_format::json);
  auto destroy = parse({"destroy", "box_1-a"});
  REQUIRE(destroy);
  CHECK(std::get<destroy_command>(*destroy).name == "box_1-a");
  auto doctor = parse({"doctor"});
  REQUIRE(doctor);
  CHECK(std::get<doctor_command>(*doctor).format == output_format::text);
  CHECK_FALSE(std::get<doctor_command>(*doctor).root);
  auto doctor_root = parse({"doctor", "--root", "--format=json"});
  REQUIRE(doctor_root);
  CHECK(std::get<doctor_command>(*doctor_root).format == output_format::json);
  CHECK(std::get<doctor_command>(*doctor_root).root);
  // report is parsed here and run by app/report (which reads the file).
  auto report = parse({"report", "/nonexistent/log", "--format", "markdown"});
  REQUIRE(report);
  auto* cmd = std::get_if<report_command>(&*report);
  REQUIRE(cmd != nullptr);
  CHECK(cmd->flow_log == "/nonexistent/log");
  CHECK(cmd->format == report_format::markdown);
  // cleanup is run by app/cleanup.
  for (const bool dry : {false, true}) {
    auto cleanup = dry ? parse({"cleanup", "--dry-run"}) : parse({"cleanup"});
    REQUIRE(cleanup);
    auto* c = std::get_if<cleanup_command>(&*cleanup);
    REQUIRE(c != nullptr);
    CHECK(c->dry_run == dry);
  }
}
