// libFuzzer target: the netfilter message decoders (net/netfilter) on what
// one recv() from a netfilter netlink socket may hold: NFQUEUE packets,
// conntrack events and dump entries, NFLOG packets, ACKs and errors. The
// input is split into messages as netfilter_socket does (message_fits /
// mnl_nlmsg_next) and each message goes through every decoder; a packet's
// payload then goes through the kernel gate's L3 parse (relay parse_l3).
// Oracles besides the sanitizers: payload spans lie inside their message;
// a decoded message has the type its decoder is for; an ACK's error is a
// non-negative errno.
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz/fuzz_require.hpp"
#include "net/netfilter/conntrack_codec.hpp"
#include "net/netfilter/netlink_attrs.hpp"
#include "net/netfilter/nflog_codec.hpp"
#include "net/netfilter/nfqueue_codec.hpp"
#include "net/relay/l3_frame.hpp"

namespace {

namespace nf = netpen::netfilter;

bool inside(std::span<const std::byte> s, const nlmsghdr* nlh) {
  const auto* begin = reinterpret_cast<const std::byte*>(nlh);
  return s.empty() || (s.data() >= begin && s.data() + s.size() <= begin + nlh->nlmsg_len);
}

void l3(std::span<const std::byte> payload, std::uint16_t hw_protocol) {
  std::vector<std::byte> scratch;
  if (auto f = netpen::relay::parse_l3(payload, hw_protocol, scratch)) FUZZ_REQUIRE(!f->ip_packet.empty());
}

void one_message(const nlmsghdr* nlh) {
  if (auto e = nf::ack_error(nlh)) FUZZ_REQUIRE(*e >= 0 && nlh->nlmsg_type == NLMSG_ERROR);
  if (auto p = nf::parse_queued_packet(nlh)) {
    FUZZ_REQUIRE(NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_QUEUE && inside(p->payload, nlh));
    l3(p->payload, p->hw_protocol);
  }
  if (auto p = nf::parse_logged_packet(nlh)) {
    FUZZ_REQUIRE(NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_ULOG && inside(p->payload, nlh));
    l3(p->payload, p->hw_protocol);
  }
  if (auto c = nf::parse_conntrack(nlh)) FUZZ_REQUIRE(NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_CTNETLINK);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A recv() buffer is aligned; so is this copy (operator new), and it is
  // exactly the input's size, so ASan sees any read past its end.
  const std::vector<char> exact(data, data + size);
  int left = static_cast<int>(size);
  for (auto* nlh = reinterpret_cast<const nlmsghdr*>(exact.data()); nf::message_fits(nlh, left);
       nlh = mnl_nlmsg_next(nlh, &left))
    one_message(nlh);
  return 0;
}
