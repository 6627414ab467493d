// Controlling-terminal handover: the command's process group becomes the
// terminal's foreground group (so Ctrl-C, Ctrl-Z and job control reach it),
// and netpen takes the terminal back when the command tree is gone.
#pragma once
#include <sys/types.h>

namespace netpen::backends {

struct terminal_state {
  int fd = -1;             // the terminal (netpen's stdin), or -1 when not handing over
  pid_t netpen_pgrp = -1;  // the group to give the terminal back to
};

// Records whether netpen's stdin is a terminal whose foreground group is
// netpen's own; only then is the terminal handed to the command.
terminal_state capture_terminal();

// Makes `pgrp` the terminal's foreground group (SIGTTOU ignored meanwhile);
// the init uses it to give a continued command its terminal back.
void give_terminal_to(int tty_fd, pid_t pgrp);

// In netpen after the tree ended: gives the terminal back to netpen's group
// if the command had it (no-op when the state says no handover happened).
void restore_terminal(const terminal_state& state);

// Set by a prompt (app/interactive) around borrowing the terminal from the
// command: the command may stop on SIGTTIN meanwhile, and that stop is not
// the user's Ctrl-Z (the prompt continues it when it gives the terminal
// back). Thread-safe.
void note_terminal_borrowed(bool borrowed);
// True while the terminal is borrowed and for one second after, so a stop
// report that arrives late is still recognised.
bool terminal_recently_borrowed();

}  // namespace netpen::backends
