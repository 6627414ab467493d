// The rootful gate's view of what flows claim (see kernel_gate.hpp, "Claims"):
// the NFLOG copies of each TCP flow's first packets and the queued UDP/443
// datagrams go through first_bytes; a claim goes into the flow's record.
// The copies carry no verdict, so nothing here ever delays a packet.
#include <asio/co_spawn.hpp>
#include <linux/netlink.h>
#include <unistd.h>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/netfilter/nflog_codec.hpp"
#include "net/relay/flow_services.hpp"
#include "net/relay/kernel_gate.hpp"
#include "net/relay/l3_frame.hpp"

namespace netpen::relay {

result<void> kernel_gate::watch_first_bytes() {
  if (!path_.first_bytes) return {};
  asio::error_code ec;
  first_bytes_fd_.emplace(strand_);
  first_bytes_fd_->assign(::dup(path_.first_bytes->fd()), ec);
  if (ec) return fail("kernel-path", "cannot watch the first-bytes log socket: " + ec.message());
  asio::co_spawn(strand_, read_first_bytes(), log_failure("the first-bytes reader"));
  return {};
}

asio::awaitable<void> kernel_gate::read_first_bytes() {
  bool warned = false;
  for (;;) {
    auto [ec] = co_await first_bytes_fd_->async_wait(asio::posix::stream_descriptor::wait_read, use_tuple);
    if (ec || stopping_.load()) co_return;
    auto drained = path_.first_bytes->drain([this](const nlmsghdr* m) {
      if (auto p = netfilter::parse_logged_packet(m)) on_first_bytes(p->payload, p->hw_protocol);
    });
    if (!drained) {
      log::warn("the first-bytes reader stopped: {}", drained.error().message);
      co_return;
    }
    if (drained->overrun && !warned) {
      warned = true;  // visibility only: some flows then show no claim
      log::warn("copies of the tree's first packets were lost (receive buffer full): some claims are missing");
    }
  }
}

void kernel_gate::on_first_bytes(std::span<const std::byte> l3, std::uint16_t hw_protocol) {
  thread_local std::vector<std::byte> scratch;
  const auto f = parse_l3(l3, hw_protocol, scratch);
  if (!f || f->kind != packet::l4_kind::tcp) return;
  const flow_key key{packet::proto_tcp, f->src, f->dst, f->tcp.src_port, f->tcp.dst_port};
  if (auto claim = first_bytes_.on_segment(key, {f->tcp.seq, f->tcp.flags, f->payload})) claimed(key, std::move(*claim));
}

void kernel_gate::sniff_datagram(const flow_key& key, const packet::frame& f) {
  if (!services_.observing() || f.kind != packet::l4_kind::udp) return;
  if (auto claim = first_bytes_.on_datagram(key, f.payload)) claimed(key, std::move(*claim));
}

void kernel_gate::claimed(const flow_key& key, sniff::claim claim) {
  log::debug("{} claims {} ({})", to_string(key), claim.name(), sniff::to_string(claim.protocol));
  // Learned after its flow_open (TCP: always): said once more for the
  // capture's comments; its flow_close carries it anyway.
  if (const auto* record = table_.claimed(key, std::move(claim))) services_.claimed(key, *record);
}

}  // namespace netpen::relay
