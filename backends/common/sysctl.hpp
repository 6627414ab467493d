// The kernel's sysctls through /proc/sys, for both backends and the tests:
// read one as text or as a number, write one, and the two spellings of its
// name. A sysctl is named by its path under /proc/sys
// ("net/ipv4/conf/eth0/forwarding"), the form rootful runs record; sysctl(8)
// writes the same one as "net.ipv4.conf.eth0.forwarding". Every failure is
// an error with code "sysctl" naming the file and the reason.
#pragma once
#include <string>
#include <string_view>

#include "net/common/error.hpp"

namespace netpen::backends {

// "/proc/sys/" + path.
std::string sysctl_file(std::string_view path);
// sysctl(8)'s notation: '/' shows as '.', a '.' inside a name as '/'
// ("net/ipv4/conf/eth0.100/forwarding" is "net.ipv4.conf.eth0/100.forwarding").
std::string sysctl_name(std::string_view path);

// Whether the sysctl exists here (its file opens for reading).
bool sysctl_exists(std::string_view path);
// Its value's first line, without the newline.
result<std::string> read_sysctl(std::string_view path);
// Its value as one integer (leading blanks skipped; what follows the number
// is ignored, e.g. the second number of a range).
result<long> read_sysctl_int(std::string_view path);

enum class sysctl_missing { fail, ignore };
// Writes `value` and a newline in one write(2), as sysctl(8) does. With
// sysctl_missing::ignore a sysctl that does not exist (the interface it
// belonged to is gone) is success.
result<void> write_sysctl(std::string_view path, std::string_view value, sysctl_missing missing = sysctl_missing::fail);

}  // namespace netpen::backends
