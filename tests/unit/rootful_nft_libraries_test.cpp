// [nft] libnftables and libnftnl opened on first use: every slot of both
// tables is resolved, a second call returns the same table, and the
// functions work through it. (That netpen itself does not link them is the
// CLI test "cli: rootless start loads no nftables library".)
#include <catch2/catch.hpp>

#include <string>

#include "backends/rootful/nft_libraries.hpp"

using namespace netpen::backends::rootful;

TEST_CASE("nft libraries: both tables resolve completely, once", "[nft]") {
  auto nft = nftables_library();
  REQUIRE(nft);
  const nftables_api& a = **nft;
  CHECK(a.ctx_new != nullptr);
  CHECK(a.ctx_free != nullptr);
  CHECK(a.ctx_buffer_output != nullptr);
  CHECK(a.ctx_buffer_error != nullptr);
  CHECK(a.ctx_set_dry_run != nullptr);
  CHECK(a.run_cmd_from_buffer != nullptr);
  CHECK(a.ctx_get_output_buffer != nullptr);
  CHECK(a.ctx_get_error_buffer != nullptr);
  CHECK(*nftables_library() == *nft);

  auto nftnl = nftnl_library();
  REQUIRE(nftnl);
  const nftnl_api& b = **nftnl;
  CHECK(b.rule_alloc != nullptr);
  CHECK(b.rule_free != nullptr);
  CHECK(b.rule_set_u32 != nullptr);
  CHECK(b.rule_set_str != nullptr);
  CHECK(b.rule_add_expr != nullptr);
  CHECK(b.nlmsg_build_hdr != nullptr);
  CHECK(b.rule_nlmsg_build_payload != nullptr);
  CHECK(b.expr_alloc != nullptr);
  CHECK(b.expr_set != nullptr);
  CHECK(b.expr_set_u32 != nullptr);
  CHECK(b.expr_set_str != nullptr);
  CHECK(b.batch_begin != nullptr);
  CHECK(b.batch_end != nullptr);
  CHECK(*nftnl_library() == *nftnl);

  // A rule object made and freed through the table.
  nftnl_rule* r = b.rule_alloc();
  REQUIRE(r != nullptr);
  b.rule_free(r);
}

TEST_CASE("nft libraries: a context runs a dry-run command through the table", "[nft]") {
  auto nft = nftables_library();
  REQUIRE(nft);
  nft_ctx* ctx = (*nft)->ctx_new(NFT_CTX_DEFAULT);
  REQUIRE(ctx != nullptr);
  CHECK((*nft)->ctx_buffer_output(ctx) == 0);
  CHECK((*nft)->ctx_buffer_error(ctx) == 0);
  (*nft)->ctx_set_dry_run(ctx, true);
  // A syntax error is refused by the parser before any netlink traffic.
  CHECK((*nft)->run_cmd_from_buffer(ctx, "this is not nft\n") != 0);
  const std::string errors = (*nft)->ctx_get_error_buffer(ctx);
  CHECK(errors.find("syntax error") != std::string::npos);
  (*nft)->ctx_free(ctx);
}
