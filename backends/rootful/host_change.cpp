// host_change: descriptions, validation and the JSON form (see host_change.hpp).
#include "backends/rootful/host_change.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "backends/common/sysctl.hpp"

namespace netpen::backends::rootful {
namespace {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::string_view family_word(ip_family f) { return f == ip_family::ipv4 ? "ipv4" : "ipv6"; }
std::string_view family_name(ip_family f) { return f == ip_family::ipv4 ? "IPv4" : "IPv6"; }

// The kernel's own tables (unspec, default, main, local) are never ours.
bool reserved_table(std::uint32_t t) { return t == 0 || t == 253 || t == 254 || t == 255; }

bool valid_link_name(std::string_view n) {
  // IFNAMSIZ is 16 with the terminating NUL.
  if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
  return std::ranges::all_of(n, [](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; });
}

bool valid_nft_family(std::string_view f) {
  static constexpr std::array<std::string_view, 6> families{"ip", "ip6", "inet", "arp", "bridge", "netdev"};
  return std::ranges::find(families, f) != families.end();
}

bool valid_nft_name(std::string_view n) {
  if (n.empty() || n.size() > 63 || !(is_alnum(n.front()) || n.front() == '_')) return false;
  if (n.front() >= '0' && n.front() <= '9') return false;
  return std::ranges::all_of(n, [](char c) { return is_alnum(c) || c == '_'; });
}

bool valid_sysctl_path(std::string_view p) {
  if (p.empty() || p.size() > 255 || p.front() == '/' || p.back() == '/') return false;
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    const std::string_view part = p.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (!std::ranges::all_of(part, [](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; }))
      return false;
    start = end + 1;
  }
  return true;
}

result<ip_family> family_from_json(const nlohmann::json& j) {
  const auto& f = j.at("family");
  if (f == "ipv4") return ip_family::ipv4;
  if (f == "ipv6") return ip_family::ipv6;
  return fail("bad-state", "an address family is neither ipv4 nor ipv6");
}

// A 32-bit unsigned field; anything else (negative, too large, text) is
// reported rather than wrapped.
bool get_u32(const nlohmann::json& j, const char* key, std::uint32_t& out) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return false;
  if (!it->is_number_unsigned() && it->get<std::int64_t>() < 0) return false;
  if (it->get<std::uint64_t>() > 0xffffffffU) return false;
  out = it->get<std::uint32_t>();
  return true;
}

}  // namespace

std::string describe(const host_change& c) {
  return std::visit(
      overloaded{
          [](const veth& l) { return fmt::format("veth {}", l.name); },
          [](const nft_table& t) { return fmt::format("nftables table {} {}", t.family, t.name); },
          [](const sysctl& s) { return fmt::format("sysctl {} back to {}", sysctl_name(s.path), s.original_value); },
          [](const ip_rule& r) {
            return fmt::format("{} rule priority {} fwmark {:#x}/{:#x} lookup {}", family_name(r.family), r.priority,
                               r.fwmark, r.mask, r.table);
          },
          [](const route_table& t) { return fmt::format("{} routes in table {}", family_name(t.family), t.table); },
      },
      c);
}

result<void> validate(const host_change& c) {
  return std::visit(
      overloaded{
          [](const veth& l) -> result<void> {
            if (!valid_link_name(l.name)) return fail("bad-state", fmt::format("'{}' is not a link name", l.name));
            return {};
          },
          [](const nft_table& t) -> result<void> {
            if (!valid_nft_family(t.family))
              return fail("bad-state", fmt::format("'{}' is not an nftables family", t.family));
            if (!valid_nft_name(t.name))
              return fail("bad-state", fmt::format("'{}' is not an nftables table name", t.name));
            return {};
          },
          [](const sysctl& s) -> result<void> {
            if (!valid_sysctl_path(s.path))
              return fail("bad-state", fmt::format("'{}' is not a path under /proc/sys", s.path));
            if (s.original_value.size() > 4096 || s.original_value.find('\0') != std::string::npos)
              return fail("bad-state", fmt::format("the saved value of sysctl {} is not text", s.path));
            return {};
          },
          [](const ip_rule& r) -> result<void> {
            if (reserved_table(r.table) || r.priority == 0)
              return fail("bad-state", fmt::format("rule to table {} at priority {} is not netpen's", r.table, r.priority));
            return {};
          },
          [](const route_table& t) -> result<void> {
            if (reserved_table(t.table))
              return fail("bad-state", fmt::format("routing table {} is not netpen's", t.table));
            return {};
          },
      },
      c);
}

nlohmann::json to_json(const host_change& c) {
  return std::visit(
      overloaded{
          [](const veth& l) { return nlohmann::json{{"kind", "veth"}, {"name", l.name}}; },
          [](const nft_table& t) {
            return nlohmann::json{{"kind", "nft_table"}, {"family", t.family}, {"name", t.name}};
          },
          [](const sysctl& s) {
            return nlohmann::json{{"kind", "sysctl"}, {"path", s.path}, {"original_value", s.original_value}};
          },
          [](const ip_rule& r) {
            return nlohmann::json{{"kind", "ip_rule"},  {"family", family_word(r.family)}, {"fwmark", r.fwmark},
                                  {"mask", r.mask},     {"table", r.table},                {"priority", r.priority}};
          },
          [](const route_table& t) {
            return nlohmann::json{{"kind", "route_table"}, {"family", family_word(t.family)}, {"table", t.table}};
          },
      },
      c);
}

result<host_change> host_change_from_json(const nlohmann::json& j) {
  // nlohmann reports missing keys and wrong types by throwing; a corrupt
  // state file is an expected failure here, so it becomes an error value.
  try {
    if (!j.is_object()) return fail("bad-state", "a host change is not a JSON object");
    const std::string kind = j.at("kind").get<std::string>();
    host_change c;
    if (kind == "veth") {
      c = veth{j.at("name").get<std::string>()};
    } else if (kind == "nft_table") {
      c = nft_table{j.at("family").get<std::string>(), j.at("name").get<std::string>()};
    } else if (kind == "sysctl") {
      c = sysctl{j.at("path").get<std::string>(), j.at("original_value").get<std::string>()};
    } else if (kind == "ip_rule") {
      auto f = family_from_json(j);
      if (!f) return unexpected(f.error());
      ip_rule r{.family = *f};
      if (!get_u32(j, "fwmark", r.fwmark) || !get_u32(j, "mask", r.mask) || !get_u32(j, "table", r.table) ||
          !get_u32(j, "priority", r.priority))
        return fail("bad-state", "an ip rule's fwmark, mask, table or priority is not a 32-bit number");
      c = r;
    } else if (kind == "route_table") {
      auto f = family_from_json(j);
      if (!f) return unexpected(f.error());
      route_table t{.family = *f};
      if (!get_u32(j, "table", t.table)) return fail("bad-state", "a routing table's number is not a 32-bit number");
      c = t;
    } else {
      return fail("bad-state", fmt::format("unknown host change kind '{}'", kind));
    }
    if (auto ok = validate(c); !ok) return unexpected(ok.error());
    return c;
  } catch (const nlohmann::json::exception& e) {
    return fail("bad-state", fmt::format("a host change is malformed: {}", e.what()));
  }
}

}  // namespace netpen::backends::rootful
