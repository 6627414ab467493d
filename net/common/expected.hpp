// The project's one name for a value-or-error result. tl-expected is not in
// Debian 12; C++23's std::expected is, so that is what `result` means.
#pragma once
#include <expected>

namespace netpen {
template <class T, class E>
using expected = std::expected<T, E>;
template <class E>
using unexpected = std::unexpected<E>;
}  // namespace netpen
