// The question/answer codec of a sandbox's --interactive (see question_codec.hpp).
#include "app/sandboxes/question_codec.hpp"

#include <charconv>
#include <utility>

#include <fmt/format.h>

namespace netpen::app::sandboxes {
namespace {

using policy::approval;

constexpr std::pair<approval, std::string_view> answer_words[] = {
    {approval::allow_once, "once"}, {approval::allow_address, "address"}, {approval::allow_name, "name"},
    {approval::deny, "deny"},       {approval::timeout, "timeout"},           {approval::unasked, "unasked"},
};

std::string escaped(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\0') out += "\\0";
    else out += c;
  }
  return out;
}

std::optional<std::string> unescaped(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) return std::nullopt;
    if (text[i] == '\\') out += '\\';
    else if (text[i] == 'n') out += '\n';
    else if (text[i] == '0') out += '\0';
    else return std::nullopt;
  }
  return out;
}

template <typename N>
std::optional<N> number(std::string_view text) {
  N v{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::string address_field(const packet::ip_address& a) {
  std::string out = a.v6 ? "v6 " : "v4 ";
  for (const auto b : a.bytes) out += fmt::format("{:02x}", b);
  return out;
}

std::optional<packet::ip_address> address_of(std::string_view text) {
  if (text.size() != 3 + 32 || (!text.starts_with("v4 ") && !text.starts_with("v6 "))) return std::nullopt;
  packet::ip_address a;
  a.v6 = text.starts_with("v6");
  for (std::size_t i = 0; i < a.bytes.size(); ++i) {
    const auto hex = text.substr(3 + 2 * i, 2);
    auto [p, ec] = std::from_chars(hex.data(), hex.data() + 2, a.bytes[i], 16);
    if (ec != std::errc{} || p != hex.data() + 2) return std::nullopt;
  }
  return a;
}

// One "field value" line into the request; false for an unknown or bad one.
bool take_field(std::string_view field, std::string_view value, question& q) {
  auto& r = q.request;
  if (field == "timeout") {
    auto t = number<int>(value);
    if (t && *t > 0) q.timeout_s = *t;
    return t && *t > 0;
  }
  if (field == "protocol") {
    auto p = number<std::uint8_t>(value);
    if (p) r.protocol = *p;
    return p.has_value();
  }
  if (field == "port") {
    auto p = number<std::uint16_t>(value);
    if (p) r.port = *p;
    return p.has_value();
  }
  if (field == "address") {
    auto a = address_of(value);
    if (a) r.address = *a;
    return a.has_value();
  }
  auto text = unescaped(value);
  if (!text) return false;
  if (field == "destination") r.destination = std::move(*text);
  else if (field == "process") r.process = std::move(*text);
  else if (field == "name") r.names.push_back(std::move(*text));
  else if (field == "claimed") r.claimed_name = std::move(*text);
  else if (field == "claimed_by") r.claimed_by = std::move(*text);
  else return false;
  return true;
}

}  // namespace

std::string encode_question(const question& q) {
  const auto& r = q.request;
  std::string out = fmt::format("{} {}\ntimeout {}\nprotocol {}\naddress {}\nport {}\ndestination {}\nprocess {}",
                                reply_ask, q.id, q.timeout_s, r.protocol, address_field(r.address), r.port, escaped(r.destination),
                                escaped(r.process));
  for (const auto& n : r.names) out += "\nname " + escaped(n);
  if (!r.claimed_name.empty()) out += "\nclaimed " + escaped(r.claimed_name) + "\nclaimed_by " + escaped(r.claimed_by);
  return out;
}

std::optional<question> decode_question(std::string_view wire) {
  question q;
  bool first = true;
  while (!wire.empty()) {
    const auto nl = wire.find('\n');
    const auto line = wire.substr(0, nl);
    wire = nl == std::string_view::npos ? std::string_view{} : wire.substr(nl + 1);
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    const auto field = line.substr(0, sp), value = line.substr(sp + 1);
    if (first) {
      auto id = number<std::uint64_t>(value);
      if (field != reply_ask || !id) return std::nullopt;
      q.id = *id;
      first = false;
    } else if (!take_field(field, value, q)) {
      return std::nullopt;
    }
  }
  if (first) return std::nullopt;
  return q;
}

std::string encode_answer(const answer& a) {
  std::string_view word = "deny";
  for (const auto& [what, w] : answer_words)
    if (what == a.what) word = w;
  return fmt::format("{} {} {}", request_answer, a.id, word);
}

std::optional<answer> decode_answer(std::string_view wire) {
  const auto first = wire.find(' ');
  if (first == std::string_view::npos || wire.substr(0, first) != request_answer) return std::nullopt;
  wire.remove_prefix(first + 1);
  const auto second = wire.find(' ');
  if (second == std::string_view::npos) return std::nullopt;
  const auto id = number<std::uint64_t>(wire.substr(0, second));
  if (!id) return std::nullopt;
  for (const auto& [what, w] : answer_words)
    if (w == wire.substr(second + 1)) return answer{*id, what};
  return std::nullopt;
}

}  // namespace netpen::app::sandboxes
