// Owns the SOCKS5 client codec for upstream SOCKS proxies, sans-I/O: RFC 1928
// CONNECT with RFC 1929 username/password authentication. The caller writes
// what take_output() returns and feeds what it reads; the codec never touches
// a socket, never throws on bad input and never reads outside its buffers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/proxy/connect_target.hpp"
#include "net/proxy/credentials.hpp"

namespace netpen::proxy {

class socks5_client {
 public:
  enum class status { need_more, done, failed };

  // Uses the domain address type (0x03) when target.name is present, else
  // IPv4 (0x01) or IPv6 (0x04). If validate() rejects the arguments, the
  // client starts out failed: current() is failed, error() says why, and
  // take_output() is empty, so no invalid message is ever produced.
  socks5_client(connect_target target, std::optional<credentials> creds);

  // Why these arguments cannot make valid SOCKS5 messages, or nullopt: a name
  // that is present but not a valid host name or longer than 255 bytes (see
  // target_problem), an empty user name, a user name or password longer than
  // 255 bytes. (An empty password is sent as PLEN 0, as curl does.)
  static std::optional<std::string> validate(const connect_target& target, const std::optional<credentials>& creds);

  // Replies may arrive split or coalesced; each is checked as soon as enough
  // of it is there (a bad version or reply code fails before the rest comes).
  // After done or failed, feed() ignores its input and returns the status:
  // from then on the caller owns the stream.
  std::vector<std::byte> take_output();          // bytes to write now (the greeting first); empty when none
  status feed(std::span<const std::byte> data);  // bytes read from the proxy; may queue more output
  std::span<const std::byte> leftover() const;   // bytes after the final reply (tunnel data), valid after done
  const std::string& error() const { return error_; }  // when failed: a clear reason
  status current() const { return status_; }

 private:
  enum class stage { method, auth, reply };

  status fail(std::string why);
  bool step();  // consume one complete message from in_, if any; false when waiting
  void queue_auth();
  void queue_connect();

  connect_target target_;
  std::optional<credentials> creds_;
  std::vector<std::byte> out_;
  std::vector<std::byte> in_;
  std::size_t leftover_start_ = 0;
  stage stage_ = stage::method;
  status status_ = status::need_more;
  std::string error_;
};

}  // namespace netpen::proxy
