// /etc/hosts format: parsing and validation of --hosts-file contents.
#include "app/cli/hosts_file.hpp"

#include "app/cli/validators.hpp"

namespace netpen::app::cli {
namespace {

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  const char* ws = " \t\r\v\f";
  while (true) {
    auto start = line.find_first_not_of(ws);
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    auto end = line.find_first_of(ws);
    out.push_back(line.substr(0, end));
    if (end == std::string_view::npos) break;
    line.remove_prefix(end);
  }
  return out;
}

}  // namespace

result<std::vector<hosts_entry>> parse_hosts(std::string_view source, std::string_view contents) {
  std::vector<hosts_entry> out;
  std::size_t line_no = 0;
  while (!contents.empty()) {
    ++line_no;
    auto nl = contents.find('\n');
    std::string_view line = contents.substr(0, nl);
    contents.remove_prefix(nl == std::string_view::npos ? contents.size() : nl + 1);
    auto words = split_ws(line.substr(0, line.find('#')));
    if (words.empty()) continue;
    auto where = std::string(source) + ":" + std::to_string(line_no) + ": ";
    hosts_entry entry;
    std::string_view addr = words.front();
    if (is_ipv4(addr)) {
      entry.v6 = false;
    } else if (is_ipv6(addr.substr(0, addr.find('%')))) {
      entry.v6 = true;
    } else {
      return fail("bad-value", where + "'" + std::string(addr) + "' is not an IPv4 or IPv6 address");
    }
    if (words.size() < 2) return fail("bad-value", where + "no host name after '" + std::string(addr) + "'");
    entry.address = std::string(addr);
    for (std::size_t i = 1; i < words.size(); ++i) {
      if (!is_domain_name(words[i]))
        return fail("bad-value", where + "'" + std::string(words[i]) + "' is not a host name");
      entry.names.emplace_back(words[i]);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace netpen::app::cli
