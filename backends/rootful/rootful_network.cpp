// The rootful run's network (theory of operation in rootful_network.hpp).
#include "backends/rootful/rootful_network.hpp"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "backends/common/rtnetlink.hpp"
#include "backends/common/sysctl.hpp"
#include "backends/rootful/host_facts.hpp"
#include "backends/rootful/nft_queue_rule.hpp"
#include "backends/rootful/nftables.hpp"
#include "backends/rootful/rtnetlink_links.hpp"
#include "backends/rootful/rtnetlink_routing.hpp"
#include "backends/rootful/uplink_forwarding.hpp"
#include "net/common/log.hpp"
#include "net/netfilter/netfilter_socket.hpp"

namespace netpen::backends::rootful {
namespace {

constexpr std::uint32_t queue_copy_range = 0xffff;  // whole packets: the gate parses their headers
constexpr const char* tree_link = "eth0";

template <std::size_t N>
std::array<std::uint8_t, N> bytes_of(const std::string& text) {
  std::array<std::uint8_t, N> out{};
  ::inet_pton(N == 4 ? AF_INET : AF_INET6, text.c_str(), out.data());
  return out;
}

// Runs fn in a thread that has joined the network namespace `netns_fd`:
// sockets it opens stay bound to that namespace. The caller's thread never
// changes namespace.
template <class Fn>
result<void> in_netns(int netns_fd, Fn&& fn) {
  result<void> out;
  std::thread t([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      out = fail("setns", fmt::format("cannot enter the tree's network namespace: {}", std::strerror(errno)));
      return;
    }
    out = fn();
  });
  t.join();
  return out;
}

// Gives link `ifindex` its IPv4 /30 address (and IPv6 /64, without DAD)
// and sets it up; `whose` names it in errors.
result<void> bring_up(rtnetlink& nl, int ifindex, const std::string& v4, const std::string* v6, const char* whose) {
  const auto a4 = bytes_of<4>(v4);
  if (auto r = nl.request(fmt::format("adding {}'s IPv4 address", whose).c_str(),
                          [&](char* buf, std::uint32_t seq) {
                            return build_addr_add(buf, seq, ifindex, AF_INET, a4, run_addresses::prefix4, 0);
                          });
      !r)
    return r;
  if (v6 != nullptr) {
    const auto a6 = bytes_of<16>(*v6);
    if (auto r = nl.request(fmt::format("adding {}'s IPv6 address", whose).c_str(),
                            [&](char* buf, std::uint32_t seq) {
                              return build_addr_add(buf, seq, ifindex, AF_INET6, a6, run_addresses::prefix6,
                                                    IFA_F_NODAD);
                            });
        !r)
      return r;
  }
  link_settings up;
  up.ifindex = ifindex;
  return nl.request(fmt::format("setting {}'s link up", whose).c_str(),
                    [&](char* buf, std::uint32_t seq) { return build_link_set(buf, seq, up); });
}

// The engine's verdict cache: one element added to the tree's allowed set
// (from the engine's kernel strand, one call at a time).
std::function<void(const relay::flow_key&, std::chrono::seconds)> cache_in(std::shared_ptr<nft_session> tree_nft) {
  return [tree_nft = std::move(tree_nft)](const relay::flow_key& key, std::chrono::seconds ttl) {
    auto script = allowed_element_script(packet::to_string(key.dst), key.protocol == IPPROTO_TCP, key.dst_port, ttl);
    if (!script) return;
    if (auto added = tree_nft->run(*script); !added)
      log::debug("verdict cache: {}", added.error().message);  // the flows keep asking the gate
  };
}

}  // namespace

result<network_plan> plan_network(const network_options& opts) {
  auto facts = read_host_facts(opts.iface);
  if (!facts) return unexpected(facts.error());
  return plan_network(*facts, opts);
}

rootful_network::rootful_network(network_plan plan, run_state state)
    : plan_(std::move(plan)), state_(std::move(state)), undo_(make_host_undo()), guard_(state_, *undo_) {}

rootful_network::~rootful_network() { guard_.unwind(); }

result<std::unique_ptr<rootful_network>> rootful_network::create(const network_plan& plan,
                                                                  const network_options& opts, int netns_fd) {
  auto record = this_run_record(plan.addresses.id, opts.command);
  if (!record) return unexpected(record.error());
  auto state = run_state::create(std::string(default_state_root), std::move(*record));
  if (!state) return unexpected(state.error());
  std::unique_ptr<rootful_network> net(new rootful_network(plan, std::move(*state)));
  if (auto r = net->set_up_host(netns_fd); !r) return unexpected(r.error());  // ~rootful_network undoes
  if (auto r = net->set_up_tree(netns_fd, opts); !r) return unexpected(r.error());
  return net;
}

