// hosts-format parsing, lookup and overlay rendering (see hosts_file.hpp).
#include "net/dns/hosts_file.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace netpen::dns {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    std::size_t j = i;
    while (j < line.size() && !is_space(line[j])) ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// A host name: labels of 1-63 letters, digits, '-' or '_', at most 253
// characters, optionally one trailing dot.
bool valid_hostname(std::string_view n) {
  if (!n.empty() && n.back() == '.') n.remove_suffix(1);
  if (n.empty() || n.size() > 253) return false;
  std::size_t label = 0;
  for (char c : n) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

}  // namespace

std::string normalize_hostname(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

void hosts_table::add(const asio::ip::address& address, std::vector<std::string> names) {
  for (const auto& n : names) {
    auto& lists = by_name_[normalize_hostname(n)];
    auto& list = address.is_v6() ? lists.v6 : lists.v4;
    if (std::find(list.begin(), list.end(), address) == list.end()) list.push_back(address);
  }
  entries_.push_back(hosts_entry{address, std::move(names)});
}

std::vector<asio::ip::address> hosts_table::lookup(std::string_view name, bool v6) const {
  auto it = by_name_.find(normalize_hostname(name));
  if (it == by_name_.end()) return {};
  return v6 ? it->second.v6 : it->second.v4;
}

bool hosts_table::contains(std::string_view name) const {
  return by_name_.contains(normalize_hostname(name));
}

result<hosts_table> parse_hosts(std::string_view text, std::string_view source) {
  hosts_table table;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    const auto fields = split_fields(line);
    if (fields.empty()) continue;
    auto where = [&](std::string_view what) {
      return fail("bad-hosts-file", fmt::format("{}:{}: {}", source, line_no, what));
    };
    std::error_code ec;
    const auto address = asio::ip::make_address(std::string(fields[0]), ec);
    if (ec) return where(fmt::format("'{}' is not an IPv4 or IPv6 address", fields[0]));
    if (fields.size() < 2) return where(fmt::format("address {} has no host name", fields[0]));
    std::vector<std::string> names;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      if (!valid_hostname(fields[i])) return where(fmt::format("'{}' is not a valid host name", fields[i]));
      names.emplace_back(fields[i]);
    }
    table.add(address, std::move(names));
  }
  return table;
}

std::string render_overlay(std::string_view host_etc_hosts_text, const hosts_table& overlay) {
  std::string out = "# netpen --hosts-file overlay (these entries take precedence)\n";
  for (const auto& e : overlay.entries()) {
    out += e.address.to_string();
    for (const auto& n : e.names) {
      out.push_back('\t');
      out += n;
    }
    out.push_back('\n');
  }
  out += "# host /etc/hosts\n";
  out += host_etc_hosts_text;
  if (!host_etc_hosts_text.empty() && host_etc_hosts_text.back() != '\n') out.push_back('\n');
  return out;
}

}  // namespace netpen::dns
