// [cli] the proxy flags: URI, credentials from every source, the password
// kept out of messages, SOCKS5 length limits, --proxy-only.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "app/cli/validators.hpp"
#include "tests/unit/cli_test_support.hpp"

using namespace netpen::app;
using namespace netpen::app::cli_test;

namespace {

// Sets an environment variable for the scope of a test.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~scoped_env() { ::unsetenv(name_); }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
};

}  // namespace

TEST_CASE("proxy flags give a run config", "[cli][proxy]") {
  auto c = config_of({"-p", "http://proxy.lab:3128", "x"});
  REQUIRE(c.proxy);
  CHECK(c.proxy->scheme == proxy_scheme::http);
  CHECK(c.proxy->host == "proxy.lab");
  CHECK(c.proxy->port == 3128);
  CHECK_FALSE(c.proxy_user);
  CHECK_FALSE(c.proxy_password_in_argv);

  c = config_of({"--proxy=socks5h://u:p%40ss@[2001:db8::1]:1080", "--proxy-only", "x"});
  REQUIRE(c.proxy);
  CHECK(c.proxy->scheme == proxy_scheme::socks5h);
  CHECK(c.proxy->host == "2001:db8::1");
  CHECK(c.proxy_user == "u");
  CHECK(c.proxy_password == "p@ss");
  CHECK(c.proxy_only);
  CHECK(c.proxy_password_in_argv);

  c = config_of({"-p", "https://10.0.0.1:443/", "--proxy-insecure", "x"});
  CHECK(c.proxy_insecure);
}

TEST_CASE("proxy credentials come from -U/-P, the file or NETPEN_PROXY_PASSWORD", "[cli][proxy]") {
  temp_file pw("from-file\n");
  auto c = config_of({"-p", "socks5://h:1", "-U", "me", "-P", "pw", "x"});
  CHECK(c.proxy_user == "me");
  CHECK(c.proxy_password == "pw");
  CHECK(c.proxy_password_in_argv);

  c = config_of({"-p", "socks5://h:1", "-U", "me", "--proxy-password-file", pw.path(), "x"});
  CHECK(c.proxy_password == "from-file");
  CHECK_FALSE(c.proxy_password_in_argv);

  scoped_env env("NETPEN_PROXY_PASSWORD", "from-env");
  c = config_of({"-p", "http://me@h:1", "x"});
  CHECK(c.proxy_password == "from-env");
  CHECK_FALSE(c.proxy_password_in_argv);
  c = config_of({"-p", "http://h:1", "-U", "me", "-P", "explicit", "x"});
  CHECK(c.proxy_password == "explicit");  // the flag wins over the variable
  c = config_of({"-p", "http://h:1", "x"});
  CHECK_FALSE(c.proxy_password);  // no user: the variable is not used
}

TEST_CASE("proxy passwords never appear in error messages", "[cli][proxy]") {
  CHECK(cli::redact_proxy_uri("http://u:secret@h:1") == "http://u:***@h:1");
  CHECK(cli::redact_proxy_uri("socks5h://u:p@ss@[2001:db8::1]:1080/") == "socks5h://u:***@[2001:db8::1]:1080/");
  CHECK(cli::redact_proxy_uri("http://u@h:1") == "http://u@h:1");
  CHECK(cli::redact_proxy_uri("http://h:1") == "http://h:1");
  CHECK(cli::redact_proxy_uri("h:1") == "h:1");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-p", "http://u:topsecret@h", "x"},
           {"-p", "http://u:topsecret@h:99999", "x"},
           {"-p", "ftp://u:topsecret@h:1", "x"},
           {"-p", "http://u:topsecret@h:1/x", "x"},
           {"-p", "http://u:topsecret@:1", "x"}}) {
    const auto msg = error_of(args);
    INFO(msg);
    CHECK(msg.find("topsecret") == std::string::npos);
    CHECK_FALSE(msg.empty());
  }
}

TEST_CASE("SOCKS5 credentials longer than 255 bytes are refused up front", "[cli][proxy]") {
  const std::string long_name(256, 'a');
  CHECK(error_of({"-p", "socks5://h:1", "-U", long_name, "x"}).starts_with("--proxy-user: a SOCKS5 user name is at most 255"));
  CHECK(error_of({"-p", "socks5h://h:1", "-U", "u", "-P", long_name, "x"})
            .starts_with("--proxy-password: a SOCKS5 password is at most 255"));
  auto c = config_of({"-p", "http://h:1", "-U", long_name, "x"});  // HTTP has no such limit
  CHECK(c.proxy_user == long_name);
}

TEST_CASE("output flags give a run config", "[cli]") {
  auto c = config_of({"--analyse", "--log", "/tmp/flows.jsonl", "--summary-format", "json", "-o", "/tmp/x.pcapng", "x"});
  CHECK(c.analyse);
  CHECK(c.flow_log_path == "/tmp/flows.jsonl");
  CHECK(c.summary);
  CHECK(c.summary_format == output_format::json);
  CHECK(c.capture_path == "/tmp/x.pcapng");
  CHECK(c.capture_at == capture_point::child);
  c = config_of({"-c", "/tmp/y.pcapng", "-C", "child", "--flow-log", "f.jsonl", "x"});
  CHECK(c.capture_path == "/tmp/y.pcapng");
  CHECK(c.flow_log_path == "f.jsonl");
  CHECK_FALSE(c.summary);
}
