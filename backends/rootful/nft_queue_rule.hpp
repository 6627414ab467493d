// The tree's flow-gate rule: `ct state new counter queue num N` appended to
// a chain of the tree's own table. Written with libnftnl and the xtables
// NFQUEUE target (nft_compat), because kernels may lack nft's own `queue`
// expression (CONFIG_NFT_QUEUE unset, as here) while having the target.
// Runs in the calling thread's network namespace.
#pragma once
#include <cstdint>
#include <string>

#include "net/common/error.hpp"

namespace netpen::backends::rootful {

// family: NFPROTO_INET / NFPROTO_IPV4 / NFPROTO_IPV6.
result<void> append_queue_rule(std::uint8_t family, const std::string& table, const std::string& chain,
                               std::uint16_t queue);

}  // namespace netpen::backends::rootful
