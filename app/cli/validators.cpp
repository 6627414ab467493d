// Value syntax checks for the command line: IP literals, ports, resolver
// endpoints, proxy URIs, port lists, paths.
#include "app/cli/validators.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace netpen::app::cli {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}
std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

std::optional<int> hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    auto hi = hex_value(s[i + 1]);
    auto lo = hex_value(s[i + 2]);
    if (!hi || !lo) return std::nullopt;
    out.push_back(static_cast<char>(*hi * 16 + *lo));
    i += 2;
  }
  return out;
}

}  // namespace

bool is_ipv4(std::string_view text) {
  std::array<unsigned char, 4> buf{};
  return text.size() < 16 && inet_pton(AF_INET, std::string(text).c_str(), buf.data()) == 1;
}

bool is_ipv6(std::string_view text) {
  std::array<unsigned char, 16> buf{};
  return text.size() < 46 && inet_pton(AF_INET6, std::string(text).c_str(), buf.data()) == 1;
}

bool is_domain_name(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() > 253) return false;
  std::string_view last;
  while (true) {
    auto dot = text.find('.');
    std::string_view label = text.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      bool ok = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
      if (!ok) return false;
    }
    last = label;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return !all_digits(last);
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (!all_digits(text) || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : text) value = value * 10 + static_cast<unsigned>(c - '0');
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view trim(std::string_view text) {
  const char* ws = " \t\r\n\v\f";
  auto first = text.find_first_not_of(ws);
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(ws);
  return text.substr(first, last - first + 1);
}

std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> items;
  while (true) {
    const auto comma = text.find(',');
    items.push_back(trim(text.substr(0, comma)));
    if (comma == std::string_view::npos) return items;
    text.remove_prefix(comma + 1);
  }
}

unexpected<error> bad_value(std::string_view flag, std::string_view detail) {
  return fail("bad-value", std::string(flag) + ": " + std::string(detail));
}

result<endpoint_spec> parse_dns_endpoint(std::string_view flag, std::string_view text) {
  const std::string what = in_quotes(text) + " is not an IPv4 or IPv6 address";
  endpoint_spec ep;
  std::string_view addr = text;
  std::optional<std::string_view> port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return bad_value(flag, what + " (missing ']')");
    addr = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad_value(flag, what);
      port_text = rest.substr(1);
    }
    if (!is_ipv6(addr)) return bad_value(flag, in_quotes(addr) + " is not an IPv6 address");
    ep.v6 = true;
  } else if (is_ipv6(text)) {
    ep.v6 = true;
  } else {
    auto colon = text.find(':');
    if (colon != std::string_view::npos) {
      addr = text.substr(0, colon);
      port_text = text.substr(colon + 1);
    }
    if (!is_ipv4(addr)) return bad_value(flag, what);
  }
  if (port_text) {
    auto port = parse_port(*port_text);
    if (!port) return bad_value(flag, in_quotes(*port_text) + " is not a port (1-65535)");
    ep.port = *port;
  }
  ep.address = std::string(addr);
  return ep;
}

std::string redact_proxy_uri(std::string_view text) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return std::string(text);
  const auto authority_end = std::min(text.find('/', sep + 3), text.size());
  const auto at = text.substr(0, authority_end).rfind('@');
  if (at == std::string_view::npos || at < sep + 3) return std::string(text);
  const auto colon = text.substr(0, at).find(':', sep + 3);
  if (colon == std::string_view::npos) return std::string(text);
  return std::string(text.substr(0, colon + 1)) + "***" + std::string(text.substr(at));
}

