// NFQUEUE message building and parsing (see nfqueue_codec.hpp).
#include "net/netfilter/nfqueue_codec.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

#include "net/netfilter/netlink_attrs.hpp"

namespace netpen::netfilter {
namespace {

constexpr std::uint16_t queue_type(std::uint8_t msg) {
  return static_cast<std::uint16_t>((NFNL_SUBSYS_QUEUE << 8) | msg);
}

nlmsghdr* start(char* buf, std::uint8_t msg, std::uint16_t flags, std::uint32_t seq, std::uint16_t queue) {
  return detail::put_request(buf, queue_type(msg), flags, seq, AF_UNSPEC, queue);
}

std::uint32_t verdict_code(verdict v) {
  switch (v) {
    case verdict::accept: return NF_ACCEPT;
    case verdict::drop: return NF_DROP;
    case verdict::repeat: return NF_REPEAT;
  }
  return NF_DROP;
}

}  // namespace

nlmsghdr* build_queue_bind(char* buf, std::uint32_t seq, std::uint16_t queue) {
  nlmsghdr* nlh = start(buf, NFQNL_MSG_CONFIG, NLM_F_ACK, seq, queue);
  nfqnl_msg_config_cmd cmd{};
  cmd.command = NFQNL_CFG_CMD_BIND;
  cmd.pf = htons(AF_UNSPEC);
  mnl_attr_put(nlh, NFQA_CFG_CMD, sizeof cmd, &cmd);
  return nlh;
}

nlmsghdr* build_queue_params(char* buf, std::uint32_t seq, std::uint16_t queue, std::uint32_t copy_range,
                             std::uint32_t queue_maxlen) {
  nlmsghdr* nlh = start(buf, NFQNL_MSG_CONFIG, NLM_F_ACK, seq, queue);
  nfqnl_msg_config_params params{};
  params.copy_range = htonl(copy_range);
  params.copy_mode = NFQNL_COPY_PACKET;
  mnl_attr_put(nlh, NFQA_CFG_PARAMS, sizeof params, &params);
  mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(queue_maxlen));
  return nlh;
}

std::optional<queued_packet> parse_queued_packet(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != queue_type(NFQNL_MSG_PACKET)) return std::nullopt;
  const nfgenmsg* nfg = detail::nfgen_header(nlh);
  if (nfg == nullptr) return std::nullopt;
  std::array<const nlattr*, NFQA_MAX + 1> attrs{};
  if (!detail::index_message(nlh, attrs)) return std::nullopt;

  const auto hdr_bytes = detail::payload(attrs[NFQA_PACKET_HDR]);
  if (hdr_bytes.size() != sizeof(nfqnl_msg_packet_hdr)) return std::nullopt;
  nfqnl_msg_packet_hdr hdr{};
  std::memcpy(&hdr, hdr_bytes.data(), sizeof hdr);

  queued_packet p;
  p.queue = ntohs(nfg->res_id);
  p.id = ntohl(hdr.packet_id);
  p.hw_protocol = ntohs(hdr.hw_protocol);
  p.hook = hdr.hook;
  if (attrs[NFQA_MARK] != nullptr) {
    const auto mark = detail::get_be32(attrs[NFQA_MARK]);
    if (!mark) return std::nullopt;
    p.mark = *mark;
  }
  p.payload = detail::payload(attrs[NFQA_PAYLOAD]);
  return p;
}

nlmsghdr* build_verdict(char* buf, std::uint16_t queue, std::uint32_t id, verdict v,
                        std::optional<std::uint32_t> mark) {
  nlmsghdr* nlh = start(buf, NFQNL_MSG_VERDICT, 0, 0, queue);
  nfqnl_msg_verdict_hdr vh{};
  vh.verdict = htonl(verdict_code(v));
  vh.id = htonl(id);
  mnl_attr_put(nlh, NFQA_VERDICT_HDR, sizeof vh, &vh);
  if (mark) mnl_attr_put_u32(nlh, NFQA_MARK, htonl(*mark));
  return nlh;
}

}  // namespace netpen::netfilter
