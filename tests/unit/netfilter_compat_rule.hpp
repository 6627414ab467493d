// Test helper for netfilter_kernel_test: appends a rule holding only the
// x_tables NFQUEUE target (through nft_compat) to an existing nftables chain
// of an `ip` table. For kernels built without nft_queue (CONFIG_NFT_QUEUE),
// where `nft ... queue num N` fails. A raw nfnetlink batch via libmnl.
#pragma once
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <poll.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

namespace netfilter_test {

inline nlmsghdr* put_nfnl(char* at, std::uint16_t type, std::uint16_t flags, std::uint32_t seq, std::uint8_t family,
                          std::uint16_t res_id) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(at);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons(res_id);
  return nlh;
}

// 0 on success, else the errno the kernel (or the socket) reported.
inline int append_compat_nfqueue_rule(const char* table, const char* chain, std::uint16_t queue) {
  std::vector<char> buf(8192);
  char* at = buf.data();
  nlmsghdr* begin = put_nfnl(at, NFNL_MSG_BATCH_BEGIN, 0, 1, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  at += begin->nlmsg_len;
  nlmsghdr* rule = put_nfnl(at, static_cast<std::uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE),
                            NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, 2, NFPROTO_IPV4, 0);
  mnl_attr_put_strz(rule, NFTA_RULE_TABLE, table);
  mnl_attr_put_strz(rule, NFTA_RULE_CHAIN, chain);
  nlattr* exprs = mnl_attr_nest_start(rule, NFTA_RULE_EXPRESSIONS);
  nlattr* elem = mnl_attr_nest_start(rule, NFTA_LIST_ELEM);
  mnl_attr_put_strz(rule, NFTA_EXPR_NAME, "target");
  nlattr* data = mnl_attr_nest_start(rule, NFTA_EXPR_DATA);
  mnl_attr_put_strz(rule, NFTA_TARGET_NAME, "NFQUEUE");
  mnl_attr_put_u32(rule, NFTA_TARGET_REV, htonl(3));
  std::array<std::uint8_t, 8> info{};  // XT_ALIGN(sizeof(xt_NFQ_info_v3))
  xt_NFQ_info_v3 v3{};
  v3.queuenum = queue;  // x_tables structures are in host order
  v3.queues_total = 1;
  std::memcpy(info.data(), &v3, sizeof v3);
  mnl_attr_put(rule, NFTA_TARGET_INFO, info.size(), info.data());
  mnl_attr_nest_end(rule, data);
  mnl_attr_nest_end(rule, elem);
  mnl_attr_nest_end(rule, exprs);
  at += rule->nlmsg_len;
  nlmsghdr* end = put_nfnl(at, NFNL_MSG_BATCH_END, 0, 3, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  at += end->nlmsg_len;

  mnl_socket* s = mnl_socket_open(NETLINK_NETFILTER);
  if (s == nullptr) return errno;
  int result = ETIMEDOUT;
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0 ||
      mnl_socket_sendto(s, buf.data(), static_cast<std::size_t>(at - buf.data())) < 0) {
    result = errno;
  } else {
    pollfd p{mnl_socket_get_fd(s), POLLIN, 0};
    std::vector<char> rx(8192);
    while (result == ETIMEDOUT && ::poll(&p, 1, 2000) == 1) {
      const ssize_t n = mnl_socket_recvfrom(s, rx.data(), rx.size());
      if (n < 0) {
        result = errno;
        break;
      }
      int left = static_cast<int>(n);
      for (auto* nlh = reinterpret_cast<const nlmsghdr*>(rx.data()); mnl_nlmsg_ok(nlh, left);
           nlh = mnl_nlmsg_next(nlh, &left)) {
        if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq != 2) continue;
        nlmsgerr err{};
        std::memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof err);
        result = -err.error;
      }
    }
  }
  mnl_socket_close(s);
  return result;
}

}  // namespace netfilter_test
