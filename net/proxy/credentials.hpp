// Owns the user name / password pair given to an upstream proxy
// (--proxy-user / --proxy-password). Plain data; each codec checks the limits
// of its own protocol.
#pragma once
#include <string>

namespace netpen::proxy {

struct credentials {
  std::string user;
  std::string password;
};

}  // namespace netpen::proxy
