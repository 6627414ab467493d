// rtnetlink requests on links for the rootful backend: creating a veth pair
// (peer straight into another network namespace), renaming / moving a link
// by index. Builders as in backends/common/rtnetlink.hpp, which also has
// the link delete (build_link_delete, delete_link_if_present).
#pragma once
#include <cstdint>
#include <string_view>

#include "backends/common/rtnetlink.hpp"

struct nlmsghdr;

namespace netpen::backends::rootful {

// Whether the kernel accepts `name` as an interface name: 1 to 15 bytes, not
// "." or "..", no '/', ':' or whitespace.
bool is_valid_ifname(std::string_view name);

// RTM_NEWLINK (NLM_F_CREATE | NLM_F_EXCL) of kind "veth": `name` here, its
// peer `peer_name` created directly in the namespace `peer_netns_fd` (-1:
// this one). `mtu` > 0 sets the MTU of both ends.
nlmsghdr* build_veth_create(char* buf, std::uint32_t seq, std::string_view name, std::string_view peer_name,
                            int peer_netns_fd, int mtu = 0);
// RTM_NEWLINK on link `ifindex`: new name `new_name`; with `netns_fd` >= 0
// the link moves into that namespace under that name.
nlmsghdr* build_link_rename(char* buf, std::uint32_t seq, int ifindex, std::string_view new_name, int netns_fd = -1);

}  // namespace netpen::backends::rootful
