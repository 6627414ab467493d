// libFuzzer target: the relay's TCP endpoint (net/tcp) fed a scripted
// conversation. The input is a small header, then a list of steps (the
// first byte of each picks it, see `step`): a segment from the child
// (flags, seq and ack relative to where the conversation is, window,
// MSS/wscale options, a payload, optionally through an rx_sink), an
// application write, read, close, grow or release of the buffers, accept,
// abort, refuse, and time steps (a fixed delay, or straight to the next
// deadline). poll() follows every step.
//
// Both byte streams are a function of the sequence number (byte at seq s is
// pattern(s)), so the endpoint's own invariants are cheap to check:
// in-order data delivered to the application (rx ring or sink) is exactly
// the child's stream from its ISN on; every payload it emits is the
// application's stream at that seq and no further than was written; a FIN
// goes out only after tx_close, right after the last written byte; every
// ACK field equals the child's ISN + 1 + bytes delivered (+1 after its FIN)
// and never moves back; no segment exceeds the effective MSS; the window
// field never offers more than the rx ring's free space; a closed endpoint
// emits nothing but a RST and has no deadline left.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

#include "fuzz/fuzz_require.hpp"
#include "net/tcp/seq.hpp"
#include "net/tcp/tcp_endpoint.hpp"

namespace {

using namespace netpen;
namespace flag = packet::tcp_flag;

std::byte child_byte(std::uint32_t s) { return std::byte(static_cast<std::uint8_t>(s * 7u + (s >> 8))); }
std::byte app_byte(std::uint32_t s) { return std::byte(static_cast<std::uint8_t>(s * 13u + (s >> 9) + 1)); }

class reader {
 public:
  reader(const std::uint8_t* p, std::size_t n) : p_(p), n_(n) {}
  bool empty() const { return n_ == 0; }
  std::uint8_t u8() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
  std::uint32_t u32() { return std::uint32_t{u16()} << 16 | u16(); }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

tcp::config config_from(reader& in) {
  static constexpr std::size_t capacities[] = {1, 7, 512, 4096, 65536, 1u << 20};
  static constexpr std::uint16_t mss[] = {1, 536, 1460, 65480};
  const std::uint8_t b = in.u8();
  tcp::config cfg;
  cfg.rx_capacity = capacities[b % 6];
  cfg.tx_capacity = capacities[(b / 6) % 6];
  cfg.tx_initial_capacity = std::min<std::size_t>(cfg.tx_capacity, 4096);
  cfg.mss = mss[(b / 36) % 4];
  cfg.max_retransmissions = 3;
  cfg.max_syn_retransmissions = 2;
  return cfg;
}

// The conversation: the endpoint, the two streams and what was checked.
struct conversation {
  tcp::config cfg;
  std::optional<tcp::endpoint> ep;
  tcp::time_point now{};
  std::uint32_t iss = 0;                 // ours
  std::optional<std::uint32_t> irs;      // the child's, once known
  std::uint32_t child_next = 0;          // where the child's next segment starts by default
  std::uint64_t written = 0;             // application bytes accepted into tx
  std::uint64_t delivered = 0;           // child bytes taken by the sink or read from rx
  bool closed_by_app = false;
  std::optional<std::uint32_t> last_ack;
  std::uint32_t our_max = 0;             // seq after the highest byte we emitted
  bool trace = std::getenv("FUZZ_TRACE") != nullptr;  // replaying one input: print each step

  void check_delivered(std::span<const std::byte> data) {
    if (data.empty()) return;
    FUZZ_REQUIRE(irs.has_value());
    for (std::size_t i = 0; i < data.size(); ++i)
      FUZZ_REQUIRE(data[i] == child_byte(seq_at_delivered(delivered + i)));
    delivered += data.size();
  }
  std::uint32_t seq_at_delivered(std::uint64_t n) const { return tcp::seq::add(*irs + 1, static_cast<std::size_t>(n)); }

