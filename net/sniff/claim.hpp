// What a connection's own first bytes say about where it is going: the
// name a TLS ClientHello (or a QUIC Initial's) asks for with its ALPN list,
// or a plain HTTP/1.x request's method, Host and path. Filled by the
// sniffers (stream_sniffer for TCP, quic_sniffer for UDP), carried in a
// flow's record, judged by the policy (policy::on_claim) and shown in every
// output. Plain data, no I/O.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace netpen::sniff {

enum class claim_protocol {
  none,  // nothing recognised (yet): SSH, a database, a server that speaks first
  tls,   // a TLS ClientHello
  http,  // an HTTP/1.x request head
  quic,  // a QUIC v1 Initial carrying a ClientHello
};

struct claim {
  claim_protocol protocol = claim_protocol::none;
  // TLS/QUIC: the server_name (host_name) asked for: lowercase, without a
  // trailing dot; empty when the ClientHello names none or names an IP
  // literal. With ECH this is the outer (public) name.
  std::string sni;
  std::vector<std::string> alpn;  // TLS/QUIC: the protocols offered, in order (GREASE values left out)
  bool ech = false;               // the ClientHello carries encrypted_client_hello
  // HTTP/1.x: the request line's method; Host without its port (lowercase,
  // no trailing dot; empty for an IP literal or no Host); the path without
  // its query string or fragment (the query is never kept).
  std::string http_method, http_host, http_path;

  // The name the connection claims: sni, else http_host; empty if none.
  std::string_view name() const { return !sni.empty() ? std::string_view(sni) : std::string_view(http_host); }
  bool empty() const { return protocol == claim_protocol::none; }
};

// "tls", "http", "quic", "" (none).
std::string_view to_string(claim_protocol p);

}  // namespace netpen::sniff
