// The --root egress point (see rootful_egress_point.hpp).
#include "capture/rootful_egress_point.hpp"

#include <linux/netlink.h>

#include <random>

#include <fmt/format.h>

#include "capture/forward_record.hpp"
#include "capture/wire_tap.hpp"
#include "net/netfilter/nflog_codec.hpp"

namespace netpen::capture {
namespace {

// Groups are per network namespace; a run takes the first free one from a
// random start in a range other NFLOG users (ulogd: 0-32) leave alone.
constexpr std::uint16_t first_group = 0x6e70;  // "np"
constexpr std::uint16_t group_span = 4096;
constexpr unsigned group_attempts = 64;

}  // namespace

result<std::unique_ptr<rootful_egress_point>> rootful_egress_point::open(const flow_comments& comments) {
  const auto start = static_cast<std::uint16_t>(std::random_device{}() % group_span);
  std::optional<error> last;
  for (unsigned i = 0; i < group_attempts; ++i) {
    const auto group = static_cast<std::uint16_t>(first_group + (start + i) % group_span);
    auto socket = netfilter::netlink_socket::open_log(group);
    if (!socket) {
      last = socket.error();
      if (socket.error().code == "nflog-busy") continue;
      break;
    }
    auto conntrack = netfilter::netlink_socket::open_conntrack_events(false);
    if (!conntrack) return fail("capture-nflog", "cannot capture the egress of a --root run: " + conntrack.error().message);
    std::unique_ptr<rootful_egress_point> point(
        new rootful_egress_point(comments, std::move(*socket), std::move(*conntrack), group));
    auto reader = fd_reader::open({point->socket_.fd(), point->conntrack_.fd()}, [p = point.get()] { p->drain(); },
                                  "egress capture");
    if (!reader) return unexpected<error>(reader.error());
    point->reader_ = std::move(*reader);
    return point;
  }
  return fail("capture-nflog", fmt::format("cannot capture the egress of a --root run: {}", last ? last->message : ""));
}

rootful_egress_point::rootful_egress_point(const flow_comments& comments, netfilter::netlink_socket log,
                                           netfilter::netlink_socket conntrack, std::uint16_t group)
    : comments_(comments), socket_(std::move(log)), conntrack_(std::move(conntrack)), group_(group) {}

rootful_egress_point::~rootful_egress_point() {
  if (reader_) reader_->stop();
}

interface_info rootful_egress_point::interface() {
  interface_info itf;
  itf.link_type = linktype_raw;
  itf.snaplen = wire_tap::snap_length;  // NFLOG copies at most 64 KiB; the engine's sockets' packets may be larger
  itf.name = "egress";
  itf.description =
      "the host's interfaces other than the tree's veth: this run's kernel-forwarded flows (NFLOG in the run's host "
      "table, after the masquerade on the way out, before it is undone on the way in) and netpen's own host sockets "
      "for the tree (AF_PACKET), as they leave the host";
  return itf;
}

std::optional<error> rootful_egress_point::last_error() const {
  if (broken_.load()) return error{"capture-nflog", "reading the egress capture's NFLOG socket failed; packets after "
                                                    "that are missing"};
  return std::nullopt;
}

void rootful_egress_point::read_conntrack() {
  for (;;) {
    const auto got = conntrack_.drain([this](const nlmsghdr* m) {
      if (const auto e = netfilter::parse_conntrack(m)) flows_.on_conntrack(*e);
    });
    if (!got || (got->messages == 0 && !got->overrun)) return;  // a broken socket only costs the comments
  }
}

std::string rootful_egress_point::comment_for(const relay::host_conn& c) {
  if (!comments_.any()) return {};
  auto child = flows_.child_of(c);
  if (!child) {
    read_conntrack();  // the entry of a flow's first packet is confirmed after the packet was logged
    child = flows_.child_of(c);
  }
  return child ? comments_.for_flow(*child) : std::string();
}

void rootful_egress_point::drain() {
  read_conntrack();
  if (broken_.load(std::memory_order_relaxed)) return;
  for (;;) {
    const auto got = socket_.drain([this](const nlmsghdr* m) {
      const auto logged = netfilter::parse_logged_packet(m);
      if (!logged || logged->group != group_) return;
      const auto record = record_of(*logged);
      capture_file* file = file_.load(std::memory_order_acquire);
      if (!record || file == nullptr) return;
      const std::string comment = record->host_side ? comment_for(*record->host_side) : std::string();
      file->packet(0, wall_clock_ns(), record->ip_packet, record->original_length, comment);
    });
    if (!got) {
      broken_.store(true);
      return;
    }
    if (got->overrun) overruns_.fetch_add(1, std::memory_order_relaxed);
    if (got->messages == 0 && !got->overrun) return;
  }
}

}  // namespace netpen::capture
