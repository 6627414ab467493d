// dlopen() of libnftables and libnftnl on first use (see nft_libraries.hpp).
#include "backends/rootful/nft_libraries.hpp"

#include <dlfcn.h>

#include <string>

namespace netpen::backends::rootful {
namespace {

// One opened library: each bind() resolves a symbol into a table slot and
// remembers the first failure, so a table is complete or an error.
class binder {
 public:
  explicit binder(const char* soname) : soname_(soname) {
    handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) failure_ = dlerror_text();
  }
  template <class F>
  void bind(F& slot, const char* name) {
    if (handle_ == nullptr || !failure_.empty()) return;
    void* sym = ::dlsym(handle_, name);
    if (sym == nullptr) {
      failure_ = dlerror_text();
      return;
    }
    slot = reinterpret_cast<F>(sym);
  }
  result<void> outcome(const char* package) const {
    if (failure_.empty()) return {};
    return fail("nft-unavailable", std::string("--root needs ") + soname_ + " (Debian package " + package +
                                       "), which could not be loaded: " + failure_);
  }

 private:
  static std::string dlerror_text() {
    const char* text = ::dlerror();
    return text != nullptr ? text : "unknown dlopen error";
  }
  const char* soname_;
  void* handle_ = nullptr;  // never closed: the table points into it
  std::string failure_;
};

template <class Api>
result<const Api*> loaded(const Api& api, const result<void>& outcome) {
  if (!outcome) return unexpected<error>(outcome.error());
  return &api;
}

}  // namespace

result<const nftables_api*> nftables_library() {
  static nftables_api api;
  static const result<void> outcome = [] {
    binder lib(NETPEN_NFTABLES_SONAME);
    lib.bind(api.ctx_new, "nft_ctx_new");
    lib.bind(api.ctx_free, "nft_ctx_free");
    lib.bind(api.ctx_buffer_output, "nft_ctx_buffer_output");
    lib.bind(api.ctx_buffer_error, "nft_ctx_buffer_error");
    lib.bind(api.ctx_set_dry_run, "nft_ctx_set_dry_run");
    lib.bind(api.run_cmd_from_buffer, "nft_run_cmd_from_buffer");
    lib.bind(api.ctx_get_output_buffer, "nft_ctx_get_output_buffer");
    lib.bind(api.ctx_get_error_buffer, "nft_ctx_get_error_buffer");
    return lib.outcome("libnftables1");
  }();
  return loaded(api, outcome);
}

result<const nftnl_api*> nftnl_library() {
  static nftnl_api api;
  static const result<void> outcome = [] {
    binder lib(NETPEN_NFTNL_SONAME);
    lib.bind(api.rule_alloc, "nftnl_rule_alloc");
    lib.bind(api.rule_free, "nftnl_rule_free");
    lib.bind(api.rule_set_u32, "nftnl_rule_set_u32");
    lib.bind(api.rule_set_str, "nftnl_rule_set_str");
    lib.bind(api.rule_add_expr, "nftnl_rule_add_expr");
    lib.bind(api.nlmsg_build_hdr, "nftnl_nlmsg_build_hdr");
    lib.bind(api.rule_nlmsg_build_payload, "nftnl_rule_nlmsg_build_payload");
    lib.bind(api.expr_alloc, "nftnl_expr_alloc");
    lib.bind(api.expr_set, "nftnl_expr_set");
    lib.bind(api.expr_set_u32, "nftnl_expr_set_u32");
    lib.bind(api.expr_set_str, "nftnl_expr_set_str");
    lib.bind(api.batch_begin, "nftnl_batch_begin");
    lib.bind(api.batch_end, "nftnl_batch_end");
    return lib.outcome("libnftnl11");
  }();
  return loaded(api, outcome);
}

}  // namespace netpen::backends::rootful