  void check_emitted(const tcp::segment_out& s, bool was_closed) {
    if (trace)
      std::fprintf(stderr, "  out %s seq=%u ack=%u flags=%#x win=%u len=%zu\n", tcp::to_string(ep->current_state()), s.seq,
                   s.ack, s.flags, s.window, s.payload_size());
    if (was_closed) FUZZ_REQUIRE((s.flags & flag::rst) != 0);
    if ((s.flags & flag::rst) != 0) return;
    const std::size_t len = s.payload_size();
    FUZZ_REQUIRE(len <= std::max<std::size_t>(1, std::min<std::size_t>(ep->peer_mss(), cfg.mss)));
    const std::uint32_t first = (s.flags & flag::syn) != 0 ? iss : iss + 1;
    const std::uint64_t offset = static_cast<std::uint32_t>(s.seq - first);
    if ((s.flags & flag::syn) != 0) FUZZ_REQUIRE(s.seq == iss && len == 0);
    // A bare ACK after our FIN carries the seq past it.
    FUZZ_REQUIRE(offset + len <= written || (len == 0 && closed_by_app && offset == written + 1));
    std::uint32_t at = s.seq;
    for (const auto& piece : s.payload)
      for (std::byte b : piece) FUZZ_REQUIRE(b == app_byte(at++));
    if ((s.flags & flag::fin) != 0) FUZZ_REQUIRE(closed_by_app && offset + len == written);
    our_max = tcp::seq::max(our_max, tcp::seq::add(s.seq, len + ((s.flags & (flag::syn | flag::fin)) ? 1 : 0)));
    check_ack_and_window(s);
  }

  void check_ack_and_window(const tcp::segment_out& s) {
    if ((s.flags & flag::ack) == 0) return;
    FUZZ_REQUIRE(irs.has_value());
    const std::uint32_t in_order = seq_at_delivered(delivered + ep->rx_size());
    FUZZ_REQUIRE(s.ack == in_order || s.ack == in_order + 1);
    if (last_ack) FUZZ_REQUIRE(tcp::seq::ge(s.ack, *last_ack));
    last_ack = s.ack;
    const bool syn = (s.flags & flag::syn) != 0;
    const std::size_t shift = syn || !ep->peer_wscale() ? 0 : ep->our_wscale();
    FUZZ_REQUIRE((std::size_t{s.window} << shift) <= cfg.rx_capacity - ep->rx_size());
  }

  void poll() {
    const bool was_closed = ep->is_closed();
    ep->poll(now, [&](const tcp::segment_out& s) { check_emitted(s, was_closed); });
    FUZZ_REQUIRE(ep->rx_size() <= cfg.rx_capacity);
    if (ep->is_closed()) FUZZ_REQUIRE(!ep->next_deadline().has_value());
    if (auto d = ep->next_deadline()) FUZZ_REQUIRE(*d >= now);
  }
};

// Takes up to `budget` bytes of each in-order payload straight away.
class budget_sink final : public tcp::rx_sink {
 public:
  budget_sink(conversation& c, std::size_t budget) : c_(c), budget_(budget) {}
  std::size_t take(std::span<const std::byte> payload) override {
    const std::size_t n = std::min(budget_, payload.size());
    c_.check_delivered(payload.first(n));
    budget_ -= n;
    return n;
  }

