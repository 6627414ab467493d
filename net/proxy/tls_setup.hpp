// TLS toward an https:// proxy: one client context per run (the system
// trust store; SSL_CERT_FILE / SSL_CERT_DIR are honoured by OpenSSL), and
// per connection SNI plus the host name (or IP) check. --proxy-insecure
// skips chain trust only: a certificate for another name is still refused.
#pragma once
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

#include <memory>
#include <string>

#include "net/common/error.hpp"

namespace netpen::proxy {

result<std::shared_ptr<asio::ssl::context>> make_tls_context(bool insecure);

// Before the handshake: SNI (names only) and the name the certificate must carry.
result<void> expect_peer(SSL* ssl, const std::string& host, bool host_is_name);

// Why the certificate was refused, when it was ("certificate has expired").
std::string verify_failure(SSL* ssl);

}  // namespace netpen::proxy
