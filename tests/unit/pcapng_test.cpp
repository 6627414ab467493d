// [pcapng] the block builders: exact bytes for small blocks computed by hand,
// and everything else checked by the strict reader in pcapng_reader.hpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "capture/pcapng.hpp"
#include "tests/unit/pcapng_reader.hpp"

namespace cap = netpen::capture;
namespace rd = pcapng_test;

namespace {

cap::bytes hex(std::string_view text) {
  cap::bytes out;
  int hi = -1;
  for (const char c : text) {
    if (c == ' ' || c == '\n') continue;
    const int v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(std::byte{static_cast<std::uint8_t>(hi * 16 + v)});
      hi = -1;
    }
  }
  return out;
}

cap::bytes operator+(cap::bytes a, const cap::bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// An SHB and one Ethernet IDB, so EPBs and NRBs can be read in context.
cap::bytes preamble() {
  return cap::section_header({.hardware = {}, .os = {}, .application = "netpen test", .comment = {}}) +
         cap::interface_description({.link_type = cap::linktype_ethernet, .snaplen = 0, .name = "tap0", .description = {}});
}

cap::bytes pattern(std::size_t n, unsigned seed = 0) {
  cap::bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = std::byte{static_cast<std::uint8_t>((i * 7 + seed) & 0xffu)};
  return b;
}

rd::enhanced_packet only_packet(const cap::bytes& epb) {
  const auto blocks = rd::reader::parse(preamble() + epb);
  REQUIRE(blocks.size() == 3);
  const auto packets = rd::all_of<rd::enhanced_packet>(blocks);
  REQUIRE(packets.size() == 1);
  CHECK(blocks[2].total_length == epb.size());
  return packets[0];
}

cap::bytes address_bytes(const cap::name_record& r) {
  const auto b = std::as_bytes(std::span(r.address.data(), r.v6 ? 16 : 4));
  return {b.begin(), b.end()};
}

cap::name_record v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::vector<std::string> names) {
  cap::name_record r;
  r.address = {a, b, c, d};
  r.v6 = false;
  r.names = std::move(names);
  return r;
}

}  // namespace

TEST_CASE("SHB: exact bytes", "[pcapng]") {
  const auto shb = cap::section_header({.hardware = "x86", .os = {}, .application = "np", .comment = {}});
  CHECK(shb == hex("0a0d0d0a 30000000 4d3c2b1a 0100 0000 ffffffff ffffffff"
                   "0200 0300 78383600"    // shb_hardware "x86" + 1 byte padding
                   "0400 0200 6e700000"    // shb_userappl "np" + 2 bytes padding
                   "0000 0000 30000000"));  // opt_endofopt, trailing length 48

  // No options at all: no opt_endofopt either.
  CHECK(cap::section_header({}) == hex("0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000"));
}

TEST_CASE("SHB: every option read back", "[pcapng]") {
  const cap::section_info info{.hardware = "x86_64", .os = "Linux 6.1", .application = "netpen 0.1.0",
                               .comment = "netpen -- curl https://example.com (é)"};
  const auto blocks = rd::reader::parse(cap::section_header(info));
  REQUIRE(blocks.size() == 1);
  const auto& shb = std::get<rd::section_header>(blocks[0].body);
  CHECK(shb.section_length == -1);
  REQUIRE(shb.options.size() == 4);
  CHECK(rd::find_option(shb.options, 1)->text() == info.comment);
  CHECK(rd::find_option(shb.options, 2)->text() == info.hardware);
  CHECK(rd::find_option(shb.options, 3)->text() == info.os);
  CHECK(rd::find_option(shb.options, 4)->text() == info.application);
}

