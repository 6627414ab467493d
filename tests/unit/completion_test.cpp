// The generated completion scripts and man page: every option of the
// parser's own table, its choices and the subcommands appear in each;
// choices come from "a|b|c" type names; the subcommand parser accepts the
// hidden --list and --man forms and report's html format.
#include <catch2/catch.hpp>

#include "app/cli/completion/cli_model.hpp"
#include "app/cli/completion/script_text.hpp"
#include "app/cli/options.hpp"
#include "cli_test_support.hpp"

namespace completion = netpen::app::cli::completion;
using netpen::app::cli_test::parse;

namespace {

std::size_t option_count() {
  netpen::app::cli::raw_options raw;
  return netpen::app::cli::make_options_app(raw)->get_options().size();
}

const completion::option_info& option(const completion::cli_model& m, std::string_view long_name) {
  for (const auto& o : m.options)
    for (const auto& l : o.longs)
      if (l == long_name) return o;
  FAIL("no option --" << long_name);
  return m.options.front();
}

}  // namespace

TEST_CASE("choices come from a type name listing lowercase words", "[cli][completion]") {
  CHECK(completion::choices_of("child|egress|wire-egress|both") ==
        std::vector<std::string>{"child", "egress", "wire-egress", "both"});
  CHECK(completion::choices_of("NAME|PATH").empty());
  CHECK(completion::choices_of("PATH").empty());
  CHECK(completion::choices_of("a||b").empty());
}

TEST_CASE("the model is the parser's option table", "[cli][completion]") {
  const auto m = completion::make_cli_model();
  CHECK(m.options.size() == option_count());
  CHECK(option(m, "capture-point").value == completion::value_kind::choice);
  CHECK(option(m, "capture-point").shorts == std::vector<std::string>{"C"});
  CHECK(option(m, "network-backend").choices == std::vector<std::string>{"rootless-internal", "rootful"});
  CHECK(option(m, "default-policy").value == completion::value_kind::choice);
  CHECK(option(m, "summary-format").value == completion::value_kind::choice);
  CHECK(option(m, "output").value == completion::value_kind::file);
  CHECK(option(m, "config").value == completion::value_kind::file);
  CHECK(option(m, "profile").value == completion::value_kind::profile);
  CHECK(option(m, "dns").value == completion::value_kind::word);
  CHECK(option(m, "root").value == completion::value_kind::none);
  CHECK(option(m, "allow").repeatable);
  CHECK(completion::usage_line(m.subcommands.back()) == "FLOW_LOG [--format text|markdown|json|html|profile]");
}

TEST_CASE("every option, its choices and every subcommand appear in each generated text", "[cli][completion]") {
  const auto m = completion::make_cli_model();
  const std::pair<std::string, std::string> texts[] = {
      {"bash", completion::bash_script(m)},
      {"zsh", completion::zsh_script(m)},
      {"fish", completion::fish_script(m)},
      {"man", completion::man_page(m, "9.9.9")},
  };
  for (const auto& [shell, text] : texts) {
    INFO(shell);
    for (const auto& o : m.options) {
      for (const auto& l : o.longs) {
        // The man page writes each '-' as "\-"; fish names a long option without its dashes.
        std::string spelled = "--" + l;
        if (shell == "man") {
          spelled.clear();
          for (char c : "--" + l) spelled += c == '-' ? std::string("\\-") : std::string(1, c);
        }
        if (shell == "fish") spelled = "-l " + l;
        CHECK(text.find(spelled) != std::string::npos);
      }
      for (const auto& c : o.choices) {
        std::string spelled;
        for (char ch : c) spelled += ch == '-' && shell == "man" ? std::string("\\-") : std::string(1, ch);
        CHECK(text.find(spelled) != std::string::npos);
      }
    }
    for (const auto& s : m.subcommands) CHECK(text.find(s.name) != std::string::npos);
    CHECK(text.find("html") != std::string::npos);  // report's --format choices
  }
}

TEST_CASE("the bash script completes values, profiles and sandboxes", "[cli][completion]") {
  const auto text = completion::bash_script(completion::make_cli_model());
  CHECK(text.find("--capture-point|-C) COMPREPLY=($(compgen -W 'child egress wire-egress both'") != std::string::npos);
  CHECK(text.find("_netpen_list profiles") != std::string::npos);
  CHECK(text.find("_netpen_list sandboxes") != std::string::npos);
  CHECK(text.find("complete -F _netpen netpen") != std::string::npos);
}

TEST_CASE("the man page has its sections and no line starting with a dot by accident", "[cli][completion]") {
  const auto text = completion::man_page(completion::make_cli_model(), "9.9.9");
  for (const char* section : {".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS", ".SH SUBCOMMANDS",
                              ".SH FILES", ".SH EXIT STATUS", ".SH ENVIRONMENT", ".SH EXAMPLES", ".SH SEE ALSO",
                              "NETPEN_PROXY_PASSWORD", "XDG_CONFIG_HOME", ".SS Policy", "netpen 9.9.9"})
    CHECK(text.find(section) != std::string::npos);
}

TEST_CASE("completion: the hidden --list and --man forms, and report --format html", "[cli][completion]") {
  using namespace netpen::app;
  auto list = parse({"completion", "--list", "profiles", "--config", "/x.toml"});
  REQUIRE(list);
  const auto& c = std::get<completion_command>(*list);
  CHECK(c.list == "profiles");
  CHECK(c.config == "/x.toml");
  auto junk = parse({"completion", "--list", "sandboxes", "whatever", "--bad"});
  REQUIRE(junk);  // a completion list never fails
  auto man = parse({"completion", "--man"});
  REQUIRE(man);
  CHECK(std::get<completion_command>(*man).man);
  auto shell = parse({"completion", "fish"});
  REQUIRE(shell);
  CHECK(std::get<completion_command>(*shell).shell == "fish");
  CHECK_FALSE(parse({"completion", "tcsh"}));
  auto report = parse({"report", "x.jsonl", "--format", "html"});
  REQUIRE(report);
  CHECK(std::get<report_command>(*report).format == report_format::html);
}
