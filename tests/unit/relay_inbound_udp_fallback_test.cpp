// Unit tests for net/relay/inbound_udp_fallback: an inbound UDP flow moves
// to its next route when the current one is refused before any answer, and
// sends the unanswered datagrams again; fake routes record what they carry.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "net/relay/inbound_udp_fallback.hpp"

using netpen::relay::flow_key;
using netpen::relay::inbound_connector;
using netpen::relay::inbound_datagrams;
using netpen::relay::inbound_udp_fallback;

namespace {

// One route's path: what it was sent, whether it is closed, and the
// callbacks the flow gave it (to play the server or the sandbox's refusal).
struct fake_path final : inbound_datagrams {
  std::vector<std::string> sent;
  bool closed = false;
  flow_key k;
  inbound_connector::reply_fn reply;
  std::function<void()> refused;
  void send(std::span<const std::byte> p) override {
    sent.emplace_back(reinterpret_cast<const char*>(p.data()), p.size());
  }
  void close() override { closed = true; }
  const flow_key& key() const override { return k; }
};

struct routes {
  explicit routes(std::vector<bool> can) : can_open(std::move(can)) {}
  std::vector<std::shared_ptr<fake_path>> opened;  // every path opened, in order
  std::vector<int> opened_route;                   // which route opened each
  std::vector<bool> can_open;

  std::vector<inbound_udp_fallback::route_fn> make() {
    std::vector<inbound_udp_fallback::route_fn> out;
    for (int i = 0; i < static_cast<int>(can_open.size()); ++i) {
      out.push_back([this, i](inbound_connector::reply_fn reply,
                              std::function<void()> refused) -> std::shared_ptr<inbound_datagrams> {
        if (!can_open[static_cast<std::size_t>(i)]) return nullptr;
        auto p = std::make_shared<fake_path>();
        p->k.src_port = static_cast<std::uint16_t>(1000 + i);
        p->reply = std::move(reply);
        p->refused = std::move(refused);
        opened.push_back(p);
        opened_route.push_back(i);
        return p;
      });
    }
    return out;
  }
};

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> b(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) b[i] = static_cast<std::byte>(s[i]);
  return b;
}

void send(inbound_udp_fallback& f, const std::string& s) {
  const auto b = bytes_of(s);
  f.send(b);
}

}  // namespace

TEST_CASE("a refused first route moves the flow to the next and resends", "[publish]") {
  routes r({true, true});
  std::vector<std::string> to_client;
  auto flow = std::make_shared<inbound_udp_fallback>(r.make(), [&](std::vector<std::byte> p) {
    to_client.emplace_back(reinterpret_cast<const char*>(p.data()), p.size());
  });
  REQUIRE(flow->open());
  CHECK(flow->key().src_port == 1000);
  send(*flow, "one");
  send(*flow, "two");
  REQUIRE(r.opened.size() == 1);
  r.opened[0]->refused();
  REQUIRE(r.opened.size() == 2);
  CHECK(r.opened[0]->closed);
  CHECK(flow->route() == 1);
  CHECK(r.opened[1]->sent == std::vector<std::string>{"one", "two"});
  CHECK(flow->key().src_port == 1000);  // the tuple it was reported with
  r.opened[1]->reply(bytes_of("echo:one"));
  CHECK(to_client == std::vector<std::string>{"echo:one"});
  send(*flow, "three");
  CHECK(r.opened[1]->sent.back() == "three");
}

TEST_CASE("a refusal after an answer, or from an old route, changes nothing", "[publish]") {
  routes r({true, true, true});
  auto flow = std::make_shared<inbound_udp_fallback>(r.make(), [](std::vector<std::byte>) {});
  REQUIRE(flow->open());
  send(*flow, "a");
  r.opened[0]->refused();
  REQUIRE(r.opened.size() == 2);
  r.opened[0]->refused();  // late, from the route already left
  CHECK(r.opened.size() == 2);
  r.opened[1]->reply(bytes_of("echo:a"));
  r.opened[1]->refused();  // answered: the server is there
  CHECK(r.opened.size() == 2);
  CHECK(flow->route() == 1);
}

TEST_CASE("a route that cannot open is skipped, and refused everywhere the next datagram starts over", "[publish]") {
  routes r({true, false, true});
  auto flow = std::make_shared<inbound_udp_fallback>(r.make(), [](std::vector<std::byte>) {});
  REQUIRE(flow->open());
  send(*flow, "x");
  r.opened[0]->refused();
  REQUIRE(r.opened.size() == 2);
  CHECK(r.opened_route[1] == 2);
  CHECK(r.opened[1]->sent == std::vector<std::string>{"x"});
  r.opened[1]->refused();
  CHECK(r.opened[1]->closed);
  CHECK(r.opened.size() == 2);
  send(*flow, "y");
  REQUIRE(r.opened.size() == 3);
  CHECK(r.opened_route[2] == 0);
  CHECK(r.opened[2]->sent == std::vector<std::string>{"y"});
}

TEST_CASE("the datagrams kept for resending are bounded", "[publish]") {
  routes r({true, true});
  auto flow = std::make_shared<inbound_udp_fallback>(r.make(), [](std::vector<std::byte>) {});
  REQUIRE(flow->open());
  for (std::size_t i = 0; i < inbound_udp_fallback::unanswered_limit + 5; ++i) send(*flow, std::to_string(i));
  r.opened[0]->refused();
  REQUIRE(r.opened.size() == 2);
  CHECK(r.opened[1]->sent.size() == inbound_udp_fallback::unanswered_limit);
  CHECK(r.opened[1]->sent.front() == "0");
}

TEST_CASE("no route opens: no flow, and once closed nothing more is sent", "[publish]") {
  routes none({false, false});
  auto dead = std::make_shared<inbound_udp_fallback>(none.make(), [](std::vector<std::byte>) {});
  CHECK_FALSE(dead->open());
  routes r({true, true});
  auto flow = std::make_shared<inbound_udp_fallback>(r.make(), [](std::vector<std::byte>) {});
  REQUIRE(flow->open());
  flow->close();
  CHECK(r.opened[0]->closed);
  send(*flow, "late");
  r.opened[0]->refused();
  CHECK(r.opened.size() == 1);
  CHECK(r.opened[0]->sent.empty());
}
