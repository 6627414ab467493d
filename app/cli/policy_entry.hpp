// Allow/deny list entry syntax (shared by --allow/--deny and their -file
// forms): example.com, *.example.com, IPv4, IPv6, CIDR v4/v6, each
// optionally :PORT ([v6]:PORT for IPv6). Produces net/policy rules (built
// and normalised there); the syntax and its messages live here.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "app/run_config.hpp"
#include "net/common/error.hpp"

namespace netpen::app::cli {

// One entry (origin left empty). The error message names the entry but no
// flag or file, e.g. "'exa mple.com' is not a domain, *.domain, IP address or CIDR".
result<policy_entry> parse_policy_entry(std::string_view text);

// A comma-separated list from a flag value, origin = flag; errors read
// "<flag>: <detail>".
result<std::vector<policy_entry>> parse_policy_list(std::string_view flag, std::string_view text);

// A file's contents: one entry a line, '#' starts a comment, blank lines
// ignored; origin = "<path>:<line>"; errors read "<flag>: <path>:<line>: <detail>".
result<std::vector<policy_entry>> parse_policy_file(std::string_view flag, std::string_view path,
                                                    std::string_view contents);

}  // namespace netpen::app::cli
