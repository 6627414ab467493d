#!/usr/bin/env bash
# e2e: process handling of netpen: exit and signal status passed through,
# background children killed when the command exits (--wait-all waits for
# them), SIGTERM to netpen
# reaches the command, nothing left behind, uid 0 and only lo + tap0 inside,
# usage errors exit 2. As root and as the unprivileged user. With --root,
# a SIGKILLed run's leftovers (its record, host table, sysctls) are removed
# by `netpen cleanup` and nothing of that run stays.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup

# leftovers: netpen-named temp files and mounts on the real host (fails
# when the mounts cannot be read).
leftovers() {
  find /tmp /var/tmp /dev/shm /run -maxdepth 2 -iname '*netpen*' -not -path '/run/netpen-lab*' 2>/dev/null | sort
  grep -v -e ' /run/netns/' -e ' /run/netpen-lab' /proc/self/mountinfo | cut -d' ' -f4,5 | sort
}

# no_sleep_left N: pgrep finds no 'sleep N' (status 1; 2 and up are pgrep's errors).
# shellcheck disable=SC2317 # called through wait_for
no_sleep_left() {
  pgrep -f "^sleep $1\$" > /dev/null
  (($? == 1))
}

check_sigterm() { # SIGTERM to netpen reaches the command (its trap runs)
  local who=$1 ready=$LAB_TMP/ready.$1 got=$LAB_TMP/got-term.$1 pid bg i
  rm -f "$ready" "$got"
  np_argv --as "$who" -- sh -c "trap 'echo got-term > $got; exit 0' TERM; echo ready > $ready; i=0; while [ \$i -lt 600 ]; do sleep 0.1; i=\$((i+1)); done"
  timeout -k 5 90 "${E2E_ARGV[@]}" > /dev/null 2>&1 < /dev/null &
  bg=$!
  if ! wait_for 20 test -s "$ready"; then
    not_ok "[$who] SIGTERM to netpen reaches the command" "the command never started"
    kill -TERM "$bg" 2>/dev/null
    wait "$bg"
    return
  fi
  pid=$(pgrep -P "$bg" | head -n 1) # timeout's child: netpen (or, direct, the command)
  [[ -n $pid ]] && kill -TERM "$pid"
  for ((i = 0; i < 100; i++)); do kill -0 "$bg" 2>/dev/null || break; sleep 0.1; done
  check_eq "[$who] SIGTERM to netpen reaches the command (its trap ran)" got-term "$(cat "$got" 2>/dev/null)"
  check_eq "[$who] netpen returns after SIGTERM (< 10 s)" gone "$(kill -0 "$bg" 2>/dev/null && echo running || echo gone)"
  kill -KILL "$bg" 2>/dev/null
  wait "$bg" 2>/dev/null
}

