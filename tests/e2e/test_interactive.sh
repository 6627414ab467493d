#!/usr/bin/env bash
# e2e: an interactive shell through netpen on a terminal (tmux): Ctrl-C
# interrupts the foreground job and the prompt comes back, job control works
# (background job, jobs, fg, Ctrl-C), and `exit 5` gives netpen status 5.
# As root and as the unprivileged user.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

T_WHO="" T_SOCK=""
tm() { in_host --as "$T_WHO" tmux -S "$T_SOCK" "$@"; }
pane() { tm capture-pane -p -J -S -200 -t np 2> /dev/null; }
# shellcheck disable=SC2317 # called through wait_for
pane_has_line() { pane | grep -qxE -- "$1"; } # a whole line matches
keys() { tm send-keys -t np "$@"; }

# marker NAME: type `echo NAME`; true once its output line shows (bounded).
marker() {
  keys "echo $1" Enter
  wait_for 15 pane_has_line "$1"
}

session_test() {
  local who=$1 status=$LAB_TMP/status.$1 n=$RANDOM shell
  T_WHO=$who T_SOCK=$LAB_TMP/tmux.$who.sock
  rm -f "$status"
  shell="bash --norc --noprofile -i"
  if ! is_direct; then shell="'$E2E_NETPEN' -- $shell"; fi
  if ! tm new-session -d -s np -x 120 -y 40 "$shell; echo \$? > '$status'; sleep 1"; then
    not_ok "[$who] tmux session starts"
    return
  fi
  if marker "ready-$n"; then ok "[$who] the shell answers on the terminal"
  else not_ok "[$who] the shell answers on the terminal" "$(pane)"; tm kill-server; return; fi

  keys "sleep 100" Enter
  sleep 1
  keys C-c
  if marker "after-int-$n"; then ok "[$who] Ctrl-C stops 'sleep 100' and the prompt comes back"
  else not_ok "[$who] Ctrl-C stops 'sleep 100' and the prompt comes back" "$(pane)"; fi

  keys "sleep 100 &" Enter
  keys "jobs" Enter
  if wait_for 10 pane_has_line '\[1\]\+ +Running +sleep 100 &'; then ok "[$who] background job listed by 'jobs'"
  else not_ok "[$who] background job listed by 'jobs'" "$(pane)"; fi
  keys "fg" Enter
  sleep 1
  keys C-c
  if marker "after-fg-$n"; then ok "[$who] 'fg' then Ctrl-C stops it, the prompt comes back"
  else not_ok "[$who] 'fg' then Ctrl-C stops it, the prompt comes back" "$(pane)"; fi
  if pane | grep -qiE 'no job control|cannot set terminal process group'; then
    not_ok "[$who] bash has job control" "$(pane)"
  else ok "[$who] bash has job control"; fi

  keys "exit 5" Enter
  if wait_for 20 test -s "$status"; then
    check_eq "[$who] 'exit 5' -> status 5" 5 "$(cat "$status")"
  else
    not_ok "[$who] 'exit 5' -> status 5" "no status recorded; pane:
$(pane)"
  fi
  tm kill-server 2> /dev/null
}

for who in $(e2e_users); do
  session_test "$who"
done
e2e_finish
