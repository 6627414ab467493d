// rtnetlink undo requests via libmnl (see rtnetlink_undo.hpp).
#include "backends/rootful/rtnetlink_undo.hpp"

#include "backends/common/rtnetlink.hpp"
#include "backends/rootful/rtnetlink_routing.hpp"

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace netpen::backends::rootful {
namespace {

const auto nl_buffer_size = static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE);

nlmsghdr* start(char* buf, std::uint16_t type, std::uint16_t flags, std::uint32_t seq) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = seq;
  return nlh;
}

std::uint8_t af(ip_family f) { return f == ip_family::ipv4 ? AF_INET : AF_INET6; }

struct socket_closer {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

// One NETLINK_ROUTE socket: requests that wait for their ACK, and dumps.
class route_socket {
 public:
  static result<route_socket> open() {
    std::unique_ptr<mnl_socket, socket_closer> s(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
    if (!s) return fail("netlink", fmt::format("cannot open an rtnetlink socket: {}", std::strerror(errno)));
    if (mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0)
      return fail("netlink", fmt::format("cannot bind an rtnetlink socket: {}", std::strerror(errno)));
    return route_socket(std::move(s));
  }

  std::uint32_t next_seq() { return ++seq_; }
  char* buffer() { return tx_.data(); }

  // 0 on the ACK, else the kernel's errno; I/O failures are errors.
  result<int> ack(const char* what, const nlmsghdr* nlh) { return run(what, nlh, nullptr, nullptr); }
  result<int> dump(const char* what, const nlmsghdr* nlh, mnl_cb_t each, void* data) {
    return run(what, nlh, each, data);
  }

 private:
  explicit route_socket(std::unique_ptr<mnl_socket, socket_closer> s)
      : sock_(std::move(s)), port_(mnl_socket_get_portid(sock_.get())), tx_(nl_buffer_size), rx_(nl_buffer_size) {}

  result<int> run(const char* what, const nlmsghdr* nlh, mnl_cb_t each, void* data) {
    if (mnl_socket_sendto(sock_.get(), nlh, nlh->nlmsg_len) < 0)
      return fail("netlink", fmt::format("{}: sending the request failed: {}", what, std::strerror(errno)));
    for (;;) {
      const ssize_t n = mnl_socket_recvfrom(sock_.get(), rx_.data(), rx_.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail("netlink", fmt::format("{}: reading the answer failed: {}", what, std::strerror(errno)));
      }
      errno = 0;
      const int r = mnl_cb_run(rx_.data(), static_cast<std::size_t>(n), nlh->nlmsg_seq, port_, each, data);
      if (r == MNL_CB_ERROR) return errno != 0 ? errno : EPROTO;
      if (r == MNL_CB_STOP) return 0;
    }
  }

  std::unique_ptr<mnl_socket, socket_closer> sock_;
  std::uint32_t port_ = 0;
  std::uint32_t seq_ = 0;
  std::vector<char> tx_;
  std::vector<char> rx_;
};

result<void> refused(std::string_view what, int e) {
  return fail("netlink", fmt::format("{}: the kernel refused: {}", what, std::strerror(e)));
}

// The dump's routes in one table (cached clones are not routes we added).
struct route_collector {
  std::uint32_t table = 0;
  std::vector<std::vector<char>> routes;
};

int collect_route(const nlmsghdr* nlh, void* data) {
  auto* c = static_cast<route_collector*>(data);
  if (nlh->nlmsg_type != RTM_NEWROUTE) return MNL_CB_OK;
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
  if ((rtm->rtm_flags & RTM_F_CLONED) != 0) return MNL_CB_OK;
  std::uint32_t table = rtm->rtm_table;
  mnl_attr_parse(
      nlh, sizeof(rtmsg),
      [](const nlattr* attr, void* out) {
        if (mnl_attr_get_type(attr) == RTA_TABLE && mnl_attr_get_payload_len(attr) >= 4)
          *static_cast<std::uint32_t*>(out) = mnl_attr_get_u32(attr);
        return MNL_CB_OK;
      },
      &table);
  if (table != c->table) return MNL_CB_OK;
  const auto* bytes = reinterpret_cast<const char*>(nlh);
  c->routes.emplace_back(bytes, bytes + nlh->nlmsg_len);
  return MNL_CB_OK;
}

}  // namespace

// The shared builders (backends/common/rtnetlink, rtnetlink_routing) make
// these messages; the undo names only say what they are for.
nlmsghdr* build_link_delete(char* buf, std::uint32_t seq, std::string_view name) {
  return backends::build_link_delete(buf, seq, name);
}

nlmsghdr* build_rule_delete(char* buf, std::uint32_t seq, const ip_rule& rule) {
  return build_fwmark_rule(buf, seq, route_op::remove, af(rule.family),
                           fwmark_rule{rule.fwmark, rule.mask, rule.table, rule.priority});
}

nlmsghdr* build_route_dump(char* buf, std::uint32_t seq, ip_family family) {
  nlmsghdr* nlh = start(buf, RTM_GETROUTE, NLM_F_DUMP, seq);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = af(family);
  return nlh;
}

result<void> delete_link(std::string_view name) {
  auto nl = route_socket::open();
  if (!nl) return unexpected(nl.error());
  const std::string what = fmt::format("deleting link {}", name);
  auto e = nl->ack(what.c_str(), build_link_delete(nl->buffer(), nl->next_seq(), name));
  if (!e) return unexpected(e.error());
  if (*e != 0 && *e != ENODEV) return refused(what, *e);
  return {};
}

result<void> delete_rule(const ip_rule& rule) {
  auto nl = route_socket::open();
  if (!nl) return unexpected(nl.error());
  const std::string what = describe(rule);
  auto e = nl->ack(what.c_str(), build_rule_delete(nl->buffer(), nl->next_seq(), rule));
  if (!e) return unexpected(e.error());
  if (*e != 0 && *e != ENOENT) return refused("deleting the " + what, *e);
  return {};
}

result<void> flush_route_table(const route_table& table) {
  auto nl = route_socket::open();
  if (!nl) return unexpected(nl.error());
  const std::string what = fmt::format("flushing {}", describe(table));
  route_collector found{table.table, {}};
  auto e = nl->dump(what.c_str(), build_route_dump(nl->buffer(), nl->next_seq(), table.family), collect_route, &found);
  if (!e) return unexpected(e.error());
  if (*e != 0) return refused(what, *e);
  for (auto& route : found.routes) {
    auto* nlh = reinterpret_cast<nlmsghdr*>(route.data());
    nlh->nlmsg_type = RTM_DELROUTE;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = nl->next_seq();
    nlh->nlmsg_pid = 0;
    auto d = nl->ack(what.c_str(), nlh);
    if (!d) return unexpected(d.error());
    if (*d != 0 && *d != ESRCH && *d != ENOENT) return refused(what, *d);
  }
  return {};
}

}  // namespace netpen::backends::rootful
