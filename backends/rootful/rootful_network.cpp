// The rootful run's network (theory of operation in rootful_network.hpp).
#include "backends/rootful/rootful_network.hpp"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "backends/common/rtnetlink.hpp"
#include "backends/common/sysctl.hpp"
#include "backends/rootful/handover.hpp"
#include "backends/rootful/nft_queue_rule.hpp"
#include "backends/rootful/nftables.hpp"
#include "backends/rootful/rtnetlink_links.hpp"
#include "backends/rootful/rtnetlink_queries.hpp"
#include "backends/rootful/rtnetlink_routing.hpp"
#include "net/common/log.hpp"
#include "net/netfilter/netfilter_socket.hpp"

namespace netpen::backends::rootful {
namespace {

constexpr std::uint16_t tree_queue = 0;             // NFQUEUE numbers are per netns
constexpr std::uint32_t deny_mark = 0x4e500000;     // "NP": a verdict's mark the tree's table rejects
constexpr std::uint32_t queue_copy_range = 0xffff;  // whole packets: the gate parses their headers
constexpr const char* tree_link = "eth0";
// Proxy mode: the engine's transparent listener port on the gateways (any
// port does: the gateway addresses are this run's own), and the bases of
// the per-run mark and routing table (plus the run's /30 slot, so that
// concurrent runs never share one).
constexpr std::uint16_t proxy_port = 1080;
constexpr std::uint32_t proxy_mark_base = 0x4e540000;  // "NT"
constexpr std::uint32_t proxy_rule_priority = 100;     // before the main table (32766)
constexpr std::uint32_t iface_mark_base = 0x4e490000;  // "NI"; --iface's mark and table, plus the slot
constexpr std::uint32_t iface_rule_priority = 101;

// The index of the run's /30 in 10.249.0.0/16 (0..16383).
std::uint32_t slot_of(const run_addresses& a) {
  in_addr child{};
  ::inet_pton(AF_INET, a.child4.c_str(), &child);
  return ((ntohl(child.s_addr) & 0xffffu) >> 2) & 0x3fffu;
}

template <std::size_t N>
std::array<std::uint8_t, N> bytes_of(const std::string& text) {
  std::array<std::uint8_t, N> out{};
  ::inet_pton(N == 4 ? AF_INET : AF_INET6, text.c_str(), out.data());
  return out;
}

std::uint32_t random_seed() {
  std::uint32_t v = 0;
  if (::getrandom(&v, sizeof v, 0) != sizeof v) v = static_cast<std::uint32_t>(::getpid()) * 2654435761u;
  return v;
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

// The text table minus its `queue` rule: nft's own queue expression may be
// missing from the kernel; append_queue_rule adds the equivalent.
std::string without_queue_rule(const std::string& script) {
  std::string out;
  std::size_t start = 0;
  while (start < script.size()) {
    auto end = script.find('\n', start);
    if (end == std::string::npos) end = script.size();
    const auto line = script.substr(start, end - start);
    if (line.find(" queue num ") == std::string::npos) out += line + "\n";
    start = end + 1;
  }
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

struct uplinks {
  std::vector<std::string> v4, v6;
};

// The interfaces of the host's default routes (main table), per family.
result<uplinks> uplink_names(rtnetlink& nl) {
  auto routes = list_default_routes(nl, RT_TABLE_MAIN);
  if (!routes) return unexpected(routes.error());
  uplinks out;
  for (const auto& r : *routes) {
    char name[IF_NAMESIZE] = {};
    if (::if_indextoname(static_cast<unsigned>(r.ifindex), name) == nullptr) continue;
    auto& list = r.family == AF_INET6 ? out.v6 : out.v4;
    if (std::find(list.begin(), list.end(), name) == list.end()) list.emplace_back(name);
  }
  return out;
}

// --iface: the interface's routes in the run's table. Errors are the
// user's (code "usage"): nothing is set up yet.
result<void> plan_iface(rtnetlink& nl, const std::string& name, network_plan& p) {
  if (!valid_interface_name(name)) return fail("usage", fmt::format("--iface '{}' is not an interface name", name));
  const int index = static_cast<int>(::if_nametoindex(name.c_str()));
  if (index == 0) return fail("usage", fmt::format("--iface {}: no such interface on this host", name));
  if (name == "lo") return fail("usage", "--iface lo: the loopback interface cannot carry the tree's traffic");
  const bool netpen_link = name.size() == 8 && name.starts_with("np") &&
                           std::ranges::all_of(name.substr(2), [](char c) { return std::isxdigit(c) != 0; });
  if (netpen_link) return fail("usage", fmt::format("--iface {}: that is a netpen run's own link", name));
  unsigned flags = 0;
  if (std::ifstream in(fmt::format("/sys/class/net/{}/flags", name)); in >> std::hex >> flags, (flags & IFF_UP) == 0)
    return fail("usage", fmt::format("--iface {} is down", name));
  auto routes = list_default_routes(nl, RT_TABLE_MAIN);
  if (!routes) return unexpected(routes.error());
  p.iface_index = index;
  std::vector<int> families{AF_INET};
  if (p.ipv6) families.push_back(AF_INET6);
  for (int af : families) {
    network_plan::iface_route r{af, {}};
    for (const auto& d : *routes)  // ordered by metric: the best one through the interface
      if (d.family == af && d.ifindex == index) {
        r.gateway = d.gateway;
        break;
      }
    p.iface_routes.push_back(std::move(r));
  }
  return {};
}

// The engine's verdict cache: one element added to the tree's allowed set
// (from the engine's kernel strand, one call at a time).
std::function<void(const relay::flow_key&, std::chrono::seconds)> cache_in(std::shared_ptr<nft_session> tree_nft) {
  return [tree_nft = std::move(tree_nft)](const relay::flow_key& key, std::chrono::seconds ttl) {
    auto script = allowed_element_script(relay::to_string(key.dst), key.protocol == IPPROTO_TCP, key.dst_port, ttl);
    if (!script) return;
    if (auto added = tree_nft->run(*script); !added)
      log::debug("verdict cache: {}", added.error().message);  // the flows keep asking the gate
  };
}

}  // namespace

result<network_plan> plan_network(const network_options& opts) {
  auto nl = rtnetlink::open();
  if (!nl) return unexpected(nl.error());
  std::vector<ipv4_net> used;
  auto addresses = list_addresses(*nl, AF_INET);
  if (!addresses) return unexpected(addresses.error());
  for (const auto& a : *addresses) {
    if (a.local.size() != 4) continue;
    used.push_back({ntohl(*reinterpret_cast<const std::uint32_t*>(a.local.data())), a.prefix});
  }
  auto routes = list_routes(*nl, AF_INET);
  if (!routes) return unexpected(routes.error());
  for (const auto& r : *routes)
    if (r.dst.size() == 4 && r.dst_len > 0)
      used.push_back({ntohl(*reinterpret_cast<const std::uint32_t*>(r.dst.data())), r.dst_len});

  const auto seed = random_seed();
  auto addrs = plan_addresses(make_run_id(seed >> 8), seed, used);
  if (!addrs) return unexpected(addrs.error());
  network_plan p;
  p.addresses = *addrs;
  p.ipv6 = opts.ipv6_route;
  auto& h = p.host_table;
  h.table = "netpen_" + addrs->id;
  h.veth = addrs->veth;
  h.child4 = addrs->child4;
  h.gateway4 = addrs->gateway4;
  if (p.ipv6) {
    h.child6 = addrs->child6;
    h.gateway6 = addrs->gateway6;
  }
  h.log_group = opts.log_group;
  if (opts.iface) {
    if (auto r = plan_iface(*nl, *opts.iface, p); !r) return unexpected(r.error());
    h.iface = opts.iface;
    h.iface_mark = iface_mark_base | slot_of(*addrs);
    p.iface_routing = {h.iface_mark, iface_rule_priority};
  }
  if (opts.proxy_mode) {
    h.tproxy_port = proxy_port;
    h.tproxy_mark = proxy_mark_base | slot_of(*addrs);
    p.proxy_routing = {h.tproxy_mark, proxy_rule_priority};
  }
  p.child_table.queue = tree_queue;
  p.child_table.deny_mark = deny_mark;
  auto host = host_table_script(h);
  if (!host) return unexpected(host.error());
  auto child = child_table_script(p.child_table);
  if (!child) return unexpected(child.error());
  p.host_script = std::move(*host);
  p.child_script = without_queue_rule(*child);
  return p;
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

  // Forwarding. The kernel forwards a packet only if the interface it came
  // in on forwards: the veth (the tree's packets) and each uplink (their
  // replies). Where netpen turns an uplink's forwarding on, the host table
  // drops what that uplink would now forward anywhere but to a netpen veth,
  // so the host's own forwarding policy stays what it was.
  auto uplinks = uplink_names(*nl);
  if (!uplinks) return unexpected(uplinks.error());
  std::vector<std::pair<std::string, std::string>> sysctls{{fmt::format("net/ipv4/conf/{}/forwarding", a.veth), "1"}};
  std::string extra_rules;
  auto forward_on = [&](const std::string& uplink, const std::string& path, const char* nfproto) -> result<void> {
    auto original = read_sysctl(path);
    if (!original) return unexpected(original.error());
    // On, and no netpen run turned it on: the host forwards there by its own policy.
    if (*original == "1" && !sysctl_held_by_a_run(default_state_root, path)) return {};
    if (*original != "1") sysctls.emplace_back(path, "1");
    extra_rules += fmt::format("add rule inet {} forward iifname \"{}\" oifname != \"np*\" meta nfproto {} counter drop\n",
                               plan_.host_table.table, uplink, nfproto);
    return {};
  };
  if (const auto& iface = plan_.host_table.iface) {  // its replies must be forwarded too
    if (std::ranges::find(uplinks->v4, *iface) == uplinks->v4.end()) uplinks->v4.push_back(*iface);
    if (std::ranges::find(uplinks->v6, *iface) == uplinks->v6.end()) uplinks->v6.push_back(*iface);
  }
  for (const auto& up : uplinks->v4)
    if (auto r = forward_on(up, fmt::format("net/ipv4/conf/{}/forwarding", up), "ipv4"); !r) return r;
  if (plan_.ipv6) {
    const bool per_interface = sysctl_exists(fmt::format("net/ipv6/conf/{}/force_forwarding", a.veth));
    if (per_interface) {
      sysctls.emplace_back(fmt::format("net/ipv6/conf/{}/force_forwarding", a.veth), "1");
      for (const auto& up : uplinks->v6)
        if (auto r = forward_on(up, fmt::format("net/ipv6/conf/{}/force_forwarding", up), "ipv6"); !r) return r;
    } else {
      sysctls.emplace_back("net/ipv6/conf/all/forwarding", "1");  // kernels before 6.17: global only
    }
  }
  const std::string own_conf = fmt::format("/{}/", a.veth);  // the veth's own settings die with it
  // An uplink found on may be another run's change. That run, ending, will
  // not turn it off under this one: this run's record exists (it was made,
  // under the state lock, before these reads), so the other run hands its
  // undo over to this one, or it restored the value before the record was
  // made and these reads see it off (handover.hpp).
  for (const auto& [path, value] : sysctls) {
    auto original = read_sysctl(path);
    if (!original) return unexpected(original.error());
    if (*original == value) continue;
    if (path.find(own_conf) == std::string::npos)
      if (auto r = guard_.push(sysctl{path, *original}); !r) return r;
    if (auto r = write_sysctl(path, value); !r) return r;
  }
  plan_.host_script += extra_rules;  // the same transaction

  auto nft = nft_session::open();
  if (!nft) return unexpected(nft.error());
  if (auto r = guard_.push(nft_table{"inet", plan_.host_table.table}); !r) return r;
  if (auto r = nft->run(plan_.host_script); !r) return r;
  if (auto r = set_up_proxy_routing(); !r) return r;
  return set_up_iface_routing();
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
  std::optional<netfilter::netlink_socket> queue, conntrack;
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
    return {};
  });
  if (!r) return r;
  std::vector<asio::ip::address> gateways{asio::ip::make_address(a.gateway4)};
  if (v6) gateways.push_back(asio::ip::make_address(a.gateway6));
  kernel_.emplace(relay::kernel_path{std::move(*queue), plan_.child_table.queue, plan_.child_table.deny_mark,
                                     std::move(*conntrack), std::move(gateways), plan_.host_table.dns_port,
                                     plan_.host_table.tproxy_port.value_or(0), cache_in(std::move(tree_nft))});
  return {};
}

relay::kernel_path rootful_network::take_kernel_path() {
  auto out = std::move(*kernel_);
  kernel_.reset();
  return out;
}

}  // namespace netpen::backends::rootful
