// A small classic-BPF interpreter for the filter tests: the instructions
// capture/wire_filter emits (absolute/indirect loads, ldxb msh, ldx imm,
// jeq/jgt/jge/jset with a constant, ja, ret) and the two ancillary loads it
// uses (protocol, pkttype), with the kernel's rules: loads past the end of
// the packet end the program with 0; anything else unsupported throws.
// check_program mirrors the kernel's static checks on what we emit.
#pragma once
#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace cbpf_test {

// What the kernel knows about a packet besides its bytes.
struct packet_meta {
  std::uint16_t ethertype = 0;  // skb->protocol, host order (0x0800, 0x86dd)
  std::uint32_t pkttype = 0;    // PACKET_HOST, PACKET_OUTGOING...
};

struct run_result {
  std::uint32_t value = 0;     // what the program returned (0: drop)
  std::size_t executed = 0;    // instructions run
};

// Throws std::logic_error when a jump leaves the program, it does not end
// with a ret, or it is longer than BPF_MAXINSNS.
inline void check_program(std::span<const sock_filter> prog) {
  if (prog.empty() || prog.size() > BPF_MAXINSNS) throw std::logic_error("bad program length");
  for (std::size_t pc = 0; pc < prog.size(); ++pc) {
    const auto& in = prog[pc];
    if (BPF_CLASS(in.code) != BPF_JMP) continue;
    const std::size_t next = pc + 1;
    if (BPF_OP(in.code) == BPF_JA) {
      if (next + in.k >= prog.size()) throw std::logic_error("ja out of range at " + std::to_string(pc));
    } else if (next + in.jt >= prog.size() || next + in.jf >= prog.size()) {
      throw std::logic_error("conditional jump out of range at " + std::to_string(pc));
    }
  }
  if (BPF_CLASS(prog.back().code) != BPF_RET) throw std::logic_error("last instruction is not a ret");
}

namespace detail {

inline bool load(std::span<const std::byte> data, std::uint64_t at, std::uint32_t size, std::uint32_t& out) {
  if (at + size > data.size()) return false;
  out = 0;
  for (std::uint32_t i = 0; i < size; ++i) out = out << 8 | std::to_integer<std::uint32_t>(data[at + i]);
  return true;
}

inline std::uint32_t load_size(std::uint16_t code) {
  switch (BPF_SIZE(code)) {
    case BPF_W: return 4;
    case BPF_H: return 2;
    case BPF_B: return 1;
    default: throw std::logic_error("bad load size");
  }
}

inline std::uint32_t ancillary(std::uint32_t k, const packet_meta& meta) {
  switch (static_cast<int>(k - static_cast<std::uint32_t>(SKF_AD_OFF))) {
    case SKF_AD_PROTOCOL: return meta.ethertype;
    case SKF_AD_PKTTYPE: return meta.pkttype;
    default: throw std::logic_error("unsupported ancillary load");
  }
}

inline bool condition(std::uint16_t code, std::uint32_t a, std::uint32_t k) {
  if (BPF_SRC(code) != BPF_K) throw std::logic_error("jump on X unsupported");
  switch (BPF_OP(code)) {
    case BPF_JEQ: return a == k;
    case BPF_JGT: return a > k;
    case BPF_JGE: return a >= k;
    case BPF_JSET: return (a & k) != 0;
    default: throw std::logic_error("unsupported jump");
  }
}

}  // namespace detail

inline run_result run(std::span<const sock_filter> prog, std::span<const std::byte> data, const packet_meta& meta) {
  check_program(prog);
  std::uint32_t a = 0, x = 0;
  run_result r;
  for (std::size_t pc = 0; pc < prog.size(); ++pc) {
    const auto& in = prog[pc];
    ++r.executed;
    switch (BPF_CLASS(in.code)) {
      case BPF_LD: {
        const auto size = detail::load_size(in.code);
        if (BPF_MODE(in.code) == BPF_ABS && in.k >= static_cast<std::uint32_t>(SKF_AD_OFF)) {
          a = detail::ancillary(in.k, meta);
        } else if (BPF_MODE(in.code) == BPF_ABS || BPF_MODE(in.code) == BPF_IND) {
          const std::uint64_t at = std::uint64_t{in.k} + (BPF_MODE(in.code) == BPF_IND ? x : 0u);
          if (!detail::load(data, at, size, a)) return r;  // value 0
        } else {
          throw std::logic_error("unsupported ld mode");
        }
        break;
      }
      case BPF_LDX:
        if (BPF_MODE(in.code) == BPF_IMM) {
          x = in.k;
        } else if (BPF_MODE(in.code) == BPF_MSH && BPF_SIZE(in.code) == BPF_B) {
          std::uint32_t b = 0;
          if (!detail::load(data, in.k, 1, b)) return r;
          x = 4 * (b & 0xfu);
        } else {
          throw std::logic_error("unsupported ldx");
        }
        break;
      case BPF_JMP:
        if (BPF_OP(in.code) == BPF_JA)
          pc += in.k;
        else
          pc += detail::condition(in.code, a, in.k) ? in.jt : in.jf;
        break;
      case BPF_RET:
        if (BPF_RVAL(in.code) != BPF_K) throw std::logic_error("unsupported ret");
        r.value = in.k;
        return r;
      default:
        throw std::logic_error("unsupported instruction class");
    }
  }
  throw std::logic_error("ran off the end");
}

}  // namespace cbpf_test
