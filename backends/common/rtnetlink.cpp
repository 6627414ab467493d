// rtnetlink requests and dumps via libmnl (see rtnetlink.hpp).
#include "backends/common/rtnetlink.hpp"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "backends/common/unique_fd.hpp"

namespace netpen::backends {
namespace {

const auto request_buffer_size = static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE);
// Dump answers come in datagrams of up to 32 KiB (the kernel sizes them to
// the reader's buffer); errors echo the request back.
constexpr std::size_t receive_buffer_size = 32768;

std::uint8_t u8(int v) { return static_cast<std::uint8_t>(v); }

// What one reply batch told us beyond libmnl's verdict.
struct reply_state {
  const rtnetlink::message_sink* each = nullptr;
  std::string kernel_message;  // extended ACK text of an error, if any
};

int on_data(const nlmsghdr* nlh, void* data) {
  auto* st = static_cast<reply_state*>(data);
  if (st->each != nullptr) (*st->each)(nlh);
  return MNL_CB_OK;
}

// NLMSG_ERROR: error 0 is the ACK; otherwise errno is set and the kernel's
// extended-ACK message (NLMSGERR_ATTR_MSG) kept for the error text.
int on_error(const nlmsghdr* nlh, void* data) {
  auto* st = static_cast<reply_state*>(data);
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(nlmsgerr)) {
    errno = EBADMSG;
    return MNL_CB_ERROR;
  }
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  if (err->error == 0) return MNL_CB_STOP;
  if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) != 0) {
    std::size_t offset = sizeof(nlmsgerr);
    if ((nlh->nlmsg_flags & NLM_F_CAPPED) == 0) offset += mnl_nlmsg_get_payload_len(&err->msg);
    if (offset < mnl_nlmsg_get_payload_len(nlh)) {
      mnl_attr_parse(
          nlh, static_cast<unsigned>(offset),
          [](const nlattr* a, void* out) {
            if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
              *static_cast<std::string*>(out) = mnl_attr_get_str(a);
            return MNL_CB_OK;
          },
          &st->kernel_message);
    }
  }
  errno = -err->error;
  return MNL_CB_ERROR;
}

// NLMSG_DONE ends a dump; a negative number in it is the dump's error.
int on_done(const nlmsghdr* nlh, void* /*data*/) {
  if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
    int err = 0;
    std::memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
    if (err < 0) {
      errno = -err;
      return MNL_CB_ERROR;
    }
  }
  return MNL_CB_STOP;
}

// Clears NLM_F_DUMP_INTR in a received batch (libmnl would stop at it and
// leave the rest of the dump unread) and says whether any message had it.
bool take_dump_interrupted(char* buf, std::size_t len) {
  bool seen = false;
  auto* nlh = reinterpret_cast<nlmsghdr*>(buf);
  int left = static_cast<int>(len);
  while (mnl_nlmsg_ok(nlh, left)) {
    if ((nlh->nlmsg_flags & NLM_F_DUMP_INTR) != 0) {
      seen = true;
      nlh->nlmsg_flags = static_cast<std::uint16_t>(nlh->nlmsg_flags & ~NLM_F_DUMP_INTR);
    }
    nlh = mnl_nlmsg_next(nlh, &left);
  }
  return seen;
}

std::string refusal(const char* what, int err, const std::string& kernel_message) {
  if (kernel_message.empty()) return fmt::format("{}: the kernel refused: {}", what, std::strerror(err));
  return fmt::format("{}: the kernel refused: {} ({})", what, std::strerror(err), kernel_message);
}

}  // namespace

nlmsghdr* start_request(char* buf, std::uint16_t type, std::uint16_t flags, std::uint32_t seq) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  nlh->nlmsg_seq = seq;
  return nlh;
}

nlmsghdr* start_dump(char* buf, std::uint16_t type, std::uint32_t seq) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_DUMP);
  nlh->nlmsg_seq = seq;
  return nlh;
}

void* put_family_header(nlmsghdr* nlh, std::size_t size) { return mnl_nlmsg_put_extra_header(nlh, size); }

nlmsghdr* build_link_set(char* buf, std::uint32_t seq, const link_settings& s) {
  nlmsghdr* nlh = start_request(buf, RTM_NEWLINK, 0, seq);
  auto* ifm = put_family_header<ifinfomsg>(nlh);
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = s.ifindex;
  ifm->ifi_change = IFF_UP;
  ifm->ifi_flags = s.up ? static_cast<unsigned>(IFF_UP) : 0U;
  if (s.mac != nullptr) mnl_attr_put(nlh, IFLA_ADDRESS, s.mac->size(), s.mac->data());
  if (s.mtu > 0) mnl_attr_put_u32(nlh, IFLA_MTU, static_cast<std::uint32_t>(s.mtu));
  if (s.txqlen > 0) mnl_attr_put_u32(nlh, IFLA_TXQLEN, static_cast<std::uint32_t>(s.txqlen));
  if (s.no_ipv6_link_local) {
    nlattr* spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
    nlattr* inet6 = mnl_attr_nest_start(nlh, AF_INET6);
    mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
    mnl_attr_nest_end(nlh, inet6);
    mnl_attr_nest_end(nlh, spec);
  }
  return nlh;
}

