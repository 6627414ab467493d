// Unit tests for the NFQUEUE codec (net/netfilter/nfqueue_codec.hpp): kernel-
// shaped packet messages built with libmnl are parsed, requests are decoded
// field by field, malformed messages are refused.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include <array>
#include <cstring>
#include <vector>

#include "net/netfilter/netlink_attrs.hpp"
#include "net/netfilter/nfqueue_codec.hpp"

namespace nf = netpen::netfilter;

namespace {

constexpr std::uint16_t queue_msg(std::uint8_t m) { return static_cast<std::uint16_t>((NFNL_SUBSYS_QUEUE << 8) | m); }

struct message_buffer {
  std::vector<char> bytes = std::vector<char>(nf::request_buffer_size);
  char* data() { return bytes.data(); }
};

nlmsghdr* kernel_packet_message(message_buffer& buf, std::uint16_t queue, std::uint32_t id,
                                std::optional<std::uint32_t> mark, const std::vector<std::uint8_t>& payload) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = queue_msg(NFQNL_MSG_PACKET);
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons(queue);
  nfqnl_msg_packet_hdr hdr{};
  hdr.packet_id = htonl(id);
  hdr.hw_protocol = htons(ETH_P_IP);
  hdr.hook = NF_INET_LOCAL_OUT;
  mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof hdr, &hdr);
  if (mark) mnl_attr_put_u32(nlh, NFQA_MARK, htonl(*mark));
  mnl_attr_put_u32(nlh, NFQA_IFINDEX_OUTDEV, htonl(1));  // an attribute the parser does not use
  mnl_attr_put(nlh, NFQA_PAYLOAD, payload.size(), payload.data());
  return nlh;
}

const std::vector<std::uint8_t> sample_payload = {0x45, 0, 0, 29, 0, 1, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127,
                                                  0,    0, 1, 0x30, 0x39, 0x27, 0x0f, 0, 9, 0, 0, 'x'};

// The attribute of `type` directly after the nfgenmsg header.
const nlattr* find_attr(const nlmsghdr* nlh, std::uint16_t type) {
  const nlattr* found = nullptr;
  const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  while (mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
    if (mnl_attr_get_type(attr) == type) found = attr;
    attr = mnl_attr_next(attr);
  }
  return found;
}

const nfgenmsg& nfg_of(const nlmsghdr* nlh) { return *static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh)); }

}  // namespace

TEST_CASE("nfqueue: a queued packet is parsed with id, protocol, hook, mark and payload", "[netfilter]") {
  message_buffer buf;
  const nlmsghdr* nlh = kernel_packet_message(buf, 3, 0x01020304, 0xdeadbeef, sample_payload);
  const auto p = nf::parse_queued_packet(nlh);
  REQUIRE(p);
  CHECK(p->queue == 3);
  CHECK(p->id == 0x01020304);
  CHECK(p->hw_protocol == ETH_P_IP);
  CHECK(p->hook == NF_INET_LOCAL_OUT);
  CHECK(p->mark == 0xdeadbeef);
  REQUIRE(p->payload.size() == sample_payload.size());
  CHECK(std::memcmp(p->payload.data(), sample_payload.data(), sample_payload.size()) == 0);
}

TEST_CASE("nfqueue: a packet without mark or payload still parses", "[netfilter]") {
  message_buffer buf;
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = queue_msg(NFQNL_MSG_PACKET);
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->res_id = htons(7);
  nfqnl_msg_packet_hdr hdr{};
  hdr.packet_id = htonl(9);
  hdr.hw_protocol = htons(ETH_P_IPV6);
  mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof hdr, &hdr);
  const auto p = nf::parse_queued_packet(nlh);
  REQUIRE(p);
  CHECK(p->queue == 7);
  CHECK(p->id == 9);
  CHECK(p->hw_protocol == ETH_P_IPV6);
  CHECK(p->mark == 0);
  CHECK(p->payload.empty());
}

TEST_CASE("nfqueue: other messages are not packets", "[netfilter]") {
  message_buffer buf;
  nlmsghdr* nlh = kernel_packet_message(buf, 3, 1, std::nullopt, sample_payload);
  nlh->nlmsg_type = queue_msg(NFQNL_MSG_CONFIG);
  CHECK_FALSE(nf::parse_queued_packet(nlh));
  nlh->nlmsg_type = NLMSG_ERROR;
  CHECK_FALSE(nf::parse_queued_packet(nlh));
  nlh->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | NFQNL_MSG_PACKET);
  CHECK_FALSE(nf::parse_queued_packet(nlh));
}

