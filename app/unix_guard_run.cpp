// A run's Unix-socket guard (see unix_guard_run.hpp).
#include "app/unix_guard_run.hpp"

#include <fmt/format.h>

#include "net/common/log.hpp"
#include "net/events/text_util.hpp"

namespace netpen::app {

events::event unix_refusal_event(const backends::unix_refusal& r) {
  events::event e;
  e.what = events::kind::denied;
  e.protocol = "unix";
  e.destination = events::printable(r.path);  // the tree chose these bytes: no terminal escapes
  e.policy = "unix-socket";
  e.reason = fmt::format("{} to a Unix socket the tree did not create (--allow-unix PATH allows it)", r.call);
  e.process = r.process;
  return e;
}

result<std::unique_ptr<backends::unix_guard_supervisor>> start_unix_guard(const run_config& cfg,
                                                                          backends::sandbox& sandbox,
                                                                          relay::data_path& relay) {
  if (!cfg.block_unix) return std::unique_ptr<backends::unix_guard_supervisor>{};
  auto fds = sandbox.take_unix_guard();
  if (!fds) return fail("unix-guard", "the sandbox did not hand over the Unix-socket guard");
  auto guard = std::make_unique<backends::unix_guard_supervisor>(
      std::move(fds), cfg.allow_unix,
      [&relay](const backends::unix_refusal& r) { relay.raise(unix_refusal_event(r)); });
  guard->start();
  log::debug("unix guard: on; --allow-unix: {}", cfg.allow_unix.empty() ? std::string("none")
                                                                        : fmt::format("{}", fmt::join(cfg.allow_unix, ", ")));
  return guard;
}

}  // namespace netpen::app
