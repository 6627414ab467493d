// Least privilege for the command tree (rootless, unless --map-root): the
// sandbox init calls drop_tree_privileges() once its set-up is done and
// before it starts any command (run mode and `create`'s persistent mode).
//
// Theory of operation. What a process holds after execve is
//   permitted' = (inheritable & file inheritable) | (file permitted & bounding)
//                | ambient,
// and uid 0 (or a set-user-ID-root file) counts as having every file
// capability unless SECBIT_NOROOT is set. So the init:
//   - clears its ambient set and forbids raising it again
//     (SECBIT_NO_CAP_AMBIENT_RAISE, locked);
//   - clears its inheritable set;
//   - drops every capability from its bounding set (file capabilities and
//     set-user-ID-root files then grant nothing);
//   - sets SECBIT_NOROOT (uid 0 gets nothing at execve) and locks it, and
//     locks SECBIT_NO_SETUID_FIXUP off, so a change of uid still clears
//     capabilities. SECBIT_KEEP_CAPS stays unlocked: with nothing to keep
//     it grants nothing, and ping (iputils) aborts when it cannot set it.
// The init keeps its own permitted and effective sets: it still drops an
// exec's process to its member's identity (CAP_SETUID, CAP_SETGID). Every
// process it forks inherits the bounding set, securebits and empty ambient
// set; none holds CAP_SETPCAP after its first execve, so none can undo
// them: every command of the tree has CapInh, CapPrm, CapEff, CapBnd and
// CapAmb all 0, as uid 0 too, through any file it runs. (A user namespace
// the tree makes itself starts with a full set again, but over what that
// namespace owns only, never the sandbox's network or mounts.)
// Failing any step, or a read-back that differs, is an error: the command
// never runs with more than it was meant to.
#pragma once
#include "net/common/error.hpp"

namespace netpen::backends {

// The securebits the tree runs under (see above).
unsigned long tree_securebits();

// Needs CAP_SETPCAP (the init has every capability in its user namespace,
// rootful's in the host's).
result<void> drop_tree_privileges();

}  // namespace netpen::backends
