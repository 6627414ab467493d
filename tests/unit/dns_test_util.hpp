// Test helper: a DNS query in wire form (RD set, one question, class IN),
// built by hand so the tests do not depend on the codec they check.
#pragma once
#include <cstdint>
#include <string_view>

#include "net/dns/message.hpp"

namespace netpen::dns_test {

inline dns::bytes make_query(std::uint16_t id, std::string_view host, std::uint16_t qtype = dns::type_a) {
  dns::bytes q{std::byte{static_cast<unsigned char>(id >> 8)}, std::byte{static_cast<unsigned char>(id & 0xff)},
               std::byte{1}, std::byte{0}, std::byte{0}, std::byte{1}};
  q.resize(12);
  std::size_t start = 0;
  while (start <= host.size()) {
    auto dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    q.push_back(static_cast<std::byte>(dot - start));
    for (char c : host.substr(start, dot - start)) q.push_back(static_cast<std::byte>(c));
    start = dot + 1;
  }
  q.push_back(std::byte{0});
  for (unsigned v : {unsigned{qtype} >> 8u, unsigned{qtype} & 0xffu, 0u, 1u}) q.push_back(static_cast<std::byte>(v));
  return q;
}

}  // namespace netpen::dns_test
