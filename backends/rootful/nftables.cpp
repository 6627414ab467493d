// libnftables wrapper (see nftables.hpp): context set-up with buffered
// output and errors, one transaction per script, dry runs, table listing.
#include "backends/rootful/nftables.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "backends/rootful/nft_libraries.hpp"
#include "backends/rootful/nft_ruleset.hpp"

namespace netpen::backends::rootful {
namespace {

// libnftables exits the whole process when it cannot open its netlink
// socket, so open() tries one first and reports failure as an error.
bool netfilter_netlink_available(int& err) {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) {
    err = errno;
    return false;
  }
  ::close(fd);
  return true;
}

bool is_netfilter_netlink(int fd) {
  int domain = 0;
  int protocol = 0;
  socklen_t len = sizeof domain;
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_NETLINK) return false;
  len = sizeof protocol;
  return ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0 && protocol == NETLINK_NETFILTER;
}

// libnftables (through libmnl) opens its socket without O_CLOEXEC; the
// command netpen later runs must not inherit it. Marks every netfilter
// netlink socket of the process close-on-exec (harmless for any other).
void set_cloexec_on_netfilter_sockets() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return;
  const int own = ::dirfd(dir);
  while (const dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    const long n = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || n == own) continue;
    const int fd = static_cast<int>(n);
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0 && is_netfilter_netlink(fd)) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
  ::closedir(dir);
}

// nft's error text, trimmed, as one message.
std::string trimmed(const char* text) {
  std::string s = text != nullptr ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

result<void> check_names(std::string_view family, std::string_view table) {
  if (!valid_family(family)) return fail("nft-plan", "not an nftables family: \"" + std::string(family) + "\"");
  if (!valid_table_name(table)) return fail("nft-plan", "not a plain nftables table name: \"" + std::string(table) + "\"");
  return {};
}

}  // namespace

void nft_session::ctx_free::operator()(nft_ctx* ctx) const {
  // A context exists only if the library loaded, so this finds its table.
  if (auto lib = nftables_library()) (*lib)->ctx_free(ctx);
}

result<nft_session> nft_session::open() {
  auto lib = nftables_library();
  if (!lib) return unexpected<error>(lib.error());
  const nftables_api& nft = **lib;
  int err = 0;
  if (!netfilter_netlink_available(err))
    return fail("nft-unavailable", std::string("cannot open a netfilter netlink socket: ") + std::strerror(err));
  nft_ctx* ctx = nft.ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) return fail("nft-unavailable", "libnftables could not create a context");
  nft_session session(ctx, nft);
  set_cloexec_on_netfilter_sockets();
  if (nft.ctx_buffer_output(ctx) != 0 || nft.ctx_buffer_error(ctx) != 0)
    return fail("nft-unavailable", "libnftables could not buffer its output");
  return session;
}

result<std::string> nft_session::execute(std::string_view script, bool dry_run) {
  const std::string text(script);  // libnftables wants a NUL-terminated buffer
  api_->ctx_set_dry_run(ctx_.get(), dry_run);
  const int rc = api_->run_cmd_from_buffer(ctx_.get(), text.c_str());
  api_->ctx_set_dry_run(ctx_.get(), false);
  // Reading a buffer also resets it for the next command.
  std::string output = api_->ctx_get_output_buffer(ctx_.get());
  std::string errors = trimmed(api_->ctx_get_error_buffer(ctx_.get()));
  if (rc != 0) {
    if (errors.empty()) errors = "no error text";
    return fail("nft-failed", "nftables rejected the command: " + errors);
  }
  return output;
}

result<void> nft_session::run(std::string_view script) {
  auto r = execute(script, false);
  if (!r) return unexpected<error>(r.error());
  return {};
}

result<void> nft_session::check(std::string_view script) {
  auto r = execute(script, true);
  if (!r) return unexpected<error>(r.error());
  return {};
}

result<std::string> nft_session::list_table(std::string_view family, std::string_view table) {
  if (auto ok = check_names(family, table); !ok) return unexpected<error>(ok.error());
  return execute("list table " + std::string(family) + " " + std::string(table) + "\n", false);
}

result<bool> nft_session::table_exists(std::string_view family, std::string_view table) {
  if (auto ok = check_names(family, table); !ok) return unexpected<error>(ok.error());
  auto listing = execute("list tables " + std::string(family) + "\n", false);
  if (!listing) return unexpected<error>(listing.error());
  // One line per table: "table <family> <name>".
  const std::string wanted = "table " + std::string(family) + " " + std::string(table);
  std::string_view rest = *listing;
  while (!rest.empty()) {
    const auto eol = rest.find('\n');
    const std::string_view line = rest.substr(0, eol);
    if (line == wanted) return true;
    if (eol == std::string_view::npos) break;
    rest.remove_prefix(eol + 1);
  }
  return false;
}

result<void> nft_session::delete_table_if_exists(std::string_view family, std::string_view table) {
  if (auto ok = check_names(family, table); !ok) return unexpected<error>(ok.error());
  // `add` is a no-op for an existing table, so the pair never fails on a
  // missing one and never races with another deleter.
  const std::string f(family);
  const std::string t(table);
  return run("add table " + f + " " + t + "\ndelete table " + f + " " + t + "\n");
}

result<std::string> nft_session::list_ruleset() { return execute("list ruleset\n", false); }

result<bool> nft_session::kernel_has_queue() {
  const std::string head =
      "table inet netpen_probe {\n\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n";
  // A baseline without `queue` first, so a failure of the probe itself
  // (no privilege, no nf_tables) is an error rather than "no queue".
  if (auto base = check(head + "\t\tcounter\n\t}\n}\n"); !base) return unexpected<error>(base.error());
  return check(head + "\t\tqueue num 0\n\t}\n}\n").has_value();
}

}  // namespace netpen::backends::rootful
