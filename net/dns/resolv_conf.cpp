// resolv.conf parsing and rendering (see resolv_conf.hpp).
#include "net/dns/resolv_conf.hpp"

namespace netpen::dns {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The first whitespace-separated word and the (trimmed) rest.
std::pair<std::string_view, std::string_view> keyword(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && !is_space(line[i])) ++i;
  return {line.substr(0, i), trim(line.substr(i))};
}

}  // namespace

resolv_conf parse_resolv_conf(std::string_view text) {
  resolv_conf out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    line = trim(line);
    auto [key, rest] = keyword(line);
    if (key == "nameserver") {
      // Only the first word counts; anything after it (a comment) is ignored.
      auto [value, ignored] = keyword(rest);
      (void)ignored;
      std::error_code ec;
      auto address = asio::ip::make_address(std::string(value), ec);
      if (!ec) out.nameservers.push_back(upstream_server{address, 53});
    } else if (key == "search" || key == "domain") {
      out.search_lines.emplace_back(line);
    } else if (key == "options") {
      out.option_lines.emplace_back(line);
    }
  }
  return out;
}

std::string render_resolv_conf(std::span<const asio::ip::address> gateways, const resolv_conf& host) {
  std::string out = "# netpen: all DNS goes to the sandbox gateway\n";
  for (const auto& l : host.search_lines) out += l + "\n";
  for (const auto& l : host.option_lines) out += l + "\n";
  for (const auto& g : gateways) out += "nameserver " + g.to_string() + "\n";
  return out;
}

}  // namespace netpen::dns
