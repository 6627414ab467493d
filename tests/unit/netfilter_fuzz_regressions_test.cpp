// Netfilter message walk cases found by fuzz/fuzz_netfilter_messages.cpp,
// each with the input file that found it (fuzz/corpus/netfilter_messages/,
// replayed by every fuzz run).
#include <catch2/catch.hpp>

#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "net/netfilter/netlink_attrs.hpp"
#include "net/relay/l3_frame.hpp"

namespace nf = netpen::netfilter;

namespace {

std::vector<char> aligned(std::vector<std::uint8_t> bytes) {
  std::vector<char> out(bytes.size());
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

}  // namespace

// regress-nlmsg-len-2g: 17 bytes whose header claims nlmsg_len 0xfffefff9.
// libmnl's mnl_nlmsg_ok compares the length as an int (-65543 <= 17) and
// accepted it; mnl_nlmsg_next then stepped ~4 GiB past the buffer.
TEST_CASE("fuzz: a netlink header longer than 2 GiB does not fit the buffer", "[netfilter][fuzz]") {
  const auto buf = aligned({0xf9, 0xff, 0xfe, 0xff, 0x00, 0x00, 0x00, 0x0a, 0xf0, 0xf0, 0xf0, 0xf0, 0x00, 0x00, 0x00,
                            0xf0, 0xf0});
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
  CHECK_FALSE(nf::message_fits(nlh, static_cast<int>(buf.size())));
}

TEST_CASE("netlink message_fits: the header's length must lie within what is left", "[netfilter]") {
  std::vector<char> buf(64, 0);
  auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());
  nlh->nlmsg_len = 20;
  CHECK(nf::message_fits(nlh, 20));
  CHECK(nf::message_fits(nlh, 64));
  CHECK_FALSE(nf::message_fits(nlh, 19));
  CHECK_FALSE(nf::message_fits(nlh, 15));
  nlh->nlmsg_len = 15;  // shorter than a header
  CHECK_FALSE(nf::message_fits(nlh, 64));
  nlh->nlmsg_len = 0x80000000u;
  CHECK_FALSE(nf::message_fits(nlh, 64));
}

// An NLMSG_ERROR whose error field the kernel never sends (positive, or
// INT_MIN, which -error would overflow) is no answer. Found by
// fuzz_netfilter_messages (its oracle: an answer is never a negative errno).
TEST_CASE("fuzz: an NLMSG_ERROR with a positive or INT_MIN error is no answer", "[netfilter][fuzz]") {
  std::vector<char> buf(sizeof(nlmsghdr) + sizeof(nlmsgerr), 0);
  auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());
  nlh->nlmsg_len = static_cast<std::uint32_t>(buf.size());
  nlh->nlmsg_type = NLMSG_ERROR;
  auto* err = reinterpret_cast<nlmsgerr*>(buf.data() + sizeof(nlmsghdr));
  err->error = 0;
  CHECK(nf::ack_error(nlh) == 0);
  err->error = -1;
  CHECK(nf::ack_error(nlh) == 1);
  err->error = 5;
  CHECK_FALSE(nf::ack_error(nlh).has_value());
  err->error = std::numeric_limits<int>::min();
  CHECK_FALSE(nf::ack_error(nlh).has_value());
}

// regress-empty-payload: an NFQUEUE packet without NFQA_PAYLOAD has a null,
// empty payload span; the kernel gate's parse_l3 passed its null pointer to
// memcpy (undefined even for 0 bytes; UBSan in the fuzz build).
TEST_CASE("fuzz: the kernel gate's L3 parse of an empty payload is nullopt", "[netfilter][fuzz]") {
  std::vector<std::byte> scratch;
  CHECK_FALSE(netpen::relay::parse_l3({}, 0x0800, scratch).has_value());
  CHECK_FALSE(netpen::relay::parse_l3({}, 0x86dd, scratch).has_value());
}