result<proxy_spec> parse_proxy_uri(std::string_view flag, std::string_view text) {
  proxy_spec spec;
  const std::string shown = redact_proxy_uri(text);  // messages never show the password
  auto sep = text.find("://");
  if (sep == std::string_view::npos)
    return bad_value(flag, in_quotes(shown) + " is not a proxy URI (expected SCHEME://HOST:PORT)");
  std::string scheme = to_lower(text.substr(0, sep));
  if (scheme == "http") spec.scheme = proxy_scheme::http;
  else if (scheme == "https") spec.scheme = proxy_scheme::https;
  else if (scheme == "socks5") spec.scheme = proxy_scheme::socks5;
  else if (scheme == "socks5h") spec.scheme = proxy_scheme::socks5h;
  else return bad_value(flag, "unsupported proxy scheme " + in_quotes(scheme) + " (http, https, socks5, socks5h)");

  std::string_view authority = text.substr(sep + 3);
  if (auto slash = authority.find('/'); slash != std::string_view::npos) {
    if (slash + 1 != authority.size())
      return bad_value(flag, in_quotes(shown) + ": a proxy URI has no path");
    authority = authority.substr(0, slash);
  }
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    if (!user) return bad_value(flag, in_quotes(shown) + ": bad percent-encoding in the user name");
    if (user->empty()) return bad_value(flag, in_quotes(shown) + ": empty user name before '@'");
    spec.user = *user;
    if (colon != std::string_view::npos) {
      auto pass = percent_decode(userinfo.substr(colon + 1));
      if (!pass) return bad_value(flag, in_quotes(shown) + ": bad percent-encoding in the password");
      spec.password = *pass;
    }
  }
  std::string_view host;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad_value(flag, in_quotes(shown) + ": missing ']' after the IPv6 address");
    host = authority.substr(1, close - 1);
    if (!is_ipv6(host)) return bad_value(flag, in_quotes(host) + " is not an IPv6 address");
    spec.host_v6 = true;
    std::string_view rest = authority.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return bad_value(flag, in_quotes(shown) + ": the proxy port is missing");
    port_text = rest.substr(1);
  } else {
    auto colon = authority.rfind(':');
    if (colon == std::string_view::npos) return bad_value(flag, in_quotes(shown) + ": the proxy port is missing");
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return bad_value(flag, in_quotes(shown) + ": an IPv6 proxy address needs brackets ([v6]:port)");
    if (host.empty()) return bad_value(flag, in_quotes(shown) + ": the proxy host is missing");
    if (!is_ipv4(host) && !is_domain_name(host))
      return bad_value(flag, in_quotes(host) + " is not a host name or IP address");
  }
  auto port = parse_port(port_text);
  if (!port) return bad_value(flag, in_quotes(port_text) + " is not a port (1-65535)");
  spec.port = *port;
  spec.host = spec.host_v6 ? std::string(host) : to_lower(host);
  if (!spec.host.empty() && spec.host.back() == '.') spec.host.pop_back();
  return spec;
}

result<std::vector<port_range>> parse_port_list(std::string_view flag, std::string_view whole) {
  std::vector<port_range> out;
  for (std::string_view item : split_list(whole)) {
    if (item.empty()) return bad_value(flag, "empty entry in the port list " + in_quotes(whole));
    std::string_view ports = item;
    bool udp = false;
    if (const auto slash = item.find('/'); slash != std::string_view::npos) {
      const auto proto = to_lower(item.substr(0, slash));
      if (proto != "tcp" && proto != "udp")
        return bad_value(flag, in_quotes(item) + ": the protocol is not tcp or udp (udp/PORT, tcp/PORT)");
      udp = proto == "udp";
      ports = item.substr(slash + 1);
    }
    auto dash = ports.find('-');
    auto first = parse_port(ports.substr(0, dash));
    auto last = dash == std::string_view::npos ? first : parse_port(ports.substr(dash + 1));
    if (!first || !last) return bad_value(flag, in_quotes(item) + " is not a port (1-65535) or port range (FIRST-LAST)");
    if (*first > *last) return bad_value(flag, in_quotes(item) + " is an empty port range");
    out.push_back(port_range{*first, *last, udp});
  }
  return out;
}

result<unsigned> parse_positive_seconds(std::string_view flag, std::string_view text) {
  if (!all_digits(text) || text.size() > 9) return bad_value(flag, in_quotes(text) + " is not a positive number of seconds");
  unsigned value = 0;
  for (char c : text) value = value * 10 + static_cast<unsigned>(c - '0');
  if (value == 0) return bad_value(flag, in_quotes(text) + " is not a positive number of seconds");
  return value;
}

result<std::string> read_file_for(std::string_view flag, const std::string& path) {
  auto reason = [&](int err) { return bad_value(flag, "cannot read " + in_quotes(path) + ": " + std::strerror(err)); };
  if (path.empty()) return bad_value(flag, "empty file name");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return reason(errno);
  struct stat st{};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    int err = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(fd);
    return reason(err);
  }
  std::string contents;
  std::array<char, 4096> buf{};
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return reason(err);
    }
    if (n == 0) break;
    contents.append(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return contents;
}

namespace {

// Whether netpen (its effective ids, as it will open the file) may write
// `path`: the file itself when it exists, else create it in `dir`. Checked
// here so that an output that cannot be written stops the run before
// anything is set up, even --learn's, which is written only at the end.
result<void> check_writable(std::string_view flag, const std::string& path, const std::string& dir) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  const std::string& target = exists ? path : dir;
  if (::faccessat(AT_FDCWD, target.c_str(), exists ? W_OK : W_OK | X_OK, AT_EACCESS) == 0) return {};
  const int err = errno;
  if (exists) return bad_value(flag, in_quotes(path) + " cannot be written: " + std::strerror(err));
  return bad_value(flag, in_quotes(path) + " cannot be created in " + in_quotes(dir) + ": " + std::strerror(err));
}

}  // namespace

result<void> check_output_path(std::string_view flag, const std::string& path) {
  if (path.empty()) return bad_value(flag, "empty file name");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return bad_value(flag, in_quotes(path) + " is a directory");
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    return bad_value(flag, "directory " + in_quotes(parent.string()) + " does not exist");
  return check_writable(flag, path, parent.empty() ? std::string(".") : parent.string());
}

}  // namespace netpen::app::cli
