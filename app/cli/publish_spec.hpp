// --publish's value: [ADDR:][HOST_PORT:]PORT[/udp|/tcp], docker run -p's
// syntax. ADDR is an IP literal, IPv6 in brackets ([::1]:8080:80); without
// ADDR the host side is 127.0.0.1 (nothing beyond the host's loopback);
// without HOST_PORT it is PORT. An empty HOST_PORT after ADDR (ADDR::PORT)
// also means PORT.
#pragma once
#include <string>
#include <string_view>

#include "app/run_config.hpp"
#include "net/common/error.hpp"

namespace netpen::app::cli {

result<publish_spec> parse_publish(std::string_view flag, std::string_view text);
// "tcp 127.0.0.1:8080 -> sandbox port 80", "udp [::1]:5353 -> sandbox port 53".
std::string publish_text(const publish_spec& p);

}  // namespace netpen::app::cli
