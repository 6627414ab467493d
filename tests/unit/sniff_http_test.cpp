// HTTP/1.x request heads (net/sniff/http_request_head): methods, origin-
// and absolute-form targets, Host forms, the query dropped, malformed heads,
// and the early "not HTTP" answer for SSH banners and binary bytes.
#include <catch2/catch.hpp>

#include "net/sniff/http_request_head.hpp"
#include "tests/unit/sniff_test_util.hpp"

using namespace netpen::sniff;

TEST_CASE("sniff http: method, Host and path of a GET") {
  const auto c = parse_request_head("GET /index.html?user=secret#frag HTTP/1.1\r\nUser-Agent: t\r\nHost: WWW.Example.com.\r\n\r\n");
  REQUIRE(c);
  CHECK(c->protocol == claim_protocol::http);
  CHECK(c->http_method == "GET");
  CHECK(c->http_host == "www.example.com");
  CHECK(c->http_path == "/index.html");
  CHECK(c->name() == "www.example.com");
}

TEST_CASE("sniff http: other methods and HTTP/1.0 without Host") {
  for (const char* m : {"POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "PROPFIND", "M-SEARCH"}) {
    const auto c = parse_request_head(std::string(m) + " /x HTTP/1.0\r\n\r\n");
    REQUIRE(c);
    CHECK(c->http_method == m);
    CHECK(c->http_host.empty());
    CHECK(c->http_path == "/x");
  }
}

TEST_CASE("sniff http: the Host's port is stripped, IP literals name no host") {
  CHECK(parse_request_head("GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n")->http_host == "a.example");
  CHECK(parse_request_head("GET / HTTP/1.1\r\nhost:\ta.example \r\n\r\n")->http_host == "a.example");
  CHECK(parse_request_head("GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n")->http_host.empty());
  CHECK(parse_request_head("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n")->http_host.empty());
  CHECK(parse_request_head("GET / HTTP/1.1\r\nHost: 192.0.2.7:80\r\n\r\n")->http_host.empty());
  CHECK(parse_request_head("GET / HTTP/1.1\r\nHost: \r\n\r\n")->http_host.empty());
}

TEST_CASE("sniff http: an absolute-form target's authority is the host") {
  const auto c = parse_request_head("GET http://User@Proxy.Example:3128/x/y?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n");
  REQUIRE(c);
  CHECK(c->http_host == "proxy.example");
  CHECK(c->http_path == "/x/y");
  const auto bare = parse_request_head("GET https://h.example?q HTTP/1.1\r\n\r\n");
  REQUIRE(bare);
  CHECK(bare->http_host == "h.example");
  CHECK(bare->http_path == "/");
}

TEST_CASE("sniff http: CONNECT names its authority") {
  const auto c = parse_request_head("CONNECT tunnel.example:443 HTTP/1.1\r\nHost: tunnel.example:443\r\n\r\n");
  REQUIRE(c);
  CHECK(c->http_method == "CONNECT");
  CHECK(c->http_host == "tunnel.example");
  CHECK(c->http_path.empty());
}

TEST_CASE("sniff http: malformed heads give no claim") {
  for (const char* head : {
           "GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",  // two Hosts
           "GET / HTTP/1.1\r\nHost : a.example\r\n\r\n",                    // space before the colon
           "GET / HTTP/1.1\r\nX: 1\r\n folded\r\n\r\n",                     // obs-fold
           "GET / HTTP/2.0\r\n\r\n",                                        // not 1.x
           "GET /  HTTP/1.1\r\n\r\n",                                       // two spaces
           "GET x HTTP/1.1\r\n\r\n",                                        // no origin-form
           "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",                           // not a host name
           "GET / HTTP/1.1\r\nHost: a.example:8o\r\n\r\n",                  // bad port
           "get / HTTP/1.1\r\n\r\n",                                        // lowercase method
           "CONNECT c.example..:443 HTTP/1.1\r\n\r\n",                      // an empty label (fuzzer-found)
           "GET / HTTP/1.1\r\nno colon\r\n\r\n",
       })
    CHECK_FALSE(parse_request_head(head));
}

TEST_CASE("sniff http: what cannot start a request line is known early") {
  CHECK(could_start_request_line(""));
  CHECK(could_start_request_line("GE"));
  CHECK(could_start_request_line("GET "));
  CHECK(could_start_request_line("GET /"));
  CHECK_FALSE(could_start_request_line("SSH-2"));
  CHECK_FALSE(could_start_request_line("\x16\x03"));
  CHECK_FALSE(could_start_request_line(" GET"));
  CHECK_FALSE(could_start_request_line("get"));
  CHECK_FALSE(could_start_request_line("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
}

TEST_CASE("sniff http: the scanner finds the head's end and rejects a bad request line at once") {
  http_head_scanner s;
  CHECK(s.advance("GET / HTTP/1.1\r") == http_head_scanner::status::need_more);
  CHECK(s.advance("GET / HTTP/1.1\r\nHost: a\r\n\r") == http_head_scanner::status::need_more);
  CHECK(s.advance("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody") == http_head_scanner::status::complete);
  CHECK(s.head_size() == 27);
  http_head_scanner bad;
  CHECK(bad.advance("PRI * HTTP/2.0\r\n") == http_head_scanner::status::not_http);
}