TEST_CASE("nfqueue: malformed packet messages give nullopt", "[netfilter]") {
  message_buffer buf;
  SECTION("no packet header") {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = queue_msg(NFQNL_MSG_PACKET);
    mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg));
    mnl_attr_put(nlh, NFQA_PAYLOAD, sample_payload.size(), sample_payload.data());
    CHECK_FALSE(nf::parse_queued_packet(nlh));
  }
  SECTION("packet header of the wrong size") {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = queue_msg(NFQNL_MSG_PACKET);
    mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg));
    const std::array<std::uint8_t, 4> short_hdr{0, 0, 0, 1};
    mnl_attr_put(nlh, NFQA_PACKET_HDR, short_hdr.size(), short_hdr.data());
    CHECK_FALSE(nf::parse_queued_packet(nlh));
  }
  SECTION("mark of the wrong size") {
    nlmsghdr* nlh = kernel_packet_message(buf, 3, 1, std::nullopt, sample_payload);
    mnl_attr_put_u16(nlh, NFQA_MARK, 5);
    CHECK_FALSE(nf::parse_queued_packet(nlh));
  }
  SECTION("message too short for the nfgenmsg") {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = queue_msg(NFQNL_MSG_PACKET);
    CHECK_FALSE(nf::parse_queued_packet(nlh));
  }
  SECTION("every truncation of a good message") {
    nlmsghdr* nlh = kernel_packet_message(buf, 3, 1, 2, sample_payload);
    const std::uint32_t full = nlh->nlmsg_len;
    const std::uint32_t attrs_start = sizeof(nlmsghdr) + sizeof(nfgenmsg);
    for (std::uint32_t len = 0; len < full; ++len) {
      nlh->nlmsg_len = len;
      const auto p = nf::parse_queued_packet(nlh);
      // Cutting exactly between attributes leaves a shorter, valid message;
      // anything else inside an attribute is refused.
      if (p) {
        CHECK(len >= attrs_start);
        CHECK(p->payload.size() <= sample_payload.size());
      }
    }
    nlh->nlmsg_len = full;
    const auto* payload_attr = find_attr(nlh, NFQA_PAYLOAD);
    REQUIRE(payload_attr != nullptr);
    const auto payload_end = static_cast<std::uint32_t>(reinterpret_cast<const char*>(payload_attr) -
                                                        reinterpret_cast<const char*>(nlh) + payload_attr->nla_len);
    nlh->nlmsg_len = payload_end - 1;  // one byte off the payload attribute
    CHECK_FALSE(nf::parse_queued_packet(nlh));
    nlh->nlmsg_len = payload_end;  // without the last attribute's padding
    CHECK(nf::parse_queued_packet(nlh));
    nlh->nlmsg_len = full;
    CHECK(nf::parse_queued_packet(nlh));
  }
  SECTION("an attribute whose length runs past the message") {
    nlmsghdr* nlh = kernel_packet_message(buf, 3, 1, std::nullopt, sample_payload);
    auto* payload_attr = const_cast<nlattr*>(find_attr(nlh, NFQA_PAYLOAD));
    REQUIRE(payload_attr != nullptr);
    payload_attr->nla_len = static_cast<std::uint16_t>(payload_attr->nla_len + 8);
    CHECK_FALSE(nf::parse_queued_packet(nlh));
    payload_attr->nla_len = 2;  // shorter than an attribute header
    CHECK_FALSE(nf::parse_queued_packet(nlh));
  }
}

TEST_CASE("nfqueue: the bind request", "[netfilter]") {
  message_buffer buf;
  const nlmsghdr* nlh = nf::build_queue_bind(buf.data(), 42, 3);
  CHECK(nlh->nlmsg_type == queue_msg(NFQNL_MSG_CONFIG));
  CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
  CHECK(nlh->nlmsg_seq == 42);
  CHECK(nfg_of(nlh).nfgen_family == AF_UNSPEC);
  CHECK(nfg_of(nlh).version == NFNETLINK_V0);
  CHECK(ntohs(nfg_of(nlh).res_id) == 3);
  const nlattr* cmd_attr = find_attr(nlh, NFQA_CFG_CMD);
  REQUIRE(cmd_attr != nullptr);
  REQUIRE(mnl_attr_get_payload_len(cmd_attr) == sizeof(nfqnl_msg_config_cmd));
  nfqnl_msg_config_cmd cmd{};
  std::memcpy(&cmd, mnl_attr_get_payload(cmd_attr), sizeof cmd);
  CHECK(cmd.command == NFQNL_CFG_CMD_BIND);
  CHECK(ntohs(cmd.pf) == AF_UNSPEC);
  CHECK(find_attr(nlh, NFQA_CFG_PARAMS) == nullptr);
}

