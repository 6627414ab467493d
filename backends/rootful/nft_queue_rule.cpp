// The tree's flow-gate rule, `ct state new counter queue num N`, written
// with libnftnl (see nft_queue_rule.hpp).
#include "backends/rootful/nft_queue_rule.hpp"

#include <libmnl/libmnl.h>
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

#include "backends/rootful/nft_libraries.hpp"

namespace netpen::backends::rootful {
namespace {

struct rule_free {
  const nftnl_api* nftnl;
  void operator()(nftnl_rule* r) const { nftnl->rule_free(r); }
};
struct socket_close {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

nftnl_expr* ct_state_to_reg1(const nftnl_api& nl) {
  auto* e = nl.expr_alloc("ct");
  nl.expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
  nl.expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  return e;
}

nftnl_expr* reg1_and(const nftnl_api& nl, std::uint32_t mask) {
  auto* e = nl.expr_alloc("bitwise");
  const std::uint32_t zero = 0;
  nl.expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nl.expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nl.expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof mask);
  nl.expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
  nl.expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
  return e;
}

nftnl_expr* reg1_not_zero(const nftnl_api& nl) {
  auto* e = nl.expr_alloc("cmp");
  const std::uint32_t zero = 0;
  nl.expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nl.expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
  nl.expr_set(e, NFTNL_EXPR_CMP_DATA, &zero, sizeof zero);
  return e;
}

// The kernel's nft `queue` expression is optional (CONFIG_NFT_QUEUE); the
// xtables NFQUEUE target through nft_compat is the same queue.
nftnl_expr* nfqueue_target(const nftnl_api& nl, std::uint16_t queue) {
  auto* e = nl.expr_alloc("target");
  auto* info = static_cast<xt_NFQ_info_v3*>(std::calloc(1, sizeof(xt_NFQ_info_v3)));
  info->queuenum = queue;
  info->queues_total = 1;
  info->flags = 0;  // no bypass: without netpen the packet is dropped
  nl.expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
  nl.expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
  nl.expr_set(e, NFTNL_EXPR_TG_INFO, info, sizeof *info);  // libnftnl takes the allocation
  return e;
}

}  // namespace

result<void> append_queue_rule(std::uint8_t family, const std::string& table, const std::string& chain,
                               std::uint16_t queue) {
  auto lib = nftnl_library();
  if (!lib) return unexpected<error>(lib.error());
  const nftnl_api& nl = **lib;
  std::unique_ptr<nftnl_rule, rule_free> rule(nl.rule_alloc(), rule_free{&nl});
  nl.rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, family);
  nl.rule_set_str(rule.get(), NFTNL_RULE_TABLE, table.c_str());
  nl.rule_set_str(rule.get(), NFTNL_RULE_CHAIN, chain.c_str());
  nl.rule_add_expr(rule.get(), ct_state_to_reg1(nl));
  nl.rule_add_expr(rule.get(), reg1_and(nl, NF_CT_STATE_BIT(IP_CT_NEW)));
  nl.rule_add_expr(rule.get(), reg1_not_zero(nl));
  nl.rule_add_expr(rule.get(), nl.expr_alloc("counter"));
  nl.rule_add_expr(rule.get(), nfqueue_target(nl, queue));

  std::unique_ptr<mnl_socket, socket_close> sock(mnl_socket_open(NETLINK_NETFILTER));
  if (!sock || mnl_socket_bind(sock.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    return fail("nft-queue-rule", fmt::format("cannot open a netfilter socket: {}", std::strerror(errno)));
  std::vector<char> buf(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE) * 2);
  auto seq = static_cast<std::uint32_t>(std::time(nullptr));
  mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(buf.data(), buf.size());
  nl.batch_begin(static_cast<char*>(mnl_nlmsg_batch_current(batch)), seq++);
  mnl_nlmsg_batch_next(batch);
  const std::uint32_t rule_seq = seq;
  nlmsghdr* nlh = nl.nlmsg_build_hdr(static_cast<char*>(mnl_nlmsg_batch_current(batch)), NFT_MSG_NEWRULE,
                                             family, NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, seq++);
  nl.rule_nlmsg_build_payload(nlh, rule.get());
  mnl_nlmsg_batch_next(batch);
  nl.batch_end(static_cast<char*>(mnl_nlmsg_batch_current(batch)), seq++);
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
