// The relay's events: what happened to the tree's traffic that the user
// should hear about. The relay raises them; the run decides where they go
// (stderr lines now; the live view, JSON log and summary build on the same
// records). An event never carries a proxy password.
#pragma once
#include <functional>
#include <optional>
#include <string>

namespace netpen::events {

enum class kind {
  proxy_failed,  // the proxy handshake for a TCP flow failed: RST to the child
  denied,        // a flow was not allowed to leave (e.g. UDP/ICMP under --proxy-only)
};

struct event {
  kind what = kind::denied;
  std::string protocol;             // "tcp", "udp", "icmp"
  std::string source;               // "10.248.0.2:40000"
  std::string destination;          // "203.0.113.10:80", "[2001:db8::1]:443"
  std::optional<std::string> name;  // the destination's DNS name, when the tree looked it up
  std::string reason;               // a sentence for people
};

using sink = std::function<void(const event&)>;

std::string_view to_string(kind k);
// "proxy failed: tcp 10.248.0.2:40000 -> web.lab.test (203.0.113.10:80): proxy answered 403 Forbidden"
std::string to_text(const event& e);

}  // namespace netpen::events