# rootful: a SIGKILLed run leaves its record, host table and sysctls
# (docs/rootful.md); `netpen cleanup` in the host node, where they were
# made, removes them. Other suites may run rootful meanwhile: only this
# run's id counts (its record has netpen's pid and the command, which names
# this lab's ready file).
cleanup_killed_run() {
  local who=$1 ready=$2 pid=$3 record id
  record=$(grep -lF -- "$ready" /run/netpen/*/state.json 2> /dev/null | xargs -r grep -lF "\"pid\": $pid," | head -n 1)
  if [[ -z $record ]]; then
    not_ok "[$who] the SIGKILLed run left its record in /run/netpen"
    return
  fi
  id=$(basename "$(dirname "$record")")
  ok "[$who] the SIGKILLed run left its record (run $id)"
  check "[$who] ... and its host table" in_host nft list table inet "netpen_$id"
  run in_host "$E2E_NETPEN" cleanup
  check_eq "[$who] netpen cleanup after the SIGKILL exits 0" 0 "$RC"
  check "[$who] ... no record of run $id is left" test ! -e "/run/netpen/$id"
  check_no_match "[$who] ... no link np$id is left" "^np$id\b" in_host ip -br link
  check_no_match "[$who] ... no nftables table netpen_$id is left" "\bnetpen_$id\b" in_host nft list tables
}

check_netpen_killed() { # SIGKILL of netpen itself takes the whole tree down
  local who=$1 ready=$LAB_TMP/ready-kill.$1 n=$((4000 + RANDOM % 900)) pid bg i
  rm -f "$ready"
  np_argv --as "$who" -- sh -c "sleep $n & echo ready > $ready; wait"
  timeout -k 5 90 "${E2E_ARGV[@]}" > /dev/null 2>&1 < /dev/null &
  bg=$!
  if ! wait_for 20 test -s "$ready"; then
    not_ok "[$who] SIGKILL of netpen kills the tree" "the command never started"
    kill -KILL "$bg" 2>/dev/null
    wait "$bg"
    return
  fi
  pid=$(pgrep -P "$bg" | head -n 1)
  [[ -n $pid ]] && kill -KILL "$pid"
  for ((i = 0; i < 100; i++)); do kill -0 "$bg" 2>/dev/null || break; sleep 0.1; done
  if wait_for 5 no_sleep_left "$n"; then ok "[$who] SIGKILL of netpen kills the tree (no 'sleep $n' left)"
  else not_ok "[$who] SIGKILL of netpen kills the tree" "$(pgrep -af "^sleep $n\$")"
    pkill -KILL -f "^sleep $n\$"; fi
  wait "$bg" 2>/dev/null
  if is_rootful; then cleanup_killed_run "$who" "$ready" "$pid"; fi
}

for who in $(e2e_users); do
  before=$(leftovers) || e2e_die "cannot list leftovers"
  check_status "[$who] exit status passed through (7)" 7 np --as "$who" -- sh -c 'exit 7'
  check_status "[$who] exit status 0" 0 np --as "$who" -- true
  check_status "[$who] signal status is 128+N (TERM -> 143)" 143 np --as "$who" -- sh -c 'kill -TERM $$'
  check_status "[$who] signal status is 128+N (KILL -> 137)" 137 np --as "$who" -- sh -c 'kill -KILL $$'
  check_status "[$who] command not found -> 127" 127 np --as "$who" -- /nonexistent/command

  n=$((3000 + RANDOM % 900))
  start=$SECONDS
  run np --as "$who" -- sh -c "sleep $n & echo \$!"
  if ((RC == 0)) && [[ $OUT =~ ^[0-9]+$ ]]; then ok "[$who] background child: netpen -- sh -c 'sleep $n & echo \$!'"
  else not_ok "[$who] background child: netpen -- sh -c 'sleep $n & echo \$!'" "expected exit 0 and a pid"; fi
  if netpen_only "[$who] background children are killed"; then
    check_eq "[$who] ... returns at once (< 10 s)" yes "$( ((SECONDS - start < 10)) && echo yes || echo no)"
    if wait_for 2 no_sleep_left "$n"; then ok "[$who] ... no 'sleep $n' survives on the host"
    else not_ok "[$who] ... no 'sleep $n' survives on the host" "$(pgrep -af "^sleep $n\$")"
      pkill -KILL -f "^sleep $n\$"; fi
  fi

  if netpen_only "[$who] --wait-all waits for background children"; then
    start=$SECONDS
    run np --as "$who" --wait-all -- sh -c '(sleep 1; echo bg-done) & (sh -c "sleep 1.5; echo orphan-done" &); exit 3'
    check_eq "[$who] --wait-all: the command's status (3)" 3 "$RC"
    check_match "[$who] --wait-all: the background child ran to its end" '^bg-done$' "$OUT"
    check_match "[$who] --wait-all: an orphaned grandchild ran to its end" '^orphan-done$' "$OUT"
    check_eq "[$who] --wait-all: returned once the tree was done (1 to 10 s)" yes \
      "$( ((SECONDS - start >= 1 && SECONDS - start < 10)) && echo yes || echo no)"
    run np --as "$who" -- sh -c '(sleep 1; echo bg-done) & exit 3'
    if ((RC == 3)) && ! grep -qx bg-done <<< "$OUT"; then ok "[$who] without --wait-all the background child ends with the command"
    else not_ok "[$who] without --wait-all the background child ends with the command" "exit $RC, output: $OUT"; fi
  fi

  if netpen_only "[$who] -v and -q"; then
    run np --as "$who" -v -- true
    check_match "[$who] -v: a line when the sandbox is ready" '^netpen: (rootless|rootful) sandbox ready; dns forwarded to ' "$ERR"
    check_match "[$who] -v: a line when the tree ended" '^netpen: the tree ended after [0-9.]+ s, status 0' "$ERR"
    run np --as "$who" --proxy-password secret --proxy "http://u@127.0.0.1:1" --dry-run -- true
    check_match "[$who] without -q: a warning (a password in argv)" '^netpen: warning: a proxy password' "$ERR"
    run np --as "$who" -q --proxy-password secret --proxy "http://u@127.0.0.1:1" --dry-run -- true
    check_eq "[$who] -q: no warning" "0:" "$RC:$ERR"
  fi

  check_sigterm "$who"
  if netpen_only "[$who] SIGKILL of netpen kills the tree"; then check_netpen_killed "$who"; fi

  if netpen_only "[$who] sandbox view (uid, lo + tap0)" && ! is_rootful; then
    if is_map_root; then
      check_output_eq "[$who] id -u inside is 0 (--map-root)" 0 np --as "$who" -- id -u
    else
      check_output_eq "[$who] id -u inside is the user's own" "$(id -u "$who")" np --as "$who" -- id -u
    fi
    check_output_eq "[$who] only lo and tap0 inside" "lo tap0" \
      np --as "$who" -- sh -c "ls /sys/class/net | sort | tr '\n' ' ' | sed 's/ \$//'"
    check_output_contains "[$who] tap0 has an IPv4 default route" "dev tap0" np --as "$who" -- ip -4 route show default
  elif is_rootful; then
    # --root: the command runs as the invoking (sudo) user, on eth0 of a veth pair.
    check_output_eq "[$who] id -u inside is the invoking user's" "$(id -u "$who")" np --as "$who" -- id -u
    check_output_eq "[$who] only eth0 and lo inside" "eth0 lo" \
      np --as "$who" -- sh -c "ls /sys/class/net | sort | tr '\n' ' ' | sed 's/ \$//'"
    check_output_contains "[$who] eth0 has an IPv4 default route" "dev eth0" np --as "$who" -- ip -4 route show default
  fi
  sleep 0.5
  run pgrep -af "^$E2E_NETPEN( |\$)"
  if ((RC == 1)); then ok "[$who] no netpen process left"
  else not_ok "[$who] no netpen process left" "pgrep: exit status $RC (1: no process)"; fi
  if after=$(leftovers); then check_eq "[$who] nothing left behind (netpen temp files, mounts)" "$before" "$after"
  else not_ok "[$who] nothing left behind (netpen temp files, mounts)" "cannot list leftovers"; fi
done

if netpen_only "usage errors"; then
  check_status "no command: exit 2" 2 np --
  check_match "no command: 'netpen: error:' line" '^netpen: error:' "$ERR"
  check_status "no arguments at all: exit 2" 2 np
  check_match "no arguments: 'netpen: error:' line" '^netpen: error:' "$ERR"
  check_status "bad flag: exit 2" 2 np --no-such-flag -- true
  check_match "bad flag: 'netpen: error:' line" '^netpen: error:' "$ERR"
  check_status "bad --dns value: exit 2" 2 np --dns not-an-ip -- true
  check_match "bad --dns: 'netpen: error:' line" '^netpen: error:' "$ERR"
fi
e2e_finish
