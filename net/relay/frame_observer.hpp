// The relay's capture point at the tap: an observer sees every frame the
// child sent (read from the tap) and every frame written to it, whole, as
// up to three pieces (headers built by the relay, then payload spans), from
// any thread. It must copy what it keeps and never block.
#pragma once
#include <cstddef>
#include <span>

namespace netpen::relay {

enum class frame_direction { from_child, to_child };

class frame_observer {
 public:
  virtual ~frame_observer() = default;
  virtual void frame(frame_direction d, std::span<const std::byte> head, std::span<const std::byte> p0,
                     std::span<const std::byte> p1) = 0;
};

}  // namespace netpen::relay
