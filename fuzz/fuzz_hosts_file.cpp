// libFuzzer target: the hosts-file parser (net/dns hosts_file: the user's
// --hosts-file and the host's /etc/hosts the overlay is merged with).
// Oracles besides the sanitizers: a file that parses renders into an
// overlay /etc/hosts that parses too and answers every name with the same
// addresses, in the same order; lookups ignore case and a trailing dot.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_require.hpp"
#include "net/dns/hosts_file.hpp"

using namespace netpen::dns;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto table = parse_hosts(text, "fuzz");
  if (!table) {
    (void)render_overlay(text, hosts_table{});
    return 0;
  }
  const auto merged = parse_hosts(render_overlay(text, *table), "merged");
  FUZZ_REQUIRE(merged.has_value());
  for (const auto& e : table->entries()) {
    for (const auto& name : e.names) {
      FUZZ_REQUIRE(table->contains(name) && merged->contains(name));
      for (bool v6 : {false, true}) {
        const auto addresses = table->lookup(name, v6);
        FUZZ_REQUIRE(merged->lookup(name, v6) == addresses);
        std::string upper = normalize_hostname(name);
        for (char& c : upper) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
        FUZZ_REQUIRE(table->lookup(upper + ".", v6) == addresses);
      }
    }
  }
  return 0;
}
