// The native system calls' names by number, for the SIGSYS handler's
// message (self_confinement.cpp). The table is generated at build time
// (tools/gen_syscall_names.cpp, from libseccomp's tables) so that no start
// pays for resolving them; read-only data, touched only when a call is
// refused. The lookup is async-signal-safe (no allocation, no locks).
#pragma once

namespace netpen::app::confine {

// Fixed-size names: the table holds no pointers, so it needs no
// relocation even in a PIE (no page of it is written at start-up).
struct syscall_name {
  short number;
  char name[30];
};

// Sorted by number.
extern const syscall_name syscall_names[];
extern const int syscall_name_count;

// The name of native call `number`, or nullptr when the table has none.
inline const char* syscall_name_of(int number) {
  int low = 0;
  int high = syscall_name_count;
  while (low < high) {
    const int mid = low + (high - low) / 2;
    if (syscall_names[mid].number < number) low = mid + 1;
    else high = mid;
  }
  return low < syscall_name_count && syscall_names[low].number == number ? syscall_names[low].name : nullptr;
}

}  // namespace netpen::app::confine
