// A screen in front of toml++ for config and profile files (theory of
// operation). Debian 12's toml++ 3.3.0 reaches __builtin_unreachable()
// (undefined behaviour) when it asks whether some non-ASCII code points
// (U+00A1..U+0499, U+2D3E..U+3137 but U+3000, U+FC06..U+FEFE) are
// whitespace (upstream issue #295, fixed after 3.3.0; found here by
// fuzz_profile_config). It asks only outside strings and comments (between
// tokens, and over a whole bare token such as a bad number, quotes
// included) and in a multi-line basic string right after a line-ending
// backslash. TOML allows non-ASCII text only inside strings and
// comments, so refusing it outside them refuses no valid file; after a
// line-ending backslash it is valid but rare, and refused too. Pure.
#pragma once
#include <optional>
#include <string_view>

namespace netpen::app::cli::profiles {

// The 1-based line of the first non-ASCII byte toml++ 3.3.0 could
// misclassify (see above), or nullopt when the text is safe to parse.
std::optional<int> unsafe_non_ascii_line(std::string_view text);

}  // namespace netpen::app::cli::profiles
