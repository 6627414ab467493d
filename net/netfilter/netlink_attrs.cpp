// Attribute walking and big-endian reads (see netlink_attrs.hpp).
#include "net/netfilter/netlink_attrs.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <cstring>
#include <limits>

namespace netpen::netfilter {

bool message_fits(const nlmsghdr* nlh, int left) {
  return left >= static_cast<int>(sizeof(nlmsghdr)) && nlh->nlmsg_len >= sizeof(nlmsghdr) &&
         nlh->nlmsg_len <= static_cast<unsigned>(left);
}

std::optional<int> ack_error(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != NLMSG_ERROR) return std::nullopt;
  if (nlh->nlmsg_len < sizeof(nlmsghdr) + sizeof(nlmsgerr)) return std::nullopt;
  nlmsgerr err{};
  std::memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof err);
  // The kernel sends 0 or a negative errno; anything else is no answer
  // (and INT_MIN could not be negated).
  if (err.error > 0 || err.error == std::numeric_limits<int>::min()) return std::nullopt;
  return -err.error;
}

namespace detail {
namespace {

// Netlink's 4-byte alignment (MNL_ALIGN without its sign conversions).
constexpr std::size_t align4(std::size_t n) { return (n + 3U) & ~std::size_t{3}; }
constexpr std::size_t attrs_offset = align4(sizeof(nlmsghdr)) + align4(sizeof(nfgenmsg));

}  // namespace

nlmsghdr* put_request(char* buf, std::uint16_t type, std::uint16_t flags, std::uint32_t seq, std::uint8_t family,
                      std::uint16_t res_id) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons(res_id);
  return nlh;
}

const nfgenmsg* nfgen_header(const nlmsghdr* nlh) {
  if (nlh->nlmsg_len < attrs_offset) return nullptr;
  return static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
}

bool index_attributes(const void* data, std::size_t len, std::span<const nlattr*> table) {
  const auto* base = static_cast<const unsigned char*>(data);
  std::size_t off = 0;
  while (off < len) {
    if (len - off < sizeof(nlattr)) return false;
    nlattr head{};
    std::memcpy(&head, base + off, sizeof head);
    if (head.nla_len < sizeof(nlattr) || head.nla_len > len - off) return false;
    const auto type = static_cast<std::size_t>(head.nla_type & NLA_TYPE_MASK);
    if (type < table.size()) table[type] = reinterpret_cast<const nlattr*>(base + off);
    off += align4(head.nla_len);  // the last attribute's padding may be absent
  }
  return true;
}

bool index_message(const nlmsghdr* nlh, std::span<const nlattr*> table) {
  if (nlh->nlmsg_len < attrs_offset) return false;
  const auto* base = reinterpret_cast<const unsigned char*>(nlh);
  return index_attributes(base + attrs_offset, nlh->nlmsg_len - attrs_offset, table);
}

bool index_nested(const nlattr* outer, std::span<const nlattr*> table) {
  if (outer == nullptr) return false;
  return index_attributes(mnl_attr_get_payload(outer), mnl_attr_get_payload_len(outer), table);
}

std::span<const std::byte> payload(const nlattr* a) {
  if (a == nullptr) return {};
  return {static_cast<const std::byte*>(mnl_attr_get_payload(a)), mnl_attr_get_payload_len(a)};
}

namespace {

template <class T>
std::optional<T> get_be(const nlattr* a) {
  if (a == nullptr || mnl_attr_get_payload_len(a) != sizeof(T)) return std::nullopt;
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, mnl_attr_get_payload(a), sizeof(T));
  T v = 0;
  for (unsigned char b : bytes) v = static_cast<T>((v << 8) | b);
  return v;
}

}  // namespace

std::optional<std::uint8_t> get_u8(const nlattr* a) { return get_be<std::uint8_t>(a); }
std::optional<std::uint16_t> get_be16(const nlattr* a) { return get_be<std::uint16_t>(a); }
std::optional<std::uint32_t> get_be32(const nlattr* a) { return get_be<std::uint32_t>(a); }
std::optional<std::uint64_t> get_be64(const nlattr* a) { return get_be<std::uint64_t>(a); }

}  // namespace detail
}  // namespace netpen::netfilter