TEST_CASE("IDB: exact bytes and fields", "[pcapng]") {
  const auto idb = cap::interface_description({.link_type = 1, .snaplen = 0, .name = "tap0", .description = {}});
  CHECK(idb == hex("01000000 28000000 0100 0000 00000000"
                   "0200 0400 74617030"    // if_name "tap0"
                   "0900 0100 09000000"    // if_tsresol 9 (ns) + 3 bytes padding
                   "0000 0000 28000000"));

  const auto blocks = rd::reader::parse(
      cap::section_header({}) +
      cap::interface_description({.link_type = cap::linktype_raw, .snaplen = 1500, .name = "eth0",
                                  .description = "egress, host addresses"}));
  REQUIRE(blocks.size() == 2);
  const auto& i = std::get<rd::interface_description>(blocks[1].body);
  CHECK(i.link_type == 101);
  CHECK(i.snaplen == 1500);
  CHECK(rd::find_option(i.options, 2)->text() == "eth0");
  CHECK(rd::find_option(i.options, 3)->text() == "egress, host addresses");
  CHECK(rd::find_option(i.options, 9)->value == hex("09"));
}

TEST_CASE("EPB: exact bytes", "[pcapng]") {
  const auto data = hex("aabbcc");
  CHECK(cap::enhanced_packet(0, 0x0000000100000002ull, data, 3) ==
        hex("06000000 24000000 00000000 01000000 02000000 03000000 03000000 aabbcc00 24000000"));
  CHECK(cap::enhanced_packet(2, 5, data, 60, "hi") ==
        hex("06000000 30000000 02000000 00000000 05000000 03000000 3c000000 aabbcc00"
            "0100 0200 68690000 0000 0000 30000000"));
}

TEST_CASE("EPB: padding for data lengths 0 to 5", "[pcapng]") {
  for (std::size_t n = 0; n <= 5; ++n) {
    INFO("length " << n);
    const auto data = pattern(n, 3);
    const auto epb = cap::enhanced_packet(0, 1'700'000'000'123'456'789ull, data, static_cast<std::uint32_t>(n));
    CHECK(epb.size() == 32 + (n + 3) / 4 * 4);
    CHECK(epb.size() == cap::enhanced_packet_size(n, 0));
    const auto p = only_packet(epb);
    CHECK(p.captured == n);
    CHECK(p.original == n);
    CHECK(p.data == data);
    CHECK(p.timestamp == 1'700'000'000'123'456'789ull);
    CHECK(p.options.empty());
  }
}

TEST_CASE("EPB: comments of odd and UTF-8 lengths", "[pcapng]") {
  for (const std::string comment : {"a", "abc", "abcde", "abcdefg", "pid 4242 curl", "naïve ☃ 🎉"}) {
    INFO(comment);
    const auto data = pattern(5);
    const auto epb = cap::enhanced_packet(0, 7, data, 1514, comment);
    CHECK(epb.size() == cap::enhanced_packet_size(data.size(), comment.size()));
    const auto p = only_packet(epb);
    CHECK(p.data == data);
    CHECK(p.original == 1514);
    REQUIRE(p.options.size() == 1);
    CHECK(p.options[0].code == 1);
    CHECK(p.options[0].text() == comment);
  }
}

TEST_CASE("EPB: limits keep the block readable", "[pcapng]") {
  SECTION("a comment over 65535 bytes is cut at a character boundary") {
    std::string comment(65534, 'x');
    comment += "é…";  // 2 + 3 bytes: the 65535-byte cut falls inside 'é'
    const auto p = only_packet(cap::enhanced_packet(0, 0, pattern(1), 1, comment));
    REQUIRE(p.options.size() == 1);
    CHECK(p.options[0].value.size() == 65534);
  }
  SECTION("original length is never below the captured length") {
    const auto p = only_packet(cap::enhanced_packet(0, 0, pattern(100), 40));
    CHECK(p.captured == 100);
    CHECK(p.original == 100);
  }
  SECTION("data beyond max_captured_length is truncated") {
    const auto data = pattern(cap::max_captured_length + 10);
    const auto p = only_packet(cap::enhanced_packet(0, 0, data, static_cast<std::uint32_t>(data.size())));
    CHECK(p.captured == cap::max_captured_length);
    CHECK(p.original == data.size());
    CHECK(std::equal(p.data.begin(), p.data.end(), data.begin()));
  }
}