TEST_CASE("nfqueue: the params request copies packets, sets maxlen, never fails open", "[netfilter]") {
  message_buffer buf;
  const nlmsghdr* nlh = nf::build_queue_params(buf.data(), 43, 3, 256, 1000);
  CHECK(nlh->nlmsg_type == queue_msg(NFQNL_MSG_CONFIG));
  CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
  CHECK(nlh->nlmsg_seq == 43);
  CHECK(ntohs(nfg_of(nlh).res_id) == 3);
  const nlattr* params_attr = find_attr(nlh, NFQA_CFG_PARAMS);
  REQUIRE(params_attr != nullptr);
  REQUIRE(mnl_attr_get_payload_len(params_attr) == sizeof(nfqnl_msg_config_params));
  nfqnl_msg_config_params params{};
  std::memcpy(&params, mnl_attr_get_payload(params_attr), sizeof params);
  CHECK(ntohl(params.copy_range) == 256);
  CHECK(params.copy_mode == NFQNL_COPY_PACKET);
  const nlattr* maxlen = find_attr(nlh, NFQA_CFG_QUEUE_MAXLEN);
  REQUIRE(maxlen != nullptr);
  CHECK(ntohl(mnl_attr_get_u32(maxlen)) == 1000);
  CHECK(find_attr(nlh, NFQA_CFG_FLAGS) == nullptr);
  CHECK(find_attr(nlh, NFQA_CFG_MASK) == nullptr);
  CHECK(find_attr(nlh, NFQA_CFG_CMD) == nullptr);
  CHECK(ntohl(mnl_attr_get_u32(find_attr(nf::build_queue_params(buf.data(), 1, 3, 256), NFQA_CFG_QUEUE_MAXLEN))) ==
        nf::default_queue_maxlen);
}

TEST_CASE("nfqueue: verdicts", "[netfilter]") {
  message_buffer buf;
  const auto decode = [](const nlmsghdr* nlh) {
    const nlattr* a = find_attr(nlh, NFQA_VERDICT_HDR);
    REQUIRE(a != nullptr);
    REQUIRE(mnl_attr_get_payload_len(a) == sizeof(nfqnl_msg_verdict_hdr));
    nfqnl_msg_verdict_hdr vh{};
    std::memcpy(&vh, mnl_attr_get_payload(a), sizeof vh);
    return std::pair{ntohl(vh.verdict), ntohl(vh.id)};
  };
  const nlmsghdr* nlh = nf::build_verdict(buf.data(), 3, 77, nf::verdict::accept);
  CHECK(nlh->nlmsg_type == queue_msg(NFQNL_MSG_VERDICT));
  CHECK(nlh->nlmsg_flags == NLM_F_REQUEST);
  CHECK(ntohs(nfg_of(nlh).res_id) == 3);
  CHECK(decode(nlh) == std::pair<std::uint32_t, std::uint32_t>{NF_ACCEPT, 77});
  CHECK(find_attr(nlh, NFQA_MARK) == nullptr);

  nlh = nf::build_verdict(buf.data(), 3, 78, nf::verdict::drop);
  CHECK(decode(nlh) == std::pair<std::uint32_t, std::uint32_t>{NF_DROP, 78});

  nlh = nf::build_verdict(buf.data(), 65535, 0xfffffffe, nf::verdict::repeat, 0x10);
  CHECK(ntohs(nfg_of(nlh).res_id) == 65535);
  CHECK(decode(nlh) == std::pair<std::uint32_t, std::uint32_t>{NF_REPEAT, 0xfffffffe});
  const nlattr* mark = find_attr(nlh, NFQA_MARK);
  REQUIRE(mark != nullptr);
  REQUIRE(mnl_attr_get_payload_len(mark) == 4);
  CHECK(ntohl(mnl_attr_get_u32(mark)) == 0x10);
}

TEST_CASE("nfqueue: ack_error reads ACKs and refusals", "[netfilter]") {
  message_buffer buf;
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = NLMSG_ERROR;
  auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
  err->error = 0;
  CHECK(nf::ack_error(nlh) == 0);
  err->error = -EBUSY;
  CHECK(nf::ack_error(nlh) == EBUSY);
  nlh->nlmsg_len = sizeof(nlmsghdr) + 2;
  CHECK_FALSE(nf::ack_error(nlh));
  nlh = kernel_packet_message(buf, 3, 1, std::nullopt, sample_payload);
  CHECK_FALSE(nf::ack_error(nlh));
}
