// QUIC Initial sniffing (net/sniff/quic_initial, quic_sniffer): the
// RFC 9001 Appendix A client Initial (keys, mask, decryption, SNI
// example.com), and round trips through the test-side builder
// (quic_initial_builder.hpp) with OpenSSL's ClientHellos: split across
// packets and datagrams, coalesced, out of order, QUIC v2, corrupted.
#include <catch2/catch.hpp>

#include "net/sniff/quic_sniffer.hpp"
#include "tests/unit/quic_initial_builder.hpp"
#include "tests/unit/sniff_test_util.hpp"

using namespace netpen::sniff;
using namespace sniff_test;
using quic_test::crypto_frame;
using quic_test::initial_packet;
using quic_test::initial_spec;

namespace {

// RFC 9001 Appendix A.2: the client's first Initial, 1200 bytes.
const char* const rfc9001_client_initial =
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";

const bytes rfc9001_dcid = from_hex("8394c8f03e515708");

}  // namespace

TEST_CASE("sniff quic: RFC 9001 A.1 client Initial keys") {
  const auto k = client_initial_keys(quic_version_1, rfc9001_dcid);
  REQUIRE(k);
  CHECK(to_hex(k->key) == "1f369613dd76d5467730efcbe3b1a22d");
  CHECK(to_hex(k->iv) == "fa044b2f42a3fd3b46fb255c");
  CHECK(to_hex(k->hp) == "9f50449e04a0e810283a1e9933adedd2");
  CHECK_FALSE(client_initial_keys(0xff00001d, rfc9001_dcid));
}

TEST_CASE("sniff quic: RFC 9001 A.2 header protection mask") {
  const auto k = client_initial_keys(quic_version_1, rfc9001_dcid);
  const auto sample = from_hex("d1b1c98dd7689fb8ec11d242b123dc9b");
  CHECK(to_hex(header_protection_mask(k->hp, std::span<const std::byte>(sample).first<16>())) == "437b9aec36");
}

TEST_CASE("sniff quic: the RFC 9001 A.2 client Initial decrypts to SNI example.com") {
  const auto datagram = from_hex(rfc9001_client_initial);
  REQUIRE(datagram.size() == 1200);
  quic_sniffer s;
  CHECK(s.feed(datagram) == quic_sniffer::state::done);
  CHECK(s.result().protocol == claim_protocol::quic);
  CHECK(s.result().sni == "example.com");
  CHECK(s.result().alpn.empty() == false);
}

TEST_CASE("sniff quic: a built Initial with OpenSSL's ClientHello round-trips") {
  const auto hello = openssl_client_hello("quic.example", {"h3"});
  for (auto version : {quic_version_1, quic_version_2}) {
    initial_spec spec;
    spec.version = version;
    const auto datagram = quic_test::initial_datagram(hello, spec);
    CHECK(datagram.size() == 1200);
    quic_sniffer s;
    CHECK(s.feed(datagram) == quic_sniffer::state::done);
    CHECK(s.result().protocol == claim_protocol::quic);
    CHECK(s.result().sni == "quic.example");
    CHECK(s.result().alpn == std::vector<std::string>{"h3"});
  }
}

TEST_CASE("sniff quic: a ClientHello across datagrams, out of order, with a new DCID") {
  const auto hello = openssl_client_hello("two.example", {"h3"});
  const std::size_t half = hello.size() / 2;
  initial_spec first, second;
  second.packet_number = 1;
  second.packet_dcid = bytes(6, std::byte{0x77});  // the server's ID: the keys stay the first DCID's
  quic_sniffer s;
  // The second half comes first, then the first half.
  CHECK(s.feed(initial_packet(crypto_frame(half, std::span(hello).subspan(half)), first)) == quic_sniffer::state::need_more);
  CHECK(s.feed(initial_packet(crypto_frame(0, std::span(hello).first(half)), second)) == quic_sniffer::state::done);
  CHECK(s.result().sni == "two.example");
}

TEST_CASE("sniff quic: coalesced Initials in one datagram, with PING and ACK frames") {
  const auto hello = openssl_client_hello("coalesced.example", {});
  initial_spec a, b;
  a.pad_to = 0;
  b.packet_number = 1;
  bytes frames = from_hex("01" "02" "00" "00" "01" "00" "00" "00");  // PING, ACK(0, 0, 1 range, 0, gap 0 len 0)
  append(frames, crypto_frame(0, std::span(hello).first(100)));
  auto datagram = initial_packet(frames, a);
  append(datagram, initial_packet(crypto_frame(100, std::span(hello).subspan(100)), b));
  quic_sniffer s;
  CHECK(s.feed(datagram) == quic_sniffer::state::done);
  CHECK(s.result().sni == "coalesced.example");
}

TEST_CASE("sniff quic: what is not a readable Initial is done with no claim") {
  const auto good = quic_test::initial_datagram(openssl_client_hello("x.example", {}));
  SECTION("a corrupted byte fails authentication") {
    for (std::size_t at : {std::size_t{30}, std::size_t{600}, good.size() - 1}) {
      auto bad = good;
      bad[at] ^= std::byte{0x40};
      quic_sniffer s;
      CHECK(s.feed(bad) == quic_sniffer::state::done);
      CHECK(s.result().empty());
    }
  }
  SECTION("another version, a short header, nothing") {
    auto other = good;
    other[4] = std::byte{0x02};
    for (const auto& d : {other, from_hex("40aabbccdd"), bytes{}}) {
      quic_sniffer s;
      CHECK(s.feed(d) == quic_sniffer::state::done);
      CHECK(s.result().empty());
    }
  }
  SECTION("a first CRYPTO byte that is not a ClientHello") {
    quic_sniffer s;
    CHECK(s.feed(initial_packet(crypto_frame(0, from_hex("02000004")), {})) == quic_sniffer::state::done);
    CHECK(s.result().empty());
  }
  SECTION("max_datagrams without the whole ClientHello") {
    const auto hello = openssl_client_hello("x.example", {});
    quic_sniffer s;
    for (std::size_t i = 0; i + 1 < quic_sniffer::max_datagrams; ++i)
      CHECK(s.feed(initial_packet(crypto_frame(0, std::span(hello).first(10)), {})) == quic_sniffer::state::need_more);
    CHECK(s.feed(initial_packet(crypto_frame(0, std::span(hello).first(10)), {})) == quic_sniffer::state::done);
    CHECK(s.result().empty());
  }
}

TEST_CASE("sniff quic: the CRYPTO stream is reassembled by offset and bounded") {
  quic_crypto_stream st;
  CHECK(st.add(3, from_text("def")));
  CHECK(st.contiguous().empty());
  CHECK(st.add(0, from_text("abc")));
  CHECK(st.contiguous().size() == 6);
  CHECK(st.add(2, from_text("XYZ")));  // overlap: the first copy stays
  CHECK(to_hex(st.contiguous()) == to_hex(from_text("abcdef")));
  CHECK_FALSE(st.add(quic_crypto_stream::max_size, from_text("x")));
  CHECK_FALSE(st.add(~std::uint64_t{0}, from_text("x")));
}