nlmsghdr* build_addr_add(char* buf, std::uint32_t seq, int ifindex, int family, std::span<const std::uint8_t> addr,
                         int prefix, std::uint32_t flags) {
  nlmsghdr* nlh = start_request(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, seq);
  auto* ifa = put_family_header<ifaddrmsg>(nlh);
  ifa->ifa_family = u8(family);
  ifa->ifa_prefixlen = u8(prefix);
  ifa->ifa_flags = static_cast<std::uint8_t>(flags & 0xffU);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<std::uint32_t>(ifindex);
  const auto len = static_cast<std::size_t>(addr.size());
  mnl_attr_put(nlh, IFA_LOCAL, len, addr.data());
  mnl_attr_put(nlh, IFA_ADDRESS, len, addr.data());
  if (flags != 0) mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
  return nlh;
}

nlmsghdr* build_default_route(char* buf, std::uint32_t seq, int ifindex, int family,
                              std::span<const std::uint8_t> gateway) {
  nlmsghdr* nlh = start_request(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, seq);
  auto* rtm = put_family_header<rtmsg>(nlh);
  rtm->rtm_family = u8(family);
  rtm->rtm_dst_len = 0;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put(nlh, RTA_GATEWAY, gateway.size(), gateway.data());
  mnl_attr_put_u32(nlh, RTA_OIF, static_cast<std::uint32_t>(ifindex));
  return nlh;
}

nlmsghdr* build_neigh_permanent(char* buf, std::uint32_t seq, int ifindex, int family,
                                std::span<const std::uint8_t> dst, const mac_address& mac) {
  nlmsghdr* nlh = start_request(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, seq);
  auto* ndm = put_family_header<ndmsg>(nlh);
  ndm->ndm_family = u8(family);
  ndm->ndm_ifindex = ifindex;
  ndm->ndm_state = NUD_PERMANENT;
  ndm->ndm_type = RTN_UNICAST;
  mnl_attr_put(nlh, NDA_DST, dst.size(), dst.data());
  mnl_attr_put(nlh, NDA_LLADDR, mac.size(), mac.data());
  return nlh;
}

nlmsghdr* build_link_delete(char* buf, std::uint32_t seq, std::string_view name) {
  nlmsghdr* nlh = start_request(buf, RTM_DELLINK, 0, seq);
  put_family_header<ifinfomsg>(nlh)->ifi_family = AF_UNSPEC;
  const std::string z(name);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, z.c_str());
  return nlh;
}

rtnetlink::rtnetlink(mnl_socket* s)
    : sock_(s), port_(mnl_socket_get_portid(s)), buffer_(request_buffer_size), rx_(receive_buffer_size) {}

rtnetlink::rtnetlink(rtnetlink&& o) noexcept
    : sock_(std::exchange(o.sock_, nullptr)),
      port_(o.port_),
      seq_(o.seq_),
      buffer_(std::move(o.buffer_)),
      rx_(std::move(o.rx_)) {}

rtnetlink::~rtnetlink() {
  if (sock_ != nullptr) mnl_socket_close(sock_);
}

result<rtnetlink> rtnetlink::open() {
  mnl_socket* s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (s == nullptr) return fail("netlink", fmt::format("cannot open an rtnetlink socket: {}", std::strerror(errno)));
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int e = errno;
    mnl_socket_close(s);
    return fail("netlink", fmt::format("cannot bind an rtnetlink socket: {}", std::strerror(e)));
  }
  // Best effort: without extended ACKs errors just lack the kernel's text.
  int on = 1;
  (void)mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &on, sizeof(on));
  return rtnetlink(s);
}

result<rtnetlink> rtnetlink::open_in(int netns_fd) {
  unique_fd own(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!own) return fail("netns", fmt::format("cannot open this thread's network namespace: {}", std::strerror(errno)));
  if (::setns(netns_fd, CLONE_NEWNET) != 0)
    return fail("netns", fmt::format("cannot enter the network namespace: {}", std::strerror(errno)));
  auto nl = open();
  if (::setns(own.get(), CLONE_NEWNET) != 0)
    return fail("netns", fmt::format("cannot return to the original network namespace: {}", std::strerror(errno)));
  return nl;
}

result<void> rtnetlink::send(const char* what, const nlmsghdr* nlh) {
  if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0)
    return fail("netlink", fmt::format("{}: sending the request failed: {}", what, std::strerror(errno)));
  return {};
}

