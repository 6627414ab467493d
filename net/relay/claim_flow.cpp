// A TCP connection judged by its claimed name under --root (see claim_flow.hpp).
#include "net/relay/claim_flow.hpp"

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>

#include <unistd.h>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/host_socket.hpp"
#include "net/relay/transparent_flow.hpp"
#include "net/sniff/stream_sniffer.hpp"

namespace netpen::relay {

claim_flow::claim_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key,
                       bool pending, gate_hooks hooks)
    : ctx_(ctx),
      strand_(std::move(strand)),
      tree_(strand_),
      wait_(strand_),
      key_(key),
      pending_(pending),
      hooks_(std::move(hooks)) {}

void claim_flow::start(asio::ip::tcp::socket tree) {
  // The socket moves to this flow's strand (it was accepted on another).
  asio::error_code ec;
  const auto protocol = tree.local_endpoint(ec).protocol();
  const int fd = ec ? -1 : tree.release(ec);
  asio::post(strand_, [self = shared_from_this(), protocol, fd] {
    if (fd < 0) return;
    asio::error_code assign_ec;
    self->tree_.assign(protocol, fd, assign_ec);
    if (assign_ec) {
      ::close(fd);
      return;
    }
    if (self->closed_) return self->refuse();
    // Afterwards (failed or not): a flow not handed over is reset.
    asio::co_spawn(self->strand_, self->run(), log_failure("the claim flow " + to_string(self->key_), [self] {
                     if (!self->spliced_) self->refuse();
                   }));
  });
}

void claim_flow::shutdown() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->spliced_) self->spliced_->shutdown();
    self->refuse();
  });
}

// An RST to the tree (SO_LINGER 0 close); the flow is over.
void claim_flow::refuse() {
  closed_ = true;
  wait_.cancel();
  asio::error_code ignored;
  if (tree_.is_open()) tree_.set_option(asio::socket_base::linger(true, 0), ignored);
  tree_.close(ignored);
}

asio::awaitable<void> claim_flow::run() {
  const bool by_claim = pending_ || ctx_.judged_by_claim(key_);
  if (by_claim) co_await read_first_bytes();
  if (closed_) co_return;
  if (tree_gone_) {  // the tree reset or failed: nothing to decide, nothing to publish
    if (pending_ && hooks_.refused) hooks_.refused(key_);
    co_return refuse();
  }
  // (No `?:` around co_await: GCC 12 destroys a temporary it never built.)
  policy::decision d;
  if (by_claim)
    d = co_await ctx_.judge_claim(key_, claim_);
  else
    d = co_await ctx_.judge(key_);
  co_await ctx_.owner_looked_up();
  if (closed_) co_return;
  if (d.what != policy::verdict::allow) {
    log::debug("{}: refused by claim \"{}\": {}", to_string(key_), claim_.name(), d.reason);
    ctx_.denied(key_, d, claim_);
    if (hooks_.refused) hooks_.refused(key_);
    co_return refuse();
  }
  if (hooks_.allowed) hooks_.allowed(key_, d, claim_);
  hand_over();
}

// The tree's first bytes into the sniffer until it is done, the tree stops
// sending (EOF) or the wait is over: the timer cancels the pending read (a
// read that completed meanwhile keeps its bytes). `round_` tells a late
// timer handler of an earlier read apart.
asio::awaitable<void> claim_flow::read_first_bytes() {
  sniff::stream_sniffer sniffer;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::byte> buf(sniff::stream_sniffer::max_bytes);
  while (sniffer.current() == sniff::stream_sniffer::state::need_more) {
    const auto round = ++round_;
    expired_ = false;
    wait_.expires_at(start + (first_.empty() ? first_byte_wait : total_wait));
    wait_.async_wait([self = shared_from_this(), round](const asio::error_code& ec) {
      if (ec || round != self->round_) return;
      self->expired_ = true;
      asio::error_code ignored;
      self->tree_.cancel(ignored);
    });
    auto [ec, n] = co_await tree_.async_read_some(asio::buffer(buf), use_tuple);
    wait_.cancel();
    if (closed_) break;
    if (n > 0) {
      first_.insert(first_.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
      sniffer.feed(std::span<const std::byte>(buf.data(), n));
    }
    if (ec == asio::error::eof || (ec == asio::error::operation_aborted && expired_)) break;
    if (ec) {
      tree_gone_ = true;
      break;
    }
  }
  ++round_;  // no late handler cancels anything from here on
  claim_ = sniffer.result();
  log::debug("{}: {} first bytes, claim {} \"{}\"", to_string(key_), first_.size(), sniff::to_string(claim_.protocol),
             claim_.name());
}

// Allowed: a transparent_flow connects (or dials the proxy), sends the
// buffered bytes on and splices.
void claim_flow::hand_over() {
  spliced_ = std::make_shared<transparent_flow>(ctx_, strand_, key_);
  if (hooks_.connect_failed)
    spliced_->on_connect_failed([key = key_, told = hooks_.connect_failed](std::string_view end) { told(key, end); });
  spliced_->attach(std::move(tree_), std::move(first_));
}

}  // namespace netpen::relay
