// How a host change is undone: an interface, so the guard stack and
// `netpen cleanup` can be tested with a fake, and one real implementation
// (make_host_undo, host_undo_system.cpp) through rtnetlink, libnftables and
// /proc/sys.
#pragma once
#include <memory>

#include "backends/rootful/host_change.hpp"
#include "net/common/error.hpp"

namespace netpen::backends::rootful {

struct host_undo {
  virtual ~host_undo() = default;
  // Undoes one change. Something already gone (the veth deleted with its
  // namespace, a table removed by hand) is success: undo is idempotent.
  virtual result<void> undo(const host_change& change) = 0;
};

// The real thing, acting on the calling process's network namespace.
std::unique_ptr<host_undo> make_host_undo();

}  // namespace netpen::backends::rootful