TEST_CASE("EPB: append_enhanced_packet matches enhanced_packet", "[pcapng]") {
  cap::bytes out = preamble();
  const auto before = out.size();
  cap::append_enhanced_packet(out, 0, 99, pattern(7), 7, "c");
  CHECK(cap::bytes(out.begin() + static_cast<std::ptrdiff_t>(before), out.end()) ==
        cap::enhanced_packet(0, 99, pattern(7), 7, "c"));
  CHECK(rd::reader::parse(out).size() == 3);
}

TEST_CASE("EPB: pieces give the same block as their concatenation", "[pcapng]") {
  const auto whole = pattern(301, 5);
  const std::span<const std::byte> all(whole);
  for (const std::size_t a : {0u, 1u, 14u, 54u}) {
    for (const std::size_t b : {0u, 3u, 100u}) {
      const std::span<const std::byte> pieces[] = {all.first(a), all.subspan(a, b), all.subspan(a + b)};
      cap::bytes out;
      cap::append_enhanced_packet(out, 1, 42, pieces, 400, "pid 1");
      CHECK(out == cap::enhanced_packet(1, 42, whole, 400, "pid 1"));
    }
  }
  SECTION("pieces beyond max_captured_length are cut like one span") {
    const auto big = pattern(cap::max_captured_length + 9, 2);
    const std::span<const std::byte> b(big);
    const std::span<const std::byte> pieces[] = {b.first(100), b.subspan(100, cap::max_captured_length - 96),
                                                 b.subspan(cap::max_captured_length + 4)};
    cap::bytes out;
    cap::append_enhanced_packet(out, 0, 0, pieces, static_cast<std::uint32_t>(big.size()));
    CHECK(out == cap::enhanced_packet(0, 0, big, static_cast<std::uint32_t>(big.size())));
  }
}

TEST_CASE("NRB: exact bytes", "[pcapng]") {
  CHECK(cap::name_resolution({v4(10, 0, 0, 1, {"a"})}) ==
        hex("04000000 1c000000 0100 0600 0a000001 61000000 0000 0000 1c000000"));
  CHECK(cap::name_resolution({}).empty());
}

TEST_CASE("NRB: IPv4 and IPv6 records with several names", "[pcapng]") {
  cap::name_record six;
  six.v6 = true;
  six.address = {0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0x00, 0x01, 0x02, 0x48, 0x18, 0x93, 0x25, 0xc8, 0x19, 0x46};
  six.names = {"example.com", "www.example.com"};
  const std::vector<cap::name_record> records{v4(93, 184, 216, 34, {"example.com", "www.example.com", "e.x"}), six,
                                              v4(1, 2, 3, 4, {"", std::string("bad\0name", 8), "ok.test"})};

  const auto blocks = rd::reader::parse(preamble() + cap::name_resolution(records));
  const auto nrbs = rd::all_of<rd::name_resolution>(blocks);
  REQUIRE(nrbs.size() == 1);
  const auto& r = nrbs[0].records;
  REQUIRE(r.size() == 3);
  CHECK(r[0].type == 1);
  CHECK(r[0].address == hex("5db8d822"));
  CHECK(r[0].names == std::vector<std::string>{"example.com", "www.example.com", "e.x"});
  CHECK(r[1].type == 2);
  CHECK(r[1].address == hex("26062800022000010248189325c81946"));
  CHECK(r[1].names == std::vector<std::string>{"example.com", "www.example.com"});
  CHECK(r[2].type == 1);
  CHECK(r[2].names == std::vector<std::string>{"ok.test"});  // empty and NUL-containing names skipped
  CHECK(nrbs[0].options.empty());

  CHECK(cap::name_resolution({v4(1, 1, 1, 1, {})}).empty());
  CHECK(cap::name_resolution({v4(1, 1, 1, 1, {""})}).empty());
}

