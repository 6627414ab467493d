// Owns base64 encoding (RFC 4648 section 4, standard alphabet, with '='
// padding), as used by HTTP Basic proxy authentication. Encoding only.
#pragma once
#include <string>
#include <string_view>

namespace netpen::proxy {

std::string base64_encode(std::string_view data);

}  // namespace netpen::proxy
