// Unit tests for the rtnetlink requests the rootless backend sends (built in
// backends/common/rtnetlink.hpp): header fields and attributes of link,
// address, route and neighbour messages.
#include <catch2/catch.hpp>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cstring>
#include <map>
#include <vector>

#include "backends/common/rtnetlink.hpp"

using namespace netpen::backends;

namespace {

using attrs = std::map<std::uint16_t, std::vector<std::uint8_t>>;

attrs collect(const nlmsghdr* nlh, std::size_t header_len) {
  attrs out;
  mnl_attr_parse(
      nlh, static_cast<unsigned>(header_len),
      [](const nlattr* a, void* data) {
        auto* m = static_cast<attrs*>(data);
        const auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(a));
        (*m)[mnl_attr_get_type(a)] = std::vector<std::uint8_t>(p, p + mnl_attr_get_payload_len(a));
        return MNL_CB_OK;
      },
      &out);
  return out;
}

std::uint32_t as_u32(const std::vector<std::uint8_t>& v) {
  std::uint32_t x = 0;
  REQUIRE(v.size() == 4);
  std::memcpy(&x, v.data(), 4);
  return x;
}

std::vector<char> buffer() { return std::vector<char>(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE)); }

}  // namespace

TEST_CASE("link set carries up, MAC, MTU and txqueuelen", "[rootless]") {
  auto buf = buffer();
  const mac_address mac{2, 0x6e, 0x70, 0, 0, 2};
  const nlmsghdr* nlh = build_link_set(buf.data(), 7, {.ifindex = 3, .up = true, .mtu = 65520, .txqlen = 10000, .mac = &mac});
  CHECK(nlh->nlmsg_type == RTM_NEWLINK);
  CHECK(nlh->nlmsg_seq == 7);
  CHECK((nlh->nlmsg_flags & NLM_F_ACK) != 0);
  const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  CHECK(ifm->ifi_index == 3);
  CHECK((ifm->ifi_flags & IFF_UP) != 0);
  CHECK((ifm->ifi_change & IFF_UP) != 0);
  auto a = collect(nlh, sizeof(ifinfomsg));
  CHECK(as_u32(a.at(IFLA_MTU)) == 65520);
  CHECK(as_u32(a.at(IFLA_TXQLEN)) == 10000);
  CHECK(a.at(IFLA_ADDRESS) == std::vector<std::uint8_t>(mac.begin(), mac.end()));

  const nlmsghdr* lo = build_link_set(buf.data(), 8, {.ifindex = 1});
  auto b = collect(lo, sizeof(ifinfomsg));
  CHECK(b.empty());
}

TEST_CASE("IPv6 address request has prefix and NODAD", "[rootless]") {
  auto buf = buffer();
  const std::array<std::uint8_t, 16> addr{0xfd, 0x6e, 0x70, 0x65, 0x6e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  const nlmsghdr* nlh = build_addr_add(buf.data(), 1, 4, AF_INET6, addr, 64, IFA_F_NODAD);
  CHECK(nlh->nlmsg_type == RTM_NEWADDR);
  CHECK((nlh->nlmsg_flags & NLM_F_CREATE) != 0);
  const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
  CHECK(ifa->ifa_family == AF_INET6);
  CHECK(ifa->ifa_prefixlen == 64);
  CHECK(ifa->ifa_index == 4);
  auto a = collect(nlh, sizeof(ifaddrmsg));
  CHECK(a.at(IFA_LOCAL) == std::vector<std::uint8_t>(addr.begin(), addr.end()));
  CHECK(as_u32(a.at(IFA_FLAGS)) == IFA_F_NODAD);
}

TEST_CASE("default route goes via the gateway on the tap", "[rootless]") {
  auto buf = buffer();
  const std::array<std::uint8_t, 4> gw{10, 248, 0, 1};
  const nlmsghdr* nlh = build_default_route(buf.data(), 2, 5, AF_INET, gw);
  CHECK(nlh->nlmsg_type == RTM_NEWROUTE);
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
  CHECK(rtm->rtm_dst_len == 0);
  CHECK(rtm->rtm_table == RT_TABLE_MAIN);
  CHECK(rtm->rtm_type == RTN_UNICAST);
  auto a = collect(nlh, sizeof(rtmsg));
  CHECK(a.at(RTA_GATEWAY) == std::vector<std::uint8_t>(gw.begin(), gw.end()));
  CHECK(as_u32(a.at(RTA_OIF)) == 5);
}

TEST_CASE("gateway neighbour is permanent with the gateway MAC", "[rootless]") {
  auto buf = buffer();
  const std::array<std::uint8_t, 4> gw{10, 248, 0, 1};
  const mac_address mac{2, 0x6e, 0x70, 0, 0, 1};
  const nlmsghdr* nlh = build_neigh_permanent(buf.data(), 3, 6, AF_INET, gw, mac);
  CHECK(nlh->nlmsg_type == RTM_NEWNEIGH);
  const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
  CHECK(ndm->ndm_state == NUD_PERMANENT);
  CHECK(ndm->ndm_ifindex == 6);
  auto a = collect(nlh, sizeof(ndmsg));
  CHECK(a.at(NDA_DST) == std::vector<std::uint8_t>(gw.begin(), gw.end()));
  CHECK(a.at(NDA_LLADDR) == std::vector<std::uint8_t>(mac.begin(), mac.end()));
}

TEST_CASE("link set can turn off IPv6 link-local generation, nested under IFLA_AF_SPEC", "[rootless]") {
  auto buf = buffer();
  const nlmsghdr* nlh = build_link_set(buf.data(), 9, {.ifindex = 2, .up = false, .no_ipv6_link_local = true});
  const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  CHECK((ifm->ifi_flags & IFF_UP) == 0);
  CHECK((ifm->ifi_change & IFF_UP) != 0);
  auto a = collect(nlh, sizeof(ifinfomsg));
  REQUIRE(a.count(IFLA_AF_SPEC) == 1);
  // IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE: u8 none } }
  const auto& spec = a.at(IFLA_AF_SPEC);
  REQUIRE(spec.size() >= 2 * sizeof(nlattr) + 1);
  nlattr inet6{};
  std::memcpy(&inet6, spec.data(), sizeof inet6);
  CHECK((inet6.nla_type & NLA_TYPE_MASK) == AF_INET6);
  nlattr mode{};
  std::memcpy(&mode, spec.data() + sizeof(nlattr), sizeof mode);
  CHECK(mode.nla_type == IFLA_INET6_ADDR_GEN_MODE);
  CHECK(mode.nla_len == sizeof(nlattr) + 1);
  CHECK(spec[2 * sizeof(nlattr)] == IN6_ADDR_GEN_MODE_NONE);

  const nlmsghdr* plain = build_link_set(buf.data(), 10, {.ifindex = 2});
  CHECK(collect(plain, sizeof(ifinfomsg)).count(IFLA_AF_SPEC) == 0);
}
