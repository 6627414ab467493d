// Scripted-segment harness for the TCP endpoint tests: plays the child
// (feeds segment_in, tracks the child's own seq/ack), advances a fake clock
// and collects what poll() emits with payloads copied out.
#pragma once
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/packet/frame.hpp"
#include "net/tcp/tcp_endpoint.hpp"

namespace tcptest {

namespace F = netpen::packet::tcp_flag;
using namespace std::chrono_literals;
using netpen::tcp::config;
using netpen::tcp::endpoint;
using netpen::tcp::segment_in;
using netpen::tcp::segment_out;
using netpen::tcp::state;

inline std::vector<std::byte> bytes(const std::string& s) {
  std::vector<std::byte> v;
  for (char c : s) v.push_back(static_cast<std::byte>(c));
  return v;
}
inline std::vector<std::byte> pattern(std::size_t n, std::size_t start = 0) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((start + i) * 7 % 251);
  return v;
}
inline std::string text(const std::vector<std::byte>& v) {
  std::string s;
  for (auto b : v) s.push_back(static_cast<char>(b));
  return s;
}

struct captured {
  std::uint32_t seq = 0, ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> wscale;
  std::vector<std::byte> data;
  std::size_t first_span = 0;  // size of payload[0], to see ring wrap
  bool has(std::uint8_t f) const { return (flags & f) == f; }
  bool only(std::uint8_t f) const { return flags == f; }
};

inline config small_config() {
  config c;
  c.mss = 1000;
  c.rx_capacity = 4000;
  c.tx_capacity = 8000;
  c.rto_initial = 200ms;
  c.rto_min = 200ms;
  c.rto_max = 5s;
  c.max_retransmissions = 4;
  c.time_wait = 2s;
  c.syn_received_timeout = 30s;
  return c;
}

// Every segment `ep` sends at `now`, its payload gathered into one buffer.
inline std::vector<captured> poll_segments(endpoint& ep, netpen::tcp::time_point now) {
  std::vector<captured> out;
  ep.poll(now, [&](const segment_out& s) {
    captured c{s.seq, s.ack, s.flags, s.window, s.mss, s.wscale, {}, s.payload[0].size()};
    for (auto& sp : s.payload) c.data.insert(c.data.end(), sp.begin(), sp.end());
    REQUIRE(c.data.size() == s.payload_size());
    out.push_back(std::move(c));
  });
  return out;
}

struct syn_opts {
  std::optional<std::uint16_t> mss = 1000;
  std::optional<std::uint8_t> wscale;
  std::uint16_t window = 65535;
};

struct harness {
  config cfg;
  std::uint32_t our_isn;
  std::uint32_t child_isn;
  netpen::tcp::time_point now = netpen::tcp::time_point{} + 1000s;
  std::optional<endpoint> ep;
  std::uint32_t cseq = 0;      // child's next sequence number
  std::uint32_t cack = 0;      // what the child acknowledges (our next byte expected)
  std::uint16_t cwin = 65535;  // child's raw window field for later segments
  netpen::tcp::rx_sink* sink = nullptr;  // offered in-order data first when set

  explicit harness(config c = small_config(), syn_opts o = {}, std::uint32_t ours = 1000,
                   std::uint32_t theirs = 5000)
      : cfg(c), our_isn(ours), child_isn(theirs) {
    segment_in syn;
    syn.seq = child_isn;
    syn.flags = F::syn;
    syn.window = o.window;
    syn.mss = o.mss;
    syn.wscale = o.wscale;
    ep.emplace(syn, our_isn, cfg, now);
    cseq = child_isn + 1;
    cack = our_isn + 1;
  }

  void advance(netpen::tcp::duration d) { now += d; }

  std::vector<captured> poll() { return poll_segments(*ep, now); }

  void raw(std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::uint16_t window,
           const std::vector<std::byte>& payload = {}) {
    segment_in s;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.window = window;
    s.payload = payload;
    ep->on_segment(s, now, sink);
  }
  // The child sends `payload` (with ACK) at its current sequence and advances.
  void send(const std::vector<std::byte>& payload, std::uint8_t extra = 0) {
    raw(cseq, cack, static_cast<std::uint8_t>(F::ack | extra), cwin, payload);
    cseq += static_cast<std::uint32_t>(payload.size()) + ((extra & F::fin) ? 1u : 0u);
  }
  // The child acknowledges everything up to `upto` with window `win`.
  void ack(std::uint32_t upto, std::optional<std::uint16_t> win = {}) {
    cack = upto;
    if (win) cwin = *win;
    raw(cseq, cack, F::ack, cwin);
  }
  void fin() { send({}, F::fin); }

  // Accept, take the SYN-ACK, send the handshake ACK.
  void establish() {
    ep->accept(now);
    auto out = poll();
    REQUIRE(out.size() == 1);
    REQUIRE(out[0].has(F::syn | F::ack));
    ack(our_isn + 1);
    REQUIRE(ep->current_state() == state::established);
    REQUIRE(poll().empty());
  }
  std::size_t write(const std::vector<std::byte>& d) { return ep->tx_write(d); }
  std::vector<std::byte> read_all() {
    std::vector<std::byte> v;
    for (auto& sp : ep->rx_data()) v.insert(v.end(), sp.begin(), sp.end());
    ep->rx_consume(v.size());
    return v;
  }
};

inline std::vector<std::byte> joined(const std::vector<captured>& segs) {
  std::vector<std::byte> v;
  for (auto& s : segs) v.insert(v.end(), s.data.begin(), s.data.end());
  return v;
}

}  // namespace tcptest
