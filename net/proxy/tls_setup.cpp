// TLS client setup for https:// proxies (see tls_setup.hpp).
#include "net/proxy/tls_setup.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

namespace netpen::proxy {

result<std::shared_ptr<asio::ssl::context>> make_tls_context(bool insecure) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  asio::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1,
                   ec);
  ctx->set_default_verify_paths(ec);
  if (ec) return fail("proxy-tls", "cannot load the system's trusted certificates: " + ec.message());
  ctx->set_verify_mode(asio::ssl::verify_peer, ec);
  if (insecure) {
    // Accept what the chain says, except a certificate that is not for the
    // proxy's name: OpenSSL reports the name check through this callback too.
    ctx->set_verify_callback(
        [](bool preverified, asio::ssl::verify_context& vc) {
          if (preverified) return true;
          const int err = X509_STORE_CTX_get_error(vc.native_handle());
          return err != X509_V_ERR_HOSTNAME_MISMATCH && err != X509_V_ERR_IP_ADDRESS_MISMATCH;
        },
        ec);
  }
  if (ec) return fail("proxy-tls", "cannot set up TLS: " + ec.message());
  return ctx;
}

result<void> expect_peer(SSL* ssl, const std::string& host, bool host_is_name) {
  if (host_is_name) {
    // SSL_set_tlsext_host_name() spelled out: the macro's C cast trips -Wold-style-cast.
    const long sni = SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                              const_cast<char*>(host.c_str()));
    if (sni != 1 || SSL_set1_host(ssl, host.c_str()) != 1)
      return fail("proxy-tls", "cannot set the proxy's name for TLS");
  } else if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1) {
    return fail("proxy-tls", "cannot set the proxy's address for TLS");
  }
  return {};
}

std::string verify_failure(SSL* ssl) {
  const long rc = SSL_get_verify_result(ssl);
  if (rc == X509_V_OK) return {};
  return X509_verify_cert_error_string(rc);
}

}  // namespace netpen::proxy