result<void> rootful_network::set_up_host(int netns_fd) {
  const auto& a = plan_.addresses;
  auto nl = rtnetlink::open();
  if (!nl) return unexpected(nl.error());
  if (auto r = guard_.push(veth{a.veth}); !r) return r;
  if (auto r = nl->request("creating the veth pair",
                           [&](char* buf, std::uint32_t seq) { return build_veth_create(buf, seq, a.veth, a.peer, netns_fd); });
      !r)
    return r;
  const int ifindex = static_cast<int>(::if_nametoindex(a.veth.c_str()));
  if (ifindex == 0) return fail("veth", fmt::format("the new veth {} has no index", a.veth));
  if (auto r = bring_up(*nl, ifindex, a.gateway4, plan_.ipv6 ? &a.gateway6 : nullptr, "the gateway"); !r) return r;

  if (auto r = set_up_forwarding(*nl); !r) return r;

  auto nft = nft_session::open();
  if (!nft) return unexpected(nft.error());
  if (auto r = guard_.push(nft_table{"inet", plan_.host_table.table}); !r) return r;
  if (auto r = nft->run(plan_.host_script); !r) return r;
  if (auto r = set_up_proxy_routing(); !r) return r;
  return set_up_iface_routing();
}

// The uplinks are read now, once this run's record exists: an uplink found
// on may be another run's change. That run, ending, will not turn it off
// under this one: this run's record exists (it was made, under the state
// lock, before these reads), so the other run hands its undo over to this
// one, or it restored the value before the record was made and these reads
// see it off (handover.hpp).
result<void> rootful_network::set_up_forwarding(rtnetlink& nl) {
  auto uplinks = read_uplink_facts(nl, plan_.addresses.veth, plan_.ipv6);
  if (!uplinks) return unexpected(uplinks.error());
  const auto paths = uplink_sysctl_paths(*uplinks, plan_);
  auto readings = read_sysctls(paths);
  if (!readings) return unexpected(readings.error());
  auto forwarding = plan_forwarding(*uplinks, *readings, plan_);
  if (!forwarding) return unexpected(forwarding.error());
  for (const auto& [path, value, undo] : forwarding->sysctls) {
    auto original = read_sysctl(path);
    if (!original) return unexpected(original.error());
    if (*original == value) continue;
    if (undo)
      if (auto r = guard_.push(sysctl{path, *original}); !r) return r;
    if (auto r = write_sysctl(path, value); !r) return r;
  }
  plan_.host_script += forwarding->host_rules;  // the same transaction
  return {};
}

template <class Route>
result<void> rootful_network::add_marked_table(const network_plan::marked_table& t, int af, Route route) {
  auto nl = rtnetlink::open();
  if (!nl) return unexpected(nl.error());
  const ip_family family = af == AF_INET6 ? ip_family::ipv6 : ip_family::ipv4;
  if (auto r = guard_.push(route_table{family, t.table}); !r) return r;
  if (auto r = nl->request(fmt::format("adding the route of table {}", t.table).c_str(), route); !r) return r;
  const fwmark_rule rule{.fwmark = t.table, .fwmask = 0xffffffff, .table = t.table, .priority = t.priority};
  if (auto r = guard_.push(ip_rule{family, rule.fwmark, rule.fwmask, rule.table, rule.priority}); !r) return r;
  return nl->request(fmt::format("adding the fwmark rule for table {}", t.table).c_str(),
                     [&](char* buf, std::uint32_t seq) { return build_fwmark_rule(buf, seq, route_op::add, af, rule); });
}

// Proxy mode: a TPROXY'd packet's destination is not a host address, so the
// main table would forward it; the fwmark rule routes it by the run's own
// table instead, where every address is local, and the listener gets it.
result<void> rootful_network::set_up_proxy_routing() {
  const auto& t = plan_.proxy_routing;
  if (t.table == 0) return {};
  std::vector<int> families{AF_INET};
  if (plan_.ipv6) families.push_back(AF_INET6);
  for (int af : families) {
    auto route = [&](char* buf, std::uint32_t seq) {
      return build_local_default_route(buf, seq, route_op::add, af, t.table, 1);
    };
    if (auto r = add_marked_table(t, af, route); !r) return r;
  }
  return {};
}

