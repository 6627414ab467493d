// SOCKS5 client state machine: greeting -> method selection -> (username/
// password request -> its reply) -> CONNECT request -> reply. Each reply is
// checked as soon as enough of it has arrived; replies split across reads or
// coalesced into one read are handled alike.
#include "net/proxy/socks5.hpp"

#include <cstdio>
#include <string_view>
#include <utility>

namespace netpen::proxy {

namespace {

constexpr std::uint8_t socks_version = 0x05;
constexpr std::uint8_t auth_version = 0x01;
constexpr std::uint8_t method_none = 0x00;
constexpr std::uint8_t method_userpass = 0x02;
constexpr std::uint8_t method_unacceptable = 0xff;
constexpr std::uint8_t cmd_connect = 0x01;
constexpr std::uint8_t atyp_v4 = 0x01;
constexpr std::uint8_t atyp_domain = 0x03;
constexpr std::uint8_t atyp_v6 = 0x04;

std::string hex_byte(std::uint8_t v) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02x", unsigned{v});
  return text;
}

void put(std::vector<std::byte>& out, std::uint8_t v) { out.push_back(static_cast<std::byte>(v)); }

void put(std::vector<std::byte>& out, std::string_view s) {
  for (char c : s) out.push_back(static_cast<std::byte>(c));
}

// RFC 1928 section 6 reply codes 0x01..0x08.
std::string reply_reason(std::uint8_t rep) {
  switch (rep) {
    case 0x01: return "proxy: general SOCKS server failure";
    case 0x02: return "proxy: connection not allowed by ruleset";
    case 0x03: return "proxy: network unreachable";
    case 0x04: return "proxy: host unreachable";
    case 0x05: return "proxy: connection refused";
    case 0x06: return "proxy: TTL expired";
    case 0x07: return "proxy: command not supported";
    case 0x08: return "proxy: address type not supported";
    default: return "proxy: unknown reply code " + hex_byte(rep);
  }
}

std::string not_socks5(std::uint8_t version) {
  return "proxy is not a SOCKS5 server (version byte " + hex_byte(version) + ")";
}

}  // namespace

std::optional<std::string> socks5_client::validate(const connect_target& target,
                                                   const std::optional<credentials>& creds) {
  if (auto problem = target_problem(target)) return problem;
  if (creds) {
    if (creds->user.empty()) return "proxy user name is empty";
    if (creds->user.size() > 255) return "proxy user name is longer than 255 bytes, the SOCKS5 limit";
    if (creds->password.size() > 255) return "proxy password is longer than 255 bytes, the SOCKS5 limit";
  }
  return std::nullopt;
}

socks5_client::socks5_client(connect_target target, std::optional<credentials> creds)
    : target_(std::move(target)), creds_(std::move(creds)) {
  if (auto problem = validate(target_, creds_)) {
    fail(std::move(*problem));
    return;
  }
  put(out_, socks_version);
  if (creds_) {
    put(out_, 2);
    put(out_, method_none);
    put(out_, method_userpass);
  } else {
    put(out_, 1);
    put(out_, method_none);
  }
}

socks5_client::status socks5_client::fail(std::string why) {
  error_ = std::move(why);
  status_ = status::failed;
  out_.clear();
  return status_;
}

std::vector<std::byte> socks5_client::take_output() { return std::exchange(out_, {}); }

void socks5_client::queue_auth() {
  put(out_, auth_version);
  put(out_, static_cast<std::uint8_t>(creds_->user.size()));
  put(out_, creds_->user);
  put(out_, static_cast<std::uint8_t>(creds_->password.size()));
  put(out_, creds_->password);
}

void socks5_client::queue_connect() {
  put(out_, socks_version);
  put(out_, cmd_connect);
  put(out_, 0x00);  // RSV
  if (target_.name) {
    put(out_, atyp_domain);
    put(out_, static_cast<std::uint8_t>(target_.name->size()));
    put(out_, *target_.name);
  } else {
    put(out_, target_.v6 ? atyp_v6 : atyp_v4);
    const std::size_t n = target_.v6 ? 16 : 4;
    for (std::size_t i = 0; i < n; ++i) put(out_, target_.address[i]);
  }
  put(out_, static_cast<std::uint8_t>(target_.port >> 8));
  put(out_, static_cast<std::uint8_t>(target_.port & 0xff));
}

bool socks5_client::step() {
  const std::size_t avail = in_.size() - leftover_start_;
  auto at = [&](std::size_t i) { return std::to_integer<std::uint8_t>(in_[leftover_start_ + i]); };
  auto stop = [this](std::string why) {
    fail(std::move(why));
    return false;
  };

  switch (stage_) {
    case stage::method: {
      if (avail >= 1 && at(0) != socks_version) return stop(not_socks5(at(0)));
      if (avail < 2) return false;
      const std::uint8_t method = at(1);
      leftover_start_ += 2;
      if (method == method_none) {
        queue_connect();
        stage_ = stage::reply;
      } else if (method == method_userpass) {
        if (!creds_) return stop("proxy chose username/password authentication, which we did not offer");
        queue_auth();
        stage_ = stage::auth;
      } else if (method == method_unacceptable) {
        std::string why = "proxy accepted none of our authentication methods";
        if (!creds_) why += "; it may need a user name and password (--proxy-user)";
        return stop(std::move(why));
      } else {
        return stop("proxy chose authentication method " + hex_byte(method) + ", which we did not offer");
      }
      return true;
    }
    case stage::auth: {
      if (avail >= 1 && at(0) != auth_version)
        return stop("proxy sent a bad authentication reply (version byte " + hex_byte(at(0)) + ")");
      if (avail < 2) return false;
      if (at(1) != 0x00) return stop("proxy rejected the user name or password");
      leftover_start_ += 2;
      queue_connect();
      stage_ = stage::reply;
      return true;
    }
    case stage::reply: {
      // VER REP RSV ATYP BND.ADDR BND.PORT; RSV is not checked.
      if (avail >= 1 && at(0) != socks_version) return stop(not_socks5(at(0)));
      if (avail >= 2 && at(1) != 0x00) return stop(reply_reason(at(1)));
      if (avail < 4) return false;
      std::size_t length = 0;
      switch (at(3)) {
        case atyp_v4: length = 4 + 4 + 2; break;
        case atyp_v6: length = 4 + 16 + 2; break;
        case atyp_domain:
          if (avail < 5) return false;
          length = 4 + 1 + std::size_t{at(4)} + 2;
          break;
        default:
          return stop("proxy sent a reply with an unknown address type " + hex_byte(at(3)));
      }
      if (avail < length) return false;
      leftover_start_ += length;
      status_ = status::done;
      return false;
    }
  }
  return false;
}

socks5_client::status socks5_client::feed(std::span<const std::byte> data) {
  if (status_ != status::need_more) return status_;
  in_.insert(in_.end(), data.begin(), data.end());
  while (status_ == status::need_more && step()) {
  }
  return status_;
}

std::span<const std::byte> socks5_client::leftover() const {
  if (status_ != status::done) return {};
  return std::span<const std::byte>(in_).subspan(leftover_start_);
}

}  // namespace netpen::proxy
