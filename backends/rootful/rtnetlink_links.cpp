// Link requests for the rootful backend (see rtnetlink_links.hpp).
#include "backends/rootful/rtnetlink_links.hpp"

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>

#include <cctype>
#include <string>

namespace netpen::backends::rootful {
namespace {

void put_name(nlmsghdr* nlh, std::uint16_t type, std::string_view name) {
  const std::string z(name);
  mnl_attr_put_strz(nlh, type, z.c_str());
}

ifinfomsg* put_ifinfo(nlmsghdr* nlh, int ifindex) {
  auto* ifm = put_family_header<ifinfomsg>(nlh);
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = ifindex;
  return ifm;
}

}  // namespace

bool is_valid_ifname(std::string_view name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") return false;
  for (const char c : name) {
    if (c == '/' || c == ':' || c == '\0' || std::isspace(static_cast<unsigned char>(c)) != 0) return false;
  }
  return true;
}

nlmsghdr* build_veth_create(char* buf, std::uint32_t seq, std::string_view name, std::string_view peer_name,
                            int peer_netns_fd, int mtu) {
  nlmsghdr* nlh = start_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, seq);
  put_ifinfo(nlh, 0);
  put_name(nlh, IFLA_IFNAME, name);
  if (mtu > 0) mnl_attr_put_u32(nlh, IFLA_MTU, static_cast<std::uint32_t>(mtu));
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  // The peer's attributes follow its own ifinfomsg inside VETH_INFO_PEER.
  put_ifinfo(nlh, 0);
  put_name(nlh, IFLA_IFNAME, peer_name);
  if (mtu > 0) mnl_attr_put_u32(nlh, IFLA_MTU, static_cast<std::uint32_t>(mtu));
  if (peer_netns_fd >= 0) mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<std::uint32_t>(peer_netns_fd));
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  return nlh;
}

nlmsghdr* build_link_rename(char* buf, std::uint32_t seq, int ifindex, std::string_view new_name, int netns_fd) {
  nlmsghdr* nlh = start_request(buf, RTM_NEWLINK, 0, seq);
  put_ifinfo(nlh, ifindex);
  put_name(nlh, IFLA_IFNAME, new_name);
  if (netns_fd >= 0) mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<std::uint32_t>(netns_fd));
  return nlh;
}

}  // namespace netpen::backends::rootful
