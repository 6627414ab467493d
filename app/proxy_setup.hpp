// From the command line's proxy settings to the relay's proxy_config: the
// credentials gathered (-U/-P, the URI, NETPEN_PROXY_PASSWORD, the password
// file) and the proxy's host name resolved here, on the host side, before
// the run starts (a name that does not resolve stops the run).
#pragma once
#include "app/run_config.hpp"
#include "net/common/error.hpp"
#include "net/proxy/proxy_config.hpp"

namespace netpen::app {

// Requires cfg.proxy.
result<proxy::proxy_config> make_proxy_config(const run_config& cfg);

}  // namespace netpen::app
