// libnftables and libnftnl, opened on first use. Only --root needs them, and
// loading them (with libxtables, libjansson and libgmp behind libnftables) at
// every start cost a rootless `netpen -- true` about 1.3 ms on the bench
// machine, so netpen does not link them: the --root preflight (or the first
// nft session or flow-gate rule) dlopen()s each library by its soname and
// resolves the functions netpen calls into a table. A missing library or
// symbol is an "nft-unavailable" error naming it; the tables live until the
// process ends.
#pragma once
#include <cstdio>  // libnftnl's headers use FILE without including it

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <nftables/libnftables.h>

#include "net/common/error.hpp"

namespace netpen::backends::rootful {

struct nftables_api {
  decltype(&::nft_ctx_new) ctx_new = nullptr;
  decltype(&::nft_ctx_free) ctx_free = nullptr;
  decltype(&::nft_ctx_buffer_output) ctx_buffer_output = nullptr;
  decltype(&::nft_ctx_buffer_error) ctx_buffer_error = nullptr;
  decltype(&::nft_ctx_set_dry_run) ctx_set_dry_run = nullptr;
  decltype(&::nft_run_cmd_from_buffer) run_cmd_from_buffer = nullptr;
  decltype(&::nft_ctx_get_output_buffer) ctx_get_output_buffer = nullptr;
  decltype(&::nft_ctx_get_error_buffer) ctx_get_error_buffer = nullptr;
};

struct nftnl_api {
  decltype(&::nftnl_rule_alloc) rule_alloc = nullptr;
  decltype(&::nftnl_rule_free) rule_free = nullptr;
  decltype(&::nftnl_rule_set_u32) rule_set_u32 = nullptr;
  decltype(&::nftnl_rule_set_str) rule_set_str = nullptr;
  decltype(&::nftnl_rule_add_expr) rule_add_expr = nullptr;
  decltype(&::nftnl_nlmsg_build_hdr) nlmsg_build_hdr = nullptr;  // nftnl_rule_nlmsg_build_hdr is a macro for it
  decltype(&::nftnl_rule_nlmsg_build_payload) rule_nlmsg_build_payload = nullptr;
  decltype(&::nftnl_expr_alloc) expr_alloc = nullptr;
  decltype(&::nftnl_expr_set) expr_set = nullptr;
  decltype(&::nftnl_expr_set_u32) expr_set_u32 = nullptr;
  decltype(&::nftnl_expr_set_str) expr_set_str = nullptr;
  decltype(&::nftnl_batch_begin) batch_begin = nullptr;
  decltype(&::nftnl_batch_end) batch_end = nullptr;
};

// The loaded tables (opened once per process; later calls return the same
// table, or the same error).
result<const nftables_api*> nftables_library();
result<const nftnl_api*> nftnl_library();

}  // namespace netpen::backends::rootful