TEST_CASE("NRB: a huge set is split into blocks of at most 64 KiB", "[pcapng]") {
  std::vector<cap::name_record> records;
  for (unsigned i = 0; i < 6000; ++i) {
    const auto a = static_cast<std::uint8_t>(i >> 8);
    const auto b = static_cast<std::uint8_t>(i & 0xffu);
    records.push_back(v4(10, a, b, 1, {"host-" + std::to_string(i) + ".a-rather-long-domain-name.example"}));
    if (i % 3 == 0) {
      cap::name_record six;
      six.v6 = true;
      six.address[0] = 0xfd;
      six.address[14] = a;
      six.address[15] = b;
      six.names = {"six-" + std::to_string(i) + ".example", "alias-" + std::to_string(i) + ".example"};
      records.push_back(six);
    }
  }
  const auto all = cap::name_resolution(records);
  const auto blocks = rd::reader::parse(preamble() + all);
  const auto nrbs = rd::all_of<rd::name_resolution>(blocks);
  CHECK(nrbs.size() >= 5);
  std::size_t total = 0;
  for (std::size_t k = 2; k < blocks.size(); ++k) {
    CHECK(blocks[k].total_length <= cap::max_name_resolution_block);
    total += blocks[k].total_length;
  }
  CHECK(total == all.size());
  std::vector<rd::name_entry> read;
  for (const auto& n : nrbs) read.insert(read.end(), n.records.begin(), n.records.end());
  REQUIRE(read.size() == records.size());
  for (std::size_t k = 0; k < records.size(); ++k) {
    INFO("record " << k);
    CHECK(read[k].type == (records[k].v6 ? 2 : 1));
    CHECK(read[k].names == records[k].names);
    CHECK(read[k].address == address_bytes(records[k]));
  }
}

TEST_CASE("NRB: names of one address continue in further records when a block is full", "[pcapng]") {
  // Blocks of at most 64 bytes hold 48 bytes of records: three "name-N.test"
  // (11 bytes + NUL each) fit one record (44 bytes), four would need 56.
  std::vector<std::string> names;
  for (int i = 0; i < 10; ++i) names.push_back("name-" + std::to_string(i) + ".test");
  const auto out = cap::name_resolution({v4(192, 0, 2, 7, names), v4(192, 0, 2, 8, {std::string(100, 'z'), "y"})}, 64);
  const auto blocks = rd::reader::parse(preamble() + out);
  std::vector<std::string> read;
  std::vector<std::string> for_8;
  for (const auto& n : rd::all_of<rd::name_resolution>(blocks))
    for (const auto& r : n.records) {
      REQUIRE(r.type == 1);
      auto& dest = r.address == hex("c0000207") ? read : for_8;
      dest.insert(dest.end(), r.names.begin(), r.names.end());
    }
  for (std::size_t k = 2; k < blocks.size(); ++k) CHECK(blocks[k].total_length <= 64);
  CHECK(read == names);
  CHECK(for_8 == std::vector<std::string>{"y"});  // a name that fits no block is skipped
}

TEST_CASE("the strict reader rejects broken files", "[pcapng]") {
  const auto good = preamble() + cap::enhanced_packet(0, 1, pattern(3), 3, "ok");
  REQUIRE_NOTHROW(rd::reader::parse(good));

  auto bad_trailer = good;
  bad_trailer[bad_trailer.size() - 4] = std::byte{0x99};
  CHECK_THROWS(rd::reader::parse(bad_trailer));

  auto truncated = good;
  truncated.pop_back();
  CHECK_THROWS(rd::reader::parse(truncated));

  CHECK_THROWS(rd::reader::parse(preamble() + cap::enhanced_packet(1, 1, pattern(3), 3)));  // no IDB 1
  CHECK_THROWS(rd::reader::parse(cap::interface_description({})));                       // no SHB first

  auto dirty_padding = preamble() + cap::enhanced_packet(0, 1, pattern(3), 3);
  dirty_padding[dirty_padding.size() - 5] = std::byte{1};
  CHECK_THROWS(rd::reader::parse(dirty_padding));

  auto no_endofopt = preamble() + hex("06000000 28000000 00000000 00000000 00000000 00000000 00000000"
                                      "0100 0200 68690000 28000000");
  CHECK_THROWS(rd::reader::parse(no_endofopt));
  auto captured_too_long = preamble() + hex("06000000 24000000 00000000 00000000 00000000 08000000 08000000"
                                            "aabbcc00 24000000");
  CHECK_THROWS(rd::reader::parse(captured_too_long));
}
