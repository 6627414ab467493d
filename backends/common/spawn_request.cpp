// Wire form of exec and spawn requests (see spawn_request.hpp).
#include "backends/common/spawn_request.hpp"

#include <charconv>
#include <limits>

namespace netpen::backends {
namespace {

constexpr std::string_view exec_tag = "exec-v1";
constexpr std::string_view spawn_tag = "spawn-v1";
constexpr std::size_t max_list = 65536;

class writer {
 public:
  void field(std::string_view s) {
    out_.append(s);
    out_.push_back('\0');
  }
  void number(std::uint64_t n) { field(std::to_string(n)); }
  void list(const std::vector<std::string>& items) {
    number(items.size());
    for (const auto& i : items) field(i);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class reader {
 public:
  explicit reader(std::string_view wire) : rest_(wire) {}
  std::optional<std::string_view> field() {
    const auto nul = rest_.find('\0');
    if (nul == std::string_view::npos) return std::nullopt;
    auto f = rest_.substr(0, nul);
    rest_.remove_prefix(nul + 1);
    return f;
  }
  std::optional<std::uint64_t> number() {
    auto f = field();
    if (!f || f->empty()) return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(f->data(), f->data() + f->size(), v);
    if (ec != std::errc{} || p != f->data() + f->size()) return std::nullopt;
    return v;
  }
  std::optional<std::vector<std::string>> list() {
    auto n = number();
    if (!n || *n > max_list) return std::nullopt;
    std::vector<std::string> out;
    for (std::uint64_t i = 0; i < *n; ++i) {
      auto f = field();
      if (!f) return std::nullopt;
      out.emplace_back(*f);
    }
    return out;
  }
  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

unexpected<error> malformed(std::string_view what) {
  return fail("bad-request", "a malformed " + std::string(what) + " request");
}

void write_exec(writer& w, const exec_request& r) {
  w.field(r.tty ? "1" : "0");
  w.field(r.cwd);
  w.list(r.argv);
  w.list(r.env);
}

std::optional<exec_request> read_exec(reader& rd) {
  exec_request r;
  auto tty = rd.field();
  auto cwd = rd.field();
  if (!tty || (*tty != "0" && *tty != "1") || !cwd) return std::nullopt;
  r.tty = *tty == "1";
  r.cwd = *cwd;
  auto argv = rd.list();
  if (!argv || argv->empty()) return std::nullopt;
  auto env = rd.list();
  if (!env) return std::nullopt;
  r.argv = std::move(*argv);
  r.env = std::move(*env);
  return r;
}

template <typename T>
std::optional<T> narrow(std::optional<std::uint64_t> v) {
  if (!v || *v > std::numeric_limits<T>::max()) return std::nullopt;
  return static_cast<T>(*v);
}

}  // namespace

std::string encode_exec_request(const exec_request& r) {
  writer w;
  w.field(exec_tag);
  write_exec(w, r);
  return w.take();
}

result<exec_request> decode_exec_request(std::string_view wire) {
  reader rd(wire);
  if (rd.field() != exec_tag) return malformed("exec");
  auto r = read_exec(rd);
  if (!r || !rd.done()) return malformed("exec");
  return std::move(*r);
}

std::string encode_spawn_request(const spawn_request& r) {
  writer w;
  w.field(spawn_tag);
  w.number(r.id);
  w.field(r.identity ? "1" : "0");
  if (r.identity) {
    w.number(r.identity->uid);
    w.number(r.identity->gid);
    std::vector<std::string> groups;
    for (gid_t g : r.identity->groups) groups.push_back(std::to_string(g));
    w.list(groups);
    w.field(r.identity->user);
    w.field(r.identity->home);
  }
  write_exec(w, r.exec);
  return w.take();
}

result<spawn_request> decode_spawn_request(std::string_view wire) {
  reader rd(wire);
  if (rd.field() != spawn_tag) return malformed("spawn");
  spawn_request r;
  auto id = rd.number();
  auto has_identity = rd.field();
  if (!id || !has_identity || (*has_identity != "0" && *has_identity != "1")) return malformed("spawn");
  r.id = *id;
  if (*has_identity == "1") {
    command_identity who;
    auto uid = narrow<uid_t>(rd.number());
    auto gid = narrow<gid_t>(rd.number());
    auto groups = rd.list();
    auto user = rd.field();
    auto home = rd.field();
    if (!uid || !gid || !groups || !user || !home) return malformed("spawn");
    who.uid = *uid;
    who.gid = *gid;
    for (const auto& g : *groups) {
      auto v = narrow<gid_t>([&]() -> std::optional<std::uint64_t> {
        std::uint64_t n = 0;
        auto [p, ec] = std::from_chars(g.data(), g.data() + g.size(), n);
        if (g.empty() || ec != std::errc{} || p != g.data() + g.size()) return std::nullopt;
        return n;
      }());
      if (!v) return malformed("spawn");
      who.groups.push_back(*v);
    }
    who.user = *user;
    who.home = *home;
    r.identity = std::move(who);
  }
  auto e = read_exec(rd);
  if (!e || !rd.done()) return malformed("spawn");
  r.exec = std::move(*e);
  return r;
}

}  // namespace netpen::backends
