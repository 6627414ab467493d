// The tree's flow-gate rule, `ct state new counter queue num N`, written
// with libnftnl (see nft_queue_rule.hpp).
#include "backends/rootful/nft_queue_rule.hpp"

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include <fmt/format.h>

namespace netpen::backends::rootful {
namespace {

struct rule_free {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
struct socket_close {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

nftnl_expr* ct_state_to_reg1() {
  auto* e = nftnl_expr_alloc("ct");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  return e;
}

nftnl_expr* reg1_and(std::uint32_t mask) {
  auto* e = nftnl_expr_alloc("bitwise");
  const std::uint32_t zero = 0;
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof mask);
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
  return e;
}

nftnl_expr* reg1_not_zero() {
  auto* e = nftnl_expr_alloc("cmp");
  const std::uint32_t zero = 0;
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &zero, sizeof zero);
  return e;
}

// The kernel's nft `queue` expression is optional (CONFIG_NFT_QUEUE); the
// xtables NFQUEUE target through nft_compat is the same queue.
nftnl_expr* nfqueue_target(std::uint16_t queue) {
  auto* e = nftnl_expr_alloc("target");
  auto* info = static_cast<xt_NFQ_info_v3*>(std::calloc(1, sizeof(xt_NFQ_info_v3)));
  info->queuenum = queue;
  info->queues_total = 1;
  info->flags = 0;  // no bypass: without netpen the packet is dropped
  nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
  nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
  nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, sizeof *info);  // libnftnl takes the allocation
  return e;
}

}  // namespace

result<void> append_queue_rule(std::uint8_t family, const std::string& table, const std::string& chain,
                               std::uint16_t queue) {
  std::unique_ptr<nftnl_rule, rule_free> rule(nftnl_rule_alloc());
  nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, family);
  nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, chain.c_str());
  nftnl_rule_add_expr(rule.get(), ct_state_to_reg1());
  nftnl_rule_add_expr(rule.get(), reg1_and(NF_CT_STATE_BIT(IP_CT_NEW)));
  nftnl_rule_add_expr(rule.get(), reg1_not_zero());
  nftnl_rule_add_expr(rule.get(), nftnl_expr_alloc("counter"));
  nftnl_rule_add_expr(rule.get(), nfqueue_target(queue));

  std::unique_ptr<mnl_socket, socket_close> sock(mnl_socket_open(NETLINK_NETFILTER));
  if (!sock || mnl_socket_bind(sock.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    return fail("nft-queue-rule", fmt::format("cannot open a netfilter socket: {}", std::strerror(errno)));
  std::vector<char> buf(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE) * 2);
  auto seq = static_cast<std::uint32_t>(std::time(nullptr));
  mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(buf.data(), buf.size());
  nftnl_batch_begin(static_cast<char*>(mnl_nlmsg_batch_current(batch)), seq++);
  mnl_nlmsg_batch_next(batch);
  const std::uint32_t rule_seq = seq;
  nlmsghdr* nlh = nftnl_rule_nlmsg_build_hdr(static_cast<char*>(mnl_nlmsg_batch_current(batch)), NFT_MSG_NEWRULE,
                                             family, NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, seq++);
  nftnl_rule_nlmsg_build_payload(nlh, rule.get());
  mnl_nlmsg_batch_next(batch);
  nftnl_batch_end(static_cast<char*>(mnl_nlmsg_batch_current(batch)), seq++);
  mnl_nlmsg_batch_next(batch);
  const auto sent = mnl_socket_sendto(sock.get(), mnl_nlmsg_batch_head(batch), mnl_nlmsg_batch_size(batch));
  mnl_nlmsg_batch_stop(batch);
  if (sent < 0) return fail("nft-queue-rule", fmt::format("sending the flow-gate rule: {}", std::strerror(errno)));
  std::vector<char> rx(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE));
  const auto n = mnl_socket_recvfrom(sock.get(), rx.data(), rx.size());
  if (n < 0) return fail("nft-queue-rule", fmt::format("reading the kernel's answer: {}", std::strerror(errno)));
  if (mnl_cb_run(rx.data(), static_cast<std::size_t>(n), rule_seq, mnl_socket_get_portid(sock.get()), nullptr,
                 nullptr) < 0)
    return fail("nft-queue-rule",
                fmt::format("the kernel refused the flow-gate rule (NFQUEUE through nft_compat): {}", std::strerror(errno)));
  return {};
}

}  // namespace netpen::backends::rootful
