// A thin wrapper over libnftables: one nft context that runs nft scripts
// (one transaction each), dry-runs them, and lists tables, with nft's own
// error text carried in the returned error. Builds no rules itself
// (nft_ruleset.hpp does).
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "net/common/error.hpp"

struct nft_ctx;

namespace netpen::backends::rootful {

struct nftables_api;

// One libnftables context (the library is loaded on the first open()). Its
// netlink socket is opened by open(), so every command acts on the network
// namespace the calling thread was in at open() (even after a later
// setns/unshare): open one session per namespace, from a thread inside it.
// Not thread-safe: use a session from one thread. Errors: "nft-unavailable"
// (no context), "nft-failed" (nft rejected the command; the message carries
// nft's error text), "nft-plan" (a family or table name that is not a plain
// identifier).
class nft_session {
 public:
  static result<nft_session> open();

  // Runs `script` as one transaction: all of it applies or none does.
  result<void> run(std::string_view script);
  // Validates `script` against the kernel (nft -c): changes nothing.
  result<void> check(std::string_view script);
  // `list table <family> <table>` output (fails if the table is missing).
  result<std::string> list_table(std::string_view family, std::string_view table);
  result<bool> table_exists(std::string_view family, std::string_view table);
  // Deletes the table; a missing table is success.
  result<void> delete_table_if_exists(std::string_view family, std::string_view table);
  // `list ruleset` output.
  result<std::string> list_ruleset();
  // Whether the kernel has nft's `queue` expression (CONFIG_NFT_QUEUE),
  // which the child table needs; probed with a dry run, changes nothing.
  result<bool> kernel_has_queue();

 private:
  struct ctx_free {
    void operator()(nft_ctx* ctx) const;
  };
  nft_session(nft_ctx* ctx, const nftables_api& api) : api_(&api), ctx_(ctx) {}
  // Runs `script`; returns nft's output text.
  result<std::string> execute(std::string_view script, bool dry_run);

  const nftables_api* api_;
  std::unique_ptr<nft_ctx, ctx_free> ctx_;
};

}  // namespace netpen::backends::rootful