// --iface: what the tree sends (marked by the host table) is routed by the
// run's table, whose default route goes through the interface. If that
// route goes (the link is down), the lookup falls through to the main table
// and the host table's forward rule drops the packet: nothing leaves by
// another interface.
result<void> rootful_network::set_up_iface_routing() {
  const auto& t = plan_.iface_routing;
  if (t.table == 0) return {};
  for (const auto& ir : plan_.iface_routes) {
    auto route = [&](char* buf, std::uint32_t seq) {
      return build_table_default_route(buf, seq, route_op::add, ir.family, t.table, plan_.iface_index, ir.gateway);
    };
    if (auto r = add_marked_table(t, ir.family, route); !r) return r;
  }
  return {};
}

result<void> rootful_network::set_up_tree(int netns_fd, const network_options& opts) {
  const auto& a = plan_.addresses;
  const bool v6 = plan_.ipv6;
  std::optional<netfilter::netlink_socket> queue, conntrack, first_bytes;
  std::shared_ptr<nft_session> tree_nft;  // opened in the tree's netns: it acts there
  auto r = in_netns(netns_fd, [&]() -> result<void> {
    auto nl = rtnetlink::open();
    if (!nl) return unexpected(nl.error());
    link_settings lo;
    lo.ifindex = 1;
    if (auto s = nl->request("setting lo up", [&](char* buf, std::uint32_t seq) { return build_link_set(buf, seq, lo); }); !s)
      return s;
    const int ifindex = static_cast<int>(::if_nametoindex(a.peer.c_str()));
    if (ifindex == 0) return fail("veth", fmt::format("the tree's end {} is missing", a.peer));
    if (auto s = nl->request("renaming the tree's link",
                             [&](char* buf, std::uint32_t seq) { return build_link_rename(buf, seq, ifindex, tree_link); });
        !s)
      return s;
    if (auto s = bring_up(*nl, ifindex, a.child4, v6 ? &a.child6 : nullptr, "the tree"); !s) return s;
    if (opts.ipv4_route) {
      const auto g4 = bytes_of<4>(a.gateway4);
      if (auto s = nl->request("adding the tree's IPv4 default route",
                               [&](char* buf, std::uint32_t seq) { return build_default_route(buf, seq, ifindex, AF_INET, g4); });
          !s)
        return s;
    }
    if (v6) {
      const auto g6 = bytes_of<16>(a.gateway6);
      if (auto s = nl->request("adding the tree's IPv6 default route",
                               [&](char* buf, std::uint32_t seq) { return build_default_route(buf, seq, ifindex, AF_INET6, g6); });
          !s)
        return s;
    }
    // The tree's own netns: these sysctls are its own, not the host's.
    for (const auto& [path, value] : std::initializer_list<std::pair<const char*, const char*>>{
             {"net/netfilter/nf_conntrack_acct", "1"},
             {"net/netfilter/nf_conntrack_tcp_timeout_time_wait", "1"},
             {"net/ipv4/ping_group_range", "0 2147483647"}})
      if (auto s = write_sysctl(path, value); !s) return s;
    auto nft = nft_session::open();
    if (!nft) return unexpected(nft.error());
    if (auto s = nft->run(plan_.child_script); !s) return s;
    tree_nft = std::make_shared<nft_session>(std::move(*nft));
    if (auto s = append_queue_rule(NFPROTO_INET, std::string(child_table_name), "output", plan_.child_table.queue); !s)
      return s;
    auto q = netfilter::netlink_socket::open_queue(plan_.child_table.queue, queue_copy_range);
    if (!q) return unexpected(q.error());
    queue.emplace(std::move(*q));
    auto ct = netfilter::netlink_socket::open_conntrack_events();
    if (!ct) return unexpected(ct.error());
    conntrack.emplace(std::move(*ct));
    if (auto group = plan_.child_table.first_bytes_group) {
      auto log = netfilter::netlink_socket::open_log(*group);
      if (!log) return unexpected(log.error());
      first_bytes.emplace(std::move(*log));
    }
    return {};
  });
  if (!r) return r;
  std::vector<asio::ip::address> gateways{asio::ip::make_address(a.gateway4)};
  if (v6) gateways.push_back(asio::ip::make_address(a.gateway6));
  kernel_.emplace(relay::kernel_path{std::move(*queue), plan_.child_table.queue, plan_.child_table.deny_mark,
                                     std::move(*conntrack), std::move(gateways), plan_.host_table.dns_port,
                                     plan_.host_table.tproxy_port.value_or(0), cache_in(std::move(tree_nft))});
  kernel_->first_bytes = std::move(first_bytes);
  return {};
}

relay::kernel_path rootful_network::take_kernel_path() {
  auto out = std::move(*kernel_);
  kernel_.reset();
  return out;
}

}  // namespace netpen::backends::rootful
