// TCP first-bytes reassembly and sniffing for the rootful gate (see first_bytes.hpp).
#include "net/relay/first_bytes.hpp"

#include <algorithm>

namespace netpen::relay {

std::vector<std::byte> stream_reassembly::add(std::uint32_t seq, std::span<const std::byte> payload) {
  std::vector<std::byte> out;
  // The segment's offset from the stream's start, signed: a segment that
  // starts before offset 0 (a retransmitted SYN's data, garbage) is cut.
  const auto rel = static_cast<std::int32_t>(seq - start_);
  std::size_t offset = 0;
  if (rel < 0) {
    const auto before = static_cast<std::size_t>(-static_cast<std::int64_t>(rel));
    if (before >= payload.size()) return out;
    payload = payload.subspan(before);
  } else {
    offset = static_cast<std::size_t>(rel);
  }
  if (payload.empty() || offset >= limit_) return out;
  payload = payload.first(std::min(payload.size(), limit_ - offset));
  if (offset <= delivered_) {
    take(offset, payload, out);
    drain_held(out);
    return out;
  }
  auto slot = held_.find(offset);
  if (slot == held_.end()) {
    if (held_.size() >= max_held_segments) return out;  // dropped: a retransmit may bring it again
    slot = held_.emplace(offset, std::vector<std::byte>{}).first;
  }
  // A later copy from the same offset keeps the longer one.
  if (payload.size() > slot->second.size()) slot->second.assign(payload.begin(), payload.end());
  return out;
}

// Appends what of `bytes` (at `offset`, not after delivered_) is new.
void stream_reassembly::take(std::size_t offset, std::span<const std::byte> bytes, std::vector<std::byte>& out) {
  const std::size_t end = offset + bytes.size();
  if (end <= delivered_) return;  // a retransmit of what was handed out
  const auto fresh = bytes.subspan(delivered_ - offset);
  out.insert(out.end(), fresh.begin(), fresh.end());
  delivered_ = end;
}

void stream_reassembly::drain_held(std::vector<std::byte>& out) {
  while (!held_.empty() && held_.begin()->first <= delivered_) {
    auto node = held_.extract(held_.begin());
    take(node.key(), node.mapped(), out);
  }
}

std::optional<sniff::claim> first_bytes::on_segment(const flow_key& key, const tcp_segment& segment) {
  const bool syn = (segment.flags & packet::tcp_flag::syn) != 0;
  const bool ends = (segment.flags & (packet::tcp_flag::fin | packet::tcp_flag::rst)) != 0;
  auto it = streams_.find(key);
  if (it == streams_.end()) {
    // Only a SYN starts a flow (its retransmissions find it tracked).
    if (!syn || (segment.flags & packet::tcp_flag::ack) != 0 || streams_.size() >= max_flows) return std::nullopt;
    it = streams_.emplace(key, stream{stream_reassembly(segment.seq + 1, max_stream_bytes), {}}).first;
  }
  std::optional<sniff::claim> found;
  if (!syn && !segment.payload.empty()) {
    auto& s = it->second;
    const auto fresh = s.bytes.add(segment.seq, segment.payload);
    if (!fresh.empty() && s.sniffer.feed(fresh) == sniff::stream_sniffer::state::done) {
      if (!s.sniffer.result().empty()) found = s.sniffer.result();
      streams_.erase(it);
      return found;
    }
    if (s.bytes.full()) {
      streams_.erase(it);
      return found;
    }
  }
  if (ends) streams_.erase(it);
  return found;
}

std::optional<sniff::claim> first_bytes::on_datagram(const flow_key& key, std::span<const std::byte> datagram) {
  if (key.protocol != packet::proto_udp || key.dst_port != 443 || datagrams_done_.contains(key)) return std::nullopt;
  auto it = datagrams_.find(key);
  if (it == datagrams_.end()) {
    if (datagrams_.size() >= max_flows) return std::nullopt;
    it = datagrams_.emplace(key, sniff::quic_sniffer{}).first;
  }
  if (it->second.feed(datagram) != sniff::quic_sniffer::state::done) return std::nullopt;
  std::optional<sniff::claim> found;
  if (!it->second.result().empty()) found = it->second.result();
  datagrams_.erase(it);
  if (datagrams_done_.size() >= max_flows) datagrams_done_.clear();
  datagrams_done_.insert(key);
  return found;
}

void first_bytes::forget(const flow_key& key) {
  streams_.erase(key);
  datagrams_.erase(key);
  datagrams_done_.erase(key);
}

}  // namespace netpen::relay
