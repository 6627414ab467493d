// Small text helpers shared by the event outputs for people (live lines,
// summary, capture comments): byte counts, durations, a flow's claim, and
// making untrusted strings safe to print on a terminal.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/events/event.hpp"

namespace netpen::events {

// "517 B", "3.2 KiB", "1.5 MiB", "2.0 GiB" (binary units, one decimal).
std::string human_bytes(std::uint64_t bytes);
// "0 ms", "499 ms", "1.234 s", "3m 05s", "1h 02m".
std::string human_duration(std::chrono::milliseconds d);
// Control characters (a DNS name or command line from the tree could carry
// terminal escapes) replaced by "\xNN" (C0, DEL) or "\u00NN" (C1 in UTF-8);
// everything else unchanged.
std::string printable(std::string_view text);
// What a flow's first bytes claimed, compactly: "sni=web.lab.test
// alpn=h2,http/1.1" (TLS, QUIC), "GET web.lab.test/index.html" (HTTP, the
// path cut to `path_max` bytes); empty when the event has no claim. Not
// made printable (callers do).
std::string claim_text(const event& e, std::size_t path_max = 48);
// An argument vector as a POSIX shell would need it typed: words made only
// of safe characters as they are, others in single quotes ('it'\''s');
// an empty word is ''. `sh -c 'a; b'` stays `sh -c 'a; b'`.
std::string shell_quoted(const std::vector<std::string>& argv);
// `text` cut to at most `max` bytes (not inside a UTF-8 character), ending in "..." when cut.
std::string shorten(std::string_view text, std::size_t max);

}  // namespace netpen::events