result<void> rtnetlink::transact(const char* what, nlmsghdr* nlh, int tolerated_errno) {
  const std::uint32_t seq = nlh->nlmsg_seq;
  if (auto r = send(what, nlh); !r) return r;
  std::array<mnl_cb_t, NLMSG_MIN_TYPE> control{};
  control[NLMSG_ERROR] = on_error;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(sock_, rx_.data(), rx_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("netlink", fmt::format("{}: reading the answer failed: {}", what, std::strerror(errno)));
    }
    reply_state st;
    const int r = mnl_cb_run2(rx_.data(), static_cast<std::size_t>(n), seq, port_, on_data, &st, control.data(),
                              static_cast<unsigned>(control.size()));
    if (r == MNL_CB_ERROR) {
      const int e = errno;
      if (tolerated_errno != 0 && e == tolerated_errno) return {};
      return fail("netlink", refusal(what, e, st.kernel_message));
    }
    if (r == MNL_CB_STOP) return {};
    // MNL_CB_OK without the ACK yet: keep reading.
  }
}

result<void> rtnetlink::request_batch(std::initializer_list<step> steps) {
  std::vector<const step*> sent;  // in sequence-number order
  for (const step& s : steps)
    if (s.build) sent.push_back(&s);
  if (sent.empty()) return {};
  // Each request of the batch fits in this much room (the largest is well
  // under 100 bytes).
  constexpr std::size_t room_per_request = 256;
  if (sent.size() * room_per_request > buffer_.size())
    return fail("netlink", fmt::format("{} requests do not fit in one netlink batch", sent.size()));
  const std::uint32_t first = seq_ + 1;
  std::size_t used = 0;
  for (const step* s : sent) {
    const nlmsghdr* nlh = s->build(buffer_.data() + used, ++seq_);
    used += NLMSG_ALIGN(nlh->nlmsg_len);
  }
  if (mnl_socket_sendto(sock_, buffer_.data(), used) < 0)
    return fail("netlink", fmt::format("{}: sending the requests failed: {}", sent.front()->what, std::strerror(errno)));

  std::size_t answered = 0;
  std::string refused;  // the first refusal, as the error text
  while (answered < sent.size()) {
    const ssize_t n = mnl_socket_recvfrom(sock_, rx_.data(), rx_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("netlink",
                  fmt::format("{}: reading the answers failed: {}", sent.front()->what, std::strerror(errno)));
    }
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(rx_.data());
    int left = static_cast<int>(n);
    for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
      const std::uint32_t index = nlh->nlmsg_seq - first;
      if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != port_ || index >= sent.size()) continue;
      ++answered;
      reply_state st;
      if (on_error(nlh, &st) == MNL_CB_ERROR && refused.empty())
        refused = refusal(sent[index]->what, errno, st.kernel_message);
    }
  }
  if (!refused.empty()) return fail("netlink", refused);
  return {};
}

result<void> rtnetlink::run_dump(const char* what, nlmsghdr* nlh, const message_sink& each) {
  const std::uint32_t seq = nlh->nlmsg_seq;
  if (auto r = send(what, nlh); !r) return r;
  std::array<mnl_cb_t, NLMSG_MIN_TYPE> control{};
  control[NLMSG_ERROR] = on_error;
  control[NLMSG_DONE] = on_done;
  bool interrupted = false;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(sock_, rx_.data(), rx_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("netlink", fmt::format("{}: reading the dump failed: {}", what, std::strerror(errno)));
    }
    if (take_dump_interrupted(rx_.data(), static_cast<std::size_t>(n))) interrupted = true;
    reply_state st{.each = &each, .kernel_message = {}};
    const int r = mnl_cb_run2(rx_.data(), static_cast<std::size_t>(n), seq, port_, on_data, &st, control.data(),
                              static_cast<unsigned>(control.size()));
    if (r == MNL_CB_ERROR) return fail("netlink", refusal(what, errno, st.kernel_message));
    if (r == MNL_CB_STOP) break;
  }
  if (interrupted)
    return fail("netlink-dump-interrupted", fmt::format("{}: the table changed during the dump", what));
  return {};
}

result<void> delete_link_if_present(rtnetlink& nl, std::string_view name) {
  const std::string what = fmt::format("deleting link {}", name);
  return nl.request_tolerating(what.c_str(), ENODEV,
                               [&](char* b, std::uint32_t s) { return build_link_delete(b, s, name); });
}

result<int> ifindex_of(std::string_view name) {
  const std::string n(name);
  const unsigned index = ::if_nametoindex(n.c_str());
  if (index == 0) return fail("no-such-link", fmt::format("there is no network interface named '{}'", n));
  return static_cast<int>(index);
}

}  // namespace netpen::backends
