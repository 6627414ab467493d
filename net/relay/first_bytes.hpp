// What the tree's flows claim under --root, from copies of their first
// packets: the kernel forwards the flows itself, and the tree's table copies
// (NFLOG, no verdict: nothing waits) the first few packets each TCP flow
// sends; the gate queues the first UDP datagrams of a flow anyway. Pure: no
// I/O, no clock.
//
// Theory of operation:
//  - TCP. A flow is tracked from its SYN (its sequence number + 1 is the
//    stream's offset 0); segments without a SYN seen first are ignored. Each
//    segment's payload goes to the flow's stream_reassembly, which hands out
//    the bytes that became contiguous: out-of-order segments are held
//    (bounded), retransmits and overlaps are trimmed to what is new, and the
//    stream stops at max_stream_bytes. The in-order bytes feed the flow's
//    sniff::stream_sniffer; once it is done, the flow is forgotten and its
//    claim (when it recognised something) is the answer. A FIN or RST ends
//    the tracking too.
//  - QUIC. UDP datagrams to port 443, in order, feed a sniff::quic_sniffer
//    until it is done.
//  - Bounds. At most max_flows flows are tracked at once (new ones beyond
//    are not); each holds at most max_held_segments out-of-order segments.
//    The owner calls forget() when the flow ends (conntrack), so a flow
//    whose gap never fills costs nothing after it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "net/relay/flow_key.hpp"
#include "net/sniff/claim.hpp"
#include "net/sniff/quic_sniffer.hpp"
#include "net/sniff/stream_sniffer.hpp"

namespace netpen::relay {

// One direction of a TCP stream put back in order, from its offset 0 up to
// a byte limit. Sequence numbers wrap (RFC 793 arithmetic).
class stream_reassembly {
 public:
  static constexpr std::size_t max_held_segments = 16;

  stream_reassembly(std::uint32_t first_seq, std::size_t limit) : start_(first_seq), limit_(limit) {}

  // The segment at `seq`: the bytes that are now contiguous beyond what was
  // handed out before (empty when it filled no gap, was old or was held).
  std::vector<std::byte> add(std::uint32_t seq, std::span<const std::byte> payload);
  std::size_t delivered() const { return delivered_; }
  std::size_t held() const { return held_.size(); }
  bool full() const { return delivered_ >= limit_; }

 private:
  void take(std::size_t offset, std::span<const std::byte> bytes, std::vector<std::byte>& out);
  void drain_held(std::vector<std::byte>& out);

  std::uint32_t start_;  // the sequence number of offset 0
  std::size_t limit_;
  std::size_t delivered_ = 0;
  std::map<std::size_t, std::vector<std::byte>> held_;  // out of order, by offset
};

class first_bytes {
 public:
  static constexpr std::size_t max_flows = 4096;
  static constexpr std::size_t max_stream_bytes = sniff::stream_sniffer::max_bytes;

  struct tcp_segment {
    std::uint32_t seq = 0;
    std::uint8_t flags = 0;  // packet::tcp_flag bits
    std::span<const std::byte> payload;
  };

  // A segment the flow `key` sent (original direction): its claim once the
  // sniffer recognised the stream's first bytes (once per flow).
  std::optional<sniff::claim> on_segment(const flow_key& key, const tcp_segment& segment);
  // A datagram of the UDP flow `key` (only port 443 is looked at): its
  // QUIC Initial's claim once complete (once per flow).
  std::optional<sniff::claim> on_datagram(const flow_key& key, std::span<const std::byte> datagram);
  // The flow ended: its state goes.
  void forget(const flow_key& key);
  std::size_t tracked() const { return streams_.size() + datagrams_.size(); }

 private:
  struct stream {
    stream_reassembly bytes;
    sniff::stream_sniffer sniffer;
  };
  std::unordered_map<flow_key, stream, flow_key_hash> streams_;
  std::unordered_map<flow_key, sniff::quic_sniffer, flow_key_hash> datagrams_;
  // Flows whose datagrams were sniffed already (bounded like the others).
  std::unordered_set<flow_key, flow_key_hash> datagrams_done_;
};

}  // namespace netpen::relay