 private:
  conversation& c_;
  std::size_t budget_;
};

void child_segment(conversation& c, reader& in) {
  tcp::segment_in seg;
  seg.flags = static_cast<std::uint8_t>(in.u8() & 0x3f);
  const auto seq_delta = static_cast<std::int16_t>(in.u16());
  const auto ack_delta = static_cast<std::int16_t>(in.u16());
  seg.seq = c.child_next + static_cast<std::uint32_t>(static_cast<std::int32_t>(seq_delta));
  seg.ack = c.our_max + static_cast<std::uint32_t>(static_cast<std::int32_t>(ack_delta));
  seg.window = in.u16();
  const std::uint8_t opts = in.u8();
  if (opts & 1) seg.mss = in.u16();
  if (opts & 2) seg.wscale = in.u8();
  std::size_t len = in.u8();
  if (opts & 4) len *= 64;
  std::vector<std::byte> payload(len);
  for (std::size_t i = 0; i < len; ++i) payload[i] = child_byte(tcp::seq::add(seg.seq, i));
  seg.payload = payload;
  const auto before = c.ep->current_state();
  if (c.trace)
    std::fprintf(stderr, "child seq=%u ack=%u flags=%#x win=%u len=%zu (state %s)\n", seg.seq, seg.ack, seg.flags,
                 seg.window, len, tcp::to_string(before));
  if (opts & 8) {
    budget_sink sink(c, static_cast<std::size_t>(in.u8()) * 16);
    c.ep->on_segment(seg, c.now, &sink);
  } else {
    c.ep->on_segment(seg, c.now);
  }
  if (before == tcp::state::syn_sent && c.ep->current_state() == tcp::state::established) {
    c.irs = seg.seq;
    c.child_next = seg.seq + 1;
  }
  // The child's stream moves on when it sent in order.
  if (seg.seq == c.child_next) c.child_next = tcp::seq::add(seg.seq, len);
}

void app_write(conversation& c, reader& in) {
  const std::size_t want = in.u16();
  const bool scatter = (want & 1) != 0;
  const std::uint32_t start = tcp::seq::add(c.iss + 1, static_cast<std::size_t>(c.written));
  if (scatter) {
    auto spans = c.ep->tx_free_spans();
    std::size_t n = 0;
    for (auto& s : spans)
      for (std::size_t i = 0; i < s.size() && n < want; ++i) s[i] = app_byte(start + static_cast<std::uint32_t>(n++));
    c.ep->tx_commit(n);
    c.written += std::min(n, want);
    return;
  }
  std::vector<std::byte> data(want);
  for (std::size_t i = 0; i < want; ++i) data[i] = app_byte(start + static_cast<std::uint32_t>(i));
  c.written += c.ep->tx_write(data);
}

void app_read(conversation& c, reader& in) {
  const std::size_t n = std::min<std::size_t>(in.u16(), c.ep->rx_size());
  std::size_t left = n;
  for (const auto& s : c.ep->rx_data()) {
    const std::size_t k = std::min(left, s.size());
    c.check_delivered(s.first(k));
    left -= k;
  }
  c.ep->rx_consume(n);
}

void step(conversation& c, reader& in) {
  const int op = in.u8() % 12;
  if (c.trace) std::fprintf(stderr, "step %d (written %llu, delivered %llu)\n", op,
                            static_cast<unsigned long long>(c.written), static_cast<unsigned long long>(c.delivered));
  switch (op) {
    case 0: case 1: case 2: child_segment(c, in); break;
    case 3: app_write(c, in); break;
    case 4: app_read(c, in); break;
    case 5:
      c.ep->tx_close();
      c.closed_by_app = true;
      break;
    case 6: c.now += std::chrono::milliseconds(in.u16()); break;
    case 7:
      for (int i = 0; i < 32; ++i) {
        auto d = c.ep->next_deadline();
        if (!d) break;
        c.now = *d;
        c.poll();
      }
      break;
    case 8: c.ep->accept(c.now); break;
    case 9: c.ep->abort(); break;
    case 10: c.ep->refuse(); break;
    default:
      switch (in.u8() % 3) {
        case 0: c.ep->tx_grow(); break;
        case 1: c.ep->tx_grow_to_max(); break;
        default:
          if (c.ep->idle_with_buffers()) c.ep->release_buffers();
          break;
      }
  }
  c.poll();
  FUZZ_REQUIRE(c.ep->bytes_in_flight() <= c.written + 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 8192) return 0;
  reader in(data, size);
  conversation c;
  c.cfg = config_from(in);
  const std::uint8_t mode = in.u8();
  c.iss = in.u32();
  c.our_max = c.iss;
  if (mode & 1) {
    c.ep.emplace(tcp::active_open, c.iss, c.cfg, c.now);
  } else {
    tcp::segment_in syn;
    syn.flags = flag::syn;
    syn.seq = in.u32();
    syn.window = in.u16();
    if (mode & 2) syn.mss = in.u16();
    if (mode & 4) syn.wscale = in.u8();
    c.irs = syn.seq;
    c.child_next = syn.seq + 1;
    c.ep.emplace(syn, c.iss, c.cfg, c.now);
  }
  c.closed_by_app = false;
  c.poll();
  while (!in.empty()) step(c, in);
  return 0;
}
