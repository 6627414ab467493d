// One TCP connection of the tree whose verdict waits for the name its first
// bytes claim, under --root (claim mode: the policy judges claimed names,
// policy::judges_claimed_names). The gate let its SYN go without a verdict
// (gate_table::await_claim); the host's TPROXY rule handed the connection
// to the gate's transparent listener, which made this flow.
//
// Lifecycle: reading -> judged -> refused | handed over.
//  - reading: the tree's first bytes are read into a buffer and fed to a
//    stream_sniffer, waiting at most `first_byte_wait` for the first byte
//    (a server-speaks-first protocol pays that once) and `total_wait` in all
//    while a ClientHello or request head is still incomplete. An error or
//    reset from the tree ends the flow silently (nothing was decided).
//  - judged: flow_context::judge_claim with what was sniffed (an empty
//    claim: by address). A flow the gate never saw (not pending in its
//    table) is judged here in full: by address first when it is not judged
//    by claim at all.
//  - refused: the `denied` event, and the tree's connection is closed with
//    an RST (SO_LINGER 0). Nothing reached the destination.
//  - handed over: the gate is told the verdict (it publishes flow_open with
//    the claim and the policy in the record), and a transparent_flow
//    connects (directly, or through the proxy under --proxy), sends the
//    buffered bytes first and splices both ways with half-close.
// Everything runs on the flow's strand; shutdown() may come from anywhere.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "net/relay/flow_context.hpp"
#include "net/relay/flow_key.hpp"
#include "net/sniff/claim.hpp"

namespace netpen::relay {

class transparent_flow;

class claim_flow final : public std::enable_shared_from_this<claim_flow> {
 public:
  // The wait for the tree's first bytes (docs/policy.md).
  static constexpr std::chrono::milliseconds first_byte_wait{250};
  static constexpr std::chrono::milliseconds total_wait{2000};

  // What the gate learns from the flow (called on the flow's strand).
  struct gate_hooks {
    // An allowing verdict, before the flow connects: flow_open.
    std::function<void(const flow_key&, const policy::decision&, const sniff::claim&)> allowed;
    // A refusing verdict (the denied event is the flow's own).
    std::function<void(const flow_key&)> refused;
    // The direct connect failed ("refused", "unreachable", "timeout").
    std::function<void(const flow_key&, std::string_view end)> connect_failed;
  };

  // `pending`: the gate let the SYN go and waits for this verdict; false:
  // the gate never saw the flow (it is judged here in full).
  claim_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key, bool pending,
             gate_hooks hooks);
  // Takes the accepted connection (from any strand) and starts.
  void start(asio::ip::tcp::socket tree);
  // Ends the flow now (the run ends): the tree's connection reset.
  void shutdown();

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> read_first_bytes();
  asio::awaitable<policy::decision> verdict();
  void refuse();
  void hand_over();

  flow_context& ctx_;
  asio::strand<asio::any_io_executor> strand_;
  asio::ip::tcp::socket tree_;
  asio::steady_timer wait_;
  flow_key key_;
  bool pending_;
  gate_hooks hooks_;
  std::vector<std::byte> first_;  // the tree's bytes so far, sent on once allowed
  sniff::claim claim_;
  unsigned round_ = 0;      // the read the wait's timer belongs to
  bool expired_ = false;    // the wait ended the current read
  bool tree_gone_ = false;  // reset or error while reading: nothing to decide
  bool closed_ = false;
  std::shared_ptr<transparent_flow> spliced_;
};

}  // namespace netpen::relay
