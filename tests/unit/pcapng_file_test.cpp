// [pcapng] capture_file: the writer thread, the memory bound, errors, and
// the file read back by the strict reader and by capinfos (that case is
// skipped without it).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include <tins/ethernetII.h>
#include <tins/ip.h>
#include <tins/rawpdu.h>
#include <tins/sniffer.h>
#include <tins/udp.h>

#include "capture/capture_file.hpp"
#include "tests/unit/pcapng_reader.hpp"
#include "tests/unit/skip.hpp"

namespace cap = netpen::capture;
namespace rd = pcapng_test;
using rd::temp_dir;

namespace {


const cap::section_info section{.hardware = {}, .os = "Linux", .application = "netpen test", .comment = "unit test"};
const std::vector<cap::interface_info> two_interfaces{
    {.link_type = cap::linktype_ethernet, .snaplen = 0, .name = "child", .description = "tap boundary"},
    {.link_type = cap::linktype_ethernet, .snaplen = 0, .name = "egress", .description = "host side"}};

std::unique_ptr<cap::capture_file> create(const std::string& path, std::size_t max_queued = cap::default_max_queued_bytes,
                                          std::optional<std::pair<uid_t, gid_t>> owner = std::nullopt) {
  auto f = cap::capture_file::create(path, section, two_interfaces, owner, max_queued);
  if (!f) FAIL(f.error().code << ": " << f.error().message);
  if (auto started = (*f)->start(); !started) FAIL(started.error().message);
  return std::move(*f);
}

// Packet `seq` of writer `thread`: its first bytes name both, the rest is
// a pattern; lengths vary from 0 to 1499 bytes.
cap::bytes make_packet(unsigned thread, unsigned seq) {
  cap::bytes b((thread * 131 + seq * 17) % 1500);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = std::byte{static_cast<std::uint8_t>((i + thread + seq) & 0xffu)};
  if (b.size() >= 4) {
    b[0] = std::byte{static_cast<std::uint8_t>(thread)};
    b[1] = std::byte{static_cast<std::uint8_t>(seq >> 8)};
    b[2] = std::byte{static_cast<std::uint8_t>(seq & 0xffu)};
  }
  return b;
}

bool wait_for_written(const cap::capture_file& f, std::uint64_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (f.packets_written() < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace

TEST_CASE("capture_file: packets from several threads, read back", "[pcapng]") {
  temp_dir dir;
  const auto path = dir.file("threads.pcapng");
  constexpr unsigned threads = 4;
  constexpr unsigned per_thread = 300;
  {
    auto f = create(path);
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back([&f, t] {
        for (unsigned s = 0; s < per_thread; ++s) {
          const auto data = make_packet(t, s);
          f->packet(t % 2, 1'000'000'000ull * t + s, data, static_cast<std::uint32_t>(data.size() + 10),
                    s % 7 == 0 ? "thread " + std::to_string(t) : std::string());
        }
      });
    for (auto& th : pool) th.join();
    f->names({{.address = {192, 0, 2, 1}, .v6 = false, .names = {"example.test"}}});
    f->close();
    f->close();  // idempotent
    CHECK(f->packets_written() == threads * per_thread);
    CHECK(f->packets_dropped() == 0);
    CHECK_FALSE(f->last_error());
  }

  const auto blocks = rd::reader::parse_file(path);
  const auto& shb = std::get<rd::section_header>(blocks.at(0).body);
  CHECK(rd::find_option(shb.options, 4)->text() == "netpen test");
  CHECK(rd::find_option(shb.options, 1)->text() == "unit test");
  const auto idbs = rd::all_of<rd::interface_description>(blocks);
  REQUIRE(idbs.size() == 2);
  CHECK(rd::find_option(idbs[1].options, 2)->text() == "egress");
  CHECK(rd::all_of<rd::name_resolution>(blocks).size() == 1);

  const auto packets = rd::all_of<rd::enhanced_packet>(blocks);
  REQUIRE(packets.size() == threads * per_thread);
  std::map<unsigned, unsigned> next_seq;  // per thread: packets stay in order
  for (const auto& p : packets) {
    const auto t = static_cast<unsigned>(p.timestamp / 1'000'000'000ull);
    const auto s = static_cast<unsigned>(p.timestamp % 1'000'000'000ull);
    REQUIRE(t < threads);
    CHECK(s == next_seq[t]++);
    CHECK(p.interface_id == t % 2);
    CHECK(p.data == make_packet(t, s));
    CHECK(p.original == p.captured + 10);
    if (s % 7 == 0) {
      REQUIRE(p.options.size() == 1);
      CHECK(p.options[0].text() == "thread " + std::to_string(t));
    } else {
      CHECK(p.options.empty());
    }
  }
}

TEST_CASE("capture_file: the file is valid after each write", "[pcapng]") {
  temp_dir dir;
  const auto path = dir.file("live.pcapng");
  auto f = create(path);
  // Before any packet: SHB and IDBs only.
  CHECK(rd::reader::parse_file(path).size() == 3);
  for (unsigned k = 1; k <= 6; ++k) {
    const auto data = make_packet(1, k);
    // Queued before packet k, so written once packet k is.
    if (k == 3) f->names({{.address = {10, 0, 0, 1}, .v6 = false, .names = {"a.test", "b.test"}}});
    f->packet(0, k, data, static_cast<std::uint32_t>(data.size()));
    REQUIRE(wait_for_written(*f, k));
    const auto blocks = rd::reader::parse_file(path);
    CHECK(rd::all_of<rd::enhanced_packet>(blocks).size() == k);
    CHECK(blocks.size() == 3 + k + (k >= 3 ? 1 : 0));
  }
}

TEST_CASE("capture_file: packets beyond the memory bound are dropped and counted", "[pcapng]") {
  temp_dir dir;
  SECTION("nothing fits") {
    const auto path = dir.file("tiny.pcapng");
    auto f = create(path, 100);
    const auto data = make_packet(0, 200);  // 400 bytes
    REQUIRE(data.size() > 100);
    for (int i = 0; i < 10; ++i) f->packet(0, 1, data, 1500);
    f->close();
    CHECK(f->packets_dropped() == 10);
    CHECK(f->packets_written() == 0);
    CHECK(rd::all_of<rd::enhanced_packet>(rd::reader::parse_file(path)).empty());
  }
  SECTION("a stalled writer: packet() does not block; written and dropped add up") {
    // Nobody reads the FIFO until the burst is over, so the writer blocks
    // once the pipe is full and the 4 KiB queue overflows.
    const auto fifo = dir.file("stalled");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(reader >= 0);
    auto f = create(fifo, 4096);
    const cap::bytes data(200, std::byte{0x5a});
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 2000; ++i) f->packet(1, static_cast<std::uint64_t>(i), data, 200);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));

    REQUIRE(::fcntl(reader, F_SETFL, 0) == 0);  // blocking reads from here on
    std::vector<char> content;
    std::thread drain([&] {
      char buf[65536];
      while (true) {
        const auto n = ::read(reader, buf, sizeof buf);
        if (n <= 0) break;
        content.insert(content.end(), buf, buf + n);
      }
    });
    f->close();
    drain.join();
    ::close(reader);
    CHECK(f->packets_written() + f->packets_dropped() == 2000);
    CHECK(f->packets_dropped() > 0);
    const auto blocks = rd::reader::parse(std::as_bytes(std::span(content)));
    CHECK(rd::all_of<rd::enhanced_packet>(blocks).size() == f->packets_written());
  }
  SECTION("unknown interface ids and packets after close") {
    const auto path = dir.file("misc.pcapng");
    auto f = create(path);
    f->packet(2, 1, make_packet(0, 1), 100);
    f->packet(0, 1, make_packet(0, 2), 100);
    f->close();
    f->packet(0, 1, make_packet(0, 3), 100);
    CHECK(f->packets_written() == 1);
    CHECK(f->packets_dropped() == 2);
    CHECK(rd::all_of<rd::enhanced_packet>(rd::reader::parse_file(path)).size() == 1);
  }
}

TEST_CASE("capture_file: ownership", "[pcapng]") {
  temp_dir dir;
  SECTION("no owner: left to the creating user") {
    const auto path = dir.file("mine.pcapng");
    create(path, cap::default_max_queued_bytes, std::nullopt)->close();
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(st.st_uid == ::geteuid());
    CHECK((st.st_mode & 0777 & ~0644u) == 0);
  }
  SECTION("owner given: chowned") {
    const auto path = dir.file("theirs.pcapng");
    // An ordinary user may only "give" the file to itself; root to anyone.
    const bool root = ::geteuid() == 0;
    const uid_t uid = root ? 65534 : ::geteuid();
    const gid_t gid = root ? 65534 : ::getegid();
    create(path, cap::default_max_queued_bytes, std::make_pair(uid, gid))->close();
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(st.st_uid == uid);
    CHECK(st.st_gid == gid);
  }
}

TEST_CASE("capture_file: errors", "[pcapng]") {
  temp_dir dir;
  SECTION("a path that cannot be created") {
    const auto f = cap::capture_file::create(dir.file("no/such/dir.pcapng"), section, two_interfaces, std::nullopt);
    REQUIRE_FALSE(f);
    CHECK(f.error().code == "capture-open");
    CHECK(f.error().message.find("no/such/dir.pcapng") != std::string::npos);
  }
  SECTION("a header that cannot be written") {
    const auto f = cap::capture_file::create("/dev/full", section, two_interfaces, std::nullopt);
    REQUIRE_FALSE(f);
    CHECK(f.error().code == "capture-write");
  }
  SECTION("a write error in the writer thread is reported once and stops writing") {
    // A FIFO whose reader goes away: EPIPE (SIGPIPE is blocked in the writer).
    const auto fifo = dir.file("fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(reader >= 0);
    auto f = create(fifo);
    std::atomic<int> calls{0};
    std::string reported;
    f->set_on_error([&](const netpen::error& e) {
      reported = e.code;
      ++calls;
    });
    ::close(reader);
    f->packet(0, 1, make_packet(0, 1), 100);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (calls.load() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    f->packet(0, 2, make_packet(0, 2), 100);
    f->close();
    CHECK(calls.load() == 1);
    CHECK(reported == "capture-write");
    REQUIRE(f->last_error());
    CHECK(f->last_error()->message.find("Broken pipe") != std::string::npos);
    CHECK(f->packets_written() == 0);
    CHECK(f->packets_dropped() == 2);
  }
}

TEST_CASE("capture_file: libpcap (through libtins) reads the file back", "[pcapng]") {
  // An independent reader: libpcap's pcapng support, which also converts
  // the nanosecond timestamps (if_tsresol 9) to microseconds.
  temp_dir dir;
  const auto path = dir.file("libpcap.pcapng");
  std::vector<std::vector<std::uint8_t>> frames;
  const std::uint64_t t0 = 1'700'000'000'000'000'000ull;
  {
    auto f = create(path);
    for (unsigned i = 0; i < 20; ++i) {
      Tins::EthernetII eth = Tins::EthernetII("02:00:00:00:00:01", "02:00:00:00:00:02") /
                             Tins::IP("192.0.2.1", "10.0.2.100") / Tins::UDP(53, static_cast<std::uint16_t>(40000 + i)) /
                             Tins::RawPDU(std::string(i * 37, 'q'));
      frames.push_back(eth.serialize());
      const auto& fr = frames.back();
      f->packet(i % 2, t0 + i * 1'234'567ull, std::as_bytes(std::span(fr)), static_cast<std::uint32_t>(fr.size()),
                "pid 42 dig");
      if (i == 5) f->names({{.address = {192, 0, 2, 1}, .v6 = false, .names = {"dns.test"}}});
    }
  }
  Tins::FileSniffer sniffer(path);
  std::size_t n = 0;
  for (Tins::Packet p = sniffer.next_packet(); p; p = sniffer.next_packet(), ++n) {
    REQUIRE(n < frames.size());
    CHECK(p.pdu()->serialize() == frames[n]);
    const auto us = (t0 + n * 1'234'567ull) / 1000;
    CHECK(static_cast<std::uint64_t>(p.timestamp().seconds()) == us / 1'000'000);
    CHECK(static_cast<std::uint64_t>(p.timestamp().microseconds()) == us % 1'000'000);
  }
  CHECK(n == frames.size());
}

TEST_CASE("capture_file: capinfos counts the packets", "[pcapng]") {
  SKIP_UNLESS_TOOL("capinfos");
  temp_dir dir;
  const auto path = dir.file("capinfos.pcapng");
  {
    auto f = create(path);
    for (unsigned s = 0; s < 25; ++s) {
      const auto data = make_packet(0, s + 60);
      f->packet(s % 2, cap::wall_clock_ns(), data, static_cast<std::uint32_t>(data.size()), "packet");
    }
    f->names({{.address = {192, 0, 2, 1}, .v6 = false, .names = {"example.test"}}});
  }
  const auto cmd = "capinfos -c -M '" + path + "' 2>&1";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[512];
  while (const auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  CHECK(::pclose(p) == 0);
  INFO(out);
  const auto at = out.find("Number of packets:");
  REQUIRE(at != std::string::npos);
  CHECK(std::stoul(out.substr(at + 18)) == 25);
  CHECK(out.find("arn") == std::string::npos);  // no "Warning"/"warning"
}
