// errno_name: an errno value for people, with its symbol (see checks.hpp).
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "app/doctor/checks.hpp"

namespace netpen::app::doctor {

std::string errno_name(int e) {
  const char* symbol = nullptr;
  switch (e) {
    case EPERM: symbol = "EPERM"; break;
    case EACCES: symbol = "EACCES"; break;
    case ENOENT: symbol = "ENOENT"; break;
    case ENODEV: symbol = "ENODEV"; break;
    case ENXIO: symbol = "ENXIO"; break;
    case EINVAL: symbol = "EINVAL"; break;
    case ENOSPC: symbol = "ENOSPC"; break;
    case EUSERS: symbol = "EUSERS"; break;
    case ENOSYS: symbol = "ENOSYS"; break;
    case EBUSY: symbol = "EBUSY"; break;
    case EOPNOTSUPP: symbol = "EOPNOTSUPP"; break;
    default: break;
  }
  return symbol != nullptr ? fmt::format("{} ({})", std::strerror(e), symbol) : std::string(std::strerror(e));
}

}  // namespace netpen::app::doctor
