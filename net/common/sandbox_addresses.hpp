// The sandbox's fixed link: addresses of the child's tap0 and of the
// gateway (the relay engine), shared by the backend that configures the link
// and the engine that answers on it. Private ranges unlikely to clash.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

namespace netpen::sandbox {

// IPv4: a /30 link. The gateway is the relay (DNS forwarder, ARP target).
inline constexpr std::string_view child_ipv4 = "10.248.0.2";
inline constexpr std::string_view gateway_ipv4 = "10.248.0.1";
inline constexpr int ipv4_prefix = 30;

// IPv6: a ULA /64.
inline constexpr std::string_view child_ipv6 = "fd6e:7065:6e00::2";
inline constexpr std::string_view gateway_ipv6 = "fd6e:7065:6e00::1";
inline constexpr int ipv6_prefix = 64;

// Gateway MAC (locally administered). The child's tap0 MAC is whatever the
// kernel picks; the engine learns it from the first frame.
inline constexpr std::array<std::uint8_t, 6> gateway_mac = {0x02, 0x6e, 0x70, 0x00, 0x00, 0x01};
inline constexpr std::array<std::uint8_t, 6> child_mac = {0x02, 0x6e, 0x70, 0x00, 0x00, 0x02};

inline constexpr std::string_view tap_name = "tap0";
inline constexpr int tap_mtu = 65520;
// Every frame on the tap fd is preceded by a virtio-net header (IFF_VNET_HDR,
// struct virtio_net_hdr): it carries checksum offload both ways, so neither
// side sums 64 KiB segments in software.
inline constexpr int tap_vnet_header_size = 10;
inline constexpr int tap_txqueuelen = 10000;

}  // namespace netpen::sandbox
